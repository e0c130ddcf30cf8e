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
