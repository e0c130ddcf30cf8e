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

import functools
from typing import Callable, NamedTuple

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from phys.case import Case, CaseError
from phys.compile import Params, initial_state, make_pde
from phys.pdes import load
from phys.pdes._base import AbstractPDE, MultiIndex
from solvers.backend import NO_BAD_STEP

__all__ = ["OdeStatic", "compile_ode", "vector_field", "advance", "trajectory", "ODE"]

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


class OdeStatic(NamedTuple):
    """Hashable, compile-time description of an ODE solve (a ``jit`` static argument)."""

    pde: str
    fields: tuple[str, ...]
    t0: float
    dt: float  # the save interval: the drivers count save intervals as steps
    n_steps: int  # save intervals
    first_dt: float  # trial step at the start of each interval (``time.dt``)
    integrator: str
    rtol: float
    atol: float
    adjoint: str
    max_steps: int  # per save interval
    dtype: str
    save_every: int = 1

    @property
    def n_saves(self) -> int:
        """Snapshots saved, the initial one included."""
        return self.n_steps + 1

    def save_times(self) -> np.ndarray:
        return self.t0 + self.dt * np.arange(self.n_saves)

    @property
    def failure_hint(self) -> str:
        # Steps here are save intervals with adaptive substeps: dt is not the knob.
        return f"(steps count save intervals of {self.dt:g}) tighten rtol/atol (now {self.rtol:g}/{self.atol:g})"


def compile_ode(case: Case, key: jax.Array | None = None) -> tuple[OdeStatic, Params]:
    """Split a 0-D ``case`` into its static part and its arrays (``u0`` shaped ``[fields]``)."""
    if case.dtype == "float64" and not jax.config.jax_enable_x64:
        raise CaseError(
            "dtype", "float64 needs JAX's 64-bit mode: call jax.config.update('jax_enable_x64', True) first"
        )
    solver, time = case.solver, case.time
    assert time.save_dt is not None
    static = OdeStatic(
        pde=case.pde.name,
        fields=case.fields,
        t0=time.t0,
        dt=time.save_dt,
        n_steps=time.n_saves - 1,
        first_dt=time.dt,
        integrator=solver.integrator,
        rtol=solver.rtol,
        atol=solver.atol,
        adjoint=solver.adjoint,
        max_steps=solver.max_steps,
        dtype=case.dtype,
    )
    return static, Params(pde=make_pde(case), u0=initial_state(case, key))


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


def _interval(
    static: OdeStatic, pde: AbstractPDE, y: Float[Array, " fields"], start: Float[Array, ""]
) -> tuple[Float[Array, " fields"], Bool[Array, ""]]:
    """The state one save interval after ``start``, and whether diffrax got there."""
    term = diffrax.ODETerm(lambda t, state, args: vector_field(args, static.fields, state))
    solution = diffrax.diffeqsolve(
        term,
        _INTEGRATORS[static.integrator](),
        t0=start,
        t1=start + static.dt,
        dt0=static.first_dt,
        y0=y,
        args=pde,  # as an argument, not closed over, so every adjoint reaches the parameters
        saveat=diffrax.SaveAt(t1=True),
        stepsize_controller=diffrax.PIDController(rtol=static.rtol, atol=static.atol),
        adjoint=_ADJOINTS[static.adjoint](),
        max_steps=static.max_steps,
        throw=False,  # failures are reported with their time by the caller, not raised inside jit
    )
    assert solution.ys is not None
    return solution.ys[-1], solution.result == diffrax.RESULTS.successful


def _outputs(static: OdeStatic, pde: AbstractPDE, y: Float[Array, " fields"]) -> dict[str, Array]:
    return pde.outputs(_Point(static.fields, y))


@functools.partial(jax.jit, static_argnames=("static", "n_saves"))
def advance(
    static: OdeStatic, params: Params, y: Float[Array, " fields"], first_step: Int[Array, ""], n_saves: int
) -> tuple[Float[Array, " fields"], Float[Array, "n_saves fields"], Int[Array, ""]]:
    """Advance ``n_saves`` save intervals from interval ``first_step``.

    Returns the final state, the states after each interval and the first
    interval (global, 1-based) that failed (non-finite values, or diffrax
    stopped: ``max_steps`` or a step size that underflowed), or
    ``NO_BAD_STEP``. After a failure the state is carried unchanged, so no
    further interval burns ``max_steps`` on a non-finite state.
    """
    dtype = params.u0.dtype

    def one_interval(carry, _):
        y, step, bad = carry
        start = static.t0 + step.astype(dtype) * static.dt
        y_next, reached = jax.lax.cond(
            bad == NO_BAD_STEP,
            lambda y: _interval(static, params.pde, y, start),
            lambda y: (y, jnp.asarray(True)),
            y,
        )
        step = step + 1
        ok = reached & jnp.all(jnp.isfinite(y_next))
        bad = jnp.where((bad == NO_BAD_STEP) & ~ok, step, bad)
        return (y_next, step, bad), y_next

    start = (y, jnp.asarray(first_step, jnp.int32), jnp.asarray(NO_BAD_STEP, jnp.int32))
    (y, _, bad), saves = jax.lax.scan(one_interval, start, None, length=n_saves)
    return y, saves, bad


def trajectory(static: OdeStatic, params: Params) -> tuple[Float[Array, "n_saves fields"], Int[Array, ""]]:
    """The whole trajectory ``[n_saves, fields]`` (initial state first) and the first bad interval.

    Pure and differentiable (through the case's diffrax adjoint); ``vmap`` it
    over ``params`` for ensembles.
    """
    _, saves, bad = advance(static, params, params.u0, jnp.asarray(0, jnp.int32), static.n_saves - 1)
    return jnp.concatenate([params.u0[None], saves]), bad


class _Ode:
    """The ``ode`` back-end (:class:`solvers.backend.Backend`)."""

    def compile(self, case: Case) -> tuple[OdeStatic, Params]:
        return compile_ode(case)

    def outputs(self, case: Case) -> dict[str, int]:
        return load(case.pde.name).output_tensor_orders()

    def coords(self, case: Case) -> tuple[np.ndarray, ...]:
        return ()

    def init(self, static: OdeStatic, params: Params) -> dict[str, Array]:
        return {"y": params.u0}

    def snapshot(self, static: OdeStatic, params: Params, state: dict[str, Array]) -> dict[str, Array]:
        return _outputs(static, params.pde, state["y"])

    def advance(
        self, static: OdeStatic, params: Params, state: dict[str, Array], first_step: Int[Array, ""], n_saves: int
    ) -> tuple[dict[str, Array], dict[str, Array], Int[Array, ""]]:
        y, saves, bad = advance(static, params, state["y"], first_step, n_saves)
        outputs = jax.vmap(lambda y: _outputs(static, params.pde, y))(saves)
        return {"y": y}, outputs, bad


ODE = _Ode()
