"""The KS solve: accuracy against a fine reference, conservation, gradients, blow-up reports."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cases import get
from phys.errors import SolveError
from solvers import simulation, solve


def _trajectory(case) -> np.ndarray:
    return np.asarray(simulation(case)()["u"])


def test_ks_case_matches_fine_reference_up_to_t50() -> None:
    # Chaos amplifies any error by O(1) by t = 150 (Kassam & Trefethen's run
    # included), so only t <= 50 can prove accuracy. The reference halves the
    # grid spacing and takes 25x smaller steps.
    case = get("ks").with_updates({"dtype": "float64", "time.t_end": 50.0, "time.save_dt": 5.0})
    coarse = _trajectory(case)
    fine = _trajectory(case.with_updates({"grid.n": 256, "time.dt": 0.01}))[:, ::2]
    errors = np.linalg.norm(coarse - fine, axis=1) / np.linalg.norm(fine, axis=1)
    # Measured: at most 2.1e-3 (the 2/3-rule truncation at n = 128 dominates).
    assert errors.max() < 5e-3, errors


def test_ks_conserves_the_mean_of_u() -> None:
    # The nonlinearity is a derivative and the linear symbol vanishes at k = 0:
    # the mean is conserved to rounding, here for a start with mean 0.3.
    case = get("ks").with_updates({"dtype": "float64", "time.t_end": 100.0})
    sim = simulation(case)
    shifted = eqx.tree_at(lambda s: s.u0, sim, sim.u0 + 0.3)
    means = np.asarray(shifted()["u"].mean(axis=-1))
    np.testing.assert_allclose(means, 0.3 + np.asarray(sim.u0).mean(), atol=1e-12)


def _gradient_case():
    return get("ks").with_updates({"dtype": "float64", "grid.n": 32, "time.t_end": 5.0, "time.save_dt": 5.0})


def test_gradient_wrt_initial_state_matches_finite_differences() -> None:
    sim = simulation(_gradient_case())
    weights = jax.random.normal(jax.random.key(1), sim.u0.shape[1:], dtype=jnp.float64)
    direction = jax.random.normal(jax.random.key(2), sim.u0.shape, dtype=jnp.float64)

    def loss(u0):
        return jnp.sum(weights * eqx.tree_at(lambda s: s.u0, sim, u0)()["u"][-1])

    gradient = jax.grad(loss)(sim.u0)
    eps = 1e-5
    fd = (loss(sim.u0 + eps * direction) - loss(sim.u0 - eps * direction)) / (2 * eps)
    np.testing.assert_allclose(float(jnp.vdot(gradient, direction)), float(fd), rtol=1e-6)


def test_gradient_wrt_pde_coefficient_matches_finite_differences() -> None:
    sim = simulation(_gradient_case())
    weights = jax.random.normal(jax.random.key(3), sim.u0.shape[1:], dtype=jnp.float64)

    def loss(a):
        return jnp.sum(weights * eqx.tree_at(lambda s: s.pde.a, sim, a)()["u"][-1])

    a = jnp.asarray(1.0, jnp.float64)
    gradient = jax.grad(loss)(a)
    eps = 1e-5
    fd = (loss(a + eps) - loss(a - eps)) / (2 * eps)
    assert abs(float(fd)) > 1e-3  # the check means something
    np.testing.assert_allclose(float(gradient), float(fd), rtol=1e-6)


def test_blow_up_is_reported_with_the_first_non_finite_step() -> None:
    # b = -1 turns hyperdiffusion into exponential growth at ~e^{50 t}. The
    # solver's criterion is a non-finite energy sum |u_hat|^2 (NaN, or |u|
    # beyond the square root of the float range); replay it step by step.
    case = get("ks").with_updates({"dtype": "float64", "pde.params.b": -1.0, "time.t_end": 40.0})
    sim = simulation(case)
    scheme = sim.scheme
    step = jax.jit(lambda state: scheme.step(state))
    state, first_bad = scheme.init(sim.u0), None
    for index in range(1, scheme.time.n_steps + 1):
        state = step(state)
        with np.errstate(over="ignore", invalid="ignore"):
            energy = np.sum(np.abs(np.asarray(state["u_hat"])) ** 2)
        if not np.isfinite(energy):
            first_bad = index
            break
    assert first_bad is not None
    message = rf"non-finite .* at step {first_bad} \(t = {first_bad * 0.25:g}\)"
    with pytest.raises(SolveError, match=message) as info:
        solve(case)
    assert info.value.step == first_bad
    # The differentiable simulation raises through equinox's error_if with the same step and time ...
    with pytest.raises(eqx.EquinoxRuntimeError, match=message):
        sim()
    # ... or, asked not to throw, returns it.
    assert int(simulation(case, throw=False)().bad_step) == first_bad
