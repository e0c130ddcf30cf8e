"""Initial conditions: the built-in families, and a case's initial fields on a grid.

A family is ``f(coords, lengths, key, *, param=default, ...) -> values``:
``coords`` are the meshgrid coordinate arrays (one per axis,
``indexing="ij"``), ``lengths`` the domain lengths, ``key`` a PRNG key
derived from the case seed (used by random families only). Its keyword-only
arguments are its parameters, their defaults the family's; the docstring's
first line is its summary and its ``Parameters:`` block their meaning. The
built-in ones carry ``@family(name)``, which is how the case schema finds
them without importing JAX (:mod:`phys._registry`). A user's family is such
a function in a case file or module, named in the case by import path
(``"my_case:bump"``) or given as the function itself.
"""

from __future__ import annotations

import itertools
from typing import Callable, TypeVar

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from phys.case import ArrayIC, Case, CaseError, FamilyIC, FileIC

__all__ = ["family", "grid_coordinates", "initial_fields"]

Coords = tuple[Float[Array, "..."], ...]
F = TypeVar("F", bound=Callable[..., Array])


def family(name: str, *, n_dims: int | None = None) -> Callable[[F], F]:
    """Mark a function as the built-in family ``name`` (``n_dims``: the dimension it needs, None for any)."""

    def mark(function: F) -> F:
        function.family_name = name  # type: ignore[attr-defined]
        function.family_n_dims = n_dims  # type: ignore[attr-defined]
        return function

    return mark


@family("kassam-trefethen", n_dims=1)
def kassam_trefethen(coords: Coords, lengths: tuple[float, ...], key: PRNGKeyArray, *, scale: float = 16.0) -> Array:
    """u0 = cos(x/scale) (1 + sin(x/scale)), the KS start of Kassam & Trefethen (2005).

    Parameters:
        scale: length scale; 16 on [0, 32 pi)
    """
    (x,) = coords
    return jnp.cos(x / scale) * (1.0 + jnp.sin(x / scale))


@family("sine")
def sine(
    coords: Coords,
    lengths: tuple[float, ...],
    key: PRNGKeyArray,
    *,
    amplitude: float = 1.0,
    wavenumber: float = 1.0,
    phase: float = 0.0,
    mean: float = 0.0,
) -> Array:
    """u0 = mean + amplitude sin(wavenumber x + phase) along the first axis.

    Parameters:
        amplitude: peak value about the mean
        wavenumber: angular wavenumber (rad per unit length)
        phase: phase shift (rad)
        mean: constant added (a mean flow that moves a Burgers front)
    """
    return mean + amplitude * jnp.sin(wavenumber * coords[0] + phase)


@family("random-fourier")
def random_fourier(
    coords: Coords, lengths: tuple[float, ...], key: PRNGKeyArray, *, amplitude: float = 1.0, max_mode: float = 5.0
) -> Array:
    """Smooth random field: Fourier modes 1..max_mode with random amplitudes and phases from the case seed, zero mean, max |u0| = amplitude.

    Parameters:
        amplitude: max |u0| after normalisation
        max_mode: highest Fourier mode (integer >= 1)
    """
    modes = int(max_mode)
    if modes < 1 or modes != max_mode:
        raise CaseError("ic.params.max_mode", f"must be an integer >= 1, got {max_mode}")
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


@family("taylor-green-vorticity", n_dims=2)
def taylor_green_vorticity(
    coords: Coords, lengths: tuple[float, ...], key: PRNGKeyArray, *, amplitude: float = 1.0, wavenumber: float = 1.0
) -> Array:
    """w0 = 2 A k sin(k x) sin(k y), the vorticity of the Taylor-Green vortex u = A sin(k x) cos(k y), v = -A cos(k x) sin(k y).

    Parameters:
        amplitude: peak velocity A
        wavenumber: angular wavenumber k (1 on [0, 2 pi)^2)
    """
    # w = v_x - u_y for u = A sin(kx) cos(ky), v = -A cos(kx) sin(ky).
    x, y = coords
    return 2 * amplitude * wavenumber * jnp.sin(wavenumber * x) * jnp.sin(wavenumber * y)


@family("random-vorticity", n_dims=2)
def random_vorticity(
    coords: Coords,
    lengths: tuple[float, ...],
    key: PRNGKeyArray,
    *,
    peak_wavenumber: float = 4.0,
    velocity_rms: float = 1.0,
) -> Array:
    """Random vorticity from the case seed: filtered white noise with energy spectrum E(k) ~ k^4 exp(-2 (k/k_peak)^2), zero mean, scaled to a given rms velocity.

    Parameters:
        peak_wavenumber: angular wavenumber k_peak where E(k) peaks
        velocity_rms: root mean square of |u| after scaling
    """
    if not peak_wavenumber > 0:
        raise CaseError("ic.params.peak_wavenumber", f"must be positive, got {peak_wavenumber}")
    if not velocity_rms >= 0:
        raise CaseError("ic.params.velocity_rms", f"must be non-negative, got {velocity_rms}")
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


@family("allen-cahn", n_dims=1)
def allen_cahn(coords: Coords, lengths: tuple[float, ...], key: PRNGKeyArray, *, wavenumber: float = 3.141592653589793) -> Array:
    """u0 = x^2 cos(wavenumber x) along the first axis (x^2 cos(pi x) on [-1, 1): the Allen-Cahn start of Raissi et al. 2019).

    Parameters:
        wavenumber: angular wavenumber of the cosine
    """
    # x is the absolute coordinate (origin included): on [-1, 1) this is Raissi et al.'s x^2 cos(pi x).
    x = coords[0]
    return x * x * jnp.cos(wavenumber * x)


@family("gaussian")
def gaussian(
    coords: Coords, lengths: tuple[float, ...], key: PRNGKeyArray, *, amplitude: float = 1.0, centre: float = 0.0,
    width: float = 1.0,
) -> Array:
    """u0 = amplitude exp(-(x - centre)^2 / (2 width^2)) along the first axis.

    Parameters:
        amplitude: peak value
        centre: position of the peak
        width: standard deviation of the bump
    """
    if not width > 0:
        raise CaseError("ic.params.width", f"must be positive, got {width}")
    return amplitude * jnp.exp(-0.5 * ((coords[0] - centre) / width) ** 2)


@family("random-gaussian")
def random_gaussian(
    coords: Coords,
    lengths: tuple[float, ...],
    key: PRNGKeyArray,
    *,
    amplitude_min: float = 0.5,
    amplitude_max: float = 2.0,
    width_min: float = 3.0,
    width_max: float = 10.0,
    centre_spread: float = 12.0,
) -> Array:
    """A Gaussian bump from the case seed: amplitude, width and centre drawn uniformly (Phi-ROM's diffusion starts).

    u0 = A exp(-|x - c|^2 / (2 s^2)) with A uniform in [amplitude_min,
    amplitude_max], s uniform in [width_min, width_max] and each coordinate of
    c uniform within centre_spread of the domain's middle (Phi-ROM draws whole
    numbers in [-12, 12) on its 40 x 40 grid; here they are continuous).

    Parameters:
        amplitude_min: smallest peak value
        amplitude_max: largest peak value
        width_min: smallest standard deviation
        width_max: largest standard deviation
        centre_spread: largest distance of the centre from the domain's middle, per axis
    """
    if not (0 < width_min <= width_max):
        raise CaseError("ic.params.width_min", f"must be positive and at most width_max = {width_max}, got {width_min}")
    if amplitude_min > amplitude_max:
        raise CaseError("ic.params.amplitude_min", f"must be at most amplitude_max = {amplitude_max}, got {amplitude_min}")
    dtype = coords[0].dtype
    amp_key, width_key, centre_key = jax.random.split(key, 3)
    amplitude = jax.random.uniform(amp_key, (), dtype=dtype, minval=amplitude_min, maxval=amplitude_max)
    width = jax.random.uniform(width_key, (), dtype=dtype, minval=width_min, maxval=width_max)
    offsets = jax.random.uniform(centre_key, (len(coords),), dtype=dtype, minval=-centre_spread, maxval=centre_spread)
    # The middle of each axis from its own points (the origin is not passed to a family).
    distance = sum((x - (0.5 * (jnp.min(x) + jnp.max(x)) + offsets[i])) ** 2 for i, x in enumerate(coords))
    return amplitude * jnp.exp(-distance / (2 * width**2))


@family("uniform")
def uniform(coords: Coords, lengths: tuple[float, ...], key: PRNGKeyArray, *, value: float = 0.0) -> Array:
    """u0 = value everywhere, every field (value 0: a fluid at rest).

    Parameters:
        value: the constant value
    """
    return jnp.full(coords[0].shape, value, dtype=coords[0].dtype)


# -- a case's initial fields ------------------------------------------------------


def grid_coordinates(case: Case) -> tuple[np.ndarray, ...]:
    """1D point coordinates along each axis of the case's grid of nodes (float64, host).

    Periodic axes: ``origin + length * i / n`` (no end point, it is the first
    point again). Bounded axes (Dirichlet, Neumann): ``origin + length * i /
    (n - 1)``, both end points included, so ``n`` counts the boundary points.
    A scheme on another grid (cell centres) passes its own coordinates to
    :func:`initial_fields`.
    """
    return tuple(
        o + length * np.arange(n) / (n if bc.kind == "periodic" else n - 1)
        for o, length, n, bc in zip(case.domain.origin, case.domain.length, case.grid.n, case.bcs)
    )


def initial_fields(
    case: Case, coords: tuple[np.ndarray, ...] | None = None, key: jax.Array | None = None
) -> Float[Array, "fields *n"]:
    """The case's initial state fields, stacked ``[fields, *n]`` in the case's dtype, on ``coords``.

    ``coords`` (per axis, 1D) default to :func:`grid_coordinates`; ``key``
    (for random families) defaults to ``key(case.seed)``.
    """
    coords = grid_coordinates(case) if coords is None else coords
    dtype = jnp.dtype(case.dtype)
    shape = (len(case.fields), *(len(axis) for axis in coords))
    ic = case.ic
    if isinstance(ic, FamilyIC):
        key = jax.random.key(case.seed) if key is None else key
        mesh = tuple(jnp.meshgrid(*[jnp.asarray(x, dtype=dtype) for x in coords], indexing="ij"))
        values = ic.load()(mesh, case.domain.length, key, **ic.params)
        return jnp.broadcast_to(jnp.asarray(values, dtype=dtype), shape)
    if isinstance(ic, ArrayIC):
        return jnp.asarray(np.asarray(ic.values, dtype=np.float64).reshape(shape), dtype=dtype)
    assert isinstance(ic, FileIC)
    return jnp.asarray(_read_snapshot(case, ic, coords), dtype=dtype)


def _read_snapshot(case: Case, ic: FileIC, coords: tuple[np.ndarray, ...]) -> np.ndarray:
    """The state fields, by name, at the chosen snapshot of ``ic.path``; ``CaseError`` if they do not fit."""
    from phys.io.hdf5 import read_coordinates, read_snapshot, snapshot_index

    time_index = ic.time_index
    try:
        if ic.time is not None:
            time_index = snapshot_index(ic.path, ic.time, trajectory=ic.trajectory)
    except ValueError as error:
        raise CaseError("ic.time", str(error)) from None
    try:
        _check_file_grid(case, ic.path, read_coordinates(ic.path), coords)
        names = (ic.field,) if ic.field is not None else case.fields
        snapshots = [read_snapshot(ic.path, name, time_index=time_index, trajectory=ic.trajectory) for name in names]
    except ValueError as error:
        raise CaseError("ic.path", str(error)) from None
    shape = tuple(len(axis) for axis in coords)
    for name, values in zip(names, snapshots):
        if values.shape != shape:
            raise CaseError("ic.path", f"field '{name}' in {ic.path} has shape {values.shape}, the grid is {shape}")
    return np.stack(snapshots)


def _check_file_grid(case: Case, path: str, stored: dict[str, np.ndarray], coords: tuple[np.ndarray, ...]) -> None:
    """``ValueError`` unless the file's grid is ``coords``: same axes, sizes and points."""
    if len(stored) != case.n_dims:
        raise ValueError(f"{path} is {len(stored)}D, the case is {case.n_dims}D")
    for (axis, values), expected in zip(stored.items(), coords):
        if values.shape != expected.shape:
            raise ValueError(f"{path} has {values.size} points along {axis}, the case's grid has {expected.size}")
        # Coordinates are stored as float32; a thousandth of a cell is far above
        # that rounding and far below any real difference of grids.
        spacing = abs(float(expected[1] - expected[0])) if expected.size > 1 else 1.0
        if np.max(np.abs(values.astype(np.float64) - expected)) > 1e-3 * spacing:
            raise ValueError(
                f"{path} has {axis} from {float(values[0]):.6g} to {float(values[-1]):.6g}, "
                f"the case's grid from {float(expected[0]):.6g} to {float(expected[-1]):.6g}"
            )
