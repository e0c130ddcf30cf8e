"""Quick-look PNG of an HDF5 file of our schema.

0D (an ODE): every field, or the one asked for, against time. 1D: a
space-time diagram (x across, t up). 2D: the field at the first and the
last written time side by side, on one colour scale. 3D: the same, on the
middle slice along z. Vector and tensor fields are shown by their magnitude
(Euclidean norm over components).

Drawn on a bare ``matplotlib.figure.Figure`` rendered by Agg: pyplot's global
state (its backend, its open figures) is never touched.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import h5py
import numpy as np

from phys.io._schema import field_datasets, flag, names, open_h5, written_steps

if TYPE_CHECKING:  # matplotlib is imported only when a plot is drawn
    from matplotlib.figure import Figure

__all__ = ["plot_file"]

_DPI = 100
_SPACE_TIME_INCHES = (7.0, 5.0)
_SNAPSHOTS_INCHES = (10.0, 4.5)


def plot_file(h5_path: str | Path, png_path: str | Path, field: str | None = None, trajectory: int = 0) -> Path:
    """Draw ``field`` (default: vorticity, else velocity, else the first field) of ``trajectory`` into ``png_path``."""
    h5_path, png_path = Path(h5_path), Path(png_path)
    with open_h5(h5_path) as file:
        if not names(file["dimensions"].attrs, "spatial_dims"):
            return _save(_time_series(file, h5_path, field, trajectory), png_path)
        field, order, values = _load(file, h5_path, field, trajectory)
        dims = file["dimensions"]
        axes = names(dims.attrs, "spatial_dims")
        coords = [dims[axis][()] for axis in axes]
        times = dims["time"][()][: values.shape[0]]
        title = f"{file.attrs.get('dataset_name', h5_path.stem)}: {f'|{field}|' if order else field}"
    # Signed values on a diverging map; magnitudes (never negative) on a sequential one.
    cmap = "viridis" if order else "RdBu_r"
    if len(axes) == 1:
        figure = _space_time(values, coords[0], times, title, cmap)
    else:
        if len(axes) == 3:
            values = values[..., values.shape[-1] // 2]
            title += " (middle z slice)"
        figure = _first_and_last(values, coords[0], coords[1], times, title, cmap)
    return _save(figure, png_path)


def _save(figure: Figure, path: Path) -> Path:
    """Draw to ``path.tmp``, then rename: a failed draw leaves no half-written picture at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    figure.savefig(tmp, dpi=_DPI, format=path.suffix.lstrip(".").lower() or "png")
    os.replace(tmp, path)
    return path


def _load(file: h5py.File, path: Path, field: str | None, trajectory: int) -> tuple[str, int, np.ndarray]:
    """Name, tensor order and written snapshots ``[T, *n]`` of one trajectory (vectors and tensors as magnitudes)."""
    fields = field_datasets(file)
    if not fields:
        raise ValueError(f"{path}: the file holds no fields")
    if field is None:
        # Flows read best as vorticity, else as speed; other files by their first field.
        field = next((name for name in ("vorticity", "velocity") if name in fields), next(iter(fields)))
    if field not in fields:
        raise ValueError(f"{path}: no field '{field}'; available fields: {', '.join(sorted(fields))}")
    order, dataset = fields[field]
    if not (flag(dataset.attrs, "sample_varying", True) and flag(dataset.attrs, "time_varying", True)):
        raise ValueError(f"{path}: field '{field}' does not vary in time; nothing to plot")
    n_trajectories = dataset.shape[0]
    if not -n_trajectories <= trajectory < n_trajectories:
        raise ValueError(f"{path}: trajectory {trajectory} is out of range [{-n_trajectories}, {n_trajectories - 1}]")
    n_written = written_steps(file)
    if n_written == 0:
        raise ValueError(f"{path}: no snapshots written yet")
    values = np.asarray(dataset[trajectory, :n_written], dtype=np.float64)
    if order:
        values = np.sqrt(np.sum(values**2, axis=tuple(range(-order, 0))))
    return field, order, values


def _time_series(file: h5py.File, path: Path, field: str | None, trajectory: int) -> Figure:
    """Fields without space against time: all of them on one axis, or only ``field``."""
    from matplotlib.figure import Figure

    chosen = list(field_datasets(file)) if field is None else [field]
    figure = Figure(figsize=_SPACE_TIME_INCHES, layout="constrained")
    ax = figure.add_subplot()
    for name in chosen:
        _, order, values = _load(file, path, name, trajectory)
        times = file["dimensions/time"][()][: values.shape[0]]
        ax.plot(times, values, label=f"|{name}|" if order else name)
    ax.set_xlabel("t")
    ax.legend()
    ax.set_title(str(file.attrs.get("dataset_name", path.stem)))
    return figure


def _space_time(values: np.ndarray, x: np.ndarray, times: np.ndarray, title: str, cmap: str) -> Figure:
    from matplotlib.figure import Figure

    figure = Figure(figsize=_SPACE_TIME_INCHES, layout="constrained")
    ax = figure.add_subplot()
    image = ax.imshow(
        values,
        origin="lower",
        aspect="auto",
        extent=(*_edges(x), *_edges(times)),
        cmap=cmap,
    )
    ax.set_xlabel("x")
    ax.set_ylabel("t")
    ax.set_title(title)
    figure.colorbar(image, ax=ax)
    return figure


def _first_and_last(
    values: np.ndarray, x: np.ndarray, y: np.ndarray, times: np.ndarray, title: str, cmap: str
) -> Figure:
    from matplotlib.figure import Figure

    figure = Figure(figsize=_SNAPSHOTS_INCHES, layout="constrained")
    axes = figure.subplots(1, 2)
    finite = values[[0, -1]][np.isfinite(values[[0, -1]])]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    for ax, index in zip(axes, (0, len(times) - 1)):
        # imshow wants rows = y; our arrays are [x, y].
        image = ax.imshow(
            values[index].T,
            origin="lower",
            extent=(*_edges(x), *_edges(y)),
            vmin=low,
            vmax=high,
            cmap=cmap,
        )
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title(f"t = {float(times[index]):.4g}")
    figure.suptitle(title)
    figure.colorbar(image, ax=list(axes))
    return figure


def _edges(centres: np.ndarray) -> tuple[float, float]:
    """Outer edges of cells centred on uniform ``centres`` (half a step beyond each end)."""
    if len(centres) < 2:
        return float(centres[0]) - 0.5, float(centres[0]) + 0.5
    step = float(centres[1] - centres[0])
    return float(centres[0]) - step / 2, float(centres[-1]) + step / 2
