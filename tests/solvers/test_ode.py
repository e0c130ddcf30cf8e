"""ODE cases through diffrax: accuracy against an independent RK4, the Lotka-Volterra
first integral, gradients against finite differences, blow-up reports, 0-D files and cases."""

from __future__ import annotations

import functools
import json
import math
import subprocess
import sys
from pathlib import Path

import equinox as eqx
import h5py
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cases import get
from phys.case import Case, CaseError
from phys.errors import SolveError
from phys.fields import Fields
from phys.io import read, validate
from solvers import simulation, solve


def _lorenz(y: np.ndarray) -> np.ndarray:
    x, v, z = y
    return np.array([10.0 * (v - x), x * (28.0 - z) - v, x * v - 8.0 / 3.0 * z])


def _lotka_volterra(y: np.ndarray) -> np.ndarray:
    prey, predator = y
    return np.array([1.3 * prey - 0.9 * prey * predator, 1.8 * prey * predator - 0.8 * predator])


def _rk4(rate, y0: list[float], t_end: float, n: int) -> np.ndarray:
    """Classic RK4 with ``n`` fixed steps, in NumPy: independent of diffrax and of the PDE files."""
    y, h = np.asarray(y0, dtype=np.float64), t_end / n
    for _ in range(n):
        k1 = rate(y)
        k2 = rate(y + h / 2 * k1)
        k3 = rate(y + h / 2 * k2)
        k4 = rate(y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y


REFERENCES = {"lorenz": (_lorenz, [1.0, 1.0, 1.0]), "lotka-volterra": (_lotka_volterra, [0.44, 4.6])}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_default_tolerances_give_1e_6_relative_accuracy_at_t_1(name: str) -> None:
    rate, y0 = REFERENCES[name]
    reference = _rk4(rate, y0, 1.0, 20_000)
    # RK4 error ~ h^4: halving h = 5e-5 changes the result by about 15/16 of the error of the coarser run.
    assert np.max(np.abs(_rk4(rate, y0, 1.0, 10_000) - reference)) < 1e-11 * np.max(np.abs(reference))
    # One save at t = 1, so the step sizes are the error controller's alone (short save
    # intervals would cap them and flatter the tolerances). Measured: 2.0e-9 (Lorenz), 1.0e-9 (LV).
    case = get(name).with_updates({"time.t_end": 1.0, "time.save_dt": 1.0, "time.dt": 0.01})
    fields = solve(case)
    final = np.array([fields[field][0, -1] for field in case.fields])
    assert np.max(np.abs(final - reference)) / np.max(np.abs(reference)) < 1e-6


@functools.cache
def _lotka_volterra_default() -> Fields:
    """The built-in case solved in memory (once: two tests read it)."""
    return solve(get("lotka-volterra"))


def test_lotka_volterra_keeps_its_first_integral() -> None:
    # V = delta x - gamma ln x + beta y - alpha ln y has dV/dt = 0 on every orbit.
    case = get("lotka-volterra")
    fields = _lotka_volterra_default()
    prey, predator = fields["prey"][0], fields["predator"][0]
    alpha, beta, gamma, delta = (case.pde.params[k] for k in ("alpha", "beta", "gamma", "delta"))
    first_integral = delta * prey - gamma * np.log(prey) + beta * predator - alpha * np.log(predator)
    # About six predator-prey cycles over t <= 20, prey between 0.03 and 1.8: a
    # conserved quantity, not a trivially constant state. Measured drift 5.4e-9,
    # the size of the error that rtol = 1e-8 allows over 400 save intervals.
    assert prey.max() / prey.min() > 50
    assert np.max(np.abs(first_integral - first_integral[0])) < 1e-7 * abs(first_integral[0])


def test_gradients_through_the_adjoint_match_finite_differences() -> None:
    case = get("lorenz").with_updates(
        {"time.t_end": 1.0, "time.save_dt": 1.0, "time.dt": 0.01, "solver.rtol": 1e-12, "solver.atol": 1e-12}
    )
    sim = simulation(case)

    def final_x(rho: jax.Array, y0: jax.Array) -> jax.Array:
        changed = eqx.tree_at(lambda s: (s.pde.rho, s.u0), sim, (rho, y0))
        return changed()["x"][-1]

    rho, y0 = sim.pde.rho, sim.u0
    grad_rho, grad_y0 = jax.grad(final_x, argnums=(0, 1))(rho, y0)
    # Central differences: truncation ~ h^2 x''' ~ 1e-10, solver noise ~ 1e-12 / h ~ 1e-7 at worst.
    h = 1e-5
    shift = jnp.zeros(3).at[1].set(h)
    fd_rho = (final_x(rho + h, y0) - final_x(rho - h, y0)) / (2 * h)
    fd_y = (final_x(rho, y0 + shift) - final_x(rho, y0 - shift)) / (2 * h)
    # Measured agreement: 2e-9 (rho), 4e-9 (y0).
    assert abs(grad_rho - fd_rho) < 1e-6 * abs(fd_rho)
    assert abs(grad_y0[1] - fd_y) < 1e-6 * abs(fd_y)
    assert abs(fd_rho) > 0.1 and abs(fd_y) > 0.1  # sensitivities of order one, not vanishing


def test_overflow_is_reported_with_the_save_interval_it_happened_in() -> None:
    # prey' = 10 prey from 0.44: the rate 10 * prey overflows float64 at
    # t = ln(DBL_MAX / 4.4) / 10 = 70.83, inside the save interval (70, 71].
    case = get("lotka-volterra").with_updates(
        {
            "pde.params": {"alpha": 10.0, "beta": 0.0, "gamma": 0.0, "delta": 0.0},
            "time.t_end": 80.0,
            "time.save_dt": 1.0,
            "time.dt": 0.05,
        }
    )
    overflow = math.log(np.finfo(np.float64).max / (10.0 * 0.44)) / 10.0
    assert 70.0 < overflow <= 71.0
    with pytest.raises(SolveError) as info:
        solve(case)
    assert (info.value.step, info.value.time) == (71, 71.0)
    assert str(info.value).startswith("solution became non-finite (NaN or overflow) at step 71 (t = 71)")


def test_phys_run_writes_a_valid_0d_file_equal_to_the_in_memory_solve(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            *(sys.executable, "-m", "phys.cli", "run", "lotka-volterra"),
            *("--out", "lv.h5", "--plot", "lv.png", "--saves-per-block", "80"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert validate(tmp_path / "lv.h5") == []
    assert (tmp_path / "lv.png").stat().st_size > 1000
    case = get("lotka-volterra")
    with h5py.File(tmp_path / "lv.h5") as file:
        assert file["t0_fields/prey"].shape == (1, case.time.n_saves) == (1, 401)
        assert file["t0_fields/predator"].shape == (1, 401)
        assert int(file.attrs["n_spatial_dims"]) == 0
        assert list(file["dimensions"]) == ["time"]
    # Each save interval is its own diffrax solve from the saved state, so five
    # blocks of 80 saves give the one-block in-memory trajectory to the last bit.
    stored, expected = read(tmp_path / "lv.h5"), _lotka_volterra_default()
    assert stored.case == case
    for field in case.fields:
        np.testing.assert_array_equal(stored[field], expected[field].astype(np.float32))


def test_scheme_settings_are_short_set_names() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "phys.cli", "show", "lorenz", "--set", "rtol=1e-9", "--set", "integrator=dopri8"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    solver = json.loads(result.stdout)["solver"]
    assert (solver["method"], solver["rtol"], solver["integrator"]) == ("ode", 1e-9, "dopri8")


def test_0d_case_round_trips_through_json_and_needs_no_grid() -> None:
    case = get("lorenz")
    again = Case.from_json(case.to_json())
    assert again == case and again.sha256() == case.sha256()
    assert case.grid.n == () and case.domain.length == () and case.bcs == () and case.n_dims == 0
    spelled_out = json.loads(case.to_json())
    assert spelled_out["grid"] == {"n": []} and spelled_out["domain"] == {"length": [], "origin": []}
    for key in ("grid", "domain", "bcs"):
        spelled_out.pop(key)
    assert Case(**spelled_out).sha256() == case.sha256()


LORENZ = get("lorenz")
BAD_0D = [
    ({"grid.n": 64}, "grid.n: PDE 'lorenz' is 0D but the grid has 1 axes"),
    ({"dtype": "float32"}, "solver.rtol: float32 cannot reach rtol 1e-08; use dtype float64 or rtol >= 1e-06"),
    ({"solver.integrator": "euler"}, "solver.integrator: unknown integrator 'euler'; allowed: tsit5, dopri5, dopri8, "
     "bosh3, heun, kvaerno3, kvaerno4, kvaerno5"),
    ({"solver.adjoint": "magic"}, "solver.adjoint: unknown adjoint 'magic'; allowed: recursive, backsolve, direct, forward"),
    ({"solver.rtol": 0.0}, "solver.rtol: must be positive, got 0.0"),
    ({"ic": {"kind": "family", "name": "sine"}}, "ic.kind: a 0-D case starts from 'array' (one value per field) or 'file', not a family"),
    ({"ic.values": [1.0, 2.0]}, "ic.values: shape (2,) does not fit the grid ()"),
]


@pytest.mark.parametrize("updates, message", BAD_0D, ids=[m.split(":")[0] for _, m in BAD_0D])
def test_bad_0d_input_names_the_field(updates: dict, message: str) -> None:
    with pytest.raises(CaseError) as info:
        LORENZ.with_updates(updates)
    assert str(info.value) == message


def test_ode_scheme_refuses_a_case_with_space() -> None:
    with pytest.raises(CaseError) as info:
        get("ks").with_updates({"solver": {"method": "ode"}})
    assert str(info.value) == "solver.method: solver 'ode' integrates cases without space, the case is 1D"
