"""The reduced-order-model benchmarks of Phi-ROM (Hosseini Dashtbayaz et al. 2025): forced Burgers, 2D diffusion.

``burgers-forced`` is Lee & Carlberg (2020)'s parametric Burgers problem as
Phi-ROM's data script sets it up (first-order upwind finite volumes, forward
Euler, dt = 0.07, 200 steps from a developed front); ``diffusion-2d`` is
Phi-ROM's heat equation on a 40 x 40 interior grid of unit spacing with zero
Dirichlet values and random Gaussian starts.
"""

from __future__ import annotations

import functools
from typing import Any

from phys.case import Case

__all__ = ["burgers_forced", "burgers_forced_start", "diffusion_2d", "SPIN_UP_TIME"]

# How long the front runs from u = 1 before the case starts: it then stands at
# x = 11.6, from 4.25 (4.30 just behind it) down to 1.11 ahead of it
# (tests/solvers/test_finite_volume.py measures it). Phi-ROM's start is quoted as
# about 1.08 near x = 11.5; a source acting for ~4.3 time units on u = 1 gives ~1.1.
SPIN_UP_TIME = 4.34  # 62 steps of 0.07
_INFLOW = 4.25


def burgers_forced_start(
    coords: Any,
    lengths: tuple[float, ...],
    key: Any,
    *,
    inflow: float = _INFLOW,
    start: float = 1.0,
    spin_up: float = SPIN_UP_TIME,
    dt: float = 0.07,
    mu: float = 0.02,
    a: float = 0.02,
) -> Any:
    """The developed front of forced Burgers: the finite-volume solve from u = start for a time spin_up.

    Runs the ``burgers-forced`` scheme itself (first-order upwind finite
    volumes, forward Euler, on the grid of ``coords``, cell centres) from the
    uniform state ``start`` with the inflow ``u(0) = inflow`` for ``spin_up``
    (a whole number of steps ``dt``), source ``a exp(mu x)``, and returns the
    last state. With the defaults the front stands at x = 11.6, from 4.25
    (rising with x behind it) down to 1.11 ahead of it: the developed front
    of Lee & Carlberg (2020)'s problem that Phi-ROM starts from (quoted as
    about 1.08 near x = 11.5). The start does
    not follow a swept ``mu`` of the case: every trajectory of a sweep starts
    from this one state, as Phi-ROM's data do.

    Parameters:
        inflow: u at the left end during the spin-up (4.25)
        start: the uniform state the spin-up starts from (1)
        spin_up: how long the spin-up runs (a whole number of steps dt)
        dt: the spin-up's step
        mu: growth rate of the source during the spin-up
        a: amplitude of the source during the spin-up
    """
    import jax.numpy as jnp
    import numpy as np

    x = np.asarray(coords[0], dtype=np.float64)
    h = float(x[1] - x[0])
    dtype = str(jnp.asarray(coords[0]).dtype)
    u = _spun_up(x.size, h * x.size, float(x[0]) - 0.5 * h, inflow, start, spin_up, dt, mu, a, dtype)
    return jnp.asarray(u, dtype)


@functools.lru_cache(maxsize=16)
def _spun_up(n: int, length: float, origin: float, inflow: float, start: float, spin_up: float, dt: float, mu: float, a: float, dtype: str) -> Any:
    """The spin-up's last state (host array), computed once per grid and setting: every scheme_for(case) asks for it."""
    import numpy as np

    import solvers

    case = _burgers_forced_case(
        n=n,
        length=length,
        origin=origin,
        ic={"kind": "family", "name": "uniform", "params": {"value": start}},
        time={"t_end": spin_up, "dt": dt, "save_dt": spin_up},
        params={"mu": mu, "a": a},
        inflow=inflow,
        dtype=dtype,
    )
    u = np.asarray(solvers.simulation(case)()["u"][-1])
    u.setflags(write=False)
    return u


def _burgers_forced_case(*, n: int, length: float, origin: float, ic: dict, time: dict, params: dict, inflow: float, dtype: str = "float32") -> Case:
    return Case(
        name="burgers-forced",
        description="Forced Burgers u_t + (u^2/2)_x = 0.02 exp(mu x) on [0, 100], inflow u(0) = 4.25 (Lee & Carlberg 2020; Phi-ROM)",
        pde={"name": "burgers-forced", "params": params},
        domain={"length": length, "origin": origin},
        grid={"n": n},
        bcs={"kind": "inflow-outflow", "lower": inflow, "upper": 0.0},
        ic=ic,
        time=time,
        solver={"method": "finite-volume", "flux": "upwind", "reconstruction": "constant", "order": 1},
        dtype=dtype,
    )


def burgers_forced() -> Case:
    """Forced Burgers on [0, 100], 256 cells, inflow u(0) = 4.25, mu = 0.02, dt = 0.07, 200 steps (t_end = 14).

    Lee & Carlberg (2020)'s parametric problem with Phi-ROM's settings:
    first-order upwind finite volumes and forward Euler (SSP-RK1), as in
    Phi-ROM's data script; ``--sweep mu=...`` varies the source's growth rate
    (Phi-ROM: 8 values in [0.015, 0.03] for training). The start is the
    developed front of :func:`burgers_forced_start` (a spin-up of 4.34, 62 steps, from
    u = 1 by the same scheme, with mu = 0.02). CFL number dt max u / h: 0.77 at
    the start, 0.83 at t = 14 (the source raises u behind the front); the
    scheme refuses dt above h / max u0 = 0.0908.
    """
    return _burgers_forced_case(
        n=256,
        length=100.0,
        origin=0.0,
        ic={"kind": "family", "name": "cases.rom:burgers_forced_start", "params": {}},
        time={"t_end": 14.0, "dt": 0.07, "save_dt": 0.07},
        params={"mu": 0.02, "a": 0.02},
        inflow=_INFLOW,
    )


def diffusion_2d() -> Case:
    """u_t = D lap u, D = 2, on a 40 x 40 interior grid of unit spacing, zero Dirichlet, dt = 0.1, t in [0, 20].

    Phi-ROM's diffusion problem: nodes x, y = -20.5, -19.5, ..., 20.5 (42 per
    axis, the outer ones the zero boundary), a random Gaussian start from the
    case seed (``phys run diffusion-2d --batch 200`` gives an ensemble of
    200, as in the paper). Second-order finite differences, IMEX order 3 (the
    implicit diffusion sets no step limit; Phi-ROM's explicit Euler needs
    dt <= 0.125 here).
    """
    return Case(
        name="diffusion-2d",
        description="Diffusion u_t = 2 lap u on a 40 x 40 interior grid, zero Dirichlet, random Gaussian starts (Phi-ROM)",
        pde={"name": "diffusion", "params": {"D": 2.0}},
        domain={"length": 41.0, "origin": -20.5},
        grid={"n": 42},
        bcs={"kind": "dirichlet", "lower": 0.0, "upper": 0.0},
        ic={"kind": "family", "name": "random-gaussian", "params": {}},
        time={"t_end": 20.0, "dt": 0.1, "save_dt": 0.1},
        solver={"method": "finite-difference", "order": 3},
    )
