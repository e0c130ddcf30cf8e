"""Incompressible Navier-Stokes in 2D with walls: finite volumes on a staggered grid, pressure projection.

The equations are those of :class:`phys.pdes.navier_stokes.IncompressibleNavierStokes2D`
(``u_t + div(u u) + grad p = nu lap u``, ``div u = 0``); this module only
discretises them. The viscosity is read from the PDE's :meth:`linear` (the
coefficients of ``d^2/dx^2`` and ``d^2/dy^2``) and the convective fluxes from
its :meth:`nonlinear` (``-u u``, ``-u v``, ``-v v``), evaluated where a finite
volume needs them, so the physics is stated once.

Grid (Harlow & Welch 1965, "MAC"): ``n = (nx, ny)`` counts *cells*. The
pressure lives at cell centres ``[nx, ny]``, ``u`` on the x-faces
``[nx + 1, ny]``, ``v`` on the y-faces ``[nx, ny + 1]``. Outputs are sampled
at the cell centres (``dimensions/x``, ``dimensions/y`` are
``origin + (i + 1/2) h``): the pressure as is, the velocity as the average of
the two faces of each cell.

Space: the flux-form convection ``-d(F)/dx - d(G)/dy`` is a finite-volume
balance over each face's control volume; ``u u`` and ``v v`` are evaluated at
cell centres and ``u v`` at cell corners from averaged velocities (the
energy-conserving second-order MAC scheme), viscous terms are the 5-point
Laplacian. Tangential wall velocities enter through ghost values
``2 u_wall - u_inside``; normal velocities on the boundary are prescribed.

Boundary conditions (``Case.bcs``, one per axis):

- ``wall``: no-slip walls at both ends; ``lower``/``upper`` give the tangential
  velocity of each wall (a moving lid is ``wall`` with ``upper = 1`` on y).
- ``inflow-outflow`` (x axis only): a fully developed parabolic (Poiseuille)
  inflow of mean speed ``lower`` at the lower end; at the upper end the
  outflow copies the last interior face (zero gradient) plus a uniform
  correction so that the outflow flux equals the inflow flux, which keeps the
  pressure problem solvable with Neumann conditions everywhere.

Obstacles (``Case.geometry``): a direct-forcing immersed boundary with the
velocity reconstructed along the wall normal (Fadlun, Verzicco, Orlandi &
Mohd-Yusof 2000, J. Comput. Phys. 161:35; Balaras 2004, Comput. Fluids
33:375), built from the geometry's distance function (:mod:`solvers._immersed`);
obstacles are no-slip and at rest. With obstacles each stage's provisional
velocity carries the current pressure estimate and the projection solves for
its increment (:func:`step_with_obstacles`), so that the projection does not
undo the forcing at a steady state; the state then holds the pressure ``p``
and the force on the obstacles, and :meth:`Projection.observe` adds the time
series ``drag_coefficient``, ``lift_coefficient`` (and ``pressure_difference``
between ``solver.probes``), written as ``/scalars/<name>`` ``[B, T]``.

Projection (Chorin 1968): every stage's provisional velocity is made
discretely divergence-free by solving ``D G phi = D u*`` with homogeneous
Neumann conditions; on this grid that operator is diagonalised exactly by the
2D cosine transform (DCT-II), so ``div u = 0`` holds to rounding error after
each projection, and the solve costs two 2D DCTs. The pressure output is the
Lagrange multiplier of the semi-discrete system, ``D G p = D F(u)`` with
``F`` the convective + viscous tendency (at a steady state ``F = G p``).

Time: the third-order strong-stability-preserving Runge-Kutta scheme of Shu &
Osher (1988), each stage projected. Explicit, because the Poisson solve is the
only global operation we want per stage; an implicit viscous step would need
one Helmholtz solve per velocity component with mixed sine/cosine
transforms. SSP-RK3's stability region holds ``[-2.51, 0]`` on the real axis
(diffusion) and ``[-1.73 i, 1.73 i]`` on the imaginary one (central
convection), unlike forward Euler or RK2; the case's ``dt`` is checked
against the resulting bound :func:`stable_dt` times ``solver.max_cfl`` when
it is compiled.

Steady states: with ``solver.steady_tol > 0`` the steady residual
``max |u(t + save_dt) - u(t)| / save_dt`` over both components (the max-norm
of ``du/dt`` averaged over one save interval; over a whole interval rather
than one step, so that float32 rounding, about one ulp of the speed per
step, does not swamp it) is computed at every save; once it falls below the
tolerance the state is frozen (the remaining intervals are skipped by a
``lax.cond``), so every later snapshot is the steady state. The residual and
the step at which it converged are kept in the solver state (and so in the
HDF5 ``solver_state`` group) and reported on stderr by :meth:`report`.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.fft import dctn, idctn
from jaxtyping import Array, Float

from phys.case import Case, CaseError
from phys.pdes._base import AbstractPDE
from solvers._immersed import ImmersedBoundary, build_immersed_boundary
from solvers.scheme import AbstractScheme, State, TimeAxis

__all__ = [
    "Projection",
    "StaggeredGrid",
    "cell_centres",
    "divergence",
    "project",
    "stable_dt",
    "step",
    "step_with_obstacles",
    "tendency",
]

# Stability limits of SSP-RK3 (Shu & Osher 1988): the real-axis extent of its
# region (|z| <= 2.5127) and the imaginary-axis extent (sqrt(3)).
_RK3_REAL = 2.51
_RK3_IMAG = 1.73


class Boundary(NamedTuple):
    """One axis's boundary condition, hashable (a ``jit`` static argument)."""

    kind: str  # "wall" or "inflow-outflow"
    lower: float
    upper: float
    profile: str = "uniform"  # a wall's tangential velocity: "uniform", or "smooth" (times 16 s^2 (1 - s)^2)


class StaggeredGrid(NamedTuple):
    """A box of ``n`` cells per axis, its two boundary conditions and the Poisson method (hashable)."""

    n: tuple[int, int]
    length: tuple[float, float]
    origin: tuple[float, float]
    bcs: tuple[Boundary, Boundary]
    poisson: str  # "dct" (dense transform matrices) or "fft" (jax.scipy.fft.dctn)

    @property
    def spacing(self) -> tuple[float, float]:
        return (self.length[0] / self.n[0], self.length[1] / self.n[1])


# -- grid ---------------------------------------------------------------------


def cell_centres(n: tuple[int, ...], length: tuple[float, ...], origin: tuple[float, ...]) -> tuple[np.ndarray, ...]:
    """Cell-centre coordinates along each axis, ``origin + (i + 1/2) length / n``."""
    return tuple(o + size * (np.arange(m) + 0.5) / m for o, size, m in zip(origin, length, n))


def _inflow_profile(grid: StaggeredGrid, dtype: Any) -> Array:
    """Poiseuille inflow at the x-lower face: ``6 U s (1 - s)``, ``s = (y - y0)/Ly``, mean ``U``."""
    s = (np.arange(grid.n[1]) + 0.5) / grid.n[1]
    return jnp.asarray(6.0 * grid.bcs[0].lower * s * (1.0 - s), dtype)


def _viscosity(pde: AbstractPDE) -> tuple[Array, Array]:
    """``(nu_x, nu_y)``: the coefficients of ``d2/dx2`` and ``d2/dy2`` in the PDE's linear part.

    Both velocity components must share them (an isotropic fluid does); any
    other linear term has no discretisation here.
    """
    linear = pde.linear()
    terms = {field: dict(linear.get(field, {})) for field in ("u", "v")}
    for field, coefficients in terms.items():
        extra = set(coefficients) - {(2, 0), (0, 2)}
        if extra:
            raise NotImplementedError(f"projection solver: linear term {sorted(extra)} of '{field}' is not supported")
    return terms["u"].get((2, 0), 0.0), terms["u"].get((0, 2), 0.0)


# -- boundary values ----------------------------------------------------------


def _impose_normal(grid: StaggeredGrid, u: Array, v: Array) -> tuple[Array, Array]:
    """Set the boundary-normal velocities: zero at walls, inflow/outflow on x."""
    x_bc = grid.bcs[0]
    if x_bc.kind == "wall":
        u = u.at[0].set(0.0).at[-1].set(0.0)
    else:
        inflow = _inflow_profile(grid, u.dtype)
        outflow = u[-2]
        # Zero-gradient outflow, corrected uniformly so that mass is conserved:
        # the Neumann pressure problem is solvable only if the net flux is zero.
        outflow = outflow + (jnp.sum(inflow) - jnp.sum(outflow)) / grid.n[1]
        u = u.at[0].set(inflow).at[-1].set(outflow)
    v = v.at[:, 0].set(0.0).at[:, -1].set(0.0)
    return u, v


def wall_profile(profile: str, s: Array) -> Array:
    """The shape of a wall's tangential velocity at ``s`` in [0, 1] along it (phys.case.BoundaryCondition.profile)."""
    if profile == "smooth":
        return 16.0 * s**2 * (1.0 - s) ** 2
    return jnp.ones_like(s)


def _wall_shape(grid: StaggeredGrid, bc: Boundary, axis: int, faces: int, dtype: Any) -> Array:
    """The wall profile at the ``faces`` faces (nodes ``0 .. faces - 1``) along ``axis``, as a column or row."""
    s = jnp.arange(faces, dtype=dtype) / (faces - 1)
    shape = wall_profile(bc.profile, s)
    return shape[:, None] if axis == 0 else shape[None, :]


def _ghost_u(grid: StaggeredGrid, u: Array) -> Array:
    """``u`` with a ghost row beyond each y-wall, ``[nx + 1, ny + 2]``: the wall value is the average."""
    y_bc = grid.bcs[1]
    shape = _wall_shape(grid, y_bc, 0, u.shape[0], u.dtype)  # u's faces run along x
    lower = 2.0 * y_bc.lower * shape - u[:, :1]
    upper = 2.0 * y_bc.upper * shape - u[:, -1:]
    return jnp.concatenate([lower, u, upper], axis=1)


def _ghost_v(grid: StaggeredGrid, v: Array) -> Array:
    """``v`` with a ghost column beyond each x-end, ``[nx + 2, ny + 1]``."""
    x_bc = grid.bcs[0]
    if x_bc.kind == "wall":
        shape = _wall_shape(grid, x_bc, 1, v.shape[1], v.dtype)  # v's faces run along y
        lower = 2.0 * x_bc.lower * shape - v[:1]
        upper = 2.0 * x_bc.upper * shape - v[-1:]
    else:  # inflow has v = 0 at the face; the outflow has zero gradient
        lower = -v[:1]
        upper = v[-1:]
    return jnp.concatenate([lower, v, upper], axis=0)


# -- operators ----------------------------------------------------------------


class _PointValues:
    """The ``Derivatives`` a PDE sees at one set of points: values only (fluxes are pointwise)."""

    def __init__(self, values: dict[str, Array]):
        self._values = values

    def __call__(self, field: str, alpha: tuple[int, ...] = (), *, laplacian_power: int = 0) -> Array:
        if any(alpha) or laplacian_power:
            raise NotImplementedError("projection solver: convective fluxes must be pointwise in u and v")
        return self._values[field]


def _flux(pde: AbstractPDE, field: str, alpha: tuple[int, int], values: dict[str, Array]) -> Array:
    fluxes = pde.nonlinear(_PointValues(values))
    extra = set(fluxes.get(field, {})) - {(1, 0), (0, 1)}
    if extra:
        raise NotImplementedError(f"projection solver: nonlinear term {sorted(extra)} of '{field}' is not supported")
    return fluxes[field][alpha]


def tendency(
    grid: StaggeredGrid, pde: AbstractPDE, u: Float[Array, "nx+1 ny"], v: Float[Array, "nx ny+1"]
) -> tuple[Float[Array, "nx+1 ny"], Float[Array, "nx ny+1"]]:
    """``F(u) = -div(u u) + nu lap u`` on every face (zero on boundary faces), without the pressure."""
    hx, hy = grid.spacing
    nu_x, nu_y = _viscosity(pde)
    ug, vg = _ghost_u(grid, u), _ghost_v(grid, v)
    centre = {"u": 0.5 * (u[1:] + u[:-1]), "v": 0.5 * (v[:, 1:] + v[:, :-1])}  # [nx, ny]
    corner = {"u": 0.5 * (ug[:, 1:] + ug[:, :-1]), "v": 0.5 * (vg[1:] + vg[:-1])}  # [nx + 1, ny + 1]
    # u's control volume spans centre to centre in x and corner to corner in y.
    fu_x = _flux(pde, "u", (1, 0), centre)
    fu_y = _flux(pde, "u", (0, 1), corner)
    conv_u = (fu_x[1:] - fu_x[:-1]) / hx + (fu_y[1:-1, 1:] - fu_y[1:-1, :-1]) / hy
    lap_u = nu_x * (u[2:] - 2 * u[1:-1] + u[:-2]) / hx**2 + nu_y * (
        ug[1:-1, 2:] - 2 * ug[1:-1, 1:-1] + ug[1:-1, :-2]
    ) / hy**2
    # v's control volume: corner to corner in x, centre to centre in y.
    fv_x = _flux(pde, "v", (1, 0), corner)
    fv_y = _flux(pde, "v", (0, 1), centre)
    conv_v = (fv_x[1:, 1:-1] - fv_x[:-1, 1:-1]) / hx + (fv_y[:, 1:] - fv_y[:, :-1]) / hy
    lap_v = nu_x * (vg[2:, 1:-1] - 2 * vg[1:-1, 1:-1] + vg[:-2, 1:-1]) / hx**2 + nu_y * (
        v[:, 2:] - 2 * v[:, 1:-1] + v[:, :-2]
    ) / hy**2
    fu = jnp.zeros_like(u).at[1:-1].set(conv_u + lap_u)
    fv = jnp.zeros_like(v).at[:, 1:-1].set(conv_v + lap_v)
    return fu, fv


def divergence(grid: StaggeredGrid, u: Array, v: Array) -> Float[Array, "nx ny"]:
    """Discrete divergence per cell (net outflow over the cell's faces, per unit area)."""
    hx, hy = grid.spacing
    return (u[1:] - u[:-1]) / hx + (v[:, 1:] - v[:, :-1]) / hy


def _neumann_poisson(grid: StaggeredGrid, rhs: Float[Array, "nx ny"]) -> Float[Array, "nx ny"]:
    """Zero-mean ``p`` with ``D G p = rhs``, ``G p = 0`` on the boundary faces.

    The cosine transform (DCT-II) diagonalises the cell-centred Neumann
    Laplacian exactly, eigenvalues ``-(4/h^2) sin^2(pi k / 2n)`` per axis; the
    constant mode (eigenvalue 0) is set to zero, which is the compatible choice
    when ``rhs`` has zero sum. ``grid.poisson`` picks how the transform is
    applied: ``"dct"`` multiplies by the dense orthonormal DCT-II matrices
    (O(n^3) flops, but four small GEMMs beat XLA's FFT-based DCT up to a few
    hundred cells per axis on CPU), ``"fft"`` calls ``jax.scipy.fft.dctn``
    (O(n^2 log n), for large grids). Both are exact to rounding.
    """
    (nx, ny), (hx, hy) = grid.n, grid.spacing
    kx = jnp.arange(nx, dtype=rhs.dtype)
    ky = jnp.arange(ny, dtype=rhs.dtype)
    eig_x = -(4.0 / hx**2) * jnp.sin(jnp.pi * kx / (2 * nx)) ** 2
    eig_y = -(4.0 / hy**2) * jnp.sin(jnp.pi * ky / (2 * ny)) ** 2
    eig = eig_x[:, None] + eig_y[None, :]
    singular = eig == 0
    if grid.poisson == "fft":
        coefficients = dctn(rhs, norm="ortho") / jnp.where(singular, 1.0, eig)
        return idctn(jnp.where(singular, 0.0, coefficients), norm="ortho")
    cx = jnp.asarray(_dct_matrix(nx), rhs.dtype)
    cy = jnp.asarray(_dct_matrix(ny), rhs.dtype)
    coefficients = (cx @ rhs @ cy.T) / jnp.where(singular, 1.0, eig)
    return cx.T @ jnp.where(singular, 0.0, coefficients) @ cy


@functools.lru_cache(maxsize=16)
def _dct_matrix(n: int) -> np.ndarray:
    """The orthonormal DCT-II matrix, ``C[k, j] = s_k cos(pi k (j + 1/2) / n)``; ``C^T C = I``."""
    k = np.arange(n)[:, None]
    j = np.arange(n)[None, :]
    matrix = np.cos(np.pi * k * (j + 0.5) / n) * np.sqrt(2.0 / n)
    matrix[0] /= np.sqrt(2.0)
    return matrix


def _gradient_update(grid: StaggeredGrid, u: Array, v: Array, p: Array) -> tuple[Array, Array]:
    hx, hy = grid.spacing
    u = u.at[1:-1].add(-(p[1:] - p[:-1]) / hx)
    v = v.at[:, 1:-1].add(-(p[:, 1:] - p[:, :-1]) / hy)
    return u, v


def project(grid: StaggeredGrid, u: Array, v: Array) -> tuple[Array, Array]:
    """The discretely divergence-free part of ``(u, v)`` after imposing the boundary velocities."""
    u, v = _impose_normal(grid, u, v)
    phi = _neumann_poisson(grid, divergence(grid, u, v))
    return _gradient_update(grid, u, v, phi)


def pressure(grid: StaggeredGrid, pde: AbstractPDE, u: Array, v: Array) -> Float[Array, "nx ny"]:
    """The pressure (zero mean) that keeps ``F(u) - G p`` divergence-free."""
    fu, fv = tendency(grid, pde, u, v)
    return _neumann_poisson(grid, divergence(grid, fu, fv))


def step(grid: StaggeredGrid, pde: AbstractPDE, u: Array, v: Array, dt: float) -> tuple[Array, Array]:
    """One SSP-RK3 step of ``dt`` (Shu & Osher 1988, eq. 2.18), each stage projected."""

    def euler(a: Array, b: Array) -> tuple[Array, Array]:
        fa, fb = tendency(grid, pde, a, b)
        return a + dt * fa, b + dt * fb

    u1, v1 = project(grid, *euler(u, v))
    e1u, e1v = euler(u1, v1)
    u2, v2 = project(grid, 0.75 * u + 0.25 * e1u, 0.75 * v + 0.25 * e1v)
    e2u, e2v = euler(u2, v2)
    return project(grid, u / 3.0 + (2.0 / 3.0) * e2u, v / 3.0 + (2.0 / 3.0) * e2v)


# -- obstacles (solvers._immersed) ------------------------------------------------

# SSP-RK3 as stages ``u_s = P(a_s u + b_s (u_{s-1} + dt L(u_{s-1})))``; the step of
# stage s is ``b_s dt``, and its forcing enters the step with weight ``w_s``
# (the scheme's quadrature weights 1/6, 1/6, 2/3).
_RK3_STAGES = ((0.0, 1.0, 1.0 / 6.0), (0.75, 0.25, 1.0 / 6.0), (1.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0))


def step_with_obstacles(
    grid: StaggeredGrid, pde: AbstractPDE, ib: ImmersedBoundary, u: Array, v: Array, p: Array, dt: float
) -> tuple[Array, Array, Array, Array]:
    """One SSP-RK3 step with direct forcing at every stage; returns ``u, v, p`` and the force on the obstacles ``[2]``.

    Each stage's provisional velocity includes the current pressure estimate,
    ``u* = a u + b (u_s + dt (F(u_s) - G p))`` (an incremental projection, Van
    Kan 1986), then the immersed boundary sets the solid and forcing nodes
    (:mod:`solvers._immersed`), then the projection removes the divergence the
    forcing made, ``u = u_f - b dt G q``, and the estimate becomes ``p + q``.
    So the projection's correction, which would spoil no-slip, is only the
    pressure's change over a stage: zero at a steady state.
    """
    force = jnp.zeros(2, u.dtype)
    a_u, a_v = u, v
    for base, weight, quadrature in _RK3_STAGES:
        stage_dt = weight * dt
        fu, fv = tendency(grid, pde, a_u, a_v)
        fu, fv = _gradient_update(grid, fu, fv, p)
        star_u = base * u + weight * (a_u + dt * fu)
        star_v = base * v + weight * (a_v + dt * fv)
        star_u, star_v = _impose_normal(grid, star_u, star_v)
        forced_u, forced_v = ib.u.apply(star_u), ib.v.apply(star_v)
        on_fluid = jnp.stack([jnp.sum(forced_u - star_u), jnp.sum(forced_v - star_v)]) * (ib.cell_area / stage_dt)
        force = force - quadrature * on_fluid
        q = _neumann_poisson(grid, divergence(grid, forced_u, forced_v)) / stage_dt
        a_u, a_v = _gradient_update(grid, forced_u, forced_v, stage_dt * q)
        p = p + q
    return a_u, a_v, p, force


def stable_dt(n: tuple[int, int], length: tuple[float, float], viscosity: float, speed: float) -> float:
    """A sufficient SSP-RK3 step bound for central convection at ``speed`` plus diffusion.

    The diffusive and convective eigenvalue bounds (Gershgorin) are added, so
    their sum lies inside the stability region's inscribed box.
    """
    hx, hy = length[0] / n[0], length[1] / n[1]
    diffusive = viscosity * 4.0 * (1.0 / hx**2 + 1.0 / hy**2) / _RK3_REAL
    convective = speed * (1.0 / hx + 1.0 / hy) / _RK3_IMAG
    return 1.0 / (diffusive + convective)


def velocity_at_centres(u: Array, v: Array) -> Float[Array, "nx ny 2"]:
    return jnp.stack([0.5 * (u[1:] + u[:-1]), 0.5 * (v[:, 1:] + v[:, :-1])], axis=-1)


# -- the scheme ----------------------------------------------------------------


@functools.partial(jax.jit, static_argnames=("grid",))
def _faces(grid: StaggeredGrid, cells: Array) -> tuple[Array, Array]:
    """Face velocities from cell values: averages inside, boundary values imposed, then projected."""
    u_c, v_c = cells[0], cells[1]
    u = jnp.concatenate([u_c[:1], 0.5 * (u_c[1:] + u_c[:-1]), u_c[-1:]], axis=0)
    v = jnp.concatenate([v_c[:, :1], 0.5 * (v_c[:, 1:] + v_c[:, :-1]), v_c[:, -1:]], axis=1)
    return project(grid, u, v)


def _reference_speed(grid: StaggeredGrid) -> float:
    """The speed force coefficients are made with: the mean inflow speed, else the fastest wall."""
    x_bc, y_bc = grid.bcs
    if x_bc.kind == "inflow-outflow":
        return abs(x_bc.lower)
    return max(abs(x_bc.lower), abs(x_bc.upper), abs(y_bc.lower), abs(y_bc.upper)) or 1.0


@eqx.filter_jit
def _init_with_obstacles(grid: StaggeredGrid, pde: AbstractPDE, ib: ImmersedBoundary, u: Array, v: Array) -> State:
    # One compiled call: op by op, the scatters and transforms cost seconds of dispatch.
    u, v = project(grid, ib.u.apply(u), ib.v.apply(v))
    # The pressure estimate starts from the Lagrange multiplier of the initial field.
    return {"u": u, "v": v, "p": pressure(grid, pde, u, v), "force": jnp.zeros(2, u.dtype)}


def _check_dt(case: Case, grid: StaggeredGrid, pde: AbstractPDE) -> None:
    nu_x, nu_y = (float(c) for c in _viscosity(pde))
    x_bc, y_bc = grid.bcs
    speeds = [abs(y_bc.lower), abs(y_bc.upper)]
    speeds += [abs(x_bc.lower), abs(x_bc.upper)] if x_bc.kind == "wall" else [1.5 * abs(x_bc.lower)]
    limit = case.solver.max_cfl * stable_dt(grid.n, grid.length, max(nu_x, nu_y), max(speeds))
    if case.time.dt > limit:
        raise CaseError(
            "time.dt",
            f"{case.time.dt:g} exceeds the stable step {limit:.4g} of the explicit projection scheme "
            f"(n = {grid.n}, viscosity {max(nu_x, nu_y):.4g}, wall/inflow speed {max(speeds):g}, "
            f"max_cfl = {case.solver.max_cfl:g})",
        )


class Projection(AbstractScheme):
    """The ``projection`` scheme: MAC grid, SSP-RK3, each stage projected; see the module docstring.

    The state is the face velocities ``{"u": [nx + 1, ny], "v": [nx, ny + 1]}``.
    The initial fields and :meth:`fields` are the velocity ``(u, v)`` at cell
    centres, ``[2, nx, ny]`` (averages of the two faces of each cell);
    :meth:`init` averages cell values onto the faces, imposes the boundary
    velocities and projects. :meth:`tendency` is the projected right-hand
    side ``F(u) - G p`` on the faces, discretely divergence-free.
    """

    pde: AbstractPDE
    time: TimeAxis = eqx.field(static=True)
    dtype: str = eqx.field(static=True)
    grid: StaggeredGrid = eqx.field(static=True)
    tolerance: float = eqx.field(static=True, default=0.0)
    # The case's obstacles (None: none); see solvers._immersed.
    immersed: ImmersedBoundary | None = None

    @classmethod
    def from_case(cls, case: Case) -> Projection:
        solver = case.solver
        grid = StaggeredGrid(
            n=tuple(case.grid.n),
            length=tuple(case.domain.length),
            origin=tuple(case.domain.origin),
            bcs=tuple(Boundary(bc.kind, bc.lower, bc.upper, bc.profile) for bc in case.bcs),
            poisson=solver.poisson,
        )
        pde = case.pde.build(case.dtype)
        _check_dt(case, grid, pde)
        immersed = None
        if case.geometry is not None:
            immersed = build_immersed_boundary(case, _reference_speed(grid))
        return cls(
            pde=pde, time=TimeAxis.from_case(case), dtype=case.dtype, grid=grid, tolerance=solver.steady_tol, immersed=immersed
        )

    @property
    def steady_tol(self) -> float:
        return self.tolerance

    def coords(self) -> tuple[np.ndarray, ...]:
        return cell_centres(self.grid.n, self.grid.length, self.grid.origin)

    def init(self, fields: Float[Array, "2 nx ny"]) -> State:
        u, v = _faces(self.grid, jnp.asarray(fields, jnp.dtype(self.dtype)))
        if self.immersed is None:
            return {"u": u, "v": v}
        return _init_with_obstacles(self.grid, self.pde, self.immersed, u, v)

    def fields(self, state: State) -> Float[Array, "2 nx ny"]:
        return jnp.moveaxis(velocity_at_centres(state["u"], state["v"]), -1, 0)

    def step(self, state: State) -> State:
        if self.immersed is None:
            u, v = step(self.grid, self.pde, state["u"], state["v"], self.time.dt)
            return {"u": u, "v": v}
        u, v, p, force = step_with_obstacles(self.grid, self.pde, self.immersed, state["u"], state["v"], state["p"], self.time.dt)
        return {"u": u, "v": v, "p": p, "force": force}

    def tendency(self, state: State) -> State:
        u, v = state["u"], state["v"]
        fu, fv = tendency(self.grid, self.pde, u, v)
        if self.immersed is not None:
            # The forcing as a rate: what one Euler step of dt would need to hold the obstacles.
            dt = self.time.dt
            fu = (self.immersed.u.apply(u + dt * fu) - u) / dt
            fv = (self.immersed.v.apply(v + dt * fv) - v) / dt
            fu = fu.at[0].set(0.0).at[-1].set(0.0)  # boundary faces are imposed: no tendency
            fv = fv.at[:, 0].set(0.0).at[:, -1].set(0.0)
        p = _neumann_poisson(self.grid, divergence(self.grid, fu, fv))
        fu, fv = _gradient_update(self.grid, fu, fv, p)
        if self.immersed is None:
            return {"u": fu, "v": fv}
        return {"u": fu, "v": fv, "p": jnp.zeros_like(state["p"]), "force": jnp.zeros_like(state["force"])}

    def observe(self, state: State) -> dict[str, Array]:
        u, v = state["u"], state["v"]
        if self.immersed is None:
            return {"velocity": velocity_at_centres(u, v), "pressure": pressure(self.grid, self.pde, u, v)}
        ib = self.immersed
        p = state["p"] - jnp.mean(state["p"])
        outputs = {
            "velocity": velocity_at_centres(u, v),
            "pressure": p,
            "drag_coefficient": ib.scale * state["force"][0],
            "lift_coefficient": ib.scale * state["force"][1],
        }
        if ib.probe_index is not None:
            outputs["pressure_difference"] = ib.pressure_difference(p)
        return outputs

    def output_orders(self) -> dict[str, int]:
        return type(self.pde).output_tensor_orders()  # the PDE's declaration: velocity (vector), pressure

    def output_scalars(self) -> tuple[str, ...]:
        if self.immersed is None:
            return ()
        names = ("drag_coefficient", "lift_coefficient")
        return names + (("pressure_difference",) if self.immersed.probe_index is not None else ())
