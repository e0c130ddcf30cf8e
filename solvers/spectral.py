"""Fourier grids on periodic boxes: wavenumbers, derivative symbols, dealiasing.

States live in Fourier space as ``rfftn`` over the spatial axes (the last
spatial axis is halved), with a leading axis for the fields.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Complex, Float

from phys.pdes._base import AbstractPDE, Derivatives, MultiIndex, Operator, Terms, operator_terms

__all__ = [
    "FourierGrid",
    "dealias_mask",
    "derivative_symbol",
    "flux_symbol",
    "grid_points",
    "laplacian_power_symbol",
    "linear_symbol",
    "spectral_derivatives",
    "SpectralNonlinear",
    "linear_symbols",
    "spectral_outputs",
    "to_fourier",
    "to_physical",
    "wavenumbers",
]


class FourierGrid(NamedTuple):
    """A periodic box ``origin + [0, length)`` with ``n`` points per axis, and the state fields on it (hashable)."""

    n: tuple[int, ...]
    length: tuple[float, ...]
    origin: tuple[float, ...]
    fields: tuple[str, ...]
    dtype: str
    dealias: bool = True



def _mode_numbers(n: tuple[int, ...]) -> list[np.ndarray]:
    """Integer mode numbers per axis, broadcastable to the rfftn shape."""
    d = len(n)
    modes = []
    for axis, size in enumerate(n):
        m = np.fft.rfftfreq(size, 1.0 / size) if axis == d - 1 else np.fft.fftfreq(size, 1.0 / size)
        shape = [1] * d
        shape[axis] = m.size
        modes.append(m.reshape(shape))
    return modes


def wavenumbers(grid: FourierGrid) -> list[np.ndarray]:
    """Angular wavenumbers ``2 pi m / L`` per axis (float64, host), broadcastable."""
    return [2 * math.pi * m / length for m, length in zip(_mode_numbers(grid.n), grid.length)]


def derivative_symbol(grid: FourierGrid, alpha: MultiIndex) -> np.ndarray:
    """Fourier symbol of ``D^alpha``: ``prod_j (i k_j)^alpha_j`` (complex128, host).

    Odd derivatives of the Nyquist mode of an even grid are set to zero: that
    mode's sine part is not represented, so its derivative would not be real.
    """
    symbol = np.ones((), dtype=np.complex128)
    for axis, (k, order) in enumerate(zip(wavenumbers(grid), alpha)):
        if order == 0:
            continue
        factor = (1j * k) ** order
        size = grid.n[axis]
        if order % 2 == 1 and size % 2 == 0:
            nyquist = np.abs(_mode_numbers(grid.n)[axis]) == size // 2
            factor = np.where(nyquist, 0.0, factor)
        symbol = symbol * factor
    return symbol


def flux_symbol(grid: FourierGrid, key: MultiIndex | Operator) -> np.ndarray | None:
    """Fourier symbol of a flux key (:func:`phys.pdes._base.operator_terms`); ``None`` for the identity."""
    terms = [(c, tuple(alpha) + (0,) * (len(grid.n) - len(alpha))) for c, alpha in operator_terms(key)]
    if len(terms) == 1 and terms[0][0] == 1.0 and not any(terms[0][1]):
        return None
    return sum(c * derivative_symbol(grid, alpha) for c, alpha in terms)


def linear_symbol(grid: FourierGrid, terms: Terms, dtype: jnp.dtype) -> Complex[Array, "*modes"]:
    """``sum_alpha c_alpha symbol(alpha)`` with traced coefficients ``c_alpha``."""
    shape = tuple(m.shape[axis] for axis, m in enumerate(_mode_numbers(grid.n)))
    total = jnp.zeros(shape, dtype=dtype)
    for alpha, coefficient in terms.items():
        total = total + coefficient * jnp.asarray(derivative_symbol(grid, alpha), dtype=dtype)
    return total


def dealias_mask(grid: FourierGrid) -> np.ndarray:
    """Orszag's 2/3 rule: keep modes ``|m| <= n/3`` on every axis (bool, host)."""
    keep = np.ones((), dtype=bool)
    for m, size in zip(_mode_numbers(grid.n), grid.n):
        keep = keep & (np.abs(m) <= size / 3)
    return keep


def _spatial_axes(grid: FourierGrid) -> tuple[int, ...]:
    return tuple(range(1, len(grid.n) + 1))


def to_fourier(grid: FourierGrid, u: Float[Array, "fields *n"]) -> Complex[Array, "fields *modes"]:
    return jnp.fft.rfftn(u, axes=_spatial_axes(grid))


def to_physical(grid: FourierGrid, u_hat: Complex[Array, "fields *modes"]) -> Float[Array, "fields *n"]:
    return jnp.fft.irfftn(u_hat, s=grid.n, axes=_spatial_axes(grid))


def laplacian_power_symbol(grid: FourierGrid, power: int) -> np.ndarray:
    """Fourier symbol of ``lap^power``: ``(-|k|^2)^power``, with the mean mode 0 for ``power < 0`` (host).

    A negative power is the zero-mean inverse: on a periodic box ``lap`` maps
    onto the zero-mean fields, so its inverse is defined there and the mean
    mode (``k = 0``) of the result is set to 0.
    """
    k_squared = sum(k**2 for k in wavenumbers(grid))
    if power >= 0:
        return (-k_squared) ** power
    safe = np.where(k_squared == 0, 1.0, k_squared)
    return np.where(k_squared == 0, 0.0, (-1.0 / safe) ** (-power))


def grid_points(grid: FourierGrid) -> tuple[np.ndarray, ...]:
    """Point coordinates ``origin + length * i / n`` per axis, each shaped ``n`` (host, float64)."""
    return tuple(np.array(axis) for axis in np.broadcast_arrays(*grid_axes(grid)))


def grid_axes(grid: FourierGrid) -> tuple[np.ndarray, ...]:
    """:func:`grid_points` as a sparse meshgrid: axis ``i`` shaped ``n_i`` along itself and 1 elsewhere (host)."""
    axes = [o + length * np.arange(size) / size for o, length, size in zip(grid.origin, grid.length, grid.n)]
    return tuple(np.meshgrid(*axes, indexing="ij", sparse=True))


class _SpectralDerivatives:
    """:class:`phys.pdes._base.Derivatives` on a Fourier grid; each request transformed once."""

    def __init__(self, grid: FourierGrid, u_hat: Complex[Array, "fields *modes"]):
        self._grid = grid
        self._u_hat = u_hat
        self._complex_dtype = jnp.result_type(jnp.dtype(grid.dtype), jnp.complex64)
        self._cache: dict[tuple[str, MultiIndex, int], Array] = {}
        self._coordinates: tuple[Array, ...] | None = None

    @property
    def coordinates(self) -> tuple[Array, ...]:
        if self._coordinates is None:
            # One axis each (a sparse meshgrid, broadcastable to the fields): a term in y alone, such as a
            # Kolmogorov force, then costs n transcendental evaluations per step instead of n^2.
            self._coordinates = tuple(jnp.asarray(x, dtype=self._grid.dtype) for x in grid_axes(self._grid))
        return self._coordinates

    def __call__(self, field: str, alpha: MultiIndex = (), *, laplacian_power: int = 0) -> Array:
        grid = self._grid
        alpha = tuple(alpha) + (0,) * (len(grid.n) - len(alpha))
        key = (field, alpha, laplacian_power)
        if key not in self._cache:
            spectrum = self._u_hat[grid.fields.index(field)]
            symbol = derivative_symbol(grid, alpha) if any(alpha) else None
            if laplacian_power:
                power = laplacian_power_symbol(grid, laplacian_power)
                symbol = power if symbol is None else symbol * power
            if symbol is not None:
                spectrum = spectrum * jnp.asarray(symbol, dtype=self._complex_dtype)
            self._cache[key] = jnp.fft.irfftn(spectrum, s=grid.n, axes=tuple(range(len(grid.n))))
        return self._cache[key]


def spectral_derivatives(grid: FourierGrid, u_hat: Complex[Array, "fields *modes"]) -> Derivatives:
    """``d(field, alpha, laplacian_power=0)`` and ``d.coordinates`` on the grid, by spectral differentiation.

    Each distinct request is transformed once (one inverse FFT).
    """
    return _SpectralDerivatives(grid, u_hat)


def spectral_outputs(grid: FourierGrid, pde: AbstractPDE, u_hat: Complex[Array, "fields *modes"]) -> dict[str, Array]:
    """The PDE's output fields (:meth:`AbstractPDE.outputs`) at the state ``u_hat``."""
    return pde.outputs(spectral_derivatives(grid, u_hat))


class SpectralNonlinear(eqx.Module):
    """``u_hat -> N_hat``: the PDE's nonlinear part by pseudo-spectral evaluation.

    Fields and derivatives the PDE asks for are transformed once each; each
    flux ``F_alpha`` is transformed once and differentiated in Fourier space.
    With dealiasing, the input and the result are both truncated by the 2/3
    rule, which removes aliasing of quadratic terms exactly. A Module, so the
    PDE's parameters stay leaves of whatever holds it (an ETDRK stepper).
    """

    pde: AbstractPDE
    grid: FourierGrid = eqx.field(static=True)

    def __call__(self, u_hat: Complex[Array, "fields *modes"]) -> Complex[Array, "fields *modes"]:
        grid = self.grid
        complex_dtype = jnp.result_type(jnp.dtype(grid.dtype), jnp.complex64)
        # Leading axis of one so the mask meets states [fields, *modes] rank to rank.
        mask = jnp.asarray(dealias_mask(grid))[None] if grid.dealias else None
        axes = tuple(range(len(grid.n)))
        if mask is not None:
            u_hat = jnp.where(mask, u_hat, 0)
        fluxes = self.pde.nonlinear(spectral_derivatives(grid, u_hat))
        terms = [(field, key, flux) for field in grid.fields for key, flux in fluxes.get(field, {}).items()]
        out = {field: jnp.zeros_like(u_hat[0]) for field in grid.fields}
        if terms:
            # One batched transform of every flux: fewer, larger FFT calls than one per flux.
            stacked = jnp.stack([jnp.broadcast_to(flux, grid.n).astype(jnp.dtype(grid.dtype)) for _, _, flux in terms])
            transformed = jnp.fft.rfftn(stacked, axes=tuple(a + 1 for a in axes))
            for (field, key, _), flux_hat in zip(terms, transformed):
                symbol = flux_symbol(grid, key)
                if symbol is not None:
                    flux_hat = flux_hat * jnp.asarray(symbol, dtype=complex_dtype)
                out[field] = out[field] + flux_hat
        n_hat = jnp.stack([out[field] for field in grid.fields])
        return jnp.where(mask, n_hat, 0) if mask is not None else n_hat


def linear_symbols(grid: FourierGrid, pde: AbstractPDE) -> Complex[Array, "fields *modes"]:
    """The Fourier symbol of the PDE's linear part, per field (traced coefficients)."""
    complex_dtype = jnp.result_type(jnp.dtype(grid.dtype), jnp.complex64)
    linear = pde.linear()
    return jnp.stack([linear_symbol(grid, linear.get(field, {}), complex_dtype) for field in grid.fields])
