"""The Lagrangian PINN: characteristics ``X(x0, t)`` and the state ``u(x0, t)`` carried along them.

After Mojgani, Balajewicz & Hassanzadeh (2022, "Lagrangian PINNs: a
causality-conforming solution to failure modes of physics-informed neural
networks", arXiv 2205.02902): convection-dominated problems, where Eulerian
PINNs fail (Krishnapriyan et al. 2021), become simple in the frame that moves
with the flow. Two branches over the Lagrangian coordinates ``(t, x0)``:

- the characteristics branch gives the position ``X(x0, t) = x0 + D(x0, t)``
  of the particle that started at ``x0``; on a periodic domain the
  displacement ``D`` is periodic in ``x0`` (exact periodic embedding), so
  ``X(x0 + L) = X(x0) + L``;
- the state branch gives ``u(x0, t)`` there.

Residuals, both from the PDE object (nothing is written a second time):

- ``(dX/dt - a(u, X)) / V``, ``a`` the PDE's transport velocity
  (:meth:`phys.AbstractPDE.advection_velocity`: ``beta`` for convection,
  ``c`` for convection-diffusion, ``u`` for Burgers) and ``V`` the largest
  ``|a|`` at the initial condition (so the term is of order one whatever the speed);
- ``du/dt - (L u + N(u) + a u_x)``: the PDE's right-hand side
  (:func:`pinns.residual.right_hand_side`) plus the transport it no longer
  has to carry, with every space derivative taken along the moving grid by
  the chain rule: ``u_x = u_x0 / X_x0``, ``u_xx = (u_x0x0 - u_x X_x0x0) / X_x0^2``,
  and so on to fourth order (Faa di Bruno's formula inverted, :func:`eulerian_derivatives`).
  The ``(t, x0)``-derivatives come from one Taylor-mode pass through both branches.

Initial condition ``X(x0, t0) = x0``, ``u(x0, t0) = u0(x0)``: a loss term, or
(``hard_initial``) exactly, by the output transforms
``X = x0 + (t - t0) V N_X`` and ``u = u0(x0) + (t - t0) / tau N_u``
(:func:`pinns.constraints.hard_initial`, ``u0`` the Fourier interpolant of the
case's initial values).

The prediction is mapped back to the solver's Eulerian grid
(:meth:`LagrangianModel.predict`, :func:`to_eulerian`): at each saved time the
model is evaluated on the case's grid in ``x0`` refined ``refine`` times,
``X`` is wrapped into the period, and ``u`` is interpolated (linearly, in the
periodic order of ``X``) at the grid's nodes; the error is then scored against
the solver's solution like every other method's.

One space axis, periodic, a PDE with a transport velocity (checked before
anything runs: :data:`pinns.methods.LAGRANGIAN`). Written from the paper; the
authors' PyTorch code was read only as a reference.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from pinns.config import Lagrangian, Network, TrainConfig, Weights
from pinns.constraints import Scaled, hard_initial
from pinns.losses import mean_square
from pinns.method import AbstractMethod, initial_interpolant, network_for
from pinns.nets import AbstractNetwork, Jet, on_grid
from pinns.problem import Batch, Problem, check_hard_initial
from pinns.reducers import AbstractReducer, Mean
from pinns.residual import derivative_table, network_derivatives, reads, right_hand_side, table_derivatives

__all__ = ["LagrangianModel", "LagrangianPINN", "eulerian_derivatives", "lagrangian_residual", "to_eulerian", "initial_speed"]


def eulerian_derivatives(u: Sequence[Array], x: Sequence[Array]) -> list[Array]:
    """``[v', v'', ...]`` of ``v`` with ``u(x0) = v(X(x0))``, from ``u = [u', u'', ...]`` and ``x = [X', X'', ...]`` (orders <= 4).

    Faa di Bruno: ``u^(n) = sum_k v^(k) B_{n,k}(X', X'', ...)``, solved for ``v^(n)`` order by order
    (the Bell polynomials B_{n,k} written out).
    """
    order = len(u)
    if order > 4:
        raise NotImplementedError("the Lagrangian chain rule is written out to fourth order")
    x1, x2, x3, x4 = (list(x) + [None] * 4)[:4]
    v = []
    if order >= 1:
        v.append(u[0] / x1)
    if order >= 2:
        v.append((u[1] - v[0] * x2) / x1**2)
    if order >= 3:
        v.append((u[2] - v[0] * x3 - v[1] * 3 * x1 * x2) / x1**3)
    if order >= 4:
        v.append((u[3] - v[0] * x4 - v[1] * (4 * x1 * x3 + 3 * x2**2) - v[2] * 6 * x1**2 * x2) / x1**4)
    return v


def _concatenate(first: Jet, second: Jet) -> Jet:
    def join(a: Array | None, b: Array | None, like_a: Array, like_b: Array) -> Array:
        a = jnp.zeros_like(like_a) if a is None else jnp.broadcast_to(a, like_a.shape)
        b = jnp.zeros_like(like_b) if b is None else jnp.broadcast_to(b, like_b.shape)
        return jnp.concatenate([a, b])

    directions = tuple(
        tuple(join(a, b, first.value, second.value) for a, b in zip(da, db)) for da, db in zip(first.directions, second.directions)
    )
    return Jet(jnp.concatenate([first.value, second.value]), directions)


class LagrangianModel(AbstractNetwork):
    """``(t, x0) -> (X, u_1, ...)``: the characteristics' position and the state along them."""

    displacement: AbstractNetwork  # D(t, x0): X = x0 + D
    state: AbstractNetwork  # u(t, x0)
    speed: Float[Array, ""]  # V, the transport speed the characteristics residual is divided by
    origin: float = eqx.field(static=True)
    period: float = eqx.field(static=True)
    refine: int = eqx.field(static=True)

    def __call__(self, z: Float[Array, " 2"]) -> Float[Array, " outputs"]:
        return jnp.concatenate([z[1:2] + self.displacement(z), self.state(z)])

    def jet(self, z: Float[Array, " 2"], orders: tuple[int, ...]) -> Jet | None:
        """One Taylor-mode pass through both branches: ``X`` gains the identity's ``dX/dx0 = 1``."""
        d, u = self.displacement.jet(z, orders), self.state.jet(z, orders)
        if d is None or u is None:
            return None
        time, *space = d.directions
        along = [tuple((jnp.ones_like(d.value) if s is None else s + 1) if k == 0 else s for k, s in enumerate(streams)) for streams in space]
        position = Jet(z[1:2] + d.value, (time, *along))
        return _concatenate(position, u)

    def predict(self, times: np.ndarray, coords: Sequence[np.ndarray], batch: int = 65536) -> np.ndarray:
        """The state on the Eulerian grid ``times x coords``: ``[T, n, fields]`` (see :func:`to_eulerian`)."""
        (x,) = coords
        m = len(x) * self.refine
        x0 = self.origin + self.period * np.arange(m) / m
        values = on_grid(self, times, (x0,), batch)  # [T, m, 1 + fields]
        return to_eulerian(values[..., 0], values[..., 1:], np.asarray(x), self.origin, self.period)

    def warm_start(self, previous: LagrangianModel) -> LagrangianModel:
        branches = (self.displacement.warm_start(previous.displacement), self.state.warm_start(previous.state))
        return eqx.tree_at(lambda m: (m.displacement, m.state), self, branches)


def to_eulerian(position: np.ndarray, state: np.ndarray, x: np.ndarray, origin: float, period: float) -> np.ndarray:
    """``u`` at the Eulerian nodes ``x`` from ``X[T, m]`` and ``u[T, m, fields]`` on a periodic ``x0`` grid.

    At each time ``X`` is wrapped into ``[origin, origin + period)`` and ``u``
    interpolated linearly at ``x`` in the wrapped positions' periodic order
    (``np.interp(..., period=)``): second-order accurate in the ``x0`` spacing
    while the characteristics do not cross.
    """
    wrapped = origin + np.mod(np.asarray(position, np.float64) - origin, period)
    out = np.empty((position.shape[0], len(x), state.shape[-1]))
    for t in range(position.shape[0]):
        for f in range(state.shape[-1]):
            out[t, :, f] = np.interp(x, wrapped[t], np.asarray(state[t, :, f], np.float64), period=period)
    return out


def lagrangian_residual(pde, model: AbstractNetwork, z: Float[Array, " 2"], names: tuple[str, ...], speed: Array) -> Float[Array, " outputs"]:
    """``[(dX/dt - a) / V, du/dt - (L u + N(u) + a u_x), ...]`` at ``z = (t, x0)``; ``model`` gives ``(X, u, ...)``."""
    dtype = z.dtype
    keys, rhs = right_hand_side(pde, 1, names, dtype)
    velocity_reads = set(reads(pde.advection_velocity, 1, names, dtype))
    keys = keys | velocity_reads | {(field, (1,)) for field in names} | {(0, (0,))}
    order = max(alpha[0] for field, alpha in keys if isinstance(field, str))
    value, along_t, along_x0 = network_derivatives(model, {(k,) for k in range(1, order + 1)}, z)
    x_streams = [along_x0[(k,)][0] for k in range(1, order + 1)]
    u_streams = [along_x0[(k,)][1:] for k in range(1, order + 1)]
    eulerian = {(0,): value[1:], **{(k,): v for k, v in enumerate(eulerian_derivatives(u_streams, x_streams), start=1)}}
    point = jnp.stack([z[0], value[0]])  # (t, X): the Eulerian point
    table = derivative_table(eulerian, names, point, keys)
    rest = rhs(table)
    (a,) = pde.advection_velocity(table_derivatives(table, 1, names, dtype))
    characteristics = (along_t[0] - a) / jax.lax.stop_gradient(speed)
    state = [along_t[1 + i] - (rest[field] + a * table[(field, (1,))]) for i, field in enumerate(names)]
    return jnp.stack([characteristics, *state])


def initial_speed(problem: Problem) -> Array:
    """``V = max |a(u0, x)|`` over the initial grid (1 where it vanishes): the characteristics' speed scale."""
    interpolant = initial_interpolant(problem)
    names, pde, dtype = problem.names, problem.pde, problem.dtype
    keys = set(reads(pde.advection_velocity, 1, names, dtype)) | {(0, (0,))}
    order = max([alpha[0] for field, alpha in keys if isinstance(field, str)] + [0])

    def at(x: Array) -> Array:
        value, (streams,) = interpolant.jet(x, (order,))
        network = {(0,): value, **{(k,): s for k, s in enumerate(streams, start=1)}}
        table = derivative_table(network, names, jnp.concatenate([problem.span[:1], x]), keys)
        return jnp.abs(pde.advection_velocity(table_derivatives(table, 1, names, dtype))[0])

    speed = jnp.max(jax.vmap(at)(problem.ic_points[:, 1:]))
    return jnp.where(speed > 0, speed, jnp.ones_like(speed))


class LagrangianPINN(AbstractMethod):
    """The Lagrangian PINN's model and terms: residual (both equations, through the reducer) and, unless exact, initial."""

    reducer: AbstractReducer
    weights: Weights = eqx.field(static=True)
    network: Network = eqx.field(static=True)
    settings: Lagrangian = eqx.field(static=True)
    hard_initial: bool = eqx.field(static=True)

    @classmethod
    def from_config(cls, config: TrainConfig, reducer: AbstractReducer | None = None) -> LagrangianPINN:
        return cls(reducer or Mean(), config.weights, config.network, config.method_settings, config.marching.hard_initial)

    def init_model(self, problem: Problem, key: PRNGKeyArray) -> LagrangianModel:
        key_x, key_u = jax.random.split(key)
        speed = initial_speed(problem)
        position = dataclasses.replace(
            self.network,
            width=self.settings.position_width or self.network.width,
            depth=self.settings.position_depth or self.network.depth,
        )
        t0, tau = problem.span[0], problem.span[1] - problem.span[0]
        # The displacement network works at order one: D = V tau N (soft) or (t - t0) V N (exact). Its output
        # layer starts at zero, so the characteristics start as X = x0 and X_x0 = 1: with random output weights,
        # V t dN/dx0 (V = 50 for convection-diffusion) made X_x0 cross zero at the first steps, and the chain
        # rule's u_x = u_x0 / X_x0 blew up (NaN on 2 of 3 seeds before this).
        net_x = network_for(problem, position, key_x, 1)
        net_x = eqx.tree_at(lambda n: (n.layers[-1].v, n.layers[-1].b), net_x, (jnp.zeros_like(net_x.layers[-1].v), jnp.zeros_like(net_x.layers[-1].b)))
        displacement: AbstractNetwork = Scaled(net_x, (speed * tau)[None])
        state = network_for(problem, self.network, key_u, len(problem.names))
        if self.hard_initial:
            check_hard_initial(problem)
            displacement = hard_initial(displacement, None, t0, tau)
            state = hard_initial(state, initial_interpolant(problem), t0, tau)
        length = problem.upper[1] - problem.lower[1]
        return LagrangianModel(displacement, state, speed, problem.lower[1], length, self.settings.refine)

    def term_names(self, problem: Problem) -> tuple[str, ...]:
        return ("residual",) if self.hard_initial else ("initial", "residual")

    def terms(self, model: LagrangianModel, problem: Problem, batch: Batch, reducer_state: Array) -> tuple[dict[str, Array], Array]:
        chunks, m, d = batch.residual.shape
        r = jax.vmap(lambda z: lagrangian_residual(problem.pde, model, z, problem.names, model.speed))(batch.residual.reshape(chunks * m, d))
        squared = self.settings.weight_characteristics * jnp.square(r[:, 0]) + jnp.sum(jnp.square(r[:, 1:]), axis=1)
        residual, weights = self.reducer(squared.reshape(chunks, m), reducer_state)
        terms = {"residual": residual}
        if not self.hard_initial:
            out = jax.vmap(model)(batch.initial)
            terms["initial"] = mean_square(jnp.concatenate([out[:, :1] - batch.initial[:, 1:], out[:, 1:] - batch.initial_values], axis=1))
        return terms, weights
