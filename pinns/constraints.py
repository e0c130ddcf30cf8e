"""Exact constraints by output transforms, and the model made of time-marching windows.

- :class:`FourierInterpolant`: the trigonometric interpolant of values on a
  periodic grid, a smooth function of the point that equals the values at
  the grid nodes (so autodiff gives its derivatives for the residual).
- :class:`Affine`: ``u = offset(z) + scale(z) N(z)``, the one composition
  rule of exact constraints (its jet: sum and Leibniz product);
  :func:`hard_initial` is ``g(x) + s N(t, x)`` with ``s = (t - t0) / tau``:
  the initial condition ``u(t0, x) = g(x)`` holds exactly, the network ``N``
  only has to learn the change (Lu et al. 2021 and Lagaris et al. 1998).
  The boundary transforms built from the geometry are in :mod:`pinns.flow`.
- :class:`Scaled`: a network's outputs times fixed scales (a characteristic
  speed, say), so the network itself works with values of order one.
- :class:`TimeWindows`: networks trained one after another on consecutive
  time windows (time marching, Wang, Sankaran & Perdikaris 2022, section
  3.3; Mattey & Ghosh 2022), each window starting from the previous one's
  prediction at its first time; evaluated as one model.
"""

from __future__ import annotations

import abc
from typing import Any, Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from typing import Sequence

from pinns.nets import AbstractNetwork, Jet, _add_jet, _mul_jet

__all__ = [
    "AbstractPointField", "Affine", "FourierInterpolant", "InitialValues", "Scaled", "TimeRamp", "TimeWindows",
    "Steady", "function_jet", "hard_initial",
]

class FourierInterpolant(eqx.Module):
    """The trigonometric interpolant of ``values[fields, *n]`` on the periodic box ``origin + [0, length)``.

    ``g(x) = sum_k w_k Re(c_k exp(i k . theta(x)))`` with ``theta = 2 pi (x - origin) / length``
    per axis and ``c = rfftn(values) / N``: the half spectrum of real data,
    ``w_k = 2`` for the modes standing for a conjugate pair and 1 for those
    on the last axis's zero and Nyquist planes. All modes are kept, so the
    shapes depend on the grid alone (a checkpoint skeleton needs no values).
    The coefficients are constants of the problem, never trained (stop-gradient).
    """

    wavenumbers: Float[Array, "modes d"]
    real: Float[Array, "modes fields"]
    imag: Float[Array, "modes fields"]
    origin: tuple[float, ...] = eqx.field(static=True)
    length: tuple[float, ...] = eqx.field(static=True)

    def __init__(self, values: np.ndarray, origin: tuple[float, ...], length: tuple[float, ...], dtype: jnp.dtype = jnp.float32):
        values = np.asarray(values, dtype=np.float64)
        fields, *shape = values.shape
        coefficients = np.fft.rfftn(values, axes=tuple(range(1, values.ndim))) / np.prod(shape)
        frequencies = [np.fft.fftfreq(n, 1.0 / n) for n in shape[:-1]] + [np.fft.rfftfreq(shape[-1], 1.0 / shape[-1])]
        grids = np.meshgrid(*frequencies, indexing="ij")
        k = np.stack([g.reshape(-1) for g in grids], axis=1)
        last = k[:, -1]
        weight = np.where((last == 0) | (2 * last == shape[-1]), 1.0, 2.0)[:, None]
        flat = coefficients.reshape(fields, -1).T * weight  # [modes, fields]
        self.wavenumbers = jnp.asarray(k, dtype)
        self.real = jnp.asarray(flat.real, dtype)
        self.imag = jnp.asarray(flat.imag, dtype)
        self.origin = tuple(float(o) for o in origin)
        self.length = tuple(float(v) for v in length)

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, " fields"]:
        k, a, b = (jax.lax.stop_gradient(v) for v in (self.wavenumbers, self.real, self.imag))
        theta = 2 * jnp.pi * (x - jnp.asarray(self.origin, x.dtype)) / jnp.asarray(self.length, x.dtype)
        phase = k @ theta
        # Re((a + i b) e^{i phase}) = a cos - b sin
        return jnp.cos(phase) @ a - jnp.sin(phase) @ b

    def jet(self, x: Float[Array, " d"], orders: tuple[int, ...]) -> tuple[Array, tuple[tuple[Array, ...], ...]]:
        """The value and, per space axis ``i``, the derivatives of order ``1..orders[i]`` along it, in closed form."""
        k, a, b = (jax.lax.stop_gradient(v) for v in (self.wavenumbers, self.real, self.imag))
        theta = 2 * jnp.pi * (x - jnp.asarray(self.origin, x.dtype)) / jnp.asarray(self.length, x.dtype)
        phase = k @ theta
        cos, sin = jnp.cos(phase), jnp.sin(phase)
        per_axis = []
        for axis, order in enumerate(orders):
            rate = 2 * jnp.pi * k[:, axis] / self.length[axis]  # d phase / d x_axis, per mode
            streams = []
            for m in range(1, order + 1):
                # d^m/dx^m multiplies each mode by (i rate)^m = rate^m (re + i im), i^m = 1, i, -1, -i.
                re, im = ((1, 0), (0, 1), (-1, 0), (0, -1))[m % 4]
                p, q = (re * rate**m)[:, None], (im * rate**m)[:, None]
                streams.append(cos @ (a * p - b * q) - sin @ (a * q + b * p))
            per_axis.append(tuple(streams))
        return cos @ a - sin @ b, tuple(per_axis)


class AbstractPointField(eqx.Module):
    """A fixed smooth function of the point ``z = (t, x, ...)`` that an output transform is made of (never trained).

    :meth:`jet` gives its value and pure derivatives along the input axes;
    the default takes nested forward mode of :meth:`__call__` (these
    functions are cheap next to a network: distances, interpolants, ramps).
    A subclass with a closed form overrides it.
    """

    @abc.abstractmethod
    def __call__(self, z: Float[Array, " d"]) -> Array:
        raise NotImplementedError

    def jet(self, z: Float[Array, " d"], orders: tuple[int, ...]) -> Jet:
        return function_jet(self, z, orders)


def function_jet(fn: Callable[[Array], Array], z: Float[Array, " d"], orders: tuple[int, ...]) -> Jet:
    """The :class:`pinns.nets.Jet` of any function of the point, by nested forward mode (one chain per axis)."""
    directions = []
    for axis, order in enumerate(orders):
        unit = jnp.zeros_like(z).at[axis].set(1)
        streams, derivative = [], fn
        for _ in range(order):
            derivative = _along(derivative, unit)
            streams.append(derivative(z))
        directions.append(tuple(streams))
    return Jet(fn(z), tuple(directions))


def _along(fn: Callable[[Array], Array], direction: Array) -> Callable[[Array], Array]:
    return lambda z: jax.jvp(fn, (z,), (direction,))[1]


def _frozen(module: Any) -> Any:
    """``module`` with every array behind a stop-gradient: the transform's data are constants of the problem."""
    return jax.tree_util.tree_map(lambda a: jax.lax.stop_gradient(a) if eqx.is_array(a) else a, module)


class Affine(AbstractNetwork):
    """``u(z) = offset(z) + scale(z) * inner(z)`` per output: the one rule every exact constraint is made of.

    With ``scale`` zero where a condition holds and ``offset`` equal to the
    condition's data there, the condition holds for any ``inner`` (Lagaris,
    Likas & Fotiadis 1998; Sukumar & Srivastava 2022). Transforms compose by
    nesting: an ``Affine`` whose ``inner`` is an ``Affine`` is
    ``offset_1 + scale_1 offset_2 + scale_1 scale_2 inner``, and its jet comes
    from the same two lines (sum and Leibniz product of jets), so the
    Taylor-mode residual path holds for any composition; no transform writes
    its own derivatives.
    """

    inner: AbstractNetwork
    offset: AbstractPointField
    scale: AbstractPointField

    def __call__(self, z: Float[Array, " d"]) -> Float[Array, " fields"]:
        offset, scale = _frozen(self.offset), _frozen(self.scale)
        return offset(z) + scale(z) * self.inner(z)

    def jet(self, z: Float[Array, " d"], orders: tuple[int, ...]) -> Jet | None:
        inner = self.inner.jet(z, orders)
        if inner is None:
            return None
        offset, scale = _frozen(self.offset), _frozen(self.scale)
        return _add_jet(offset.jet(z, orders), _mul_jet(scale.jet(z, orders), inner))

    def warm_start(self, previous: "Affine") -> "Affine":
        """The inner model's weights from ``previous``; this transform's data kept."""
        return eqx.tree_at(lambda m: m.inner, self, self.inner.warm_start(previous.inner))


class TimeRamp(AbstractPointField):
    """``s = (t - t0) / tau``: zero at the initial time."""

    # Arrays, not static floats, so the windows of a time-marching run share one compilation.
    t0: Float[Array, ""]
    tau: Float[Array, ""]

    def __call__(self, z: Float[Array, " d"]) -> Float[Array, ""]:
        return (z[0] - self.t0) / self.tau

    def jet(self, z: Float[Array, " d"], orders: tuple[int, ...]) -> Jet:
        time = ((1.0 / self.tau).astype(z.dtype),) + (None,) * (orders[0] - 1) if orders[0] else ()
        return Jet(self(z), (time, *((None,) * k for k in orders[1:])))


class InitialValues(AbstractPointField):
    """The initial condition as a function of space, constant in time (``None``: zero, ``n_out`` outputs)."""

    interpolant: FourierInterpolant | None
    n_out: int = eqx.field(static=True)

    def __call__(self, z: Float[Array, " d"]) -> Float[Array, " fields"]:
        return jnp.zeros((self.n_out,), z.dtype) if self.interpolant is None else self.interpolant(z[1:])

    def jet(self, z: Float[Array, " d"], orders: tuple[int, ...]) -> Jet:
        time = (None,) * orders[0]
        if self.interpolant is None:
            return Jet(self(z), (time, *((None,) * k for k in orders[1:])))
        value, space = self.interpolant.jet(z[1:], orders[1:])
        return Jet(value, (time, *space))


def hard_initial(network: AbstractNetwork, initial: FourierInterpolant | None, t0: Array, tau: Array, n_out: int = 1) -> Affine:
    """``u(t, x) = initial(x) + (t - t0) / tau * network(t, x)``: the IC holds exactly at ``t = t0``.

    ``initial`` ``None`` stands for zero (a displacement that starts at
    nought; ``n_out`` outputs). The transform of hard-constraint PINNs for
    the initial condition (Lagaris et al. 1998; Lu et al. 2021), as an
    :class:`Affine`.
    """
    dtype = jnp.result_type(t0)
    ramp = TimeRamp(jnp.asarray(t0, dtype), jnp.asarray(tau, dtype))
    return Affine(network, InitialValues(initial, n_out), ramp)


class Scaled(AbstractNetwork):
    """``scale * network(z)``, the scales fixed (never trained)."""

    network: AbstractNetwork
    scale: Float[Array, " outputs"]

    def __call__(self, z: Float[Array, " d"]) -> Float[Array, " outputs"]:
        return jax.lax.stop_gradient(self.scale) * self.network(z)

    def jet(self, z: Float[Array, " d"], orders: tuple[int, ...]) -> Jet | None:
        net = self.network.jet(z, orders)
        return None if net is None else net.map(lambda v: jax.lax.stop_gradient(self.scale) * v)

    def warm_start(self, previous: "Scaled") -> "Scaled":
        return eqx.tree_at(lambda m: m.network, self, self.network.warm_start(previous.network))


class TimeWindows(AbstractNetwork):
    """Models of consecutive windows ``[edges[i], edges[i + 1]]``, as one function of ``(t, x)``.

    A point at a shared edge belongs to the later window (its start, where
    that window's initial condition is the earlier one's end).
    """

    models: tuple[AbstractNetwork, ...]
    edges: tuple[float, ...] = eqx.field(static=True)

    def window_of(self, t: Array) -> Array:
        """Index of the window holding time ``t`` (times outside go to the first or last)."""
        inner = jnp.asarray(self.edges[1:-1], jnp.result_type(t))
        return jnp.searchsorted(inner, t, side="right")

    def __call__(self, z: Float[Array, " d"]) -> Float[Array, " fields"]:
        # Every window's model at the point, then the one that owns it: a
        # branch-free select, which vmap keeps cheap for a few windows.
        values = jnp.stack([model(z) for model in self.models])
        return values[self.window_of(z[0])]

    def predict(self, times: np.ndarray, coords: Sequence[np.ndarray], batch: int = 65536) -> np.ndarray:
        """Each window's model on its own times only, put back in the order asked for."""
        times = np.asarray(times)
        owner = np.searchsorted(np.asarray(self.edges[1:-1]), times, side="right")
        out = None
        for i, model in enumerate(self.models):
            if np.any(owner == i):
                part = model.predict(times[owner == i], coords, batch)
                out = np.empty((len(times), *part.shape[1:]), part.dtype) if out is None else out
                out[owner == i] = part
        return out


class Steady(AbstractNetwork):
    """``inner`` with its time input held at ``time``: a model of a steady state, the same at every ``t``.

    Its jet has no time streams (``d/dt = 0`` exactly), so a residual reads
    ``u_t = 0`` and the network never spends a stream on time.
    """

    inner: AbstractNetwork
    time: Float[Array, ""]

    def _at(self, z: Float[Array, " d"]) -> Float[Array, " d"]:
        return z.at[0].set(jax.lax.stop_gradient(self.time).astype(z.dtype))

    def __call__(self, z: Float[Array, " d"]) -> Float[Array, " fields"]:
        return self.inner(self._at(z))

    def jet(self, z: Float[Array, " d"], orders: tuple[int, ...]) -> Jet | None:
        inner = self.inner.jet(self._at(z), (0, *orders[1:]))
        if inner is None:
            return None
        return Jet(inner.value, ((None,) * orders[0], *inner.directions[1:]))

    def warm_start(self, previous: "Steady") -> "Steady":
        return eqx.tree_at(lambda m: m.inner, self, self.inner.warm_start(previous.inner))
