"""Cases without space: ODE systems solved through diffrax (scheme ``ode``)."""

from __future__ import annotations

from phys.case import Case


def lorenz() -> Case:
    """Lorenz (1963) at sigma = 10, rho = 28, beta = 8/3 from (1, 1, 1), t <= 20, saved every 0.01."""
    return Case(
        name="lorenz",
        description="Lorenz (1963) system, sigma = 10, rho = 28, beta = 8/3, from (1, 1, 1): the butterfly",
        pde={"name": "lorenz"},
        ic={"kind": "array", "values": [1.0, 1.0, 1.0]},
        time={"t_end": 20.0, "dt": 0.01, "save_dt": 0.01},
        # float64: the default tolerances are below what float32 resolves.
        dtype="float64",
    )


def lotka_volterra() -> Case:
    """Lotka-Volterra predator-prey cycles from (prey, predator) = (0.44, 4.6), t <= 20, saved every 0.05."""
    return Case(
        name="lotka-volterra",
        description="Lotka-Volterra predator-prey, alpha 1.3, beta 0.9, gamma 0.8, delta 1.8, from (0.44, 4.6)",
        pde={"name": "lotka-volterra"},
        ic={"kind": "array", "values": [0.44, 4.6]},
        time={"t_end": 20.0, "dt": 0.05, "save_dt": 0.05},
        dtype="float64",
    )
