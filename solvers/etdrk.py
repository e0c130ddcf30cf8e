"""Exponential time differencing Runge-Kutta schemes of orders 1 to 4.

For ``u_t = L u + N(u)`` with ``L`` diagonal in Fourier space, ``z = h L``:

- ETD1 (exponential Euler):  ``u' = e^z u + h phi1(z) N(u)``
- ETD2RK (Cox & Matthews 2002, eq. 22)
- ETD3RK (Cox & Matthews 2002, eq. 23-25)
- ETDRK4 (Cox & Matthews 2002, eq. 26-29, in the form of Kassam &
  Trefethen 2005, eq. 2.5)

with ``phi1(z) = (e^z - 1)/z``, ``phi2 = (e^z - 1 - z)/z^2``,
``phi3 = (e^z - 1 - z - z^2/2)/z^3``. These suffer cancellation near ``z = 0``;
following Kassam & Trefethen (2005, section 3) each is evaluated as its mean
over points on a circle of radius 1 around ``z`` (Cauchy's integral formula),
where the direct formula is well conditioned. We use the full circle, so that
complex ``z`` (odd derivatives, e.g. advection) is handled too.
"""

from __future__ import annotations

import math
from typing import Callable

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Complex

__all__ = ["ETDRK", "phi_functions", "phi_functions_series"]


def phi_functions(z: Complex[Array, "*modes"], points: int) -> tuple[Array, Array, Array]:
    """``phi1, phi2, phi3`` at ``z`` by the contour mean (Kassam & Trefethen 2005)."""
    theta = jnp.pi * (2 * jnp.arange(points) + 1) / points
    circle = jnp.exp(1j * theta).astype(z.dtype).reshape((1,) * z.ndim + (points,))
    r = z[..., None] + circle
    e = jnp.exp(r)
    phi1 = jnp.mean((e - 1) / r, axis=-1)
    phi2 = jnp.mean((e - 1 - r) / r**2, axis=-1)
    phi3 = jnp.mean((e - 1 - r - r**2 / 2) / r**3, axis=-1)
    return phi1, phi2, phi3


# phi3(z) = sum_j z^j / (j + 3)!: for |z| < 1 the terms from j = 17 on sum to
# less than 1 / 20! ~ 4e-19, below float64 rounding.
_SERIES_TERMS = 17


def phi_functions_series(z: Complex[Array, "*modes"]) -> tuple[Array, Array, Array]:
    """``phi1, phi2, phi3`` at ``z``: Taylor series where ``|z| < 1``, the direct formulas elsewhere.

    The same values as :func:`phi_functions` to rounding (a test checks it),
    at a fraction of the cost: one ``exp`` and a short polynomial per mode
    instead of ``points`` of each. For coefficients rebuilt inside a loop
    (an adaptive step). ``phi3`` is summed by Horner's rule; ``phi2 = 1/2 +
    z phi3`` and ``phi1 = 1 + z phi2`` follow without cancellation for
    ``|z| < 1``. For ``|z| >= 1``, ``phi_{k+1} = (phi_k - 1/k!) / z`` loses
    at most a few digits' worth of ulps at ``|z| = 1`` and fewer beyond.
    Each branch sees a harmless stand-in for the other's inputs (the double
    ``where``), so gradients stay finite.
    """
    small = jnp.abs(z) < 1
    zs = jnp.where(small, z, 0)
    phi3 = jnp.full_like(z, 1 / math.factorial(_SERIES_TERMS + 2))
    for j in range(_SERIES_TERMS - 2, -1, -1):
        phi3 = phi3 * zs + 1 / math.factorial(j + 3)
    phi2 = 0.5 + zs * phi3
    phi1 = 1 + zs * phi2
    zb = jnp.where(small, 1, z)
    big1 = (jnp.exp(zb) - 1) / zb
    big2 = (big1 - 1) / zb
    big3 = (big2 - 0.5) / zb
    return jnp.where(small, phi1, big1), jnp.where(small, phi2, big2), jnp.where(small, phi3, big3)


class ETDRK(eqx.Module):
    """One ETDRK step ``u_hat -> u_hat`` of order 1-4 for a diagonal ``L``.

    Built once per solve (the phi-function coefficients are precomputed from
    the PDE's linear symbol, so gradients reach its coefficients), then a pure
    function of the state.
    """

    order: int = eqx.field(static=True)
    nonlinear: Callable[[Array], Array]
    exp_full: Array
    exp_half: Array
    coefficients: tuple[Array, ...]

    def __init__(
        self,
        linear: Complex[Array, "fields *modes"],
        dt: float | Array,
        order: int,
        nonlinear,
        points: int = 64,
        series: bool = False,
    ):
        """``series``: phi functions by :func:`phi_functions_series` (cheap; for a ``dt`` that changes
        inside a loop) instead of the contour mean with ``points`` points."""
        if order not in (1, 2, 3, 4):
            raise ValueError(f"order must be 1, 2, 3 or 4, got {order}")
        self.order = order
        self.nonlinear = nonlinear
        z = dt * linear
        self.exp_full = jnp.exp(z)
        self.exp_half = jnp.exp(z / 2)
        phi = phi_functions_series if series else lambda x: phi_functions(x, points)
        phi1, phi2, phi3 = phi(z)
        if order == 1:
            self.coefficients = (dt * phi1,)
        elif order == 2:
            self.coefficients = (dt * phi1, dt * phi2)
        else:
            half_phi1, _, _ = phi(z / 2)
            self.coefficients = (
                dt / 2 * half_phi1,
                dt * phi1,
                dt * (4 * phi3 - 3 * phi2 + phi1),
                dt * (phi2 - 2 * phi3),
                dt * (4 * phi3 - phi2),
            )

    def __call__(self, u: Array) -> Array:
        N = self.nonlinear
        E, E2 = self.exp_full, self.exp_half
        if self.order == 1:
            (f1,) = self.coefficients
            return E * u + f1 * N(u)
        if self.order == 2:
            f1, f2 = self.coefficients
            nu = N(u)
            a = E * u + f1 * nu
            return a + f2 * (N(a) - nu)
        q, f_full, g1, g2, g3 = self.coefficients
        nu = N(u)
        a = E2 * u + q * nu
        na = N(a)
        if self.order == 3:
            b = E * u + f_full * (2 * na - nu)
            return E * u + g1 * nu + 4 * g2 * na + g3 * N(b)
        b = E2 * u + q * na
        nb = N(b)
        c = E2 * a + q * (2 * nb - nu)
        return E * u + g1 * nu + 2 * g2 * (na + nb) + g3 * N(c)
