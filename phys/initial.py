"""Families of initial conditions, evaluated on a grid.

Each family is ``f(coords, lengths, key, **params) -> values``: ``coords`` are
the meshgrid coordinate arrays (one per axis, ``indexing="ij"``), ``lengths``
the domain lengths, ``key`` a PRNG key derived from the case seed (used by
random families only). Parameters and defaults are registered in
``phys._registry.IC_FAMILIES``.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

Coords = tuple[Float[Array, "..."], ...]


def kassam_trefethen(coords: Coords, lengths: tuple[float, ...], key: PRNGKeyArray, *, scale: float) -> Array:
    (x,) = coords
    return jnp.cos(x / scale) * (1.0 + jnp.sin(x / scale))


def sine(
    coords: Coords, lengths: tuple[float, ...], key: PRNGKeyArray, *, amplitude: float, wavenumber: float, phase: float
) -> Array:
    return amplitude * jnp.sin(wavenumber * coords[0] + phase)


def random_fourier(
    coords: Coords, lengths: tuple[float, ...], key: PRNGKeyArray, *, amplitude: float, max_mode: float
) -> Array:
    modes = int(max_mode)
    if modes < 1 or modes != max_mode:
        raise ValueError(f"ic.params.max_mode: must be an integer >= 1, got {max_mode}")
    # Wavevectors with 0 < max|m| <= modes, one of each +-pair (cos(m.x + phi)
    # covers both signs), each with a Gaussian amplitude and a uniform phase.
    wavevectors = [
        m for m in itertools.product(range(-modes, modes + 1), repeat=len(coords))
        if any(m) and next(v for v in m if v != 0) > 0
    ]
    m = jnp.asarray(wavevectors, dtype=coords[0].dtype)
    amp_key, phase_key = jax.random.split(key)
    amplitudes = jax.random.normal(amp_key, (len(wavevectors),), dtype=coords[0].dtype)
    phases = jax.random.uniform(phase_key, (len(wavevectors),), dtype=coords[0].dtype, maxval=2 * jnp.pi)
    angle = sum(2 * jnp.pi * m[:, i, None] * coords[i].reshape(-1)[None, :] / lengths[i] for i in range(len(coords)))
    field = jnp.sum(amplitudes[:, None] * jnp.cos(angle + phases[:, None]), axis=0).reshape(coords[0].shape)
    return amplitude * field / jnp.max(jnp.abs(field))


def taylor_green_vorticity(
    coords: Coords, lengths: tuple[float, ...], key: PRNGKeyArray, *, amplitude: float, wavenumber: float
) -> Array:
    # w = v_x - u_y for u = A sin(kx) cos(ky), v = -A cos(kx) sin(ky).
    x, y = coords
    return 2 * amplitude * wavenumber * jnp.sin(wavenumber * x) * jnp.sin(wavenumber * y)


def random_vorticity(
    coords: Coords, lengths: tuple[float, ...], key: PRNGKeyArray, *, peak_wavenumber: float, velocity_rms: float
) -> Array:
    if not peak_wavenumber > 0:
        raise ValueError(f"ic.params.peak_wavenumber: must be positive, got {peak_wavenumber}")
    if not velocity_rms >= 0:
        raise ValueError(f"ic.params.velocity_rms: must be non-negative, got {velocity_rms}")
    dtype = coords[0].dtype
    shape = coords[0].shape
    kx = (2 * jnp.pi * jnp.fft.fftfreq(shape[0], lengths[0] / shape[0])).astype(dtype)[:, None]
    ky = (2 * jnp.pi * jnp.fft.rfftfreq(shape[1], lengths[1] / shape[1])).astype(dtype)[None, :]
    k_squared = kx**2 + ky**2
    k = jnp.sqrt(k_squared)
    # Energy spectrum E(k) ~ k^4 exp(-2 (k/k_peak)^2); a shell of radius k
    # holds ~2 pi k modes and the vorticity spectrum is k^2 E(k), so each
    # mode's vorticity amplitude goes as sqrt(k E(k)). Filtering white noise
    # keeps the field exactly real and statistically isotropic.
    filter_ = jnp.sqrt(k**5 * jnp.exp(-2 * (k / peak_wavenumber) ** 2))
    noise = jnp.fft.rfft2(jax.random.normal(key, shape, dtype=dtype))
    w_hat = noise * filter_
    inverse = jnp.where(k_squared == 0, 0.0, 1.0 / jnp.where(k_squared == 0, 1.0, k_squared))
    u = jnp.fft.irfft2(1j * ky * inverse * w_hat, s=shape)
    v = jnp.fft.irfft2(-1j * kx * inverse * w_hat, s=shape)
    rms = jnp.sqrt(jnp.mean(u**2 + v**2))
    return velocity_rms * jnp.fft.irfft2(w_hat, s=shape) / rms


def allen_cahn(coords: Coords, lengths: tuple[float, ...], key: PRNGKeyArray, *, wavenumber: float) -> Array:
    # x is the absolute coordinate (origin included): on [-1, 1) this is Raissi et al.'s x^2 cos(pi x).
    x = coords[0]
    return x * x * jnp.cos(wavenumber * x)


def uniform(coords: Coords, lengths: tuple[float, ...], key: PRNGKeyArray, *, value: float) -> Array:
    return jnp.full(coords[0].shape, value, dtype=coords[0].dtype)
