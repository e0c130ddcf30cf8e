"""The PINN residual comes from the PDE files themselves and is right.

Exact solutions written as JAX functions give residuals at rounding level,
and a manufactured function gives the residual computed by hand; changing a
physical parameter makes the same residual large, so none of these checks
can pass by accident. The solver's own KS solution, interpolated spectrally in
x and by a degree-4 polynomial in t, satisfies the PINN residual too: the two
evaluators of one PDE definition agree. On the package's networks the
Taylor-mode path gives the generic nested-jvp residual to rounding (float64).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from phys.case import Case
from phys.pdes import load
from pinns.nets import make_network
from pinns.residual import network_derivatives, derivative, residuals


def _pde(name: str, **params: float):
    return load(name)(**{k: jnp.asarray(v, jnp.float64) for k, v in params.items()})


def _points(n: int, lower: tuple[float, ...], upper: tuple[float, ...], seed: int = 0) -> jax.Array:
    lo, hi = jnp.asarray(lower)[None, :], jnp.asarray(upper)[None, :]
    return lo + (hi - lo) * jax.random.uniform(jax.random.key(seed), (n, len(lower)), jnp.float64)


def test_nested_forward_mode_gives_the_fourth_derivative_of_sin():
    z = _points(16, (0.0, -3.0), (1.0, 3.0))
    fourth = jax.vmap(derivative(lambda p: jnp.sin(2.0 * p[1]) * jnp.exp(p[0]), (4,)))(z)
    np.testing.assert_allclose(fourth, 16 * jnp.sin(2 * z[:, 1]) * jnp.exp(z[:, 0]), rtol=1e-13)


def test_kuramoto_sivashinsky_residual_of_a_wave_equals_the_hand_computed_value():
    a, b, c, amp, k, w, mean = 1.3, 0.7, 0.9, 0.8, 1.7, 2.3, 0.25
    pde = _pde("kuramoto-sivashinsky", a=a, b=b, c=c)

    def u(z):
        return jnp.stack([mean + amp * jnp.sin(k * z[1] - w * z[0])])

    z = _points(64, (0.0, 0.0), (2.0, 10.0))
    phase = k * z[:, 1] - w * z[:, 0]
    s, co = jnp.sin(phase), jnp.cos(phase)
    value = mean + amp * s
    # u_t + c u u_x + a u_xx + b u_xxxx, each term by hand.
    expected = -amp * w * co + c * value * amp * k * co - a * amp * k**2 * s + b * amp * k**4 * s
    np.testing.assert_allclose(residuals(pde, u, z)[:, 0], expected, rtol=1e-12, atol=1e-12)


def test_convection_residual_of_the_travelling_wave_vanishes():
    beta = 30.0

    def u(z):
        return jnp.stack([jnp.sin(z[1] - beta * z[0])])

    z = _points(64, (0.0, 0.0), (1.0, 2 * math.pi))
    exact = residuals(_pde("convection", beta=beta), u, z)
    wrong = residuals(_pde("convection", beta=beta * 1.01), u, z)
    assert jnp.max(jnp.abs(exact)) < 1e-11
    assert jnp.max(jnp.abs(wrong)) > 0.1  # 1% of beta * |u_x| ~ 0.3


def test_convection_diffusion_residual_of_the_decaying_wave_vanishes():
    c, nu, k = 1.5, 0.1, 3.0

    def u(z):
        return jnp.stack([jnp.exp(-nu * k**2 * z[0]) * jnp.sin(k * (z[1] - c * z[0]))])

    z = _points(64, (0.0, 0.0), (1.0, 2 * math.pi))
    assert jnp.max(jnp.abs(residuals(_pde("convection-diffusion", c=c, nu=nu), u, z))) < 1e-13
    assert jnp.max(jnp.abs(residuals(_pde("convection-diffusion", c=c, nu=2 * nu), u, z))) > 0.1


def test_burgers_residual_of_the_travelling_shock_vanishes():
    # u = s - h tanh(h (x - s t) / (2 nu)) solves u_t + u u_x = nu u_xx exactly.
    nu, s, h = 0.05, 0.3, 1.0

    def u(z):
        return jnp.stack([s - h * jnp.tanh(h * (z[1] - s * z[0]) / (2 * nu))])

    z = _points(64, (0.0, -1.0), (1.0, 1.0))
    assert jnp.max(jnp.abs(residuals(_pde("burgers", nu=nu), u, z))) < 1e-11
    assert jnp.max(jnp.abs(residuals(_pde("burgers", nu=1.1 * nu), u, z))) > 0.1


def test_allen_cahn_residual_of_the_standing_kink_vanishes():
    # u = tanh(x sqrt(k / (2 d))) is a steady state of u_t = d u_xx + k (u - u^3).
    d, k = 1e-2, 5.0

    def u(z):
        return jnp.stack([jnp.tanh(z[1] * jnp.sqrt(k / (2 * d)) + 0.0 * z[0])])

    z = _points(64, (0.0, -0.3), (1.0, 0.3))
    assert jnp.max(jnp.abs(residuals(_pde("allen-cahn", d=d, k=k), u, z))) < 1e-11
    assert jnp.max(jnp.abs(residuals(_pde("allen-cahn", d=d, k=1.1 * k), u, z))) > 0.1


def test_navier_stokes_velocity_pressure_residual_of_taylor_green_vanishes():
    re = 50.0
    nu = 1 / re

    def taylor_green(z):
        t, x, y = z
        decay = jnp.exp(-2 * nu * t)
        u = -jnp.cos(x) * jnp.sin(y) * decay
        v = jnp.sin(x) * jnp.cos(y) * decay
        p = -0.25 * (jnp.cos(2 * x) + jnp.cos(2 * y)) * decay**2
        return jnp.stack([u, v, p])

    z = _points(64, (0.0, 0.0, 0.0), (2.0, 2 * math.pi, 2 * math.pi))
    pde = _pde("navier-stokes-vp", re=re)
    exact = residuals(pde, taylor_green, z, names=("u", "v", "p"))
    assert exact.shape == (64, 3)
    assert jnp.max(jnp.abs(exact)) < 1e-13
    no_pressure = residuals(pde, lambda p: taylor_green(p) * jnp.array([1.0, 1.0, 0.0]), z, names=("u", "v", "p"))
    assert jnp.max(jnp.abs(no_pressure)) > 0.1


def _spectral_time_interpolant(values: np.ndarray, times: np.ndarray, origin: float, length: float):
    """A JAX function ``z -> [u]``: Fourier series in x, Lagrange polynomial through the given times."""
    n = values.shape[-1]
    coefficients = jnp.fft.rfft(jnp.asarray(values), axis=-1) / n  # [T, modes]
    coefficients = coefficients.at[:, 1:].multiply(2.0)
    if n % 2 == 0:
        coefficients = coefficients.at[:, -1].set(0.0)  # Nyquist mode: not differentiable as a real series
    modes = jnp.arange(coefficients.shape[-1])
    nodes = jnp.asarray(times)

    def u(z):
        t, x = z
        weights = jnp.stack(
            [
                jnp.prod(jnp.stack([(t - nodes[m]) / (nodes[j] - nodes[m]) for m in range(len(times)) if m != j]))
                for j in range(len(times))
            ]
        )
        c = weights @ coefficients
        phase = 2 * jnp.pi * modes * (x - origin) / length
        return jnp.stack([jnp.sum(jnp.real(c) * jnp.cos(phase) - jnp.imag(c) * jnp.sin(phase))])

    return u


def test_solver_solution_of_kuramoto_sivashinsky_makes_the_pinn_residual_small():
    from solvers.solve import solve

    case = Case(
        name="ks-check",
        pde={"name": "kuramoto-sivashinsky"},
        domain={"length": 22.0},
        grid={"n": 64},
        ic={"kind": "family", "name": "random-fourier", "params": {"amplitude": 1.0, "max_mode": 3}},
        time={"t_end": 0.5, "dt": 0.01, "save_dt": 0.01},
        dtype="float64",
    )
    fields = solve(case)
    middle = len(fields.time) // 2
    window = slice(middle - 2, middle + 3)  # five saves: interpolation error O(save_dt^5)
    u = _spectral_time_interpolant(fields["u"][0, window], fields.time[window], 0.0, 22.0)
    t = jnp.full((32,), fields.time[middle] + 0.004)
    x = jnp.linspace(0.0, 22.0, 32, endpoint=False) + 0.1
    z = jnp.stack([t, x], axis=1)
    pde = case.pde.build(case.dtype)
    scale = jnp.max(jnp.abs(jax.vmap(lambda p: jax.jvp(u, (p,), (jnp.array([1.0, 0.0]),))[1])(z)))
    exact = jnp.max(jnp.abs(residuals(pde, u, z))) / scale
    wrong = jnp.max(jnp.abs(residuals(type(pde)(a=pde.a * 1.05, b=pde.b, c=pde.c), u, z))) / scale
    # Measured: 8.9e-9 relative to max |u_t| (interpolation in t dominates); a 5%
    # change of the u_xx coefficient gives 5.2e-2.
    assert exact < 1e-6
    assert wrong > 1e-2


# (PDE, parameters, space box, outputs, network settings, Taylor orders (t, x, ...) the residual needs)
TAYLOR_CASES = [
    ("burgers", dict(nu=0.05), ((-1.0,), (1.0,)), ("u",), dict(activation="tanh"), (1, 2)),
    ("kuramoto-sivashinsky", dict(a=1.0, b=1.0, c=1.0), ((0.0,), (22.0,)), ("u",),
     dict(activation="sin", periods=(None, 22.0), n_modes=2, factorize=(1.0, 0.1)), (1, 4)),
    ("allen-cahn", dict(d=1e-2, k=5.0), ((-1.0,), (1.0,)), ("u",), dict(architecture="modified_mlp", activation="gelu"), (1, 2)),
    ("convection-diffusion", dict(c=1.5, nu=0.1), ((0.0,), (6.0,)), ("u",),
     dict(architecture="modified_mlp", activation="tanh", fourier=(8, 1.0)), (1, 2)),
    ("navier-stokes-vp", dict(re=50.0), ((0.0, 0.0), (6.0, 6.0)), ("u", "v", "p"), dict(activation="tanh"), (1, 2, 2)),
]


@pytest.mark.parametrize("name, params, box, names, settings, orders", TAYLOR_CASES, ids=[c[0] for c in TAYLOR_CASES])
def test_taylor_mode_residual_equals_the_generic_nested_forward_mode_one(name, params, box, names, settings, orders, monkeypatch):
    lower, upper = (0.0, *box[0]), (1.0, *box[1])
    net = make_network(jax.random.key(8), lower=lower, upper=upper, n_out=len(names), width=12, depth=3,
                       dtype=jnp.float64, **settings)
    z = _points(32, lower, upper, seed=3)
    pde = _pde(name, **params)
    # Record the orders the network's Taylor-mode path (AbstractNetwork.jet) is asked for.
    asked = []
    jet = type(net).jet
    monkeypatch.setattr(type(net), "jet", lambda self, point, wanted: (asked.append(wanted), jet(self, point, wanted))[1])
    fast = residuals(pde, net, z, names)
    generic = residuals(pde, net, z, names, taylor=False)
    assert asked == [orders]  # the Taylor path ran, asked for exactly what the PDE reads
    scale = float(jnp.max(jnp.abs(generic)))
    assert scale > 1e-3
    np.testing.assert_allclose(fast, generic, rtol=0, atol=1e-12 * scale)
    # A plain function (no jet) takes the generic path whatever taylor says.
    np.testing.assert_allclose(residuals(pde, lambda p: net(p), z, names), generic, rtol=0, atol=1e-14 * scale)


def test_mixed_derivatives_take_nested_forward_mode_next_to_the_taylor_path():
    net = make_network(jax.random.key(9), lower=(0.0, 0.0, 0.0), upper=(1.0, 1.0, 1.0), n_out=1, width=8, depth=2,
                       dtype=jnp.float64)
    z = jnp.array([0.2, 0.4, 0.7])
    alphas = {(0, 0), (2, 0), (1, 1), (0, 3), (2, 1)}
    value, u_t, fast = network_derivatives(net, alphas, z, taylor=True)
    _, _, generic = network_derivatives(net, alphas, z, taylor=False)
    np.testing.assert_allclose(value, net(z), rtol=1e-14)
    np.testing.assert_allclose(u_t, derivative(net, (1,), axis_offset=0)(z), rtol=1e-13)  # input 0 is time
    for alpha in alphas:
        np.testing.assert_allclose(fast[alpha], derivative(net, alpha)(z), rtol=1e-12)
        np.testing.assert_allclose(generic[alpha], derivative(net, alpha)(z), rtol=1e-12)
