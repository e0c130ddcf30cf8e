"""Staggered-grid projection solver: Ghia's cavity, Poiseuille flow, divergence, orders, gradients."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cases import get
from phys.case import CaseError
from solvers.projection import Projection, divergence, project, stable_dt, step
from solvers.solve import run_case, solve

# Ghia, Ghia & Shin (1982), J. Comput. Phys. 48, 387-411, Re = 100 (129 x 129
# multigrid solution). Table I: u along the vertical line through the centre
# (x = 0.5); Table II: v along the horizontal line through the centre (y =
# 0.5). The wall points (where the values are the boundary conditions) are left out.
GHIA_Y = np.array([0.9766, 0.9688, 0.9609, 0.9531, 0.8516, 0.7344, 0.6172, 0.5000,
                   0.4531, 0.2813, 0.1719, 0.1016, 0.0703, 0.0625, 0.0547])
GHIA_U = np.array([0.84123, 0.78871, 0.73722, 0.68717, 0.23151, 0.00332, -0.13641, -0.20581,
                   -0.21090, -0.15662, -0.10150, -0.06434, -0.04775, -0.04192, -0.03717])
GHIA_X = np.array([0.9688, 0.9609, 0.9531, 0.9453, 0.9063, 0.8594, 0.8047, 0.5000,
                   0.2344, 0.2266, 0.1563, 0.0938, 0.0781, 0.0703, 0.0625])
GHIA_V = np.array([-0.05906, -0.07391, -0.08864, -0.10313, -0.16914, -0.22445, -0.24533, 0.05454,
                   0.17527, 0.17507, 0.16077, 0.12317, 0.10890, 0.10091, 0.09233])


def _cavity(n: int, dt: float, t_end: float, steady_tol: float = 1e-5, save_dt: float | None = None):
    return get("lid-driven-cavity").with_updates(
        {
            "dtype": "float64",
            "grid.n": n,
            "time.dt": dt,
            "time.t_end": t_end,
            "time.save_dt": save_dt or t_end,
            "solver.steady_tol": steady_tol,
        }
    )


def _centrelines(fields) -> tuple[np.ndarray, np.ndarray]:
    """u(0.5, GHIA_Y) and v(GHIA_X, 0.5) from the cell-centred output, walls appended, linear in between."""
    velocity = fields["velocity"][0, -1]
    centres = fields.coords["x"]  # the unit square: the same along y
    n = len(centres)
    middle = 0.5 * (velocity[n // 2 - 1] + velocity[n // 2])  # the column at x = 0.5
    middle_row = 0.5 * (velocity[:, n // 2 - 1] + velocity[:, n // 2])  # the row at y = 0.5
    with_walls = np.concatenate([[0.0], centres, [1.0]])
    u = np.interp(GHIA_Y, with_walls, np.concatenate([[0.0], middle[:, 0], [1.0]]))  # lid speed 1 at y = 1
    v = np.interp(GHIA_X, with_walls, np.concatenate([[0.0], middle_row[:, 1], [0.0]]))
    return u, v


def test_cavity_at_re_100_matches_ghia_centrelines(capfd: pytest.CaptureFixture[str]) -> None:
    # 32 x 32 cells reach max errors 2.0e-3 (u) and 8.4e-3 (v); 64 x 64 give
    # 3.8e-3 and 8.6e-3 (float64, linear interpolation to Ghia's points). The
    # v error does not shrink with h: it sits at Ghia's v minimum (-0.24533 at
    # x = 0.8047), where our 32^2 and 64^2 solutions agree with each other to
    # 2e-4, so the floor is the reference's own error (their grid: 129^2).
    fields = solve(_cavity(32, 0.01, 30.0, save_dt=1.0))  # steady (max|du/dt| < 1e-5) before t = 29
    u, v = _centrelines(fields)
    assert np.max(np.abs(u - GHIA_U)) < 1e-2, np.abs(u - GHIA_U)
    assert np.max(np.abs(v - GHIA_V)) < 1e-2, np.abs(v - GHIA_V)
    # The steady residual is reported, and the run stopped at the steady state.
    assert "projection: steady at step" in capfd.readouterr().err
    assert fields.attrs["stopped_steady"] and len(fields.time) < 31


def _channel(m: int) -> tuple[object, float]:
    """The channel on [0, 2] x [0, 1] with m x m cells per unit length, Re = 10, run to a steady state."""
    dt = 0.9 * stable_dt((2 * m, m), (2.0, 1.0), 0.1, 1.5)
    dt = 5.0 / np.ceil(5.0 / dt)
    case = get("channel").with_updates(
        {
            "dtype": "float64",
            "domain.length": [2.0, 1.0],
            "grid.n": [2 * m, m],
            "time.dt": dt,
            "time.t_end": 5.0,
            "time.save_dt": 5.0,
            "solver.steady_tol": 1e-9,
        }
    )
    return solve(case), 1.0 / m


def test_channel_converges_to_poiseuille_at_second_order() -> None:
    errors, spacings = [], []
    for m in (8, 16, 32):
        fields, h = _channel(m)
        velocity = fields["velocity"][0, -1]
        y = fields.coords["y"]
        errors.append(np.max(np.abs(velocity[..., 0] - 6 * y * (1 - y))))
        assert np.max(np.abs(velocity[..., 1])) < errors[-1]  # v = 0 up to the same truncation error
        spacings.append(h)
    # Measured: 1.49e-2, 4.77e-3, 1.33e-3 (the ghost-cell wall condition is O(h^2)).
    slope = np.polyfit(np.log(spacings), np.log(errors), 1)[0]
    assert 1.7 < slope < 2.3, (errors, slope)
    # The pressure gradient of Poiseuille flow, dp/dx = -12 / re, away from the ends.
    pressure, x = fields["pressure"][0, -1], fields.coords["x"]
    gradient = np.diff(pressure, axis=0)[len(x) // 4 : 3 * len(x) // 4] / (x[1] - x[0])
    np.testing.assert_allclose(gradient, -12 / 10, rtol=4 * spacings[-1] ** 2)


def test_projection_leaves_a_discretely_divergence_free_field() -> None:
    static = Projection.from_case(_cavity(24, 0.01, 0.02)).grid
    key_u, key_v = jax.random.split(jax.random.key(0))
    u = jax.random.normal(key_u, (25, 24), jnp.float64)
    v = jax.random.normal(key_v, (24, 25), jnp.float64)
    projector = jax.jit(project, static_argnums=0)
    pu, pv = projector(static, u, v)
    assert float(jnp.max(jnp.abs(divergence(static, u, v)))) > 10.0
    # Divergence is O(n / h) per unit field here: machine precision is ~1e-12.
    assert float(jnp.max(jnp.abs(divergence(static, pu, pv)))) < 1e-11
    # A projection: applying it twice changes nothing; the two Poisson solves agree.
    qu, qv = projector(static, pu, pv)
    np.testing.assert_allclose(qu, pu, atol=1e-13)
    np.testing.assert_allclose(qv, pv, atol=1e-13)
    fu, fv = projector(static._replace(poisson="fft"), u, v)
    np.testing.assert_allclose(fu, pu, atol=1e-12)
    np.testing.assert_allclose(fv, pv, atol=1e-12)


def test_gradient_matches_finite_differences() -> None:
    scheme = Projection.from_case(_cavity(8, 0.05, 0.5))
    static, start = scheme.grid, scheme.init(jnp.zeros((2, 8, 8)))

    @jax.jit
    def energy(re, u0):
        pde = scheme.pde.__class__(re=re)
        u, v = u0, start["v"]

        def body(carry, _):
            return step(static, pde, *carry, scheme.time.dt), None

        (u, v), _ = jax.lax.scan(body, (u, v), None, length=10)
        return 0.5 * (jnp.sum(u**2) + jnp.sum(v**2))

    re = scheme.pde.re
    # Start from a divergence-free, nonzero field so convection matters.
    direction_u = jax.random.normal(jax.random.key(1), start["u"].shape, jnp.float64)
    u0, _ = project(static, direction_u, start["v"])
    grad_re, grad_u = jax.jit(jax.grad(energy, argnums=(0, 1)))(re, u0)
    eps = 1e-3
    fd_re = (energy(re + eps, u0) - energy(re - eps, u0)) / (2 * eps)
    np.testing.assert_allclose(grad_re, fd_re, rtol=1e-6)
    tangent = jax.random.normal(jax.random.key(2), u0.shape, jnp.float64)
    fd_u = (energy(re, u0 + eps * tangent) - energy(re, u0 - eps * tangent)) / (2 * eps)
    np.testing.assert_allclose(jnp.sum(grad_u * tangent), fd_u, rtol=1e-6)


def test_unstable_dt_is_a_case_error_naming_time_dt() -> None:
    with pytest.raises(CaseError, match=r"^time\.dt: 0\.02 exceeds the stable step 0\.004889 "):
        Projection.from_case(_cavity(64, 0.02, 0.2))


@pytest.mark.parametrize("name", ["lid-driven-cavity", "channel", "cylinder", "cylinder-unsteady"])
def test_built_in_cases_have_a_stable_dt(name: str) -> None:
    case = get(name)
    scheme = Projection.from_case(case)
    state = scheme.init(jnp.zeros((2, *case.grid.n), jnp.float32))
    assert scheme.grid.n == case.grid.n and state["u"].shape == (case.grid.n[0] + 1, case.grid.n[1])


def test_float32_steady_tolerance_below_rounding_is_a_case_error() -> None:
    with pytest.raises(CaseError, match=r"^solver\.steady_tol: float32 resolves max\|du/dt\| only to about 2\.4e-07 at save_dt = 1;"):
        get("lid-driven-cavity").with_updates({"solver.steady_tol": 1e-7})


def test_periodic_axes_are_rejected() -> None:
    with pytest.raises(CaseError, match=r"^boundary: solver 'projection' takes walls, inflow and outflow on named pieces .*; got bcs periodic, periodic$"):
        _cavity(16, 0.01, 0.1).with_updates({"boundary": None, "bcs": [{"kind": "periodic"}] * 2})


def test_run_case_stops_at_the_steady_state_and_reports_its_residual(tmp_path, capfd: pytest.CaptureFixture[str]) -> None:
    from phys.io import read, validate

    case = _cavity(16, 0.02, 20.0, steady_tol=1e-4, save_dt=1.0)
    path = run_case(case, tmp_path / "cavity.h5", saves_per_block=5)  # the frozen state crosses blocks
    line = capfd.readouterr().err
    assert line.startswith("projection: steady at step"), line
    steady_time = float(line.split("(t = ")[1].split(")")[0])
    fields = read(path)
    # The file stops at the first steady snapshot: no repeats of the frozen state (The Well's checker flags them).
    n_saved = round(steady_time) + 1  # saves every 1.0 from t = 0
    assert 1 < n_saved < 21
    assert fields["velocity"].shape == (1, n_saved, 16, 16, 2)
    assert fields["pressure"].shape == (1, n_saved, 16, 16)
    np.testing.assert_allclose(fields.time, np.arange(n_saved, dtype=np.float32))
    assert fields.attrs["stopped_steady"] and fields.attrs["steady_time"] == steady_time
    np.testing.assert_allclose(fields.coords["x"], (np.arange(16) + 0.5) / 16)
    assert not np.array_equal(fields["velocity"][0, -1], fields["velocity"][0, -2])
    assert validate(path) == []
    # The same run in memory stops there too, with the same snapshots.
    memory = solve(case)
    assert memory.attrs["steady_time"] == steady_time
    np.testing.assert_allclose(memory["velocity"][0], fields["velocity"][0], rtol=0, atol=1e-6)


def test_gradient_through_the_simulation_matches_finite_differences() -> None:
    # The user path: solvers.simulation of a cavity case, d/d(re) and d/d(initial velocity).
    import equinox as eqx

    from solvers import simulation

    sim = simulation(_cavity(8, 0.05, 0.5).with_updates({"solver.steady_tol": 0.0}))
    weights = jax.random.normal(jax.random.key(3), (8, 8, 2), jnp.float64)

    def loss(re, u0):
        return jnp.sum(weights * eqx.tree_at(lambda s: (s.pde.re, s.u0), sim, (re, u0))()["velocity"][-1])

    re, u0 = sim.pde.re, sim.u0 + 0.1 * jax.random.normal(jax.random.key(4), sim.u0.shape, jnp.float64)
    grad_re, grad_u0 = jax.grad(loss, argnums=(0, 1))(re, u0)
    eps = 1e-3
    fd_re = (loss(re + eps, u0) - loss(re - eps, u0)) / (2 * eps)
    np.testing.assert_allclose(grad_re, fd_re, rtol=1e-6)
    tangent = jax.random.normal(jax.random.key(5), u0.shape, jnp.float64)
    fd_u0 = (loss(re, u0 + 1e-6 * tangent) - loss(re, u0 - 1e-6 * tangent)) / 2e-6
    np.testing.assert_allclose(jnp.sum(grad_u0 * tangent), fd_u0, rtol=1e-6)
    assert abs(float(fd_re)) > 1e-6  # the viscosity matters over these steps


@pytest.mark.parametrize("re, n", [(100.0, 64), (400.0, 96), (1000.0, 128)])
def test_cavity_grid_follows_re_within_the_stable_step(re: float, n: int) -> None:
    # The built-in cavity's grid follows re (bench/bench_cavity.py measures it
    # against Ghia at these three), and its dt stays inside the stable bound.
    from cases.walls import lid_driven_cavity

    case = lid_driven_cavity(re)
    assert case.grid.n == (n, n) and case.pde.params["re"] == re
    bound = 0.9 * stable_dt((n, n), (1.0, 1.0), 1.0 / re, 1.0)
    assert bound - 1e-3 < case.time.dt <= bound  # rounded down to a multiple of 0.001
    Projection.from_case(case)  # passes the scheme's own dt check


def test_phys_set_re_builds_the_cavity_for_that_re_and_explicit_fields_still_win(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from phys.cli import main

    assert main(["show", "lid-driven-cavity", "--set", "re=1000"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["grid"]["n"] == [128, 128] and shown["pde"]["params"]["re"] == 1000.0
    assert main(["show", "lid-driven-cavity", "--set", "re=1000", "--set", "n=80"]) == 0
    assert json.loads(capsys.readouterr().out)["grid"]["n"] == [80, 80]
