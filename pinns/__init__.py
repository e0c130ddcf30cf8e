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
- The trainer, in pieces that compose: :mod:`pinns.problem` (box, IC/BC/data
  sampling), :mod:`pinns.method` (the model and the loss terms a method forms
  from the PDE object), :mod:`pinns.reducers` (mean, causal weighting),
  :mod:`pinns.loop` (fused Adam steps, then L-BFGS), :mod:`pinns.checkpoint`,
  :mod:`pinns.metrics`; :mod:`pinns.train` puts them together for a case.
- :mod:`pinns.lagrangian`: the Lagrangian PINN (characteristics and the state along them).
- :mod:`pinns.methods`: the methods ``phys train --method`` offers, by entry point.
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
    "hard_initial",
    "Affine",
    "TimeWindows",
    "Scaled",
    "TrainConfig",
    "preset",
    "train",
    "TrainResult",
    "AbstractNetwork",
    "AbstractMethod",
    "EulerianPINN",
    "LagrangianPINN",
    "LagrangianModel",
    "AbstractReducer",
    "Mean",
    "CausalWeighting",
    "AbstractObjective",
    "MethodObjective",
    "TrainState",
    "fit",
    "adam_steps",
    "lbfgs_steps",
    "save_checkpoint",
    "load_checkpoint",
    "CheckpointError",
    "relative_l2",
    "evaluate",
    "predict",
    "MethodSpec",
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
    "hard_initial": "pinns.constraints",
    "Affine": "pinns.constraints",
    "TimeWindows": "pinns.constraints",
    "Scaled": "pinns.constraints",
    "TrainConfig": "pinns.config",
    "preset": "pinns.config",
    "train": "pinns.train",
    "TrainResult": "pinns.train",
    "AbstractNetwork": "pinns.nets",
    "AbstractMethod": "pinns.method",
    "EulerianPINN": "pinns.method",
    "LagrangianPINN": "pinns.lagrangian",
    "LagrangianModel": "pinns.lagrangian",
    "AbstractReducer": "pinns.reducers",
    "Mean": "pinns.reducers",
    "CausalWeighting": "pinns.reducers",
    "AbstractObjective": "pinns.loop",
    "MethodObjective": "pinns.loop",
    "TrainState": "pinns.loop",
    "fit": "pinns.loop",
    "adam_steps": "pinns.loop",
    "lbfgs_steps": "pinns.loop",
    "save_checkpoint": "pinns.checkpoint",
    "load_checkpoint": "pinns.checkpoint",
    "CheckpointError": "pinns.checkpoint",
    "relative_l2": "pinns.metrics",
    "evaluate": "pinns.metrics",
    "predict": "pinns.metrics",
    "MethodSpec": "pinns.methods",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'pinns' has no attribute {name!r}")
