"""Methods: which loss terms a PINN forms from the PDE object, and the model they train.

A method (:class:`AbstractMethod`) builds the model for a problem (network
plus output transforms) and forms the loss terms on a batch of points; its
reducer (:mod:`pinns.reducers`) turns the per-point squared residuals into the
residual term. The optimiser loop (:mod:`pinns.loop`) only ever calls these
methods, so a new method is a new class, registered by a
:class:`pinns.methods.MethodSpec`; no line of the loop changes.

- :class:`EulerianPINN`: the network is ``u(t, x)``; terms: residual (by
  :mod:`pinns.residual`, from the PDE's own definition), initial (unless the
  IC is imposed exactly by :func:`pinns.constraints.hard_initial`), boundary
  (walled axes: Dirichlet values or Neumann normal derivatives) and data
  (observations inside the window being trained). ``pinn`` and ``causal`` are
  this method with the :class:`pinns.reducers.Mean` and
  :class:`pinns.reducers.CausalWeighting` reducers.
- :class:`pinns.lagrangian.LagrangianPINN`: characteristics and the state along them.
"""

from __future__ import annotations

import abc
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from pinns.config import Network, TrainConfig, Weights, check_hard_boundary
from pinns.constraints import FourierInterpolant, Steady, hard_initial
from pinns.losses import mean_square
from pinns.nets import AbstractNetwork, make_network
from pinns.problem import Batch, Problem, check_hard_initial
from pinns.reducers import AbstractReducer
from pinns.residual import derivative, residuals

__all__ = ["AbstractMethod", "EulerianPINN", "network_for"]


class AbstractMethod(eqx.Module):
    """A training method: the model it trains and the loss terms it forms."""

    reducer: eqx.AbstractVar[AbstractReducer]
    weights: eqx.AbstractVar[Weights]

    @abc.abstractmethod
    def init_model(self, problem: Problem, key: PRNGKeyArray) -> AbstractNetwork:
        """A fresh model for ``problem`` (its window, its initial values)."""

    @abc.abstractmethod
    def term_names(self, problem: Problem) -> tuple[str, ...]:
        """The loss terms this method forms on ``problem``."""

    @abc.abstractmethod
    def terms(self, model: AbstractNetwork, problem: Problem, batch: Batch, reducer_state: Array) -> tuple[dict[str, Array], Array]:
        """``({term: value}, reported per-chunk weights)`` on ``batch``; the residual term through the reducer."""

    def initial_weights(self, problem: Problem) -> dict[str, float]:
        """Each term's weight at the first step."""
        return {name: self.weights.of(name) for name in self.term_names(problem)}


def network_for(problem: Problem, settings: Network, key: PRNGKeyArray, n_out: int) -> AbstractNetwork:
    """A network of ``settings`` on ``problem``'s window, periodic axes embedded exactly."""
    return make_network(
        key,
        lower=(float(problem.span[0]), *problem.lower[1:]),
        upper=(float(problem.span[1]), *problem.upper[1:]),
        n_out=n_out,
        periods=(None, *problem.periods),
        architecture=settings.architecture,
        width=settings.width,
        depth=settings.depth,
        activation=settings.activation,
        n_modes=settings.n_modes,
        fourier=(settings.fourier_features, settings.fourier_scale) if settings.fourier_features else None,
        factorize=(settings.factorize_mu, settings.factorize_sigma) if settings.factorize else None,
        dtype=problem.dtype,
    )


def initial_interpolant(problem: Problem) -> FourierInterpolant:
    """The trigonometric interpolant of ``problem``'s initial values on its (periodic) grid."""
    length = tuple(hi - lo for lo, hi in zip(problem.lower[1:], problem.upper[1:]))
    return FourierInterpolant(problem.initial_grid(), problem.lower[1:], length, problem.dtype)


class EulerianPINN(AbstractMethod):
    """``u(t, x)`` by a network: residual, initial, boundary and data terms (see the module docstring)."""

    reducer: AbstractReducer
    weights: Weights = eqx.field(static=True)
    network: Network = eqx.field(static=True)
    hard_initial: bool = eqx.field(static=True)
    hard_boundary: bool = eqx.field(static=True, default=False)

    @classmethod
    def from_config(cls, config: TrainConfig, reducer: AbstractReducer) -> EulerianPINN:
        hard = config.marching.constraints == "hard"
        return cls(reducer, config.weights, config.network, config.marching.hard_initial, hard)

    def init_model(self, problem: Problem, key: PRNGKeyArray) -> AbstractNetwork:
        network = network_for(problem, self.network, key, len(problem.names))
        if problem.steady:
            network = Steady(network, problem.span[1])
        if problem.flow is not None:
            from pinns.flow import PinnedPressure, hard_boundary

            if self.hard_boundary:
                return hard_boundary(network, problem.flow, steady=problem.steady)
            return network if problem.flow.outflow_pieces else PinnedPressure(network, problem.flow.reference_point, problem.steady)
        if self.hard_boundary:
            check_hard_boundary(flow=False)
        if not self.hard_initial:
            return network
        check_hard_initial(problem)
        return hard_initial(network, initial_interpolant(problem), problem.span[0], problem.span[1] - problem.span[0])

    def term_names(self, problem: Problem) -> tuple[str, ...]:
        initial = () if self.hard_initial or problem.steady else ("initial",)
        flow_boundary = problem.flow is not None and (not self.hard_boundary or bool(problem.flow.outflow_pieces))
        boundary = ("boundary",) if problem.walls or flow_boundary else ()
        data = () if problem.data_points is None else ("data",)
        return initial + ("residual",) + boundary + data

    def terms(self, model: AbstractNetwork, problem: Problem, batch: Batch, reducer_state: Array) -> tuple[dict[str, Array], Array]:
        chunks, m, d = batch.residual.shape
        r = residuals(problem.pde, model, batch.residual.reshape(chunks * m, d), problem.names)
        squared = jnp.sum(jnp.square(r), axis=1).reshape(chunks, m)
        if batch.inside is not None:
            # Points in an obstacle count for nothing; the rest as a mean over the fluid.
            squared = squared * batch.inside / jnp.maximum(jnp.mean(batch.inside), 1e-6)
        residual, weights = self.reducer(squared, reducer_state)
        terms = {"residual": residual}
        if not (self.hard_initial or problem.steady):
            fields = batch.initial_values.shape[1]
            terms["initial"] = mean_square(jax.vmap(model)(batch.initial)[:, :fields] - batch.initial_values)
        if batch.data is not None:
            terms["data"] = data_misfit(model, problem, batch)
        if batch.boundary is not None:
            terms["boundary"] = boundary_misfit(model, problem, batch)
        if batch.flow is not None and "boundary" in self.term_names(problem):
            terms["boundary"] = problem.flow.misfit(model, batch.flow, self.hard_boundary)
        return terms, weights


def data_misfit(model: Any, problem: Problem, batch: Batch) -> Array:
    """Mean square misfit of the observations inside the window being trained (all of them without windows).

    Masking rather than filtering keeps one shape, so windows share a compilation.
    """
    inside = (batch.data[:, 0] >= problem.span[0]) & (batch.data[:, 0] <= problem.span[1])
    fields = batch.data_values.shape[1]
    misfit = jnp.mean(jnp.square(jax.vmap(model)(batch.data)[:, :fields] - batch.data_values), axis=1)
    return jnp.sum(jnp.where(inside, misfit, 0)) / jnp.maximum(jnp.sum(inside), 1)


def boundary_misfit(model: Any, problem: Problem, batch: Batch) -> Array:
    """Mean square misfit of the Dirichlet values or Neumann normal derivatives on both faces of each walled axis."""
    d = batch.residual.shape[-1]
    misfits = []
    for j, axis in enumerate(batch.boundary_axis):
        kind, low, high = problem.bcs[axis]
        length = problem.upper[1 + axis] - problem.lower[1 + axis]
        lower = batch.boundary[j]
        upper = lower.at[:, 1 + axis].add(length)
        if kind == "dirichlet":
            value = jax.vmap(model)
        else:  # neumann: the normal derivative along the axis
            alpha = tuple(1 if i == axis else 0 for i in range(d - 1))
            value = jax.vmap(derivative(model, alpha))
        misfits += [value(lower) - low, value(upper) - high]
    return mean_square(jnp.stack(misfits))
