"""Cases without space (PDE ``n_dims`` 0) through diffrax: the ``ode`` back-end.

The right-hand side is the PDE file's own ``linear()`` applied plus its
``nonlinear(d)`` sources (multi-index ``()``), evaluated at the one "point"
the state is: the same definition that symbolic discovery and PINNs read.

Each save interval is one ``diffrax.diffeqsolve`` from the saved state, so the
adaptive steps end exactly on the save times and a trajectory does not depend
on how a run is split into blocks (a resumed file equals an uninterrupted one,
and :func:`solvers.solve.solve` equals :func:`solvers.solve.run_case`). The
drivers' step counter counts save intervals: ``static.dt`` is ``save_dt``.
"""

from __future__ import annotations

from typing import Callable

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from phys.case import Case
from phys.pdes._base import AbstractPDE, Derivatives, MultiIndex
from solvers.scheme import AbstractScheme, State, TimeAxis

__all__ = ["Ode", "vector_field"]

_INTEGRATORS: dict[str, Callable[[], diffrax.AbstractSolver]] = {
    "tsit5": diffrax.Tsit5,
    "dopri5": diffrax.Dopri5,
    "dopri8": diffrax.Dopri8,
    "bosh3": diffrax.Bosh3,
    "heun": diffrax.Heun,
    "kvaerno3": diffrax.Kvaerno3,
    "kvaerno4": diffrax.Kvaerno4,
    "kvaerno5": diffrax.Kvaerno5,
}
_ADJOINTS: dict[str, Callable[[], diffrax.AbstractAdjoint]] = {
    "recursive": diffrax.RecursiveCheckpointAdjoint,
    "backsolve": diffrax.BacksolveAdjoint,
    "direct": diffrax.DirectAdjoint,
    "forward": diffrax.ForwardMode,
}


class _Point:
    """The :class:`~phys.pdes._base.Derivatives` of a state without space: values only."""

    coordinates: tuple[Array, ...] = ()

    def __init__(self, fields: tuple[str, ...], y: Float[Array, " fields"]):
        self._fields = fields
        self._y = y

    def __call__(self, field: str, alpha: MultiIndex = (), *, laplacian_power: int = 0) -> Array:
        _require_source(field, alpha, laplacian_power)
        return self._y[self._fields.index(field)]


def _require_source(field: str, alpha: MultiIndex, laplacian_power: int = 0) -> None:
    if alpha or laplacian_power:
        raise ValueError(f"a PDE without space has no derivatives; got D^{alpha} lap^{laplacian_power} of '{field}'")


def vector_field(pde: AbstractPDE, fields: tuple[str, ...], y: Float[Array, " fields"]) -> Float[Array, " fields"]:
    """``dy/dt``: the PDE's linear part applied to ``y`` plus its nonlinear sources."""
    point = _Point(fields, y)
    linear, nonlinear = pde.linear(), pde.nonlinear(point)
    rates = []
    for index, name in enumerate(fields):
        rate = jnp.zeros_like(y[index])
        for alpha, coefficient in linear.get(name, {}).items():
            _require_source(name, alpha)
            rate = rate + coefficient * y[index]
        for alpha, source in nonlinear.get(name, {}).items():
            _require_source(name, alpha)
            rate = rate + source
        rates.append(rate)
    return jnp.stack(rates).astype(y.dtype)


class Ode(AbstractScheme):
    """The ``ode`` scheme: adaptive Runge-Kutta through diffrax, for cases without space.

    The right-hand side is the PDE file's own ``linear()`` applied plus its
    ``nonlinear(d)`` sources (multi-index ``()``), evaluated at the one
    "point" the state is: the same definition that symbolic discovery and
    PINNs read. A step is one save interval, one ``diffrax.diffeqsolve``
    from the saved state: the adaptive steps end exactly on the save times,
    and a trajectory does not depend on how a run is split into blocks. So
    here ``time.dt`` is ``save_dt`` and ``first_dt`` (the case's ``dt``) is
    diffrax's trial step. A solve that diffrax cannot finish (``max_steps``,
    a step size that underflowed) gives a non-finite state, which the time
    loop reports like any blow-up. Gradients pass through the case's diffrax
    adjoint.
    """

    pde: AbstractPDE
    time: TimeAxis = eqx.field(static=True)
    dtype: str = eqx.field(static=True)
    names: tuple[str, ...] = eqx.field(static=True)
    first_dt: float = eqx.field(static=True)
    integrator: str = eqx.field(static=True)
    rtol: float = eqx.field(static=True)
    atol: float = eqx.field(static=True)
    adjoint: str = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)

    @classmethod
    def from_case(cls, case: Case) -> Ode:
        solver, time = case.solver, case.time
        assert time.save_dt is not None
        return cls(
            pde=case.pde.build(case.dtype),
            time=TimeAxis(t0=time.t0, dt=time.save_dt, n_steps=time.n_saves - 1, save_every=1),
            dtype=case.dtype,
            names=case.fields,
            first_dt=time.dt,
            integrator=solver.integrator,
            rtol=solver.rtol,
            atol=solver.atol,
            adjoint=solver.adjoint,
            max_steps=solver.max_steps,
        )

    def coords(self) -> tuple[np.ndarray, ...]:
        return ()

    def init(self, fields: Float[Array, " fields"]) -> State:
        return {"y": jnp.asarray(fields, jnp.dtype(self.dtype))}

    def fields(self, state: State) -> Float[Array, " fields"]:
        return state["y"]

    def step(self, state: State) -> State:
        term = diffrax.ODETerm(lambda t, y, pde: vector_field(pde, self.names, y))
        solution = diffrax.diffeqsolve(
            term,
            _INTEGRATORS[self.integrator](),
            t0=0.0,
            t1=self.time.dt,
            dt0=self.first_dt,
            y0=state["y"],
            args=self.pde,  # as an argument, not closed over, so every adjoint reaches the parameters
            saveat=diffrax.SaveAt(t1=True),
            stepsize_controller=diffrax.PIDController(rtol=self.rtol, atol=self.atol),
            adjoint=_ADJOINTS[self.adjoint](),
            max_steps=self.max_steps,
            throw=False,  # a failure becomes a non-finite state, reported with its step by the time loop
        )
        assert solution.ys is not None
        reached = solution.result == diffrax.RESULTS.successful
        return {"y": jnp.where(reached, solution.ys[-1], jnp.nan)}

    def tendency(self, state: State) -> State:
        return {"y": vector_field(self.pde, self.names, state["y"])}

    def observe(self, state: State) -> dict[str, Array]:
        return self.pde.outputs(self.derivatives(state))

    def derivatives(self, state: State) -> Derivatives:
        return _Point(self.names, state["y"])

    def failure_hint(self) -> str:
        # Steps here are save intervals with adaptive substeps: dt is not the knob.
        return f"(steps count save intervals of {self.time.dt:g}) tighten rtol/atol (now {self.rtol:g}/{self.atol:g})"
