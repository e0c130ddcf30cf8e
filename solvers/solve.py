"""Solve a case: in memory (:func:`solve`) or to an HDF5 file in blocks (:func:`run_case`)."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any, Callable

import jax.numpy as jnp
import numpy as np

from phys.case import Case
from phys.errors import ResumeError, SolveError
from phys.fields import AXIS_NAMES, Fields
from solvers.backend import NO_BAD_STEP, Backend, backend_for

__all__ = ["solve", "run_case", "check_finite", "default_saves_per_block"]

# A block of saves is one compiled call and one write; about this many steps
# per block keeps dispatch and I/O overhead negligible while the progress bar
# and an interrupted run lose little.
_STEPS_PER_BLOCK = 2048


def failure_hint(static: Any) -> str:
    """What to change after a blow-up; a back-end whose "step" is not a fixed time step says so itself."""
    return getattr(static, "failure_hint", None) or f"reduce dt (now {static.dt:g})"


def check_finite(static: Any, bad_step: int) -> None:
    """Raise :class:`SolveError` naming the step and time if the solve went non-finite."""
    if bad_step != NO_BAD_STEP:
        time = static.t0 + bad_step * static.dt
        hint = failure_hint(static)
        raise SolveError(
            f"solution became non-finite (NaN or overflow) at step {bad_step} (t = {time:.6g}); "
            f"{hint} or check the case's parameters",
            step=bad_step,
            time=time,
        )


def _fields(case: Case, backend: Backend, static: Any, trajectory: dict[str, np.ndarray]) -> Fields:
    return Fields(
        time=static.save_times(),
        coords={AXIS_NAMES[i]: c for i, c in enumerate(backend.coords(case))},
        values={name: values[None] for name, values in trajectory.items()},
        tensor_order=backend.outputs(case),
        case=case,
    )


def solve(case: Case) -> Fields:
    """Solve ``case`` in memory; raise :class:`SolveError` on NaN or blow-up."""
    backend = backend_for(case)
    static, params = backend.compile(case)
    state = backend.init(static, params)
    first = backend.snapshot(static, params, state)
    last, saves, bad = backend.advance(static, params, state, jnp.asarray(0, jnp.int32), static.n_saves - 1)
    check_finite(static, int(bad))
    _report(backend, static, params, last)
    trajectory = {
        name: np.concatenate([np.asarray(first[name])[None], np.asarray(saves[name])]) for name in first
    }
    return _fields(case, backend, static, trajectory)


def default_saves_per_block(static: Any) -> int:
    return max(1, min(static.n_saves - 1, math.ceil(_STEPS_PER_BLOCK / static.save_every)))


def run_case(
    case: Case,
    out: str | Path,
    *,
    resume: bool = False,
    saves_per_block: int | None = None,
    on_block: Callable[[int, int], None] | None = None,
    ensemble: Any = None,
    chunk: int | None = None,
    shard: tuple[int, int] | None = None,
) -> Path:
    """Solve ``case`` and write it to ``out`` (HDF5), block by block.

    The file is written at ``out.tmp`` and renamed when complete. With
    ``resume``, a partial ``out.tmp`` of the same case is continued from the
    solver state saved with its last block; block boundaries do not depend on
    where a run stopped, so a resumed file equals an uninterrupted one bit for
    bit. ``on_block(written, total)`` is called after each block (progress).

    With ``ensemble`` (a :class:`solvers.ensemble.Ensemble`) it writes that
    ensemble's trajectories (``chunk`` at a time, its ``shard = (i, N)``
    slice) instead: see :func:`solvers.ensemble.run_ensemble`.
    """
    from phys.io import TrajectoryWriter

    if ensemble is not None:
        from solvers.ensemble import run_ensemble  # imports this module: imported late

        return run_ensemble(
            case, ensemble, out, resume=resume, chunk=chunk, shard=shard,
            saves_per_block=saves_per_block, on_block=on_block,
        )
    out = Path(out)
    backend = backend_for(case)
    static, params = backend.compile(case)
    writer = TrajectoryWriter.resume(out, case) if resume else None
    if writer is not None and writer.complete:
        return out
    if writer is None:
        writer = TrajectoryWriter.create(
            out,
            case,
            tensor_order=backend.outputs(case),
            n_trajectories=1,
            times=static.save_times(),
            coords=backend.coords(case),
        )
    block = saves_per_block or default_saves_per_block(static)
    if writer.n_written == 0:
        state = backend.init(static, params)
        _append(writer, {k: np.asarray(v)[None] for k, v in backend.snapshot(static, params, state).items()}, state, 0)
    stored = writer.solver_state()
    step = int(stored.pop("step"))
    state = {name: jnp.asarray(value) for name, value in stored.items()}
    if step != (writer.n_written - 1) * static.save_every:
        raise ResumeError(
            f"{out}.tmp was left by a failed solve (its solver state is at step {step}, "
            f"its snapshots reach step {(writer.n_written - 1) * static.save_every}) and cannot be resumed; "
            "run again without --resume"
        )
    if on_block is not None:
        on_block(writer.n_written, static.n_saves)
    while writer.n_written < static.n_saves:
        # Blocks start at save 1 + j * block whatever happened before, so a
        # resumed run compiles and runs exactly the same blocks.
        count = min(block - (writer.n_written - 1) % block, static.n_saves - writer.n_written)
        state, saves, bad = backend.advance(static, params, state, jnp.asarray(step, jnp.int32), count)
        saves = {name: np.asarray(values) for name, values in saves.items()}
        bad = int(bad)
        if bad != NO_BAD_STEP:
            good = (bad - step - 1) // static.save_every
            if good > 0:
                _append(writer, {name: values[:good] for name, values in saves.items()}, None, None)
            check_finite(static, bad)
        step += count * static.save_every
        _append(writer, saves, state, step)
        if on_block is not None:
            on_block(writer.n_written, static.n_saves)
    _report(backend, static, params, state)
    return writer.finalize()


def _report(backend: Backend, static: Any, params: Any, state: dict[str, Any]) -> None:
    """A back-end's optional closing line (e.g. a steady residual, ``report(static, params, state)``), on stderr."""
    report = getattr(backend, "report", None)
    line = report(static, params, state) if report is not None else None
    if line:
        print(line, file=sys.stderr)


def _append(writer: Any, saves: dict[str, np.ndarray], state: dict[str, Any] | None, step: int | None) -> None:
    """Write snapshots ``{name: [k, ...]}`` and, when given, the solver state that follows them."""
    snapshots = {name: values[None] for name, values in saves.items()}
    stored = None
    if state is not None:
        stored = {name: np.asarray(value) for name, value in state.items()}
        stored["step"] = np.asarray(step, dtype=np.int64)
    writer.append(snapshots, stored)
