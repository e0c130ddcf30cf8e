"""Names and small helpers shared by the HDF5 writer, reader, validator and sidecars.

The layout is The Well's (PolymathicAI/the_well, ``docs/data_format.md``)
plus our provenance attributes on the root and a ``/solver_state`` group that
The Well's readers never look at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import h5py
import numpy as np

FIELD_GROUPS = ("t0_fields", "t1_fields", "t2_fields")
SCHEMA_GROUPS = ("dimensions", "boundary_conditions", "scalars", *FIELD_GROUPS)
WELL_ROOT_ATTRS = ("simulation_parameters", "dataset_name", "grid_type", "n_spatial_dims", "n_trajectories")
PROVENANCE_ATTRS = (
    "case_json",
    "case_sha256",
    "physax_version",
    "jax_version",
    "solve_dtype",
    "seed",
    "n_steps_written",
    "complete",
)
# Our BC kinds in The Well's vocabulary; the exact kind is kept in the `kind` attr.
WELL_BC_TYPES = {
    "periodic": "periodic",
    "dirichlet": "wall",
    "neumann": "open",
    "wall": "wall",
    "inflow-outflow": "open",
}


def well_bc_type(name: str) -> str:
    """The ``bc_type`` attribute as The Well spells it: ``PERIODIC``, ``WALL``, ``OPEN``.

    The Well's formatting checker and its ``BoundaryCondition`` enum want the
    upper-case names; the group names (``x_periodic``) stay lower-case as in
    The Well's own files. Files written before this spelling hold ``periodic``:
    readers compare ``bc_type`` case-insensitively, so old and new files read alike.
    """
    return name.upper()
# The per-trajectory seed is provenance, not a physical input: it is stored in
# `scalars` but left out of its `field_names`, so The Well's loaders do not
# feed it to a model as a constant.
SEED_DATASET = "seed"
SOLVER_STATE_GROUP = "solver_state"
COMPRESSION = "gzip"


# A field without space (an ODE's state) is a time series: one 4-byte snapshot
# per chunk would cost more in HDF5 bookkeeping than in data, so such fields
# are chunked along time instead.
SERIES_CHUNK = 1024


def field_chunks(shape: tuple[int, ...]) -> tuple[int, ...]:
    """HDF5 chunks of a field dataset ``[B, T, *n(, D...)]``: one snapshot, or a run of times if it has no space."""
    if len(shape) == 2:
        return (1, max(1, min(shape[1], SERIES_CHUNK)))
    return (1, 1, *shape[2:])


def tmp_path(path: Path) -> Path:
    """Where a run is written until it is complete."""
    return Path(str(path) + ".tmp")


def open_h5(path: str | Path, mode: str = "r", **kwargs: Any) -> h5py.File:
    """``h5py.File`` with one-line ``ValueError`` messages for the usual mistakes."""
    path = Path(path)
    if mode == "r" and not path.exists():
        raise ValueError(f"{path}: no such file")
    if mode == "r" and path.is_dir():
        raise ValueError(f"{path}: is a directory, not an HDF5 file")
    try:
        return h5py.File(path, mode, **kwargs)
    except OSError as error:
        if mode == "w" or (mode in ("a", "w-", "x") and not path.exists()):
            raise ValueError(f"{path}: cannot be written: {error}") from None
        raise ValueError(f"{path}: not a readable HDF5 file (truncated or corrupt?): {error}") from None


def strings(values: Iterable[str]) -> np.ndarray:
    """A list of names as an HDF5 variable-length string array (also when empty)."""
    return np.array(list(values), dtype=h5py.string_dtype())


def to_python(value: Any) -> Any:
    """An attribute as a plain Python value: lists, str, int, float, bool."""
    if isinstance(value, np.ndarray):
        return [to_python(item) for item in value.tolist()] if value.ndim else to_python(value.item())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, list):
        return [to_python(item) for item in value]
    return value


def names(attrs: h5py.AttributeManager, key: str) -> list[str]:
    """A list-of-strings attribute (``field_names``, ``spatial_dims``), empty if absent."""
    if key not in attrs:
        return []
    value = to_python(attrs[key])
    return [value] if isinstance(value, str) else [str(item) for item in value]


def field_datasets(file: h5py.File) -> dict[str, tuple[int, h5py.Dataset]]:
    """Every listed field: name -> (tensor order, dataset)."""
    found: dict[str, tuple[int, h5py.Dataset]] = {}
    for order, group_name in enumerate(FIELD_GROUPS):
        if group_name not in file:
            continue
        group = file[group_name]
        for name in names(group.attrs, "field_names"):
            if name in group:
                found[name] = (order, group[name])
    return found


def written_steps(file: h5py.File) -> int:
    """Snapshots written along T: ``n_steps_written`` when we wrote the file, else all of them."""
    if "n_steps_written" in file.attrs:
        return int(file.attrs["n_steps_written"])
    return int(file["dimensions/time"].shape[-1])


def flag(attrs: h5py.AttributeManager, key: str, default: bool) -> bool:
    return bool(attrs[key]) if key in attrs else default
