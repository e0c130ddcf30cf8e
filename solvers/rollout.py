"""Time loops: ``lax.scan`` of a stepper inside one ``jit``, saved every k steps.

The state stays in Fourier space for the whole loop; only saved snapshots are
transformed back. Each save interval is a checkpointed block, so reverse-mode
gradients store one state per saved snapshot and recompute the steps between
them: memory grows with the number of saves, not of steps.

Non-finite values (NaN, or a blow-up overflowing to inf) are detected at
every step; the first bad step is returned so that the caller can report it.

Adaptive step (``static.cfl`` set, :func:`advance_adaptive`): save times stay
fixed, and each save interval is split into ``m`` equal substeps, the fewest
for which ``dt * max_x sum_i |a_i| / dx_i <= cfl`` at the interval's start
(``a`` the PDE's ``advection_velocity``), but never fewer than ``save_every``
(``time.dt`` is the largest step allowed) nor more than
``save_every * MAX_REFINEMENT``. The ETDRK coefficients for ``save_dt / m``
are computed inside ``jit`` once per interval, by series rather than
contour integrals (about half a step's cost: :func:`make_stepper`), so
``m`` may be any integer and no step is smaller than the CFL number asks
for (a ladder ``dt / 2^k`` would waste up to half the steps). "Steps" keep their meaning for the drivers: the global count
advances by ``save_every`` per interval whatever ``m`` was, and a failed
substep ``k`` of ``m`` is reported as the nominal step
``ceil(k * save_every / m)`` of the interval, whose end time is at or at most
one ``dt`` after the failing substep's. The state carries the total number of
substeps taken (``"substeps"``). The substeps run in equinox's checkpointed
while loop: reverse-mode gradients are exact through the steps (``m`` is
piecewise constant in the state, so it contributes none), and the loop costs
``m`` steps, not its bound; forward mode (``jvp``) is not supported.
"""

from __future__ import annotations

import functools
from typing import Any

import equinox.internal as eqxi
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Complex, Float, Int

from phys.case import Case
from phys.compile import Params, Static, compile_case, grid_coordinates
from solvers.backend import NO_BAD_STEP
from solvers.etdrk import ETDRK
from solvers.spectral import (
    linear_symbol,
    spectral_derivatives,
    spectral_nonlinear,
    spectral_outputs,
    to_fourier,
    to_physical,
)

__all__ = [
    "advance",
    "advance_adaptive",
    "cfl_rate",
    "choose_substeps",
    "make_stepper",
    "rollout",
    "MAX_REFINEMENT",
    "NO_BAD_STEP",
    "SPECTRAL",
]

# An adaptive run never steps below ``time.dt / MAX_REFINEMENT``: a flow that
# asks for more (a blow-up under way) runs past its CFL number and fails
# rather than grinding on. It bounds the substep loop, and so the checkpoints
# reverse mode keeps (about sqrt(2 * save_every * MAX_REFINEMENT) states).
MAX_REFINEMENT = 1024


def make_stepper(static: Static, pde, dt: float | Array | None = None) -> ETDRK:
    """The ETDRK stepper of the case, coefficients computed from ``pde``'s linear part.

    With ``dt`` (may be traced; an adaptive run rebuilds its stepper once per
    save interval inside ``jit``) the phi functions are summed as series
    (:func:`solvers.etdrk.phi_functions_series`): the contour mean costs some
    40-70 ETDRK4 steps of 2D NS, the series about half a step (float32,
    measured on CPU at 128^2 and 256^2). Without, ``static.dt`` and the contour mean.
    """
    complex_dtype = jnp.result_type(jnp.dtype(static.dtype), jnp.complex64)
    linear = pde.linear()
    symbols = jnp.stack([linear_symbol(static, linear.get(field, {}), complex_dtype) for field in static.fields])
    if dt is None:
        return ETDRK(symbols, static.dt, static.order, spectral_nonlinear(static, pde), static.contour_points)
    return ETDRK(symbols, dt, static.order, spectral_nonlinear(static, pde), series=True)


def cfl_rate(static: Static, pde, u_hat: Complex[Array, "fields *modes"]) -> Float[Array, ""]:
    """``max_x sum_i |a_i(x)| / dx_i`` for the PDE's ``advection_velocity`` ``a``: ``dt`` times it is the CFL number."""
    velocity = pde.advection_velocity(spectral_derivatives(static, u_hat))
    spacing = [length / size for length, size in zip(static.length, static.n)]
    return jnp.max(sum(jnp.abs(a) / h for a, h in zip(velocity, spacing)))


def _max_substeps(static: Static) -> int:
    # The nominal step of substep k is ceil(k * save_every / m) in int32:
    # k * save_every < 2**31 (``phys.case`` caps save_every at 46340).
    return max(static.save_every, min(static.save_every * MAX_REFINEMENT, (2**31 - 1) // static.save_every))


def choose_substeps(static: Static, pde, u_hat: Complex[Array, "fields *modes"]) -> Int[Array, ""]:
    """Substeps ``m`` of the save interval starting at ``u_hat``: the fewest with ``(save_dt / m) * rate <= cfl``.

    At least ``save_every`` (so ``dt <= time.dt``) and at most
    ``save_every * MAX_REFINEMENT``; ``save_every`` when the state is not
    finite (the failure is already reported by the step that made it).
    """
    save_dt = static.dt * static.save_every
    rate = cfl_rate(static, pde, u_hat)
    need = jnp.ceil(save_dt * rate / static.cfl)
    # Clip while still a float: a huge (or inf) rate must not overflow the int cast.
    m = jnp.clip(need, static.save_every, _max_substeps(static))
    return jnp.where(jnp.isfinite(rate), m, static.save_every).astype(jnp.int32)


def _finite(u_hat: Array) -> Array:
    return jnp.isfinite(jnp.sum(jnp.abs(u_hat) ** 2))


@functools.partial(jax.jit, static_argnames=("static", "n_saves", "outputs"))
def advance(
    static: Static,
    params: Params,
    u_hat: Complex[Array, "fields *modes"],
    first_step: Int[Array, ""],
    n_saves: int,
    outputs: bool = False,
) -> tuple[Complex[Array, "fields *modes"], Any, Int[Array, ""]]:
    """Advance ``n_saves`` save intervals from step ``first_step``.

    Returns the final Fourier state, the ``n_saves`` snapshots after each
    interval and the first step (global count, 1-based: the step that
    produced it) whose result was not finite, or ``NO_BAD_STEP``. Snapshots
    are the state fields ``[n_saves, fields, *n]``, or with ``outputs`` the
    PDE's output fields, ``{name: [n_saves, ...]}``.
    """
    if static.cfl is not None:
        u_hat, saves, bad, _ = advance_adaptive(static, params, u_hat, first_step, n_saves, outputs)
        return u_hat, saves, bad
    stepper = make_stepper(static, params.pde)

    def one_step(carry, _):
        u, step, bad = carry
        u = stepper(u)
        step = step + 1
        bad = jnp.where((bad == NO_BAD_STEP) & ~_finite(u), step, bad)
        return (u, step, bad), None

    @jax.checkpoint
    def one_interval(carry, _):
        carry, _ = jax.lax.scan(one_step, carry, None, length=static.save_every)
        if outputs:
            return carry, spectral_outputs(static, params.pde, carry[0])
        return carry, to_physical(static, carry[0])

    start = (u_hat, jnp.asarray(first_step, jnp.int32), jnp.asarray(NO_BAD_STEP, jnp.int32))
    (u_hat, _, bad), saves = jax.lax.scan(one_interval, start, None, length=n_saves)
    return u_hat, saves, bad


@functools.partial(jax.jit, static_argnames=("static", "n_saves", "outputs"))
def advance_adaptive(
    static: Static,
    params: Params,
    u_hat: Complex[Array, "fields *modes"],
    first_step: Int[Array, ""],
    n_saves: int,
    outputs: bool = False,
) -> tuple[Complex[Array, "fields *modes"], Any, Int[Array, ""], Int[Array, "n_saves"]]:
    """:func:`advance` with a CFL-adaptive step (see the module docstring); also returns ``m`` per interval.

    ``first_step`` and the bad step count nominal steps of ``static.dt``
    (``save_every`` per interval), as for a fixed step.
    """
    if static.cfl is None:
        raise ValueError("advance_adaptive needs a case with solver.cfl set")
    save_dt = static.dt * static.save_every
    real_dtype = jnp.dtype(static.dtype)
    max_substeps = _max_substeps(static)

    @jax.checkpoint
    def one_interval(carry, _):
        u, start, bad = carry
        m = choose_substeps(static, params.pde, u)
        stepper = make_stepper(static, params.pde, jnp.asarray(save_dt, real_dtype) / m.astype(real_dtype))

        def substep(inner):
            u, k, bad = inner
            u = stepper(u)
            k = k + 1
            nominal = start + (k * static.save_every + m - 1) // m  # ceil(k * save_every / m)
            bad = jnp.where((bad == NO_BAD_STEP) & ~_finite(u), nominal, bad)
            return u, k, bad

        u, _, bad = eqxi.while_loop(
            lambda inner: inner[1] < m, substep, (u, jnp.zeros_like(m), bad), max_steps=max_substeps, kind="checkpointed"
        )
        save = spectral_outputs(static, params.pde, u) if outputs else to_physical(static, u)
        return (u, start + static.save_every, bad), (save, m)

    start = (u_hat, jnp.asarray(first_step, jnp.int32), jnp.asarray(NO_BAD_STEP, jnp.int32))
    (u_hat, _, bad), (saves, substeps) = jax.lax.scan(one_interval, start, None, length=n_saves)
    return u_hat, saves, bad, substeps


def rollout(static: Static, params: Params) -> tuple[Float[Array, "n_saves fields *n"], Int[Array, ""]]:
    """The whole trajectory ``[n_saves, fields, *n]`` (initial state first) and the first bad step.

    Pure and differentiable; ``vmap`` it over ``params`` for ensembles.
    """
    u0_hat = to_fourier(static, params.u0)
    _, saves, bad = advance(static, params, u0_hat, jnp.asarray(0, jnp.int32), static.n_saves - 1)
    return jnp.concatenate([params.u0[None], saves.astype(params.u0.dtype)]), bad


class _Spectral:
    """The ``etdrk`` back-end (:class:`solvers.backend.Backend`): Fourier state, ETDRK steps."""

    def compile(self, case: Case) -> tuple[Static, Params]:
        return compile_case(case)

    def outputs(self, case: Case) -> dict[str, int]:
        from phys.pdes import load

        return load(case.pde.name).output_tensor_orders()

    def coords(self, case: Case) -> tuple[np.ndarray, ...]:
        return grid_coordinates(case)

    def init(self, static: Static, params: Params) -> dict[str, Array]:
        if static.cfl is not None:  # an adaptive run also counts the substeps it took
            return {"u_hat": to_fourier(static, params.u0), "substeps": jnp.zeros((), jnp.int32)}
        return {"u_hat": to_fourier(static, params.u0)}

    def snapshot(self, static: Static, params: Params, state: dict[str, Array]) -> dict[str, Array]:
        return spectral_outputs(static, params.pde, state["u_hat"])

    def advance(
        self, static: Static, params: Params, state: dict[str, Array], first_step: Int[Array, ""], n_saves: int
    ) -> tuple[dict[str, Array], dict[str, Array], Int[Array, ""]]:
        if static.cfl is not None:
            u_hat, saves, bad, substeps = advance_adaptive(static, params, state["u_hat"], first_step, n_saves, True)
            return {"u_hat": u_hat, "substeps": state["substeps"] + jnp.sum(substeps)}, saves, bad
        u_hat, saves, bad = advance(static, params, state["u_hat"], first_step, n_saves, outputs=True)
        return {"u_hat": u_hat}, saves, bad

    def report(self, static: Static, params: Params, state: dict[str, Array]) -> str | None:
        """An adaptive run's closing line: substeps taken and their mean dt; None for a fixed step."""
        if static.cfl is None:
            return None
        taken = int(np.sum(np.asarray(state["substeps"])))
        span = static.dt * static.n_steps
        mean = f"mean dt {span / taken:.4g}, " if taken else ""
        return (
            f"adaptive step (cfl {static.cfl:g}): {taken} steps, {mean}"
            f"{static.n_steps} at the largest dt {static.dt:g}"
        )


SPECTRAL = _Spectral()
