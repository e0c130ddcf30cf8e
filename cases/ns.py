"""Incompressible Navier-Stokes cases on the periodic box [0, 2 pi)^2 (vorticity form, spectral ETDRK4).

Sizes and steps are chosen so that each runs in seconds on a CPU; raise ``n``
and lower ``nu`` and ``dt`` with ``--set`` for turbulence studies.
"""

from __future__ import annotations

import math

from phys.case import Case

_BOX = {"length": 2 * math.pi}


def ns_taylor_green() -> Case:
    """Taylor-Green vortex u = sin x cos y, v = -cos x sin y; exact decay exp(-2 nu t)."""
    return Case(
        name="ns-taylor-green",
        description="2D Taylor-Green vortex, u = sin x cos y, v = -cos x sin y on [0, 2 pi)^2; "
        "the exact solution decays as exp(-2 nu t) with its shape kept",
        pde={"name": "navier-stokes-2d", "params": {"nu": 0.01}},
        domain=_BOX,
        grid={"n": 32},
        ic={"kind": "family", "name": "taylor-green-vorticity", "params": {"amplitude": 1.0, "wavenumber": 1.0}},
        time={"t_end": 10.0, "dt": 0.05, "save_dt": 0.5},
        solver={"order": 4},
    )


def ns_kolmogorov() -> Case:
    """Kolmogorov flow: force f_x = sin(4 y), drag 0.1, nu = 0.01, from a small seeded random start."""
    return Case(
        name="ns-kolmogorov",
        description="2D Kolmogorov flow on [0, 2 pi)^2: body force f_x = sin(4 y), linear drag 0.1, "
        "nu = 0.01, seeded random vorticity start (rms velocity 0.1, peak wavenumber 4)",
        pde={
            "name": "navier-stokes-2d",
            "params": {"nu": 0.01, "drag": 0.1, "forcing_amplitude": 1.0, "forcing_wavenumber": 4.0},
        },
        domain=_BOX,
        grid={"n": 64},
        ic={"kind": "family", "name": "random-vorticity", "params": {"peak_wavenumber": 4.0, "velocity_rms": 0.1}},
        time={"t_end": 20.0, "dt": 0.01, "save_dt": 0.5},
        solver={"order": 4},
    )


def ns_decaying() -> Case:
    """Decaying 2D turbulence from a seeded random field peaked at wavenumber 4, nu = 2e-3."""
    return Case(
        name="ns-decaying",
        description="decaying 2D turbulence on [0, 2 pi)^2: seeded random vorticity with energy spectrum "
        "~ k^4 exp(-2 (k/4)^2), rms velocity 1, nu = 2e-3, no forcing",
        pde={"name": "navier-stokes-2d", "params": {"nu": 2e-3}},
        domain=_BOX,
        grid={"n": 64},
        ic={"kind": "family", "name": "random-vorticity", "params": {"peak_wavenumber": 4.0, "velocity_rms": 1.0}},
        time={"t_end": 10.0, "dt": 0.01, "save_dt": 0.5},
        solver={"order": 4},
    )
