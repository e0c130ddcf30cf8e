"""The KS solve: accuracy against a fine reference, conservation, gradients, blow-up reports."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cases import get
from phys.compile import compile_case
from phys.errors import SolveError
from solvers.rollout import make_stepper, rollout
from solvers.solve import solve
from solvers.spectral import to_fourier


def _trajectory(case) -> np.ndarray:
    trajectory, bad = rollout(*compile_case(case))
    assert int(bad) == -1
    return np.asarray(trajectory[:, 0])


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
    static, params = compile_case(case)
    params = jax.tree_util.tree_map(lambda x: x, params)
    shifted = type(params)(pde=params.pde, u0=params.u0 + 0.3)
    trajectory, bad = rollout(static, shifted)
    means = np.asarray(trajectory[:, 0].mean(axis=-1))
    assert int(bad) == -1
    np.testing.assert_allclose(means, 0.3 + np.asarray(params.u0).mean(), atol=1e-12)


def _gradient_case():
    return get("ks").with_updates({"dtype": "float64", "grid.n": 32, "time.t_end": 5.0, "time.save_dt": 5.0})


def test_gradient_wrt_initial_state_matches_finite_differences() -> None:
    static, params = compile_case(_gradient_case())
    weights = jax.random.normal(jax.random.key(1), params.u0.shape, dtype=jnp.float64)
    direction = jax.random.normal(jax.random.key(2), params.u0.shape, dtype=jnp.float64)

    def loss(u0):
        trajectory, _ = rollout(static, type(params)(pde=params.pde, u0=u0))
        return jnp.sum(weights * trajectory[-1])

    gradient = jax.grad(loss)(params.u0)
    eps = 1e-5
    fd = (loss(params.u0 + eps * direction) - loss(params.u0 - eps * direction)) / (2 * eps)
    np.testing.assert_allclose(float(jnp.vdot(gradient, direction)), float(fd), rtol=1e-6)


def test_gradient_wrt_pde_coefficient_matches_finite_differences() -> None:
    static, params = compile_case(_gradient_case())
    weights = jax.random.normal(jax.random.key(3), params.u0.shape, dtype=jnp.float64)

    def loss(a):
        pde = type(params.pde)(a=a, b=params.pde.b, c=params.pde.c)
        trajectory, _ = rollout(static, type(params)(pde=pde, u0=params.u0))
        return jnp.sum(weights * trajectory[-1])

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
    static, params = compile_case(case)
    step = jax.jit(make_stepper(static, params.pde).__call__)
    u_hat, first_bad = to_fourier(static, params.u0), None
    for index in range(1, static.n_steps + 1):
        u_hat = step(u_hat)
        with np.errstate(over="ignore", invalid="ignore"):
            energy = np.sum(np.abs(np.asarray(u_hat)) ** 2)
        if not np.isfinite(energy):
            first_bad = index
            break
    assert first_bad is not None
    with pytest.raises(SolveError, match=rf"non-finite .* at step {first_bad} \(t = {first_bad * 0.25:g}\)") as info:
        solve(case)
    assert info.value.step == first_bad
