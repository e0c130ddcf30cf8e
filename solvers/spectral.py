"""Fourier grids on periodic boxes: wavenumbers, derivative symbols, dealiasing.

States live in Fourier space as ``rfftn`` over the spatial axes (the last
spatial axis is halved), with a leading axis for the fields.
"""

from __future__ import annotations

import math
from typing import Callable

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Complex, Float

from phys.compile import Static
from phys.pdes._base import AbstractPDE, Derivatives, MultiIndex, Terms

__all__ = [
    "dealias_mask",
    "derivative_symbol",
    "linear_symbol",
    "spectral_derivatives",
    "spectral_nonlinear",
    "spectral_outputs",
    "to_fourier",
    "to_physical",
    "wavenumbers",
]


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


def wavenumbers(static: Static) -> list[np.ndarray]:
    """Angular wavenumbers ``2 pi m / L`` per axis (float64, host), broadcastable."""
    return [2 * math.pi * m / length for m, length in zip(_mode_numbers(static.n), static.length)]


def derivative_symbol(static: Static, alpha: MultiIndex) -> np.ndarray:
    """Fourier symbol of ``D^alpha``: ``prod_j (i k_j)^alpha_j`` (complex128, host).

    Odd derivatives of the Nyquist mode of an even grid are set to zero: that
    mode's sine part is not represented, so its derivative would not be real.
    """
    symbol = np.ones((), dtype=np.complex128)
    for axis, (k, order) in enumerate(zip(wavenumbers(static), alpha)):
        if order == 0:
            continue
        factor = (1j * k) ** order
        size = static.n[axis]
        if order % 2 == 1 and size % 2 == 0:
            nyquist = np.abs(_mode_numbers(static.n)[axis]) == size // 2
            factor = np.where(nyquist, 0.0, factor)
        symbol = symbol * factor
    return symbol


def linear_symbol(static: Static, terms: Terms, dtype: jnp.dtype) -> Complex[Array, "*modes"]:
    """``sum_alpha c_alpha symbol(alpha)`` with traced coefficients ``c_alpha``."""
    shape = tuple(m.shape[axis] for axis, m in enumerate(_mode_numbers(static.n)))
    total = jnp.zeros(shape, dtype=dtype)
    for alpha, coefficient in terms.items():
        total = total + coefficient * jnp.asarray(derivative_symbol(static, alpha), dtype=dtype)
    return total


def dealias_mask(static: Static) -> np.ndarray:
    """Orszag's 2/3 rule: keep modes ``|m| <= n/3`` on every axis (bool, host)."""
    keep = np.ones((), dtype=bool)
    for m, size in zip(_mode_numbers(static.n), static.n):
        keep = keep & (np.abs(m) <= size / 3)
    return keep


def _spatial_axes(static: Static) -> tuple[int, ...]:
    return tuple(range(1, len(static.n) + 1))


def to_fourier(static: Static, u: Float[Array, "fields *n"]) -> Complex[Array, "fields *modes"]:
    return jnp.fft.rfftn(u, axes=_spatial_axes(static))


def to_physical(static: Static, u_hat: Complex[Array, "fields *modes"]) -> Float[Array, "fields *n"]:
    return jnp.fft.irfftn(u_hat, s=static.n, axes=_spatial_axes(static))


def spectral_derivatives(static: Static, u_hat: Complex[Array, "fields *modes"]) -> Derivatives:
    """``d(field, alpha)`` on the grid, by spectral differentiation; each pair transformed once."""
    complex_dtype = jnp.result_type(jnp.dtype(static.dtype), jnp.complex64)
    axes = tuple(range(len(static.n)))
    cache: dict[tuple[str, MultiIndex], Array] = {}

    def d(field: str, alpha: MultiIndex = ()) -> Array:
        alpha = tuple(alpha) + (0,) * (len(static.n) - len(alpha))
        if (field, alpha) not in cache:
            spectrum = u_hat[static.fields.index(field)]
            if any(alpha):
                spectrum = spectrum * jnp.asarray(derivative_symbol(static, alpha), dtype=complex_dtype)
            cache[field, alpha] = jnp.fft.irfftn(spectrum, s=static.n, axes=axes)
        return cache[field, alpha]

    return d


def spectral_outputs(static: Static, pde: AbstractPDE, u_hat: Complex[Array, "fields *modes"]) -> dict[str, Array]:
    """The PDE's output fields (:meth:`AbstractPDE.outputs`) at the state ``u_hat``."""
    return pde.outputs(spectral_derivatives(static, u_hat))


def spectral_nonlinear(static: Static, pde: AbstractPDE) -> Callable[[Array], Array]:
    """``u_hat -> N_hat``: the PDE's nonlinear part by pseudo-spectral evaluation.

    Fields and derivatives the PDE asks for are transformed once each; each
    flux ``F_alpha`` is transformed once and differentiated in Fourier space.
    With dealiasing, the input and the result are both truncated by the 2/3
    rule, which removes aliasing of quadratic terms exactly.
    """
    complex_dtype = jnp.result_type(jnp.dtype(static.dtype), jnp.complex64)
    # Leading axis of one so the mask meets states [fields, *modes] rank to rank.
    mask = jnp.asarray(dealias_mask(static))[None] if static.dealias else None
    axes = tuple(range(len(static.n)))

    def evaluate(u_hat: Complex[Array, "fields *modes"]) -> Complex[Array, "fields *modes"]:
        if mask is not None:
            u_hat = jnp.where(mask, u_hat, 0)
        d = spectral_derivatives(static, u_hat)
        fluxes = pde.nonlinear(d)
        out = []
        for field in static.fields:
            total = jnp.zeros_like(u_hat[0])
            for alpha, flux in fluxes.get(field, {}).items():
                alpha = tuple(alpha) + (0,) * (len(static.n) - len(alpha))
                flux_hat = jnp.fft.rfftn(flux, axes=axes)
                if any(alpha):
                    flux_hat = flux_hat * jnp.asarray(derivative_symbol(static, alpha), dtype=complex_dtype)
                total = total + flux_hat
            out.append(total)
        n_hat = jnp.stack(out)
        return jnp.where(mask, n_hat, 0) if mask is not None else n_hat

    return evaluate
