"""Differentiable numerical solvers for ``phys`` cases, behind one scheme contract.

- :func:`simulation`: a case's solve as a differentiable equinox Module
  (``sim()``; ``jax.grad``/``jax.vmap`` through it; PDE parameters and the
  initial state are its leaves).
- :func:`solve`, :func:`run_case`: one trajectory in memory or to HDF5.
- :func:`solve_ensemble`, :func:`run_ensemble` with :class:`Ensemble`: batches
  of seeds and parameter sweeps, sharded over devices.
- :class:`AbstractScheme`, :func:`scheme_for`: the contract every back-end
  fulfils (``init``, ``step``, ``tendency``, ``observe``, ``fields``), and the
  scheme of a case. The schemes: :class:`Spectral` (``etdrk``),
  :class:`FiniteDifference`, :class:`FiniteVolume`, :class:`Projection`,
  :class:`Ode`.
"""

from solvers._simulation import Simulation, Solution, simulation
from solvers.ensemble import Ensemble
from solvers.etdrk import Spectral
from solvers.finite_difference import FiniteDifference
from solvers.finite_volume import FiniteVolume
from solvers.ode import Ode
from solvers.projection import Projection
from solvers.scheme import AbstractScheme, TimeAxis, scheme_for
from solvers.solve import run_case, run_ensemble, solve, solve_ensemble

__all__ = [
    "AbstractScheme",
    "Ensemble",
    "FiniteDifference",
    "FiniteVolume",
    "Ode",
    "Projection",
    "Simulation",
    "Solution",
    "Spectral",
    "TimeAxis",
    "run_case",
    "run_ensemble",
    "scheme_for",
    "simulation",
    "solve",
    "solve_ensemble",
]
