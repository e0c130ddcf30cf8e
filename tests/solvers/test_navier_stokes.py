"""2D incompressible Navier-Stokes, vorticity form, spectral ETDRK: exact solutions,
convergence orders, conservation, gradients, and agreement with the velocity-pressure form."""

from __future__ import annotations

import math
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cases import get
from phys.case import Case
from phys.cli import main
from phys.initial import initial_fields
from phys.io import read, validate
from phys.pdes.navier_stokes import IncompressibleNavierStokes2D, NavierStokes2D
from solvers import Simulation, simulation, solve
from solvers.spectral import FourierGrid, SpectralNonlinear, linear_symbol, spectral_derivatives


def _case(n: int = 32, dt: float = 0.01, t_end: float = 1.0, save_dt: float | None = None, order: int = 4, **params) -> Case:
    return Case(
        name="ns-test",
        pde={"name": "navier-stokes-2d", "params": {"nu": 0.01, **params}},
        domain={"length": 2 * math.pi},
        grid={"n": n},
        ic={"kind": "family", "name": "random-vorticity", "params": {"peak_wavenumber": 2.0, "velocity_rms": 1.0}},
        time={"t_end": t_end, "dt": dt, "save_dt": save_dt or t_end},
        solver={"order": order},
        dtype="float64",
    )


def _grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    x = 2 * np.pi * np.arange(n) / n
    return np.meshgrid(x, x, indexing="ij")


def _vorticity(case: Case, w0: np.ndarray | None = None) -> np.ndarray:
    """Saved vorticity ``[saves, *n]``, from ``w0`` when given."""
    sim = simulation(case)
    if w0 is not None:
        sim = eqx.tree_at(lambda s: s.u0, sim, jnp.asarray(w0)[None])
    return np.asarray(sim()["vorticity"])


def _grid_of(n: int, fields: tuple[str, ...], dealias: bool = True) -> FourierGrid:
    """The Fourier grid of ``_case(n)`` carrying ``fields``."""
    return FourierGrid((n, n), (2 * math.pi,) * 2, (0.0, 0.0), fields, "float64", dealias)


def _smooth_w0(n: int) -> np.ndarray:
    # Analytic and periodic, so its Fourier coefficients decay faster than
    # any power; the same function on every grid (a random start is not).
    x, y = _grid(n)
    w = np.exp(0.5 * np.cos(x) + 0.5 * np.sin(y)) * np.sin(x + y)
    return w - w.mean()


def _velocity(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(u, v)`` of a vorticity field on ``[0, 2 pi)^2``, by NumPy FFTs (independent of the solver)."""
    n = w.shape[0]
    k = np.fft.fftfreq(n, 1.0 / n)
    kx, ky = np.meshgrid(k, k, indexing="ij")
    k2 = np.where(kx**2 + ky**2 == 0, 1.0, kx**2 + ky**2)
    psi_hat = np.fft.fft2(w) / k2
    return np.real(np.fft.ifft2(1j * ky * psi_hat)), np.real(np.fft.ifft2(-1j * kx * psi_hat))


# -- exact solutions --------------------------------------------------------------


def test_taylor_green_vortex_decays_as_the_exact_solution() -> None:
    # u = A sin(kx) cos(ky), v = -A cos(kx) sin(ky): the convective term
    # vanishes, so w(t) = w0 exp(-(2 nu k^2 + drag) t) exactly. k = 2, drag on.
    nu, drag, k = 0.05, 0.3, 2.0
    case = get("ns-taylor-green").with_updates(
        {
            "dtype": "float64",
            "grid.n": 16,
            "pde.params": {"nu": nu, "drag": drag},
            "ic.params": {"amplitude": 1.5, "wavenumber": k},
            "time": {"t_end": 2.0, "dt": 0.1, "save_dt": 0.5},
        }
    )
    fields = solve(case)
    x, y = _grid(16)
    errors = []
    for i, t in enumerate(fields.time):
        decay = np.exp(-(2 * nu * k**2 + drag) * t)
        u = 1.5 * np.sin(k * x) * np.cos(k * y) * decay
        v = -1.5 * np.cos(k * x) * np.sin(k * y) * decay
        errors.append(np.abs(fields["velocity"][0, i] - np.stack([u, v], axis=-1)).max())
        errors.append(np.abs(fields["vorticity"][0, i] - 2 * k * 1.5 * np.sin(k * x) * np.sin(k * y) * decay).max())
    # Measured: 2.7e-15 (rounding; ETDRK is exact for a linear, diagonal problem).
    assert max(errors) < 1e-12, max(errors)


def test_same_shell_modes_are_an_exact_nonlinear_solution() -> None:
    # Modes of one wavenumber shell (|k| = 5 here) have psi = w / 25, so
    # u.grad(w) = J(psi, w) = 0 and w decays as exp(-25 nu t). The products
    # (u w, v w; u^2 - v^2, u v in the solver's form) are O(1) and their
    # derivatives cancel only if the flux terms and the velocity from the
    # streamfunction are consistent with each other.
    x, y = _grid(32)
    w0 = np.cos(5 * x) + np.sin(3 * x + 4 * y) + np.cos(4 * x - 3 * y)
    u, v = _velocity(w0)
    assert np.abs(u * w0).max() > 0.3 and np.abs(v * w0).max() > 0.3
    case = _case(n=32, dt=0.05, t_end=1.0, save_dt=0.25)
    trajectory = _vorticity(case, w0)
    times = 0.25 * np.arange(len(trajectory))
    exact = w0[None] * np.exp(-25 * 0.01 * times)[:, None, None]
    # Measured: 6.3e-15.
    assert np.abs(trajectory - exact).max() < 1e-11


def test_laminar_kolmogorov_flow_approaches_its_exact_profile() -> None:
    # From rest, the force f_x = A sin(ky) drives the single mode
    # w = -(A k / lam) cos(ky) (1 - exp(-lam t)), lam = nu k^2 + drag, for which
    # the convective term vanishes: checks the force's sign, size and the drag.
    nu, drag, amplitude, k = 0.05, 0.2, 0.7, 3.0
    case = _case(n=16, dt=0.1, t_end=3.0, save_dt=1.0, nu=nu, drag=drag, forcing_amplitude=amplitude, forcing_wavenumber=k)
    fields = solve(case.with_updates({"ic": {"kind": "array", "values": np.zeros((16, 16)).tolist()}}))
    x, y = _grid(16)
    lam = nu * k**2 + drag
    for i, t in enumerate(fields.time):
        growth = 1 - np.exp(-lam * t)
        np.testing.assert_allclose(fields["vorticity"][0, i], -amplitude * k / lam * np.cos(k * y) * growth, atol=1e-12)
        np.testing.assert_allclose(fields["velocity"][0, i, ..., 0], amplitude / lam * np.sin(k * y) * growth, atol=1e-12)
        np.testing.assert_allclose(fields["velocity"][0, i, ..., 1], 0.0, atol=1e-12)


# -- convergence --------------------------------------------------------------------


def test_etdrk4_converges_at_fourth_order_on_navier_stokes() -> None:
    # Nonlinear flow (rms velocity ~1, so convection dominates the viscous
    # term); the reference's steps are 8x smaller than the finest run's, so
    # its error is ~4000x smaller.
    w0 = _smooth_w0(32)
    reference = _vorticity(_case(dt=1 / 320), w0)[-1]
    dts = [0.1, 0.05, 0.025]
    errors = [np.abs(_vorticity(_case(dt=dt), w0)[-1] - reference).max() for dt in dts]
    slopes = np.diff(np.log(errors)) / np.diff(np.log(dts))
    # Measured: errors 2.8e-6, 1.7e-7, 1.0e-8; slopes 4.07, 4.01.
    assert np.all(np.abs(slopes - 4) < 0.2), (errors, slopes)


def test_space_convergence_is_spectral() -> None:
    # Same analytic start on every grid; coarse grid points are a subset of
    # the 64^2 reference's. Spectral accuracy: the observed algebraic order
    # grows with n instead of settling at a constant.
    reference = _vorticity(_case(n=64, dt=0.02, t_end=0.5), _smooth_w0(64))[-1]
    sizes = [8, 16, 32]
    errors = [
        np.abs(_vorticity(_case(n=n, dt=0.02, t_end=0.5), _smooth_w0(n))[-1] - reference[:: 64 // n, :: 64 // n]).max()
        for n in sizes
    ]
    orders = -np.diff(np.log(errors)) / np.log(2)
    # Measured: errors 5.9e-2, 5.8e-4, 1.9e-7; observed orders 6.7, then 11.6.
    assert orders[1] > orders[0] + 2 and orders[1] > 7, (errors, orders)
    assert errors[-1] < 1e-6, errors


# -- conservation and decay -----------------------------------------------------------


def _energy_and_enstrophy(fields) -> tuple[np.ndarray, np.ndarray]:
    energy = 0.5 * np.mean(np.sum(fields["velocity"][0] ** 2, axis=-1), axis=(1, 2))
    enstrophy = 0.5 * np.mean(fields["vorticity"][0] ** 2, axis=(1, 2))
    return energy, enstrophy


def test_unforced_flow_loses_energy_at_the_rate_two_nu_enstrophy() -> None:
    # dE/dt = -2 nu Z for E = <|u|^2>/2, Z = <w^2>/2 (the convective term
    # neither makes nor destroys energy); E and Z both decay monotonically.
    nu = 0.02
    fields = solve(_case(n=32, dt=0.01, t_end=2.0, save_dt=0.01, nu=nu))
    energy, enstrophy = _energy_and_enstrophy(fields)
    assert np.all(np.diff(energy) < 0) and np.all(np.diff(enstrophy) < 0)
    dissipated = -2 * nu * np.cumsum(0.5 * (enstrophy[1:] + enstrophy[:-1]) * 0.01)
    # Trapezoid rule error ~ h^2/12 |Z''| t: measured 1.3e-6 relative; E
    # falls to 0.69 E(0) by t = 2.
    np.testing.assert_allclose(energy[1:] - energy[0], dissipated, rtol=1e-5)
    assert energy[-1] < 0.95 * energy[0]


def test_inviscid_flow_conserves_energy_and_enstrophy() -> None:
    # With nu = drag = 0 the dealiased (Galerkin-truncated) system conserves
    # both exactly; ETDRK4's drift is O(dt^4).
    fields = solve(_case(n=32, dt=0.01, t_end=1.0, save_dt=0.1, nu=0.0))
    energy, enstrophy = _energy_and_enstrophy(fields)
    # Measured: 3.1e-10 and 3.3e-10 relative drift.
    np.testing.assert_allclose(energy, energy[0], rtol=1e-8)
    np.testing.assert_allclose(enstrophy, enstrophy[0], rtol=1e-8)


# -- gradients ---------------------------------------------------------------------


def _gradient_setup():
    sim = simulation(_case(n=16, dt=0.05, t_end=0.5))
    weights = jax.random.normal(jax.random.key(7), sim.u0.shape[1:], dtype=jnp.float64)

    def loss(s: Simulation) -> jax.Array:
        return jnp.sum(weights * s()["vorticity"][-1])

    return sim, loss


def test_gradient_wrt_viscosity_and_drag_matches_finite_differences() -> None:
    params, loss = _gradient_setup()
    gradient = jax.grad(loss)(params)
    eps = 1e-6
    for name in ("nu", "drag"):
        def shifted(delta: float) -> float:
            return float(loss(eqx.tree_at(lambda p: getattr(p.pde, name), params, getattr(params.pde, name) + delta)))

        fd = (shifted(eps) - shifted(-eps)) / (2 * eps)
        np.testing.assert_allclose(float(getattr(gradient.pde, name)), fd, rtol=1e-6)


def test_gradient_wrt_initial_vorticity_matches_finite_differences() -> None:
    params, loss = _gradient_setup()
    direction = jax.random.normal(jax.random.key(8), params.u0.shape, dtype=jnp.float64)
    gradient = jax.grad(loss)(params).u0
    eps = 1e-6

    def shifted(delta: float) -> float:
        return float(loss(eqx.tree_at(lambda p: p.u0, params, params.u0 + delta * direction)))

    fd = (shifted(eps) - shifted(-eps)) / (2 * eps)
    np.testing.assert_allclose(float(jnp.vdot(gradient, direction)), fd, rtol=1e-6)


# -- the velocity-pressure form ------------------------------------------------------


def _velocity_pressure_residual(re: float, u: np.ndarray, v: np.ndarray, u_t: np.ndarray, v_t: np.ndarray) -> float:
    """Max |residual| of :class:`IncompressibleNavierStokes2D`, pressure from its Poisson equation.

    Taking the divergence of the momentum equations of a divergence-free
    flow: ``lap p = -((u u)_xx + 2 (u v)_xy + (v v)_yy)``, solved spectrally.
    """
    n = u.shape[0]
    static = _grid_of(n, ("u", "v", "p"))
    k = np.fft.fftfreq(n, 1.0 / n)
    kx, ky = np.meshgrid(k, k, indexing="ij")
    k2 = np.where(kx**2 + ky**2 == 0, 1.0, kx**2 + ky**2)
    # Fourier transform of lap p: -(D_xx -> -kx^2, ...) turns the signs positive.
    lap_p_hat = kx**2 * np.fft.fft2(u * u) + 2 * kx * ky * np.fft.fft2(u * v) + ky**2 * np.fft.fft2(v * v)
    p = np.real(np.fft.ifft2(-lap_p_hat / k2))
    d = spectral_derivatives(static, jnp.fft.rfft2(jnp.asarray(np.stack([u, v, p]))))
    pde = IncompressibleNavierStokes2D(re=jnp.asarray(re))
    residuals = pde.residuals(d, {"u": jnp.asarray(u_t), "v": jnp.asarray(v_t)})
    return max(float(jnp.abs(r).max()) for r in residuals.values())


def test_spectral_solution_satisfies_the_velocity_pressure_form() -> None:
    # Solve in vorticity form; time derivatives of the saved velocity by a
    # fourth-order central difference (h = 1e-3, error ~ h^4/30 |d^5u/dt^5|).
    # On 64^2 the spectrum is resolved well past the 2/3 cut; on 32^2 the
    # truncated products dominate the residual (measured 2e-4). The same
    # residual with a wrong viscosity, or a slightly perturbed velocity, is large.
    nu, h = 0.02, 1e-3
    fields = solve(_case(n=64, dt=h, t_end=0.04, save_dt=h, nu=nu))
    velocity = fields["velocity"][0]
    m = len(velocity) // 2
    u, v = velocity[m, ..., 0], velocity[m, ..., 1]
    u_t, v_t = ((velocity[m - 2] - 8 * velocity[m - 1] + 8 * velocity[m + 1] - velocity[m + 2]) / (12 * h)).transpose(2, 0, 1)
    assert np.abs(u_t).max() > 0.5  # a flow that changes: the residual has something to balance
    residual = _velocity_pressure_residual(1 / nu, u, v, u_t, v_t)
    wrong_viscosity = _velocity_pressure_residual(1 / (1.01 * nu), u, v, u_t, v_t)
    x, y = _grid(64)
    bump_u, bump_v = _velocity(1e-6 * np.sin(2 * x + y))
    perturbed = _velocity_pressure_residual(1 / nu, u + bump_u, v + bump_v, u_t, v_t)
    # Measured: residual 9.4e-11; viscosity 1% off 2.9e-3; perturbed by 1e-6 4.9e-7.
    assert residual < 1e-9, residual
    assert wrong_viscosity > 100 * residual and perturbed > 10 * residual, (residual, wrong_viscosity, perturbed)


def test_taylor_green_with_its_pressure_satisfies_the_velocity_pressure_form() -> None:
    # u = sin x cos y F, v = -cos x sin y F, p = (cos 2x + cos 2y) F^2 / 4,
    # F = exp(-2 t / re): an exact solution of the full equations. Both the
    # pointwise residuals and linear() + nonlinear() - grad p = u_t are checked;
    # the pressure with the wrong sign must fail them.
    re, t, n = 50.0, 0.7, 16
    decay = np.exp(-2 * t / re)
    x, y = _grid(n)
    u, v = np.sin(x) * np.cos(y) * decay, -np.cos(x) * np.sin(y) * decay
    p = (np.cos(2 * x) + np.cos(2 * y)) * decay**2 / 4
    u_t, v_t = -2 / re * u, -2 / re * v
    static = _grid_of(n, ("u", "v", "p"), dealias=False)
    pde = IncompressibleNavierStokes2D(re=jnp.asarray(re))

    def worst(pressure: np.ndarray) -> float:
        d = spectral_derivatives(static, jnp.fft.rfft2(jnp.asarray(np.stack([u, v, pressure]))))
        return max(float(jnp.abs(r).max()) for r in pde.residuals(d, {"u": u_t, "v": v_t}).values())

    assert worst(p) < 1e-13 and worst(-p) > 0.4, (worst(p), worst(-p))
    # The solver-facing split: L u + N(u) - grad p, with L and N by spectral evaluation.
    velocity_static = static._replace(fields=("u", "v"))
    state_hat = jnp.fft.rfft2(jnp.asarray(np.stack([u, v])))
    tendency_hat = SpectralNonlinear(pde, velocity_static)(state_hat) + jnp.stack(
        [linear_symbol(velocity_static, pde.linear()[f], jnp.complex128) for f in ("u", "v")]
    ) * state_hat
    tendency = np.asarray(jnp.fft.irfft2(tendency_hat, s=(n, n)))
    grad_p = np.stack([-np.sin(2 * x), -np.sin(2 * y)]) * decay**2 / 2
    np.testing.assert_allclose(tendency - grad_p, np.stack([u_t, v_t]), atol=1e-13)


def test_vorticity_form_outputs_and_class_contract() -> None:
    # Velocity from the streamfunction is divergence-free and its curl is w.
    pde = NavierStokes2D(nu=0.01, drag=0.0, forcing_amplitude=0.0, forcing_wavenumber=4.0)
    static = _grid_of(16, ("vorticity",))
    w0 = _smooth_w0(16)
    out = pde.outputs(spectral_derivatives(static, jnp.fft.rfft2(jnp.asarray(w0)[None])))
    u, v = np.asarray(out["velocity"][..., 0]), np.asarray(out["velocity"][..., 1])
    np.testing.assert_allclose(np.stack([u, v]), np.stack(_velocity(w0)), atol=1e-13)
    assert NavierStokes2D.output_tensor_orders() == {"vorticity": 0, "velocity": 1}


# -- initial conditions --------------------------------------------------------------


def test_random_vorticity_has_the_requested_spectrum_peak_and_rms_velocity() -> None:
    # E(k) ~ k^4 exp(-2 (k/k0)^2) peaks at k = k0; shells near k0 = 6 hold
    # ~40 modes each, so the sampled shell energies scatter by ~15% and the
    # peak may move by one shell. The rms velocity is set exactly.
    case = _case(n=128).with_updates({"ic.params": {"peak_wavenumber": 6.0, "velocity_rms": 0.7}})
    w = np.asarray(initial_fields(case)[0])
    u, v = _velocity(w)
    np.testing.assert_allclose(np.sqrt(np.mean(u**2 + v**2)), 0.7, rtol=1e-12)
    assert abs(w.mean()) < 1e-12
    k = np.fft.fftfreq(128, 1.0 / 128)
    shell = np.rint(np.hypot(*np.meshgrid(k, k, indexing="ij"))).astype(int)
    energy = np.bincount(shell.ravel(), (np.abs(np.fft.fft2(u)) ** 2 + np.abs(np.fft.fft2(v)) ** 2).ravel())
    assert abs(int(np.argmax(energy)) - 6) <= 1, np.argmax(energy)
    assert energy[30] < 1e-12 * energy[6]  # exp(-2 (30/6)^2) ~ 2e-22 times the peak's weight
    same = np.asarray(initial_fields(case)[0])
    other = np.asarray(initial_fields(case.with_updates({"seed": 1}))[0])
    assert np.array_equal(w, same) and np.abs(w - other).max() > 0.1


# -- command line --------------------------------------------------------------------


def test_phys_run_writes_taylor_green_with_velocity_as_a_t1_field(tmp_path: Path) -> None:
    out = tmp_path / "tg.h5"
    assert main(["run", "ns-taylor-green", "--set", "t_end=2", "--out", str(out)]) == 0
    assert validate(out) == []
    fields = read(out)
    assert fields.tensor_order == {"vorticity": 0, "velocity": 1}
    assert fields["velocity"].shape == (1, 5, 32, 32, 2) and fields["velocity"].dtype == np.float32
    x, y = np.meshgrid(fields.coords["x"], fields.coords["y"], indexing="ij")
    decay = np.exp(-2 * 0.01 * fields.time)[:, None, None]
    exact = np.stack([np.sin(x) * np.cos(y) * decay, -np.cos(x) * np.sin(y) * decay], axis=-1)
    # float32 on disk and in the solve: rounding only.
    np.testing.assert_allclose(fields["velocity"][0], exact, atol=2e-6)
