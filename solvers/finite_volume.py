"""Conservative finite volumes for 1D conservation laws (shocks), explicit SSP Runge-Kutta.

Space: ``n`` cells of width ``h = length / n``, the state their averages
``u_i`` at the centres ``origin + (i + 1/2) h``. The semi-discrete equation is

    du_i/dt = -(F_{i+1/2} - F_{i-1/2}) / h + (G_{i+1/2} - G_{i-1/2}) / h + S_i

so the total ``h sum_i u_i`` changes only by the two boundary fluxes and the
sources (the scheme is conservative, and shocks move at the Rankine-Hugoniot
speed; LeVeque 2002, *Finite Volume Methods for Hyperbolic Problems*, ch. 4
and 12).

The PDE is read, not rewritten (one definition for solver and PINN): its
first-derivative terms are the hyperbolic flux ``f(u) = -F_(1,) - c_1 u``
(:meth:`~phys.pdes._base.AbstractPDE.nonlinear` fluxes keyed ``(1,)`` and the
linear coefficient ``c_1`` of ``(1,)``), evaluated at the two states of each
face; its second-derivative linear terms ``c_2 u_xx`` are a diffusive flux
``G = c_2 (u_{i+1} - u_i) / h``; its sources (``()`` keys, and ``c_0 u``)
are evaluated at the centres, ``d.coordinates`` there.

- Face states (``solver.reconstruction``): ``constant`` (first order, the
  two neighbouring averages) or ``muscl`` (van Leer's MUSCL with minmod
  slopes: second order where the solution is smooth, no new extrema).
- Riemann solver (``solver.flux``): ``rusanov``, the local Lax-Friedrichs
  flux ``(f(u_L) + f(u_R)) / 2 - a (u_R - u_L) / 2`` with ``a`` the larger
  spectral bound (Gershgorin, ``max_i sum_j |df_i/du_j|``, by forward-mode
  autodiff of the PDE's flux; ``|f'(u)|`` for one field) of the two states
  (Rusanov 1961); or ``upwind``, ``f(u_L)`` or ``f(u_R)`` by the sign of the
  Roe speed ``(f(u_R) - f(u_L)) / (u_R - u_L)`` (Murman-Roe; one field; with
  no entropy fix, so a transonic rarefaction may stay a standing expansion
  shock: when the speed keeps one sign, as in ``burgers-forced``, it is the
  exact Godunov flux).
- Boundaries (ghost cells, two for MUSCL): ``periodic``; ``dirichlet`` (the
  ghost cells hold ``lower``/``upper``: the boundary value is the outer state
  of the boundary face's Riemann problem); ``neumann`` (ghosts continue the
  given gradient ``u_x``); ``inflow-outflow`` (``lower`` at the left, a copy
  of the last cell at the right: zero gradient, nothing reflects).
- Time: SSP Runge-Kutta of order 1 (forward Euler), 2 or 3 (Shu & Osher
  1988, eq. 2.18; Gottlieb, Shu & Tadmor 2001), each a convex combination of
  forward-Euler steps, so the scheme is TVD whenever forward Euler is: for
  ``dt (a_max / h + 2 max|c_2| / h^2) <= C`` with ``C = 1`` (constant) or
  ``1/2`` (MUSCL-minmod). :meth:`FiniteVolume.from_case` refuses a ``dt``
  above ``solver.max_cfl`` times that bound at the initial state and the
  boundary values, in one line.
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from phys.case import Case, CaseError
from phys.initial import initial_fields
from phys.pdes._base import AbstractPDE, Derivatives, MultiIndex
from solvers.scheme import AbstractScheme, State, TimeAxis

__all__ = ["Cells", "FiniteVolume", "stable_dt"]

# SSP Runge-Kutta (Shu & Osher 1988) in Shu-Osher form: stage k is
# ``a u^n + b (u^(k-1) + dt L(u^(k-1)))``.
_SSP_STAGES: dict[int, tuple[tuple[float, float], ...]] = {
    1: ((0.0, 1.0),),
    2: ((0.0, 1.0), (0.5, 0.5)),
    3: ((0.0, 1.0), (0.75, 0.25), (1.0 / 3.0, 2.0 / 3.0)),
}
# The forward-Euler TVD bound on dt a / h of each reconstruction (LeVeque 2002, sec. 6.12).
_TVD_CFL = {"constant": 1.0, "muscl": 0.5}


class Cells(NamedTuple):
    """``n`` cells of ``origin + [0, length]``, their boundary kind and the scheme's options (hashable)."""

    n: int
    length: float
    origin: float
    bc: str  # "periodic", "dirichlet", "neumann" or "inflow-outflow"
    fields: tuple[str, ...]
    dtype: str
    flux: str  # "rusanov" or "upwind"
    reconstruction: str  # "constant" or "muscl"

    @property
    def spacing(self) -> float:
        return self.length / self.n

    @property
    def ghosts(self) -> int:
        return 2 if self.reconstruction == "muscl" else 1

    def centres(self) -> np.ndarray:
        return self.origin + self.spacing * (np.arange(self.n) + 0.5)

    def faces(self) -> np.ndarray:
        return self.origin + self.spacing * np.arange(self.n + 1)


class _Values:
    """:class:`~phys.pdes._base.Derivatives` of point values only (face states or cell averages)."""

    def __init__(self, fields: tuple[str, ...], u: Array, x: Array):
        self._fields, self._u = fields, u
        self.coordinates = (x,)

    def __call__(self, field: str, alpha: MultiIndex = (), *, laplacian_power: int = 0) -> Array:
        if any(alpha) or laplacian_power:
            raise NotImplementedError(
                "the finite-volume scheme evaluates fluxes and sources of the fields' values; "
                f"this PDE asks for D^{tuple(alpha)} of '{field}'"
            )
        return self._u[self._fields.index(field)]


class _CellDerivatives:
    """:class:`~phys.pdes._base.Derivatives` of the cell averages (central differences through the ghost cells), for outputs."""

    def __init__(self, cells: Cells, padded: Array):
        self._cells, self._padded = cells, padded
        self.coordinates = (jnp.asarray(cells.centres(), jnp.dtype(cells.dtype)),)

    def __call__(self, field: str, alpha: MultiIndex = (), *, laplacian_power: int = 0) -> Array:
        order = tuple(alpha)[0] if alpha else 0
        if laplacian_power or order > 2:
            raise NotImplementedError(f"the finite-volume grid offers derivatives up to second order, not D^{tuple(alpha)}")
        s, g, h = self._cells, self._cells.ghosts, self._cells.spacing
        u = self._padded[s.fields.index(field)]
        inner = slice(g, g + s.n)
        if order == 0:
            return u[inner]
        if order == 1:
            return (u[g + 1 : g + 1 + s.n] - u[g - 1 : g - 1 + s.n]) / (2 * h)
        return (u[g + 1 : g + 1 + s.n] - 2 * u[inner] + u[g - 1 : g - 1 + s.n]) / h**2


def _padded(cells: Cells, u: Float[Array, "fields n"], boundary: Float[Array, "2"]) -> Float[Array, "fields n+2g"]:
    """``u`` with its ghost cells on both sides."""
    g, h = cells.ghosts, cells.spacing
    if cells.bc == "periodic":
        return jnp.concatenate([u[:, -g:], u, u[:, :g]], axis=1)
    ones = jnp.ones((u.shape[0], g), u.dtype)
    if cells.bc == "dirichlet":
        left, right = boundary[0] * ones, boundary[1] * ones
    elif cells.bc == "neumann":
        # Ghost k (1-based) lies k h from the end cell's centre.
        steps = jnp.arange(1, g + 1, dtype=u.dtype)[None, :] * h
        left = (u[:, :1] - boundary[0] * steps)[:, ::-1]
        right = u[:, -1:] + boundary[1] * steps
    else:  # inflow-outflow
        left, right = boundary[0] * ones, u[:, -1:] * ones
    return jnp.concatenate([left.astype(u.dtype), u, right.astype(u.dtype)], axis=1)


def _minmod(a: Array, b: Array) -> Array:
    return jnp.where(a * b > 0, jnp.sign(a) * jnp.minimum(jnp.abs(a), jnp.abs(b)), jnp.zeros_like(a))


def _face_states(cells: Cells, padded: Array) -> tuple[Float[Array, "fields n+1"], Float[Array, "fields n+1"]]:
    """The left and right states at the ``n + 1`` faces."""
    g, n = cells.ghosts, cells.n
    # Face f (0..n) lies between cells f - 1 and f, at padded indices g - 1 + f and g + f.
    left, right = padded[:, g - 1 : g + n], padded[:, g : g + n + 1]
    if cells.reconstruction == "constant":
        return left, right
    # Minmod slopes of padded cells 1 .. n + 2 (the real cells and one ghost each side).
    slope = _minmod(padded[:, 1:-1] - padded[:, :-2], padded[:, 2:] - padded[:, 1:-1])
    # padded index j has slope[j - 1]; g = 2.
    return left + 0.5 * slope[:, g - 2 : g - 1 + n], right - 0.5 * slope[:, g - 1 : g + n]


class FiniteVolume(AbstractScheme):
    """The ``finite-volume`` scheme; see the module docstring.

    The state is ``{"u": the cell averages [fields, n]}``. ``boundary`` holds
    the case's (lower, upper) values (an array, so gradients reach them).
    """

    pde: AbstractPDE
    boundary: Float[Array, "2"]
    time: TimeAxis = eqx.field(static=True)
    dtype: str = eqx.field(static=True)
    cells: Cells = eqx.field(static=True)
    order: int = eqx.field(static=True)

    @classmethod
    def from_case(cls, case: Case) -> FiniteVolume:
        solver = case.solver
        (bc,) = case.bcs
        cells = Cells(case.grid.n[0], case.domain.length[0], case.domain.origin[0], bc.kind, case.fields, case.dtype, solver.flux, solver.reconstruction)
        pde = case.pde.build(case.dtype)
        _check_terms(case, pde)
        boundary = jnp.asarray([bc.lower, bc.upper], dtype=jnp.dtype(case.dtype))
        scheme = cls(pde=pde, boundary=boundary, time=TimeAxis.from_case(case), dtype=case.dtype, cells=cells, order=solver.order)
        u0 = initial_fields(case, scheme.coords())
        limit = solver.max_cfl * stable_dt(scheme, u0)
        if case.time.dt > limit:
            speed = float(scheme.max_wave_speed(u0))
            raise CaseError(
                "time.dt",
                f"{case.time.dt:g} exceeds the CFL limit {limit:.4g} of the finite-volume scheme "
                f"(max wave speed {speed:.4g} of the initial state and boundary values, h = {cells.spacing:.4g}, "
                f"reconstruction {cells.reconstruction}, max_cfl = {solver.max_cfl:g})",
            )
        return scheme

    def coords(self) -> tuple[np.ndarray, ...]:
        return (self.cells.centres(),)

    def init(self, fields: Float[Array, "fields n"]) -> State:
        return {"u": jnp.asarray(fields, jnp.dtype(self.dtype))}

    def fields(self, state: State) -> Float[Array, "fields n"]:
        return state["u"]

    # -- the pieces of the right-hand side -------------------------------------

    def flux(self, u: Float[Array, "fields m"], x: Float[Array, " m"]) -> Float[Array, "fields m"]:
        """The PDE's hyperbolic flux ``f(u)`` at points ``x`` (``u_t + f(u)_x = ...``)."""
        nonlinear = self.pde.nonlinear(_Values(self.cells.fields, u, x))
        linear = self.pde.linear()
        rows = []
        for k, field in enumerate(self.cells.fields):
            value = -linear.get(field, {}).get((1,), 0.0) * u[k]
            value = value - nonlinear.get(field, {}).get((1,), 0.0)
            rows.append(jnp.broadcast_to(value, u[k].shape).astype(u.dtype))
        return jnp.stack(rows)

    def wave_speed(self, u: Float[Array, "fields m"], x: Float[Array, " m"]) -> Float[Array, " m"]:
        """A bound on the spectral radius of ``df/du`` at each point: ``max_i sum_j |df_i/du_j|`` (``|f'(u)|`` for one field)."""
        fields = u.shape[0]
        # One forward-mode pass per field gives the Jacobian's columns at every point (f is pointwise).
        columns = [jax.jvp(lambda v: self.flux(v, x), (u,), (jnp.zeros_like(u).at[j].set(1.0),))[1] for j in range(fields)]
        jacobian = jnp.stack(columns, axis=1)  # [i, j, m]
        return jnp.max(jnp.sum(jnp.abs(jacobian), axis=1), axis=0)

    def max_wave_speed(self, fields: Float[Array, "fields n"]) -> Float[Array, ""]:
        """The largest wave speed over the cells of ``fields`` and the boundary values."""
        x = jnp.asarray(self.cells.centres(), jnp.dtype(self.dtype))
        speed = jnp.max(self.wave_speed(fields, x))
        if self.cells.bc in ("dirichlet", "inflow-outflow"):
            ends = jnp.broadcast_to(self.boundary.astype(fields.dtype)[None, :], (fields.shape[0], 2))
            faces = jnp.asarray(self.cells.faces()[[0, -1]], jnp.dtype(self.dtype))
            speed = jnp.maximum(speed, jnp.max(self.wave_speed(ends, faces)))
        return speed

    def numerical_flux(self, left: Float[Array, "fields m"], right: Float[Array, "fields m"], x: Float[Array, " m"]) -> Float[Array, "fields m"]:
        """The Riemann solver's flux between the states ``left`` and ``right`` at faces ``x``."""
        f_left, f_right = self.flux(left, x), self.flux(right, x)
        if self.cells.flux == "upwind":
            # The Roe speed's sign is that of (f_R - f_L)(u_R - u_L); where u_R = u_L both fluxes agree.
            return jnp.where((f_right - f_left) * (right - left) >= 0, f_left, f_right)
        speed = jnp.maximum(self.wave_speed(left, x), self.wave_speed(right, x))[None, :]
        return 0.5 * (f_left + f_right) - 0.5 * speed * (right - left)

    def face_fluxes(self, u: Float[Array, "fields n"]) -> Float[Array, "fields n+1"]:
        """The total flux through each face, ``F - G`` (hyperbolic minus diffusive), leftmost face first."""
        cells = self.cells
        padded = _padded(cells, u, self.boundary)
        x_faces = jnp.asarray(cells.faces(), u.dtype)
        left, right = _face_states(cells, padded)
        total = self.numerical_flux(left, right, x_faces)
        g, n, h = cells.ghosts, cells.n, cells.spacing
        linear = self.pde.linear()
        diffusivity = jnp.stack([jnp.asarray(linear.get(f, {}).get((2,), 0.0), u.dtype) for f in cells.fields])[:, None]
        gradient = (padded[:, g : g + n + 1] - padded[:, g - 1 : g + n]) / h
        return total - diffusivity * gradient

    def sources(self, u: Float[Array, "fields n"]) -> Float[Array, "fields n"]:
        """The PDE's source terms at the cell centres: its ``()`` fluxes and the linear ``c_0 u``."""
        x = jnp.asarray(self.cells.centres(), u.dtype)
        nonlinear = self.pde.nonlinear(_Values(self.cells.fields, u, x))
        linear = self.pde.linear()
        rows = []
        for k, field in enumerate(self.cells.fields):
            terms = linear.get(field, {})
            value = (terms.get((), 0.0) + terms.get((0,), 0.0)) * u[k] + nonlinear.get(field, {}).get((), 0.0)
            rows.append(jnp.broadcast_to(value, u[k].shape).astype(u.dtype))
        return jnp.stack(rows)

    def _rate(self, u: Float[Array, "fields n"]) -> Float[Array, "fields n"]:
        fluxes = self.face_fluxes(u)
        return -(fluxes[:, 1:] - fluxes[:, :-1]) / self.cells.spacing + self.sources(u)

    # -- the contract ------------------------------------------------------------

    def tendency(self, state: State) -> State:
        """``du_i/dt = -(F_{i+1/2} - F_{i-1/2}) / h + S_i`` at every cell (no value is imposed)."""
        return {"u": self._rate(state["u"])}

    def step(self, state: State) -> State:
        """One SSP Runge-Kutta step of order ``solver.order`` (Shu-Osher form)."""
        dt = self.time.dt
        u0 = state["u"]
        stage = u0
        for a, b in _SSP_STAGES[self.order]:
            euler = stage + dt * self._rate(stage)
            stage = euler if a == 0.0 else a * u0 + b * euler
        return {"u": stage}

    def observe(self, state: State) -> dict[str, Array]:
        return self.pde.outputs(self.derivatives(state))

    def derivatives(self, state: State) -> Derivatives:
        return _CellDerivatives(self.cells, _padded(self.cells, state["u"], self.boundary))

    def failure_hint(self) -> str:
        return f"reduce dt (now {self.time.dt:g}; the CFL number dt max|f'(u)| / h may have grown past {_TVD_CFL[self.cells.reconstruction]:g})"

    def report(self, state: State) -> str | None:
        speed = float(self.max_wave_speed(state["u"]))
        return f"finite-volume: CFL number dt max|f'(u)| / h = {self.time.dt * speed / self.cells.spacing:.3g} at the final state"


def stable_dt(scheme: FiniteVolume, fields: Float[Array, "fields n"]) -> float:
    """The forward-Euler TVD step bound at ``fields``: ``C / (a_max / h + 2 max|c_2| / h^2)``.

    ``a_max`` is the largest wave speed of ``fields`` and the boundary values,
    ``c_2`` the PDE's diffusivities, ``C`` 1 (constant) or 1/2 (MUSCL). Every
    SSP Runge-Kutta step here keeps the bound (SSP coefficient 1).
    """
    cells = scheme.cells
    h = cells.spacing
    linear = scheme.pde.linear()
    diffusivity = max([abs(float(linear.get(f, {}).get((2,), 0.0))) for f in cells.fields])
    rate = float(scheme.max_wave_speed(fields)) / h + 2.0 * diffusivity / h**2
    return float("inf") if rate == 0 else _TVD_CFL[cells.reconstruction] / rate


def _check_terms(case: Case, pde: AbstractPDE) -> None:
    """``CaseError`` unless the PDE's terms are ones this scheme reads (see the module docstring)."""
    for field, terms in pde.linear().items():
        for alpha in terms:
            if tuple(alpha) not in ((), (0,), (1,), (2,)):
                raise CaseError(
                    "solver.method",
                    f"solver 'finite-volume' takes linear terms up to second derivatives; PDE '{case.pde.name}' has D^{tuple(alpha)} in '{field}'",
                )
    cells_u = jnp.zeros((len(case.fields), 4), jnp.dtype(case.dtype))
    x = jnp.zeros((4,), jnp.dtype(case.dtype))
    try:
        fluxes = pde.nonlinear(_Values(case.fields, cells_u, x))
    except NotImplementedError as error:
        raise CaseError("solver.method", f"PDE '{case.pde.name}': {error}") from None
    for field, terms in fluxes.items():
        for key in terms:
            if tuple(key) not in ((), (1,)):
                raise CaseError(
                    "solver.method",
                    f"solver 'finite-volume' takes fluxes of first derivatives and sources; PDE '{case.pde.name}' has the key {key!r} in '{field}'",
                )
