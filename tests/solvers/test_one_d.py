"""1D cases: Burgers (Cole-Hopf), convection-diffusion and convection (exact), Allen-Cahn.

The bounded scheme (``solvers.finite_difference``) is checked against exact
solutions with Dirichlet and Neumann ends, for its spatial order (2) and the
time order of each IMEX scheme (1, 2, 3), and for gradients; the periodic
cases go through the spectral ETDRK scheme.
"""

from __future__ import annotations

import functools
import math

import equinox as eqx
import h5py
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cases import get
from phys.case import Case, CaseError
from phys.cli import main
from phys.initial import grid_coordinates
from phys.io import validate
from solvers import FiniteDifference, simulation

CLASSIC_NU = 0.01 / math.pi


def burgers_exact(x: np.ndarray, t: float, nu: float, points: int = 4001, width: float = 14.0) -> np.ndarray:
    """Cole-Hopf solution of ``u_t + u u_x = nu u_xx``, ``u0 = -sin(pi x)`` (Basdevant et al. 1986).

    ``u = -int sin(pi (x - s)) w ds / int w ds`` with
    ``w = exp(-cos(pi (x - s)) / (2 pi nu) - s^2 / (4 nu t))``. The solution
    is 2-periodic and odd, so it vanishes at ``x = +-1`` and is the Dirichlet
    solution too. The integrands are analytic and decay like a Gaussian of
    width ``sqrt(4 nu t)``, so the trapezoidal rule over ``|s| <= 14`` widths
    converges exponentially (doubling ``points`` changes u by < 1e-15).
    ``w`` is scaled by its maximum per ``x`` (it reaches e^50 for the classic
    ``nu``).
    """
    x = np.asarray(x, dtype=np.float64)
    if t == 0:
        return -np.sin(np.pi * x)
    s = math.sqrt(4 * nu * t) * np.linspace(-width, width, points)
    y = x[:, None] - s[None, :]
    exponent = -np.cos(np.pi * y) / (2 * np.pi * nu) - s[None, :] ** 2 / (4 * nu * t)
    w = np.exp(exponent - exponent.max(axis=1, keepdims=True))
    return -np.sum(np.sin(np.pi * y) * w, axis=1) / np.sum(w, axis=1)


def _slopes(sizes: list[float], errors: list[float]) -> np.ndarray:
    return np.diff(np.log(errors)) / np.diff(np.log(sizes))


def _trajectory(case: Case) -> np.ndarray:
    """``u`` at every saved time, ``[T, n]``, by the case's scheme."""
    return np.asarray(simulation(case)()["u"])


_fd_trajectory = _trajectory


def _rel_l2(u: np.ndarray, exact: np.ndarray) -> float:
    return float(np.linalg.norm(u - exact) / np.linalg.norm(exact))


# -- Burgers -------------------------------------------------------------------


def test_cole_hopf_reference_reproduces_the_published_steepest_slope() -> None:
    # Basdevant et al. (1986): for nu = 0.01/pi the largest |u_x| is
    # 152.00516, at x = 0 and t = 1.6037/pi. This validates the reference the
    # solver is compared with.
    t, h = 1.6037 / math.pi, 1e-6
    slope = (burgers_exact(np.array([h]), t, CLASSIC_NU) - burgers_exact(np.array([-h]), t, CLASSIC_NU)) / (2 * h)
    np.testing.assert_allclose(slope, -152.00516, rtol=1e-7)


def test_burgers_finite_differences_converge_at_second_order_in_space() -> None:
    # nu = 0.1/pi: a front resolved by all grids, so the asymptotic order
    # shows. dt is small enough that the third-order time error is negligible.
    nu = 0.1 / math.pi
    sizes, errors = [], []
    for n in (65, 129, 257):
        case = get("burgers").with_updates(
            {"dtype": "float64", "grid.n": n, "pde.params.nu": nu, "time.t_end": 0.5, "time.dt": 1e-3, "time.save_dt": 0.5}
        )
        (x,) = grid_coordinates(case)
        sizes.append(2.0 / (n - 1))
        errors.append(_rel_l2(_fd_trajectory(case)[-1], burgers_exact(x, 0.5, nu)))
    slopes = _slopes(sizes, errors)
    # Measured: errors 4.5e-3, 1.1e-3, 2.8e-4 (6.9e-5 at n = 513); slopes 2.02, 2.00.
    assert errors[-1] < 4e-4, errors
    np.testing.assert_allclose(slopes, 2.0, atol=0.1)


def _time_ladder_case() -> Case:
    return get("burgers").with_updates(
        {"dtype": "float64", "grid.n": 129, "pde.params.nu": 0.05, "time.t_end": 0.5, "time.save_dt": 0.5}
    )


@functools.cache
def _time_ladder_reference() -> np.ndarray:
    # The third-order scheme with a step 80x smaller than the finest tested.
    return _fd_trajectory(_time_ladder_case().with_updates({"time.dt": 6.25e-5, "solver.order": 3}))[-1]


def test_burgers_travelling_front_with_neumann_ends_converges_at_second_order() -> None:
    # u = c - a tanh(a (x - c t) / (2 nu)) solves Burgers exactly. With
    # a = 1, nu = 0.05, c = 0.2 and t <= 0.5 its slope at x = +-1 is below
    # 1e-6, so the Neumann condition u_x = 0 holds to that level there; this
    # exercises the nonlinear flux next to Neumann ends.
    nu, speed = 0.05, 0.2

    def front(x: np.ndarray, t: float) -> np.ndarray:
        return speed - np.tanh((x - speed * t) / (2 * nu))

    sizes, errors = [], []
    for n in (65, 129, 257):
        x = np.linspace(-1.0, 1.0, n)
        case = get("burgers").with_updates(
            {
                "dtype": "float64", "grid.n": n, "pde.params.nu": nu, "bcs": [{"kind": "neumann"}],
                "ic": {"kind": "array", "values": front(x, 0.0).tolist()},
                "time.t_end": 0.5, "time.dt": 2e-3, "time.save_dt": 0.5,
            }
        )
        sizes.append(2.0 / (n - 1))
        errors.append(_rel_l2(_fd_trajectory(case)[-1], front(x, 0.5)))
    # Measured: errors 1.5e-3, 3.9e-4, 9.7e-5; slopes 2.00, 2.00.
    assert errors[-1] < 1.5e-4, errors
    np.testing.assert_allclose(_slopes(sizes, errors), 2.0, atol=0.1)


def test_burgers_on_the_periodic_grid_matches_cole_hopf_spectrally() -> None:
    # The Cole-Hopf solution is 2-periodic, so the spectral ETDRK4 solve on
    # [-1, 1) must match it too. Measured: 2.3e-4 at n = 64, 1.0e-7 at n = 128.
    nu = 0.1 / math.pi
    case = get("burgers").with_updates(
        {
            "dtype": "float64", "grid.n": 128, "pde.params.nu": nu, "bcs": [{"kind": "periodic"}],
            "solver": {"method": "etdrk", "order": 4}, "time.t_end": 0.5, "time.dt": 1e-3, "time.save_dt": 0.5,
        }
    )
    (x,) = grid_coordinates(case)
    assert _rel_l2(_trajectory(case)[-1], burgers_exact(x, 0.5, nu)) < 1e-6


@pytest.mark.parametrize("order", [1, 2, 3])
def test_imex_schemes_converge_at_their_order_in_time(order: int) -> None:
    # Self-convergence on one grid (Burgers, nu = 0.05, n = 129, t = 0.5).
    # Measured slopes: order 1: 1.05, 1.02; order 2: 2.01, 2.01; order 3:
    # 2.97, 2.98 (errors 1.9e-5, 2.4e-6, 3.0e-7).
    base = _time_ladder_case()
    steps = [0.02, 0.01, 0.005]
    errors = [
        _rel_l2(_fd_trajectory(base.with_updates({"time.dt": dt, "solver.order": order}))[-1], _time_ladder_reference())
        for dt in steps
    ]
    np.testing.assert_allclose(_slopes(steps, errors), order, atol=0.15)


def _burgers_gradient_case() -> Case:
    return get("burgers").with_updates(
        {"dtype": "float64", "grid.n": 65, "pde.params.nu": 0.05, "time.t_end": 0.1, "time.dt": 2e-3, "time.save_dt": 0.1}
    )


def test_gradient_wrt_viscosity_through_the_bounded_scheme_matches_finite_differences() -> None:
    sim = simulation(_burgers_gradient_case())
    weights = jax.random.normal(jax.random.key(1), sim.u0.shape[1:], dtype=jnp.float64)

    def loss(nu):
        return jnp.sum(weights * eqx.tree_at(lambda s: s.pde.nu, sim, nu)()["u"][-1])

    nu = jnp.asarray(0.05, jnp.float64)
    gradient = jax.grad(loss)(nu)
    eps = 1e-6
    fd = (loss(nu + eps) - loss(nu - eps)) / (2 * eps)
    assert abs(float(fd)) > 1e-2  # the check means something
    np.testing.assert_allclose(float(gradient), float(fd), rtol=1e-6)


def test_gradient_wrt_initial_state_through_the_bounded_scheme_matches_finite_differences() -> None:
    sim = simulation(_burgers_gradient_case())
    weights = jax.random.normal(jax.random.key(2), sim.u0.shape[1:], dtype=jnp.float64)
    direction = jax.random.normal(jax.random.key(3), sim.u0.shape, dtype=jnp.float64)

    def loss(u0):
        return jnp.sum(weights * eqx.tree_at(lambda s: s.u0, sim, u0)()["u"][-1])

    gradient = jax.grad(loss)(sim.u0)
    eps = 1e-5
    fd = (loss(sim.u0 + eps * direction) - loss(sim.u0 - eps * direction)) / (2 * eps)
    np.testing.assert_allclose(float(jnp.vdot(gradient, direction)), float(fd), rtol=1e-6)


def test_bounded_scheme_keeps_float32_and_vmaps_over_the_viscosity() -> None:
    case = _burgers_gradient_case().with_updates({"dtype": "float32"})
    sim = simulation(case)
    assert sim()["u"].dtype == jnp.float32

    def run(nu):
        return eqx.tree_at(lambda s: s.pde.nu, sim, nu)()["u"]

    nus = jnp.asarray([0.05, 0.1], jnp.float32)
    batched = jax.vmap(run)(nus)
    np.testing.assert_allclose(batched[1], run(nus[1]), rtol=1e-5, atol=1e-6)
    assert float(jnp.abs(batched[0] - batched[1]).max()) > 1e-3


def test_phys_run_burgers_writes_a_valid_file_with_both_end_points(tmp_path) -> None:
    out = tmp_path / "b.h5"
    assert main(["run", "burgers", "--out", str(out)]) == 0
    assert validate(out) == []
    with h5py.File(out) as file:
        x = file["dimensions/x"][()]
        u = file["t0_fields/u"][()]
    assert x.shape == (2049,) and x[0] == -1.0 and x[-1] == 1.0
    np.testing.assert_allclose(np.diff(x), 2.0 / 2048, rtol=1e-5)
    assert u.shape == (1, 101, 2049)
    np.testing.assert_array_equal(u[0, :, [0, -1]], 0.0)
    # The default case against Cole-Hopf at t = 0.1, 0.2, ..., 1 (the front
    # forms near t = 0.3 and is steepest at t = 0.51). Measured in float64:
    # at most 1.18e-4 (t = 0.55), max |error| 4.5e-4 at t = 1; the spatial
    # error dominates (dt = 2.5e-4 gives the same), and it falls 4x per
    # halving of h. The float32 solve stays below 1.4e-4.
    x64 = np.linspace(-1.0, 1.0, 2049)
    errors = [_rel_l2(u[0, i].astype(np.float64), burgers_exact(x64, i / 100, CLASSIC_NU)) for i in range(10, 101, 10)]
    assert max(errors) < 2e-4, errors


# -- convection-diffusion --------------------------------------------------------


def test_convection_diffusion_case_is_exact_on_the_periodic_grid() -> None:
    case = get("convection-diffusion").with_updates({"dtype": "float64"})
    trajectory = _trajectory(case)
    (x,) = grid_coordinates(case)
    c, nu = case.pde.params["c"], case.pde.params["nu"]
    times = 0.01 * np.arange(trajectory.shape[0])
    exact = np.exp(-nu * times)[:, None] * np.sin(x[None, :] - c * times[:, None])
    # A linear PDE: the ETDRK step is the exact propagator; only rounding is left.
    np.testing.assert_allclose(trajectory, exact, atol=1e-12)


def _dirichlet_exact(x: np.ndarray, t: float, c: float, nu: float) -> np.ndarray:
    # u(0) = 1, u(1) = 0: the steady profile (1 - e^{c (x - 1)/nu}) / (1 - e^{-c/nu}) plus a
    # decaying mode that vanishes at both ends.
    steady = (1 - np.exp(c * (x - 1) / nu)) / (1 - np.exp(-c / nu))
    transient = np.exp(c * x / (2 * nu) - (c**2 / (4 * nu) + nu * math.pi**2) * t) * np.sin(math.pi * x)
    return steady + transient


def _bounded_case(n: int, c: float, nu: float, bc: dict, values: np.ndarray) -> Case:
    return Case(
        name="convection-diffusion-bounded",
        pde={"name": "convection-diffusion", "params": {"c": c, "nu": nu}},
        domain={"length": 1.0},
        grid={"n": n},
        bcs=bc,
        ic={"kind": "array", "values": values.tolist()},
        time={"t_end": 0.5, "dt": 1e-3, "save_dt": 0.5},
        solver={"method": "finite-difference", "order": 3},
        dtype="float64",
    )


def test_convection_diffusion_with_dirichlet_ends_converges_to_the_exact_solution() -> None:
    c, nu = 1.0, 0.1
    sizes, errors = [], []
    for n in (33, 65, 129):
        x = np.linspace(0.0, 1.0, n)
        case = _bounded_case(n, c, nu, {"kind": "dirichlet", "lower": 1.0, "upper": 0.0}, _dirichlet_exact(x, 0.0, c, nu))
        sizes.append(1.0 / (n - 1))
        errors.append(_rel_l2(_fd_trajectory(case)[-1], _dirichlet_exact(x, 0.5, c, nu)))
    # Measured: errors 7.0e-3, 1.7e-3, 4.3e-4 (1.1e-4 at n = 257); slopes 2.01, 2.00.
    assert errors[-1] < 6e-4, errors
    np.testing.assert_allclose(_slopes(sizes, errors), 2.0, atol=0.1)


def test_convection_diffusion_with_neumann_ends_converges_to_the_exact_solution() -> None:
    # u_x = g at both ends: u = 1 + g x + e^{-nu pi^2 t} cos(pi x) solves the
    # diffusion equation (c = 0) and the boundary condition.
    g, nu = 0.5, 0.1
    sizes, errors = [], []
    for n in (33, 65, 129):
        x = np.linspace(0.0, 1.0, n)
        exact = lambda t: 1 + g * x + np.exp(-nu * math.pi**2 * t) * np.cos(math.pi * x)  # noqa: E731
        case = _bounded_case(n, 0.0, nu, {"kind": "neumann", "lower": g, "upper": g}, exact(0.0))
        sizes.append(1.0 / (n - 1))
        errors.append(_rel_l2(_fd_trajectory(case)[-1], exact(0.5)))
    # Measured: errors 1.4e-4, 3.4e-5, 8.4e-6; slopes 2.01, 2.01.
    assert errors[-1] < 1.5e-5, errors
    np.testing.assert_allclose(_slopes(sizes, errors), 2.0, atol=0.1)


def test_neumann_ghost_points_carry_a_convected_linear_profile_exactly() -> None:
    # u = 1 + g (x - c t) solves u_t + c u_x = nu u_xx with u_x = g at both
    # ends; central differences and the ghost points are exact on it, so only
    # the time stepping and rounding remain (and a linear-in-t solution is
    # integrated exactly by a consistent Runge-Kutta scheme).
    g, c, nu, n = 0.5, 0.7, 0.1, 33
    x = np.linspace(0.0, 1.0, n)
    case = _bounded_case(n, c, nu, {"kind": "neumann", "lower": g, "upper": g}, 1 + g * x)
    np.testing.assert_allclose(_fd_trajectory(case)[-1], 1 + g * (x - c * 0.5), atol=1e-12)


# -- convection ------------------------------------------------------------------


def test_convection_at_beta_30_is_an_exact_shift() -> None:
    case = get("convection").with_updates({"dtype": "float64"})
    assert case.pde.params["beta"] == 30.0
    trajectory = _trajectory(case)
    (x,) = grid_coordinates(case)
    times = 0.01 * np.arange(trajectory.shape[0])
    exact = np.sin(x[None, :] - 30.0 * times[:, None])
    # Measured: 1e-13 after 100 steps (the phase e^{-i beta k dt} to rounding).
    np.testing.assert_allclose(trajectory, exact, atol=1e-11)


# -- Allen-Cahn --------------------------------------------------------------------


def _allen_cahn(n: int, dt: float) -> tuple[Case, np.ndarray]:
    case = get("allen-cahn").with_updates({"dtype": "float64", "grid.n": n, "time.dt": dt, "time.save_dt": 0.2})
    return case, _trajectory(case)


def test_allen_cahn_etdrk4_converges_at_fourth_order_in_time() -> None:
    steps = [0.04, 0.02, 0.01]
    reference = _allen_cahn(256, 2.5e-3)[1][-1]
    errors = [_rel_l2(_allen_cahn(256, dt)[1][-1], reference) for dt in steps]
    # Measured: 8.5e-6, 5.3e-7, 3.3e-8; slopes 4.01, 4.00.
    np.testing.assert_allclose(_slopes(steps, errors), 4.0, atol=0.2)


def test_allen_cahn_case_is_resolved_and_decays_its_free_energy() -> None:
    case, coarse = _allen_cahn(512, 5e-3)
    _, fine = _allen_cahn(1024, 5e-3)
    # Two resolutions: the case's grid is within 1e-4 of twice as fine a grid
    # (measured 5.3e-5; spectral accuracy, limited by the kink of u0's
    # periodic extension at x = +-1).
    errors = [_rel_l2(a, b) for a, b in zip(coarse, fine[:, ::2])]
    assert max(errors) < 1e-4, errors
    # Allen-Cahn is the L2 gradient flow of E = int d/2 u_x^2 + k/4 (u^2 - 1)^2,
    # so E never increases; and u stays in [-1, 1] (maximum principle).
    d, k = case.pde.params["d"], case.pde.params["k"]
    modes = 2 * np.pi * np.fft.rfftfreq(1024, 2.0 / 1024)
    energies = []
    for u in fine:
        u_x = np.fft.irfft(1j * modes * np.fft.rfft(u), n=1024)
        energies.append(np.mean(d / 2 * u_x**2 + k / 4 * (u**2 - 1) ** 2) * 2.0)
    assert np.all(np.diff(energies) < 0), energies
    assert np.abs(fine).max() <= 1 + 1e-6
    # By t = 1 the reaction has driven most of the interval onto the stable
    # states +-1 (measured: 79% of points within 0.05 of them).
    assert np.mean(np.abs(np.abs(fine[-1]) - 1) < 0.05) > 0.7


# -- case validation ---------------------------------------------------------------


def test_finite_difference_scheme_rejects_a_periodic_axis() -> None:
    with pytest.raises(CaseError, match=r"^bcs\[0\]\.kind: solver 'finite-difference' needs 'dirichlet' or 'neumann'"):
        get("burgers").with_updates({"bcs": [{"kind": "periodic"}]})


def test_finite_difference_scheme_rejects_fourth_derivatives() -> None:
    case = get("ks").with_updates(
        {"bcs": [{"kind": "dirichlet"}], "solver": {"method": "finite-difference", "order": 3}}
    )
    with pytest.raises(CaseError, match=r"^solver\.method: .* up to second derivatives"):
        FiniteDifference.from_case(case)
