"""Networks: exact periodicity, Glorot statistics, weight factorization, the gated MLP's formula, Taylor-mode jets equal to nested jvp."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinns.nets import Dense, FourierFeatures, ModifiedMLP, glorot_normal, make_network
from pinns.residual import derivative


@pytest.mark.parametrize("architecture, activation", [("mlp", "tanh"), ("mlp", "sin"), ("modified_mlp", "gelu")])
def test_periodic_embedding_makes_the_network_exactly_periodic(architecture, activation):
    length = 2.5
    net = make_network(
        jax.random.key(0), lower=(0.0, -1.0), upper=(1.0, 1.5), n_out=2, periods=(None, length),
        architecture=architecture, activation=activation, width=16, depth=2, n_modes=3, fourier=(16, 2.0), factorize=(1.0, 0.1),
        dtype=jnp.float64,
    )
    z = jax.random.uniform(jax.random.key(1), (32, 2), jnp.float64)
    shifted = z + jnp.array([[0.0, length]])
    np.testing.assert_allclose(jax.vmap(net)(shifted), jax.vmap(net)(z), atol=1e-12)
    # Derivatives too (a periodic BC on u_x, u_xx holds as well).
    third = jax.vmap(derivative(net, (3,)))
    np.testing.assert_allclose(third(shifted), third(z), atol=1e-9)
    # Without the embedding the same network is not periodic.
    plain = make_network(jax.random.key(0), lower=(0.0, -1.0), upper=(1.0, 1.5), n_out=2, dtype=jnp.float64)
    assert jnp.max(jnp.abs(jax.vmap(plain)(shifted) - jax.vmap(plain)(z))) > 1e-2


def test_glorot_normal_has_variance_two_over_fan_sum():
    w = glorot_normal(jax.random.key(0), 600, 400, jnp.float64)
    # 240,000 samples: the standard error of the sample std is 0.14%.
    assert w.shape == (400, 600)
    assert abs(float(jnp.std(w)) / math.sqrt(2 / 1000) - 1) < 0.01
    assert abs(float(jnp.mean(w))) < 3 * math.sqrt(2 / 1000) / math.sqrt(w.size)


def test_weight_factorization_starts_from_the_same_glorot_weights():
    plain = Dense(jax.random.key(3), 5, 7, dtype=jnp.float64)
    factored = Dense(jax.random.key(3), 5, 7, factorize=(1.0, 0.1), dtype=jnp.float64)
    np.testing.assert_allclose(factored.weight, plain.weight, rtol=1e-14)
    assert factored.s is not None and float(jnp.mean(factored.s)) == pytest.approx(1.0, abs=0.1)
    # but the parametrisation differs: the gradient with respect to the scale s exists.
    x = jnp.arange(5.0)
    grad = eqx.filter_grad(lambda layer: jnp.sum(layer(x) ** 2))(factored)
    assert jnp.all(grad.s != 0)


def test_modified_mlp_follows_the_gated_formula():
    net = make_network(jax.random.key(2), lower=(0.0, 0.0), upper=(1.0, 1.0), n_out=1, architecture="modified_mlp",
                       width=8, depth=3, dtype=jnp.float64)
    assert isinstance(net, ModifiedMLP)
    z = jnp.array([0.3, 0.6])
    e = net.embedding(z)
    u, v = jnp.tanh(net.encoder_u.weight @ e + net.encoder_u.b), jnp.tanh(net.encoder_v.weight @ e + net.encoder_v.b)
    h = e
    for layer in net.layers[:-1]:
        gate = jnp.tanh(layer.weight @ h + layer.b)
        h = gate * u + (1 - gate) * v
    np.testing.assert_allclose(net(z), net.layers[-1].weight @ h + net.layers[-1].b, rtol=1e-14)


def test_fourier_feature_matrix_is_not_trained():
    features = FourierFeatures(jax.random.key(0), 2, 4, 3.0, jnp.float64)
    grad = eqx.filter_grad(lambda f: jnp.sum(f(jnp.array([0.2, 0.4]))))(features)
    assert jnp.all(grad.matrix == 0)
    assert jnp.std(features.matrix) > 1.0  # scale 3 on 8 samples


# Networks the Taylor-mode path covers: each architecture, activation and embedding.
JET_NETWORKS = [
    dict(architecture="mlp", activation="tanh"),
    dict(architecture="mlp", activation="sin", periods=(None, 2.5, None), n_modes=2, factorize=(1.0, 0.1)),
    dict(architecture="mlp", activation="gelu", fourier=(8, 1.5)),
    dict(architecture="modified_mlp", activation="tanh", periods=(None, 2.5, 3.0), fourier=(8, 1.0)),
    dict(architecture="modified_mlp", activation="gelu", factorize=(0.5, 0.1)),
]


@pytest.mark.parametrize("settings", JET_NETWORKS, ids=lambda s: "-".join(str(v) for v in s.values()))
def test_taylor_mode_jet_equals_nested_forward_mode_to_order_four(settings):
    net = make_network(jax.random.key(4), lower=(0.0, -1.0, 0.0), upper=(1.0, 1.5, 2.0), n_out=2, width=12, depth=2,
                       dtype=jnp.float64, **settings)
    z = jax.random.uniform(jax.random.key(5), (6, 3), jnp.float64, -1.0, 2.0)
    orders = (1, 4, 2)
    # Per point under vmap, as pinns.residual calls it.
    value, directions = jax.vmap(lambda p: (lambda j: (j.value, j.directions))(net.jet(p, orders)))(z)
    np.testing.assert_allclose(value, jax.vmap(net)(z), rtol=1e-13, atol=1e-13)
    for axis, order in enumerate(orders):
        assert len(directions[axis]) == order
        for k in range(1, order + 1):
            expected = jax.vmap(derivative(net, (k,), axis_offset=axis))(z)
            scale = float(jnp.max(jnp.abs(expected)))
            assert scale > 1e-3  # a derivative that is really there
            np.testing.assert_allclose(directions[axis][k - 1], expected, rtol=0, atol=1e-12 * scale)


def test_taylor_mode_parameter_gradient_equals_nested_forward_mode():
    # Training differentiates the jet with respect to the weights: that must agree too.
    net = make_network(jax.random.key(6), lower=(0.0, -1.0), upper=(1.0, 1.0), n_out=1, architecture="modified_mlp",
                       width=8, depth=2, periods=(None, 2.0), dtype=jnp.float64)
    z = jax.random.uniform(jax.random.key(7), (5, 2), jnp.float64)
    by_jet = eqx.filter_grad(lambda m: jnp.sum(jax.vmap(lambda p: m.jet(p, (1, 3)).directions[1][2])(z) ** 2))(net)
    by_jvp = eqx.filter_grad(lambda m: jnp.sum(jax.vmap(derivative(m, (3,)))(z) ** 2))(net)
    for a, b in zip(jax.tree.leaves(eqx.filter(by_jet, eqx.is_inexact_array)), jax.tree.leaves(eqx.filter(by_jvp, eqx.is_inexact_array))):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12 * float(jnp.max(jnp.abs(b))))
