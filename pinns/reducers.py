"""Reducers: how a method's per-point squared residuals become one loss term.

A reducer maps the squared residuals ``[chunks, points]`` (the chunks in time
order, :meth:`pinns.problem.Problem.sample`) and its state to a scalar loss and
what it reports, and carries its state from step to step:

- :class:`Mean`: the plain mean. Its state is a fixed eps = 1 at which it
  reports the causal weights the chunk losses would get, so a plain run's
  history shows how far from causal order it trains; they never enter its loss.
- :class:`CausalWeighting`: Wang, Sankaran & Perdikaris (2022), eq. 2.11 - 2.12
  (:mod:`pinns.losses`): its state is ``eps``, raised along the schedule
  whenever every weight exceeds ``delta``.

Patent notice: the causal training algorithm is protected by a patent of the
University of Pennsylvania; its authors state that it cannot be used for
commercial purposes (see :mod:`pinns.losses`).
"""

from __future__ import annotations

import abc
from typing import Any

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from pinns.losses import causal_residual_loss, causal_weights, chunk_losses, next_causal_eps

__all__ = ["AbstractReducer", "Mean", "CausalWeighting"]


class AbstractReducer(eqx.Module):
    """``(squared [chunks, points], state) -> (loss, weights)``, and the state's update after a step."""

    @abc.abstractmethod
    def init(self, dtype: Any) -> Array:
        """The state at the first step."""

    @abc.abstractmethod
    def __call__(self, squared: Float[Array, "chunks points"], state: Array) -> tuple[Float[Array, ""], Float[Array, " chunks"]]:
        """The loss term and the per-chunk weights it reports."""

    def update(self, state: Array, weights: Float[Array, " chunks"]) -> Array:
        """The state for the next step, after a step that reported ``weights``."""
        return state


class Mean(AbstractReducer):
    """The mean over all points; reports ``exp(-sum of the earlier chunks' losses)`` (eps = 1), unused."""

    def init(self, dtype: Any) -> Array:
        return jnp.ones((), dtype)

    def __call__(self, squared: Float[Array, "chunks points"], state: Array) -> tuple[Float[Array, ""], Float[Array, " chunks"]]:
        return jnp.mean(squared), causal_weights(chunk_losses(squared), state)


class CausalWeighting(AbstractReducer):
    """``(1/M) sum_i w_i L_i``, ``w_i = exp(-eps sum_{k<i} L_k)``; the state is ``eps`` and follows the schedule."""

    eps: float = eqx.field(static=True, default=1e-2)
    delta: float = eqx.field(static=True, default=0.99)
    factor: float = eqx.field(static=True, default=10.0)
    eps_max: float = eqx.field(static=True, default=100.0)

    @classmethod
    def from_settings(cls, settings: Any) -> CausalWeighting:
        """From :class:`pinns.config.Causal`."""
        return cls(settings.causal_eps, settings.causal_delta, settings.causal_factor, settings.causal_eps_max)

    def init(self, dtype: Any) -> Array:
        return jnp.asarray(self.eps, dtype)

    def __call__(self, squared: Float[Array, "chunks points"], state: Array) -> tuple[Float[Array, ""], Float[Array, " chunks"]]:
        return causal_residual_loss(squared, state)

    def update(self, state: Array, weights: Float[Array, " chunks"]) -> Array:
        return next_causal_eps(state, weights, self.delta, self.factor, self.eps_max)
