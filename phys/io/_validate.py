"""Schema check of an HDF5 file: every problem found, each as one line naming where it is."""

from __future__ import annotations

import hashlib
from pathlib import Path

import h5py
import numpy as np

from phys.case import Case
from phys.io._schema import (
    COMPRESSION,
    FIELD_GROUPS,
    PROVENANCE_ATTRS,
    SCHEMA_GROUPS,
    SEED_DATASET,
    WELL_BC_TYPES,
    WELL_ROOT_ATTRS,
    field_chunks,
    flag,
    names,
    open_h5,
    to_python,
)

__all__ = ["validate"]


class _Sizes:
    """The sizes every dataset must agree with: B, T and n per axis (None where unknown)."""

    def __init__(self, file: h5py.File):
        attrs = file.attrs
        self.n_trajectories = int(attrs["n_trajectories"]) if "n_trajectories" in attrs else None
        dims = file["dimensions"] if isinstance(file.get("dimensions"), h5py.Group) else None
        self.axes = names(dims.attrs, "spatial_dims") if dims is not None else []
        time = dims.get("time") if dims is not None else None
        self.n_times = int(time.shape[-1]) if isinstance(time, h5py.Dataset) and time.ndim else None
        # Unwritten snapshots of an incomplete file hold the NaN fill value, not a blow-up.
        self.n_written = int(attrs["n_steps_written"]) if "n_steps_written" in attrs else None
        self.n = {
            axis: int(dims[axis].shape[-1])
            for axis in self.axes
            if dims is not None and isinstance(dims.get(axis), h5py.Dataset) and dims[axis].ndim
        }


def validate(path: str | Path) -> list[str]:
    """Every schema problem of the file at ``path`` (empty list: valid).

    Checks The Well's layout (groups, attributes, shapes against
    ``dimensions`` and ``n_trajectories``, float32 fields, ``field_names``)
    and ours (one snapshot per chunk, gzip, provenance: the case hash matches
    the case JSON, the file is complete).
    """
    try:
        file = open_h5(path)
    except ValueError as error:
        return [str(error)]
    with file:
        problems = _check_groups(file) + _check_root(file)
        sizes = _Sizes(file)
        problems += _check_dimensions(file, sizes)
        problems += _check_boundary_conditions(file, sizes)
        problems += _check_scalars(file, sizes)
        for order, group_name in enumerate(FIELD_GROUPS):
            if isinstance(file.get(group_name), h5py.Group):
                problems += _check_field_group(file[group_name], order, sizes)
        problems += _check_provenance(file, sizes)
    return problems


def _check_groups(file: h5py.File) -> list[str]:
    return [f"group /{name} is missing" for name in SCHEMA_GROUPS if not isinstance(file.get(name), h5py.Group)]


def _check_root(file: h5py.File) -> list[str]:
    attrs = file.attrs
    problems = [f"root attribute '{key}' is missing" for key in WELL_ROOT_ATTRS if key not in attrs]
    for parameter in names(attrs, "simulation_parameters"):
        if parameter not in attrs:
            problems.append(f"root attribute '{parameter}' (listed in simulation_parameters) is missing")
    if "grid_type" in attrs and to_python(attrs["grid_type"]) != "cartesian":
        problems.append(f"root attribute 'grid_type' is {to_python(attrs['grid_type'])!r}, expected 'cartesian'")
    return problems


def _check_dimensions(file: h5py.File, sizes: _Sizes) -> list[str]:
    dims = file.get("dimensions")
    if not isinstance(dims, h5py.Group):
        return []
    problems: list[str] = []
    if "spatial_dims" not in dims.attrs:
        problems.append("/dimensions: attribute 'spatial_dims' is missing")
    if "n_spatial_dims" in file.attrs and int(file.attrs["n_spatial_dims"]) != len(sizes.axes):
        problems.append(
            f"root attribute 'n_spatial_dims' is {int(file.attrs['n_spatial_dims'])} "
            f"but /dimensions lists {len(sizes.axes)} spatial dims"
        )
    for name, time_varying in (("time", True), *((axis, False) for axis in sizes.axes)):
        dataset = dims.get(name)
        where = f"/dimensions/{name}"
        if not isinstance(dataset, h5py.Dataset):
            problems.append(f"dataset {where} is missing")
            continue
        if dataset.ndim != 1:
            problems.append(f"{where}: shape {dataset.shape}, expected one axis")
        problems += _dtype_problem(dataset, where)
        problems += _flag_problems(dataset.attrs, where, {"sample_varying": False, "time_varying": time_varying})
    return problems


def _check_boundary_conditions(file: h5py.File, sizes: _Sizes) -> list[str]:
    group = file.get("boundary_conditions")
    if not isinstance(group, h5py.Group):
        return []
    problems: list[str] = []
    covered: set[str] = set()
    for name, sub in group.items():
        where = f"/boundary_conditions/{name}"
        for key in ("associated_dims", "associated_fields", "bc_type"):
            if key not in sub.attrs:
                problems.append(f"{where}: attribute '{key}' is missing")
        problems += _flag_problems(sub.attrs, where, {"sample_varying": False, "time_varying": False})
        bc_type = str(to_python(sub.attrs.get("bc_type", ""))).lower()
        if "bc_type" in sub.attrs and bc_type not in WELL_BC_TYPES.values():
            problems.append(f"{where}: bc_type {bc_type!r} is not one of {', '.join(sorted(WELL_BC_TYPES.values()))}")
        axes = names(sub.attrs, "associated_dims")
        covered.update(axes)
        mask = sub.get("mask")
        if not isinstance(mask, h5py.Dataset):
            problems.append(f"{where}: dataset 'mask' is missing")
            continue
        if mask.dtype != np.bool_:
            problems.append(f"{where}/mask: dtype {mask.dtype}, expected bool")
        expected = tuple(sizes.n.get(axis, -1) for axis in axes)
        if mask.shape != expected:
            problems.append(f"{where}/mask: shape {mask.shape}, expected {expected} from /dimensions")
    for axis in sizes.axes:
        if axis not in covered:
            problems.append(f"/boundary_conditions: no boundary condition for axis '{axis}'")
    return problems


def _check_scalars(file: h5py.File, sizes: _Sizes) -> list[str]:
    group = file.get("scalars")
    if not isinstance(group, h5py.Group):
        return []
    if "field_names" not in group.attrs:
        return ["/scalars: attribute 'field_names' is missing"]
    listed = names(group.attrs, "field_names")
    problems = _listing_problems(group, listed, "/scalars", extra_allowed={SEED_DATASET})
    for name in listed:
        dataset = group.get(name)
        if not isinstance(dataset, h5py.Dataset):
            continue
        where = f"/scalars/{name}"
        problems += _flag_problems(dataset.attrs, where, {})
        expected = _leading_shape(dataset.attrs, sizes)
        if expected is not None and dataset.shape != expected:
            problems.append(f"{where}: shape {dataset.shape}, expected {expected}")
    return problems


def _check_field_group(group: h5py.Group, order: int, sizes: _Sizes) -> list[str]:
    if "field_names" not in group.attrs:
        return [f"{group.name}: attribute 'field_names' is missing"]
    problems = _listing_problems(group, names(group.attrs, "field_names"), group.name, extra_allowed=set())
    for name, dataset in group.items():
        if isinstance(dataset, h5py.Dataset):
            problems += _check_field(dataset, order, sizes)
    return problems


def _check_field(dataset: h5py.Dataset, order: int, sizes: _Sizes) -> list[str]:
    where = dataset.name
    problems = _dtype_problem(dataset, where)
    problems += _flag_problems(dataset.attrs, where, {})
    if "dim_varying" not in dataset.attrs:
        problems.append(f"{where}: attribute 'dim_varying' is missing")
    leading = _leading_shape(dataset.attrs, sizes)
    spatial = tuple(sizes.n.get(axis, -1) for axis in sizes.axes)
    if leading is not None and -1 not in spatial:
        expected = (*leading, *spatial, *(len(spatial),) * order)
        if dataset.shape != expected:
            problems.append(f"{where}: shape {dataset.shape}, expected {expected} (from /dimensions, n_trajectories)")
    problems += _non_finite(dataset, sizes)
    snapshot = field_chunks(dataset.shape)
    if flag(dataset.attrs, "sample_varying", True) and flag(dataset.attrs, "time_varying", True):
        if dataset.chunks != snapshot:
            what = "a run of times per chunk" if dataset.ndim == 2 else "one snapshot per chunk"
            problems.append(f"{where}: chunks {dataset.chunks}, expected {what} {snapshot}")
    if dataset.compression != COMPRESSION or not dataset.shuffle:
        problems.append(
            f"{where}: compression {dataset.compression} (shuffle {dataset.shuffle}), "
            f"expected {COMPRESSION} with shuffle"
        )
    return problems


def _check_provenance(file: h5py.File, sizes: _Sizes) -> list[str]:
    attrs = file.attrs
    problems = [f"root attribute '{key}' is missing" for key in PROVENANCE_ATTRS if key not in attrs]
    if "case_json" in attrs:
        text = str(to_python(attrs["case_json"]))
        digest = hashlib.sha256(text.encode()).hexdigest()
        if "case_sha256" in attrs and to_python(attrs["case_sha256"]) != digest:
            problems.append(
                f"root attribute 'case_sha256' is {to_python(attrs['case_sha256'])} "
                f"but the sha256 of case_json is {digest}"
            )
        try:
            Case.from_json(text)
        except ValueError as error:
            problems.append(f"root attribute 'case_json' is not a valid case: {error}")
    if "complete" in attrs and not bool(attrs["complete"]):
        problems.append("root attribute 'complete' is False: the run did not finish")
    if "n_steps_written" in attrs and sizes.n_times is not None and int(attrs["n_steps_written"]) != sizes.n_times:
        problems.append(
            f"root attribute 'n_steps_written' is {int(attrs['n_steps_written'])}, "
            f"but /dimensions/time has {sizes.n_times} times"
        )
    return problems


# -- helpers -----------------------------------------------------------------


# Snapshots read at a time by the finiteness check (bounded host memory on large files).
_FINITE_BLOCK_BYTES = 64 * 2**20


def _non_finite(dataset: h5py.Dataset, sizes: _Sizes) -> list[str]:
    """The first written snapshot holding NaN or inf, as one problem line (none if all are finite)."""
    if dataset.dtype.kind != "f" or dataset.ndim < 2:
        return []
    if not (flag(dataset.attrs, "sample_varying", True) and flag(dataset.attrs, "time_varying", True)):
        values = dataset[()]
        return [] if np.all(np.isfinite(values)) else [f"{dataset.name}: holds non-finite values (NaN or inf)"]
    written = dataset.shape[1] if sizes.n_written is None else min(sizes.n_written, dataset.shape[1])
    per_time = max(1, dataset.dtype.itemsize * int(np.prod(dataset.shape)) // max(1, dataset.shape[1]))
    block = max(1, _FINITE_BLOCK_BYTES // per_time)
    for start in range(0, written, block):
        values = dataset[:, start : min(start + block, written)]
        bad = ~np.isfinite(values.reshape(values.shape[0], values.shape[1], -1)).all(axis=-1)
        if bad.any():
            trajectory, time = (int(i) for i in np.argwhere(bad)[np.argmin(np.argwhere(bad)[:, 1])])
            return [f"{dataset.name}: non-finite values (NaN or inf) from snapshot {start + time} of trajectory {trajectory}"]
    return []


def _listing_problems(group: h5py.Group, listed: list[str], where: str, extra_allowed: set[str]) -> list[str]:
    problems = []
    for name in listed:
        if name not in group:
            problems.append(f"{where}: field_names lists '{name}' but there is no such dataset")
    for name in group:
        if name not in listed and name not in extra_allowed:
            problems.append(f"{where}: dataset '{name}' is not listed in field_names")
    return problems


def _dtype_problem(dataset: h5py.Dataset, where: str) -> list[str]:
    return [] if dataset.dtype == np.float32 else [f"{where}: dtype {dataset.dtype}, expected float32"]


def _flag_problems(attrs: h5py.AttributeManager, where: str, expected: dict[str, bool]) -> list[str]:
    """Missing or non-boolean ``sample_varying`` / ``time_varying``, or values other than ``expected``."""
    problems: list[str] = []
    for key in ("sample_varying", "time_varying"):
        if key not in attrs:
            problems.append(f"{where}: attribute '{key}' is missing")
        elif not isinstance(attrs[key], (bool, np.bool_)):
            problems.append(f"{where}: attribute '{key}' is {to_python(attrs[key])!r}, expected a bool")
        elif key in expected and bool(attrs[key]) != expected[key]:
            problems.append(f"{where}: attribute '{key}' is {bool(attrs[key])}, expected {expected[key]}")
    return problems


def _leading_shape(attrs: h5py.AttributeManager, sizes: _Sizes) -> tuple[int, ...] | None:
    """``(B, T)``, ``(B,)``, ``(T,)`` or ``()`` as the varying flags say; None if a size is unknown."""
    leading: list[int | None] = []
    if flag(attrs, "sample_varying", False):
        leading.append(sizes.n_trajectories)
    if flag(attrs, "time_varying", False):
        leading.append(sizes.n_times)
    return None if None in leading else tuple(leading)  # type: ignore[arg-type]
