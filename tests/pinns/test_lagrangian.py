"""The Lagrangian PINN: its residual vanishes on exact characteristics, its IC transform is exact, the map back to the grid converges."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from phys.case import Case
from phys.pdes import load
from pinns.config import TrainConfig
from pinns.lagrangian import eulerian_derivatives, lagrangian_residual, to_eulerian
from pinns.nets import PointFunction
from pinns.problem import make_problem
from pinns.residual import network_derivatives
from pinns.train import setup


def _pde(name: str, **params: float):
    return load(name)(**{k: jnp.asarray(v, jnp.float64) for k, v in params.items()})


def _points(n: int, seed: int = 0) -> jax.Array:
    key_t, key_x = jax.random.split(jax.random.key(seed))
    t = jax.random.uniform(key_t, (n,), jnp.float64)
    x0 = 2 * math.pi * jax.random.uniform(key_x, (n,), jnp.float64)
    return jnp.stack([t, x0], axis=1)


def _max_residual(pde, model, speed: float) -> float:
    r = jax.vmap(lambda z: lagrangian_residual(pde, PointFunction(model), z, ("u",), jnp.asarray(speed)))(_points(64))
    return float(jnp.max(jnp.abs(r)))


def test_lagrangian_residual_of_the_exact_convection_characteristics_vanishes():
    beta = 50.0

    def exact(z):  # X = x0 + beta t, u = u0(x0) = sin x0
        return jnp.stack([z[1] + beta * z[0], jnp.sin(z[1])])

    assert _max_residual(_pde("convection", beta=beta), exact, beta) < 1e-12
    # 1% off in the speed: the characteristics residual is off by 1% of beta / V = 0.01.
    assert _max_residual(_pde("convection", beta=1.01 * beta), exact, beta) == pytest.approx(0.01, rel=1e-9)


def test_lagrangian_residual_of_the_exact_convection_diffusion_solution_vanishes():
    c, nu = 50.0, 0.01

    def exact(z):  # u = exp(-nu t) sin(x - c t) carried along X = x0 + c t
        return jnp.stack([z[1] + c * z[0], jnp.exp(-nu * z[0]) * jnp.sin(z[1])])

    assert _max_residual(_pde("convection-diffusion", c=c, nu=nu), exact, c) < 1e-12
    # Twice the diffusivity: du/dt = -nu u against nu' u_xx = -2 nu u leaves nu |u|, up to nu = 0.01.
    wrong = _max_residual(_pde("convection-diffusion", c=c, nu=2 * nu), exact, c)
    assert 0.5 * nu < wrong <= nu


def test_lagrangian_residual_follows_curved_characteristics_of_inviscid_burgers():
    # Before the characteristics cross (t < 1 for u0 = 1 + sin x0): X = x0 + u0(x0) t, u = u0(x0);
    # X_x0 = 1 + t cos x0 != 1, so the flux -(u^2/2)_x only cancels a u_x through the chain rule.
    def exact(z):
        u0 = 1.0 + jnp.sin(z[1])
        return jnp.stack([z[1] + u0 * z[0], u0])

    assert _max_residual(_pde("burgers", nu=0.0), exact, 2.0) < 1e-12
    # With viscosity the state residual is -nu u_xx along the curved grid, not -nu u_x0x0: compare with the
    # Eulerian second derivative by the chain rule written out for this map.
    nu = 0.1
    z = _points(64)
    r = jax.vmap(lambda p: lagrangian_residual(_pde("burgers", nu=nu), PointFunction(exact), p, ("u",), jnp.asarray(2.0)))(z)
    t, x0 = z[:, 0], z[:, 1]
    x1, x2 = 1 + t * jnp.cos(x0), -t * jnp.sin(x0)  # X', X''
    u1, u2 = jnp.cos(x0), -jnp.sin(x0)
    u_xx = (u2 - (u1 / x1) * x2) / x1**2
    np.testing.assert_allclose(r[:, 1], -nu * u_xx, rtol=1e-10, atol=1e-12)


def test_eulerian_derivatives_invert_the_chain_rule_to_fourth_order():
    # u(x0) = sin(X(x0)) with X = x0 + 0.3 sin x0: v = sin, so v', v'', v''', v'''' = cos, -sin, -cos, sin at X.
    def u(x0):
        return jnp.sin(x0 + 0.3 * jnp.sin(x0))

    def position(x0):
        return x0 + 0.3 * jnp.sin(x0)

    def derivatives(f, x, k):
        out, g = [], f
        for _ in range(k):
            g = jax.grad(g)
            out.append(g(x))
        return out

    for x0 in (0.3, 1.7, 4.0):
        x0 = jnp.asarray(x0, jnp.float64)
        v = eulerian_derivatives(derivatives(u, x0, 4), derivatives(position, x0, 4))
        at = position(x0)
        np.testing.assert_allclose(v, [jnp.cos(at), -jnp.sin(at), -jnp.cos(at), jnp.sin(at)], rtol=1e-12, atol=1e-13)


def _case(**params: float) -> Case:
    return Case(
        name="convection-lagrangian-test",
        pde={"name": "convection", "params": {"beta": 50.0, **params}},
        domain={"length": 2 * math.pi},
        grid={"n": 32},
        ic={"kind": "family", "name": "sine", "params": {"amplitude": 1.0, "wavenumber": 1.0, "phase": 0.4}},
        time={"t_end": 0.5, "dt": 0.05, "save_dt": 0.1},
        dtype="float64",
    )


def test_exact_initial_transform_holds_at_random_weights():
    case = _case()
    config = TrainConfig.from_settings("lagrangian", hard_initial=True, width=8, depth=2, n_residual=32, n_chunks=4)
    pieces = setup(case, config)
    model = pieces.model(pieces.problem)
    # Random weights everywhere (the characteristics' output layer starts at zero: X = x0 until trained).
    import equinox as eqx

    weights, rest = eqx.partition(model, eqx.is_inexact_array)
    paths, tree = jax.tree_util.tree_flatten_with_path(weights)
    keys = jax.random.split(jax.random.key(3), len(paths))
    leaves = [w + 0.5 * jax.random.normal(k, w.shape, w.dtype) if ".layers[" in jax.tree_util.keystr(p) else w
              for (p, w), k in zip(paths, keys)]
    model = eqx.combine(jax.tree_util.tree_unflatten(tree, leaves), rest)
    x0 = np.arange(32) * 2 * math.pi / 32
    at_start = np.asarray(jax.vmap(model)(jnp.stack([jnp.zeros(32), jnp.asarray(x0)], axis=1)))
    np.testing.assert_allclose(at_start[:, 0], x0, rtol=0, atol=1e-13)  # X(x0, 0) = x0
    np.testing.assert_allclose(at_start[:, 1], np.sin(x0 + 0.4), rtol=0, atol=1e-13)  # u(x0, 0) = u0(x0)
    later = np.asarray(jax.vmap(model)(jnp.stack([jnp.full(32, 0.3), jnp.asarray(x0)], axis=1)))
    assert np.abs(later[:, 0] - x0).max() > 0.1 and np.abs(later[:, 1] - np.sin(x0 + 0.4)).max() > 1e-3  # the networks act after t0
    # The displacement is scaled by the transport speed V = beta: dX/dt = V N_X at t0.
    assert float(model.speed) == pytest.approx(50.0)


def test_lagrangian_model_jet_equals_nested_forward_mode():
    case = _case()
    config = TrainConfig.from_settings("lagrangian", hard_initial=True, width=8, depth=2, n_residual=32, n_chunks=4)
    pieces = setup(case, config)
    model = pieces.model(pieces.problem)
    z = jnp.asarray([0.21, 1.3])
    alphas = {(1,), (2,), (3,)}
    value, u_t, fast = network_derivatives(model, alphas, z, taylor=True)
    _, u_t_generic, generic = network_derivatives(PointFunction(model), alphas, z, taylor=False)
    np.testing.assert_allclose(value, model(z), rtol=1e-14)
    np.testing.assert_allclose(u_t, u_t_generic, rtol=1e-12)
    for alpha in alphas:
        np.testing.assert_allclose(fast[alpha], generic[alpha], rtol=1e-10, atol=1e-12)


def test_mapping_back_to_the_grid_converges_at_second_order_to_a_known_field():
    # X = x0 + beta t + 0.3 sin x0 (monotone in x0), u = cos(2 x0): the Eulerian field is u at x0(x, t),
    # x0 found by Newton's method to rounding.
    beta, times = 7.0, np.array([0.0, 0.35, 1.0])
    x = np.arange(64) * 2 * np.pi / 64

    def exact(t):
        x0 = x - beta * t
        for _ in range(50):
            x0 = x0 - (x0 + beta * t + 0.3 * np.sin(x0) - x) / (1 + 0.3 * np.cos(x0))
        return np.cos(2 * x0)

    errors = []
    for m in (64, 128, 256):
        x0 = np.arange(m) * 2 * np.pi / m
        position = x0[None, :] + beta * times[:, None] + 0.3 * np.sin(x0)[None, :]
        state = np.broadcast_to(np.cos(2 * x0), (len(times), m))[..., None]
        mapped = to_eulerian(position, state, x, 0.0, 2 * np.pi)[..., 0]
        errors.append(max(np.abs(mapped[i] - exact(t)).max() for i, t in enumerate(times)))
    # Linear interpolation: error <= h^2 / 8 max|u''| with u'' up to (2 / 0.7)^2 + ... along x; measured
    # 2.2e-3, 5.6e-4, 1.4e-4; the ratios are the second order.
    assert errors[0] < 5e-3
    for coarse, fine in zip(errors, errors[1:]):
        assert 3.5 < coarse / fine < 4.5


def test_lagrangian_method_is_refused_where_it_does_not_apply(tmp_path, capsys):
    from phys.cli import main

    assert main(["train", "burgers", "--method", "lagrangian", "--out", str(tmp_path / "b")]) == 2
    assert capsys.readouterr().err.strip() == (
        "phys: error: method: lagrangian needs a periodic domain (the characteristics' positions are wrapped into the period)"
    )
    assert main(["train", "allen-cahn", "--method", "lagrangian", "--out", str(tmp_path / "a")]) == 2
    assert "lagrangian needs a PDE with a transport velocity" in capsys.readouterr().err
    assert main(["train", "convection", "--method", "lagrangian", "--set", "windows=2", "--out", str(tmp_path / "c")]) == 2
    assert "windows: lagrangian trains one window" in capsys.readouterr().err
    assert not any((tmp_path / name).exists() for name in "bac")
