"""Exponential time differencing Runge-Kutta schemes of orders 1 to 4.

For ``u_t = L u + N(u)`` with ``L`` diagonal in Fourier space, ``z = h L``:

- ETD1 (exponential Euler):  ``u' = e^z u + h phi1(z) N(u)``
- ETD2RK (Cox & Matthews 2002, eq. 22)
- ETD3RK (Cox & Matthews 2002, eq. 23-25)
- ETDRK4 (Cox & Matthews 2002, eq. 26-29, in the form of Kassam &
  Trefethen 2005, eq. 2.5)

with ``phi1(z) = (e^z - 1)/z``, ``phi2 = (e^z - 1 - z)/z^2``,
``phi3 = (e^z - 1 - z - z^2/2)/z^3``. These suffer cancellation near ``z = 0``;
following Kassam & Trefethen (2005, section 3) each is evaluated as its mean
over points on a circle of radius 1 around ``z`` (Cauchy's integral formula),
where the direct formula is well conditioned. We use the full circle, so that
complex ``z`` (odd derivatives, e.g. advection) is handled too.
"""

from __future__ import annotations

import math
from typing import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Complex, Float, Int

from phys.case import Case
from phys.pdes._base import AbstractPDE, Derivatives
from solvers._loops import checkpointed_loop
from solvers.scheme import NO_BAD_STEP, AbstractScheme, State, TimeAxis
from solvers.spectral import (
    FourierGrid,
    SpectralNonlinear,
    linear_symbols,
    spectral_derivatives,
    spectral_outputs,
    to_fourier,
    to_physical,
)

__all__ = ["ETDRK", "MAX_REFINEMENT", "Spectral", "phi_functions", "phi_functions_series"]


def phi_functions(z: Complex[Array, "*modes"], points: int) -> tuple[Array, Array, Array]:
    """``phi1, phi2, phi3`` at ``z`` by the contour mean (Kassam & Trefethen 2005)."""
    theta = jnp.pi * (2 * jnp.arange(points) + 1) / points
    circle = jnp.exp(1j * theta).astype(z.dtype).reshape((1,) * z.ndim + (points,))
    r = z[..., None] + circle
    e = jnp.exp(r)
    phi1 = jnp.mean((e - 1) / r, axis=-1)
    phi2 = jnp.mean((e - 1 - r) / r**2, axis=-1)
    phi3 = jnp.mean((e - 1 - r - r**2 / 2) / r**3, axis=-1)
    return phi1, phi2, phi3


# phi3(z) = sum_j z^j / (j + 3)!: for |z| < 1 the terms from j = 17 on sum to
# less than 1 / 20! ~ 4e-19, below float64 rounding.
_SERIES_TERMS = 17


def phi_functions_series(z: Complex[Array, "*modes"]) -> tuple[Array, Array, Array]:
    """``phi1, phi2, phi3`` at ``z``: Taylor series where ``|z| < 1``, the direct formulas elsewhere.

    The same values as :func:`phi_functions` to rounding (a test checks it),
    at a fraction of the cost: one ``exp`` and a short polynomial per mode
    instead of ``points`` of each. For coefficients rebuilt inside a loop
    (an adaptive step). ``phi3`` is summed by Horner's rule; ``phi2 = 1/2 +
    z phi3`` and ``phi1 = 1 + z phi2`` follow without cancellation for
    ``|z| < 1``. For ``|z| >= 1``, ``phi_{k+1} = (phi_k - 1/k!) / z`` loses
    at most a few digits' worth of ulps at ``|z| = 1`` and fewer beyond.
    Each branch sees a harmless stand-in for the other's inputs (the double
    ``where``), so gradients stay finite.
    """
    small = jnp.abs(z) < 1
    zs = jnp.where(small, z, 0)
    phi3 = jnp.full_like(z, 1 / math.factorial(_SERIES_TERMS + 2))
    for j in range(_SERIES_TERMS - 2, -1, -1):
        phi3 = phi3 * zs + 1 / math.factorial(j + 3)
    phi2 = 0.5 + zs * phi3
    phi1 = 1 + zs * phi2
    zb = jnp.where(small, 1, z)
    big1 = (jnp.exp(zb) - 1) / zb
    big2 = (big1 - 1) / zb
    big3 = (big2 - 0.5) / zb
    return jnp.where(small, phi1, big1), jnp.where(small, phi2, big2), jnp.where(small, phi3, big3)


class ETDRK(eqx.Module):
    """One ETDRK step ``u_hat -> u_hat`` of order 1-4 for a diagonal ``L``.

    Built once per solve (the phi-function coefficients are precomputed from
    the PDE's linear symbol, so gradients reach its coefficients), then a pure
    function of the state.
    """

    order: int = eqx.field(static=True)
    nonlinear: Callable[[Array], Array]  # a Module (SpectralNonlinear), so its parameters are leaves
    exp_full: Array
    exp_half: Array
    coefficients: tuple[Array, ...]

    def __init__(
        self,
        linear: Complex[Array, "fields *modes"],
        dt: float | Array,
        order: int,
        nonlinear,
        points: int = 64,
        series: bool = False,
    ):
        """``series``: phi functions by :func:`phi_functions_series` (cheap; for a ``dt`` that changes
        inside a loop) instead of the contour mean with ``points`` points."""
        if order not in (1, 2, 3, 4):
            raise ValueError(f"order must be 1, 2, 3 or 4, got {order}")
        self.order = order
        self.nonlinear = nonlinear
        z = dt * linear
        self.exp_full = jnp.exp(z)
        self.exp_half = jnp.exp(z / 2)
        phi = phi_functions_series if series else lambda x: phi_functions(x, points)
        phi1, phi2, phi3 = phi(z)
        if order == 1:
            self.coefficients = (dt * phi1,)
        elif order == 2:
            self.coefficients = (dt * phi1, dt * phi2)
        else:
            half_phi1, _, _ = phi(z / 2)
            self.coefficients = (
                dt / 2 * half_phi1,
                dt * phi1,
                dt * (4 * phi3 - 3 * phi2 + phi1),
                dt * (phi2 - 2 * phi3),
                dt * (4 * phi3 - phi2),
            )

    def __call__(self, u: Array) -> Array:
        N = self.nonlinear
        E, E2 = self.exp_full, self.exp_half
        if self.order == 1:
            (f1,) = self.coefficients
            return E * u + f1 * N(u)
        if self.order == 2:
            f1, f2 = self.coefficients
            nu = N(u)
            a = E * u + f1 * nu
            return a + f2 * (N(a) - nu)
        q, f_full, g1, g2, g3 = self.coefficients
        nu = N(u)
        a = E2 * u + q * nu
        na = N(a)
        if self.order == 3:
            b = E * u + f_full * (2 * na - nu)
            return E * u + g1 * nu + 4 * g2 * na + g3 * N(b)
        b = E2 * u + q * na
        nb = N(b)
        c = E2 * a + q * (2 * nb - nu)
        return E * u + g1 * nu + 2 * g2 * (na + nb) + g3 * N(c)


# An adaptive run never steps below ``time.dt / MAX_REFINEMENT``: a flow that
# asks for more (a blow-up under way) runs past its CFL number and fails
# rather than grinding on. It bounds the substep loop, and so the checkpoints
# reverse mode keeps (about 2 sqrt(save_every * MAX_REFINEMENT) states).
MAX_REFINEMENT = 1024


class Spectral(AbstractScheme):
    """The ``etdrk`` scheme: Fourier grid on a periodic box, state in Fourier space, ETDRK steps.

    The state is ``{"u_hat": rfftn of the fields}`` and stays in Fourier space
    between steps; only saved snapshots are transformed back. The ETDRK
    coefficients come from the PDE's linear part once per rollout
    (:meth:`prepare`), by series (``solver.phi``, default) or contour mean.

    Adaptive step (``solver.cfl`` set): save times stay fixed, and each save
    interval is split into ``m`` equal substeps, the fewest for which
    ``dt * max_x sum_i |a_i| / dx_i <= cfl`` at the interval's start (``a``
    the PDE's ``advection_velocity``), but never fewer than ``save_every``
    (``time.dt`` is the largest step allowed) nor more than ``save_every *
    MAX_REFINEMENT``. The coefficients for ``save_dt / m`` are computed inside
    ``jit`` once per interval, by series rather than contour integrals (about
    half a step's cost), so ``m`` may be any integer. "Steps" keep their
    meaning for the drivers: the global count advances by ``save_every`` per
    interval whatever ``m`` was, and a failed substep ``k`` of ``m`` is
    reported as the nominal step ``ceil(k * save_every / m)`` of the
    interval, whose end time is at or at most one ``dt`` after the failing
    substep's. The state also carries the number of substeps taken
    (``"substeps"``). The substeps run in :func:`solvers._loops.checkpointed_loop`:
    reverse-mode gradients are exact through the steps (``m`` is piecewise
    constant in the state, so it contributes none), the loop costs ``m``
    steps, not its bound; forward mode (``jvp``) is not supported.
    """

    pde: AbstractPDE
    time: TimeAxis = eqx.field(static=True)
    dtype: str = eqx.field(static=True)
    grid: FourierGrid = eqx.field(static=True)
    order: int = eqx.field(static=True)
    contour_points: int = eqx.field(static=True)  # 0: phi functions by series
    cfl: float | None = eqx.field(static=True, default=None)
    # Filled by prepare(): the fixed-step ETDRK stepper of this PDE.
    stepper: ETDRK | None = None

    @classmethod
    def from_case(cls, case: Case) -> Spectral:
        solver = case.solver
        grid = FourierGrid(
            n=case.grid.n, length=case.domain.length, origin=case.domain.origin, fields=case.fields,
            dtype=case.dtype, dealias=solver.dealias,
        )
        return cls(
            pde=case.pde.build(case.dtype), time=TimeAxis.from_case(case), dtype=case.dtype, grid=grid,
            order=solver.order, contour_points=solver.contour_points if solver.phi == "contour" else 0, cfl=solver.cfl,
        )

    def coords(self) -> tuple[np.ndarray, ...]:
        g = self.grid
        return tuple(o + length * np.arange(size) / size for o, length, size in zip(g.origin, g.length, g.n))

    def make_stepper(self, dt: float | Array | None = None) -> ETDRK:
        """The ETDRK stepper of step ``dt`` (may be traced; series coefficients), by default ``time.dt``.

        The coefficients of ``time.dt`` follow ``solver.phi``: series, or the
        contour mean with ``contour_points`` points.
        """
        symbols = linear_symbols(self.grid, self.pde)
        nonlinear = SpectralNonlinear(self.pde, self.grid)
        if dt is None and self.contour_points:
            return ETDRK(symbols, self.time.dt, self.order, nonlinear, self.contour_points)
        return ETDRK(symbols, self.time.dt if dt is None else dt, self.order, nonlinear, series=True)

    def prepare(self) -> Spectral:
        return self if self.cfl is not None else eqx.tree_at(lambda s: s.stepper, self, self.make_stepper(), is_leaf=lambda x: x is None)

    def init(self, fields: Float[Array, "fields *n"]) -> State:
        state = {"u_hat": to_fourier(self.grid, jnp.asarray(fields, jnp.dtype(self.dtype)))}
        if self.cfl is not None:  # an adaptive run also counts the substeps it took
            state["substeps"] = jnp.zeros((), jnp.int32)
        return state

    def fields(self, state: State) -> Float[Array, "fields *n"]:
        return to_physical(self.grid, state["u_hat"])

    def step(self, state: State) -> State:
        stepper = self.stepper if self.stepper is not None else self.make_stepper()
        return {**state, "u_hat": stepper(state["u_hat"])}

    def tendency(self, state: State) -> State:
        u_hat = state["u_hat"]
        rate = linear_symbols(self.grid, self.pde) * u_hat + SpectralNonlinear(self.pde, self.grid)(u_hat)
        return {**{k: jnp.zeros_like(v) for k, v in state.items()}, "u_hat": rate}

    def observe(self, state: State) -> dict[str, Array]:
        return spectral_outputs(self.grid, self.pde, state["u_hat"])

    def derivatives(self, state: State) -> Derivatives:
        return spectral_derivatives(self.grid, state["u_hat"])

    def finite(self, state: State) -> Bool[Array, ""]:
        return jnp.isfinite(jnp.sum(jnp.abs(state["u_hat"]) ** 2))

    # -- the adaptive step ---------------------------------------------------------

    def cfl_rate(self, u_hat: Complex[Array, "fields *modes"]) -> Float[Array, ""]:
        """``max_x sum_i |a_i(x)| / dx_i`` for the PDE's ``advection_velocity`` ``a``: ``dt`` times it is the CFL number."""
        velocity = self.pde.advection_velocity(spectral_derivatives(self.grid, u_hat))
        spacing = [length / size for length, size in zip(self.grid.length, self.grid.n)]
        return jnp.max(sum(jnp.abs(a) / h for a, h in zip(velocity, spacing)))

    def max_substeps(self) -> int:
        # The nominal step of substep k is ceil(k * save_every / m) in int32:
        # k * save_every < 2**31 (``phys.case`` caps save_every at 46340).
        every = self.time.save_every
        return max(every, min(every * MAX_REFINEMENT, (2**31 - 1) // every))

    def choose_substeps(self, u_hat: Complex[Array, "fields *modes"]) -> Int[Array, ""]:
        """Substeps ``m`` of the save interval starting at ``u_hat``: the fewest with ``(save_dt / m) * rate <= cfl``.

        At least ``save_every`` (so ``dt <= time.dt``) and at most
        ``save_every * MAX_REFINEMENT``; ``save_every`` when the state is not
        finite (the failure is already reported by the step that made it).
        """
        assert self.cfl is not None
        rate = self.cfl_rate(u_hat)
        need = jnp.ceil(self.time.save_dt * rate / self.cfl)
        # Clip while still a float: a huge (or inf) rate must not overflow the int cast.
        m = jnp.clip(need, self.time.save_every, self.max_substeps())
        return jnp.where(jnp.isfinite(rate), m, self.time.save_every).astype(jnp.int32)

    def advance_interval(self, state: State, first_step: Int[Array, ""]) -> tuple[State, Int[Array, ""]]:
        if self.cfl is None:
            return super().advance_interval(state, first_step)
        u_hat = state["u_hat"]
        m = jax.lax.stop_gradient(self.choose_substeps(u_hat))
        real = jnp.dtype(self.dtype)
        stepper = self.make_stepper(jnp.asarray(self.time.save_dt, real) / m.astype(real))
        finite = lambda u: jnp.isfinite(jnp.sum(jnp.abs(u) ** 2))  # noqa: E731
        u_hat, failed = checkpointed_loop((stepper, u_hat), m, self.max_substeps(), finite)
        every = self.time.save_every
        nominal = first_step + (failed * every + m - 1) // m  # ceil(k * save_every / m)
        bad = jnp.where(failed < 0, NO_BAD_STEP, nominal).astype(jnp.int32)
        return {"u_hat": u_hat, "substeps": state["substeps"] + m}, bad

    def failure_hint(self) -> str:
        if self.cfl is None:
            return super().failure_hint()
        return f"reduce solver.cfl (now {self.cfl:g}; steps are counted in units of dt = {self.time.dt:g}, the largest allowed)"

    def report(self, state: State) -> str | None:
        """An adaptive run's closing line: substeps taken and their mean dt; None for a fixed step."""
        if self.cfl is None:
            return None
        taken = int(np.sum(np.asarray(state["substeps"])))
        span = self.time.dt * self.time.n_steps
        mean = f"mean dt {span / taken:.4g}, " if taken else ""
        return f"adaptive step (cfl {self.cfl:g}): {taken} steps, {mean}{self.time.n_steps} at the largest dt {self.time.dt:g}"
