"""Exact constraints by output transforms, and the model made of time-marching windows.

- :class:`FourierInterpolant`: the trigonometric interpolant of values on a
  periodic grid, a smooth function of the point that equals the values at
  the grid nodes (so autodiff gives its derivatives for the residual).
- :class:`HardInitial`: ``u(t, x) = g(x) + s N(t, x)`` with
  ``s = (t - t0) / tau``: the initial condition ``u(t0, x) = g(x)`` holds
  exactly, the network ``N`` only has to learn the change (the output
  transform of hard-constraint PINNs, Lu et al. 2021 and Lagaris et al. 1998).
- :class:`Scaled`: a network's outputs times fixed scales (a characteristic
  speed, say), so the network itself works with values of order one.
- :class:`TimeWindows`: networks trained one after another on consecutive
  time windows (time marching, Wang, Sankaran & Perdikaris 2022, section
  3.3; Mattey & Ghosh 2022), each window starting from the previous one's
  prediction at its first time; evaluated as one model.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from typing import Sequence

from pinns.nets import AbstractNetwork, Jet

__all__ = ["FourierInterpolant", "HardInitial", "Scaled", "TimeWindows"]

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


class HardInitial(AbstractNetwork):
    """``u(t, x) = initial(x) + (t - t0) / tau * network(t, x)``: the IC holds exactly at ``t = t0``.

    ``initial`` ``None`` stands for zero (a displacement that starts at nought).
    """

    network: AbstractNetwork
    initial: FourierInterpolant | None
    # Arrays, not static floats, so the windows of a time-marching run share one compilation.
    t0: Float[Array, ""]
    tau: Float[Array, ""]

    def __call__(self, z: Float[Array, " d"]) -> Float[Array, " fields"]:
        t0, tau = jax.lax.stop_gradient(self.t0), jax.lax.stop_gradient(self.tau)
        change = ((z[0] - t0) / tau) * self.network(z)
        return change if self.initial is None else self.initial(z[1:]) + change

    def jet(self, z: Float[Array, " d"], orders: tuple[int, ...]) -> Jet | None:
        """As :meth:`pinns.nets.MLP.jet`, from the network's jet and the interpolant's closed form.

        With ``s = (t - t0) / tau``: ``d^m/dt^m (s N) = s N^(m) + (m / tau) N^(m-1)``
        and along space ``D^m u = D^m g + s D^m N``.
        """
        net = self.network.jet(z, orders)
        if net is None:
            return None
        t0, tau = jax.lax.stop_gradient(self.t0), jax.lax.stop_gradient(self.tau)
        s = (z[0] - t0) / tau
        if self.initial is None:
            g = jnp.zeros_like(net.value)
            g_streams = tuple(tuple(jnp.zeros_like(net.value) for _ in range(k)) for k in orders[1:])
        else:
            g, g_streams = self.initial.jet(z[1:], orders[1:])
        time_streams = []
        below = net.value
        for m, stream in enumerate(net.directions[0], start=1):
            time_streams.append((m / tau) * below + (0 if stream is None else s * stream))
            below = jnp.zeros_like(net.value) if stream is None else stream
        space = tuple(
            tuple(g_m + (0 if n_m is None else s * n_m) for g_m, n_m in zip(g_axis, n_axis))
            for g_axis, n_axis in zip(g_streams, net.directions[1:])
        )
        return Jet(g + s * net.value, (tuple(time_streams), *space))

    def warm_start(self, previous: "HardInitial") -> "HardInitial":
        """The network's weights from ``previous``; this window's initial values, ``t0`` and ``tau`` kept."""
        return eqx.tree_at(lambda m: m.network, self, self.network.warm_start(previous.network))


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
