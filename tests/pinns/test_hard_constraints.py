"""Exact boundary conditions from the geometry (pinns.flow, pinns.constraints.Affine) and the flow residual."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cases import get
from pinns.constraints import Steady, hard_initial
from pinns.flow import _piece_velocity, hard_boundary, make_flow
from pinns.nets import make_network
from pinns.residual import network_derivatives, residual


def _network(case, key, dtype):
    (x0, y0), (lx, ly) = case.domain.origin, case.domain.length
    return make_network(key, lower=(0.0, x0, y0), upper=(1.0, x0 + lx, y0 + ly), n_out=3, periods=(None, None, None),
                        architecture="mlp", width=16, depth=2, activation="tanh", dtype=jnp.dtype(dtype))


@eqx.filter_jit
def _batched(model, points):
    return jax.vmap(model)(points)


def _boundary_points(flow, key, n, t):
    points, data = [], []
    for i, condition in enumerate(flow.conditions):
        if condition.kind != "velocity":
            continue
        x, _ = flow.geometry.sample(condition.piece, jax.random.fold_in(key, i), n)
        points.append(jnp.concatenate([jnp.full((n, 1), t, x.dtype), x], axis=1))
        data.append(jax.vmap(lambda y, c=condition: _piece_velocity(c, y))(x))
    return jnp.concatenate(points), jnp.concatenate(data)


@pytest.mark.parametrize("name", ["lid-driven-cavity", "cylinder"])
def test_velocity_holds_on_every_velocity_piece_at_random_weights(name):
    # The cavity is a box with a moving lid; the cylinder a box minus a disc with a parabolic inflow.
    case = get(name)
    flow = make_flow(case, "float32")
    n = 10_000 // len(flow.velocity_pieces)
    points, data = _boundary_points(flow, jax.random.key(1), n, 0.0)
    scale = float(jnp.max(jnp.abs(data)))
    for seed in range(2):
        model = hard_boundary(_network(case, jax.random.key(seed), "float32"), flow)
        values = _batched(model, points)[:, :2]
        assert float(jnp.max(jnp.abs(values - data))) <= 1e-6 * scale
        # Not trivially: inside, the network does move the velocity off the interpolated data.
        inside = jnp.asarray([[0.0, 0.5 * (case.domain.length[0]), 0.3 * case.domain.length[1]]])
        assert float(jnp.max(jnp.abs(jax.vmap(model)(inside)[:, :2] - jax.vmap(lambda z: flow.boundary_velocity(z[1:]))(inside)))) > 1e-3


def test_outflow_pressure_and_closed_flow_gauge_are_exact():
    channel = get("channel")
    flow = make_flow(channel, "float32")
    model = hard_boundary(_network(channel, jax.random.key(0), "float32"), flow)
    x, _ = flow.geometry.sample("right", jax.random.key(2), 1000)
    z = jnp.concatenate([jnp.zeros((1000, 1)), x], axis=1)
    assert float(jnp.max(jnp.abs(jax.vmap(model)(z)[:, 2]))) <= 1e-6
    cavity = get("lid-driven-cavity")
    pinned = hard_boundary(_network(cavity, jax.random.key(0), "float32"), make_flow(cavity, "float32"))
    assert abs(float(pinned(jnp.asarray([0.3, 0.5, 0.5]))[2])) <= 1e-7
    assert abs(float(pinned(jnp.asarray([0.3, 0.2, 0.7]))[2])) > 1e-4


def test_boundary_and_initial_transforms_compose_for_a_time_dependent_case():
    # The cavity from rest with the lid on: u = g(x) + phi(x) (t / tau) N(t, x) holds the walls at every t
    # and equals g at t = 0 (the inner transform's initial value is zero).
    case = get("lid-driven-cavity")
    flow = make_flow(case, "float32")
    inner = hard_initial(_network(case, jax.random.key(3), "float32"), None, jnp.asarray(0.0), jnp.asarray(1.0), n_out=3)
    model = hard_boundary(inner, flow)
    for t in (0.13, 0.61, 0.97):
        points, data = _boundary_points(flow, jax.random.key(4), 2500, t)
        assert float(jnp.max(jnp.abs(jax.vmap(model)(points)[:, :2] - data))) <= 1e-6
    x = jax.random.uniform(jax.random.key(5), (1000, 2))
    z = jnp.concatenate([jnp.zeros((1000, 1)), x], axis=1)
    g = jax.vmap(flow.boundary_velocity)(x)
    assert float(jnp.max(jnp.abs(jax.vmap(model)(z)[:, :2] - g))) <= 1e-6
    assert float(jnp.max(jnp.abs(jax.vmap(model)(z.at[:, 0].set(0.5))[:, :2] - jax.vmap(model)(z)[:, :2]))) > 1e-3


@pytest.mark.parametrize("name, steady", [("cylinder", True), ("lid-driven-cavity", False)])
def test_taylor_mode_jet_of_composed_transforms_equals_nested_forward_mode(name, steady):
    case = get(name)
    flow = make_flow(case, "float64")
    network = _network(case, jax.random.key(7), "float64")
    inner = Steady(network, jnp.asarray(1.0)) if steady else hard_initial(network, None, jnp.asarray(0.0), jnp.asarray(1.0), n_out=3)
    model = hard_boundary(inner, flow)
    alphas = {(1, 0), (0, 1), (2, 0), (0, 2)}
    taylor = jax.jit(lambda z: network_derivatives(model, alphas, z, taylor=True))
    nested = jax.jit(lambda z: network_derivatives(model, alphas, z, taylor=False))
    rng = np.random.default_rng(0)
    (x0, y0), (lx, ly) = case.domain.origin, case.domain.length
    for _ in range(4):
        z = jnp.asarray([rng.uniform(0.1, 0.9), x0 + rng.uniform(0.05, 0.95) * lx, y0 + rng.uniform(0.05, 0.95) * ly])
        if not bool(flow.geometry.inside(z[1:])):
            continue
        v1, t1, d1 = network_derivatives(model, alphas, z, taylor=True)
        v2, t2, d2 = network_derivatives(model, alphas, z, taylor=False)
        np.testing.assert_allclose(v1, v2, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(t1, t2, rtol=1e-10, atol=1e-10)
        for alpha in alphas:
            np.testing.assert_allclose(d1[alpha], d2[alpha], rtol=1e-9, atol=1e-9)
        if steady:
            assert float(jnp.max(jnp.abs(t1))) == 0.0


def _kovasznay(re: float):
    lam = re / 2 - np.sqrt(re**2 / 4 + 4 * np.pi**2)

    def flow(z):
        x, y = z[1], z[2]
        u = 1 - jnp.exp(lam * x) * jnp.cos(2 * jnp.pi * y)
        v = lam / (2 * jnp.pi) * jnp.exp(lam * x) * jnp.sin(2 * jnp.pi * y)
        p = 0.5 * (1 - jnp.exp(2 * lam * x))
        return jnp.stack([u, v, p])

    return flow


def test_navier_stokes_residual_vanishes_on_exact_steady_solutions_and_not_on_a_wrong_one():
    from phys.pdes.navier_stokes import IncompressibleNavierStokes2D

    points = jnp.asarray(np.random.default_rng(1).uniform([0, -0.5, -0.5], [1, 1.0, 1.5], (64, 3)))
    pde = IncompressibleNavierStokes2D(re=jnp.asarray(40.0))
    r = jax.vmap(lambda z: residual(pde, _kovasznay(40.0), z, ("u", "v", "p")))(points)
    assert float(jnp.max(jnp.abs(r))) < 1e-10
    # Poiseuille in the channel (Re 10, mean speed 1): u = 6 y (1 - y), p = -12 x / re.
    pde10 = IncompressibleNavierStokes2D(re=jnp.asarray(10.0))
    poiseuille = lambda z: jnp.stack([6 * z[2] * (1 - z[2]), 0 * z[1], -12 * z[1] / 10.0])  # noqa: E731
    r = jax.vmap(lambda z: residual(pde10, poiseuille, z, ("u", "v", "p")))(points)
    assert float(jnp.max(jnp.abs(r))) < 1e-12
    # The Kovasznay flow at the wrong Reynolds number is no solution: the residual sees it.
    r = jax.vmap(lambda z: residual(pde, _kovasznay(20.0), z, ("u", "v", "p")))(points)
    assert float(jnp.max(jnp.abs(r))) > 1e-2


def test_steady_gauge_is_the_per_point_gauge_and_runs_the_network_once_per_batch():
    # A steady model ignores t: pinning at a constant reference input gives the same values and jets as
    # pinning at each point's own (t, x_ref), and under vmap that reference is computed once, unbatched.
    case = get("lid-driven-cavity")
    flow = make_flow(case, "float64")
    inner = Steady(_network(case, jax.random.key(8), "float64"), jnp.asarray(1.0))
    per_point, once = hard_boundary(inner, flow), hard_boundary(inner, flow, steady=True)
    z = jnp.concatenate([jax.random.uniform(jax.random.key(9), (64, 1)), jax.random.uniform(jax.random.key(10), (64, 2))], axis=1)
    np.testing.assert_allclose(jax.vmap(once)(z), jax.vmap(per_point)(z), rtol=1e-13, atol=1e-13)
    assert float(jnp.max(jnp.abs(jax.vmap(once)(z)[:, 2]))) > 1e-4  # the pressure is not pinned to zero everywhere
    alphas = {(1, 0), (0, 1), (2, 0), (0, 2)}
    for point in z[:4]:
        a, b = network_derivatives(once, alphas, point, taylor=True), network_derivatives(per_point, alphas, point, taylor=True)
        np.testing.assert_allclose(a[0], b[0], rtol=1e-12, atol=1e-12)
        for alpha in alphas:
            np.testing.assert_allclose(a[2][alpha], b[2][alpha], rtol=1e-10, atol=1e-10)

    def network_rows(model):
        # The rows of every matrix product the batched model runs: one per point per network call.
        jaxpr = jax.make_jaxpr(jax.vmap(model))(z)
        return sum(int(np.prod(e.outvars[0].aval.shape[:-1])) for e in jaxpr.jaxpr.eqns if e.primitive.name == "dot_general")

    assert network_rows(once) < 0.55 * network_rows(per_point)
