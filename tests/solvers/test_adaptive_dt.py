"""CFL-adaptive time step of the spectral ETDRK solver (``solver.cfl``), on 2D Navier-Stokes.

Save times stay fixed; each save interval is split into the fewest equal
substeps that keep ``dt * max(|u|/dx + |v|/dy) <= cfl`` at its start, never
more than ``time.dt`` each (see :class:`solvers.Spectral`).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

from phys._registry import PDES
from phys.case import Case, CaseError
from phys.errors import SolveError
from phys.io import read
from solvers import Ensemble, run_case, simulation, solve, solve_ensemble
from solvers.etdrk import phi_functions, phi_functions_series
from solvers.rollout import advance, initial_state


def _case(
    cfl: float | None = None,
    *,
    dt: float = 0.05,
    n: int = 32,
    t_end: float = 2.0,
    save_dt: float = 0.25,
    nu: float = 0.01,
    rms: float = 1.0,
) -> Case:
    """A decaying random vorticity field on [0, 2 pi)^2 (peak wavenumber 2, rms velocity ``rms``)."""
    return Case(
        name="ns-adaptive-test",
        pde={"name": "navier-stokes-2d", "params": {"nu": nu}},
        domain={"length": 2 * math.pi},
        grid={"n": n},
        ic={"kind": "family", "name": "random-vorticity", "params": {"peak_wavenumber": 2.0, "velocity_rms": rms}},
        time={"t_end": t_end, "dt": dt, "save_dt": save_dt},
        solver={"cfl": cfl},
        dtype="float64",
    )


def _substeps(case: Case) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Substeps per save interval and the saved outputs (initial state first), one interval at a time."""
    sim = simulation(case)
    scheme = sim.scheme
    state = initial_state(scheme, sim.u0)
    snapshots = [scheme.observe(state)]
    substeps = []
    for interval in range(scheme.time.n_saves - 1):
        start = jnp.asarray(interval * scheme.time.save_every, jnp.int32)
        after, saves, bad = advance(scheme, state, start, 1)
        assert int(bad) == -1
        substeps.append(int(after["substeps"]) - int(state["substeps"]))
        snapshots.append({name: values[0] for name, values in saves.items()})
        state = after
    outputs = {name: np.stack([np.asarray(s[name]) for s in snapshots]) for name in snapshots[0]}
    return np.asarray(substeps), outputs


def _cfl_rate(velocity: np.ndarray, length: float) -> float:
    """``max(|u|/dx + |v|/dy)`` of saved velocities ``[*n, 2]`` (the check's own, by NumPy)."""
    n = velocity.shape[0]
    return float(np.max(np.abs(velocity[..., 0]) + np.abs(velocity[..., 1])) * n / length)


# -- coefficients ---------------------------------------------------------------


def test_series_phi_functions_match_high_precision_values() -> None:
    # Real (diffusive, growing), imaginary (advective) and complex z, both
    # sides of the series/direct switch at |z| = 1, against 60-digit mpmath.
    z = np.concatenate(
        [
            -np.logspace(-8, 4, 60),
            np.logspace(-8, 1, 20),
            0.999 * np.exp(1j * np.linspace(0, 2 * np.pi, 25)),
            1.001 * np.exp(1j * np.linspace(0, 2 * np.pi, 25)),
            1j * np.linspace(-30, 30, 20),
        ]
    )
    mpmath.mp.dps = 60

    def exact(x: complex) -> list[complex]:
        s = mpmath.mpc(x.real, x.imag)
        e = mpmath.exp(s)
        return [complex((e - 1) / s), complex((e - 1 - s) / s**2), complex((e - 1 - s - s**2 / 2) / s**3)]

    reference = np.array([exact(x) for x in z]).T
    series = [np.asarray(phi) for phi in phi_functions_series(jnp.asarray(z))]
    contour = [np.asarray(phi) for phi in phi_functions(jnp.asarray(z), 64)]
    series_error = max(np.max(np.abs(s - r) / np.abs(r)) for s, r in zip(series, reference))
    contour_error = max(np.max(np.abs(c - r) / np.abs(r)) for c, r in zip(contour, reference))
    # Measured: series 2.4e-15; the 64-point contour 8.1e-10 (phi3 near |z| = 1, complex z).
    assert series_error < 1e-14, series_error
    assert contour_error < 1e-8, contour_error
    # z = 0 exactly: 1, 1/2, 1/6.
    np.testing.assert_allclose([complex(p) for p in phi_functions_series(jnp.zeros((), jnp.complex128))], [1, 0.5, 1 / 6], rtol=1e-15)


# -- accuracy and the chosen step ---------------------------------------------


def test_adaptive_run_converges_at_fourth_order_to_a_small_dt_reference() -> None:
    reference = solve(_case(dt=0.25 / 128))["vorticity"][0]
    errors, mean_dts = [], []
    for cfl in (0.5, 0.25):
        case = _case(cfl)
        errors.append(np.abs(solve(case)["vorticity"][0] - reference).max())
        m, _ = _substeps(case)
        mean_dts.append(case.time.t_end / m.sum())
    slope = math.log(errors[0] / errors[1]) / math.log(mean_dts[0] / mean_dts[1])
    # Measured: errors 1.7e-4, 1.3e-5 (max |vorticity| 6.5); mean dt 0.034, 0.018; slope 3.93.
    assert errors[1] < 2e-5, errors
    assert abs(slope - 4) < 0.4, (errors, mean_dts, slope)


def test_chosen_step_respects_the_cfl_number_and_grows_as_the_flow_decays() -> None:
    cfl = 0.5
    case = _case(cfl, nu=0.05, t_end=4.0, save_dt=0.5)
    m, outputs = _substeps(case)
    save_every = case.time.save_every
    for i, substeps in enumerate(m):
        rate = _cfl_rate(outputs["velocity"][i], 2 * math.pi)  # at the interval's start
        dt = case.time.save_dt / substeps
        assert dt * rate <= cfl * (1 + 1e-12), (i, dt * rate)
        assert dt <= case.time.dt * (1 + 1e-12)
        if substeps > save_every:  # the fewest substeps: one fewer would break the CFL bound
            assert case.time.save_dt / (substeps - 1) * rate > cfl
    # Measured: m = 15 13 11 10 10 10 10 10 (save_every 10): dt grows from
    # 0.033 to the cap 0.05 as the velocity decays.
    assert np.all(np.diff(m) <= 0) and m[0] > m[-1] == save_every, m


def test_cfl_keeps_stable_a_flow_that_the_fixed_step_blows_up() -> None:
    fast = dict(dt=0.25, rms=4.0, t_end=2.0, save_dt=0.5)
    with pytest.raises(SolveError, match=r"at step 4 \(t = 1\); reduce dt \(now 0.25\)"):
        solve(_case(**fast))
    fields = solve(_case(0.5, **fast))
    velocity = fields["velocity"][0]
    energy = 0.5 * np.mean(np.sum(velocity**2, axis=-1), axis=(1, 2))
    # Unforced 2D NS loses kinetic energy at every save (viscous dissipation).
    assert np.all(np.isfinite(velocity)) and np.all(np.diff(energy) < 0), energy


def test_failure_of_an_adaptive_run_is_reported_at_the_right_time() -> None:
    # cfl = 3 is past ETDRK4's stability for advection: the run fails, and the
    # reported time must be the end of the step dt (the unit of "step") in
    # which the first non-finite substep ended, found here by stepping again.
    case = _case(3.0, dt=0.25, rms=4.0, t_end=2.0, save_dt=0.5)
    with pytest.raises(SolveError, match="reduce solver.cfl") as failure:
        solve(case)
    sim = simulation(case)
    scheme = sim.scheme
    state = initial_state(scheme, sim.u0)
    for interval in range(scheme.time.n_saves - 1):
        start = jnp.asarray(interval * scheme.time.save_every, jnp.int32)
        after, _, bad = advance(scheme, state, start, 1)
        if int(bad) != -1:
            break
        state = after
    m = int(scheme.choose_substeps(state["u_hat"]))
    stepper = scheme.make_stepper(case.time.save_dt / m)
    u = state["u_hat"]
    for k in range(1, m + 1):
        u = stepper(u)
        if not np.isfinite(np.sum(np.abs(np.asarray(u)) ** 2)):
            break
    failed_at = interval * case.time.save_dt + k * case.time.save_dt / m
    # Measured: the flow is already blowing up at t = 1.5, so the interval takes the
    # most substeps (2048, dt / 1024) and substep 2 fails (t = 1.5005): step 7, t = 1.75.
    assert failed_at <= failure.value.time < failed_at + case.time.dt, (failed_at, failure.value.time)
    assert failure.value.time == pytest.approx(failure.value.step * case.time.dt)


# -- drivers: resume, ensembles, gradients ------------------------------------------


def test_adaptive_run_resumes_bit_for_bit(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    case = _case(0.5, n=16, dt=0.125, t_end=2.0, save_dt=0.25)
    m, _ = _substeps(case)
    # Measured: m = 4 4 4 4 4 3 3 3 (save_every 2): the step changes across blocks.
    assert len(set(m.tolist())) > 1 and m.min() > case.time.save_every, m
    straight = run_case(case, tmp_path / "straight.h5", saves_per_block=2)
    straight_line = capfd.readouterr().err

    def stop(written: int, total: int) -> None:
        if written >= 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_case(case, tmp_path / "run.h5", saves_per_block=2, on_block=stop)
    resumed = run_case(case, tmp_path / "run.h5", saves_per_block=2, resume=True)
    resumed_line = capfd.readouterr().err
    a, b = read(straight), read(resumed)
    for name in ("vorticity", "velocity"):
        np.testing.assert_array_equal(a[name], b[name])
    # The substep count is part of the stored state: the resumed run reports the whole run's.
    taken = [int(re.search(r"adaptive step \(cfl 0.5\): (\d+) steps", line).group(1)) for line in (straight_line, resumed_line)]
    assert taken == [m.sum(), m.sum()], (taken, m)


def test_ensemble_rows_equal_their_plain_adaptive_runs() -> None:
    # vmap of the substep loop: each row takes its own number of substeps.
    case = _case(0.5, n=16, dt=0.125, t_end=1.0, save_dt=0.25)
    ensemble = Ensemble(batch=2)
    rows = solve_ensemble(case, ensemble)
    substeps = []
    for b, seed in enumerate(ensemble.seeds(case)):
        row_case = case.with_updates({"seed": int(seed)})
        plain = solve(row_case)
        np.testing.assert_allclose(rows["vorticity"][b], plain["vorticity"][0], rtol=0, atol=1e-12)
        substeps.append(_substeps(row_case)[0][0])
    # Measured: 5 and 4 substeps per interval.
    assert substeps[0] != substeps[1], substeps


def test_reverse_mode_gradient_matches_finite_differences() -> None:
    case = _case(0.5, n=16, dt=0.125, t_end=1.0, save_dt=0.5)
    assert _substeps(case)[0].min() > case.time.save_every  # the CFL number, not dt, sets the step
    sim = simulation(case)

    def enstrophy(nu: jax.Array) -> jax.Array:
        return 0.5 * jnp.mean(eqx.tree_at(lambda s: s.pde.nu, sim, nu)()["vorticity"][-1] ** 2)

    nu = jnp.asarray(0.01)
    gradient = float(jax.grad(enstrophy)(nu))
    h = 1e-6
    finite = (float(enstrophy(nu + h)) - float(enstrophy(nu - h))) / (2 * h)
    # Measured: relative difference ~1e-9; the gradient is O(-10) (viscosity removes enstrophy).
    assert gradient < 0 and abs(gradient - finite) < 1e-6 * abs(finite), (gradient, finite)
    with pytest.raises(TypeError):  # forward mode is not supported by the substep loop
        jax.jvp(enstrophy, (nu,), (jnp.ones_like(nu),))


# -- the case -------------------------------------------------------------------


def test_cfl_is_validated_with_one_line_errors() -> None:
    for bad in (0.0, -0.5, math.inf):
        with pytest.raises(CaseError, match=r"^solver\.cfl: must be a positive number \(or null for a fixed dt\), got"):
            _case(bad)
    ks = dict(
        name="ks", pde={"name": "kuramoto-sivashinsky"}, domain={"length": 32 * math.pi}, grid={"n": 64},
        ic={"kind": "family", "name": "sine", "params": {}}, time={"t_end": 1.0, "dt": 0.1},
    )
    # The list of able PDEs is read from the registry, so a new advecting PDE
    # does not break this test; the known ones must be in it and KS must not.
    able = [name for name, signature in PDES.items() if signature.advection_velocity]
    assert {"burgers", "convection", "convection-diffusion", "navier-stokes-2d"} <= set(able)
    assert "kuramoto-sivashinsky" not in able
    with pytest.raises(
        CaseError,
        match=r"^solver\.cfl: PDE 'kuramoto-sivashinsky' defines no advection velocity, .*: " + re.escape(", ".join(able)) + "$",
    ):
        Case(**ks, solver={"cfl": 0.5})


def test_cfl_is_left_out_of_fixed_cases_json_and_round_trips() -> None:
    fixed, adaptive = _case(), _case(0.5)
    assert "cfl" not in fixed.to_json() and fixed.solver.cfl is None
    again = Case.from_json(adaptive.to_json())
    assert again == adaptive and again.solver.cfl == 0.5 and again.sha256() != fixed.sha256()


@pytest.mark.parametrize("name", sorted(PDES))
def test_registry_flag_matches_the_pde_class(name: str) -> None:
    cls = PDES[name].load()
    assert PDES[name].advection_velocity == cls.has_advection_velocity()
