"""Training: auto-decoder latents, decoder and Psi together, one jitted epoch at a time (optax).

Per batch of training snapshots ``(trajectory i, step t)``, with latents
``alpha_it`` (one per snapshot, Phi-ROM's "latent memory", started at zero):

- ``L_rec``: the normalised error of ``D(alpha_it)`` against the snapshot;
- ``L_dyn``: the normalised error of ``Psi(alpha_it, mu_i)`` against the
  target's latent velocity (:mod:`rom.physics`; the method is the target).

The update follows ``lambda grad L_rec + (1 - lambda) grad L_dyn``, which is
the gradient of ``lambda L_rec + (1 - lambda) L_dyn``; during the warm-up the
decoder, the latents and the decoded fields enter ``L_dyn`` through a gate
whose value is theirs and whose gradient is zero, so ``L_dyn`` then trains
only Psi (Phi-ROM's ``evolve_start``). After it the gate passes gradients
and the physics shapes the decoder and the latents too. Non-finite gradient
entries (a singular QR) are zeroed, as Phi-ROM does.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, Int, PRNGKeyArray

from rom.config import RomConfig
from rom.model import RomModel, decode_grid
from rom.physics import AbstractTarget, Batch, normalised_error

__all__ = ["TrainData", "TrainResult", "batch_losses", "fit", "gate", "make_optimizer"]


class TrainData(eqx.Module):
    """The training snapshots ``[trajectories, steps, fields, *n]``, their parameters ``[trajectories, p]`` and the grid."""

    fields: Float[Array, "trajectories steps fields *n"]
    mu: Float[Array, "trajectories p"]
    points: Float[Array, "n d"]
    shape: tuple[int, ...] = eqx.field(static=True)

    @property
    def n_snapshots(self) -> int:
        return self.fields.shape[0] * self.fields.shape[1]


@dataclass
class TrainResult:
    model: RomModel
    memory: np.ndarray  # [trajectories, steps, k]
    history: dict[str, list[float]]
    wall_s: float
    compile_s: float
    epoch_s: float  # median seconds per epoch after the first


def gate(tree: Any, on: Float[Array, ""]) -> Any:
    """``tree`` with its value, and its gradient scaled by ``on`` (0: none passes, 1: all)."""

    def one(x: Any) -> Any:
        if not eqx.is_inexact_array(x):
            return x
        frozen = jax.lax.stop_gradient(x)
        return frozen + on.astype(x.dtype) * (x - frozen)

    return jax.tree_util.tree_map(one, tree)


def batch_losses(
    params: tuple[RomModel, Array],
    data: TrainData,
    target: AbstractTarget,
    snapshots: Int[Array, " b"],
    key: PRNGKeyArray,
    on: Float[Array, ""],
    config: RomConfig,
) -> tuple[Float[Array, ""], tuple[Float[Array, ""], Float[Array, ""]]]:
    """``lambda L_rec + (1 - lambda) L_dyn`` of the snapshots (flat indices ``trajectory * steps + step``), and both terms."""
    model, memory = params
    steps = data.fields.shape[1]
    trajectory, step = snapshots // steps, snapshots % steps
    alpha = memory[trajectory, step]
    decoded = jax.vmap(lambda a: decode_grid(model.decoder, a, data.points, data.shape))(alpha)
    squared = config.squared_loss
    rec = jnp.mean(jax.vmap(lambda p, t: normalised_error(p, t, squared))(decoded, data.fields[trajectory, step]))
    batch = Batch(
        decoder=gate(model.decoder, on),
        alpha=gate(alpha, on),
        fields=gate(decoded, on),
        mu=data.mu[trajectory],
        memory=gate(memory, on),
        trajectory=trajectory,
        step=step,
        points=data.points,
        key=key,
    )
    velocity = target.velocity(batch, config.gamma)
    psi = jax.vmap(model.dynamics)(batch.alpha, batch.mu)
    dyn = jnp.mean(jax.vmap(lambda p, v: normalised_error(p, v, squared))(psi, velocity))
    lam = jnp.asarray(config.loss_lambda, rec.dtype)
    return lam * rec + (1 - lam) * dyn, (rec, dyn)


def make_optimizer(config: RomConfig, steps_per_epoch: int) -> optax.GradientTransformation:
    """AdamW with a staircase exponential decay every ``decay_epochs`` epochs (Phi-ROM's schedule)."""
    if config.decay_rate >= 1.0:
        # optax reads end_value as an upper bound when the rate does not decay.
        return optax.adamw(config.learning_rate, weight_decay=config.weight_decay)
    schedule = optax.exponential_decay(
        init_value=config.learning_rate,
        transition_steps=config.decay_epochs * steps_per_epoch,
        decay_rate=config.decay_rate,
        staircase=True,
        end_value=config.final_learning_rate,
    )
    return optax.adamw(schedule, weight_decay=config.weight_decay)


def _finite(tree: Any) -> Any:
    return jax.tree_util.tree_map(lambda g: jnp.where(jnp.isfinite(g), g, jnp.zeros_like(g)) if eqx.is_inexact_array(g) else g, tree)


def _epoch_function(config: RomConfig, optimizer: optax.GradientTransformation, n_snapshots: int) -> Callable[..., Any]:
    batch = min(config.batch, n_snapshots)
    n_batches = math.ceil(n_snapshots / batch)

    @eqx.filter_jit
    def epoch(model: RomModel, memory: Array, opt_state: Any, data: TrainData, target: AbstractTarget, key: PRNGKeyArray, on: Array) -> Any:
        order_key, points_key = jax.random.split(key)
        order = jax.random.permutation(order_key, n_snapshots)
        # The last batch is filled up with the first snapshots of the shuffled order.
        order = jnp.concatenate([order, order[: n_batches * batch - n_snapshots]]).reshape(n_batches, batch)
        keys = jax.random.split(points_key, n_batches)

        def step(carry: Any, xs: Any) -> Any:
            model, memory, opt_state = carry
            snapshots, k = xs
            (_, terms), grads = eqx.filter_value_and_grad(batch_losses, has_aux=True)(
                (model, memory), data, target, snapshots, k, on, config
            )
            grads = _finite(grads)
            updates, opt_state = optimizer.update(grads, opt_state, eqx.filter((model, memory), eqx.is_inexact_array))
            model, memory = eqx.apply_updates((model, memory), updates)
            return (model, memory, opt_state), jnp.stack(terms)

        (model, memory, opt_state), terms = jax.lax.scan(step, (model, memory, opt_state), (order, keys))
        return model, memory, opt_state, jnp.mean(terms, axis=0)

    return epoch


def fit(
    model: RomModel,
    data: TrainData,
    target: AbstractTarget,
    config: RomConfig,
    key: PRNGKeyArray,
    *,
    epochs: int | None = None,
    on_epoch: Callable[[int, float, float], None] | None = None,
) -> TrainResult:
    """Train ``model`` and the latents of ``data``'s snapshots for ``epochs`` (default ``config.epochs``)."""
    epochs = config.epochs if epochs is None else epochs
    dtype = data.fields.dtype
    memory = jnp.zeros((data.fields.shape[0], data.fields.shape[1], config.latent_dim), dtype)
    batch = min(config.batch, data.n_snapshots)
    optimizer = make_optimizer(config, math.ceil(data.n_snapshots / batch))
    opt_state = optimizer.init(eqx.filter((model, memory), eqx.is_inexact_array))
    epoch_fn = _epoch_function(config, optimizer, data.n_snapshots)
    history: dict[str, list[float]] = {"rec": [], "dyn": []}
    durations = []
    start = time.perf_counter()
    for epoch in range(epochs):
        tick = time.perf_counter()
        on = jnp.asarray(0.0 if epoch < config.warmup_epochs else 1.0, dtype)
        model, memory, opt_state, terms = epoch_fn(model, memory, opt_state, data, target, jax.random.fold_in(key, epoch), on)
        rec, dyn = (float(v) for v in np.asarray(terms))
        durations.append(time.perf_counter() - tick)
        history["rec"].append(rec)
        history["dyn"].append(dyn)
        if on_epoch is not None:
            on_epoch(epoch, rec, dyn)
    wall = time.perf_counter() - start
    per_epoch = float(np.median(durations[1:])) if len(durations) > 1 else durations[0]
    return TrainResult(
        model=model,
        memory=np.asarray(memory),
        history=history,
        wall_s=wall,
        compile_s=max(0.0, durations[0] - per_epoch),
        epoch_s=per_epoch,
    )
