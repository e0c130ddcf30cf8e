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

:meth:`MLP.jet` and :meth:`ModifiedMLP.jet` give the value and the
derivatives along chosen input axes (orders up to 4) in one Taylor-mode pass
at a point; :mod:`pinns.residual` uses them for the PDE residual.
"""

from __future__ import annotations

import abc
import math
from typing import Callable, Literal, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

__all__ = [
    "AbstractNetwork",
    "PointFunction",
    "as_network",
    "on_grid",
    "ACTIVATIONS",
    "Jet",
    "MAX_JET_ORDER",
    "input_jet",
    "Dense",
    "FourierFeatures",
    "PeriodicEmbedding",
    "MLP",
    "ModifiedMLP",
    "glorot_normal",
    "make_network",
]

class AbstractNetwork(eqx.Module):
    """A model of the fields: one space-time point ``z = (t, x_1, ...)`` to the outputs there.

    The contract every model of :mod:`pinns` fulfils, networks and output
    transforms alike (:mod:`pinns.constraints`, :mod:`pinns.lagrangian`):

    - ``__call__(z)``: the outputs at one point (batches are ``jax.vmap``);
    - :meth:`jet`: the value and pure derivatives along the input axes by Taylor
      mode, or ``None`` (the default) when the model has no such pass; the
      residual then takes nested forward mode (:mod:`pinns.residual`);
    - :meth:`predict`: the fields on a grid of times and coordinates, as the
      solver saves them (a Lagrangian model maps its characteristics back);
    - :meth:`warm_start`: this model with the trained weights of ``previous``
      (a model of the same kind trained on the window before), its own input
      box and fixed data kept.
    """

    @abc.abstractmethod
    def __call__(self, z: Float[Array, " d"]) -> Float[Array, " outputs"]:
        raise NotImplementedError

    def jet(self, z: Float[Array, " d"], orders: tuple[int, ...]) -> "Jet | None":
        """Value and derivatives along input axis ``i`` up to ``orders[i]``, or ``None``: no Taylor mode."""
        return None

    def predict(self, times: np.ndarray, coords: Sequence[np.ndarray], batch: int = 65536) -> np.ndarray:
        """The fields on the grid ``times x coords``: ``[T, *n, fields]`` (host)."""
        return on_grid(self, times, coords, batch)

    def warm_start(self, previous: "AbstractNetwork") -> "AbstractNetwork":
        """This model with ``previous``'s weights; by default all of them (a model with no fixed data)."""
        return previous


class PointFunction(AbstractNetwork):
    """Any callable ``z -> outputs`` as a model (no Taylor mode: the residual takes nested forward mode)."""

    function: Callable[[Array], Array]

    def __call__(self, z: Float[Array, " d"]) -> Float[Array, " outputs"]:
        return self.function(z)


def as_network(function: Callable[[Array], Array]) -> AbstractNetwork:
    """``function`` as an :class:`AbstractNetwork` (itself if it is one)."""
    return function if isinstance(function, AbstractNetwork) else PointFunction(function)


@eqx.filter_jit
def _evaluate(model: AbstractNetwork, points: Float[Array, "n d"]) -> Float[Array, "n outputs"]:
    return jax.vmap(model)(points)


def on_grid(model: AbstractNetwork, times: np.ndarray, coords: Sequence[np.ndarray], batch: int = 65536) -> np.ndarray:
    """``model`` at every point of ``times x coords``: ``[T, *n, outputs]`` (host), in batches of ``batch`` points."""
    dtype = jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array))[0].dtype
    axes = [np.asarray(times), *map(np.asarray, coords)]
    mesh = np.meshgrid(*axes, indexing="ij")
    points = np.stack([m.reshape(-1) for m in mesh], axis=1).astype(dtype)
    out = np.concatenate([np.asarray(_evaluate(model, jnp.asarray(points[i : i + batch]))) for i in range(0, len(points), batch)])
    return out.reshape(*mesh[0].shape, -1)


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

    def jet(self, x: "Jet") -> "Jet":
        return _dense_jet(self.weight, self.b, x)


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

    def jet(self, x: "Jet") -> "Jet":
        projected = _dense_jet(jax.lax.stop_gradient(self.matrix), None, x)
        return _concatenate_jet([elementwise_jet("cos", projected), elementwise_jet("sin", projected)])


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

    def jet(self, x: "Jet") -> "Jet":
        parts = []
        for i, period in enumerate(self.periods):
            if period is None:
                parts.append(x.map(lambda v, i=i: v[..., i : i + 1]))
            else:
                wavenumbers = (2 * math.pi / period) * jnp.arange(1, self.n_modes + 1, dtype=x.value.dtype)
                phase = x.map(lambda v, i=i: wavenumbers * v[..., i : i + 1])
                parts.extend([elementwise_jet("cos", phase), elementwise_jet("sin", phase)])
        return _concatenate_jet(parts)


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

    def jet(self, x: "Jet") -> "Jet":
        periodic = np.array([p is not None for p in self.periodic.periods])
        shift, scale = jax.lax.stop_gradient(self.shift), jax.lax.stop_gradient(self.scale)
        scaled = x.map(lambda v: jnp.where(periodic, v, v / scale))
        scaled = Jet(jnp.where(periodic, x.value, (x.value - shift) / scale), scaled.directions)
        features = self.periodic.jet(scaled)
        return self.fourier.jet(features) if self.fourier is not None else features


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


def _keep_box(network: "MLP | ModifiedMLP", previous: "MLP | ModifiedMLP") -> "MLP | ModifiedMLP":
    # ``previous``'s weights in ``network``, whose input box (a new window) is kept.
    box = (network.embedding.shift, network.embedding.scale)
    return eqx.tree_at(lambda m: (m.embedding.shift, m.embedding.scale), previous, box)


class MLP(AbstractNetwork):
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

    def jet(self, z: Float[Array, " d"], orders: tuple[int, ...]) -> "Jet":
        """The outputs' derivatives at ``z``: along input axis ``i`` up to order ``orders[i]`` (at most 4)."""
        h = self.embedding.jet(input_jet(z, orders))
        for layer in self.layers[:-1]:
            h = elementwise_jet(self.activation, layer.jet(h))
        return self.layers[-1].jet(h)

    def warm_start(self, previous: "MLP") -> "MLP":
        return _keep_box(self, previous)


class ModifiedMLP(AbstractNetwork):
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

    def jet(self, z: Float[Array, " d"], orders: tuple[int, ...]) -> "Jet":
        """As :meth:`MLP.jet`."""
        e = self.embedding.jet(input_jet(z, orders))
        u = elementwise_jet(self.activation, self.encoder_u.jet(e))
        v = elementwise_jet(self.activation, self.encoder_v.jet(e))
        difference = _add_jet(u, v, -1.0)
        h = e
        for layer in self.layers[:-1]:
            # gate u + (1 - gate) v = v + gate (u - v): one product of jets, not two.
            h = _add_jet(v, _mul_jet(elementwise_jet(self.activation, layer.jet(h)), difference))
        return self.layers[-1].jet(h)

    def warm_start(self, previous: "ModifiedMLP") -> "ModifiedMLP":
        return _keep_box(self, previous)


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


# -- Taylor mode for these networks ------------------------------------------------
#
# The PINN residual needs, at each point, the value, d/dt and the pure
# derivatives along each space axis up to some order. Nested ``jax.jvp``
# gets them for any function but repeats work (a tower of order k carries
# 2^k streams, of which k + 1 are distinct, and u_t needs a jvp of its own).
# For the networks of this module the derivatives are propagated directly:
# a :class:`Jet` holds the value and, per input direction, the derivatives of
# order 1..k along it; a linear layer maps each stream by its matrix (the
# bias goes to the value only), an elementwise activation uses Faa di Bruno's
# formula with its derivatives written in closed form (tanh' = 1 - tanh^2, ...).


class Jet:
    """Value and, per direction, the derivatives of order ``1..k`` of a vector along it.

    ``None`` stands for a derivative known to be zero (the input's second
    derivatives, say), so no work is done on it. Only ever built while
    tracing; not a pytree.
    """

    def __init__(self, value: Array, directions: tuple[tuple[Array | None, ...], ...]):
        self.value, self.directions = value, directions

    def map(self, fn: Callable[[Array], Array]) -> "Jet":
        """A linear map applied to every stream (it must send 0 to 0: no bias)."""
        return Jet(fn(self.value), tuple(tuple(None if d is None else fn(d) for d in ds) for ds in self.directions))


def input_jet(z: Float[Array, " d"], orders: tuple[int, ...]) -> Jet:
    """The jet of the identity at the point ``z``: direction ``i`` is input axis ``i`` to order ``orders[i]``."""
    # Under jax.vmap (one point) these unit vectors stay unbatched, so the
    # first layer maps each once, not once per point.
    eye = jnp.eye(z.shape[-1], dtype=z.dtype)
    return Jet(z, tuple((jnp.broadcast_to(eye[i], z.shape),) + (None,) * (k - 1) if k else () for i, k in enumerate(orders)))


def _dense_jet(weight: Array, bias: Array | None, x: Jet) -> Jet:
    # One matmul per stream. Stacking the streams into one wider matmul
    # measured slower here (the copies in and out cost more than the wider
    # matmul saves at width 20): see pinns/residual.py.
    value = x.value @ weight.T
    return Jet(
        value if bias is None else value + bias,
        tuple(tuple(None if d is None else d @ weight.T for d in ds) for ds in x.directions),
    )


def _sum(*terms: Array | None) -> Array | None:
    present = [t for t in terms if t is not None]
    if not present:
        return None
    total = present[0]
    for t in present[1:]:
        total = total + t
    return total


def _prod(*factors: Array | float | None) -> Array | None:
    if any(f is None for f in factors):
        return None
    out = factors[0]
    for f in factors[1:]:
        out = out * f
    return out


def _compose(f: tuple[Array, ...], a: tuple[Array | None, ...]) -> tuple[Array | None, ...]:
    """Derivatives of ``g(a(s))`` along ``s`` (orders 1..4) from ``f = (g'(a), g''(a), ...)`` (Faa di Bruno)."""
    k = len(a)
    a1, a2, a3, a4 = (a + (None,) * 4)[:4]
    out = [_prod(f[0], a1)]
    if k >= 2:
        out.append(_sum(_prod(f[0], a2), _prod(f[1], a1, a1)))
    if k >= 3:
        out.append(_sum(_prod(f[0], a3), _prod(3.0, f[1], a1, a2), _prod(f[2], a1, a1, a1)))
    if k >= 4:
        out.append(_sum(
            _prod(f[0], a4),
            _prod(f[1], _sum(_prod(4.0, a1, a3), _prod(3.0, a2, a2))),
            _prod(6.0, f[2], a1, a1, a2),
            _prod(f[3], a1, a1, a1, a1),
        ))
    return tuple(out)


MAX_JET_ORDER = 4  # orders _compose writes out; higher ones take the generic path


def _tanh_derivatives(a: Array, k: int) -> tuple[Array, tuple[Array, ...]]:
    y = jnp.tanh(a)
    d1 = 1 - y * y
    ds = [d1]
    if k >= 2:
        ds.append(-2 * y * d1)
    if k >= 3:
        ds.append(-2 * (d1 * d1 + y * ds[1]))
    if k >= 4:
        ds.append(-2 * (3 * d1 * ds[1] + y * ds[2]))
    return y, tuple(ds)


def _sin_derivatives(a: Array, k: int) -> tuple[Array, tuple[Array, ...]]:
    s, c = jnp.sin(a), jnp.cos(a)
    return s, (c, -s, -c, s)[:k]


def _cos_derivatives(a: Array, k: int) -> tuple[Array, tuple[Array, ...]]:
    s, c = jnp.sin(a), jnp.cos(a)
    return c, (-s, -c, s, c)[:k]


def _autodiff_derivatives(fn: Callable[[Array], Array]) -> Callable[[Array, int], tuple[Array, tuple[Array, ...]]]:
    """``fn`` and its first ``k`` derivatives, elementwise, by nested forward mode (any elementwise ``fn``)."""

    def at(a: Array, k: int) -> tuple[Array, tuple[Array, ...]]:
        out, g = [], fn
        for _ in range(k):
            g = (lambda h: lambda x: jax.jvp(h, (x,), (jnp.ones_like(x),))[1])(g)
            out.append(g(a))
        return fn(a), tuple(out)

    return at


_ELEMENTWISE = {"tanh": _tanh_derivatives, "sin": _sin_derivatives, "cos": _cos_derivatives}


def elementwise_jet(name: str, x: Jet) -> Jet:
    """``ACTIVATIONS[name]`` (or ``cos``) applied to a jet, elementwise."""
    k = max((len(ds) for ds in x.directions), default=0)
    derivatives = _ELEMENTWISE.get(name) or _autodiff_derivatives(ACTIVATIONS[name])

    # Rematerialised: the gradient recomputes the activation's derivatives
    # from the inputs instead of storing every product, which saved 8% of
    # the Burgers residual's value-and-gradient (pinns/residual.py).
    @jax.checkpoint
    def apply(value: Array, directions: tuple) -> tuple[Array, tuple]:
        value, f = derivatives(value, k)
        return value, tuple(_compose(f, ds) if ds else () for ds in directions)

    return Jet(*apply(x.value, x.directions))


def _mul_jet(x: Jet, y: Jet) -> Jet:
    """``x * y`` elementwise (Leibniz rule)."""
    directions = []
    for dx, dy in zip(x.directions, y.directions):
        fx, fy = (x.value,) + dx, (y.value,) + dy
        directions.append(tuple(
            _sum(*(_prod(float(math.comb(k, j)), fx[j], fy[k - j]) for j in range(k + 1))) for k in range(1, len(dx) + 1)
        ))
    return Jet(x.value * y.value, tuple(directions))


def _add_jet(x: Jet, y: Jet, sign: float = 1.0) -> Jet:
    """``x + sign * y``."""
    scaled = (lambda d: d) if sign == 1.0 else (lambda d: sign * d)
    return Jet(
        x.value + scaled(y.value),
        tuple(tuple(_sum(a, None if b is None else scaled(b)) for a, b in zip(dx, dy)) for dx, dy in zip(x.directions, y.directions)),
    )


def _concatenate_jet(parts: list[Jet]) -> Jet:
    directions = []
    for i, ds in enumerate(parts[0].directions):
        streams = []
        for k in range(len(ds)):
            column = [p.directions[i][k] for p in parts]
            if all(c is None for c in column):
                streams.append(None)
            else:
                filled = [jnp.zeros_like(p.value) if c is None else jnp.broadcast_to(c, p.value.shape) for c, p in zip(column, parts)]
                streams.append(jnp.concatenate(filled, -1))
        directions.append(tuple(streams))
    return Jet(jnp.concatenate([p.value for p in parts], -1), tuple(directions))
