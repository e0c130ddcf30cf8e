"""The one block driver: single runs and ensembles, to memory or to HDF5, fresh or resumed.

A run is a set of trajectories of one case (an :class:`~solvers.ensemble.Ensemble`;
a plain run is an ensemble of one) written to a :class:`~phys.io.writer.Writer`
in blocks of saved snapshots. Each block is one compiled call of the time
loop (:func:`solvers.rollout.advance`), after which the snapshots are handed
to the writer together with the state that follows them, so a run resumed
from a file continues from its last block bit for bit. Block boundaries do
not depend on where a run stopped (block ``j`` starts at save ``1 + j *
block``), so a resumed run (on the same platform: a CPU cuts shorter blocks
for large grids) compiles and runs exactly the same blocks. The
block length is static (:func:`default_saves_per_block` says why it is not
timed); a run compiles it once, and once more for a shorter last block.

How the rows are computed is a :class:`_Programs`: one trajectory on the
default device without ``vmap`` (a plain run: an ensemble of one pays for no
batch axis), or ``vmap`` over rows sharded on the ``"cases"`` mesh axis
(:mod:`solvers.ensemble`). The loop does not know which.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from phys.case import Case
from phys.errors import ResumeError, SolveError
from phys.initial import initial_fields
from phys.io.writer import Writer
from solvers.ensemble import (
    MESH_AXIS,
    Chunk,
    Ensemble,
    default_mesh,
    download,
    global_array,
    layout,
    replicated,
    upload_state,
)
from solvers.rollout import NOT_STEADY, advance, initial_state, steady_report, without_steady
from solvers.scheme import NO_BAD_STEP, AbstractScheme, State, scheme_for
from solvers._simulation import Simulation

__all__ = ["Run", "closing_lines", "default_saves_per_block", "drive", "failure_message", "plan", "programs"]

# A block of saves is one compiled call and one write; about this many steps
# per block keeps dispatch and I/O overhead negligible while the progress bar
# and an interrupted run lose little.
_STEPS_PER_BLOCK = 2048
# Host memory for one block of snapshots of the trajectories this process holds:
# blocks are shortened so that a large ensemble still fits.
_BLOCK_BYTES = 512 * 2**20
# Work of one block on a CPU, in point-steps (grid points x trajectories held x
# steps), so that the progress bar and the file advance every few seconds:
# ns-decaying (ETDRK4) ran 1.3-1.4e7 point-steps/s at 128^2 and 256^2, the
# lid-driven cavity (projection) 1.6e7 at 128^2, on two shared CPU cores, so
# 2^25 is 2-3 s; a small grid still gets 2048 steps. Accelerators keep the
# step cap alone: their speed was not measured for this.
_CPU_POINT_STEPS_PER_BLOCK = 2**25


def default_saves_per_block(scheme: AbstractScheme, *, rows: int = 1, platform: str = "cpu") -> int:
    """Saves per compiled block: about 2048 steps, fewer on a CPU when ``rows`` trajectories of the grid make it slow.

    Blocks are not sized from measured time: a block's length is static in
    the compiled loop (``lax.scan``), so a length changed after timing the
    first block would cost a second compilation, and a resumed run must cut
    the same blocks, which a machine's speed of the day would not. The size
    follows from the case, the rows and the platform alone.
    """
    time = scheme.time
    steps = _STEPS_PER_BLOCK
    if platform == "cpu":
        points = math.prod(len(axis) for axis in scheme.coords()) * max(1, rows)
        steps = min(steps, _CPU_POINT_STEPS_PER_BLOCK // points)
    return max(1, min(time.n_saves - 1, math.ceil(steps / time.save_every)))


def failure_message(scheme: AbstractScheme, bad_step: int, who: str = "solution") -> str:
    time = scheme.time.time_of(bad_step)
    return (
        f"{who} became non-finite (NaN or overflow) at step {bad_step} (t = {time:.6g}); "
        f"{scheme.failure_hint()} or check the case's parameters"
    )


# -- one trajectory's simulation -------------------------------------------------


def _row(case: Case, base: Simulation, names: tuple[str, ...], random_starts: bool, seed: jax.Array, values: jax.Array) -> Simulation:
    """One trajectory: the case's simulation with its swept values and (``random_starts``) its own start."""
    sim = base
    if names:
        pde = sim.pde
        leaves = tuple(values[k].astype(getattr(pde, name).dtype) for k, name in enumerate(names))
        sim = eqx.tree_at(lambda s: tuple(getattr(s.scheme.pde, name) for name in names), sim, leaves)
    if random_starts:
        u0 = initial_fields(case, base.scheme.coords(), jax.random.key(seed))
        sim = eqx.tree_at(lambda s: s.u0, sim, u0.astype(base.u0.dtype))
    return sim


# -- how rows are computed ----------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """What :func:`drive` solves: ``ensemble``'s trajectories ``indices`` of ``case``."""

    case: Case
    ensemble: Ensemble
    indices: np.ndarray
    chunk: int
    mesh: Mesh | None  # None: one trajectory on the default device, no vmap


class _Programs:
    """Compiled ``start`` and ``advance`` of every chunk's rows, and their copy to host arrays ``[rows, ...]``."""

    chunks: list[Chunk]
    local: np.ndarray  # global indices of the rows this process holds, in file order
    scheme: AbstractScheme
    platform: str  # of the devices the rows run on ("cpu", "gpu", "tpu"): it sizes the blocks
    # Rows one process computes per block, padding included. It sizes the blocks,
    # so it is the same on every process (its own held rows may differ by one):
    # processes that cut different blocks would wait for each other forever.
    block_rows: int

    def start(self, index: int) -> tuple[State, dict[str, jax.Array]]:
        """The device state and first snapshot of chunk ``index``."""
        raise NotImplementedError

    def advance(
        self, index: int, state: State | None, host_state: Mapping[str, np.ndarray], step: int, count: int
    ) -> tuple[State, dict[str, jax.Array], list[tuple[int, int]]]:
        """``count`` save intervals of chunk ``index`` from ``state`` (uploaded from ``host_state`` if None).

        Returns the device state, the saves and the failures ``(bad step, global trajectory index)``.
        """
        raise NotImplementedError

    def to_host(self, index: int, arrays: Mapping[str, jax.Array], into: dict[str, np.ndarray]) -> None:
        """Copy chunk ``index``'s rows of ``arrays`` into their slots of ``into`` (allocated on first use)."""
        raise NotImplementedError

    def steady_step(self, host_state: Mapping[str, np.ndarray]) -> int | None:
        """The step from which every trajectory of the run is steady, or None (see :func:`_steady_step`)."""
        return _steady_step(host_state)


class _Single(_Programs):
    """One trajectory, no batch axis; host arrays get a leading axis of one."""

    def __init__(self, sim: Simulation):
        self._sim, self.scheme = sim, sim.scheme
        self.platform = jax.default_backend()
        self.block_rows = 1
        self.chunks = [Chunk(np.asarray([0]), np.asarray([0]), 1)]
        self.local = np.asarray([0], np.int64)

    def start(self, index: int) -> tuple[State, dict[str, jax.Array]]:
        return _start(self._sim)

    def advance(self, index, state, host_state, step, count):  # type: ignore[no-untyped-def]
        if state is None:
            state = {name: jnp.asarray(values[0]) for name, values in host_state.items()}
        state, saves, bad = advance(self._sim.scheme, state, jnp.asarray(step, jnp.int32), count)
        bad = int(bad)
        return state, saves, ([] if bad == NO_BAD_STEP else [(bad, int(self.local[0]))])

    def to_host(self, index: int, arrays: Mapping[str, jax.Array], into: dict[str, np.ndarray]) -> None:
        for name, value in arrays.items():
            into[name] = np.asarray(value)[None]


@eqx.filter_jit
def _start(sim: Simulation) -> tuple[State, dict[str, jax.Array]]:
    state = initial_state(sim.scheme, sim.u0)
    return state, sim.scheme.prepare().observe(without_steady(state))


class _Sharded(_Programs):
    """Rows ``vmap``-ed and sharded over ``mesh``; a chunk of rows on the devices at a time."""

    def __init__(self, run: Run, sim: Simulation):
        case, ensemble = run.case, run.ensemble
        assert run.mesh is not None
        self._mesh, self.scheme = run.mesh, sim.scheme
        self.platform = run.mesh.devices.flat[0].platform
        self.chunks, self.local = layout(run.indices, run.chunk, run.mesh)
        self.block_rows = max(1, sum(len(chunk.slot) for chunk in self.chunks) // jax.process_count())
        names = tuple(ensemble.sweep)
        seeds = ensemble.seeds(case).astype(np.uint32)
        values = ensemble.values(case)
        table = np.stack([values[name] for name in names], axis=-1) if names else np.zeros((ensemble.size, 0))
        table = table.astype(np.dtype(case.dtype))
        rows = PartitionSpec(MESH_AXIS)
        self._inputs = [
            (global_array(run.mesh, seeds[c.global_index], rows), global_array(run.mesh, table[c.global_index], rows))
            for c in self.chunks
        ]
        self._start, self._advance = _compiled(_SameRun(case, sim), names, ensemble.batch is not None, run.mesh)

    def start(self, index: int) -> tuple[State, dict[str, jax.Array]]:
        return self._start(*self._inputs[index])

    def advance(self, index, state, host_state, step, count):  # type: ignore[no-untyped-def]
        chunk = self.chunks[index]
        if state is None:
            state = upload_state(self._mesh, chunk, host_state)
        first = global_array(self._mesh, np.asarray(step, np.int32), PartitionSpec())
        state, saves, bad = self._advance(*self._inputs[index], state, first, count)
        bad = replicated(bad)
        failures = [(int(b), int(g)) for b, g in zip(bad[: chunk.n_real], chunk.global_index[: chunk.n_real]) if b != NO_BAD_STEP]
        return state, saves, failures

    def to_host(self, index: int, arrays: Mapping[str, jax.Array], into: dict[str, np.ndarray]) -> None:
        for name, array in arrays.items():
            if name not in into:
                into[name] = np.empty((len(self.local), *array.shape[1:]), array.dtype)
            download(array, self.chunks[index], into[name])

    def steady_step(self, host_state: Mapping[str, np.ndarray]) -> int | None:
        here = _steady_step(host_state)
        if jax.process_count() == 1 or "steady_step" not in host_state:
            return here
        from jax.experimental import multihost_utils

        # The run stops when all its trajectories are steady, wherever they are
        # held: a process that stopped on its own rows would leave a shorter file
        # (that phys merge refuses) and the others without it in their next call.
        steps = np.asarray(multihost_utils.process_allgather(np.asarray(NOT_STEADY if here is None else here, np.int64)))
        return None if np.any(steps == NOT_STEADY) else int(np.max(steps))


class _SameRun:
    """A case as a cache key: equal when the case JSON is (its simulation follows from it)."""

    def __init__(self, case: Case, sim: Simulation):
        self.case, self.sim, self.sha256 = case, sim, case.sha256()

    def __hash__(self) -> int:
        return hash(self.sha256)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _SameRun) and other.sha256 == self.sha256


# Runs of the same case and layout (shards of one ensemble, a resumed run)
# reuse the compiled programs, as jit's own cache would for a plain function.
@functools.lru_cache(maxsize=8)
def _compiled(key: _SameRun, names: tuple[str, ...], random_starts: bool, mesh: Mesh) -> tuple[Callable[..., Any], Callable[..., Any]]:
    build = functools.partial(_row, key.case, key.sim, names, random_starts)

    def start_row(seed: jax.Array, values: jax.Array) -> tuple[State, dict[str, jax.Array]]:
        return _start(build(seed, values))

    def advance_row(seed, values, state, first_step, n_saves):  # type: ignore[no-untyped-def]
        # The initial fields are rebuilt but unused by the loop: XLA drops them.
        return advance(build(seed, values).scheme, state, first_step, n_saves)

    rows = NamedSharding(mesh, PartitionSpec(MESH_AXIS))
    everywhere = NamedSharding(mesh, PartitionSpec())
    start = jax.jit(jax.vmap(start_row), out_shardings=rows)
    run = jax.jit(
        lambda seeds, values, state, first_step, n_saves: jax.vmap(
            functools.partial(advance_row, n_saves=n_saves), in_axes=(0, 0, 0, None)
        )(seeds, values, state, first_step),
        static_argnames="n_saves",
        # The bad-step vector is replicated so that every process sees every
        # trajectory's failure and all stop together.
        out_shardings=(rows, rows, everywhere),
    )
    return start, run


def plan(case: Case, ensemble: Ensemble, indices: Any, *, chunk: int | None = None, mesh: Mesh | None = None, single: bool = False) -> Run:
    """The :class:`Run` of ``indices``: one trajectory without ``vmap`` when ``single``, else sharded rows."""
    indices = np.asarray(indices)
    if single:
        return Run(case, ensemble, indices, 1, None)
    return Run(case, ensemble, indices, min(chunk or len(indices), len(indices)), mesh or default_mesh())


def programs(run: Run) -> _Programs:
    """The compiled programs of ``run``; builds its scheme and initial fields, so bad input fails here, before any file."""
    scheme = scheme_for(run.case)
    sim = Simulation(scheme=scheme, u0=initial_fields(run.case, scheme.coords()))
    return _Single(sim) if run.mesh is None else _Sharded(run, sim)


# -- the loop ---------------------------------------------------------------------


def drive(
    compiled: _Programs,
    writer: Writer,
    *,
    saves_per_block: int | None,
    on_block: Callable[[int, int], None] | None,
    describe: Callable[[int], str] = lambda trajectory: "solution",
) -> dict[str, np.ndarray]:
    """Advance every chunk of a run (:func:`programs`) block by block into ``writer``; the final host state (``[rows, ...]``).

    Raises :class:`SolveError` at the first non-finite step of any
    trajectory (``describe(global index)`` names it), after writing the
    snapshots before it; :class:`ResumeError` if the writer's state is not
    the one after its snapshots (a file left by a failed solve).
    """
    scheme = compiled.scheme
    time = scheme.time
    resident: dict[int, State] = {}  # device state kept between blocks when there is one chunk
    keep = len(compiled.chunks) == 1
    if writer.n_written == 0:
        host_state: dict[str, np.ndarray] = {}
        first: dict[str, np.ndarray] = {}
        for index in range(len(compiled.chunks)):
            state, snapshot = compiled.start(index)
            compiled.to_host(index, state, host_state)
            compiled.to_host(index, snapshot, first)
            if keep:
                resident[index] = state
        writer.append({name: values[:, None] for name, values in first.items()}, {**host_state, "step": np.asarray(0, np.int64)})
    stored = writer.solver_state()
    step = int(stored.pop("step"))
    host_state = stored
    if step != (writer.n_written - 1) * time.save_every:
        raise ResumeError(
            f"the file was left by a failed solve (its solver state is at step {step}, its snapshots reach step "
            f"{(writer.n_written - 1) * time.save_every}) and cannot be resumed; run again without --resume"
        )
    if on_block is not None:
        on_block(writer.n_written, time.n_saves)
    orders = scheme.output_orders()
    axes = [len(axis) for axis in scheme.coords()]
    snapshot_bytes = 4 * sum(math.prod(axes) * len(axes) ** order for order in orders.values())
    rows = compiled.block_rows
    block = saves_per_block or min(
        default_saves_per_block(scheme, rows=rows, platform=compiled.platform),
        max(1, _BLOCK_BYTES // (snapshot_bytes * max(1, rows))),
    )
    while writer.n_written < time.n_saves:
        count = min(block - (writer.n_written - 1) % block, time.n_saves - writer.n_written)
        saves_host: dict[str, np.ndarray] = {}
        failures: list[tuple[int, int]] = []
        for index in range(len(compiled.chunks)):
            state, saves, bad = compiled.advance(index, resident.pop(index, None), host_state, step, count)
            if keep:
                resident[index] = state
            compiled.to_host(index, state, host_state)
            compiled.to_host(index, saves, saves_host)
            failures += bad
        if failures:
            bad_step, trajectory = min(failures)
            good = (bad_step - step - 1) // time.save_every
            if good > 0:
                writer.append({name: values[:, :good] for name, values in saves_host.items()}, None)
            raise SolveError(failure_message(scheme, bad_step, describe(trajectory)), step=bad_step, time=time.time_of(bad_step))
        steady_at = compiled.steady_step(host_state)
        if steady_at is not None:
            # Every trajectory is steady: write up to the first steady snapshot and stop, so the
            # file holds no repeats of a frozen state.
            keep = (steady_at - step) // time.save_every
            if keep > 0:
                writer.append({name: values[:, :keep] for name, values in saves_host.items()}, None)
            writer.stop_steady(time.time_of(steady_at))
            return host_state
        step += count * time.save_every
        writer.append(saves_host, {**host_state, "step": np.asarray(step, np.int64)})
        if on_block is not None:
            on_block(writer.n_written, time.n_saves)
    return host_state


def _steady_step(host_state: Mapping[str, np.ndarray]) -> int | None:
    """The step from which every trajectory is steady (the latest of their steady steps), or None."""
    steps = host_state.get("steady_step")
    if steps is None or np.any(np.asarray(steps) == NOT_STEADY):
        return None
    return int(np.max(steps))


def closing_lines(case: Case, state: Mapping[str, np.ndarray]) -> list[str]:
    """The scheme's closing line and the steady-state line of a plain run's final state (row 0)."""
    scheme = scheme_for(case)
    row = {name: values[0] for name, values in state.items()}
    lines = [scheme.report(without_steady(row)), steady_report(scheme, row, case.solver.method)]
    return [line for line in lines if line]
