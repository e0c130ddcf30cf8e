"""Networks for PINNs: MLP, modified MLP, Fourier and periodic embeddings.

Every network maps one space-time point ``z = (t, x_1, ..., x_d)`` to the
vector of field values at that point; batches are ``jax.vmap``. The pieces:

- :class:`Dense`: a Glorot-initialised linear layer, optionally with random
  weight factorization ``W = diag(exp(s)) V`` (Wang et al. 2022, "Random
  weight factorization improves the training of continuous neural
  representations"): ``s`` starts at ``N(mu, sigma)`` and ``V = W0 / exp(s)``,
  so the initial map equals the Glorot one and only the parametrisation differs.
- :class:`FourierFeatures`: ``[cos(B z), sin(B z)]`` with a fixed Gaussian ``B``
  (Tancik et al. 2020); ``B`` is not trained (stop-gradient).
- :class:`PeriodicEmbedding`: ``cos(2 pi k x / L), sin(2 pi k x / L)`` for the
  periodic axes, so the network is exactly periodic with period ``L`` whatever
  its weights (Dong & Ni 2021); other coordinates pass through.
- :class:`MLP` and :class:`ModifiedMLP` (the gated architecture of Wang,
  Teng & Perdikaris 2021, "Understanding and mitigating gradient pathologies",
  eq. 43: two encoders ``U, V`` and ``h <- z * U + (1 - z) * V`` per layer).
"""

from __future__ import annotations

import math
from typing import Callable, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

__all__ = [
    "ACTIVATIONS",
    "Dense",
    "FourierFeatures",
    "PeriodicEmbedding",
    "MLP",
    "ModifiedMLP",
    "glorot_normal",
    "make_network",
]

Activation = Literal["tanh", "sin", "gelu"]
ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "tanh": jnp.tanh,
    "sin": jnp.sin,
    "gelu": jax.nn.gelu,
}


def glorot_normal(key: PRNGKeyArray, fan_in: int, fan_out: int, dtype: jnp.dtype) -> Float[Array, "out in"]:
    """Glorot (Xavier) normal: variance ``2 / (fan_in + fan_out)`` (Glorot & Bengio 2010)."""
    std = math.sqrt(2.0 / (fan_in + fan_out))
    return std * jax.random.normal(key, (fan_out, fan_in), dtype)


class Dense(eqx.Module):
    """``y = W x + b`` with Glorot ``W`` and zero ``b``; optionally ``W = diag(exp(s)) V``."""

    v: Float[Array, "out in"]
    b: Float[Array, " out"]
    s: Float[Array, " out"] | None

    def __init__(
        self,
        key: PRNGKeyArray,
        fan_in: int,
        fan_out: int,
        *,
        factorize: tuple[float, float] | None = None,
        dtype: jnp.dtype = jnp.float32,
    ):
        key_w, key_s = jax.random.split(key)
        w = glorot_normal(key_w, fan_in, fan_out, dtype)
        self.b = jnp.zeros((fan_out,), dtype)
        if factorize is None:
            self.v, self.s = w, None
        else:
            mu, sigma = factorize
            self.s = mu + sigma * jax.random.normal(key_s, (fan_out,), dtype)
            self.v = w / jnp.exp(self.s)[:, None]

    @property
    def weight(self) -> Float[Array, "out in"]:
        return self.v if self.s is None else jnp.exp(self.s)[:, None] * self.v

    def __call__(self, x: Float[Array, " in"]) -> Float[Array, " out"]:
        return self.weight @ x + self.b


class FourierFeatures(eqx.Module):
    """``[cos(B z), sin(B z)]`` with ``B ~ N(0, scale^2)``, fixed (not trained)."""

    matrix: Float[Array, "m d"]

    def __init__(self, key: PRNGKeyArray, in_size: int, n_features: int, scale: float, dtype: jnp.dtype = jnp.float32):
        self.matrix = scale * jax.random.normal(key, (n_features, in_size), dtype)

    @property
    def out_size(self) -> int:
        return 2 * self.matrix.shape[0]

    def __call__(self, z: Float[Array, " d"]) -> Float[Array, " 2m"]:
        projected = jax.lax.stop_gradient(self.matrix) @ z
        return jnp.concatenate([jnp.cos(projected), jnp.sin(projected)])


class PeriodicEmbedding(eqx.Module):
    """Replace each periodic coordinate ``x`` by ``cos(2 pi k x / L), sin(2 pi k x / L)``, k = 1..K.

    ``periods[i]`` is the period of input ``i`` or ``None`` (passed through).
    Every later layer sees only these features, so the network is periodic
    exactly, in value and in every derivative.
    """

    periods: tuple[float | None, ...] = eqx.field(static=True)
    n_modes: int = eqx.field(static=True)

    @property
    def out_size(self) -> int:
        return sum(1 if p is None else 2 * self.n_modes for p in self.periods)

    def __call__(self, z: Float[Array, " d"]) -> Float[Array, " e"]:
        parts = []
        for i, period in enumerate(self.periods):
            if period is None:
                parts.append(z[i : i + 1])
            else:
                phase = (2 * math.pi / period) * jnp.arange(1, self.n_modes + 1, dtype=z.dtype) * z[i]
                parts.extend([jnp.cos(phase), jnp.sin(phase)])
        return jnp.concatenate(parts)


class _Embedding(eqx.Module):
    """Input scaling, periodic embedding, then optional Fourier features."""

    shift: Float[Array, " d"]
    scale: Float[Array, " d"]
    periodic: PeriodicEmbedding
    fourier: FourierFeatures | None

    @property
    def out_size(self) -> int:
        return self.fourier.out_size if self.fourier is not None else self.periodic.out_size

    def __call__(self, z: Float[Array, " d"]) -> Float[Array, " e"]:
        # Periodic features see the raw coordinate (their period is physical);
        # the others are mapped to about [-1, 1] so tanh is not saturated.
        periodic = np.array([p is not None for p in self.periodic.periods])
        # The box is a fixed property of the problem, not a trainable parameter.
        shift, scale = jax.lax.stop_gradient(self.shift), jax.lax.stop_gradient(self.scale)
        features = self.periodic(jnp.where(periodic, z, (z - shift) / scale))
        return self.fourier(features) if self.fourier is not None else features


def _embedding(
    key: PRNGKeyArray,
    lower: tuple[float, ...],
    upper: tuple[float, ...],
    periods: tuple[float | None, ...],
    n_modes: int,
    fourier: tuple[int, float] | None,
    dtype: jnp.dtype,
) -> _Embedding:
    lo, hi = jnp.asarray(lower, dtype), jnp.asarray(upper, dtype)
    periodic = PeriodicEmbedding(periods=periods, n_modes=n_modes)
    features = None
    if fourier is not None:
        n_features, scale = fourier
        features = FourierFeatures(key, periodic.out_size, n_features, scale, dtype)
    return _Embedding(shift=(lo + hi) / 2, scale=(hi - lo) / 2, periodic=periodic, fourier=features)


class MLP(eqx.Module):
    """Embedding, ``depth`` hidden layers of ``width``, linear output."""

    embedding: _Embedding
    layers: tuple[Dense, ...]
    activation: Activation = eqx.field(static=True)

    def __call__(self, z: Float[Array, " d"]) -> Float[Array, " fields"]:
        act = ACTIVATIONS[self.activation]
        h = self.embedding(z)
        for layer in self.layers[:-1]:
            h = act(layer(h))
        return self.layers[-1](h)


class ModifiedMLP(eqx.Module):
    """Gated MLP: ``U = act(W_u e)``, ``V = act(W_v e)``, each layer ``h <- z U + (1 - z) V``."""

    embedding: _Embedding
    encoder_u: Dense
    encoder_v: Dense
    layers: tuple[Dense, ...]
    activation: Activation = eqx.field(static=True)

    def __call__(self, z: Float[Array, " d"]) -> Float[Array, " fields"]:
        act = ACTIVATIONS[self.activation]
        e = self.embedding(z)
        u, v = act(self.encoder_u(e)), act(self.encoder_v(e))
        h = e
        for layer in self.layers[:-1]:
            gate = act(layer(h))
            h = gate * u + (1 - gate) * v
        return self.layers[-1](h)


def make_network(
    key: PRNGKeyArray,
    *,
    lower: tuple[float, ...],
    upper: tuple[float, ...],
    n_out: int,
    periods: tuple[float | None, ...] | None = None,
    architecture: Literal["mlp", "modified_mlp"] = "mlp",
    width: int = 64,
    depth: int = 4,
    activation: Activation = "tanh",
    n_modes: int = 1,
    fourier: tuple[int, float] | None = None,
    factorize: tuple[float, float] | None = None,
    dtype: jnp.dtype = jnp.float32,
) -> MLP | ModifiedMLP:
    """A network on the box ``[lower, upper]`` (inputs ``(t, x, ...)``), ``n_out`` outputs.

    ``periods``: per input, its period (exact periodic embedding) or ``None``;
    ``fourier``: ``(n_features, scale)`` random Fourier features after that;
    ``factorize``: ``(mu, sigma)`` of the random weight factorization.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation: must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    periods = periods if periods is not None else (None,) * len(lower)
    key_embed, key_u, key_v, *keys = jax.random.split(key, depth + 4)
    embedding = _embedding(key_embed, lower, upper, periods, n_modes, fourier, dtype)
    sizes = [embedding.out_size] + [width] * depth + [n_out]
    if architecture == "modified_mlp":
        # The gates mix U and V elementwise with h, so every hidden size is width
        # and the first layer reads the embedding.
        layers = tuple(
            Dense(k, sizes[i], sizes[i + 1], factorize=factorize, dtype=dtype) for i, k in enumerate(keys[: depth + 1])
        )
        encoder_u = Dense(key_u, embedding.out_size, width, factorize=factorize, dtype=dtype)
        encoder_v = Dense(key_v, embedding.out_size, width, factorize=factorize, dtype=dtype)
        return ModifiedMLP(embedding, encoder_u, encoder_v, layers, activation)
    if architecture != "mlp":
        raise ValueError(f"architecture: must be 'mlp' or 'modified_mlp', got {architecture!r}")
    layers = tuple(Dense(k, sizes[i], sizes[i + 1], factorize=factorize, dtype=dtype) for i, k in enumerate(keys[: depth + 1]))
    return MLP(embedding, layers, activation)
