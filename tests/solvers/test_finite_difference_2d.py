"""The finite-difference scheme in 2D (Dirichlet box, sine-transform implicit part) and the diffusion-2d case."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cases import get
from phys.case import Case, CaseError
from phys.pdes._base import AbstractPDE
from solvers import scheme_for, simulation
from solvers._finite_difference_2d import check_linear


def _eigenmode_case(n: int, D: float, t_end: float, dt: float, order: int = 3) -> Case:
    x = np.linspace(0.0, 1.0, n)
    mode = np.outer(np.sin(np.pi * x), np.sin(np.pi * x))
    return Case(
        name="eigenmode",
        pde={"name": "diffusion", "params": {"D": D}},
        domain={"length": 1.0},
        grid={"n": n},
        bcs={"kind": "dirichlet"},
        ic={"kind": "array", "values": mode.tolist()},
        time={"t_end": t_end, "dt": dt, "save_dt": t_end},
        solver={"method": "finite-difference", "order": order},
        dtype="float64",
    )


def _eigenmode_error(n: int, D: float = 0.5, t_end: float = 0.2, dt: float = 2e-3) -> float:
    case = _eigenmode_case(n, D, t_end, dt)
    sim = simulation(case)
    u = np.asarray(sim()["u"][-1])
    x, y = np.meshgrid(*sim.coords(), indexing="ij")
    exact = np.sin(np.pi * x) * np.sin(np.pi * y) * math.exp(-2 * math.pi**2 * D * t_end)
    return float(np.max(np.abs(u - exact)))


def test_2d_diffusion_eigenmode_decays_at_the_exact_rate_with_second_order_in_space() -> None:
    # sin(pi x) sin(pi y) is an eigenvector of the 5-point Laplacian too, so the
    # error is the eigenvalue's, -2 pi^2 (1 - (pi h)^2 / 12 + ...): O(h^2).
    # dt = 2e-3 with IMEX order 3: the time error (~(lambda dt)^3 per unit time) is below 1e-8.
    sizes = [11, 21, 41]
    errors = [_eigenmode_error(n) for n in sizes]
    h = [1.0 / (n - 1) for n in sizes]
    orders = np.diff(np.log(errors)) / np.diff(np.log(h))
    assert errors[-1] < 2e-4, errors
    assert np.all((orders > 1.9) & (orders < 2.1)), (errors, orders)


def test_2d_tendency_is_the_five_point_laplacian_and_zero_on_the_edges() -> None:
    case = get("diffusion-2d").with_updates({"dtype": "float64"})
    scheme = scheme_for(case)
    sim = simulation(case)
    state = scheme.init(sim.u0)
    u = np.asarray(state["u"][0])
    rate = np.asarray(scheme.tendency(state)["u"][0])
    expected = 2.0 * (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4 * u[1:-1, 1:-1])  # h = 1, D = 2
    np.testing.assert_allclose(rate[1:-1, 1:-1], expected, rtol=1e-12, atol=1e-12)
    assert np.all(rate[[0, -1], :] == 0) and np.all(rate[:, [0, -1]] == 0)


def test_2d_nonzero_dirichlet_values_give_the_steady_linear_profile() -> None:
    # The implicit solve must carry the edge values' part r: with u = 1 on every
    # edge the steady state is u = 1 everywhere, reached from u = 0.
    case = _eigenmode_case(11, 1.0, 2.0, 0.05).with_updates(
        {"bcs": [{"kind": "dirichlet", "lower": 1.0, "upper": 1.0}] * 2, "ic": {"kind": "family", "name": "uniform", "params": {"value": 0.0}}}
    )
    u = np.asarray(simulation(case)()["u"][-1])
    # The slowest mode decays as exp(-2 pi^2 t): 4e-18 at t = 2.
    np.testing.assert_allclose(u, 1.0, atol=1e-12)


class _Advection2D(AbstractPDE):
    """u_t + u_x = lap u (a first derivative in the linear part)."""

    fields = ("u",)
    n_dims = 2

    def linear(self):
        return {"u": {(1, 0): -1.0, (2, 0): 1.0, (0, 2): 1.0}}

    def nonlinear(self, d):
        return {"u": {}}


def test_2d_refuses_other_boundaries_and_first_derivative_linear_terms() -> None:
    with pytest.raises(CaseError, match=r"^bcs\[0\]\.kind: solver 'finite-difference' needs 'dirichlet' in 2D"):
        get("diffusion-2d").with_updates({"bcs": [{"kind": "neumann"}] * 2})
    problem = check_linear(_Advection2D())
    assert problem is not None and "D^(1, 0)" in problem and "write it in nonlinear()" in problem


def test_diffusion_2d_ensemble_draws_distinct_gaussians_from_the_seeds() -> None:
    case = get("diffusion-2d")
    starts = [np.asarray(simulation(case.with_updates({"seed": seed})).u0[0]) for seed in range(4)]
    x = np.linspace(-20.5, 20.5, 42)
    for u0 in starts:
        assert 0.5 <= u0.max() <= 2.0  # the amplitude range (the peak sits on or near a node)
        i, j = np.unravel_index(np.argmax(u0), u0.shape)
        assert abs(x[i]) <= 12.5 and abs(x[j]) <= 12.5  # the centre range, to half a node
    assert len({round(float(u0.max()), 6) for u0 in starts}) == 4
