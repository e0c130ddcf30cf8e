"""Loss terms for PINNs and the pieces that weight them: causal weighting, gradient-norm balancing.

Each piece is a small pure function; :mod:`pinns.train` composes them.

- :func:`mean_square` of a residual or a misfit: the IC, BC, data and
  residual terms are all mean squares of something at points.
- Causal weighting (Wang, Sankaran & Perdikaris 2022, "Respecting causality
  is all you need for training physics-informed neural networks", eq. 2.11 -
  2.12): the residual points are grouped into ``M`` time chunks in order, with
  chunk losses ``L_i`` (mean squared residual of chunk ``i``); the residual
  loss is ``(1/M) sum_i w_i L_i`` with ``w_i = exp(-eps sum_{k<i} L_k)``
  computed under stop-gradient, so the network is not pushed to fit late times
  before early ones are fitted (and cannot lower the loss by inflating early
  residuals to switch late chunks off). ``eps`` is raised along a schedule
  whenever every weight exceeds ``delta`` (:func:`next_causal_eps`).
- Gradient-norm balancing (Wang, Wang & Perdikaris 2023, "An expert's guide
  to training physics-informed neural networks", eq. 3.3 - 3.5): term ``i``
  gets ``lambda_i = sum_j |grad L_j| / |grad L_i|``, smoothed by a moving
  average, so every term pulls on the parameters equally hard.

Patent notice: the causal training algorithm is protected by a patent of the
University of Pennsylvania; the authors' README
(github.com/PredictiveIntelligenceLab/CausalPINNs) states that it cannot be
used for commercial purposes. Research use only unless licensed by the
university.
"""

from __future__ import annotations

from typing import Mapping

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

__all__ = [
    "causal_weights",
    "causal_residual_loss",
    "chunk_losses",
    "balanced_weights",
    "mean_square",
    "next_causal_eps",
    "EPS_SCHEDULE",
]

# The tolerance schedule of Wang, Sankaran & Perdikaris (2022, section 3):
# eps moves to the next value once min_i w_i > delta = 0.99.
EPS_SCHEDULE = (1e-2, 1e-1, 1.0, 1e1, 1e2)


def mean_square(values: Array) -> Float[Array, ""]:
    """Mean of the squares over all entries."""
    return jnp.mean(jnp.square(values))


def chunk_losses(squared_residuals: Float[Array, "chunks points"]) -> Float[Array, " chunks"]:
    """``L_i``: mean squared residual of each time chunk (chunks in time order)."""
    return jnp.mean(squared_residuals, axis=1)


def causal_weights(losses: Float[Array, " chunks"], eps: Float[Array, ""] | float) -> Float[Array, " chunks"]:
    """``w_i = exp(-eps sum_{k<i} L_k)``, with no gradient to ``losses`` (nor ``eps``)."""
    # Exclusive cumulative sum: chunk 0 always has weight 1.
    before = jnp.cumsum(losses) - losses
    return jax.lax.stop_gradient(jnp.exp(-eps * before))


def causal_residual_loss(
    squared_residuals: Float[Array, "chunks points"], eps: Float[Array, ""] | float
) -> tuple[Float[Array, ""], Float[Array, " chunks"]]:
    """``(1/M) sum_i w_i L_i`` and the weights ``w``."""
    losses = chunk_losses(squared_residuals)
    weights = causal_weights(losses, eps)
    return jnp.mean(weights * losses), weights


def next_causal_eps(
    eps: Float[Array, ""], weights: Float[Array, " chunks"], delta: float = 0.99, factor: float = 10.0, eps_max: float = 100.0
) -> Float[Array, ""]:
    """Raise ``eps`` by ``factor`` (up to ``eps_max``) once ``min w > delta``: the early times are fitted."""
    raised = jnp.minimum(eps * factor, eps_max)
    return jnp.where(jnp.min(weights) > delta, raised, eps)


def balanced_weights(
    gradient_norms: Mapping[str, Float[Array, ""]],
    previous: Mapping[str, Float[Array, ""]],
    momentum: float = 0.9,
) -> dict[str, Float[Array, ""]]:
    """``lambda_i = sum_j |g_j| / |g_i|``, blended as ``momentum * old + (1 - momentum) * new``."""
    total = sum(gradient_norms.values())
    tiny = jnp.finfo(jnp.result_type(total)).tiny
    return {
        name: momentum * previous[name] + (1 - momentum) * total / jnp.maximum(norm, tiny)
        for name, norm in gradient_norms.items()
    }
