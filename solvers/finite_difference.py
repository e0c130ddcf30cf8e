"""Finite differences on a bounded 1D interval or 2D box, IMEX Runge-Kutta in time.

(2D: Dirichlet on every side, the implicit part by sine transforms; see
:mod:`solvers._finite_difference_2d`. The rest of this docstring is the 1D scheme.)

Space: ``n`` uniformly spaced points ``x_i = origin + i h``, ``h = length /
(n - 1)``, both boundary points included. Derivatives are second-order central
differences; at the end points of the grid (where a PDE's flux or an output
needs a derivative) they are second-order one-sided differences.

Boundary conditions (both ends of the axis alike, values from the case):

- Dirichlet: the end values are imposed; the unknowns are the ``n - 2``
  interior points.
- Neumann (``u_x`` given): all ``n`` points are unknowns; a ghost point
  ``u_{-1} = u_1 - 2 h g`` (and its mirror at the far end) closes the central
  stencils, so the condition holds to second order (LeVeque 2007, sec. 2.12).

Time: the semi-discrete system ``y' = A y + r + N(y)`` is advanced by the
IMEX Runge-Kutta schemes of Ascher, Ruuth & Spiteri (1997): ``A y + r`` (the
PDE's :meth:`linear` part, tridiagonal, with ``r`` the boundary values'
contribution) implicitly, one tridiagonal solve per stage
(``jax.lax.linalg.tridiagonal_solve``, O(n)); the PDE's :meth:`nonlinear`
fluxes explicitly. All three schemes are stiffly accurate (the step's result
is the last stage) and L-stable in their implicit part, so diffusion sets no
step limit; the explicit part does (CFL ``|u| dt / h`` below about 1 for
convection).

The PDE is evaluated, not rewritten: its linear part is read as stencil
weights, its nonlinear fluxes are computed from finite-difference derivatives
supplied through :class:`phys.pdes._base.Derivatives`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from phys.case import Case, CaseError
from phys.pdes._base import AbstractPDE, Derivatives, MultiIndex, Terms
from solvers import _finite_difference_2d as _box
from solvers.scheme import AbstractScheme, State, TimeAxis

__all__ = ["FiniteDifference", "IMEX_TABLEAUS", "Line"]


# IMEX Runge-Kutta tableaus (explicit A_E, implicit A_I) of Ascher, Ruuth &
# Spiteri (1997, Appl. Numer. Math. 25, 151-167): (1,1,1) forward-backward
# Euler; (2,2,2) with gamma = 1 - 1/sqrt(2); (4,4,3). Both parts are
# stiffly accurate (b is the last row), so a step ends at the last stage. The
# order conditions of both tableaus and the coupling conditions up to third
# order hold exactly (checked with sympy when this was written).
_G = 1.0 - 1.0 / np.sqrt(2.0)
_D = 1.0 - 1.0 / (2.0 * _G)
IMEX_TABLEAUS: dict[int, tuple[tuple[tuple[float, ...], ...], tuple[tuple[float, ...], ...]]] = {
    1: (((0.0, 0.0), (1.0, 0.0)), ((0.0, 0.0), (0.0, 1.0))),
    2: (
        ((0.0, 0.0, 0.0), (_G, 0.0, 0.0), (_D, 1.0 - _D, 0.0)),
        ((0.0, 0.0, 0.0), (0.0, _G, 0.0), (0.0, 1.0 - _G, _G)),
    ),
    3: (
        (
            (0.0, 0.0, 0.0, 0.0, 0.0),
            (1 / 2, 0.0, 0.0, 0.0, 0.0),
            (11 / 18, 1 / 18, 0.0, 0.0, 0.0),
            (5 / 6, -5 / 6, 1 / 2, 0.0, 0.0),
            (1 / 4, 7 / 4, 3 / 4, -7 / 4, 0.0),
        ),
        (
            (0.0, 0.0, 0.0, 0.0, 0.0),
            (0.0, 1 / 2, 0.0, 0.0, 0.0),
            (0.0, 1 / 6, 1 / 2, 0.0, 0.0),
            (0.0, -1 / 2, 1 / 2, 1 / 2, 0.0),
            (0.0, 3 / 2, -3 / 2, 1 / 2, 1 / 2),
        ),
    ),
}


class Line(NamedTuple):
    """A bounded interval of ``n`` nodes, both ends included, and its boundary kind (hashable)."""

    n: tuple[int, ...]
    length: tuple[float, ...]
    origin: tuple[float, ...]
    bc: str  # "dirichlet" or "neumann", both ends alike
    fields: tuple[str, ...]
    dtype: str

    @property
    def spacing(self) -> float:
        return self.length[0] / (self.n[0] - 1)

    @property
    def unknowns(self) -> slice:
        """The grid points the scheme solves for: interior (Dirichlet) or all (Neumann)."""
        return slice(1, self.n[0] - 1) if self.bc == "dirichlet" else slice(0, self.n[0])

    @property
    def index(self) -> tuple[slice, ...]:
        """The unknowns of a ``[fields, *n]`` array, every axis (2D: the interior)."""
        if len(self.n) == 2:
            return (slice(None), slice(1, -1), slice(1, -1))
        return (slice(None), self.unknowns)


# -- finite-difference operators on the full grid ----------------------------


def _first(f: Float[Array, "... n"], h: float) -> Float[Array, "... n"]:
    """``f_x``: central inside, second-order one-sided at both ends."""
    inner = (f[..., 2:] - f[..., :-2]) / (2 * h)
    lower = (-3 * f[..., :1] + 4 * f[..., 1:2] - f[..., 2:3]) / (2 * h)
    upper = (3 * f[..., -1:] - 4 * f[..., -2:-1] + f[..., -3:-2]) / (2 * h)
    return jnp.concatenate([lower, inner, upper], axis=-1)


def _second(f: Float[Array, "... n"], h: float) -> Float[Array, "... n"]:
    """``f_xx``: central inside, second-order one-sided (four points) at both ends."""
    inner = (f[..., 2:] - 2 * f[..., 1:-1] + f[..., :-2]) / h**2
    lower = (2 * f[..., :1] - 5 * f[..., 1:2] + 4 * f[..., 2:3] - f[..., 3:4]) / h**2
    upper = (2 * f[..., -1:] - 5 * f[..., -2:-1] + 4 * f[..., -3:-2] - f[..., -4:-3]) / h**2
    return jnp.concatenate([lower, inner, upper], axis=-1)


def _derivative(f: Float[Array, "... n"], order: int, h: float) -> Float[Array, "... n"]:
    """``D^order f`` by composing the second- and first-derivative operators."""
    for _ in range(order // 2):
        f = _second(f, h)
    return _first(f, h) if order % 2 else f


def _ghosted(line: Line, u: Float[Array, "n"], boundary: Array) -> Float[Array, "n+2"]:
    """``u`` with the Neumann ghost points ``u_1 - 2 h g_lower`` and ``u_{n-2} + 2 h g_upper``."""
    h = line.spacing
    lower = u[1] - 2 * h * boundary[0]
    upper = u[-2] + 2 * h * boundary[1]
    return jnp.concatenate([lower[None], u, upper[None]])


def _order_of(alpha: MultiIndex) -> int:
    alpha = tuple(alpha)
    if len(alpha) > 1 and any(alpha[1:]):
        raise ValueError(f"the finite-difference grid is 1D; cannot take D^{alpha}")
    return alpha[0] if alpha else 0


class _FiniteDifferenceDerivatives:
    """:class:`phys.pdes._base.Derivatives` on the full grid (boundary points included).

    At Neumann ends the state's first and second derivatives use the ghost
    points (``u_x`` is then the imposed value exactly); elsewhere the
    operators of :func:`_derivative`.
    """

    def __init__(self, line: Line, u: Float[Array, "fields n"], boundary: Array):
        self._line = line
        self._u = u
        self._boundary = boundary
        self._cache: dict[tuple[str, int], Array] = {}

    @property
    def coordinates(self) -> tuple[Array, ...]:
        s = self._line
        x = s.origin[0] + s.spacing * np.arange(s.n[0])
        return (jnp.asarray(x, dtype=s.dtype),)

    def __call__(self, field: str, alpha: MultiIndex = (), *, laplacian_power: int = 0) -> Array:
        if laplacian_power:
            raise NotImplementedError("the finite-difference grid offers no (inverse) Laplacian powers")
        order = _order_of(alpha)
        key = (field, order)
        if key not in self._cache:
            s = self._line
            u = self._u[s.fields.index(field)]
            h = s.spacing
            if s.bc == "neumann" and order in (1, 2):
                g = _ghosted(s, u, self._boundary)
                if order == 1:
                    value = (g[2:] - g[:-2]) / (2 * h)
                else:
                    value = (g[2:] - 2 * g[1:-1] + g[:-2]) / h**2
            else:
                value = _derivative(u, order, h)
            self._cache[key] = value
        return self._cache[key]


def _impose(line: Line, u: Float[Array, "fields n"], boundary: Array) -> Float[Array, "fields n"]:
    """Set the Dirichlet end values (Neumann states are left as they are)."""
    if len(line.n) == 2:
        return _box.impose(line, u, boundary)
    if line.bc != "dirichlet":
        return u
    return u.at[:, 0].set(boundary[0]).at[:, -1].set(boundary[1])


def _full(line: Line, y: Float[Array, "fields m"], boundary: Array) -> Float[Array, "fields n"]:
    """The full grid from the unknowns."""
    if len(line.n) == 2:
        return _box.full(line, y, boundary)
    if line.bc != "dirichlet":
        return y
    ends = jnp.broadcast_to(boundary.astype(y.dtype), (y.shape[0], 2))
    return jnp.concatenate([ends[:, :1], y, ends[:, 1:]], axis=1)


# -- the semi-discrete system y' = A y + r + N(y) ------------------------------


class _Tridiagonal(eqx.Module):
    """``A`` by its diagonals (``[fields, m]`` each; ``sub[:, 0] = sup[:, -1] = 0``) and ``r``."""

    sub: Array
    diag: Array
    sup: Array
    r: Array

    def apply(self, y: Array) -> Array:
        zero = jnp.zeros_like(y[:, :1])
        below = jnp.concatenate([zero, y[:, :-1]], axis=1)
        above = jnp.concatenate([y[:, 1:], zero], axis=1)
        return self.sub * below + self.diag * y + self.sup * above + self.r

    def solve_shifted(self, scale: float, rhs: Array) -> Array:
        """``(I - scale A) Y = rhs + scale r`` for ``Y``."""
        dl, d, du = -scale * self.sub, 1 - scale * self.diag, -scale * self.sup
        b = rhs + scale * self.r
        return jax.lax.linalg.tridiagonal_solve(dl, d, du, b[..., None])[..., 0]


def _stencil(terms: Terms, h: float, dtype: Any) -> tuple[Array, Array, Array]:
    """Weights of ``u_{i-1}, u_i, u_{i+1}`` in ``sum_alpha c_alpha D^alpha u`` (central differences)."""
    weights = {0: (0.0, 1.0, 0.0), 1: (-0.5 / h, 0.0, 0.5 / h), 2: (1 / h**2, -2 / h**2, 1 / h**2)}
    left = centre = right = jnp.zeros((), dtype=dtype)
    for alpha, coefficient in terms.items():
        w = weights[_order_of(alpha)]
        left, centre, right = left + coefficient * w[0], centre + coefficient * w[1], right + coefficient * w[2]
    return left, centre, right


def _linear_operator(line: Line, pde: AbstractPDE, boundary: Array) -> _Tridiagonal:
    h = line.spacing
    dtype = jnp.dtype(line.dtype)
    linear = pde.linear()
    n = line.n[0]
    m = n - 2 if line.bc == "dirichlet" else n
    lower_value, upper_value = boundary[0], boundary[1]
    rows = []
    for field in line.fields:
        left, centre, right = _stencil(linear.get(field, {}), h, dtype)
        sub = jnp.full((m,), left, dtype=dtype).at[0].set(0)
        diag = jnp.full((m,), centre, dtype=dtype)
        sup = jnp.full((m,), right, dtype=dtype).at[-1].set(0)
        r = jnp.zeros((m,), dtype=dtype)
        if line.bc == "dirichlet":
            # The known end values move to the right-hand side.
            r = r.at[0].add(left * lower_value).at[-1].add(right * upper_value)
        else:
            # Ghost points u_{-1} = u_1 - 2 h g_lower, u_n = u_{n-2} + 2 h g_upper.
            sup = sup.at[0].add(left)
            sub = sub.at[-1].add(right)
            r = r.at[0].add(-2 * h * left * lower_value).at[-1].add(2 * h * right * upper_value)
        rows.append((sub, diag, sup, r))
    return _Tridiagonal(*(jnp.stack(parts) for parts in zip(*rows)))


def _nonlinear(line: Line, pde: AbstractPDE, boundary: Array, y: Float[Array, "fields m"]) -> Float[Array, "fields m"]:
    """``N(y)`` at the unknowns: the PDE's fluxes ``sum_alpha D^alpha F_alpha`` on the grid."""
    if len(line.n) == 2:
        return _box.nonlinear(line, pde, boundary, y)
    h = line.spacing
    n = line.n[0]
    u = _full(line, y, boundary)
    fluxes = pde.nonlinear(_FiniteDifferenceDerivatives(line, u, boundary))
    out = []
    for field in line.fields:
        total = jnp.zeros((n,), dtype=y.dtype)
        for alpha, flux in fluxes.get(field, {}).items():
            total = total + _derivative(jnp.broadcast_to(flux, (n,)).astype(y.dtype), _order_of(alpha), h)
        out.append(total[line.unknowns])
    return jnp.stack(out)


def _check_linear_orders(case: Case, pde: AbstractPDE) -> None:
    if case.n_dims == 2:
        problem = _box.check_linear(pde)
        if problem is not None:
            raise CaseError("solver.method", f"PDE '{case.pde.name}': {problem}")
        return
    for field, terms in pde.linear().items():
        for alpha in terms:
            if sum(alpha) > 2:
                raise CaseError(
                    "solver.method",
                    f"solver 'finite-difference' takes linear terms up to second derivatives; "
                    f"PDE '{case.pde.name}' has D^{tuple(alpha)} in '{field}'",
                )


class FiniteDifference(AbstractScheme):
    """The ``finite-difference`` scheme: second-order differences on a bounded line, IMEX Runge-Kutta.

    The state is ``{"u": the fields on the full grid}`` (boundary points
    included, Dirichlet values imposed). ``boundary`` holds the case's
    (lower, upper) values, for every field: the imposed values (Dirichlet) or
    the imposed ``u_x`` (Neumann; the derivative along +x at both ends, not
    the outward normal derivative); it is an array, so gradients reach it.
    """

    pde: AbstractPDE
    boundary: Float[Array, "2"] | Float[Array, "2 2"]  # 2D: (lower, upper) per axis
    time: TimeAxis = eqx.field(static=True)
    dtype: str = eqx.field(static=True)
    line: Line = eqx.field(static=True)
    order: int = eqx.field(static=True)
    # Filled by prepare(): the linear operator of this PDE (tridiagonal in 1D, sine-diagonal in 2D).
    operator: _Tridiagonal | _box.SineOperator | None = None

    @classmethod
    def from_case(cls, case: Case) -> FiniteDifference:
        pde = case.pde.build(case.dtype)
        _check_linear_orders(case, pde)
        bc = case.bcs[0]  # 2D: Dirichlet on every axis (checked by the case)
        line = Line(case.grid.n, case.domain.length, case.domain.origin, bc.kind, case.fields, case.dtype)
        values = [[b.lower, b.upper] for b in case.bcs]
        boundary = jnp.asarray(values[0] if case.n_dims == 1 else values, dtype=jnp.dtype(case.dtype))
        return cls(pde=pde, boundary=boundary, time=TimeAxis.from_case(case), dtype=case.dtype, line=line, order=case.solver.order)

    def coords(self) -> tuple[np.ndarray, ...]:
        s = self.line
        return tuple(o + length * np.arange(n) / (n - 1) for o, length, n in zip(s.origin, s.length, s.n))

    def _build_operator(self) -> _Tridiagonal | _box.SineOperator:
        if len(self.line.n) == 2:
            return _box.sine_operator(self.line, self.pde, self.boundary)
        return _linear_operator(self.line, self.pde, self.boundary)

    def _operator(self) -> _Tridiagonal | _box.SineOperator:
        return self.operator if self.operator is not None else self._build_operator()

    def prepare(self) -> FiniteDifference:
        operator = self._build_operator()
        return eqx.tree_at(lambda s: s.operator, self, operator, is_leaf=lambda x: x is None)

    def init(self, fields: Float[Array, "fields n"]) -> State:
        return {"u": _impose(self.line, jnp.asarray(fields, jnp.dtype(self.dtype)), self.boundary)}

    def fields(self, state: State) -> Float[Array, "fields n"]:
        return state["u"]

    def step(self, state: State) -> State:
        """One IMEX Runge-Kutta step of :data:`IMEX_TABLEAUS` (stiffly accurate: the last stage)."""
        line, operator = self.line, self._operator()
        explicit, implicit = IMEX_TABLEAUS[self.order]
        dt = self.time.dt
        y = state["u"][line.index]
        stages = len(explicit)
        n_terms: list[Array] = []
        l_terms: list[Array] = []
        stage = y
        for i in range(stages):
            if i > 0:
                rhs = y
                for j in range(i):
                    if explicit[i][j]:
                        rhs = rhs + (dt * explicit[i][j]) * n_terms[j]
                    if implicit[i][j]:
                        rhs = rhs + (dt * implicit[i][j]) * l_terms[j]
                stage = operator.solve_shifted(dt * implicit[i][i], rhs)
            if i < stages - 1:
                n_terms.append(_nonlinear(line, self.pde, self.boundary, stage))
                needed = any(implicit[k][i] for k in range(i + 1, stages))
                l_terms.append(operator.apply(stage) if needed else jnp.zeros_like(stage))
        return {"u": _full(line, stage, self.boundary)}

    def tendency(self, state: State) -> State:
        """``A y + r + N(y)`` at the unknowns; zero at imposed (Dirichlet) end values."""
        line = self.line
        y = state["u"][line.index]
        rate = self._operator().apply(y) + _nonlinear(line, self.pde, self.boundary, y)
        return {"u": jnp.zeros_like(state["u"]).at[line.index].set(rate)}

    def observe(self, state: State) -> dict[str, Array]:
        return self.pde.outputs(self.derivatives(state))

    def derivatives(self, state: State) -> Derivatives:
        if len(self.line.n) == 2:
            return _box.BoxDerivatives(self.line, state["u"])
        return _FiniteDifferenceDerivatives(self.line, state["u"], self.boundary)
