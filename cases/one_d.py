"""One-dimensional cases: convection, convection-diffusion, Burgers, Allen-Cahn.

The first three are the PINN benchmarks of Krishnapriyan et al. (2021) and
Raissi et al. (2019); each has an exact solution the tests compare against.
"""

from __future__ import annotations

import math

from phys.case import Case


def burgers() -> Case:
    """Viscous Burgers on [-1, 1], u0 = -sin(pi x), u(+-1) = 0, nu = 0.01/pi, t in [0, 1].

    The benchmark of Raissi et al. (2019). A front of width ~nu forms at x = 0
    near t = 0.3 (steepest, |u_x| = 152, at t = 0.51); second-order finite
    differences need h well below nu = 3.2e-3 there. Defaults: n = 2049 (h =
    9.8e-4), dt = 5e-4 (convective CFL 0.51), IMEX order 3: relative L2 error
    against Cole-Hopf at most 1.2e-4 over t in [0, 1] (max |error| 4.5e-4 at
    t = 1); the error is spatial and falls 4x per halving of h.
    """
    return Case(
        name="burgers",
        description="Burgers u_t + u u_x = nu u_xx on [-1, 1], u0 = -sin(pi x), u(+-1) = 0, nu = 0.01/pi (Raissi et al. 2019)",
        pde={"name": "burgers", "params": {"nu": 0.01 / math.pi}},
        domain={"length": 2.0, "origin": -1.0},
        grid={"n": 2049},
        bcs={"kind": "dirichlet", "lower": 0.0, "upper": 0.0},
        ic={"kind": "family", "name": "sine", "params": {"amplitude": -1.0, "wavenumber": math.pi}},
        time={"t_end": 1.0, "dt": 5e-4, "save_dt": 0.01},
        solver={"method": "finite-difference", "order": 3},
    )


def convection() -> Case:
    """u_t + beta u_x = 0 on the periodic [0, 2 pi), u0 = sin x, beta = 30, t in [0, 1].

    Krishnapriyan et al. (2021)'s failure mode of plain PINNs. The spectral
    ETDRK step of a purely linear PDE is exact, so the solution is
    sin(x - beta t) to rounding for any n and dt.
    """
    return Case(
        name="convection",
        description="Convection u_t + beta u_x = 0 on [0, 2 pi), u0 = sin x, beta = 30 (Krishnapriyan et al. 2021)",
        pde={"name": "convection", "params": {"beta": 30.0}},
        domain={"length": 2 * math.pi},
        grid={"n": 256},
        ic={"kind": "family", "name": "sine", "params": {"amplitude": 1.0, "wavenumber": 1.0}},
        time={"t_end": 1.0, "dt": 0.01, "save_dt": 0.01},
        solver={"method": "etdrk", "order": 4},
    )


def convection_diffusion() -> Case:
    """u_t + c u_x = nu u_xx on the periodic [0, 2 pi), u0 = sin x, c = 1, nu = 0.05, t in [0, 1].

    Exact solution u = exp(-nu t) sin(x - c t); the spectral ETDRK step of a
    linear PDE reproduces it to rounding.
    """
    return Case(
        name="convection-diffusion",
        description="Convection-diffusion u_t + c u_x = nu u_xx on [0, 2 pi), u0 = sin x; exact: exp(-nu t) sin(x - c t)",
        pde={"name": "convection-diffusion", "params": {"c": 1.0, "nu": 0.05}},
        domain={"length": 2 * math.pi},
        grid={"n": 256},
        ic={"kind": "family", "name": "sine", "params": {"amplitude": 1.0, "wavenumber": 1.0}},
        time={"t_end": 1.0, "dt": 0.01, "save_dt": 0.01},
        solver={"method": "etdrk", "order": 4},
    )


def burgers_moving_front() -> Case:
    """Viscous Burgers on the periodic [0, 2 pi), u0 = 1 + sin x, nu = 0.02, t in [0, 1.5].

    The characteristics x0 + (1 + sin x0) t of the inviscid problem first
    cross at t = 1 (min u0' = -1), at x = pi + 1: a front of width ~ 2 nu / [u]
    forms there and travels right at the mean speed 1, so an Eulerian PINN must
    follow a moving steep layer and a Lagrangian one sees its characteristics
    bunch into it (the moving-shock case of Mojgani, Balajewicz & Hassanzadeh
    2022). The front's steepest slope is 22.6 at t = 1.5 (width 2 / 22.6 = 0.09,
    7 points of n = 512). ETDRK4 on n = 512, dt = 5e-4 (convective CFL 0.08):
    against n = 2048, dt = 2.5e-4 it differs by 3.9e-7 in relative L2 over the
    101 saved times (float64).
    """
    return Case(
        name="burgers-moving-front",
        description="Burgers u_t + u u_x = nu u_xx on [0, 2 pi), u0 = 1 + sin x, nu = 0.02: a front forms at t = 1 and moves right",
        pde={"name": "burgers", "params": {"nu": 0.02}},
        domain={"length": 2 * math.pi},
        grid={"n": 512},
        ic={"kind": "family", "name": "sine", "params": {"amplitude": 1.0, "wavenumber": 1.0, "mean": 1.0}},
        time={"t_end": 1.5, "dt": 5e-4, "save_dt": 0.015},
        solver={"method": "etdrk", "order": 4},
    )


def allen_cahn() -> Case:
    """u_t = 1e-4 u_xx + 5 u - 5 u^3 on the periodic [-1, 1), u0 = x^2 cos(pi x), t in [0, 1].

    The benchmark of Raissi et al. (2019), solved with ETDRK4 as Kassam &
    Trefethen (2005) solve Allen-Cahn. Defaults: n = 512 (within 5.3e-5 in
    relative L2 of n = 1024; the kink of u0's periodic extension at x = +-1
    limits spectral accuracy), dt = 5e-3 (time error ~1e-9), 201 snapshots.
    """
    return Case(
        name="allen-cahn",
        description="Allen-Cahn u_t = 1e-4 u_xx + 5 u - 5 u^3 on [-1, 1), u0 = x^2 cos(pi x) (Raissi et al. 2019)",
        pde={"name": "allen-cahn", "params": {"d": 1e-4, "k": 5.0}},
        domain={"length": 2.0, "origin": -1.0},
        grid={"n": 512},
        ic={"kind": "family", "name": "allen-cahn", "params": {"wavenumber": math.pi}},
        time={"t_end": 1.0, "dt": 5e-3, "save_dt": 5e-3},
        solver={"method": "etdrk", "order": 4},
    )


def fisher_kpp() -> Case:
    """Fisher-KPP on the periodic [0, 40): a Gaussian bump of height 0.5 grows to 1 and spreads as two fronts.

    D = 0.1, rho = 1 (front speed 2 sqrt(D rho) = 0.63), t in [0, 5], n = 128,
    ETDRK4 with dt = 0.01 (the reaction is mild: the time error is ~1e-9).
    """
    return Case(
        name="fisher-kpp",
        description="Fisher-KPP u_t = 0.1 u_xx + u (1 - u) on [0, 40), Gaussian start of height 0.5: growth and two fronts",
        pde={"name": "fisher-kpp", "params": {"D": 0.1, "rho": 1.0}},
        domain={"length": 40.0},
        grid={"n": 128},
        ic={"kind": "family", "name": "gaussian", "params": {"amplitude": 0.5, "centre": 20.0, "width": 2.0}},
        time={"t_end": 5.0, "dt": 0.01, "save_dt": 0.25},
        solver={"method": "etdrk", "order": 4},
    )
