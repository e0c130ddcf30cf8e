"""Inference: a new trajectory's initial latent from its first snapshot, then Psi integrated and decoded anywhere.

The auto-decoder has no encoder: the initial latent is found by gradient
descent (Adam, cosine-decayed step) on the normalised squared error of the
decoded field at the observed points, which may be the solver's grid or any
sparse or irregular set. It starts from the training latent (at the first
step) whose field is closest to the observation, and keeps the best iterate.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float

from rom.model import RomModel, SineDecoder, decode_grid, rollout

__all__ = ["forecast", "initial_latent", "predict"]


def _misfit(decoder: SineDecoder, alpha: Array, points: Array, values: Array) -> Array:
    decoded = jax.vmap(decoder, in_axes=(0, None))(points, alpha)
    return jnp.sum((decoded - values) ** 2) / jnp.sum(values**2)


@eqx.filter_jit
def initial_latent(
    decoder: SineDecoder,
    points: Float[Array, "m d"],
    values: Float[Array, "m fields"],
    candidates: Float[Array, "c k"],
    steps: int,
    learning_rate: float,
) -> tuple[Float[Array, " k"], Float[Array, ""]]:
    """The latent whose decoded field best matches ``values`` at ``points``, and its normalised squared misfit."""
    misfits = jax.vmap(lambda a: _misfit(decoder, a, points, values))(candidates)
    start = candidates[jnp.argmin(misfits)]
    optimizer = optax.adam(optax.cosine_decay_schedule(learning_rate, max(1, steps), alpha=1e-3))

    def step(carry: tuple, _: None) -> tuple:
        alpha, state, best, best_misfit = carry
        misfit, grad = jax.value_and_grad(lambda a: _misfit(decoder, a, points, values))(alpha)
        better = misfit < best_misfit
        best = jnp.where(better, alpha, best)
        best_misfit = jnp.where(better, misfit, best_misfit)
        updates, state = optimizer.update(grad, state, alpha)
        return (optax.apply_updates(alpha, updates), state, best, best_misfit), None

    first = _misfit(decoder, start, points, values)
    (alpha, _, best, best_misfit), _ = jax.lax.scan(step, (start, optimizer.init(start), start, first), None, length=steps)
    last = _misfit(decoder, alpha, points, values)
    return jnp.where(last < best_misfit, alpha, best), jnp.minimum(last, best_misfit)


@eqx.filter_jit
def forecast(
    model: RomModel,
    alpha0: Float[Array, " k"],
    mu: Float[Array, " p"],
    times: Float[Array, " T"],
    points: Float[Array, "n d"],
    shape: tuple[int, ...],
) -> tuple[Float[Array, "T fields *n"], Float[Array, "T k"]]:
    """The decoded fields at ``times`` on the grid ``points`` (shaped ``shape``) from ``alpha0``, and the latents."""
    latents = rollout(model.dynamics, alpha0, mu, times)
    return jax.vmap(lambda a: decode_grid(model.decoder, a, points, shape))(latents), latents


@eqx.filter_jit
def predict(
    model: RomModel,
    first: Float[Array, "b fields *n"],
    mu: Float[Array, "b p"],
    times: Float[Array, " T"],
    points: Float[Array, "n d"],
    candidates: Float[Array, "c k"],
    steps: int,
    learning_rate: float,
) -> tuple[Float[Array, "b T fields *n"], Float[Array, " b"]]:
    """The forecast of every trajectory from its first snapshot on the grid, and each initial misfit (one compiled call)."""
    shape = tuple(first.shape[2:])

    def one(snapshot: Array, mu_b: Array) -> tuple[Array, Array]:
        values = snapshot.reshape(snapshot.shape[0], -1).T  # [points, fields]
        alpha0, misfit = initial_latent(model.decoder, points, values, candidates, steps, learning_rate)
        fields, _ = forecast(model, alpha0, mu_b, times, points, shape)
        return fields, misfit

    return jax.vmap(one)(first, mu)
