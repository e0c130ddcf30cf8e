"""Small cases, synthetic runs and Well-like files for the I/O tests (no JAX solves)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from cases import get
from phys.case import Case
from phys.io import TrajectoryWriter

# T = 5 saved times (t = 0, 0.5, ..., 2), 16 points.
SMALL = {"grid.n": 16, "time.t_end": 2.0, "time.dt": 0.25, "time.save_dt": 0.5}


def small_case(**updates: object) -> Case:
    return get("ks").with_updates({**SMALL, **updates})


def synthetic(case: Case, n_trajectories: int, tensor_order: dict[str, int]) -> dict[str, np.ndarray]:
    """Deterministic, non-constant fields ``[B, T, *n(, D...)]`` (float64, so the float32 cast is exercised)."""
    rng = np.random.default_rng(1234)
    shape = (n_trajectories, case.time.n_saves, *case.grid.n)
    return {
        name: rng.standard_normal((*shape, *(case.n_dims,) * order)) for name, order in sorted(tensor_order.items())
    }


def save_times(case: Case) -> np.ndarray:
    return case.time.t0 + case.time.save_dt * np.arange(case.time.n_saves)


def coordinates(case: Case) -> tuple[np.ndarray, ...]:
    domain = case.domain
    return tuple(o + length * np.arange(n) / n for o, length, n in zip(domain.origin, domain.length, case.grid.n))


def create_writer(
    path: Path, case: Case, tensor_order: dict[str, int], n_trajectories: int, **kwargs: object
) -> TrajectoryWriter:
    return TrajectoryWriter.create(
        path,
        case,
        tensor_order=tensor_order,
        n_trajectories=n_trajectories,
        times=save_times(case),
        coords=coordinates(case),
        **kwargs,
    )


def append_steps(writer: TrajectoryWriter, data: dict[str, np.ndarray], stop: int, block: int = 1) -> None:
    """Append ``data`` from ``writer.n_written`` up to time index ``stop``, ``block`` snapshots at a time."""
    while writer.n_written < stop:
        start = writer.n_written
        end = min(start + block, stop)
        writer.append({name: values[:, start:end] for name, values in data.items()})


def write_well_file(path: Path, n: tuple[int, ...], n_times: int = 4, n_trajectories: int = 2) -> Path:
    """A file as The Well publishes them: no provenance, a scalar and a vector field, 2D or 3D."""
    rng = np.random.default_rng(7)
    axes = ("x", "y", "z")[: len(n)]
    strings = h5py.string_dtype()
    with h5py.File(path, "w") as file:
        file.attrs.update(
            {
                "simulation_parameters": np.array(["Reynolds"], dtype=strings),
                "Reynolds": 100.0,
                "dataset_name": "well_like",
                "grid_type": "cartesian",
                "n_spatial_dims": len(n),
                "n_trajectories": n_trajectories,
            }
        )
        dims = file.create_group("dimensions")
        dims.attrs["spatial_dims"] = np.array(axes, dtype=strings)
        dims["time"] = np.linspace(0.0, 1.0, n_times, dtype=np.float32)
        for axis, size in zip(axes, n):
            dims[axis] = np.linspace(0.0, 1.0, size, endpoint=False, dtype=np.float32)
            bc = file.create_group(f"boundary_conditions/{axis}_periodic")
            bc.attrs.update({"associated_dims": np.array([axis], dtype=strings), "bc_type": "PERIODIC"})
            bc["mask"] = np.zeros(size, dtype=bool)
        scalars = file.create_group("scalars")
        scalars.attrs["field_names"] = np.array(["Reynolds"], dtype=strings)
        scalars["Reynolds"] = np.float32(100.0)
        for order, (group, name) in enumerate((("t0_fields", "density"), ("t1_fields", "velocity"))):
            fields = file.create_group(group)
            fields.attrs["field_names"] = np.array([name], dtype=strings)
            shape = (n_trajectories, n_times, *n, *(len(n),) * order)
            dataset = fields.create_dataset(name, data=rng.standard_normal(shape).astype(np.float32))
            dataset.attrs.update({"sample_varying": True, "time_varying": True, "dim_varying": [True] * len(n)})
        file.create_group("t2_fields").attrs["field_names"] = np.array([], dtype=strings)
    return path
