"""``solvers.simulation(case)``: a case's solve as a differentiable equinox Module.

::

    sim = solvers.simulation(case)
    out = sim()                                   # {name: [n_saves, ...]}, initial snapshot first
    sim2 = eqx.tree_at(lambda s: s.pde.nu, sim, 0.02)
    jax.grad(lambda nu: loss(eqx.tree_at(lambda s: s.pde.nu, sim, nu)()))(nu)
    jax.vmap(lambda nu: eqx.tree_at(lambda s: s.pde.nu, sim, nu)()["u"])(nus)  # compiles once

The Module's array leaves are the PDE's parameters (``sim.pde``, through its
scheme) and the initial state fields (``sim.u0``, ``[fields, *n]`` on the
scheme's grid), plus whatever else of the scheme is an array (boundary
values); the grid, time axis and settings are static. Calling it runs the
one time loop (:mod:`solvers.rollout`) of whichever scheme the case names,
inside ``jit``; ``jax.grad`` and ``jax.vmap`` go through every scheme (ODEs
through the case's diffrax adjoint).

A non-finite state raises through :func:`equinox.branched_error_if`, naming
the step and time; ``simulation(case, throw=False)`` instead returns the
first bad step in :attr:`Solution.bad_step` (``-1`` when none).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from phys.case import Case
from phys.initial import initial_fields
from phys.pdes._base import AbstractPDE
from solvers.rollout import trajectory
from solvers.scheme import NO_BAD_STEP, AbstractScheme, TimeAxis, scheme_for

__all__ = ["Simulation", "Solution", "simulation"]


class _FailureMessages(Sequence[str]):
    """``messages[k]``: what step ``k`` going non-finite means, written only when it happens."""

    def __init__(self, time: TimeAxis, hint: str):
        self._time, self._hint = time, hint

    def __len__(self) -> int:
        return self._time.n_steps + 1

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return (
            f"solution became non-finite (NaN or overflow) at step {index} (t = {self._time.time_of(index):.6g}); "
            f"{self._hint} or check the case's parameters"
        )

    def __hash__(self) -> int:
        return hash((self._time, self._hint))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _FailureMessages) and (other._time, other._hint) == (self._time, self._hint)


class Solution(eqx.Module):
    """Saved outputs of a simulation: ``solution["u"]`` is ``[n_saves, *n]`` (initial snapshot first)."""

    outputs: dict[str, Array]
    times: Float[Array, " n_saves"]
    bad_step: Int[Array, ""]  # first non-finite step (1-based), -1 when none

    def __getitem__(self, name: str) -> Array:
        return self.outputs[name]


class Simulation(eqx.Module):
    """A case's solve; see the module docstring."""

    scheme: AbstractScheme
    u0: Float[Array, "fields *n"]
    throw: bool = eqx.field(static=True, default=True)

    @property
    def pde(self) -> AbstractPDE:
        return self.scheme.pde

    @property
    def time(self) -> TimeAxis:
        return self.scheme.time

    def coords(self) -> tuple[np.ndarray, ...]:
        return self.scheme.coords()

    def __call__(self) -> Solution:
        return _run(self)


@eqx.filter_jit
def _run(sim: Simulation) -> Solution:
    outputs, bad, _ = trajectory(sim.scheme, sim.u0)
    if sim.throw:
        messages = _FailureMessages(sim.time, sim.scheme.failure_hint())
        outputs = eqx.branched_error_if(outputs, bad != NO_BAD_STEP, jnp.maximum(bad, 0), messages)
    times = jnp.asarray(sim.time.save_times(), jnp.dtype(sim.scheme.dtype))
    return Solution(outputs=outputs, times=times, bad_step=bad)


def simulation(case: Case, *, throw: bool = True, key: jax.Array | None = None) -> Simulation:
    """The differentiable solve of ``case`` by its scheme (``case.solver.method``).

    ``key`` draws a random initial condition other than the case seed's.
    Raises :class:`phys.CaseError` if the scheme cannot solve the case
    (float64 without JAX's 64-bit mode, a step beyond the stable bound...).
    """
    scheme = scheme_for(case)
    u0 = initial_fields(case, scheme.coords(), key)
    return Simulation(scheme=scheme, u0=u0, throw=throw)
