"""Hard initial conditions, the Fourier interpolant they use, and time-marching windows."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from phys.case import CaseError
from pinns.config import TrainConfig
from pinns.constraints import FourierInterpolant, hard_initial, TimeWindows
from pinns.nets import make_network
from pinns.loop import adam_steps
from pinns.problem import check_hard_initial, make_problem
from pinns.train import predict, train


def _trig(x, y):
    # A real trigonometric polynomial on [0, 2) x [-1, 1) whose modes a 16 x 8 grid resolves (not Nyquist).
    return np.sin(np.pi * x) + 0.3 * np.cos(3 * np.pi * x + 0.2) * np.sin(np.pi * y) + 0.1 * np.cos(2 * np.pi * y)


def test_fourier_interpolant_is_exact_on_a_resolved_trigonometric_polynomial_and_its_derivatives():
    nx, ny = 16, 8
    x = np.arange(nx) * 2.0 / nx
    y = -1 + np.arange(ny) * 2.0 / ny
    values = _trig(*np.meshgrid(x, y, indexing="ij"))[None]
    g = FourierInterpolant(values, (0.0, -1.0), (2.0, 2.0), jnp.float64)
    rng = np.random.default_rng(0)
    for px, py in rng.uniform([0, -1], [2, 1], (5, 2)):
        point = jnp.asarray([px, py])
        assert float(g(point)[0]) == pytest.approx(_trig(px, py), abs=1e-13)
        d_dx = jax.grad(lambda p: g(p)[0])(point)[0]
        exact = np.pi * np.cos(np.pi * px) - 0.9 * np.pi * np.sin(3 * np.pi * px + 0.2) * np.sin(np.pi * py)
        assert float(d_dx) == pytest.approx(exact, abs=1e-12)


def test_fourier_interpolant_passes_through_rough_grid_values_and_is_never_trained():
    values = np.random.default_rng(1).normal(size=(2, 12))
    g = FourierInterpolant(values, (-1.0,), (2.0,), jnp.float64)
    nodes = -1 + np.arange(12) * 2.0 / 12
    out = np.stack([np.asarray(g(jnp.asarray([v]))) for v in nodes], axis=1)
    np.testing.assert_allclose(out, values, atol=1e-13)
    grads = jax.grad(lambda m: m(jnp.asarray([0.3])).sum())(g)
    assert all(float(jnp.abs(leaf).max()) == 0 for leaf in jax.tree.leaves(eqx.filter(grads, eqx.is_inexact_array)))


def test_hard_initial_network_equals_the_initial_condition_at_t0_whatever_its_weights():
    values = np.random.default_rng(2).normal(size=(1, 16))
    initial = FourierInterpolant(values, (0.0,), (2 * math.pi,), jnp.float64)
    net = make_network(jax.random.key(3), lower=(0.5, 0.0), upper=(1.5, 2 * math.pi), n_out=1, dtype=jnp.float64)
    model = hard_initial(net, initial, t0=jnp.asarray(0.5), tau=jnp.asarray(1.0))
    x = jnp.asarray(np.arange(16) * 2 * math.pi / 16)
    at_t0 = jax.vmap(lambda v: model(jnp.asarray([0.5, v])))(x)[:, 0]
    np.testing.assert_allclose(at_t0, values[0], atol=1e-13)
    later = jax.vmap(lambda v: model(jnp.asarray([1.2, v])))(x)[:, 0]
    assert float(jnp.abs(later - values[0]).max()) > 1e-3  # the network does act after t0


def test_time_windows_route_each_time_to_its_window():
    class Const(eqx.Module):
        c: float = eqx.field(static=True)

        def __call__(self, z):
            return jnp.full((1,), self.c, z.dtype)

    model = TimeWindows((Const(1.0), Const(2.0), Const(3.0)), (0.0, 0.25, 0.5, 1.0))
    times = jnp.asarray([0.0, 0.1, 0.25, 0.4, 0.5, 0.99, 1.0])
    routed = jax.vmap(lambda t: model(jnp.asarray([t, 0.0])))(times)[:, 0]
    np.testing.assert_array_equal(routed, [1, 1, 2, 2, 3, 3, 3])


def _params(model):
    return jax.tree.leaves(eqx.filter(model, eqx.is_inexact_array))


def test_windowed_hard_initial_run_is_continuous_at_the_window_edges_and_resumes_exactly(tmp_path, small_case):
    from solvers.solve import solve

    case = small_case.with_updates({"time.t_end": 0.6, "dtype": "float64"})
    reference = solve(case)
    config = TrainConfig.from_settings("causal", steps=6, windows=3, hard_initial=True, width=8, depth=2, n_residual=32, n_chunks=4,
                                       eval_every=3, checkpoint_every=4)
    compiled = adam_steps._cache_size()
    whole = train(case, config, reference=reference, progress=False)
    assert adam_steps._cache_size() == compiled + 1  # the three windows share one compilation
    assert isinstance(whole.model, TimeWindows) and len(whole.model.models) == 3
    assert whole.steps == 18 and [h["window"] for h in whole.history] == [0, 0, 1, 1, 2, 2]
    # Window k starts exactly from window k-1's prediction at the shared edge (on the grid nodes).
    x = np.asarray(reference.coords["x"])
    for k, edge in enumerate(whole.model.edges[1:-1], start=1):
        before = predict(whole.model.models[k - 1], np.asarray([edge]), (x,))
        after = predict(whole.model.models[k], np.asarray([edge]), (x,))
        np.testing.assert_allclose(after, before, atol=1e-12)
    # Times asked for out of order come back in that order, each from its own window.
    shuffled = np.asarray(reference.time)[::-1]
    np.testing.assert_array_equal(predict(whole.model, shuffled, (x,)), predict(whole.model, np.asarray(reference.time), (x,))[::-1])
    # The first window starts from the case's IC exactly.
    np.testing.assert_allclose(predict(whole.model, np.asarray([0.0]), (x,))[0, :, 0], np.sin(x), atol=1e-12)
    # Stopped inside the second window, then resumed: the same networks, bit for bit.
    train(case, config, reference=reference, checkpoint_dir=tmp_path, stop_at=8, progress=False)
    resumed = train(case, config, reference=reference, checkpoint_dir=tmp_path, resume=True, progress=False)
    for a, b in zip(_params(whole.model), _params(resumed.model), strict=True):
        np.testing.assert_array_equal(a, b)
    assert resumed.rel_l2 == whole.rel_l2


def test_hard_initial_needs_a_periodic_case():
    import cases

    with pytest.raises(CaseError, match="hard_initial"):
        check_hard_initial(make_problem(cases.get("burgers")))
    with pytest.raises(CaseError, match="hard_initial"):
        train(cases.get("burgers").with_updates({"grid.n": 33}), TrainConfig.from_settings("pinn", hard_initial=True, steps=1))


@pytest.mark.parametrize("architecture", ["mlp", "modified_mlp"])
def test_hard_initial_taylor_jet_equals_nested_forward_mode_to_order_four(architecture):
    from pinns.residual import derivative, time_derivative

    values = np.random.default_rng(4).normal(size=(1, 16, 8))
    initial = FourierInterpolant(values, (0.0, -1.0), (2 * math.pi, 2.0), jnp.float64)
    net = make_network(jax.random.key(5), lower=(0.2, 0.0, -1.0), upper=(0.7, 2 * math.pi, 1.0), n_out=1,
                       periods=(None, 2 * math.pi, None), architecture=architecture, width=12, depth=3, dtype=jnp.float64)
    model = hard_initial(net, initial, t0=jnp.asarray(0.2), tau=jnp.asarray(0.5))
    z = jnp.asarray([0.45, 1.3, 0.35])
    jet = model.jet(z, (1, 4, 3))
    np.testing.assert_allclose(jet.value, model(z), rtol=1e-12)
    np.testing.assert_allclose(jet.directions[0][0], time_derivative(model)(z), rtol=1e-10)
    for axis, streams in enumerate(jet.directions[1:]):
        for order, stream in enumerate(streams, start=1):
            alpha = tuple(order if i == axis else 0 for i in range(2))
            np.testing.assert_allclose(stream, derivative(model, alpha)(z), rtol=1e-9, atol=1e-9)
