"""HDF5 files in The Well's schema: an incremental, resumable writer and readers.

A run is written to ``<path>.tmp`` and renamed to ``<path>`` when complete.
Between appends the file is closed, so a process killed between two appends
leaves a file that opens and that :meth:`TrajectoryWriter.resume` continues:
the root attribute ``n_steps_written`` is updated last in every append, so it
never counts a snapshot whose data is not on disk.

Layout (``B`` trajectories, ``T`` saved times, ``n`` points per axis, ``D`` axes)::

    /                       Well attrs + provenance (case_json, case_sha256, ...)
    /dimensions/time        float32 [T]
    /dimensions/x, y, z     float32 [n_i]
    /boundary_conditions/<axis>_<periodic|wall|open>   mask, values, kind, lower, upper; bc_type PERIODIC|WALL|OPEN
    /scalars/<parameter>    float32 [] or [B] (sample_varying); /scalars/seed int64 [B]
    /scalars/<series>       float32 [B, T] (sample- and time-varying): a scheme's time series (force coefficients)
    /t0_fields/<name>       float32 [B, T, *n]
    /t1_fields/<name>       float32 [B, T, *n, D]
    /t2_fields/<name>       float32 [B, T, *n, D, D]
    /solver_state/a, b      the solver's state after the last append (not Well schema)
"""

from __future__ import annotations

import importlib.metadata
import json
import os
from pathlib import Path
from typing import Mapping, final

import h5py
import numpy as np

from phys.case import BoundaryCondition, Case
from phys.errors import ResumeError, describe_differences
from phys.fields import AXIS_NAMES, Fields
from phys.io._schema import (
    COMPRESSION,
    FIELD_GROUPS,
    SEED_DATASET,
    SOLVER_STATE_GROUP,
    WELL_BC_TYPES,
    field_chunks,
    field_datasets,
    flag,
    names,
    open_h5,
    strings,
    tmp_path,
    to_python,
    well_bc_type,
    written_steps,
)
from phys.io._validate import validate

__all__ = ["TrajectoryWriter", "read", "read_coordinates", "read_snapshot", "snapshot_index", "validate"]

# Two alternating slots for the solver state, each stamped with the snapshot
# count it goes with. The latest stamp not beyond `n_steps_written` is the
# state; the next append overwrites the other slot, so a process killed while
# writing a state never loses the previous one.
_STATE_SLOTS = ("a", "b")
_STAMP = "n_steps_written"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


@final
class TrajectoryWriter:
    """Incremental writer of one run (``B`` trajectories, ``T`` saved times).

    Build it with :meth:`create` or :meth:`resume`, then :meth:`append` blocks
    of snapshots and :meth:`finalize`. No HDF5 handle stays open between calls.
    """

    def __init__(self, path: Path, *, n_times: int, n_written: int, complete: bool):
        self._path = path
        self._n_times = n_times
        self._n_written = n_written
        self._complete = complete

    # -- construction --------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | Path,
        case: Case,
        *,
        tensor_order: Mapping[str, int],
        n_trajectories: int,
        times: np.ndarray,
        coords: tuple[np.ndarray, ...],
        scalars: Mapping[str, np.ndarray] | None = None,
        seeds: np.ndarray | None = None,
        series: tuple[str, ...] = (),
    ) -> TrajectoryWriter:
        """Start ``<path>.tmp`` (replacing any old one) with every group, attribute and dataset.

        ``scalars`` maps a name to a value shaped ``[]`` (same for every
        trajectory) or ``[B]`` (one per trajectory, stored ``sample_varying``);
        it defaults to the case's PDE parameters. ``seeds`` defaults to
        ``case.seed`` for every trajectory. ``series`` names outputs that are
        one number per snapshot, written as ``/scalars/<name>`` ``[B, T]``.
        """
        path = Path(path)
        times = np.asarray(times, dtype=np.float32)
        coords = tuple(np.asarray(axis, dtype=np.float32) for axis in coords)
        _check_layout(case, tensor_order, n_trajectories, times, coords)
        scalars = _scalar_arrays(case, scalars, n_trajectories)
        seeds = _seed_array(case, seeds, n_trajectories)
        tmp = tmp_path(path)
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.unlink(missing_ok=True)
        with open_h5(tmp, "w") as file:
            _write_root(file, case, n_trajectories, len(coords), scalars)
            _write_dimensions(file.create_group("dimensions"), times, coords)
            _write_boundary_conditions(file.create_group("boundary_conditions"), case.bcs, coords)
            _write_scalars(file.create_group("scalars"), scalars, seeds, series, (n_trajectories, len(times)))
            _create_fields(file, tensor_order, (n_trajectories, len(times), *(len(axis) for axis in coords)))
            file.flush()
        return cls(path, n_times=len(times), n_written=0, complete=False)

    @classmethod
    def resume(cls, path: str | Path, case: Case) -> TrajectoryWriter | None:
        """Continue the run of ``case`` at ``path``, or ``None`` if there is nothing to continue.

        A complete file of the same case at ``path`` gives a writer with
        ``complete`` True (nothing left to do). A ``<path>.tmp`` of the same
        case gives a writer at its ``n_written``. A file of another case, or
        one that cannot be opened, raises ``ValueError``.
        """
        path = Path(path)
        if path.exists():
            _check_case(path, case)
            with open_h5(path) as file:
                if flag(file.attrs, "complete", False):
                    return cls(path, n_times=_n_times(file), n_written=written_steps(file), complete=True)
        tmp = tmp_path(path)
        if not tmp.exists():
            return None
        _check_case(tmp, case)
        with open_h5(tmp) as file:
            return cls(path, n_times=_n_times(file), n_written=written_steps(file), complete=False)

    # -- state ---------------------------------------------------------------

    @property
    def path(self) -> Path:
        """Where the complete file goes."""
        return self._path

    @property
    def tmp_path(self) -> Path:
        """Where the file is while it is written."""
        return tmp_path(self._path)

    @property
    def n_written(self) -> int:
        """Snapshots (along T) written so far."""
        return self._n_written

    @property
    def n_times(self) -> int:
        """Snapshots the finished file holds (T)."""
        return self._n_times

    @property
    def complete(self) -> bool:
        """True once the file is finalized at :attr:`path`."""
        return self._complete

    # -- writing -------------------------------------------------------------

    def append(
        self,
        snapshots: Mapping[str, np.ndarray],
        solver_state: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        """Write ``snapshots[name]``, shaped ``[B, k, *n(, D...)]``, at times ``[n_written, n_written + k)``.

        ``solver_state`` (arrays of any dtype, complex included) replaces the
        stored state; it is what :meth:`solver_state` returns after a resume.
        """
        self._check_open()
        with open_h5(self.tmp_path, "a") as file:
            datasets = {name: dataset for name, (_, dataset) in field_datasets(file).items()}
            datasets.update(_series_datasets(file))
            block = _check_block(snapshots, datasets, self._n_written, self._n_times)
            stop = self._n_written + block
            for name, values in snapshots.items():
                datasets[name][:, self._n_written : stop] = np.asarray(values, dtype=np.float32)
            if solver_state is not None:
                _write_solver_state(file, solver_state, current=self._n_written, stamp=stop)
            # Counted only after the data and state are in: if anything above
            # fails, the file still claims only snapshots it holds.
            file.attrs["n_steps_written"] = stop
            file.flush()
        self._n_written = stop

    def solver_state(self) -> dict[str, np.ndarray]:
        """The state given to the latest append that had one (empty if none did).

        An append without ``solver_state`` leaves the stored state behind the
        snapshots: callers that may do so keep a step counter in the state
        and compare it with :attr:`n_written` before resuming from it.
        """
        source = self._path if self._complete else self.tmp_path
        with open_h5(source) as file:
            return _read_solver_state(file)

    def state_counts(self) -> tuple[int, ...]:
        """The snapshot counts (at most :attr:`n_written`) whose solver state the file still holds, ascending."""
        source = self._path if self._complete else self.tmp_path
        with open_h5(source) as file:
            if SOLVER_STATE_GROUP not in file:
                return ()
            root = file[SOLVER_STATE_GROUP]
            stamps = (int(root[name].attrs.get(_STAMP, -1)) for name in _STATE_SLOTS if name in root)
            return tuple(sorted(stamp for stamp in stamps if 0 <= stamp <= self._n_written))

    def rewind(self, n_written: int) -> None:
        """Go back to ``n_written`` snapshots, one of :meth:`state_counts`; a complete file is reopened.

        The processes of a distributed run, killed together, can be one block
        apart (one wrote a block the other had computed but not written);
        they continue from the count all of them can (the previous state is
        the other slot). Data past ``n_written`` stays on disk until the next
        append overwrites it, but no reader or resume counts it.
        """
        if n_written not in self.state_counts():
            raise ResumeError(
                f"{self.tmp_path}: no solver state stored at {n_written} snapshots (it holds {self.state_counts()}); "
                "run again without --resume"
            )
        if self._complete:
            with open_h5(self._path) as file:
                if flag(file.attrs, "stopped_steady", False):
                    raise ResumeError(f"{self._path}: stopped at a steady state and cut there; run again without --resume")
            os.replace(self._path, self.tmp_path)
            self._complete = False
        with open_h5(self.tmp_path, "a") as file:
            file.attrs["complete"] = False
            file.attrs["n_steps_written"] = n_written
            file.flush()
        self._n_written = n_written

    def stop_steady(self, time: float) -> None:
        """End the run at the snapshots written: the state is steady from ``time`` on.

        The time axis, the fields and the series are cut to :attr:`n_written`
        snapshots (the datasets are resizable along T), and the root
        attributes ``stopped_steady`` (True) and ``steady_time`` record why,
        so a run marched to a steady state does not repeat its last frame.
        :meth:`finalize` then completes the file.
        """
        self._check_open()
        keep = self._n_written
        with open_h5(self.tmp_path, "a") as file:
            for _, dataset in field_datasets(file).values():
                dataset.resize(keep, axis=1)
            for dataset in _series_datasets(file).values():
                dataset.resize(keep, axis=1)
            dims = file["dimensions"]
            times = dims["time"][:keep]
            attrs = dict(dims["time"].attrs)
            del dims["time"]
            dataset = dims.create_dataset("time", data=times)
            for key, value in attrs.items():
                dataset.attrs[key] = value
            file.attrs["stopped_steady"] = True
            file.attrs["steady_time"] = float(time)
            file.flush()
        self._n_times = keep

    def finalize(self) -> Path:
        """Mark the file complete and move it to :attr:`path`."""
        if self._complete:
            return self._path
        if self._n_written < self._n_times:
            raise ValueError(
                f"{self.tmp_path}: only {self._n_written} of {self._n_times} snapshots written; "
                "append the rest before finalize()"
            )
        with open_h5(self.tmp_path, "a") as file:
            file.attrs["complete"] = True
            file.flush()
        os.replace(self.tmp_path, self._path)
        self._complete = True
        return self._path

    def discard(self) -> None:
        """Delete the unfinished file."""
        self.tmp_path.unlink(missing_ok=True)

    def _check_open(self) -> None:
        if self._complete:
            raise ValueError(f"{self._path}: the file is complete; nothing more can be appended")


# -- create: checks ----------------------------------------------------------


def _check_layout(
    case: Case,
    tensor_order: Mapping[str, int],
    n_trajectories: int,
    times: np.ndarray,
    coords: tuple[np.ndarray, ...],
) -> None:
    if not tensor_order:
        raise ValueError("tensor_order: name at least one field")
    for name, order in tensor_order.items():
        if order not in (0, 1, 2):
            raise ValueError(f"tensor_order['{name}']: must be 0, 1 or 2, got {order!r}")
        if not name or "/" in name or name == ".":
            raise ValueError(f"tensor_order: '{name}' is not a valid dataset name")
    if isinstance(n_trajectories, bool) or not isinstance(n_trajectories, (int, np.integer)) or n_trajectories < 1:
        raise ValueError(f"n_trajectories: must be a positive integer, got {n_trajectories!r}")
    if times.ndim != 1 or len(times) == 0:
        raise ValueError(f"times: must be a non-empty 1D array, got shape {times.shape}")
    if len(coords) != case.n_dims:
        raise ValueError(f"coords: the case is {case.n_dims}D but {len(coords)} coordinate arrays were given")
    for axis, values in zip(AXIS_NAMES, coords):
        if values.ndim != 1 or len(values) == 0:
            raise ValueError(f"coords[{axis}]: must be a non-empty 1D array, got shape {values.shape}")


def _scalar_arrays(
    case: Case, scalars: Mapping[str, np.ndarray] | None, n_trajectories: int
) -> dict[str, np.ndarray]:
    source = case.pde.params if scalars is None else scalars
    out: dict[str, np.ndarray] = {}
    for name, value in source.items():
        array = np.asarray(value, dtype=np.float64)
        if array.shape not in ((), (n_trajectories,)):
            raise ValueError(f"scalars['{name}']: shape must be () or ({n_trajectories},), got {array.shape}")
        if name == SEED_DATASET or "/" in name:
            raise ValueError(f"scalars: '{name}' is not an allowed scalar name")
        out[name] = array
    return out


def _seed_array(case: Case, seeds: np.ndarray | None, n_trajectories: int) -> np.ndarray:
    if seeds is None:
        return np.full(n_trajectories, case.seed, dtype=np.int64)
    array = np.asarray(seeds)
    if array.shape != (n_trajectories,) or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"seeds: must be {n_trajectories} integers, got {array.dtype} of shape {array.shape}")
    return array.astype(np.int64)


# -- create: groups ----------------------------------------------------------


def _write_root(file: h5py.File, case: Case, n_trajectories: int, n_dims: int, scalars: dict[str, np.ndarray]) -> None:
    attrs = file.attrs
    attrs["simulation_parameters"] = strings(scalars)
    for name, value in scalars.items():
        attrs[name] = float(value) if value.ndim == 0 else value
    attrs["dataset_name"] = case.name
    attrs["grid_type"] = "cartesian"
    attrs["n_spatial_dims"] = n_dims
    attrs["n_trajectories"] = int(n_trajectories)
    attrs["case_json"] = case.canonical_json()
    attrs["case_sha256"] = case.sha256()
    attrs["physax_version"] = _version("physax")
    attrs["jax_version"] = _version("jax")  # by metadata: this package must not import JAX
    attrs["solve_dtype"] = case.dtype
    attrs["seed"] = case.seed
    attrs["n_steps_written"] = 0
    attrs["complete"] = False


def _write_dimensions(group: h5py.Group, times: np.ndarray, coords: tuple[np.ndarray, ...]) -> None:
    axes = AXIS_NAMES[: len(coords)]
    group.attrs["spatial_dims"] = strings(axes)
    time = group.create_dataset("time", data=times)
    time.attrs["sample_varying"] = False
    time.attrs["time_varying"] = True
    for axis, values in zip(axes, coords):
        dataset = group.create_dataset(axis, data=values)
        dataset.attrs["sample_varying"] = False
        dataset.attrs["time_varying"] = False


def _write_boundary_conditions(
    group: h5py.Group, bcs: tuple[BoundaryCondition, ...], coords: tuple[np.ndarray, ...]
) -> None:
    for axis, bc, values in zip(AXIS_NAMES, bcs, coords):
        well_type = WELL_BC_TYPES[bc.kind]
        sub = group.create_group(f"{axis}_{well_type}")
        sub.attrs["associated_dims"] = strings([axis])
        sub.attrs["associated_fields"] = strings([])
        sub.attrs["bc_type"] = well_bc_type(well_type)
        sub.attrs["kind"] = bc.kind
        sub.attrs["lower"] = bc.lower
        sub.attrs["upper"] = bc.upper
        sub.attrs["sample_varying"] = False
        sub.attrs["time_varying"] = False
        mask = np.zeros(len(values), dtype=bool)
        mask[[0, -1]] = True
        sub.create_dataset("mask", data=mask)
        boundary_values = [] if bc.kind == "periodic" else [bc.lower, bc.upper]
        sub.create_dataset("values", data=np.asarray(boundary_values, dtype=np.float32))


def _write_scalars(
    group: h5py.Group, scalars: dict[str, np.ndarray], seeds: np.ndarray, series: tuple[str, ...], shape: tuple[int, int]
) -> None:
    clash = sorted(set(series) & (set(scalars) | {SEED_DATASET}))
    if clash or any(not name or "/" in name for name in series):
        raise ValueError(f"series: '{(clash or [n for n in series if not n or '/' in n])[0]}' is not an allowed series name")
    group.attrs["field_names"] = strings([*scalars, *series])
    group.attrs[_SERIES_ATTR] = strings(list(series))
    for name, value in scalars.items():
        dataset = group.create_dataset(name, data=value.astype(np.float32))
        dataset.attrs["sample_varying"] = value.ndim == 1
        dataset.attrs["time_varying"] = False
    for name in series:
        dataset = group.create_dataset(
            name, shape=shape, maxshape=(shape[0], None), dtype=np.float32, chunks=field_chunks(shape), fillvalue=np.nan
        )
        dataset.attrs["sample_varying"] = True
        dataset.attrs["time_varying"] = True
    dataset = group.create_dataset(SEED_DATASET, data=seeds)
    dataset.attrs["sample_varying"] = True
    dataset.attrs["time_varying"] = False


# The /scalars attribute listing the time series among its datasets.
_SERIES_ATTR = "time_series"


def _series_datasets(file: h5py.File) -> dict[str, h5py.Dataset]:
    group = file.get("scalars")
    if not isinstance(group, h5py.Group):
        return {}
    return {name: group[name] for name in names(group.attrs, _SERIES_ATTR) if name in group}


def _create_fields(file: h5py.File, tensor_order: Mapping[str, int], shape: tuple[int, ...]) -> None:
    n_dims = len(shape) - 2
    for order, group_name in enumerate(FIELD_GROUPS):
        group = file.create_group(group_name)
        fields = [name for name, o in tensor_order.items() if o == order]
        group.attrs["field_names"] = strings(fields)
        for name in fields:
            full = (*shape, *(n_dims,) * order)
            dataset = group.create_dataset(
                name,
                shape=full,
                # Resizable along T: a run that stops at a steady state is cut to the snapshots written.
                maxshape=(full[0], None, *full[2:]),
                dtype=np.float32,
                # One snapshot per chunk: appends and reads touch whole chunks (a run of times without space).
                chunks=field_chunks(full),
                compression=COMPRESSION,
                shuffle=True,
                fillvalue=np.nan,  # unwritten snapshots read as NaN, never as plausible zeros
            )
            dataset.attrs["dim_varying"] = np.ones(n_dims, dtype=bool)
            dataset.attrs["sample_varying"] = True
            dataset.attrs["time_varying"] = True
            if order == 2:
                dataset.attrs["symmetric"] = False
                dataset.attrs["antisymmetric"] = False


# -- resume and append -------------------------------------------------------


def _n_times(file: h5py.File) -> int:
    return int(file["dimensions/time"].shape[-1])


def _check_case(path: Path, case: Case) -> None:
    """``ResumeError`` unless the file at ``path`` opens and was written for ``case``."""
    try:
        file = open_h5(path)
    except ValueError as error:
        raise ResumeError(f"{error}; delete it or drop --resume") from None
    with file:
        stored = to_python(file.attrs.get("case_sha256", "none"))
        stored_json = to_python(file.attrs.get("case_json", ""))
    if stored != case.sha256():
        try:
            what = describe_differences(case.to_dict(), json.loads(stored_json), "here", "in the file")
        except (TypeError, ValueError):
            what = f"its case hash is {stored}, this case's {case.sha256()}"
        raise ResumeError(f"{path} holds another case ({what}): delete it or drop --resume")


def _check_block(
    snapshots: Mapping[str, np.ndarray], datasets: Mapping[str, h5py.Dataset], start: int, n_times: int
) -> int:
    missing = sorted(set(datasets) - set(snapshots))
    unknown = sorted(set(snapshots) - set(datasets))
    if missing or unknown:
        raise ValueError(
            f"append: snapshots must hold exactly the fields {', '.join(sorted(datasets))}"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(unknown)}" if unknown else "")
        )
    blocks = set()
    for name, values in snapshots.items():
        shape = np.shape(values)
        expected = datasets[name].shape
        if len(shape) != len(expected) or shape[0] != expected[0] or shape[2:] != expected[2:]:
            raise ValueError(
                f"append: '{name}' has shape {shape}, expected ({expected[0]}, k, {', '.join(map(str, expected[2:]))})"
            )
        if np.iscomplexobj(values):
            raise ValueError(f"append: '{name}' is complex; fields are stored as float32")
        blocks.add(shape[1])
    if len(blocks) != 1 or min(blocks) < 1:
        raise ValueError(f"append: every field needs the same number k >= 1 of snapshots, got {sorted(blocks)}")
    block = blocks.pop()
    if start + block > n_times:
        raise ValueError(f"append: {block} snapshots after {start} would overflow the {n_times} saved times")
    return block


def _write_solver_state(file: h5py.File, state: Mapping[str, np.ndarray], *, current: int, stamp: int) -> None:
    root = file.require_group(SOLVER_STATE_GROUP)
    latest = _latest_slot(root, current)
    slot = root.require_group(next(name for name in _STATE_SLOTS if name != latest))
    slot.attrs[_STAMP] = -1  # while half written, this slot goes with no snapshot count
    for name in list(slot):
        if name not in state:
            del slot[name]
    for name, value in state.items():
        array = np.asarray(value)
        if name in slot and slot[name].shape == array.shape and slot[name].dtype == array.dtype:
            slot[name][...] = array  # in place: deleting and recreating leaks file space at each append
        else:
            if name in slot:
                del slot[name]
            slot.create_dataset(name, data=array)
    slot.attrs[_STAMP] = stamp


def _latest_slot(root: h5py.Group, n_written: int) -> str | None:
    """The slot holding the most recent whole state that the written snapshots reach."""
    stamps = {name: int(root[name].attrs.get(_STAMP, -1)) for name in _STATE_SLOTS if name in root}
    usable = {name: stamp for name, stamp in stamps.items() if 0 <= stamp <= n_written}
    return max(usable, key=usable.__getitem__) if usable else None


def _read_solver_state(file: h5py.File) -> dict[str, np.ndarray]:
    if SOLVER_STATE_GROUP not in file:
        return {}
    slot = _latest_slot(file[SOLVER_STATE_GROUP], written_steps(file))
    if slot is None:
        return {}
    group = file[SOLVER_STATE_GROUP][slot]
    return {name: group[name][()] for name in group}


# -- reading -----------------------------------------------------------------


def read(path: str | Path, *, allow_incomplete: bool = False) -> Fields:
    """Every field of the file at ``path``, as float32 arrays ``[B, T, *n(, D...)]``.

    Files of The Well itself (no provenance) are read too; their ``case`` is
    None; a stored case that no longer validates raises ``CaseError``. An
    incomplete file raises ``ValueError`` unless ``allow_incomplete``, in
    which case only the written snapshots are returned.
    """
    path = Path(path)
    with open_h5(path) as file:
        attrs = {key: to_python(value) for key, value in file.attrs.items()}
        n_written = written_steps(file)
        if not attrs.get("complete", True) and not allow_incomplete:
            raise ValueError(
                f"{path}: incomplete file, n_steps_written = {n_written} of {_n_times(file)}; "
                "pass allow_incomplete=True to read the written part"
            )
        dims = file["dimensions"]
        coords = {axis: dims[axis][()] for axis in names(dims.attrs, "spatial_dims")}
        n_trajectories = int(file.attrs["n_trajectories"])
        values: dict[str, np.ndarray] = {}
        orders: dict[str, int] = {}
        for name, (order, dataset) in field_datasets(file).items():
            values[name] = _full_field(dataset, n_trajectories, n_written)
            orders[name] = order
        scalars = {name: dataset[()] for name, dataset in file["scalars"].items()} if "scalars" in file else {}
        scalars.update({name: dataset[:, :n_written] for name, dataset in _series_datasets(file).items()})
        time = dims["time"][()][..., :n_written]
    case = Case.from_json(attrs["case_json"]) if "case_json" in attrs else None
    return Fields(
        time=time, coords=coords, values=values, tensor_order=orders, case=case, scalars=scalars, attrs=attrs
    )


def _full_field(dataset: h5py.Dataset, n_trajectories: int, n_written: int) -> np.ndarray:
    """``[B, T, ...]`` float32, broadcasting fields The Well stores without a sample or time axis."""
    sample_varying = flag(dataset.attrs, "sample_varying", True)
    time_varying = flag(dataset.attrs, "time_varying", True)
    if sample_varying and time_varying:
        return dataset[:, :n_written].astype(np.float32, copy=False)
    values = dataset[()]
    if not sample_varying:
        values = values[None]
    values = values[:, :n_written] if time_varying else values[:, None]
    target = (n_trajectories, n_written, *values.shape[2:])
    return np.ascontiguousarray(np.broadcast_to(values, target), dtype=np.float32)


def read_snapshot(
    path: str | Path, field: str, *, time_index: int = -1, trajectory: int = 0, time: float | None = None
) -> np.ndarray:
    """One snapshot ``[*n(, D...)]`` of ``field``.

    Negative ``time_index`` counts from the last written one; ``time``, when
    given, picks the written snapshot saved at that time instead (see
    :func:`snapshot_index`).
    """
    path = Path(path)
    if time is not None:
        time_index = snapshot_index(path, time, trajectory=trajectory)
    with open_h5(path) as file:
        fields = field_datasets(file)
        if field not in fields:
            available = ", ".join(sorted(fields)) or "none"
            raise ValueError(f"{path}: no field '{field}'; available fields: {available}")
        _, dataset = fields[field]
        n_written = written_steps(file)
        n_trajectories = int(file.attrs.get("n_trajectories", dataset.shape[0]))
        time = _index(time_index, n_written, "time_index", path, "written snapshots")
        sample = _index(trajectory, n_trajectories, "trajectory", path, "trajectories")
        index: tuple[int, ...] = ()
        if flag(dataset.attrs, "sample_varying", True):
            index += (sample,)
        if flag(dataset.attrs, "time_varying", True):
            index += (time,)
        return np.asarray(dataset[index], dtype=np.float32)


def snapshot_index(path: str | Path, time: float, *, trajectory: int = 0) -> int:
    """Index of the written snapshot saved at ``time``, or ``ValueError`` naming the times the file holds.

    Times are stored as float32, so a match is within a few float32 ulps
    (``4 eps |t|``), far below any save interval a solve can take.
    """
    path = Path(path)
    with open_h5(path) as file:
        if not isinstance(file.get("dimensions/time"), h5py.Dataset):
            raise ValueError(f"{path}: dataset /dimensions/time is missing")
        times = np.asarray(file["dimensions/time"][()], dtype=np.float64)
        if times.ndim == 2 and -len(times) <= trajectory < len(times):  # sample-varying: a row per trajectory
            times = times[trajectory]
        times = times.reshape(-1)[: written_steps(file)]
    tolerance = 4 * float(np.finfo(np.float32).eps) * max(1.0, abs(time))
    if len(times):
        nearest = int(np.argmin(np.abs(times - time)))
        if abs(times[nearest] - time) <= tolerance:
            return nearest
        held = f"{len(times)} written, t = {times[0]:g} to {times[-1]:g}"
    else:
        held = "none written"
    raise ValueError(f"{path}: no snapshot at t = {time:g} ({held})")


def read_coordinates(path: str | Path) -> dict[str, np.ndarray]:
    """The grid's coordinates by axis name, as stored (empty for a file without space)."""
    path = Path(path)
    with open_h5(path) as file:
        dims = file.get("dimensions")
        if not isinstance(dims, h5py.Group):
            raise ValueError(f"{path}: group /dimensions is missing")
        axes = names(dims.attrs, "spatial_dims")
        missing = [axis for axis in axes if not isinstance(dims.get(axis), h5py.Dataset)]
        if missing:
            raise ValueError(f"{path}: dataset /dimensions/{missing[0]} is missing")
        return {axis: np.asarray(dims[axis][()]) for axis in axes}


def _index(index: int, size: int, name: str, path: Path, what: str) -> int:
    if size == 0:
        raise ValueError(f"{path}: {name} {index} is out of range: the file has no {what}")
    if not -size <= index < size:
        raise ValueError(f"{path}: {name} {index} is out of range [{-size}, {size - 1}] ({size} {what})")
    return index % size
