"""The finite-volume scheme (``solvers.finite_volume``): orders, shock speed, conservation, CFL, burgers-forced.

Every number here is checked against something independent of the scheme:
the method of characteristics (smooth Burgers), the Rankine-Hugoniot speed,
a mass balance assembled from the saved trajectory, the stated CFL bound, and
the developed front that Phi-ROM's Burgers data start from.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pytest

from cases import get
from phys.case import Case, CaseError
from phys.cli import main
from solvers import FiniteVolume, scheme_for, simulation


def _burgers_case(n: int, *, length: float, bcs: dict, ic: dict, t_end: float, dt: float, **solver: object) -> Case:
    return Case(
        name="fv-test",
        pde={"name": "burgers", "params": {"nu": 0.0}},
        domain={"length": length},
        grid={"n": n},
        bcs=bcs,
        ic=ic,
        time={"t_end": t_end, "dt": dt, "save_dt": t_end},
        solver={"method": "finite-volume", **solver},
        dtype="float64",
    )


def _characteristics(x: np.ndarray, t: float) -> np.ndarray:
    """Inviscid Burgers from ``u0 = 1 + sin(x) / 2`` before the shock (t < 2): ``u = u0(x - u t)`` by Newton."""
    u = 1.0 + 0.5 * np.sin(x)
    for _ in range(50):
        xi = x - u * t
        residual = u - (1.0 + 0.5 * np.sin(xi))
        u = u - residual / (1.0 + 0.5 * t * np.cos(xi))
    return u


def _smooth_errors(reconstruction: str, sizes: list[int]) -> list[float]:
    t_end = 0.5  # the characteristics cross at t = 2
    errors = []
    for n in sizes:
        h = 2 * math.pi / n
        steps = math.ceil(t_end / (0.4 * h / 1.5))  # CFL 0.4 at max u = 1.5
        case = _burgers_case(
            n,
            length=2 * math.pi,
            bcs={"kind": "periodic"},
            ic={"kind": "family", "name": "sine", "params": {"amplitude": 0.5, "mean": 1.0}},
            t_end=t_end,
            dt=t_end / steps,
            reconstruction=reconstruction,
            order=3,
        )
        sim = simulation(case)
        u = np.asarray(sim()["u"][-1])
        exact = _characteristics(sim.coords()[0], t_end)
        errors.append(float(np.mean(np.abs(u - exact))))  # L1 per unit length / (2 pi)
    return errors


@pytest.mark.parametrize(("reconstruction", "low", "high"), [("constant", 0.85, 1.2), ("muscl", 1.8, 2.3)])
def test_finite_volume_order_on_smooth_burgers(reconstruction: str, low: float, high: float) -> None:
    # Cell averages start as point values (an O(h^2) difference) and are
    # compared with point values: both are within the second order measured.
    sizes = [64, 128, 256]
    errors = _smooth_errors(reconstruction, sizes)
    orders = -np.diff(np.log(errors)) / np.diff(np.log(sizes))
    assert np.all((orders > low) & (orders < high)), (errors, orders)


def _step_ic(x: np.ndarray, left: float, right: float, at: float) -> dict:
    return {"kind": "array", "values": np.where(x < at, left, right).tolist()}


@pytest.mark.parametrize(("flux", "reconstruction"), [("rusanov", "constant"), ("upwind", "constant"), ("rusanov", "muscl")])
def test_shock_moves_at_the_rankine_hugoniot_speed(flux: str, reconstruction: str) -> None:
    # u_L = 2, u_R = 1: s = [f] / [u] = (2^2 - 1^2) / 2 / (2 - 1) = 1.5.
    n, length, at, t_end = 400, 40.0, 10.0, 8.0
    x = (np.arange(n) + 0.5) * length / n
    case = _burgers_case(
        n,
        length=length,
        bcs={"kind": "inflow-outflow", "lower": 2.0, "upper": 0.0},
        ic=_step_ic(x, 2.0, 1.0, at),
        t_end=t_end,
        dt=0.04,  # CFL 0.8 (constant) / 0.4 (muscl) at u = 2
        flux=flux,
        reconstruction=reconstruction,
        order=3 if reconstruction == "muscl" else 1,
    )
    if reconstruction == "muscl":
        case = case.with_updates({"time.dt": 0.02})
    u = np.asarray(simulation(case)()["u"][-1])
    # Where u crosses the mean state 1.5, by linear interpolation between centres.
    j = int(np.nonzero((u[:-1] >= 1.5) & (u[1:] < 1.5))[0][0])
    front = x[j] + (u[j] - 1.5) / (u[j] - u[j + 1]) * (x[j + 1] - x[j])
    # Half a cell: the profile is a few cells wide but symmetric about the shock.
    assert abs(front - (at + 1.5 * t_end)) < 0.5 * length / n, front
    # Far from the shock, the two states are untouched.
    assert np.allclose(u[x < 15.0], 2.0) and np.allclose(u[x > 30.0], 1.0)


def test_periodic_total_is_conserved_through_a_shock() -> None:
    # 1 + sin(x)/2 shocks at t = 2; run past it (MUSCL, RK3): the total stays to rounding.
    case = _burgers_case(
        128, length=2 * math.pi, bcs={"kind": "periodic"},
        ic={"kind": "family", "name": "sine", "params": {"amplitude": 0.5, "mean": 1.0}},
        t_end=4.0, dt=0.01, reconstruction="muscl", order=3,
    )
    sim = simulation(case)
    u = np.asarray(sim()["u"])
    h = 2 * math.pi / 128
    assert np.max(np.abs(u[0] - u[-1])) > 0.1  # a shock has formed and moved
    assert abs(h * u[-1].sum() - h * u[0].sum()) < 1e-12


def test_burgers_forced_total_changes_by_the_boundary_fluxes_and_the_source() -> None:
    # Forward Euler, upwind (u > 0 everywhere): per step
    # h sum(u^{k+1} - u^k) = dt (f(4.25) - f(u^k_last) + h sum_i 0.02 exp(mu x_i)),
    # assembled here from the saved states, not from the scheme's fluxes.
    case = get("burgers-forced").with_updates({"dtype": "float64", "time.t_end": 2.1})
    sim = simulation(case)
    u = np.asarray(sim()["u"])
    x = sim.coords()[0]
    h, dt, mu = 100.0 / 256, 0.07, 0.02
    source = h * np.sum(0.02 * np.exp(mu * x))
    expected = dt * (0.5 * 4.25**2 - 0.5 * u[:-1, -1] ** 2 + source)
    assert np.min(u) > 0
    np.testing.assert_allclose(h * np.diff(u.sum(axis=1)), expected, rtol=1e-11, atol=1e-11)


def test_too_large_dt_is_refused_in_one_line_naming_dt_and_the_limit() -> None:
    case = get("burgers-forced").with_updates({"time.dt": 0.1, "time.save_dt": 0.1})
    u0 = np.asarray(simulation(get("burgers-forced")).u0[0])
    limit = (100.0 / 256) / max(float(u0.max()), 4.25)  # C = 1 (constant), max_cfl = 1
    with pytest.raises(CaseError) as raised:
        scheme_for(case)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("time.dt: 0.1 exceeds the CFL limit ")
    assert f"{limit:.4g}" in message


def test_too_large_dt_from_the_command_line_is_exit_2(tmp_path, capsys) -> None:
    out = tmp_path / "run.h5"
    rc = main(["run", "burgers-forced", "--set", "dt=0.1", "--set", "save_dt=0.1", "--out", str(out)])
    captured = capsys.readouterr()
    assert rc == 2 and not out.exists()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1 and "time.dt" in lines[0] and "CFL limit" in lines[0], captured.err


def test_burgers_forced_starts_from_the_developed_front() -> None:
    # Phi-ROM's start, read off its data: a front from 4.25 down to about 1.08
    # near x = 11.5. Those figures are read from a plot to about +-0.05 in u
    # and +-0.5 in x, hence the tolerances. The spin-up (4.34 from u = 1) gives a front at 11.6 and 1.11 ahead of it.
    u0 = np.asarray(simulation(get("burgers-forced")).u0[0])
    x = (np.arange(256) + 0.5) * 100.0 / 256
    middle = 0.5 * (4.25 + 1.08)
    j = int(np.nonzero((u0[:-1] >= middle) & (u0[1:] < middle))[0][0])
    front = x[j] + (u0[j] - middle) / (u0[j] - u0[j + 1]) * (x[j + 1] - x[j])
    assert 11.0 < front < 12.0, front
    assert abs(u0[0] - 4.25) < 0.01  # the inflow end
    behind = u0[(x > 5) & (x < 10)]
    ahead = u0[(x > 13) & (x < 16)]
    assert np.all((behind > 4.25) & (behind < 4.35)), behind  # rises with the source behind the front
    assert np.all((ahead > 1.05) & (ahead < 1.13)), ahead


def test_first_order_step_is_the_state_plus_dt_times_the_tendency() -> None:
    # What the ROM's physics loss relies on: tendency is the right-hand side
    # that step integrates (forward Euler for order 1).
    case = get("burgers-forced").with_updates({"dtype": "float64"})
    scheme = scheme_for(case)
    assert isinstance(scheme, FiniteVolume)
    state = scheme.init(simulation(case).u0)
    rate = scheme.tendency(state)["u"]
    np.testing.assert_allclose(scheme.step(state)["u"], state["u"] + 0.07 * rate, rtol=1e-14, atol=1e-14)
    # With u > 0 everywhere it is Phi-ROM's residual: -(u_i^2 - u_{i-1}^2) / (2 h) + 0.02 exp(mu x_i),
    # u_{-1} the inflow 4.25.
    u = np.asarray(state["u"][0])
    x = scheme.coords()[0]
    behind = np.concatenate([[4.25], u[:-1]])
    expected = -(u**2 - behind**2) / (2 * 100.0 / 256) + 0.02 * np.exp(0.02 * x)
    np.testing.assert_allclose(rate[0], expected, rtol=1e-12, atol=1e-12)


def test_gradient_wrt_mu_through_the_solve_matches_finite_differences() -> None:
    import equinox as eqx
    import jax

    case = get("burgers-forced").with_updates({"dtype": "float64", "time.t_end": 1.4, "time.save_dt": 0.7})
    sim = simulation(case)

    def loss(mu):
        return jnp.sum(eqx.tree_at(lambda s: s.pde.mu, sim, mu)()["u"][-1] ** 2)

    mu = jnp.asarray(0.02, jnp.float64)
    gradient = float(jax.grad(loss)(mu))
    step = 1e-6
    # Central difference: O(step^2) ~ 1e-12 relative; the upwind switch does not
    # flip here (u > 0 everywhere), so the loss is smooth in mu.
    expected = float(loss(mu + step) - loss(mu - step)) / (2 * step)
    assert gradient == pytest.approx(expected, rel=1e-6)
    assert abs(gradient) > 1.0  # the source's growth rate matters to the state


def test_tendency_jacobian_vector_product_matches_finite_differences() -> None:
    # The ROM projects tendency through the decoder: it is differentiated in the state.
    import jax

    case = get("burgers-forced").with_updates({"dtype": "float64"})
    scheme = scheme_for(case)
    u = simulation(case).u0
    direction = jnp.sin(jnp.arange(256.0))[None, :] * 1e-2

    def rate(v):
        return scheme.tendency(scheme.init(v))["u"]

    _, jvp = jax.jvp(rate, (u,), (direction,))
    step = 1e-5
    expected = (rate(u + step * direction) - rate(u - step * direction)) / (2 * step)
    np.testing.assert_allclose(jvp, expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_ssp_runge_kutta_converges_at_its_order_in_time(order: int) -> None:
    # Same grid, dt halved: the error against a run with dt / 64 is the time
    # error alone. Upwind flux and u > 0: the semi-discrete right-hand side is
    # smooth, so the Runge-Kutta order shows.
    def final(steps: int) -> np.ndarray:
        case = _burgers_case(
            64, length=2 * math.pi, bcs={"kind": "periodic"},
            ic={"kind": "family", "name": "sine", "params": {"amplitude": 0.5, "mean": 1.0}},
            t_end=0.5, dt=0.5 / steps, flux="upwind", order=order,
        )
        return np.asarray(simulation(case)()["u"][-1])

    reference = final(40 * 64)
    errors = [float(np.max(np.abs(final(steps) - reference))) for steps in (40, 80, 160)]
    orders = np.log2(np.asarray(errors[:-1]) / np.asarray(errors[1:]))
    assert np.all(np.abs(orders - order) < 0.15), (errors, orders)


def _diffusion_case(bcs: dict, ic: dict, t_end: float) -> Case:
    # Pure diffusion through the linear (2,) term: the diffusive face flux c_2 (u_{i+1} - u_i) / h.
    return Case(
        name="fv-diffusion",
        pde={"name": "convection-diffusion", "params": {"c": 0.0, "nu": 0.1}},
        domain={"length": 1.0},
        grid={"n": 32},
        bcs=bcs,
        ic=ic,
        time={"t_end": t_end, "dt": 1e-3, "save_dt": t_end},  # 2 nu dt / h^2 = 0.2
        solver={"method": "finite-volume", "order": 3},
        dtype="float64",
    )


def test_neumann_zero_gradient_conserves_and_dirichlet_ghosts_give_the_shifted_linear_profile() -> None:
    bump = {"kind": "family", "name": "gaussian", "params": {"centre": 0.3, "width": 0.1}}
    u = np.asarray(simulation(_diffusion_case({"kind": "neumann"}, bump, 10.0))()["u"])
    assert abs(u[-1].sum() - u[0].sum()) < 1e-11 * u[0].sum()
    # Relaxed to its mean: the slowest mode cos(pi x) decays as exp(-nu pi^2 t) = 5e-5 at t = 10.
    assert np.ptp(u[-1]) < 1e-4 * np.ptp(u[0])
    # Dirichlet ghosts hold the values one cell beyond the end cells, at x = -h/2 and 1 + h/2:
    # the steady state is the straight line through those two points. The slowest mode
    # decays as exp(-nu pi^2 t / (1 + h)^2): below 1e-15 at t = 40.
    zero = {"kind": "family", "name": "uniform", "params": {"value": 0.0}}
    case = _diffusion_case({"kind": "dirichlet", "lower": 1.0, "upper": 0.0}, zero, 40.0)
    sim = simulation(case)
    x, h = sim.coords()[0], 1.0 / 32
    np.testing.assert_allclose(np.asarray(sim()["u"][-1]), 1.0 - (x + h / 2) / (1.0 + h), atol=1e-12)
