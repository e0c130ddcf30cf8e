"""Time loops: ``lax.scan`` of a stepper inside one ``jit``, saved every k steps.

The state stays in Fourier space for the whole loop; only saved snapshots are
transformed back. Each save interval is a checkpointed block, so reverse-mode
gradients store one state per saved snapshot and recompute the steps between
them: memory grows with the number of saves, not of steps.

Non-finite values (NaN, or a blow-up overflowing to inf) are detected at
every step; the first bad step is returned so that the caller can report it.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Complex, Float, Int

from phys.case import Case
from phys.compile import Params, Static, compile_case, grid_coordinates
from solvers.backend import NO_BAD_STEP
from solvers.etdrk import ETDRK
from solvers.spectral import linear_symbol, spectral_nonlinear, spectral_outputs, to_fourier, to_physical

__all__ = ["advance", "make_stepper", "rollout", "NO_BAD_STEP", "SPECTRAL"]


def make_stepper(static: Static, pde) -> ETDRK:
    """The ETDRK stepper of the case, coefficients computed from ``pde``'s linear part."""
    complex_dtype = jnp.result_type(jnp.dtype(static.dtype), jnp.complex64)
    linear = pde.linear()
    symbols = jnp.stack([linear_symbol(static, linear.get(field, {}), complex_dtype) for field in static.fields])
    return ETDRK(symbols, static.dt, static.order, spectral_nonlinear(static, pde), static.contour_points)


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
        return {"u_hat": to_fourier(static, params.u0)}

    def snapshot(self, static: Static, params: Params, state: dict[str, Array]) -> dict[str, Array]:
        return spectral_outputs(static, params.pde, state["u_hat"])

    def advance(
        self, static: Static, params: Params, state: dict[str, Array], first_step: Int[Array, ""], n_saves: int
    ) -> tuple[dict[str, Array], dict[str, Array], Int[Array, ""]]:
        u_hat, saves, bad = advance(static, params, state["u_hat"], first_step, n_saves, outputs=True)
        return {"u_hat": u_hat}, saves, bad


SPECTRAL = _Spectral()
