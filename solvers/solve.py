"""Solve a case: in memory (:func:`solve`) or to an HDF5 file in blocks (:func:`run_case`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from phys.case import Case
from phys.compile import Params, Static, compile_case, grid_coordinates
from phys.errors import ResumeError, SolveError
from phys.fields import AXIS_NAMES, Fields
from solvers.rollout import NO_BAD_STEP, advance, rollout
from solvers.spectral import to_fourier

__all__ = ["solve", "run_case", "check_finite", "default_saves_per_block"]

# A block of saves is one compiled call and one write; about this many steps
# per block keeps dispatch and I/O overhead negligible while the progress bar
# and an interrupted run lose little.
_STEPS_PER_BLOCK = 2048


def check_finite(static: Static, bad_step: int) -> None:
    """Raise :class:`SolveError` naming the step and time if the solve went non-finite."""
    if bad_step != NO_BAD_STEP:
        time = static.t0 + bad_step * static.dt
        raise SolveError(
            f"solution became non-finite (NaN or overflow) at step {bad_step} (t = {time:.6g}); "
            f"reduce dt (now {static.dt:g}) or check the case's parameters",
            step=bad_step,
            time=time,
        )


def _fields_from_trajectory(case: Case, static: Static, trajectory: np.ndarray) -> Fields:
    coords = grid_coordinates(case)
    return Fields(
        time=static.save_times(),
        coords={AXIS_NAMES[i]: c for i, c in enumerate(coords)},
        values={name: trajectory[None, :, i] for i, name in enumerate(static.fields)},
        tensor_order={name: 0 for name in static.fields},
        case=case,
    )


def solve(case: Case) -> Fields:
    """Solve ``case`` in memory; raise :class:`SolveError` on NaN or blow-up."""
    static, params = compile_case(case)
    trajectory, bad = rollout(static, params)
    check_finite(static, int(bad))
    return _fields_from_trajectory(case, static, np.asarray(trajectory))


def default_saves_per_block(static: Static) -> int:
    return max(1, min(static.n_saves - 1, math.ceil(_STEPS_PER_BLOCK / static.save_every)))


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
    static, params = compile_case(case)
    writer = TrajectoryWriter.resume(out, case) if resume else None
    if writer is not None and writer.complete:
        return out
    if writer is None:
        writer = TrajectoryWriter.create(
            out,
            case,
            tensor_order={name: 0 for name in static.fields},
            n_trajectories=1,
            times=static.save_times(),
            coords=grid_coordinates(case),
        )
    block = saves_per_block or default_saves_per_block(static)
    if writer.n_written == 0:
        u_hat = to_fourier(static, params.u0)
        _append(writer, static, np.asarray(params.u0)[None], u_hat, 0)
    state = writer.solver_state()
    u_hat, step = jnp.asarray(state["u_hat"]), int(state["step"])
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
        u_hat, saves, bad = advance(static, params, u_hat, jnp.asarray(step, jnp.int32), count)
        bad = int(bad)
        if bad != NO_BAD_STEP:
            good = (bad - step - 1) // static.save_every
            if good > 0:
                _append(writer, static, np.asarray(saves[:good]), None, None)
            check_finite(static, bad)
        step += count * static.save_every
        _append(writer, static, np.asarray(saves), u_hat, step)
        if on_block is not None:
            on_block(writer.n_written, static.n_saves)
    return writer.finalize()


def _append(writer, static: Static, saves: np.ndarray, u_hat: jax.Array | None, step: int | None) -> None:
    """Write snapshots ``[k, fields, *n]`` and, when given, the state that follows them."""
    snapshots = {name: saves[None, :, i] for i, name in enumerate(static.fields)}
    state = None if u_hat is None else {"u_hat": np.asarray(u_hat), "step": np.asarray(step, dtype=np.int64)}
    writer.append(snapshots, state)
