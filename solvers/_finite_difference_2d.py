"""The 2D half of the finite-difference scheme: a box of nodes, Dirichlet on every side.

Nodes ``x_i = origin + i h`` per axis, both ends included; the unknowns are
the interior nodes, the edges hold the case's Dirichlet values (axis 0's
``lower``/``upper`` on the edges ``x = x_0, x_{n-1}``, axis 1's on the
others; axis 1's values win at the four corners, which no stencil here reads).

The implicit (linear) part may hold ``c_0 u + c_xx u_xx + c_yy u_yy``. With
Dirichlet ends the 3-point second difference is diagonalised by the
orthonormal sine transform (DST-I) with eigenvalues
``-4 / h^2 sin^2(k pi / (2 (m + 1)))``, ``k = 1..m`` (LeVeque 2007, sec.
3.3), so ``(I - s A) Y = b`` is two dense transforms per axis and a division:
exact, O(m^3) for an m x m interior (a 40 x 40 grid costs four 40 x 40
matrix products per solve), and differentiable in the coefficients, which
only scale the fixed eigenvalues. Other linear terms (first or mixed
derivatives) do not share that basis: write them in ``nonlinear``, which is
explicit and evaluated with second-order central differences (one-sided on
the edges) along each axis.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from phys.pdes._base import AbstractPDE, MultiIndex, operator_terms

__all__ = ["SineOperator", "BoxDerivatives", "IMPLICIT_TERMS", "check_linear", "full", "impose", "nonlinear", "sine_operator"]

# The linear terms the sine transform diagonalises.
IMPLICIT_TERMS = ((), (0, 0), (2, 0), (0, 2))


def spacings(line: Any) -> tuple[float, float]:
    return tuple(length / (n - 1) for length, n in zip(line.length, line.n))  # type: ignore[return-value]


def _along(f: Array, axis: int, order: int, h: float) -> Array:
    """``d^order f / dx_axis^order`` on the full grid: central inside, second-order one-sided at the ends."""
    f = jnp.moveaxis(f, axis, -1)
    for _ in range(order // 2):
        inner = (f[..., 2:] - 2 * f[..., 1:-1] + f[..., :-2]) / h**2
        lower = (2 * f[..., :1] - 5 * f[..., 1:2] + 4 * f[..., 2:3] - f[..., 3:4]) / h**2
        upper = (2 * f[..., -1:] - 5 * f[..., -2:-1] + 4 * f[..., -3:-2] - f[..., -4:-3]) / h**2
        f = jnp.concatenate([lower, inner, upper], axis=-1)
    if order % 2:
        inner = (f[..., 2:] - f[..., :-2]) / (2 * h)
        lower = (-3 * f[..., :1] + 4 * f[..., 1:2] - f[..., 2:3]) / (2 * h)
        upper = (3 * f[..., -1:] - 4 * f[..., -2:-1] + f[..., -3:-2]) / (2 * h)
        f = jnp.concatenate([lower, inner, upper], axis=-1)
    return jnp.moveaxis(f, -1, axis)


def _apply_multi_index(f: Array, alpha: MultiIndex, h: tuple[float, float]) -> Array:
    alpha = tuple(alpha) + (0,) * (2 - len(tuple(alpha)))
    for axis, order in enumerate(alpha):
        if order:
            f = _along(f, axis, order, h[axis])
    return f


class BoxDerivatives:
    """:class:`phys.pdes._base.Derivatives` on the full 2D grid (edges included)."""

    def __init__(self, line: Any, u: Float[Array, "fields nx ny"]):
        self._line, self._u = line, u
        self._cache: dict[tuple[str, MultiIndex], Array] = {}
        axes = [o + h * np.arange(n) for o, h, n in zip(line.origin, spacings(line), line.n)]
        self.coordinates = tuple(jnp.asarray(c, jnp.dtype(line.dtype)) for c in np.meshgrid(*axes, indexing="ij"))

    def __call__(self, field: str, alpha: MultiIndex = (), *, laplacian_power: int = 0) -> Array:
        if laplacian_power:
            raise NotImplementedError("the finite-difference grid offers no (inverse) Laplacian powers")
        key = (field, tuple(alpha))
        if key not in self._cache:
            u = self._u[self._line.fields.index(field)]
            self._cache[key] = _apply_multi_index(u, alpha, spacings(self._line))
        return self._cache[key]


def impose(line: Any, u: Float[Array, "fields nx ny"], boundary: Float[Array, "2 2"]) -> Float[Array, "fields nx ny"]:
    """Set the Dirichlet edge values (axis 0's edges, then axis 1's)."""
    u = u.at[:, 0, :].set(boundary[0, 0]).at[:, -1, :].set(boundary[0, 1])
    return u.at[:, :, 0].set(boundary[1, 0]).at[:, :, -1].set(boundary[1, 1])


def full(line: Any, y: Float[Array, "fields mx my"], boundary: Float[Array, "2 2"]) -> Float[Array, "fields nx ny"]:
    """The full grid from the interior unknowns."""
    u = jnp.zeros((y.shape[0], *line.n), y.dtype).at[:, 1:-1, 1:-1].set(y)
    return impose(line, u, boundary.astype(y.dtype))


def _sine_matrix(m: int, dtype: Any) -> Array:
    """The orthonormal DST-I matrix ``sqrt(2 / (m + 1)) sin(pi j k / (m + 1))`` (symmetric, its own inverse)."""
    j = np.arange(1, m + 1)
    return jnp.asarray(np.sqrt(2.0 / (m + 1)) * np.sin(np.pi * np.outer(j, j) / (m + 1)), dtype)


class SineOperator(eqx.Module):
    """``A y + r`` for ``A = c_0 + c_xx D_xx + c_yy D_yy`` on the interior (Dirichlet), per field, and its shifted inverse."""

    c0: Array  # [fields, 1, 1]
    cxx: Array
    cyy: Array
    eigenvalues: Array  # [fields, mx, my]
    r: Array  # [fields, mx, my]: the edge values' part of A y
    sx: Array
    sy: Array
    h: tuple[float, float] = eqx.field(static=True)

    def apply(self, y: Array) -> Array:
        zero = jnp.pad(y, ((0, 0), (1, 1), (1, 1)))
        hx, hy = self.h
        dxx = (zero[:, 2:, 1:-1] - 2 * y + zero[:, :-2, 1:-1]) / hx**2
        dyy = (zero[:, 1:-1, 2:] - 2 * y + zero[:, 1:-1, :-2]) / hy**2
        return self.c0 * y + self.cxx * dxx + self.cyy * dyy + self.r

    def solve_shifted(self, scale: float, rhs: Array) -> Array:
        """``(I - scale A) Y = rhs + scale r`` for ``Y``, by the sine transform."""
        b = rhs + scale * self.r
        b_hat = jnp.einsum("ij,fjk,lk->fil", self.sx, b, self.sy)
        y_hat = b_hat / (1.0 - scale * self.eigenvalues)
        return jnp.einsum("ij,fjk,lk->fil", self.sx, y_hat, self.sy)


def sine_operator(line: Any, pde: AbstractPDE, boundary: Float[Array, "2 2"]) -> SineOperator:
    dtype = jnp.dtype(line.dtype)
    hx, hy = spacings(line)
    mx, my = line.n[0] - 2, line.n[1] - 2
    linear = pde.linear()

    def coefficient(field: str, *alphas: MultiIndex) -> Array:
        terms = linear.get(field, {})
        value = sum((terms[a] for a in alphas if a in terms), jnp.zeros((), dtype))
        return jnp.asarray(value, dtype)

    c0 = jnp.stack([coefficient(f, (), (0, 0)) for f in line.fields])[:, None, None]
    cxx = jnp.stack([coefficient(f, (2, 0)) for f in line.fields])[:, None, None]
    cyy = jnp.stack([coefficient(f, (0, 2)) for f in line.fields])[:, None, None]
    lam_x = jnp.asarray(-4.0 / hx**2 * np.sin(np.pi * np.arange(1, mx + 1) / (2 * (mx + 1))) ** 2, dtype)
    lam_y = jnp.asarray(-4.0 / hy**2 * np.sin(np.pi * np.arange(1, my + 1) / (2 * (my + 1))) ** 2, dtype)
    eigenvalues = c0 + cxx * lam_x[None, :, None] + cyy * lam_y[None, None, :]
    # The edge values enter the interior stencils next to the edges.
    edges = impose(line, jnp.zeros((len(line.fields), *line.n), dtype), boundary.astype(dtype))
    dxx = (edges[:, 2:, 1:-1] + edges[:, :-2, 1:-1]) / hx**2
    dyy = (edges[:, 1:-1, 2:] + edges[:, 1:-1, :-2]) / hy**2
    r = cxx * dxx + cyy * dyy
    return SineOperator(c0, cxx, cyy, eigenvalues, r, _sine_matrix(mx, dtype), _sine_matrix(my, dtype), (hx, hy))


def nonlinear(line: Any, pde: AbstractPDE, boundary: Array, y: Float[Array, "fields mx my"]) -> Float[Array, "fields mx my"]:
    """``N(y)`` at the interior: the PDE's fluxes ``sum_alpha D^alpha F_alpha`` on the full grid."""
    u = full(line, y, boundary)
    fluxes = pde.nonlinear(BoxDerivatives(line, u))
    h = spacings(line)
    out = []
    for field in line.fields:
        total = jnp.zeros(tuple(line.n), y.dtype)
        for key, flux in fluxes.get(field, {}).items():
            flux = jnp.broadcast_to(flux, tuple(line.n)).astype(y.dtype)
            for c, alpha in operator_terms(key):
                total = total + c * _apply_multi_index(flux, alpha, h)
        out.append(total[1:-1, 1:-1])
    return jnp.stack(out)


def check_linear(pde: AbstractPDE) -> str | None:
    """What is wrong with the PDE's linear part for the 2D scheme, or ``None``."""
    for field, terms in pde.linear().items():
        for alpha in terms:
            if tuple(alpha) not in IMPLICIT_TERMS:
                return (
                    f"solver 'finite-difference' in 2D takes linear terms u, u_xx, u_yy (the sine transform's); "
                    f"'{field}' has D^{tuple(alpha)}: write it in nonlinear()"
                )
    return None
