"""Causal weighting and loss balancing equal their formulas, and causal weights carry no gradient."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from pinns.losses import balanced_weights, causal_residual_loss, causal_weights, chunk_losses, next_causal_eps


def test_causal_weights_equal_the_formula_on_a_hand_made_example():
    # w_i = exp(-eps sum_{k<i} L_k) with L = (0.5, 0.2, 0.1, 0.4), eps = 2.
    losses = jnp.array([0.5, 0.2, 0.1, 0.4])
    expected = [1.0, math.exp(-1.0), math.exp(-1.4), math.exp(-1.6)]
    np.testing.assert_allclose(causal_weights(losses, 2.0), expected, rtol=1e-14)


def test_chunk_losses_are_mean_squares_per_time_chunk():
    squared = jnp.array([[1.0, 3.0], [0.0, 4.0]])
    np.testing.assert_allclose(chunk_losses(squared), [2.0, 2.0])


def test_causal_weights_carry_no_gradient():
    def weights_sum(theta):
        return jnp.sum(causal_weights(jnp.array([1.0, 2.0, 3.0]) * theta, 0.5))

    assert jax.grad(weights_sum)(1.3) == 0.0


def test_causal_loss_gradient_treats_the_weights_as_constants():
    # loss(theta) = (1/M) sum_i w_i L_i(theta) with L_i = (a_i theta)^2: its
    # gradient is (1/M) sum_i w_i 2 a_i^2 theta, the w_i fixed at their values.
    a = jnp.array([0.3, 1.0, 2.0])
    theta, eps = 0.7, 1.5

    def loss(t):
        return causal_residual_loss(jnp.square(a * t)[:, None], eps)[0]

    losses = jnp.square(a * theta)
    w = np.exp(-eps * (np.cumsum(losses) - losses))
    expected = np.mean(w * 2 * a**2 * theta)
    np.testing.assert_allclose(jax.grad(loss)(theta), expected, rtol=1e-13)
    # The derivative of the weights themselves would change it by a lot:
    # the full derivative of the same expression, weights included, differs.
    full = jax.grad(lambda t: jnp.mean(jnp.exp(-eps * (jnp.cumsum((a * t) ** 2) - (a * t) ** 2)) * (a * t) ** 2))(theta)
    assert abs(full - expected) > 0.1 * abs(expected)


def test_eps_is_raised_only_once_every_weight_exceeds_delta():
    assert next_causal_eps(jnp.asarray(1.0), jnp.array([1.0, 0.995, 0.991]), delta=0.99) == 10.0
    assert next_causal_eps(jnp.asarray(1.0), jnp.array([1.0, 0.995, 0.98]), delta=0.99) == 1.0
    assert next_causal_eps(jnp.asarray(100.0), jnp.array([1.0, 1.0]), delta=0.99, eps_max=100.0) == 100.0


def test_balanced_weights_equal_total_gradient_norm_over_own_norm():
    norms = {"initial": jnp.asarray(1.0), "residual": jnp.asarray(3.0)}
    fresh = balanced_weights(norms, {"initial": 1.0, "residual": 1.0}, momentum=0.0)
    np.testing.assert_allclose([fresh["initial"], fresh["residual"]], [4.0, 4.0 / 3.0])
    smoothed = balanced_weights(norms, {"initial": 2.0, "residual": 1.0}, momentum=0.9)
    np.testing.assert_allclose([smoothed["initial"], smoothed["residual"]], [0.9 * 2 + 0.1 * 4, 0.9 + 0.1 * 4 / 3])
