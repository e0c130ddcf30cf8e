"""Ensembles of one case: many trajectories in one compiled program, over devices and hosts.

An :class:`Ensemble` is a set of trajectories of one case that differ in the
seed of their initial condition and in swept physical parameters:

* ``batch = B`` draws ``B`` seeds, ``seed_b = bits(fold_in(key(case.seed), b))``
  (one ``fold_in`` per seed, a uint32, stored in ``/scalars/seed``). A
  trajectory with seed ``s`` starts from ``initial_state(case, key(s))``,
  so it is also the plain run of ``case`` with ``seed = s``. Without
  ``batch`` there is one seed, the case's own.
* ``sweep = {name: values}`` varies PDE parameters. Sweeps and seeds combine
  as an outer product: every point of the sweep grid (itself the outer
  product of the swept values, the first key varying slowest) runs from the
  same ``B`` seeds, so a parameter's effect is seen on identical initial
  conditions. Trajectory ``i = p * B + b`` has sweep point ``p`` and seed ``b``.

The back-end's pure ``advance(static, params, state, first_step, n_saves)``
is ``vmap``-ed over the ``Params`` pytree and the state, so the whole
ensemble (and any sweep) is one compiled program. Rows are sharded over all
devices on the mesh axis ``"cases"`` (global devices under
``jax.distributed``); a chunk that does not divide is padded with copies of
its last trajectory, and padding rows never reach a file or a NaN report.

Swept values replace leaves of ``params.pde``; a random start replaces
``params.u0`` (``[fields, *n]``, as :func:`phys.compile.compile_case` makes
it). A back-end that keeps its start in another form (staggered faces, say)
may define ``reseed(static, params, key) -> params``; without it, only
sweeps from the case's own start are offered (a ``CaseError`` on ``batch``).
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from phys._registry import PDES
from phys.case import Case, CaseError
from phys.compile import initial_state
from phys.errors import ResumeError, SolveError
from solvers.backend import NO_BAD_STEP, Backend, backend_for
from solvers.solve import default_saves_per_block, failure_hint

__all__ = ["Ensemble", "derive_seeds", "shard_range", "solve_ensemble", "run_ensemble", "MESH_AXIS"]

MESH_AXIS = "cases"

# Host memory for one block of snapshots of the trajectories this process holds:
# blocks are shortened so that a large ensemble still fits.
_BLOCK_BYTES = 512 * 2**20


@dataclass(frozen=True)
class Ensemble:
    """Trajectories of one case: ``batch`` seeds times the grid of ``sweep`` values (outer product)."""

    batch: int | None = None
    sweep: Mapping[str, tuple[float, ...]] = field(default_factory=dict)

    @property
    def n_seeds(self) -> int:
        return 1 if self.batch is None else self.batch

    @property
    def size(self) -> int:
        return self.n_seeds * math.prod(len(values) for values in self.sweep.values())

    def check(self, case: Case) -> None:
        """``CaseError`` naming ``batch`` or the swept parameter if the ensemble does not fit ``case``."""
        if self.batch is not None and (isinstance(self.batch, bool) or self.batch < 1):
            raise CaseError("batch", f"must be a positive integer, got {self.batch!r}")
        parameters = PDES[case.pde.name].parameters
        for name, values in self.sweep.items():
            if name not in parameters:
                raise CaseError(
                    f"sweep.{name}", f"not a parameter of PDE '{case.pde.name}'; allowed: {', '.join(parameters)}"
                )
            if len(values) == 0:
                raise CaseError(f"sweep.{name}", "needs at least one value")
            for value in values:  # each value must make a valid case (finite, in range)
                case.with_updates({f"pde.params.{name}": float(value)})

    def seeds(self, case: Case) -> np.ndarray:
        """The seed of every trajectory, ``[size]`` int64."""
        seeds = np.asarray([case.seed]) if self.batch is None else derive_seeds(case.seed, self.batch)
        return np.tile(seeds, self.size // self.n_seeds).astype(np.int64)

    def values(self, case: Case) -> dict[str, np.ndarray]:
        """Every swept parameter's value per trajectory, ``{name: [size]}`` float64."""
        grid = list(itertools.product(*self.sweep.values()))
        return {
            name: np.repeat(np.asarray([point[k] for point in grid], dtype=np.float64), self.n_seeds)
            for k, name in enumerate(self.sweep)
        }


def derive_seeds(seed: int, count: int) -> np.ndarray:
    """``count`` uint32 seeds, ``bits(fold_in(key(seed), i))``: independent of ``count`` and of devices."""
    base = jax.random.key(seed)
    keys = jax.vmap(lambda i: jax.random.fold_in(base, i))(jnp.arange(count, dtype=jnp.uint32))
    return np.asarray(jax.vmap(lambda k: jax.random.bits(k, dtype=jnp.uint32))(keys)).astype(np.int64)


def shard_range(size: int, index: int, count: int) -> range:
    """The ``index``-th of ``count`` contiguous, near-equal slices of ``range(size)``."""
    if not 0 <= index < count:
        raise CaseError("shard", f"index must be in [0, {count}), got {index}")
    if count > size:
        raise CaseError("shard", f"{count} shards for an ensemble of {size} trajectories leaves some empty")
    return range(index * size // count, (index + 1) * size // count)


# -- the compiled programs ---------------------------------------------------


def _row_params(
    backend: Backend, case: Case, static: Any, params: Any, names: tuple[str, ...], random_starts: bool,
    seed: jax.Array, values: jax.Array,
) -> Any:
    """One trajectory's params: the case's, with its swept values and (``random_starts``) its own start."""
    if names:
        pde = params.pde
        leaves = tuple(values[k].astype(getattr(pde, name).dtype) for k, name in enumerate(names))
        pde = eqx.tree_at(lambda p: tuple(getattr(p, name) for name in names), pde, leaves)
        params = eqx.tree_at(lambda p: p.pde, params, pde)
    if not random_starts:  # every trajectory starts from the case's own initial state
        return params
    key = jax.random.key(seed)
    reseed = getattr(backend, "reseed", None)
    if reseed is not None:  # a back-end whose state is not the grid fields says how to restart
        return reseed(static, params, key)
    u0 = initial_state(case, key)
    return eqx.tree_at(lambda p: p.u0, params, u0.astype(params.u0.dtype))


def _check_backend(backend: Backend, case: Case, params: Any, ensemble: Ensemble) -> None:
    """``CaseError`` if the back-end's params cannot take the ensemble's seeds or swept values."""
    method = case.solver.method
    if ensemble.sweep and not hasattr(params, "pde"):
        raise CaseError("sweep", f"the '{method}' back-end has no params.pde to sweep")
    if ensemble.batch is not None and not hasattr(backend, "reseed"):
        shape = (len(case.fields), *case.grid.n)
        if getattr(getattr(params, "u0", None), "shape", None) != shape:
            raise CaseError(
                "batch",
                f"the '{method}' back-end keeps its initial state in another form than u0 {list(shape)} "
                "and has no reseed(static, params, key): random starts are not supported for it; use --sweep alone",
            )


@dataclass(frozen=True)
class _Programs:
    """The ensemble's two jitted programs, ``vmap`` over rows, rows sharded over ``mesh``."""

    start: Callable[..., Any]
    advance: Callable[..., Any]
    mesh: Mesh


class _SameCase:
    """A case as a cache key: equal when the case JSON is (its params follow from it)."""

    def __init__(self, case: Case, params: Any):
        self.case, self.params, self.sha256 = case, params, case.sha256()

    def __hash__(self) -> int:
        return hash(self.sha256)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _SameCase) and other.sha256 == self.sha256


# Runs of the same case and layout (shards of one ensemble, a resumed run)
# reuse the compiled programs, as jit's own cache would for a plain function.
@functools.lru_cache(maxsize=8)
def _programs(
    backend: Backend, key: _SameCase, static: Any, names: tuple[str, ...], random_starts: bool, mesh: Mesh
) -> _Programs:
    case, params = key.case, key.params
    build = functools.partial(_row_params, backend, case, static, params, names, random_starts)

    def start_row(seed, values):
        row = build(seed, values)
        state = backend.init(static, row)
        return state, backend.snapshot(static, row, state)

    def advance_row(seed, values, state, first_step, n_saves):
        # The initial state is rebuilt but unused by the step: XLA drops it.
        return backend.advance(static, build(seed, values), state, first_step, n_saves)

    rows = NamedSharding(mesh, PartitionSpec(MESH_AXIS))
    everywhere = NamedSharding(mesh, PartitionSpec())
    start = jax.jit(jax.vmap(start_row), out_shardings=rows)
    advance = jax.jit(
        lambda seeds, values, state, first_step, n_saves: jax.vmap(
            functools.partial(advance_row, n_saves=n_saves), in_axes=(0, 0, 0, None)
        )(seeds, values, state, first_step),
        static_argnames="n_saves",
        # The bad-step vector is replicated so that every process sees every
        # trajectory's failure and all stop together.
        out_shardings=(rows, rows, everywhere),
    )
    return _Programs(start=start, advance=advance, mesh=mesh)


def _global(mesh: Mesh, host: np.ndarray, spec: PartitionSpec) -> jax.Array:
    """A global array from a host array every process holds in full (only local slices are copied)."""
    host = np.asarray(host)
    return jax.make_array_from_callback(host.shape, NamedSharding(mesh, spec), lambda index: host[index])


# -- layout: which rows each process holds ------------------------------------


@dataclass(frozen=True)
class _Chunk:
    """``global_index[r]`` of each padded row ``r``; ``slot[r]``: its position in this process's file, or -1."""

    global_index: np.ndarray
    slot: np.ndarray
    n_real: int


def _layout(indices: np.ndarray, chunk: int, mesh: Mesh) -> tuple[list[_Chunk], np.ndarray]:
    """Split ``indices`` in chunks padded to the device count; the rows this process holds, in file order."""
    devices = mesh.devices.reshape(-1)
    # At least two rows per device: XLA compiles a batch of one differently
    # (the unit axis is squeezed) and its float results may differ in the last
    # bit, so every trajectory is computed alike however the ensemble is cut.
    padded = max(2, math.ceil(chunk / len(devices))) * len(devices)
    per_device = padded // len(devices)
    mine = np.asarray([device.process_index == jax.process_index() for device in devices])
    chunks, local = [], []
    for first in range(0, len(indices), chunk):
        real = indices[first : first + chunk]
        rows = np.concatenate([real, np.full(padded - len(real), real[-1])])
        slot = np.full(padded, -1)
        for r in range(len(real)):
            if mine[r // per_device]:
                slot[r] = len(local)
                local.append(real[r])
        chunks.append(_Chunk(rows, slot, len(real)))
    return chunks, np.asarray(local, dtype=np.int64)


def _idle_processes(n_trajectories: int, chunk: int, mesh: Mesh) -> list[int]:
    """The processes whose devices get no real row of the first chunk (the largest one)."""
    devices = mesh.devices.reshape(-1)
    per_device = max(2, math.ceil(chunk / len(devices)))
    busy = {devices[r // per_device].process_index for r in range(min(chunk, n_trajectories))}
    return sorted({device.process_index for device in devices} - busy)


def _upload_state(mesh: Mesh, chunk: _Chunk, host: Mapping[str, np.ndarray]) -> dict[str, jax.Array]:
    """This chunk's rows of the host state on the devices; padding rows are zeros (never read back)."""
    padded = len(chunk.slot)
    state = {}
    for name, values in host.items():
        full = np.zeros((padded, *values.shape[1:]), values.dtype)
        held = chunk.slot >= 0
        full[held] = values[chunk.slot[held]]
        state[name] = _global(mesh, full, PartitionSpec(MESH_AXIS))
    return state


def _download(array: jax.Array, chunk: _Chunk, into: np.ndarray) -> None:
    """Copy the rows of ``array`` this process holds into their slots of ``into``."""
    for shard in array.addressable_shards:
        rows = range(*shard.index[0].indices(len(chunk.slot)))
        slots = chunk.slot[rows.start : rows.stop]
        held = slots >= 0
        if np.any(held):
            into[slots[held]] = np.asarray(shard.data)[held]


def _replicated(array: jax.Array) -> np.ndarray:
    return np.asarray(array.addressable_data(0))


# -- in memory ----------------------------------------------------------------


def solve_ensemble(
    case: Case, ensemble: Ensemble, *, chunk: int | None = None, mesh: Mesh | None = None
) -> dict[str, np.ndarray]:
    """Every trajectory of ``ensemble`` in memory, ``{name: [B, T, ...]}`` (single process).

    Raises :class:`SolveError` naming the first trajectory that went non-finite.
    """
    writer = _MemoryWriter()
    _drive(case, ensemble, writer, range(ensemble.size), chunk=chunk, mesh=mesh, saves_per_block=None, on_block=None)
    return writer.result()


class _MemoryWriter:
    n_written = 0
    complete = False

    def __init__(self) -> None:
        self.blocks: list[dict[str, np.ndarray]] = []
        self.state: dict[str, np.ndarray] = {}

    def append(self, snapshots: Mapping[str, np.ndarray], state: Mapping[str, np.ndarray] | None) -> None:
        self.blocks.append(dict(snapshots))
        self.n_written += next(iter(snapshots.values())).shape[1]
        if state is not None:
            self.state = dict(state)

    def solver_state(self) -> dict[str, np.ndarray]:
        return dict(self.state)

    def result(self) -> dict[str, np.ndarray]:
        return {name: np.concatenate([b[name] for b in self.blocks], axis=1) for name in self.blocks[0]}


# -- to a file ----------------------------------------------------------------


def default_mesh() -> Mesh:
    """All devices (of all processes) on one axis, ``"cases"``."""
    return Mesh(np.asarray(jax.devices()), (MESH_AXIS,))


def run_ensemble(
    case: Case,
    ensemble: Ensemble,
    out: str | Path,
    *,
    resume: bool = False,
    chunk: int | None = None,
    shard: tuple[int, int] | None = None,
    mesh: Mesh | None = None,
    saves_per_block: int | None = None,
    on_block: Callable[[int, int], None] | None = None,
) -> Path:
    """Solve ``ensemble`` (or its ``shard = (i, N)`` slice) and write this process's trajectories to ``out``.

    ``chunk`` trajectories are on the devices at a time (default: all). The
    file holds ``[B_here, T, ...]`` with per-trajectory ``/scalars/seed`` and
    swept ``/scalars/<name>``, and the root attribute ``ensemble_index`` (the
    global index of each trajectory) that ``phys merge`` orders by. Resumable
    like :func:`solvers.solve.run_case`: the state of every trajectory is
    stored with each block. Every process must hold at least one trajectory
    (``CaseError`` on ``batch`` otherwise).
    """
    from phys.io import TrajectoryWriter
    from phys.io.merge import write_ensemble_attrs

    ensemble.check(case)
    indices = np.asarray(shard_range(ensemble.size, *shard) if shard is not None else range(ensemble.size))
    mesh = mesh or default_mesh()
    backend = backend_for(case)
    static, _ = backend.compile(case)
    chunk = min(chunk or len(indices), len(indices))
    _, local = _layout(indices, chunk, mesh)
    # Every process takes part in every compiled call, so each must hold a
    # trajectory: one with none would have no file to resume its step from.
    idle = _idle_processes(len(indices), chunk, mesh)
    if idle:
        raise CaseError(
            "batch",
            f"{len(indices)} trajectories leave process(es) {', '.join(map(str, idle))} without any "
            f"(chunks of {chunk}, at least 2 rows on each of {mesh.devices.size} devices); use a larger ensemble",
        )
    seeds = ensemble.seeds(case)[local]
    values = {name: v[local] for name, v in ensemble.values(case).items()}
    scalars = {name: np.asarray(value, dtype=np.float64) for name, value in case.pde.params.items()}
    scalars.update(values)
    out = Path(out)
    writer = TrajectoryWriter.resume(out, case) if resume else None
    if writer is not None and not _same_ensemble(writer, seeds, values, local, ensemble.size):
        if writer.complete or writer.n_written > 0:
            raise ResumeError(
                f"{out}{'' if writer.complete else '.tmp'} holds another ensemble of this case "
                "(--batch, --seed, --sweep, --shard, --chunk or the process count differ): delete it or drop --resume"
            )
        writer = None  # killed before its first snapshot: nothing to keep
    if writer is not None and writer.complete:
        return out
    if writer is None:
        writer = TrajectoryWriter.create(
            out,
            case,
            tensor_order=backend.outputs(case),
            n_trajectories=len(local),
            times=static.save_times(),
            coords=backend.coords(case),
            scalars=scalars,
            seeds=seeds,
        )
        write_ensemble_attrs(writer.tmp_path, local, ensemble.size)
    _drive(case, ensemble, writer, indices, chunk=chunk, mesh=mesh, saves_per_block=saves_per_block, on_block=on_block)
    return writer.finalize()


def _same_ensemble(writer: Any, seeds: np.ndarray, values: Mapping[str, np.ndarray], local: np.ndarray, size: int) -> bool:
    import h5py

    from phys.io.merge import ENSEMBLE_INDEX, ENSEMBLE_SIZE

    path = writer.path if writer.complete else writer.tmp_path
    with h5py.File(path, "r") as file:
        attrs = file.attrs
        if ENSEMBLE_INDEX not in attrs or int(attrs.get(ENSEMBLE_SIZE, -1)) != size:
            return False
        if not np.array_equal(np.asarray(attrs[ENSEMBLE_INDEX]).reshape(-1), local):
            return False
        if not np.array_equal(file["scalars/seed"][()], seeds):
            return False
        return all(
            name in file["scalars"] and np.array_equal(file["scalars"][name][()], v.astype(np.float32))
            for name, v in values.items()
        )


def _drive(
    case: Case,
    ensemble: Ensemble,
    writer: Any,
    indices: range | np.ndarray,
    *,
    chunk: int | None,
    mesh: Mesh | None,
    saves_per_block: int | None,
    on_block: Callable[[int, int], None] | None,
) -> None:
    """The block loop: every chunk advances one block, then the block is written with the state."""
    ensemble.check(case)
    indices = np.asarray(indices)
    mesh = mesh or default_mesh()
    backend = backend_for(case)
    static, params = backend.compile(case)
    names = tuple(ensemble.sweep)
    chunks, local = _layout(indices, min(chunk or len(indices), len(indices)), mesh)
    all_seeds = ensemble.seeds(case).astype(np.uint32)
    all_values = ensemble.values(case)
    dtype = np.dtype(case.dtype)
    table = np.stack([all_values[name] for name in names], axis=-1) if names else np.zeros((ensemble.size, 0))
    table = table.astype(dtype)
    _check_backend(backend, case, params, ensemble)
    programs = _programs(backend, _SameCase(case, params), static, names, ensemble.batch is not None, mesh)
    rows = PartitionSpec(MESH_AXIS)
    inputs = [
        (_global(mesh, all_seeds[c.global_index], rows), _global(mesh, table[c.global_index], rows)) for c in chunks
    ]
    outputs = backend.outputs(case)

    def fresh(shapes: Mapping[str, Any], k: int | None) -> dict[str, np.ndarray]:
        lead = (len(local),) if k is None else (len(local), k)
        return {name: np.empty(lead + tuple(s.shape[1 if k is None else 2 :]), s.dtype) for name, s in shapes.items()}

    resident: dict[int, dict[str, jax.Array]] = {}  # device state kept between blocks when there is one chunk
    if writer.n_written == 0:
        host_state: dict[str, np.ndarray] | None = None
        first: dict[str, np.ndarray] | None = None
        for i, (c, (seeds, table_rows)) in enumerate(zip(chunks, inputs)):
            state, snapshot = programs.start(seeds, table_rows)
            if host_state is None:
                host_state, first = fresh(state, None), fresh(snapshot, None)
            for name in state:
                _download(state[name], c, host_state[name])
            for name in snapshot:
                _download(snapshot[name], c, first[name])
            if len(chunks) == 1:
                resident[i] = state
        assert host_state is not None and first is not None
        writer.append({name: first[name][:, None] for name in outputs}, {**host_state, "step": np.asarray(0, np.int64)})
    stored = writer.solver_state()
    step = int(stored.pop("step"))
    host_state = stored
    if step != (writer.n_written - 1) * static.save_every:
        raise ResumeError(
            f"the file was left by a failed solve (its solver state is at step {step}, its snapshots reach step "
            f"{(writer.n_written - 1) * static.save_every}) and cannot be resumed; run again without --resume"
        )
    if on_block is not None:
        on_block(writer.n_written, static.n_saves)
    axes = [len(axis) for axis in backend.coords(case)]
    snapshot_bytes = 4 * sum(math.prod(axes) * len(axes) ** order for order in outputs.values())
    block = saves_per_block or min(
        default_saves_per_block(static), max(1, _BLOCK_BYTES // (snapshot_bytes * max(1, len(local))))
    )
    while writer.n_written < static.n_saves:
        # Blocks start at save 1 + j * block whatever happened before (as in run_case).
        count = min(block - (writer.n_written - 1) % block, static.n_saves - writer.n_written)
        first_step = _global(mesh, np.asarray(step, np.int32), PartitionSpec())
        saves_host: dict[str, np.ndarray] | None = None
        failures: list[tuple[int, int]] = []  # (bad step, global trajectory index)
        for i, (c, (seeds, table_rows)) in enumerate(zip(chunks, inputs)):
            state = resident.pop(i, None) or _upload_state(mesh, c, host_state)
            state, saves, bad = programs.advance(seeds, table_rows, state, first_step, count)
            if len(chunks) == 1:
                resident[i] = state
            if saves_host is None:
                saves_host = fresh(saves, count)
            for name in state:
                _download(state[name], c, host_state[name])
            for name in saves:
                _download(saves[name], c, saves_host[name])
            bad = _replicated(bad)
            failures += [
                (int(b), int(g)) for b, g in zip(bad[: c.n_real], c.global_index[: c.n_real]) if b != NO_BAD_STEP
            ]
        assert saves_host is not None
        if failures:
            bad_step, trajectory = min(failures)
            good = (bad_step - step - 1) // static.save_every
            if good > 0:
                writer.append({name: saves_host[name][:, :good] for name in outputs}, None)
            raise _nan_error(case, ensemble, static, trajectory, bad_step)
        step += count * static.save_every
        writer.append({name: saves_host[name] for name in outputs}, {**host_state, "step": np.asarray(step, np.int64)})
        if on_block is not None:
            on_block(writer.n_written, static.n_saves)


def _nan_error(case: Case, ensemble: Ensemble, static: Any, trajectory: int, bad_step: int) -> SolveError:
    time = static.t0 + bad_step * static.dt
    swept = "".join(f", {name} = {v[trajectory]:g}" for name, v in ensemble.values(case).items())
    return SolveError(
        f"trajectory {trajectory} (seed {int(ensemble.seeds(case)[trajectory])}{swept}) became non-finite "
        f"(NaN or overflow) at step {bad_step} (t = {time:.6g}); {failure_hint(static)} or check its parameters",
        step=bad_step,
        time=time,
    )
