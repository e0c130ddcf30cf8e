"""Solve a case, or an ensemble of it: in memory or to an HDF5 file, through the one block driver.

- :func:`solve`: one trajectory in memory, as :class:`phys.fields.Fields`.
- :func:`run_case`: one trajectory to HDF5, block by block, resumable.
- :func:`solve_ensemble`: many trajectories in memory, ``{name: [B, T, ...]}``.
- :func:`run_ensemble`: many trajectories (or a shard of them) to HDF5, resumable.

All four are :func:`solvers.driver.drive` with a writer: a plain run is an
ensemble of one (computed without a batch axis).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import jax
import numpy as np
from jax.sharding import Mesh

from phys.case import Case, CaseError
from phys.errors import ResumeError, SolveError
from phys.fields import AXIS_NAMES, Fields
from phys.io.writer import MemoryWriter
from solvers.driver import closing_lines, drive, plan, programs
from solvers.ensemble import Ensemble, default_mesh, idle_processes, layout, shard_range

__all__ = ["run_case", "run_ensemble", "solve", "solve_ensemble"]


def _report(case: Case, state: dict[str, np.ndarray]) -> None:
    for line in closing_lines(case, state):
        print(line, file=sys.stderr)


def solve(case: Case) -> Fields:
    """Solve ``case`` in memory; raise :class:`phys.SolveError` on NaN or blow-up."""
    compiled = programs(plan(case, Ensemble(), [0], single=True))
    scheme = compiled.scheme
    writer = MemoryWriter()
    # One block: the whole run is one compiled call.
    state = drive(compiled, writer, saves_per_block=max(1, scheme.time.n_saves - 1), on_block=None)
    _report(case, state)
    result = writer.result()
    series = scheme.output_scalars()
    return Fields(
        time=scheme.time.save_times()[: writer.n_written],
        coords={AXIS_NAMES[i]: c for i, c in enumerate(scheme.coords())},
        values={name: values for name, values in result.items() if name not in series},
        tensor_order=scheme.output_orders(),
        case=case,
        scalars={name: result[name] for name in series},
        attrs={} if writer.steady_time is None else {"stopped_steady": True, "steady_time": writer.steady_time},
    )


def run_case(
    case: Case,
    out: str | Path,
    *,
    resume: bool = False,
    saves_per_block: int | None = None,
    on_block: Callable[[int, int], None] | None = None,
) -> Path:
    """Solve ``case`` and write it to ``out`` (HDF5), block by block.

    The file is written at ``out.tmp`` and renamed when complete. With
    ``resume``, a partial ``out.tmp`` of the same case is continued from the
    solver state saved with its last block; block boundaries do not depend on
    where a run stopped, so a resumed file equals an uninterrupted one bit for
    bit. ``on_block(written, total)`` is called after each block (progress).
    """
    from phys.io import TrajectoryWriter

    out = Path(out)
    compiled = programs(plan(case, Ensemble(), [0], single=True))  # bad input fails here, before any file
    scheme = compiled.scheme
    writer = TrajectoryWriter.resume(out, case) if resume else None
    if writer is not None and writer.complete:
        return out
    if writer is None:
        _starting_over(out, resume)
        writer = TrajectoryWriter.create(
            out, case, tensor_order=scheme.output_orders(), n_trajectories=1, times=scheme.time.save_times(), coords=scheme.coords(),
            series=scheme.output_scalars(),
        )
    state = _drive_keeping(writer, lambda: drive(compiled, writer, saves_per_block=saves_per_block, on_block=on_block))
    _report(case, state)
    return writer.finalize()


def _starting_over(out: Path, resume: bool) -> None:
    # Job scripts pass --resume on every (re)submission, so a first run is not an error; it is said, though.
    if resume:
        print(f"phys: --resume: no partial output at {out}.tmp; starting from the beginning", file=sys.stderr)


def _drive_keeping(writer: Any, run: Callable[[], Any]) -> Any:
    """``run()``; a blow-up's message names the ``.tmp`` file that keeps the snapshots before it."""
    try:
        return run()
    except SolveError as error:
        raise SolveError(
            f"{error}; the {writer.n_written} snapshots before it are kept in {writer.tmp_path}",
            step=error.step, time=error.time,
        ) from None


def _describe(case: Case, ensemble: Ensemble) -> Callable[[int], str]:
    seeds, values = ensemble.seeds(case), ensemble.values(case)

    def describe(trajectory: int) -> str:
        swept = "".join(f", {name} = {v[trajectory]:g}" for name, v in values.items())
        return f"trajectory {trajectory} (seed {int(seeds[trajectory])}{swept})"

    return describe


def solve_ensemble(
    case: Case, ensemble: Ensemble, *, chunk: int | None = None, mesh: Mesh | None = None
) -> dict[str, np.ndarray]:
    """Every trajectory of ``ensemble`` in memory, ``{name: [B, T, ...]}`` (single process).

    Raises :class:`phys.SolveError` naming the first trajectory that went non-finite.
    """
    ensemble.check(case)
    writer = MemoryWriter()
    run = plan(case, ensemble, np.arange(ensemble.size), chunk=chunk, mesh=mesh)
    drive(programs(run), writer, saves_per_block=None, on_block=None, describe=_describe(case, ensemble))
    return writer.result()  # the scheme's series (output_scalars) among them, [B, T] each


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
    like :func:`run_case`: the state of every trajectory is stored with each
    block. Every process must hold at least one trajectory (``CaseError`` on
    ``batch`` otherwise).
    """
    from phys.io import TrajectoryWriter
    from phys.io.merge import write_ensemble_attrs

    ensemble.check(case)
    indices = np.asarray(shard_range(ensemble.size, *shard) if shard is not None else range(ensemble.size))
    mesh = mesh or default_mesh()
    run = plan(case, ensemble, indices, chunk=chunk, mesh=mesh)
    _, local = layout(indices, run.chunk, mesh)
    # Every process takes part in every compiled call, so each must hold a
    # trajectory: one with none would have no file to resume its step from.
    idle = idle_processes(len(indices), run.chunk, mesh)
    if idle:
        raise CaseError(
            "batch",
            f"{len(indices)} trajectories leave process(es) {', '.join(map(str, idle))} without any "
            f"(chunks of {run.chunk}, at least 2 rows on each of {mesh.devices.size} devices); use a larger ensemble",
        )
    compiled = programs(run)  # bad input fails here, before any file
    scheme = compiled.scheme
    seeds = ensemble.seeds(case)[local]
    values = {name: v[local] for name, v in ensemble.values(case).items()}
    scalars: dict[str, Any] = {name: np.asarray(value, dtype=np.float64) for name, value in case.pde.params.items()}
    scalars.update(values)
    out = Path(out)
    writer, problem = _resumed_ensemble(out, case, seeds, values, local, ensemble.size) if resume else (None, None)
    if resume and jax.process_count() > 1:
        writer = _agree_on_resume(writer, problem)
    elif problem is not None:
        raise problem
    if writer is not None and writer.complete:
        return out
    if writer is None:
        writer = TrajectoryWriter.create(
            out, case, tensor_order=scheme.output_orders(), n_trajectories=len(local), times=scheme.time.save_times(),
            coords=scheme.coords(), scalars=scalars, seeds=seeds, series=scheme.output_scalars(),
        )
        write_ensemble_attrs(writer.tmp_path, local, ensemble.size)
    _drive_keeping(writer, lambda: drive(compiled, writer, saves_per_block=saves_per_block, on_block=on_block,
                                         describe=_describe(case, ensemble)))
    return writer.finalize()


def _resumed_ensemble(
    out: Path, case: Case, seeds: np.ndarray, values: dict[str, np.ndarray], local: np.ndarray, size: int
) -> tuple[Any, ResumeError | None]:
    """The writer continuing this process's file (None: start over) or why it cannot be continued.

    The refusal is returned, not raised, so that under ``jax.distributed``
    every process learns of it before any of them stops.
    """
    from phys.io import TrajectoryWriter

    try:
        writer = TrajectoryWriter.resume(out, case)
    except ResumeError as error:
        return None, error
    other = _other_ensemble(writer, seeds, values, local, size) if writer is not None else None
    if writer is not None and other is not None:
        if writer.complete or writer.n_written > 0:
            return None, ResumeError(
                f"{out}{'' if writer.complete else '.tmp'} holds another ensemble of this case ({other}): "
                "delete it or drop --resume"
            )
        writer = None  # killed before its first snapshot: nothing to keep
    if writer is None:
        _starting_over(out, other is None)
    return writer, None


def _agree_on_resume(writer: Any, problem: ResumeError | None) -> Any:
    """The writer every process of a ``jax.distributed`` run continues from the same snapshot count.

    Every compiled call needs all processes, so they must run the same
    blocks. Killed together, they can still be one block apart: one wrote a
    block that another had computed but not yet written (or had even
    renamed its complete file). All continue from the smallest count; a
    process ahead rewinds to its previous state (kept in the other slot,
    :meth:`phys.io.TrajectoryWriter.rewind`). Every process decides from
    the same gathered table, so all refuse or all continue: none is left
    waiting for the others in a collective.
    """
    from jax.experimental import multihost_utils

    count = 0 if writer is None else writer.n_written
    earlier = [c for c in (writer.state_counts() if writer is not None else ()) if c < count]
    row = np.asarray([problem is not None, count, earlier[-1] if earlier else -1], np.int64)
    table = np.asarray(multihost_utils.process_allgather(row)).reshape(-1, 3)
    refused = np.flatnonzero(table[:, 0])
    if len(refused):
        if problem is not None:
            raise problem
        raise ResumeError(f"process(es) {', '.join(map(str, refused))} cannot resume their files (see their messages)")
    target = int(table[:, 1].min())
    behind = [p for p, (_, n, previous) in enumerate(table) if n > target and previous != target]
    if behind:
        raise ResumeError(
            "the processes' files are more than one block apart (snapshots written: "
            + ", ".join(f"process {p}: {n}" for p, n in enumerate(table[:, 1])) + "); run again without --resume"
        )
    if target == 0:
        if writer is not None:
            print("phys: --resume: another process has nothing to continue; every process starts from the beginning",
                  file=sys.stderr)
        return None
    if writer.n_written > target:
        writer.rewind(target)
    return writer


def _other_ensemble(writer: Any, seeds: np.ndarray, values: dict[str, np.ndarray], local: np.ndarray, size: int) -> str | None:
    """What differs between the ensemble in ``writer``'s file and this one (None: the same)."""
    import h5py

    from phys.io.merge import ENSEMBLE_INDEX, ENSEMBLE_SIZE

    path = writer.path if writer.complete else writer.tmp_path
    with h5py.File(path, "r") as file:
        attrs = file.attrs
        if ENSEMBLE_INDEX not in attrs:
            return "the file is a plain run, not an ensemble"
        stored_size = int(attrs.get(ENSEMBLE_SIZE, -1))
        if stored_size != size:
            return f"the ensemble has {stored_size} trajectories in the file, {size} here (--batch or --sweep)"
        index = np.asarray(attrs[ENSEMBLE_INDEX]).reshape(-1)
        if not np.array_equal(index, local):
            return (f"the file holds trajectories {_span(index)}, this process {_span(local)} "
                    "(--shard, --chunk or the process count)")
        if not np.array_equal(file["scalars/seed"][()], seeds):
            return "the seeds differ (--seed)"
        for name, v in values.items():
            if name not in file["scalars"] or not np.array_equal(file["scalars"][name][()], v.astype(np.float32)):
                return f"the swept values of {name} differ (--sweep)"
    return None


def _span(index: np.ndarray) -> str:
    return f"{int(index[0])}-{int(index[-1])}" if len(index) else "none"
