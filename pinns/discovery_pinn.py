"""The PINN route of hidden-term discovery (universal PINNs, Podina, Eastman & Kohandel 2023, arXiv 2212.04630).

A solution network ``u(t, x)`` and the hidden network ``H(inputs)`` are
trained together: the data misfit at the measurements (the first, complete
snapshot included: it is the initial condition), the residual of the known
PDE plus ``H`` at random collocation points (:func:`pinns.residual.residual`
of :func:`pinns.hidden.with_hidden_term`, so the PDE is the same object the
solver route integrates), and the case's Dirichlet values on walled axes.
``H`` is then sampled along the solution network, its inputs (fields and
space derivatives) by autodiff of ``u``, at the saved times the data span and
on the case's grid: where the data live, on a smooth function instead of
differentiated noise.

What follows the samples (regression, the choice and refinement through the
solver, validation) is the solver route's, in :mod:`pinns.discovery`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float

from phys.case import Case
from phys.pdes._base import AbstractPDE
from pinns.discovery_config import DiscoveryConfig
from pinns.hidden import HiddenNetwork, hidden_inputs, with_hidden_term
from pinns.nets import make_network
from pinns.residual import point_derivatives, residual

__all__ = ["PinnFit", "fit_pinn"]


@dataclasses.dataclass(frozen=True)
class PinnFit:
    """The trained networks' samples: ``inputs [N, inputs]``, ``outputs [N, hidden]``; the loss history; ``u(t0)`` on the grid."""

    inputs: np.ndarray
    outputs: np.ndarray
    history: list[float]
    initial: np.ndarray  # [fields, *n]: the solution network at t0, a denoised start for the solver


class _Models(eqx.Module):
    solution: eqx.Module
    hidden: HiddenNetwork


def _space_time_points(times: np.ndarray, coords: tuple[np.ndarray, ...]) -> np.ndarray:
    """``[len(times) * points, 1 + d]`` rows ``(t, x, ...)``, time the slow index."""
    mesh = np.meshgrid(*coords, indexing="ij") if coords else []
    space = np.stack([m.reshape(-1) for m in mesh], axis=1) if coords else np.zeros((1, 0))
    t = np.repeat(times, space.shape[0])[:, None]
    return np.concatenate([t, np.tile(space, (len(times), 1))], axis=1)


def _rates(case: Case, obs: Any) -> np.ndarray:
    """Each field's mean |du/dt| between the measured times (finite differences of the data), floored at 1e-6 of its scale."""
    times = case.time.t0 + case.time.save_dt * obs.times
    values = np.asarray(obs.values)
    dt = np.diff(times).reshape(-1, *([1] * (values.ndim - 1)))
    rates = np.mean(np.abs(np.diff(values, axis=0) / dt), axis=(0, *range(2, values.ndim)))
    return np.maximum(rates, 1e-6 * np.asarray(obs.scale))


def _boundary(case: Case, coords: tuple[np.ndarray, ...]) -> tuple[list[int], list[float], list[float]]:
    """Walled axes with Dirichlet values: axis, value at its lower end, at its upper end."""
    axes, lower, upper = [], [], []
    for axis, bc in enumerate(case.bcs[: len(coords)]):
        if bc.kind == "dirichlet":
            axes.append(axis)
            lower.append(float(bc.lower))
            upper.append(float(bc.upper))
    return axes, lower, upper


def fit_pinn(case: Case, known: AbstractPDE, obs: Any, config: DiscoveryConfig, coords: tuple[np.ndarray, ...],
             hidden: HiddenNetwork, dtype: Any) -> PinnFit:
    """Train the solution and hidden networks on ``obs`` (:class:`pinns.discovery.Observations`); see the module docstring."""
    save_times = case.time.t0 + case.time.save_dt * np.arange(case.time.n_saves)
    t_end = float(save_times[obs.times[-1]])
    lower = (case.time.t0, *(float(c[0]) for c in coords))
    upper = (t_end, *(float(c[-1]) for c in coords))
    periods: list[float | None] = [None]
    for axis, c in enumerate(coords):
        periodic = case.bcs[axis].kind == "periodic"
        periods.append(float(case.domain.length[axis]) if periodic else None)
        if periodic:  # the box is the period, not the last grid point
            upper = (*upper[: axis + 1], float(case.domain.origin[axis] + case.domain.length[axis]), *upper[axis + 2:])
    key_net, key_train = jax.random.split(jax.random.key(config.seed + 1))
    solution = make_network(key_net, lower=lower, upper=upper, n_out=len(case.fields), periods=tuple(periods),
                            width=config.pinn_width, depth=config.pinn_depth, dtype=dtype)
    models = _Models(solution, hidden)

    # Measurements as rows (t, x, ...) -> values, each field over its scale.
    points_flat = _space_time_points(save_times[obs.times], coords)
    values = np.asarray(obs.values)
    if case.n_dims == 0:
        rows = values
    else:
        if obs.points is not None:
            n_grid = int(np.prod([len(c) for c in coords]))
            keep = (np.arange(len(obs.times))[:, None] * n_grid + obs.points[None, :]).reshape(-1)
            points_flat = points_flat[keep]
        rows = np.moveaxis(values, 1, 2).reshape(-1, values.shape[1])
    # The first snapshot is measured everywhere: it is the initial condition.
    initial_points = _space_time_points(save_times[:1], coords)
    initial_rows = np.asarray(obs.initial).reshape(len(case.fields), -1).T
    data_points = jnp.asarray(np.concatenate([points_flat, initial_points]), dtype)
    data_values = jnp.asarray(np.concatenate([rows, initial_rows]), dtype)
    scale = jnp.asarray(obs.scale, dtype)
    rate = jnp.asarray(_rates(case, obs), dtype)  # a residual's natural size: the fields' measured rates of change
    walls = _boundary(case, coords)

    lo = jnp.asarray(lower, dtype)
    hi = jnp.asarray(upper, dtype)

    def loss(models: _Models, key: Array) -> Array:
        pde = with_hidden_term(known, models.hidden, config.hidden, config.derivatives)
        predicted = jax.vmap(models.solution)(data_points)
        data = jnp.mean(((predicted - data_values) / scale[None, :]) ** 2)
        z = lo[None, :] + (hi - lo)[None, :] * jax.random.uniform(key, (config.n_residual, len(lower)), dtype)
        r = jax.vmap(lambda p: residual(pde, models.solution, p))(z)
        physics = jnp.mean((r / rate[None, :]) ** 2)
        total = data + config.residual_weight * physics
        for j, axis in enumerate(walls[0]):
            for end, value in ((lower[axis + 1], walls[1][j]), (upper[axis + 1], walls[2][j])):
                edge = z.at[:, axis + 1].set(end)
                u = jax.vmap(models.solution)(edge)
                total = total + jnp.mean(((u - value) / scale[None, :]) ** 2)
        return total

    # A smooth decay to 5% over the whole run (the solver route's step decay would stall a longer PINN run).
    schedule = optax.exponential_decay(config.pinn_learning_rate, config.pinn_steps, 0.05)
    optimiser = optax.adam(schedule)
    params, static = eqx.partition(models, eqx.is_inexact_array)
    state = optimiser.init(params)

    @jax.jit
    def steps(params: Any, state: Any, key: Array) -> tuple[Any, Any, Array]:
        def one(carry: tuple[Any, Any], k: Array) -> tuple[tuple[Any, Any], Array]:
            p, s = carry
            value, grads = jax.value_and_grad(lambda q: loss(eqx.combine(q, static), k))(p)
            updates, s = optimiser.update(grads, s, p)
            return (optax.apply_updates(p, updates), s), value

        (params, state), values = jax.lax.scan(one, (params, state), jax.random.split(key, _CHUNK))
        return params, state, values

    history: list[float] = []
    for chunk in range(max(1, -(-config.pinn_steps // _CHUNK))):
        params, state, values = steps(params, state, jax.random.fold_in(key_train, chunk))
        history.append(float(values[-1]))
    models = eqx.combine(params, static)
    return _sample(case, models, config, coords, save_times[: obs.times[-1] + 1], history)


_CHUNK = 250  # optimiser steps per compiled call


def _sample(case: Case, models: _Models, config: DiscoveryConfig, coords: tuple[np.ndarray, ...], times: np.ndarray,
            history: list[float]) -> PinnFit:
    names = case.fields
    points = jnp.asarray(_space_time_points(times, coords), models.hidden.shift.dtype)

    def at(z: Float[Array, " d"]) -> tuple[Array, Array]:
        d = point_derivatives(models.solution, names, z)
        inputs = hidden_inputs(d, names, case.n_dims, config.derivatives).reshape(-1)
        return inputs, models.hidden(inputs)

    inputs, outputs = jax.vmap(at)(points)
    inputs, outputs = np.asarray(inputs), np.asarray(outputs)
    if case.n_dims == 1 and any(bc.kind != "periodic" for bc in case.bcs):
        # The solver route's samples leave out the imposed end values; the same here.
        n = len(coords[0])
        keep = (np.arange(len(points)) % n != 0) & (np.arange(len(points)) % n != n - 1)
        inputs, outputs = inputs[keep], outputs[keep]
    initial_points = jnp.asarray(_space_time_points(times[:1], coords), points.dtype)
    initial = np.asarray(jax.vmap(models.solution)(initial_points)).T.reshape(len(names), *[len(c) for c in coords])
    return PinnFit(inputs, outputs, history, initial)
