"""The reduced-order model: a conditional neural field decoder and latent dynamics, integrated with diffrax.

- :class:`SineDecoder`: ``D(x; alpha)``, a sine MLP on ``(x, alpha)`` (x
  scaled to [-1, 1], outputs scaled back by the training fields' mean and
  spread), as Phi-ROM's 1D decoder. Trained as an auto-decoder: no encoder,
  one latent per training snapshot (:mod:`rom.train` holds them).
- :class:`LatentDynamics`: ``alpha' = Psi(alpha, mu)``, a swish MLP on
  ``alpha`` and a linear embedding of the (standardised) PDE parameters
  ``mu``, as Phi-ROM's "hyper-concat" network.
- :func:`rollout`: ``alpha(t)`` from ``alpha(t0)`` by Tsit5 with a fixed step
  (the saved interval), :func:`decode_grid`: the fields on a grid.

The normalisation constants are static floats, not leaves: the optimiser
(and AdamW's weight decay) never touches them.
"""

from __future__ import annotations

import math
from typing import Sequence

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

__all__ = ["LatentDynamics", "RomModel", "SineDecoder", "decode_grid", "grid_points", "make_model", "rollout", "sine"]


# 2 pi split in two (Cody & Waite): n * _TWO_PI_HIGH is exact in float32 for |n| < 2^15.
_TWO_PI_HIGH = 6.28125
_TWO_PI_LOW = 2 * math.pi - 6.28125


def sine(x: Array) -> Array:
    """``sin(x)``; in float32 by range reduction and an odd polynomial, which XLA vectorises.

    XLA's CPU ``sin`` is not vectorised: on 204,800 x 32 float32 values (one
    hidden layer of Phi-ROM's Burgers batch) it took 130 ms, a matmul of the
    same layer 18 ms and this polynomial 5 ms (2 shared cores), with a largest
    error of 4e-7 against ``jnp.sin`` for |x| < 15. ``x`` is reduced to
    [-pi/2, pi/2] (``sin(pi - r) = sin(r)``) and the Taylor series is cut
    after x^11 (truncation error 6e-8 there). Its derivative is the same
    polynomial at ``x + pi/2`` (a ``custom_jvp``: the backward pass stores
    one array per layer, not the polynomial's intermediates). Float64 uses
    ``jnp.sin``.
    """
    if x.dtype != jnp.float32:
        return jnp.sin(x)
    return _sine32(x)


def _sine_polynomial(x: Array) -> Array:
    n = jnp.round(x * (1 / (2 * math.pi)))
    r = (x - n * _TWO_PI_HIGH) - n * _TWO_PI_LOW
    half = math.pi / 2
    r = jnp.where(r > half, math.pi - r, jnp.where(r < -half, -math.pi - r, r))
    r2 = r * r
    return r * (1 + r2 * (-1 / 6 + r2 * (1 / 120 + r2 * (-1 / 5040 + r2 * (1 / 362880 + r2 * (-1 / 39916800))))))


@jax.custom_jvp
def _sine32(x: Array) -> Array:
    return _sine_polynomial(x)


@_sine32.defjvp
def _sine32_jvp(primals: tuple[Array], tangents: tuple[Array]) -> tuple[Array, Array]:
    (x,), (dx,) = primals, tangents
    return _sine32(x), _sine32(x + jnp.asarray(math.pi / 2, x.dtype)) * dx


def _linear(key: PRNGKeyArray, fan_in: int, fan_out: int, dtype: jnp.dtype) -> eqx.nn.Linear:
    # equinox's default: uniform in +-1/sqrt(fan_in), as Phi-ROM's decoder uses (no SIREN rescaling).
    return eqx.nn.Linear(fan_in, fan_out, key=key, dtype=dtype)


class SineDecoder(eqx.Module):
    """``D(x; alpha)``: fields at a point ``x`` of the snapshot whose latent is ``alpha``."""

    layers: tuple[eqx.nn.Linear, ...]
    x_low: tuple[float, ...] = eqx.field(static=True)
    x_high: tuple[float, ...] = eqx.field(static=True)
    field_mean: tuple[float, ...] = eqx.field(static=True)
    field_scale: tuple[float, ...] = eqx.field(static=True)

    def __call__(self, x: Float[Array, " d"], alpha: Float[Array, " k"]) -> Float[Array, " fields"]:
        dtype = alpha.dtype
        low, high = jnp.asarray(self.x_low, dtype), jnp.asarray(self.x_high, dtype)
        z = jnp.concatenate([2 * (x.astype(dtype) - low) / (high - low) - 1, alpha])
        for layer in self.layers[:-1]:
            z = sine(layer(z))
        out = self.layers[-1](z)
        return out * jnp.asarray(self.field_scale, dtype) + jnp.asarray(self.field_mean, dtype)


class LatentDynamics(eqx.Module):
    """``Psi(alpha, mu)``: the latent velocity; ``mu`` standardised by the training set's mean and spread."""

    embedding: eqx.nn.Linear | None
    layers: tuple[eqx.nn.Linear, ...]
    mu_mean: tuple[float, ...] = eqx.field(static=True)
    mu_scale: tuple[float, ...] = eqx.field(static=True)

    def __call__(self, alpha: Float[Array, " k"], mu: Float[Array, " p"]) -> Float[Array, " k"]:
        z = alpha
        if self.embedding is not None:
            dtype = alpha.dtype
            standard = (mu.astype(dtype) - jnp.asarray(self.mu_mean, dtype)) / jnp.asarray(self.mu_scale, dtype)
            z = jnp.concatenate([alpha, self.embedding(standard)])
        for layer in self.layers[:-1]:
            z = jax.nn.swish(layer(z))
        return self.layers[-1](z)


class RomModel(eqx.Module):
    """The decoder and the latent dynamics (the training latents live beside it, in :mod:`rom.train`)."""

    decoder: SineDecoder
    dynamics: LatentDynamics


def make_model(
    key: PRNGKeyArray,
    *,
    n_dims: int,
    n_fields: int,
    latent_dim: int,
    decoder_width: int,
    decoder_depth: int,
    psi_width: int,
    psi_depth: int,
    x_low: Sequence[float],
    x_high: Sequence[float],
    field_mean: Sequence[float],
    field_scale: Sequence[float],
    mu_mean: Sequence[float],
    mu_scale: Sequence[float],
    dtype: str,
) -> RomModel:
    """A fresh model; ``mu_mean`` empty for a model with no PDE parameters."""
    dt = jnp.dtype(dtype)
    decoder_key, embed_key, psi_key = jax.random.split(key, 3)
    sizes = [n_dims + latent_dim, *([decoder_width] * decoder_depth), n_fields]
    keys = jax.random.split(decoder_key, len(sizes) - 1)
    decoder = SineDecoder(
        layers=tuple(_linear(k, a, b, dt) for k, a, b in zip(keys, sizes[:-1], sizes[1:])),
        x_low=tuple(map(float, x_low)),
        x_high=tuple(map(float, x_high)),
        field_mean=tuple(map(float, field_mean)),
        field_scale=tuple(map(float, field_scale)),
    )
    n_params = len(mu_mean)
    embedding = _linear(embed_key, n_params, latent_dim, dt) if n_params else None
    sizes = [latent_dim * (2 if n_params else 1), *([psi_width] * psi_depth), latent_dim]
    keys = jax.random.split(psi_key, len(sizes) - 1)
    dynamics = LatentDynamics(
        embedding=embedding,
        layers=tuple(_linear(k, a, b, dt) for k, a, b in zip(keys, sizes[:-1], sizes[1:])),
        mu_mean=tuple(map(float, mu_mean)),
        mu_scale=tuple(float(s) if s > 0 else 1.0 for s in mu_scale),
    )
    return RomModel(decoder=decoder, dynamics=dynamics)


def grid_points(coords: Sequence[np.ndarray], dtype: str) -> Float[Array, "points d"]:
    """Every point of the grid ``coords`` (per-axis 1D), the first axis varying slowest."""
    mesh = np.meshgrid(*[np.asarray(c, dtype=np.float64) for c in coords], indexing="ij")
    return jnp.asarray(np.stack([m.ravel() for m in mesh], axis=-1), jnp.dtype(dtype))


def decode_grid(decoder: SineDecoder, alpha: Float[Array, " k"], points: Float[Array, "points d"], shape: tuple[int, ...]) -> Float[Array, "fields *n"]:
    """The fields ``[fields, *n]`` of latent ``alpha`` at the grid ``points`` (of :func:`grid_points`), shaped ``shape``."""
    values = jax.vmap(decoder, in_axes=(0, None))(points, alpha)  # [points, fields]
    return values.T.reshape((values.shape[1], *shape))


def rollout(dynamics: LatentDynamics, alpha0: Float[Array, " k"], mu: Float[Array, " p"], times: Float[Array, " T"]) -> Float[Array, "T k"]:
    """``alpha`` at ``times`` (evenly spaced, the first is alpha0's), by Tsit5 with the step ``times[1] - times[0]``."""
    term = diffrax.ODETerm(lambda t, alpha, args: dynamics(alpha, args))
    n = times.shape[0]
    if n == 1:
        return alpha0[None]
    solution = diffrax.diffeqsolve(
        term,
        diffrax.Tsit5(),
        t0=times[0],
        t1=times[-1],
        dt0=times[1] - times[0],
        y0=alpha0,
        args=mu,
        saveat=diffrax.SaveAt(ts=times),
        stepsize_controller=diffrax.ConstantStepSize(),
        # A fixed step lands on every saved time; rounding may add one.
        max_steps=n + 1 + math.ceil(0.01 * n),
    )
    assert solution.ys is not None
    return solution.ys
