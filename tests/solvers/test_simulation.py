"""``solvers.simulation``: the differentiable object a Python user holds, for every scheme."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cases import get
from solvers import simulation, solve

SMALL = {
    "ks": {"grid.n": 32, "time.t_end": 2.0, "time.save_dt": 1.0},
    "burgers": {"grid.n": 65, "pde.params.nu": 0.05, "time.t_end": 0.1, "time.dt": 2e-3, "time.save_dt": 0.05},
    "lid-driven-cavity": {"grid.n": 8, "time.dt": 0.05, "time.t_end": 0.5, "time.save_dt": 0.25},
    "lorenz": {"time.t_end": 0.5, "time.save_dt": 0.25},
    "burgers-forced": {"time.t_end": 0.7, "time.save_dt": 0.35},
    "diffusion-2d": {"time.t_end": 1.0, "time.save_dt": 0.5},
}
PARAMETER = {"ks": "a", "burgers": "nu", "lid-driven-cavity": "re", "lorenz": "rho", "burgers-forced": "mu", "diffusion-2d": "D"}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_simulation_equals_solve_and_its_times_are_the_case_saves(name: str) -> None:
    case = get(name).with_updates({**SMALL[name], "dtype": "float64"})
    solution = simulation(case)()
    fields = solve(case)
    np.testing.assert_allclose(np.asarray(solution.times), fields.time, rtol=1e-12)
    for output in fields.values:
        np.testing.assert_array_equal(np.asarray(solution[output]), fields[output][0])
    assert int(solution.bad_step) == -1


@pytest.mark.parametrize("name", sorted(SMALL))
def test_vmap_over_a_parameter_compiles_once_and_each_row_is_its_own_run(name: str, traces) -> None:
    # A time span no other test uses, so that this test's own compilation is the one counted.
    case = get(name).with_updates({**SMALL[name], "dtype": "float64"})
    case = case.with_updates({"time.t_end": 3 * case.time.save_dt})
    sim = simulation(case)
    # Building the start may run a solve of its own (burgers-forced spins its front up): not this loop's trace.
    before = traces()
    parameter = PARAMETER[name]
    base = float(case.pde.params[parameter])
    values = jnp.asarray([0.9 * base, base, 1.1 * base], jnp.float64)

    def final(value):
        solution = eqx.tree_at(lambda s: getattr(s.pde, parameter), sim, value)()
        return jnp.concatenate([solution[output][-1].reshape(-1) for output in sorted(solution.outputs)])

    rows = jax.vmap(final)(values)
    assert traces() - before == 1  # three values, one traced (and compiled) loop
    jax.vmap(final)(1.05 * values)
    assert traces() - before == 1  # other values: the same program
    for value, row in zip(values, rows):
        single = simulation(case.with_updates({f"pde.params.{parameter}": float(value)}))()
        expected = jnp.concatenate([single[output][-1].reshape(-1) for output in sorted(single.outputs)])
        np.testing.assert_allclose(row, expected, rtol=1e-9, atol=1e-12)
    assert float(jnp.max(jnp.abs(rows[0] - rows[2]))) > 1e-6  # the parameter changed the run
