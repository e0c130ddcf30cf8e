"""One ROM run on a case: data, model, target, training, forecasts of every set and their errors.

:func:`build` makes the model and the method's target from a case and its
data (:mod:`rom.data`); :func:`train_and_evaluate` trains them and forecasts
every trajectory of every set from its first snapshot (:mod:`rom.infer`).
The methods are the entries of :data:`TARGETS`: a new method is a new
entry, and the loop in :mod:`rom.train` does not change.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from phys.case import Case, CaseError
from rom.config import RomConfig
from rom.data import SET_NAMES, RomData
from rom.infer import predict
from rom.metrics import error_curves, summary
from rom.model import RomModel, grid_points, make_model
from rom.physics import AbstractTarget, AutodiffTarget, FiniteDifferenceTarget, SolverTarget
from rom.train import TrainData, TrainResult, fit

__all__ = ["RomRun", "TARGETS", "build", "train_and_evaluate"]


def _solver_target(case: Case, data: RomData, scheme: Any) -> AbstractTarget:
    return SolverTarget(scheme=scheme, parameter=data.parameter)


def _autodiff_target(case: Case, data: RomData, scheme: Any) -> AbstractTarget:
    # Only the PDE's right-hand side at interior points is needed: boundary kinds do not matter here.
    if case.pde.name == "navier-stokes-2d":
        raise CaseError("method", "PINN-ROM of 'navier-stokes-2d' is not supported: its vorticity form needs an inverse Laplacian, which autodiff at points cannot give")
    return AutodiffTarget(pde=scheme.pde, parameter=data.parameter, names=case.fields)


def _finite_difference_target(case: Case, data: RomData, scheme: Any) -> AbstractTarget:
    save_dt = float(data.times[1] - data.times[0])
    return FiniteDifferenceTarget(dt=save_dt)


# method -> the target of its dynamics loss, built from the case, its data and the case's scheme.
TARGETS: dict[str, Callable[[Case, RomData, Any], AbstractTarget]] = {
    "phi": _solver_target,
    "pinn": _autodiff_target,
    "data": _finite_difference_target,
}


@dataclass
class RomRun:
    model: RomModel
    result: TrainResult
    predictions: dict[str, np.ndarray]  # per set, [b, T, fields, *n]
    curves: dict[str, np.ndarray]  # per set, [b, T]
    errors: dict[str, dict[str, float | None]]
    misfits: dict[str, np.ndarray]
    wall_s: float


def build(case: Case, config: RomConfig, data: RomData) -> tuple[RomModel, TrainData, AbstractTarget]:
    """The untrained model, the training data (first ``n_train_steps`` snapshots) and the method's target."""
    from solvers.scheme import scheme_for

    scheme = scheme_for(case)
    dtype = case.dtype
    train = data.sets["train"]
    if train.size == 0:
        raise CaseError("train_values", "the training set is empty")
    snapshots = np.asarray(train.fields[:, : data.n_train_steps], np.float64)
    axes = tuple(i for i in range(snapshots.ndim) if i != 2)
    mean, spread = snapshots.mean(axis=axes), snapshots.std(axis=axes)
    spread = np.where(spread > 0, spread, 1.0)
    params = np.asarray(train.params, np.float64)
    lows = [float(np.min(c)) for c in data.coords]
    highs = [float(np.max(c)) if np.max(c) > np.min(c) else float(np.min(c)) + 1.0 for c in data.coords]
    model = make_model(
        jax.random.key(config.seed),
        n_dims=len(data.coords),
        n_fields=len(case.fields),
        latent_dim=config.latent_dim,
        decoder_width=config.decoder_width,
        decoder_depth=config.decoder_depth,
        psi_width=config.psi_width,
        psi_depth=config.psi_depth,
        x_low=lows,
        x_high=highs,
        field_mean=mean.tolist(),
        field_scale=spread.tolist(),
        mu_mean=params.mean(axis=0).tolist(),
        mu_scale=params.std(axis=0).tolist(),
        dtype=dtype,
    )
    shape = tuple(len(c) for c in data.coords)
    train_data = TrainData(
        fields=jnp.asarray(snapshots, jnp.dtype(dtype)),
        mu=jnp.asarray(params, jnp.dtype(dtype)),
        points=grid_points(data.coords, dtype),
        shape=shape,
    )
    return model, train_data, TARGETS[config.method](case, data, scheme)


def train_and_evaluate(
    case: Case, config: RomConfig, data: RomData, *, on_epoch: Callable[[int, float, float], None] | None = None
) -> RomRun:
    """Train the method of ``config`` on ``data``'s training set, then forecast and score every set."""
    start = time.perf_counter()
    model, train_data, target = build(case, config, data)
    result = fit(model, train_data, target, config, jax.random.fold_in(jax.random.key(config.seed), 1), on_epoch=on_epoch)
    dtype = jnp.dtype(case.dtype)
    times = jnp.asarray(data.times, dtype)
    candidates = jnp.asarray(result.memory[:, 0], dtype)
    # Every trajectory of every set in one compiled call (one batch shape, one compile).
    sizes = [data.sets[name].size for name in SET_NAMES]
    firsts = np.concatenate([data.sets[name].fields[:, 0] for name in SET_NAMES])
    n_params = 1 if data.parameter else 0
    params = np.concatenate([np.asarray(data.sets[name].params, np.float64).reshape(data.sets[name].size, n_params) for name in SET_NAMES])
    fields, misfit = predict(
        result.model, jnp.asarray(firsts, dtype), jnp.asarray(params, dtype), times,
        train_data.points, candidates, config.infer_steps, config.infer_learning_rate,
    )
    fields, misfit = np.asarray(fields), np.asarray(misfit)
    predictions, curves, errors, misfits = {}, {}, {}, {}
    first = 0
    for name, size in zip(SET_NAMES, sizes):
        predictions[name], misfits[name] = fields[first : first + size], misfit[first : first + size]
        first += size
        curves[name] = error_curves(predictions[name], data.sets[name].fields)
        errors[name] = summary(curves[name], data.n_train_steps)
    return RomRun(result.model, result, predictions, curves, errors, misfits, time.perf_counter() - start)
