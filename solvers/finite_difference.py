"""Finite differences on a bounded 1D interval, IMEX Runge-Kutta in time.

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

import functools
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from phys.case import Case, CaseError
from phys.compile import grid_coordinates, initial_state, make_pde
from phys.pdes import load
from phys.pdes._base import AbstractPDE, MultiIndex, Terms
from solvers.backend import NO_BAD_STEP

__all__ = [
    "FINITE_DIFFERENCE",
    "FiniteDifferenceParams",
    "FiniteDifferenceStatic",
    "IMEX_TABLEAUS",
    "advance",
    "compile_finite_difference",
    "rollout",
]


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


class FiniteDifferenceStatic(NamedTuple):
    """Hashable, compile-time description of a finite-difference solve."""

    pde: str
    fields: tuple[str, ...]
    n: tuple[int, ...]
    length: tuple[float, ...]
    origin: tuple[float, ...]
    bcs: tuple[str, ...]
    t0: float
    dt: float
    n_steps: int
    save_every: int
    order: int
    dtype: str

    @property
    def n_saves(self) -> int:
        """Snapshots saved, the initial one included."""
        return self.n_steps // self.save_every + 1

    @property
    def spacing(self) -> float:
        return self.length[0] / (self.n[0] - 1)

    @property
    def unknowns(self) -> slice:
        """The grid points the scheme solves for: interior (Dirichlet) or all (Neumann)."""
        return slice(1, self.n[0] - 1) if self.bcs[0] == "dirichlet" else slice(0, self.n[0])

    def save_times(self) -> np.ndarray:
        return self.t0 + self.dt * self.save_every * np.arange(self.n_saves)


class FiniteDifferenceParams(eqx.Module):
    """What a finite-difference solve differentiates or batches over.

    ``boundary`` holds the case's (lower, upper) values, for every field: the
    imposed values (Dirichlet) or the imposed ``u_x`` (Neumann; the derivative
    along +x at both ends, not the outward normal derivative).
    """

    pde: AbstractPDE
    u0: Float[Array, "fields n"]
    boundary: Float[Array, "2"]


def compile_finite_difference(case: Case) -> tuple[FiniteDifferenceStatic, FiniteDifferenceParams]:
    """Split ``case`` into its static part and its array part."""
    if case.dtype == "float64" and not jax.config.jax_enable_x64:
        raise CaseError(
            "dtype", "float64 needs JAX's 64-bit mode: call jax.config.update('jax_enable_x64', True) first"
        )
    pde = make_pde(case)
    for field, terms in pde.linear().items():
        for alpha in terms:
            if sum(alpha) > 2:
                raise CaseError(
                    "solver.method",
                    f"solver 'finite-difference' takes linear terms up to second derivatives; "
                    f"PDE '{case.pde.name}' has D^{tuple(alpha)} in '{field}'",
                )
    time = case.time
    static = FiniteDifferenceStatic(
        pde=case.pde.name,
        fields=case.fields,
        n=case.grid.n,
        length=case.domain.length,
        origin=case.domain.origin,
        bcs=tuple(bc.kind for bc in case.bcs),
        t0=time.t0,
        dt=time.dt,
        n_steps=time.n_steps,
        save_every=time.save_every,
        order=case.solver.order,
        dtype=case.dtype,
    )
    dtype = jnp.dtype(case.dtype)
    (bc,) = case.bcs
    boundary = jnp.asarray([bc.lower, bc.upper], dtype=dtype)
    u0 = _impose(static, initial_state(case), boundary)
    return static, FiniteDifferenceParams(pde=pde, u0=u0, boundary=boundary)


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


def _ghosted(static: FiniteDifferenceStatic, u: Float[Array, "n"], boundary: Array) -> Float[Array, "n+2"]:
    """``u`` with the Neumann ghost points ``u_1 - 2 h g_lower`` and ``u_{n-2} + 2 h g_upper``."""
    h = static.spacing
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

    def __init__(self, static: FiniteDifferenceStatic, u: Float[Array, "fields n"], boundary: Array):
        self._static = static
        self._u = u
        self._boundary = boundary
        self._cache: dict[tuple[str, int], Array] = {}

    @property
    def coordinates(self) -> tuple[Array, ...]:
        s = self._static
        x = s.origin[0] + s.spacing * np.arange(s.n[0])
        return (jnp.asarray(x, dtype=s.dtype),)

    def __call__(self, field: str, alpha: MultiIndex = (), *, laplacian_power: int = 0) -> Array:
        if laplacian_power:
            raise NotImplementedError("the finite-difference grid offers no (inverse) Laplacian powers")
        order = _order_of(alpha)
        key = (field, order)
        if key not in self._cache:
            s = self._static
            u = self._u[s.fields.index(field)]
            h = s.spacing
            if s.bcs[0] == "neumann" and order in (1, 2):
                g = _ghosted(s, u, self._boundary)
                if order == 1:
                    value = (g[2:] - g[:-2]) / (2 * h)
                else:
                    value = (g[2:] - 2 * g[1:-1] + g[:-2]) / h**2
            else:
                value = _derivative(u, order, h)
            self._cache[key] = value
        return self._cache[key]


def _impose(static: FiniteDifferenceStatic, u: Float[Array, "fields n"], boundary: Array) -> Float[Array, "fields n"]:
    """Set the Dirichlet end values (Neumann states are left as they are)."""
    if static.bcs[0] != "dirichlet":
        return u
    return u.at[:, 0].set(boundary[0]).at[:, -1].set(boundary[1])


def _full(static: FiniteDifferenceStatic, y: Float[Array, "fields m"], boundary: Array) -> Float[Array, "fields n"]:
    """The full grid from the unknowns."""
    if static.bcs[0] != "dirichlet":
        return y
    ends = jnp.broadcast_to(boundary.astype(y.dtype), (y.shape[0], 2))
    return jnp.concatenate([ends[:, :1], y, ends[:, 1:]], axis=1)


def fd_outputs(static: FiniteDifferenceStatic, params: FiniteDifferenceParams, u: Array) -> dict[str, Array]:
    """The PDE's output fields at the full-grid state ``u``."""
    return params.pde.outputs(_FiniteDifferenceDerivatives(static, u, params.boundary))


# -- the semi-discrete system y' = A y + r + N(y) ------------------------------


class _Tridiagonal(NamedTuple):
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


def _linear_operator(static: FiniteDifferenceStatic, params: FiniteDifferenceParams) -> _Tridiagonal:
    h = static.spacing
    dtype = jnp.dtype(static.dtype)
    linear = params.pde.linear()
    n = static.n[0]
    m = n - 2 if static.bcs[0] == "dirichlet" else n
    lower_value, upper_value = params.boundary[0], params.boundary[1]
    rows = []
    for field in static.fields:
        left, centre, right = _stencil(linear.get(field, {}), h, dtype)
        sub = jnp.full((m,), left, dtype=dtype).at[0].set(0)
        diag = jnp.full((m,), centre, dtype=dtype)
        sup = jnp.full((m,), right, dtype=dtype).at[-1].set(0)
        r = jnp.zeros((m,), dtype=dtype)
        if static.bcs[0] == "dirichlet":
            # The known end values move to the right-hand side.
            r = r.at[0].add(left * lower_value).at[-1].add(right * upper_value)
        else:
            # Ghost points u_{-1} = u_1 - 2 h g_lower, u_n = u_{n-2} + 2 h g_upper.
            sup = sup.at[0].add(left)
            sub = sub.at[-1].add(right)
            r = r.at[0].add(-2 * h * left * lower_value).at[-1].add(2 * h * right * upper_value)
        rows.append((sub, diag, sup, r))
    return _Tridiagonal(*(jnp.stack(parts) for parts in zip(*rows)))


def _nonlinear(static: FiniteDifferenceStatic, params: FiniteDifferenceParams):
    """``y -> N(y)`` at the unknowns: the PDE's fluxes ``sum_alpha D^alpha F_alpha`` on the grid."""
    h = static.spacing
    n = static.n[0]

    def evaluate(y: Float[Array, "fields m"]) -> Float[Array, "fields m"]:
        u = _full(static, y, params.boundary)
        fluxes = params.pde.nonlinear(_FiniteDifferenceDerivatives(static, u, params.boundary))
        out = []
        for field in static.fields:
            total = jnp.zeros((n,), dtype=y.dtype)
            for alpha, flux in fluxes.get(field, {}).items():
                total = total + _derivative(jnp.broadcast_to(flux, (n,)).astype(y.dtype), _order_of(alpha), h)
            out.append(total[static.unknowns])
        return jnp.stack(out)

    return evaluate


def _imex_step(static: FiniteDifferenceStatic, operator: _Tridiagonal, nonlinear, y: Array) -> Array:
    """One IMEX Runge-Kutta step of :data:`IMEX_TABLEAUS` (stiffly accurate: the last stage)."""
    explicit, implicit = IMEX_TABLEAUS[static.order]
    dt = static.dt
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
            n_terms.append(nonlinear(stage))
            needed = any(implicit[k][i] for k in range(i + 1, stages))
            l_terms.append(operator.apply(stage) if needed else jnp.zeros_like(stage))
    return stage


@functools.partial(jax.jit, static_argnames=("static", "n_saves"))
def advance(
    static: FiniteDifferenceStatic,
    params: FiniteDifferenceParams,
    u: Float[Array, "fields n"],
    first_step: Int[Array, ""],
    n_saves: int,
) -> tuple[Float[Array, "fields n"], dict[str, Array], Int[Array, ""]]:
    """Advance ``n_saves`` save intervals from global step ``first_step``.

    ``u`` is the full-grid state. Returns the final state, the PDE's outputs
    after each interval (``{name: [n_saves, ...]}``) and the first non-finite
    step (1-based) or ``NO_BAD_STEP``. Each save interval is checkpointed, as
    in :mod:`solvers.rollout`.
    """
    operator = _linear_operator(static, params)
    nonlinear = _nonlinear(static, params)
    unknowns = static.unknowns

    def one_step(carry, _):
        y, step, bad = carry
        y = _imex_step(static, operator, nonlinear, y)
        step = step + 1
        bad = jnp.where((bad == NO_BAD_STEP) & ~jnp.isfinite(jnp.sum(y * y)), step, bad)
        return (y, step, bad), None

    @jax.checkpoint
    def one_interval(carry, _):
        carry, _ = jax.lax.scan(one_step, carry, None, length=static.save_every)
        return carry, fd_outputs(static, params, _full(static, carry[0], params.boundary))

    start = (u[:, unknowns], jnp.asarray(first_step, jnp.int32), jnp.asarray(NO_BAD_STEP, jnp.int32))
    (y, _, bad), saves = jax.lax.scan(one_interval, start, None, length=n_saves)
    return _full(static, y, params.boundary), saves, bad


def rollout(
    static: FiniteDifferenceStatic, params: FiniteDifferenceParams
) -> tuple[Float[Array, "n_saves fields n"], Int[Array, ""]]:
    """The whole trajectory of the state fields ``[n_saves, fields, n]`` and the first bad step.

    Pure and differentiable; ``vmap`` it over ``params`` for ensembles.
    """
    u0 = _impose(static, params.u0, params.boundary)
    _, saves, bad = advance(static, params, u0, jnp.asarray(0, jnp.int32), static.n_saves - 1)
    states = jnp.stack([saves[field] for field in static.fields], axis=1)
    return jnp.concatenate([u0[None], states.astype(u0.dtype)]), bad


class _FiniteDifference:
    """The ``finite-difference`` back-end (:class:`solvers.backend.Backend`)."""

    def compile(self, case: Case) -> tuple[FiniteDifferenceStatic, FiniteDifferenceParams]:
        return compile_finite_difference(case)

    def outputs(self, case: Case) -> dict[str, int]:
        return load(case.pde.name).output_tensor_orders()

    def coords(self, case: Case) -> tuple[np.ndarray, ...]:
        return grid_coordinates(case)

    def init(self, static: FiniteDifferenceStatic, params: FiniteDifferenceParams) -> dict[str, Array]:
        return {"u": _impose(static, params.u0, params.boundary)}

    def snapshot(
        self, static: FiniteDifferenceStatic, params: FiniteDifferenceParams, state: dict[str, Array]
    ) -> dict[str, Array]:
        return fd_outputs(static, params, state["u"])

    def advance(
        self,
        static: FiniteDifferenceStatic,
        params: FiniteDifferenceParams,
        state: dict[str, Array],
        first_step: Int[Array, ""],
        n_saves: int,
    ) -> tuple[dict[str, Array], dict[str, Array], Int[Array, ""]]:
        u, saves, bad = advance(static, params, state["u"], first_step, n_saves)
        return {"u": u}, saves, bad


FINITE_DIFFERENCE = _FiniteDifference()
