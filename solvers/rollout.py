"""The one time loop: save intervals of any scheme, ``lax.scan`` inside one ``jit``.

:func:`advance` runs ``n_saves`` save intervals of a scheme from a state and
returns the state, the outputs after each interval and the first non-finite
step. Each interval is :meth:`AbstractScheme.advance_interval` (``save_every``
steps, or a scheme's own adaptive interval) inside a checkpointed block, so
reverse-mode gradients store one state per saved snapshot and recompute the
steps between them: memory grows with the number of saves, not of steps.

After the first non-finite step the remaining intervals are skipped (the
state is carried as it is), so a blow-up costs no more work and the reported
step is the first one that failed.

Steady states (``scheme.steady_tol > 0``): after each interval the steady
residual ``max |u(t + save_dt) - u(t)| / save_dt`` of the state fields is
computed (over a whole interval, so that float32 rounding of one step does
not swamp it); once it falls below the tolerance the state is frozen, and
every later snapshot is the steady state. The residual and the step at which
it converged travel with the state (keys :data:`STEADY_KEYS`), so they are
stored with each block and a resumed run continues them.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Int

from solvers.scheme import NO_BAD_STEP, AbstractScheme, State

__all__ = ["NOT_STEADY", "STEADY_KEYS", "advance", "initial_state", "steady_report", "trajectory", "without_steady"]

# The state's entries for steady-state detection (with ``steady_tol > 0``).
STEADY_KEYS = ("steady_residual", "steady_step")
NOT_STEADY = -1


def initial_state(scheme: AbstractScheme, fields: Array) -> State:
    """``scheme.init(fields)`` plus the rollout's own entries (the steady residual, when asked for)."""
    state = scheme.init(fields)
    if scheme.steady_tol > 0:
        dtype = jnp.dtype(scheme.dtype)
        state = {**state, "steady_residual": jnp.asarray(jnp.inf, dtype), "steady_step": jnp.asarray(NOT_STEADY, jnp.int32)}
    return state


def without_steady(state: State) -> State:
    """The scheme's own part of a rollout state."""
    return {k: v for k, v in state.items() if k not in STEADY_KEYS}


def _split(state: State) -> tuple[State, dict[str, Array]]:
    return without_steady(state), {k: v for k, v in state.items() if k in STEADY_KEYS}


def _interval(scheme: AbstractScheme, carry: tuple[State, Array, Array]) -> tuple[State, Array, Array]:
    """One save interval of the loop: march (unless failed or steady), then update the steady residual."""
    state, step, bad = carry
    own, steady = _split(state)
    interval = scheme.time.save_dt

    def march(own: State) -> tuple[State, Array]:
        return scheme.advance_interval(own, step)

    def hold(own: State) -> tuple[State, Array]:
        return own, jnp.asarray(NO_BAD_STEP, jnp.int32)

    frozen = bad != NO_BAD_STEP
    if steady:
        frozen = frozen | (steady["steady_step"] != NOT_STEADY)
    new, new_bad = jax.lax.cond(frozen, hold, march, own)
    bad = jnp.where(bad == NO_BAD_STEP, new_bad, bad)
    step = step + scheme.time.save_every
    if steady:
        change = jnp.max(jnp.abs(scheme.fields(new) - scheme.fields(own))) / interval
        was_steady = steady["steady_step"] != NOT_STEADY
        residual = jnp.where(was_steady, steady["steady_residual"], change.astype(steady["steady_residual"].dtype))
        converged = ~was_steady & (residual < scheme.steady_tol) & (bad == NO_BAD_STEP)
        steady = {"steady_residual": residual, "steady_step": jnp.where(converged, step, steady["steady_step"])}
    return {**new, **steady}, step, bad


@eqx.filter_jit
def advance(
    scheme: AbstractScheme, state: State, first_step: Int[Array, ""], n_saves: int
) -> tuple[State, dict[str, Array], Int[Array, ""]]:
    """Advance ``n_saves`` save intervals from global step ``first_step``.

    Returns the final state, the outputs after each interval (``{name:
    [n_saves, ...]}``) and the first non-finite step (global, 1-based) or
    :data:`~solvers.scheme.NO_BAD_STEP`. Pure, differentiable, and one
    compilation per scheme structure and ``n_saves``.
    """
    scheme = scheme.prepare()

    @jax.checkpoint
    def one_interval(carry: tuple[State, Array, Array], _: None) -> tuple[tuple[State, Array, Array], dict[str, Array]]:
        carry = _interval(scheme, carry)
        own, _ = _split(carry[0])
        return carry, scheme.observe(own)

    start = (state, jnp.asarray(first_step, jnp.int32), jnp.asarray(NO_BAD_STEP, jnp.int32))
    (state, _, bad), saves = jax.lax.scan(one_interval, start, None, length=n_saves)
    return state, saves, bad


def trajectory(scheme: AbstractScheme, fields: Array) -> tuple[dict[str, Array], Int[Array, ""], State]:
    """Every saved output from the initial ``fields`` (``{name: [n_saves, ...]}``), the first bad step, the final state."""
    state = initial_state(scheme, fields)
    first = scheme.prepare().observe(_split(state)[0])
    final, saves, bad = advance(scheme, state, jnp.asarray(0, jnp.int32), scheme.time.n_saves - 1)
    outputs = {name: jnp.concatenate([first[name][None], saves[name].astype(first[name].dtype)]) for name in first}
    return outputs, bad, final


def steady_report(scheme: AbstractScheme, state: dict[str, Any], label: str) -> str | None:
    """One line on the steady residual, when the scheme was asked to march to a steady state."""
    if scheme.steady_tol <= 0 or "steady_step" not in state:
        return None
    residual = float(state["steady_residual"])
    steady = int(state["steady_step"])
    end = scheme.time.time_of(scheme.time.n_steps)
    if steady == NOT_STEADY:
        return (
            f"{label}: not steady by t = {end:g}: residual max|du/dt| over the last save interval = "
            f"{residual:.3g} > steady_tol = {scheme.steady_tol:g}"
        )
    return (
        f"{label}: steady at step {steady} (t = {scheme.time.time_of(steady):g}): residual max|du/dt| "
        f"over a save interval = {residual:.3g} < steady_tol = {scheme.steady_tol:g}"
    )
