"""The settings of a hidden-term discovery run (no JAX: the command line checks them first)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Literal

from phys.case import CaseError

__all__ = ["DiscoveryConfig", "SETTINGS", "STRONG_EVIDENCE"]

# Differences of BIC approximate 2 log(Bayes factor); in Kass & Raftery's (1995) grades 0-2 is barely worth a
# mention, 2-6 positive, 6-10 strong. Plain BIC keeps a term whose fit beats log n; choosing among a library of
# m candidates, a pure-noise term passes that somewhere with a chance near 1 - (1 - p)^m (p = 4% for one term at
# n = 62, a third of the time for m = 10), so by default a term must also carry strong evidence: a noise term
# then passes with p near 0.15% (chi-squared, one degree of freedom, beyond log 62 + 6 = 10.1).
STRONG_EVIDENCE = 6.0


@dataclasses.dataclass(frozen=True)
class DiscoveryConfig:
    """Every setting of a discovery run; ``--set`` on ``phys discover`` reaches each by name.

    Attributes:
        hidden: fields whose right-hand side gets the hidden term.
        derivatives: highest order of the space derivatives among the network's inputs (PDEs).
        degree: highest total degree of the library's monomials.
        constant: whether the library holds the constant 1.
        extra: named extra library functions, ``(("sin_u", "sin(u)"), ...)``, in sympy syntax over the inputs.
        route: ``"solver"`` (the network inside the numerical solver's right-hand side) or ``"pinn"``.
        n_data: measured times used, evenly spaced, the first included (None: all).
        n_points: grid points measured after the first time, evenly spaced (PDEs; None: all).
        noise: Gaussian noise added to the measurements, as a fraction of each field's mean absolute value.
        seed: seeds the noise, the network's initial weights and the sample splits.
        width, depth: the hidden network's hidden layers.
        steps, learning_rate, decay_steps, decay_rate: Adam on the network (exponential decay).
        refine_steps: L-BFGS iterations when refitting a formula's coefficients through the solver.
        pinn_width, pinn_depth, pinn_steps, pinn_learning_rate: the PINN route's solution network and its Adam
            (the hidden network is trained with it; the rate decays smoothly to 5% over the run).
        n_residual: collocation points per step of the PINN route; residual_weight: its residual loss's weight.
        min_contribution: a chosen model's every term carries at least this share (root mean square along the
            samples) of its field's hidden term; smaller terms are not admitted (see pinns.discovery._choose).
        criterion: information criterion of the choice along the path (``bic`` or ``aic``).
        min_evidence: how much more than the criterion's own penalty a term must lower it by to be kept
            (default :data:`STRONG_EVIDENCE`; 0: the plain criterion). Terms kept with less are reported as weak.
        ridge: ridge strength of the regression (dimensionless; see SparseRegressionConfig.alpha).
    """

    hidden: tuple[str, ...]
    derivatives: int = 0
    degree: int = 2
    constant: bool = True
    extra: tuple[tuple[str, str], ...] = ()
    route: Literal["solver", "pinn"] = "solver"
    n_data: int | None = None
    n_points: int | None = None
    noise: float = 0.0
    seed: int = 0
    width: int = 16
    depth: int = 2
    steps: int = 2000
    learning_rate: float = 1e-2
    decay_steps: int = 500
    decay_rate: float = 0.5
    refine_steps: int = 60
    pinn_width: int = 64
    pinn_depth: int = 4
    pinn_steps: int = 6000
    pinn_learning_rate: float = 5e-3
    n_residual: int = 512
    residual_weight: float = 1.0
    min_contribution: float = 0.02
    criterion: Literal["bic", "aic"] = "bic"
    min_evidence: float = STRONG_EVIDENCE
    ridge: float = 0.0

    def __post_init__(self) -> None:
        if not self.hidden:
            raise CaseError("hidden", "name at least one field to add the hidden term to")
        for name in ("derivatives", "degree", "steps", "refine_steps", "width", "depth", "decay_steps", "seed",
                     "pinn_width", "pinn_depth", "pinn_steps", "n_residual"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < (1 if name in ("width", "depth", "decay_steps", "pinn_width", "pinn_depth", "n_residual") else 0):
                raise CaseError(name, f"must be a non-negative integer, got {value!r}")
        for name in ("n_data", "n_points"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 2):
                raise CaseError(name, f"must be an integer of at least 2, got {value!r}")
        if not (math.isfinite(self.noise) and self.noise >= 0):
            raise CaseError("noise", f"must be zero or positive, got {self.noise!r}")
        if self.route not in ("solver", "pinn"):
            raise CaseError("route", f"must be 'solver' or 'pinn', got {self.route!r}")
        if self.criterion not in ("bic", "aic"):
            raise CaseError("criterion", f"must be 'bic' or 'aic', got {self.criterion!r}")
        if not (self.learning_rate > 0 and 0 < self.decay_rate <= 1 and self.ridge >= 0):
            raise CaseError("learning_rate", "learning_rate must be positive, decay_rate in (0, 1], ridge >= 0")
        if not (isinstance(self.min_contribution, (int, float)) and 0 <= self.min_contribution < 1):
            raise CaseError("min_contribution", f"must be in [0, 1), got {self.min_contribution!r}")
        if not (isinstance(self.min_evidence, (int, float)) and math.isfinite(self.min_evidence) and self.min_evidence >= 0):
            raise CaseError("min_evidence", f"must be zero or positive, got {self.min_evidence!r}")
        for name in ("pinn_learning_rate", "residual_weight"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise CaseError(name, f"must be a positive number, got {value!r}")

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# What ``phys discover --set KEY=VALUE`` may change (the rest have their own options).
SETTINGS = tuple(f.name for f in dataclasses.fields(DiscoveryConfig) if f.name not in ("hidden", "extra"))
