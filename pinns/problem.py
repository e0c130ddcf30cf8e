"""The problem a PINN is trained on: a case's space-time box, IC, BCs and data, and how points are drawn.

The problem comes from the case alone: the PDE (``phys/pdes``), the box
``[t0, t_end] x domain``, the initial condition on the case's grid, the
boundary conditions (periodic axes need no loss term: the networks embed
them exactly; Dirichlet and Neumann axes get a boundary term) and, when
given, observations for a data term (:mod:`pinns.data`).

:meth:`Problem.sample` draws a step's points from a key: residual points
stratified in time into ``n_chunks`` chunks in order (the chunks a causal
weighting reads), space uniform; initial points from the IC grid; points on
the lower face of each walled axis (the upper face is the same points
shifted by the length); observations. ``span`` is the time window trained now,
an array, so the windows of a time-marching run share one compilation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from phys.boundary import is_flow, is_steady
from phys.case import Case, CaseError
from phys.initial import grid_coordinates, initial_fields
from phys.pdes._base import AbstractPDE
from pinns.config import Sampling

if TYPE_CHECKING:
    from pinns.flow import FlowBatch, FlowField

__all__ = ["Problem", "Batch", "make_problem"]


class Batch(NamedTuple):
    """One step's points (built inside the compiled step; never crosses a jit boundary)."""

    residual: Float[Array, "chunks m d"]
    initial: Float[Array, "k d"]
    initial_values: Float[Array, "k fields"]
    boundary: Float[Array, "walls b d"] | None  # points on the lower faces; upper faces are + length
    boundary_axis: tuple[int, ...]
    data: Float[Array, "k d"] | None = None
    data_values: Float[Array, "k fields"] | None = None
    # A flow (pinns.flow): 1 where a residual point is in the fluid, 0 in an obstacle; points on each piece.
    inside: Float[Array, "chunks m"] | None = None
    flow: FlowBatch | None = None


class Problem(eqx.Module):
    """What the losses need from a case, as arrays and static settings."""

    pde: AbstractPDE
    ic_points: Float[Array, "n d"]
    ic_values: Float[Array, "n fields"]
    span: Float[Array, "2"]
    lower: tuple[float, ...] = eqx.field(static=True)  # (t0, x0, ...) of the whole run
    upper: tuple[float, ...] = eqx.field(static=True)  # (t_end, x0 + L, ...)
    bcs: tuple[tuple[str, float, float], ...] = eqx.field(static=True)  # per space axis (kind, lower, upper)
    names: tuple[str, ...] = eqx.field(static=True)
    grid_shape: tuple[int, ...] = eqx.field(static=True)  # the IC points are this grid, flattened
    # Observations for the data term (pinns.data), or None: points (t, x, ...) and values there.
    data_points: Float[Array, "o d"] | None = None
    data_values: Float[Array, "o fields"] | None = None
    # A wall-bounded flow (velocity-pressure Navier-Stokes): its geometry and pieces (pinns.flow).
    flow: FlowField | None = None
    # Marched to a steady state by its solver: the model is steady (pinns.constraints.Steady), no IC term.
    steady: bool = eqx.field(static=True, default=False)

    @property
    def n_dims(self) -> int:
        return len(self.lower) - 1

    @property
    def fields(self) -> tuple[str, ...]:
        """The PDE's prognostic fields, the first outputs (the rest: auxiliary ones, a flow's pressure)."""
        return tuple(self.names[: self.ic_values.shape[1]])

    @property
    def dtype(self) -> jnp.dtype:
        return self.ic_values.dtype

    @property
    def periods(self) -> tuple[float | None, ...]:
        """Per space axis, its period, or ``None`` for a walled axis."""
        return tuple((hi - lo) if kind == "periodic" else None for (kind, _, _), lo, hi in zip(self.bcs, self.lower[1:], self.upper[1:]))

    @property
    def walls(self) -> tuple[int, ...]:
        """The space axes with a boundary condition term on their faces (not periodic; a flow's are its pieces)."""
        if self.flow is not None:
            return ()
        return tuple(i for i, (kind, _, _) in enumerate(self.bcs) if kind != "periodic")

    def initial_grid(self) -> np.ndarray:
        """The initial values on the case's grid, ``[fields, *n]`` (host)."""
        return np.asarray(self.ic_values).T.reshape(-1, *self.grid_shape)

    def window(self, t0: float, t1: float, ic_values: Float[Array, "n fields"]) -> Problem:
        """This problem on the time window ``[t0, t1]``, starting from ``ic_values`` on the IC grid."""
        changes = (self.ic_points.at[:, 0].set(t0), jnp.asarray(ic_values, self.dtype), jnp.asarray([t0, t1], self.span.dtype))
        return eqx.tree_at(lambda p: (p.ic_points, p.ic_values, p.span), self, changes)

    def window_edges(self, windows: int) -> tuple[float, ...]:
        """``windows + 1`` equally spaced times from the start to the end of the problem."""
        return tuple(float(v) for v in np.linspace(self.lower[0], self.upper[0], windows + 1))

    def sample(self, key: PRNGKeyArray, sampling: Sampling) -> Batch:
        """A step's points: time stratified into ``n_chunks`` chunks in order, space uniform."""
        dtype = self.dtype
        key_t, key_x, key_ic, key_bc = jax.random.split(key, 4)
        m = sampling.n_residual // sampling.n_chunks
        t0, t1 = self.span[0], self.span[1]
        chunk = (t1 - t0) / sampling.n_chunks
        offsets = jax.random.uniform(key_t, (sampling.n_chunks, m), dtype)
        t = t0 + chunk * (jnp.arange(sampling.n_chunks, dtype=dtype)[:, None] + offsets)
        lo = jnp.asarray(self.lower[1:], dtype)
        hi = jnp.asarray(self.upper[1:], dtype)
        x = lo[None, None, :] + (hi - lo)[None, None, :] * jax.random.uniform(key_x, (sampling.n_chunks, m, self.n_dims), dtype)
        residual = jnp.concatenate([t[..., None], x], axis=-1)
        pick = jax.random.randint(key_ic, (sampling.n_initial,), 0, self.ic_points.shape[0])
        boundary = None
        if self.walls:
            # n_boundary random points per walled axis on its lower face.
            faces = []
            for j, axis in enumerate(self.walls):
                k_t, k_x = jax.random.split(jax.random.fold_in(key_bc, j))
                tb = t0 + (t1 - t0) * jax.random.uniform(k_t, (sampling.n_boundary, 1), dtype)
                xb = lo[None, :] + (hi - lo)[None, :] * jax.random.uniform(k_x, (sampling.n_boundary, self.n_dims), dtype)
                xb = xb.at[:, axis].set(lo[axis])
                faces.append(jnp.concatenate([tb, xb], axis=1))
            boundary = jnp.stack(faces)
        data = data_values = None
        if self.data_points is not None:
            rows = jax.random.randint(jax.random.fold_in(key_ic, 1), (sampling.n_data,), 0, self.data_points.shape[0])
            data, data_values = self.data_points[rows], self.data_values[rows]
        inside = flow = None
        if self.flow is not None:
            inside = self.flow.inside(residual.reshape(-1, residual.shape[-1])).reshape(residual.shape[:2])
            flow = self.flow.sample(key_bc, sampling.n_boundary, self.span)
        return Batch(residual, self.ic_points[pick], self.ic_values[pick], boundary, self.walls, data, data_values, inside, flow)


def make_problem(case: Case, data: tuple[np.ndarray, np.ndarray] | None = None) -> Problem:
    """The PINN problem of ``case``: box, IC on the case's grid, BCs.

    A flow (:func:`is_flow`) gets its pieces (:func:`pinns.flow.make_flow`)
    and the PDE's auxiliary outputs (the pressure) after its fields; a case
    its solver marches to a steady state (``solver.steady_tol > 0``) is
    trained as the steady problem.

    ``data``: observations ``(points [o, 1 + d], values [o, fields])`` for a
    data term (:func:`pinns.data.observations`).
    """
    dtype = jnp.dtype(case.dtype)
    u0 = initial_fields(case)  # [fields, *n]
    coords = grid_coordinates(case)
    mesh = jnp.meshgrid(*[jnp.asarray(c, dtype) for c in coords], indexing="ij")
    space = jnp.stack([m.reshape(-1) for m in mesh], axis=1)
    t0 = jnp.full((space.shape[0], 1), case.time.t0, dtype)
    pde = case.pde.build(case.dtype)
    flow = None
    if is_flow(case):
        from pinns.flow import make_flow

        flow = make_flow(case, case.dtype)
    steady = is_steady(case)
    names = tuple(case.fields) + (tuple(type(pde).auxiliary_fields) if flow is not None else ())
    lower = (case.time.t0, *case.domain.origin)
    upper = (case.time.t_end, *(o + length for o, length in zip(case.domain.origin, case.domain.length)))
    return Problem(
        pde=pde,
        ic_points=jnp.concatenate([t0, space], axis=1),
        ic_values=u0.reshape(u0.shape[0], -1).T,
        span=jnp.asarray([case.time.t0, case.time.t_end], dtype),
        lower=tuple(float(v) for v in lower),
        upper=tuple(float(v) for v in upper),
        bcs=tuple((bc.kind, float(bc.lower), float(bc.upper)) for bc in case.bcs),
        names=names,
        grid_shape=tuple(u0.shape[1:]),
        data_points=None if data is None else jnp.asarray(data[0], dtype),
        data_values=None if data is None else jnp.asarray(data[1], dtype),
        flow=flow,
        steady=steady,
    )


def check_hard_initial(problem: Problem) -> None:
    """Raise :class:`CaseError` unless every space axis is periodic (the IC goes through its Fourier interpolant)."""
    if problem.walls or problem.flow is not None:
        raise CaseError("hard_initial", "needs every space axis periodic (the IC is imposed through its Fourier interpolant)")
