"""Physics-informed neural networks on ``phys`` cases.

Public names are imported lazily, so ``import pinns`` (and ``pinns.config``,
``pinns.cli``, which the command line validates with) does not import JAX.

- :mod:`pinns.nets`: MLP, modified MLP, Fourier and exact periodic embeddings,
  random weight factorization.
- :mod:`pinns.residual`: the residual of any ``phys`` PDE at points, by autodiff.
- :mod:`pinns.losses`: mean-square terms, causal weighting (patented by the
  University of Pennsylvania; no commercial use, see that module), gradient-norm
  balancing.
- :mod:`pinns.constraints`: exact initial conditions by an output transform,
  and the model of a time-marching run (one network per time window).
- :mod:`pinns.train`: Adam then L-BFGS, time-marching windows, checkpoints,
  error against the solver.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "MLP",
    "ModifiedMLP",
    "FourierFeatures",
    "PeriodicEmbedding",
    "make_network",
    "residuals",
    "causal_weights",
    "causal_residual_loss",
    "balanced_weights",
    "HardInitial",
    "TimeWindows",
    "TrainConfig",
    "preset",
    "train",
    "TrainResult",
]

_WHERE = {
    "MLP": "pinns.nets",
    "ModifiedMLP": "pinns.nets",
    "FourierFeatures": "pinns.nets",
    "PeriodicEmbedding": "pinns.nets",
    "make_network": "pinns.nets",
    "residuals": "pinns.residual",
    "causal_weights": "pinns.losses",
    "causal_residual_loss": "pinns.losses",
    "balanced_weights": "pinns.losses",
    "HardInitial": "pinns.constraints",
    "TimeWindows": "pinns.constraints",
    "TrainConfig": "pinns.config",
    "preset": "pinns.config",
    "train": "pinns.train",
    "TrainResult": "pinns.train",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'pinns' has no attribute {name!r}")
