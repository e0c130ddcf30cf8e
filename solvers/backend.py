"""What :func:`solvers.solve.solve` and :func:`solvers.solve.run_case` need of a scheme.

Each ``Case.solver.method`` has one back-end: an object that compiles a case
and advances its state by whole save intervals. The generic drivers own the
rest (blocks, HDF5, resume, NaN reports), so every scheme gets them alike.

A back-end's ``static`` is hashable (a ``jit`` static argument) and must offer
``t0``, ``dt``, ``save_every``, ``n_saves`` and ``save_times()``; its ``params``
is an equinox pytree (what ``grad`` and ``vmap`` reach). The solver state is a
flat ``dict`` of arrays: it is stored with each written block, so a resumed run
continues bit for bit from it.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

import numpy as np
from jaxtyping import Array, Int

from phys.case import Case

__all__ = ["Backend", "BACKENDS", "backend_for", "NO_BAD_STEP"]

# ``bad_step`` when every step stayed finite.
NO_BAD_STEP = -1

State = dict[str, Array]


class Backend(Protocol):
    def compile(self, case: Case) -> tuple[Any, Any]:
        """``(static, params)`` of ``case``."""

    def outputs(self, case: Case) -> dict[str, int]:
        """Output field names and their tensor order (0 scalar, 1 vector, 2 tensor)."""

    def coords(self, case: Case) -> tuple[np.ndarray, ...]:
        """Per-axis coordinates of the grid the outputs are sampled on."""

    def init(self, static: Any, params: Any) -> State:
        """The solver state at ``t0``."""

    def snapshot(self, static: Any, params: Any, state: State) -> dict[str, Array]:
        """The outputs at ``state``, one array per field: ``[*n]``, ``[*n, d]`` or ``[*n, d, d]``."""

    def advance(
        self, static: Any, params: Any, state: State, first_step: Int[Array, ""], n_saves: int
    ) -> tuple[State, dict[str, Array], Int[Array, ""]]:
        """Advance ``n_saves`` save intervals from global step ``first_step``.

        Returns the new state, the outputs after each interval (leading axis
        ``n_saves``) and the first non-finite step (1-based global count) or
        ``NO_BAD_STEP``. Pure, jit-compiled, differentiable.
        """


# method -> "module:attribute" of its back-end; imported on first use, so the
# command line validates a case before any solver (or JAX) is imported.
BACKENDS: dict[str, str] = {
    "etdrk": "solvers.rollout:SPECTRAL",
    "projection": "solvers.projection:PROJECTION",
    "finite-difference": "solvers.finite_difference:FINITE_DIFFERENCE",
    "ode": "solvers.ode:ODE",
}


def backend_for(case: Case) -> Backend:
    target = BACKENDS[case.solver.method]
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)
