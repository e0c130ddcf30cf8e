"""The Well's dataset layout from our HDF5 files, for ``the_well.data.WellDataset``.

``export_well(files, root, name, split)`` writes::

    ROOT/NAME/data/train/*.h5   ROOT/NAME/data/valid/*.h5   ROOT/NAME/data/test/*.h5
    ROOT/NAME/stats.yaml        mean, std, rms and their _delta twins, per field

Loading it (the-well 1.2.0; docs/readers.md records the check)::

    from the_well.data import WellDataset
    from the_well.data.normalization import ZScoreNormalization
    train = WellDataset(path="ROOT/NAME", well_split_name="train",
                        use_normalization=True, normalization_type=ZScoreNormalization)

``well_base_path=ROOT, well_dataset_name=NAME`` works only for NAME among The
Well's own datasets (an assertion in the-well), and ``use_normalization=True``
without ``normalization_type`` silently returns raw values.

Split rule (deterministic). The N trajectories of the inputs are taken in
order, files as given and trajectories in file order, and cut into
consecutive runs: train first, then valid, then test. Split s gets
``floor(f_s N)`` trajectories; the ones left over go one each to the splits
with the largest remainders ``f_s N - floor(f_s N)`` (ties in that order).
An ensemble's trajectories are thus split within its file, several
single-trajectory files are split whole; a piece of a file is written as
``<stem>.traj<first>-<last>.h5``, a whole file as ``<stem>.h5``. A
parameter sweep is stored in sweep order, so its test split holds the last
parameter values: an extrapolation test.

Statistics follow The Well's ``scripts/compute_statistics.py``: over the
train split only, over every trajectory, time and point, one value per tensor
component (a list for a vector, a list of lists for a tensor), population
(not sample) standard deviations; ``*_delta`` are the same of the
differences ``u[:, t + 1] - u[:, t]`` of consecutive saved snapshots within
each trajectory. ``rms`` and ``rms_delta`` serve The Well's
``RMSNormalization``.

Files without space (ODE cases) are exported too: The Well reads their
fields and statistics, but its grid code fails on zero spatial dims, so they
are loaded with ``WellDataset(..., return_grid=False)`` (:attr:`WellExport.n_spatial_dims`
is 0 for them, and ``phys export`` says so).

Copies keep our provenance attributes, write ``bc_type`` in The Well's
spelling (also for files written before it) and leave out ``/solver_state``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping, NamedTuple, Sequence

import h5py
import numpy as np

from phys.io._schema import SOLVER_STATE_GROUP, field_datasets, flag, names, open_h5, to_python, well_bc_type
from phys.io._validate import validate

__all__ = ["DEFAULT_SPLIT", "SPLITS", "WellExport", "export_well", "parse_split", "split_counts"]

SPLITS = ("train", "valid", "test")
DEFAULT_SPLIT: Mapping[str, float] = {"train": 0.8, "valid": 0.1, "test": 0.1}

# Values read at once when copying or summing a field: bounds memory for large grids.
_BLOCK_VALUES = 1 << 23


@dataclass(frozen=True)
class WellExport:
    """What :func:`export_well` wrote: the dataset folder, and per split its trajectories and files."""

    path: Path
    trajectories: dict[str, int]
    files: dict[str, list[Path]]
    n_spatial_dims: int


class _Piece(NamedTuple):
    """Trajectories ``[start, stop)`` of input ``source`` go to ``split``."""

    source: int
    start: int
    stop: int
    split: str


class _Moments(NamedTuple):
    """Count, mean and sum of squared deviations, per tensor component (float64)."""

    count: int
    mean: np.ndarray
    m2: np.ndarray


# -- the split -------------------------------------------------------------------


def parse_split(text: str) -> dict[str, float]:
    """``"train=0.8,valid=0.1,test=0.1"`` to fractions by split; splits left out get 0."""
    fractions = dict.fromkeys(SPLITS, 0.0)
    seen: set[str] = set()
    for item in text.split(","):
        name, sep, value = (part.strip() for part in item.partition("="))
        if not sep or not name:
            raise ValueError(f"split '{text}': expected NAME=FRACTION items joined by commas, e.g. train=0.8,valid=0.1,test=0.1")
        if name not in SPLITS:
            raise ValueError(f"split '{text}': unknown split '{name}'; The Well's splits are {', '.join(SPLITS)}")
        if name in seen:
            raise ValueError(f"split '{text}': '{name}' is given twice")
        try:
            fraction = float(value)
        except ValueError:
            fraction = math.nan
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"split '{text}': {name}={value} is not a fraction between 0 and 1")
        seen.add(name)
        fractions[name] = fraction
    total = sum(fractions.values())
    if abs(total - 1.0) > 1e-9:
        raise ValueError(f"split '{text}': the fractions sum to {total:g}, not 1")
    return fractions


def split_counts(n_trajectories: int, fractions: Mapping[str, float]) -> dict[str, int]:
    """Trajectories per split by the largest-remainder rule (module docstring); they sum to ``n_trajectories``."""
    quotas = {name: fractions.get(name, 0.0) * n_trajectories for name in SPLITS}
    # The small slack keeps 0.7 * 10 = 6.999... at 7.
    counts = {name: math.floor(quota + 1e-9) for name, quota in quotas.items()}
    left = n_trajectories - sum(counts.values())
    by_remainder = sorted(SPLITS, key=lambda name: -(quotas[name] - counts[name]))
    for name in by_remainder[:left]:
        counts[name] += 1
    return counts


def _pieces(sizes: Sequence[int], counts: Mapping[str, int]) -> list[_Piece]:
    """Cut the trajectories of files of ``sizes`` into consecutive runs per split (train, valid, test)."""
    owners = [name for name in SPLITS for _ in range(counts[name])]
    pieces: list[_Piece] = []
    offset = 0
    for source, size in enumerate(sizes):
        for split in SPLITS:
            indices = [i for i in range(size) if owners[offset + i] == split]
            if indices:
                pieces.append(_Piece(source, indices[0], indices[-1] + 1, split))
        offset += size
    return pieces


def _target_name(stem: str, piece: _Piece, size: int) -> str:
    if (piece.start, piece.stop) == (0, size):
        return f"{stem}.h5"
    return f"{stem}.traj{piece.start}-{piece.stop - 1}.h5"


# -- inputs ----------------------------------------------------------------------


def _check_inputs(paths: Sequence[Path]) -> list[int]:
    """The number of trajectories of each input; ``ValueError`` unless all are ours, complete and alike."""
    if not paths:
        raise ValueError("no input files")
    stems = [path.stem for path in paths]
    for stem in stems:
        if stems.count(stem) > 1:
            raise ValueError(f"two inputs are named {stem}.h5; the split folders need distinct file names")
    sizes: list[int] = []
    first: _Kind | None = None
    for path in paths:
        problems = validate(path)
        if problems:
            more = f" (and {len(problems) - 1} more: phys validate {path})" if len(problems) > 1 else ""
            raise ValueError(f"{path}: not a complete physax file: {problems[0]}{more}")
        with open_h5(path) as file:
            kind = _kind(file)
            if file["dimensions/time"].shape[0] < 2:
                raise ValueError(f"{path}: has one saved time; The Well's windows and time differences need two or more")
            sizes.append(int(file.attrs["n_trajectories"]))
        if first is None:
            first = kind
        elif kind != first:
            raise ValueError(
                f"{path}: holds {kind}, but {paths[0]} holds {first}; "
                "one Well dataset holds one kind of data"
            )
    return sizes


class _Kind(NamedTuple):
    """What The Well requires to be alike across a dataset's files: name, grid and fields."""

    name: str
    grid: dict[str, int]
    fields: tuple[tuple[str, int], ...]

    def __str__(self) -> str:
        return f"'{self.name}' on grid {self.grid} with fields {[field for field, _ in self.fields]}"


def _kind(file: h5py.File) -> _Kind:
    dims = file["dimensions"]
    grid = {axis: int(dims[axis].shape[0]) for axis in names(dims.attrs, "spatial_dims")}
    fields = tuple(sorted((name, order) for name, (order, _) in field_datasets(file).items()))
    return _Kind(str(to_python(file.attrs["dataset_name"])), grid, fields)


# -- writing ---------------------------------------------------------------------


def export_well(
    files: Sequence[str | Path], root: str | Path, name: str, split: Mapping[str, float] = DEFAULT_SPLIT
) -> WellExport:
    """Write ``ROOT/NAME/data/{train,valid,test}/*.h5`` and ``ROOT/NAME/stats.yaml`` (module docstring).

    Every input is checked first (ours, complete, alike, a fresh ``ROOT/NAME``,
    a train split that gets a trajectory); a bad one raises ``ValueError``
    with one line and nothing is written. The dataset is assembled in a hidden
    folder under ROOT and renamed to NAME when complete.
    """
    paths = [Path(file) for file in files]
    root = Path(root)
    if not name or name in (".", "..") or "/" in name or os.sep in name:
        raise ValueError(f"name '{name}': must be a folder name, without '/'")
    target = root / name
    if target.exists():
        raise ValueError(f"{target}: already exists; remove it or choose another name")
    if root.exists() and not root.is_dir():
        raise ValueError(f"{root}: is not a directory")
    sizes = _check_inputs(paths)
    counts = split_counts(sum(sizes), split)
    if counts["train"] == 0:
        raise ValueError(
            f"split {dict(split)}: leaves the train split none of the {sum(sizes)} trajectories; "
            "stats.yaml is computed from train"
        )
    pieces = _pieces(sizes, counts)
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=root, prefix=f".{name}."))
    try:
        written = {split_name: [] for split_name in SPLITS}
        for split_name in SPLITS:
            (work / "data" / split_name).mkdir(parents=True)
        for piece in pieces:
            relative = Path("data") / piece.split / _target_name(paths[piece.source].stem, piece, sizes[piece.source])
            _write_piece(paths[piece.source], work / relative, piece.start, piece.stop)
            written[piece.split].append(target / relative)
        train = [work / path.relative_to(target) for path in written["train"]]
        (work / "stats.yaml").write_text(_yaml(_statistics(train)))
        os.rename(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    with open_h5(paths[0]) as file:
        n_spatial_dims = len(names(file["dimensions"].attrs, "spatial_dims"))
    return WellExport(path=target, trajectories=counts, files=written, n_spatial_dims=n_spatial_dims)


def _write_piece(source: Path, target: Path, start: int, stop: int) -> None:
    """Copy trajectories ``[start, stop)`` of ``source`` to a new file ``target``, schema and attributes kept."""
    with open_h5(source) as src, h5py.File(target, "w") as dst:
        n_trajectories = int(src.attrs["n_trajectories"])
        parameters = set(names(src.attrs, "simulation_parameters"))
        for key, value in src.attrs.items():
            swept = key in parameters and np.ndim(value) == 1 and len(value) == n_trajectories
            dst.attrs[key] = value[start:stop] if swept else value
        dst.attrs["n_trajectories"] = stop - start
        for group_name, group in src.items():
            if group_name != SOLVER_STATE_GROUP:  # the solver's restart state: not The Well's schema
                _copy_group(group, dst.create_group(group_name), n_trajectories, start, stop)


def _copy_group(src: h5py.Group, dst: h5py.Group, n_trajectories: int, start: int, stop: int) -> None:
    dst.attrs.update(src.attrs)
    if "bc_type" in src.attrs:
        dst.attrs["bc_type"] = well_bc_type(str(to_python(src.attrs["bc_type"])))
    for name, item in src.items():
        if isinstance(item, h5py.Group):
            _copy_group(item, dst.create_group(name), n_trajectories, start, stop)
            continue
        per_trajectory = flag(item.attrs, "sample_varying", False) and item.ndim > 0 and item.shape[0] == n_trajectories
        shape = (stop - start, *item.shape[1:]) if per_trajectory else item.shape
        copy = dst.create_dataset(
            name, shape=shape, dtype=item.dtype, chunks=item.chunks, compression=item.compression,
            compression_opts=item.compression_opts, shuffle=item.shuffle, fillvalue=item.fillvalue,
        )
        copy.attrs.update(item.attrs)
        if not per_trajectory:
            copy[()] = item[()]
            continue
        for (trajectories, *rest), values in _trajectory_blocks(item, start, stop):
            copy[(slice(trajectories.start - start, trajectories.stop - start), *rest)] = values


def _trajectory_blocks(dataset: h5py.Dataset, start: int, stop: int) -> Iterator[tuple[tuple[slice, ...], np.ndarray]]:
    """``(index, values)`` over trajectories ``[start, stop)`` of ``[B, ...]``, a run of times at a time."""
    if dataset.ndim < 2:
        yield (slice(start, stop),), dataset[start:stop]
        return
    per_time = max(1, math.prod(dataset.shape[2:]))
    step = max(1, _BLOCK_VALUES // per_time)
    for trajectory in range(start, stop):
        for time in range(0, dataset.shape[1], step):
            index = (slice(trajectory, trajectory + 1), slice(time, min(time + step, dataset.shape[1])))
            yield index, dataset[index]


# -- statistics ------------------------------------------------------------------


def _statistics(train: Sequence[Path]) -> dict[str, dict[str, object]]:
    """stats.yaml's content: per statistic, per field, a float or nested lists (one value per component)."""
    values: dict[str, _Moments] = {}
    deltas: dict[str, _Moments] = {}
    for path in train:
        with open_h5(path) as file:
            for name, (order, dataset) in field_datasets(file).items():
                field, delta = _field_moments(dataset, order)
                values[name] = _merge(values.get(name), field)
                deltas[name] = _merge(deltas.get(name), delta)
    keys = ("mean", "std", "rms", "mean_delta", "std_delta", "rms_delta")
    stats: dict[str, dict[str, object]] = {key: {} for key in keys}
    for name in values:
        for suffix, moments in (("", values[name]), ("_delta", deltas[name])):
            variance = moments.m2 / moments.count
            stats["mean" + suffix][name] = moments.mean.tolist()
            stats["std" + suffix][name] = np.sqrt(variance).tolist()
            stats["rms" + suffix][name] = np.sqrt(variance + moments.mean**2).tolist()
    return stats


def _field_moments(dataset: h5py.Dataset, order: int) -> tuple[_Moments, _Moments]:
    """Moments of a ``[B, T, *n, D^order]`` field and of its differences between consecutive times."""
    field: _Moments | None = None
    delta: _Moments | None = None
    previous = np.empty(0)
    for (_, times), block in _trajectory_blocks(dataset, 0, dataset.shape[0]):
        snapshots = block[0].astype(np.float64)  # [times, *n, D...] of one trajectory
        field = _merge(field, _moments(snapshots, order))
        # A run's first difference needs the trajectory's snapshot before it (none at time 0).
        steps = snapshots if times.start == 0 else np.concatenate([previous, snapshots])
        if len(steps) > 1:
            delta = _merge(delta, _moments(np.diff(steps, axis=0), order))
        previous = snapshots[-1:]
    if field is None or delta is None:
        raise ValueError(f"{dataset.name}: no trajectory with two saved times")
    return field, delta


def _moments(values: np.ndarray, order: int) -> _Moments:
    axes = tuple(range(values.ndim - order))  # all but the tensor components
    mean = values.mean(axis=axes)
    return _Moments(math.prod(values.shape[: values.ndim - order]), mean, ((values - mean) ** 2).sum(axis=axes))


def _merge(a: _Moments | None, b: _Moments) -> _Moments:
    """Moments of two samples together (Chan, Golub & LeVeque 1979): stable where E[x^2] - E[x]^2 is not."""
    if a is None or a.count == 0:
        return b
    count = a.count + b.count
    shift = b.mean - a.mean
    return _Moments(count, a.mean + shift * (b.count / count), a.m2 + b.m2 + shift**2 * (a.count * b.count / count))


def _yaml(stats: Mapping[str, Mapping[str, object]]) -> str:
    """stats.yaml as the-well's ``yaml.safe_load`` reads it (floats, lists of floats, lists of lists)."""
    lines = []
    for statistic, fields in stats.items():
        lines.append(f"{statistic}:")
        lines += [f"  {json.dumps(field)}: {_yaml_value(value)}" for field, value in fields.items()]
    return "\n".join(lines) + "\n"


def _yaml_value(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_yaml_value(item) for item in value) + "]"
    if not isinstance(value, (int, float)):
        raise TypeError(f"stats.yaml holds numbers and lists of numbers, not {type(value).__name__}")
    return _yaml_float(float(value))


def _yaml_float(value: float) -> str:
    """A float PyYAML reads back as a float: YAML 1.1 wants a '.' in the mantissa (``1e-05`` is a string)."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    mantissa, e, exponent = repr(value).partition("e")
    return (mantissa if "." in mantissa else mantissa + ".0") + e + exponent
