"""ETDRK schemes: convergence orders, phi functions, dtype and recompilation."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cases import get
from solvers import simulation
from solvers.etdrk import phi_functions

# Smooth KS start, short horizon: the solution stays smooth, so the error at
# t = 2 is dominated by time stepping and the asymptotic rate shows.
SMOOTH = get("ks").with_updates(
    {"dtype": "float64", "grid.n": 64, "time.t_end": 2.0, "time.save_dt": 2.0, "solver.dealias": False}
)


def _final(dt: float, order: int) -> np.ndarray:
    case = SMOOTH.with_updates({"time.dt": dt, "solver.order": order})
    return np.asarray(simulation(case)()["u"][-1])


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    return _final(2.0 / 2048, 4)


# dt ladders inside each order's asymptotic range, above the float64 floor.
LADDERS = {
    1: [2.0 / 128, 2.0 / 256, 2.0 / 512],
    2: [0.25, 0.125, 0.0625],
    3: [0.25, 0.125, 0.0625],
    4: [0.25, 0.125, 0.0625],
}


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_etdrk_converges_at_its_order(order: int, reference: np.ndarray) -> None:
    dts = np.array(LADDERS[order])
    errors = np.array([np.max(np.abs(_final(dt, order) - reference)) for dt in dts])
    slope = np.polyfit(np.log(dts), np.log(errors), 1)[0]
    assert slope > order - 0.25, (order, errors, slope)
    assert slope < order + 0.5, (order, errors, slope)  # much higher would mean the reference is off


def test_phi_functions_match_series_near_zero_and_formula_far_away() -> None:
    z = jnp.asarray([-1e-8, 1e-3j, -0.5 + 0.2j, -30.0, 4.0 - 3.0j], dtype=jnp.complex128)
    phi1, phi2, phi3 = phi_functions(z, 64)
    # Series at small |z|, closed forms elsewhere.
    def exact(zv: complex) -> tuple[complex, complex, complex]:
        if abs(zv) < 1e-2:  # phi_k(z) = sum_j z^j / (j + k)!
            return tuple(sum(zv**j / math.factorial(j + k) for j in range(12)) for k in (1, 2, 3))
        e = np.exp(zv)
        return (e - 1) / zv, (e - 1 - zv) / zv**2, (e - 1 - zv - zv**2 / 2) / zv**3

    expected = np.array([exact(complex(v)) for v in np.asarray(z)])
    np.testing.assert_allclose(np.asarray(phi1), expected[:, 0], rtol=1e-12)
    np.testing.assert_allclose(np.asarray(phi2), expected[:, 1], rtol=1e-12)
    np.testing.assert_allclose(np.asarray(phi3), expected[:, 2], rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rollout_keeps_the_case_dtype(dtype: str) -> None:
    case = get("ks").with_updates({"dtype": dtype, "time.t_end": 2.0})
    sim = simulation(case)
    assert sim.u0.dtype == sim.pde.a.dtype == jnp.dtype(dtype)
    assert sim()["u"].dtype == jnp.dtype(dtype)


def test_second_solve_with_new_parameters_does_not_recompile(traces) -> None:
    case = get("ks").with_updates({"time.t_end": 2.0, "grid.n": 48})
    first = simulation(case)()["u"]
    compiled = traces()
    assert compiled > 0
    second = simulation(case.with_updates({"pde.params.a": 1.5, "ic.params.scale": 12.0}))()["u"]
    assert traces() == compiled
    assert float(jnp.max(jnp.abs(first - second))) > 1e-2  # the new parameters were used
