"""Differentiable numerical solvers for ``phys`` cases."""

from solvers.etdrk import ETDRK, phi_functions
from solvers.rollout import advance, make_stepper, rollout
from solvers.solve import run_case, solve
from solvers.ensemble import Ensemble, run_ensemble, solve_ensemble

__all__ = ["ETDRK", "advance", "make_stepper", "phi_functions", "rollout", "run_case", "solve", "Ensemble", "run_ensemble", "solve_ensemble"]
