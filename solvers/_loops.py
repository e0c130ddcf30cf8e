"""A loop of a traced number of steps that reverse-mode AD can go through, with checkpoints.

``jax.lax.while_loop`` runs a traced number of steps but has no reverse-mode
derivative; a ``scan`` over the largest number of steps would cost that many
steps every time. :func:`checkpointed_loop` runs ``n`` steps of ``step(u)``
forward in a ``while_loop``, keeping the state every ``segment`` steps (a
fixed buffer of ``ceil(max_steps / segment)`` states), and differentiates by
replaying one segment at a time backwards: recompute it from its checkpoint,
then pull the cotangent through it with ``jax.vjp``. With ``segment`` near
``sqrt(max_steps)`` that stores about ``2 sqrt(max_steps)`` states and costs
one extra forward pass (Griewank & Walther 2008, ch. 12, two-level
checkpointing). The forward pass costs ``n`` steps, not ``max_steps``.

``step`` is an equinox Module (a pytree): its array leaves (an ETDRK
stepper's coefficients, the PDE's parameters inside its nonlinear term)
receive gradients. Forward mode (``jax.jvp``) is not supported, as for any
custom VJP.
"""

from __future__ import annotations

import math
from typing import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Int

__all__ = ["checkpointed_loop", "segment_length"]


def segment_length(max_steps: int) -> int:
    """Steps between checkpoints: ``ceil(sqrt(max_steps))`` balances storage and replay."""
    return max(1, math.isqrt(max_steps - 1) + 1) if max_steps > 1 else 1


def _run(step: Callable[[Array], Array], u: Array, n: Int[Array, ""], finite: Callable[[Array], Array]) -> tuple[Array, Array]:
    def body(carry: tuple[Array, Array, Array]) -> tuple[Array, Array, Array]:
        k, u, bad = carry
        u = step(u)
        k = k + 1
        bad = jnp.where((bad < 0) & ~finite(u), k, bad)
        return k, u, bad

    start = (jnp.zeros((), jnp.int32), u, jnp.asarray(-1, jnp.int32))
    _, u, bad = jax.lax.while_loop(lambda carry: carry[0] < n, body, start)
    return u, bad


@eqx.filter_custom_vjp
def checkpointed_loop(
    vjp_arg: tuple[Callable[[Array], Array], Array],
    n: Int[Array, ""],
    max_steps: int,
    finite: Callable[[Array], Array],
) -> tuple[Array, Int[Array, ""]]:
    """``n`` steps (``n <= max_steps``, traced) of ``step`` from ``u``, ``vjp_arg = (step, u)``.

    Returns the final state and the first step (1-based) whose result was not
    ``finite``, or -1.
    """
    step, u = vjp_arg
    return _run(step, u, n, finite)


@checkpointed_loop.def_fwd
def _forward(perturbed, vjp_arg, n, max_steps, finite):  # type: ignore[no-untyped-def]
    step, u = vjp_arg
    segment = segment_length(max_steps)
    buffer = jnp.zeros((-(-max_steps // segment), *u.shape), u.dtype)

    def body(carry: tuple[Array, Array, Array, Array]) -> tuple[Array, Array, Array, Array]:
        k, u, bad, buffer = carry
        buffer = jax.lax.cond(k % segment == 0, lambda b: b.at[k // segment].set(u), lambda b: b, buffer)
        u = step(u)
        k = k + 1
        bad = jnp.where((bad < 0) & ~finite(u), k, bad)
        return k, u, bad, buffer

    start = (jnp.zeros((), jnp.int32), u, jnp.asarray(-1, jnp.int32), buffer)
    _, u, bad, buffer = jax.lax.while_loop(lambda carry: carry[0] < n, body, start)
    return (u, bad), buffer


@checkpointed_loop.def_bwd
def _backward(buffer, grad_obj, perturbed, vjp_arg, n, max_steps, finite):  # type: ignore[no-untyped-def]
    step, u0 = vjp_arg
    segment = segment_length(max_steps)
    g_u, _ = grad_obj
    g_u = jnp.zeros_like(u0) if g_u is None else g_u
    params, static = eqx.partition(step, eqx.is_inexact_array)
    zero_params = jax.tree.map(jnp.zeros_like, params)

    def replay(params: object, start: Array, length: Array) -> Array:
        # ``segment`` steps, those past ``length`` left out: one shape for every segment.
        stepper = eqx.combine(params, static)

        def one(u: Array, i: Array) -> tuple[Array, None]:
            return jax.lax.cond(i < length, lambda v: stepper(v), lambda v: v, u), None

        return jax.lax.scan(one, start, jnp.arange(segment))[0]

    def body(carry: tuple[Array, Array, object]) -> tuple[Array, Array, object]:
        index, g_u, g_params = carry
        length = jnp.minimum(segment, n - index * segment)
        _, pull = jax.vjp(lambda p, s: replay(p, s, length), params, buffer[index])
        g_p, g_u = pull(g_u)
        return index - 1, g_u, jax.tree.map(jnp.add, g_params, g_p)

    last = (n + segment - 1) // segment - 1
    _, g_u, g_params = jax.lax.while_loop(lambda carry: carry[0] >= 0, body, (last, g_u, zero_params))
    return (g_params, g_u)
