"""Wall-bounded incompressible flows, solved by the staggered-grid projection scheme.

``grid.n`` counts cells; outputs are at cell centres.
"""

from __future__ import annotations

import math

from phys.case import Case


def lid_driven_cavity(re: float = 100.0) -> Case:
    """Lid-driven cavity on the unit square, lid speed 1 at y = 1, marched to a steady state; the grid follows ``re``.

    ``n = 32 ceil(2 (re / 100)^(1/4))`` cells per side: 64 at Re = 100, 96 at
    400, 128 at 1000 (the boundary layers along the lid and the walls thin as
    ``re`` grows); ``dt`` is 0.9 of the stable bound rounded down to a
    multiple of 0.001 (0.004 at Re = 100); ``t_end = 40 (re / 100)^0.6``,
    rounded up (the steady state arrives later at higher ``re``: near t = 19,
    42 and 79 at Re 100, 400, 1000). Started at rest. The state freezes, and
    the output stops, once ``max |du/dt| < 1e-6`` (averaged over a save
    interval of 1; float32 resolves it to about 2.4e-7). ``phys run
    lid-driven-cavity --set re=1000`` builds it for that ``re``. Compare with
    Ghia, Ghia & Shin (1982) on both centrelines (BENCHMARKS.md,
    bench/bench_cavity.py): within 1e-2 at Re = 100 and 400; at Re = 1000
    v is 1.24e-2 off, in the wall layer.
    """
    # A meaningless re is left for the schema to refuse, in its own words; the grid is then Re 100's.
    sized = re if math.isfinite(re) and re > 0 else 100.0
    n = 32 * math.ceil(2.0 * (sized / 100.0) ** 0.25)
    h = 1.0 / n
    # The SSP-RK3 bound of solvers.projection.stable_dt (which imports JAX; a case must not):
    # viscous 4 nu (2 / h^2) / 2.51 plus convective (lid speed 1) (2 / h) / 1.73.
    bound = 1.0 / ((4.0 / sized) * (2.0 / h**2) / 2.51 + (2.0 / h) / 1.73)
    dt = math.floor(900.0 * bound) / 1000.0 or 1.0 / math.ceil(1.0 / (0.9 * bound))
    t_end = float(math.ceil(40.0 * max(1.0, sized / 100.0) ** 0.6))
    return _cavity(
        "lid-driven-cavity",
        f"lid-driven cavity, unit square, lid speed 1, Re = {re:g}, marched to steady state (Ghia et al. 1982)",
        re, n, {"t_end": t_end, "dt": dt, "save_dt": 1.0}, 1e-6, "uniform",
    )  # fmt: skip


def _cavity(name: str, description: str, re: float, n: int, time: dict, steady_tol: float, profile: str) -> Case:
    return Case(
        name=name,
        description=description,
        pde={"name": "navier-stokes-vp", "params": {"re": re}},
        domain={"length": 1.0},
        grid={"n": n},
        boundary={"left": {"kind": "wall"}, "right": {"kind": "wall"}, "bottom": {"kind": "wall"},
                  "top": {"kind": "wall", "speed": 1.0, "profile": profile}},  # the lid
        ic={"kind": "family", "name": "uniform", "params": {"value": 0.0}},
        time=time,
        solver={"method": "projection", "steady_tol": steady_tol},
    )


def lid_driven_cavity_smooth(re: float = 100.0) -> Case:
    """The cavity with the regularised lid ``u = 16 x^2 (1 - x)^2`` (zero with its slope at the corners), to a steady state.

    The uniform lid's speed jumps from 1 to 0 at the two top corners, where
    the exact solution's velocity is discontinuous and its stress infinite;
    a PINN's residual cannot be small near them. With this lid the data are
    smooth, so hard boundary conditions hold with a smooth extension
    (``pinns.flow``); the PINN is scored against our solver on this same
    case, not against Ghia's (whose lid is uniform). Grid, ``dt`` and
    ``t_end`` as :func:`lid_driven_cavity` at the same ``re``.
    """
    uniform = lid_driven_cavity(re)
    return _cavity(
        "lid-driven-cavity-smooth",
        f"lid-driven cavity, unit square, regularised lid 16 x^2 (1 - x)^2, Re = {re:g}, marched to steady state",
        re, uniform.grid.n[0], uniform.time.model_dump(), 1e-6, "smooth",
    )  # fmt: skip


def lid_driven_cavity_start(re: float = 100.0) -> Case:
    """The regularised-lid cavity started from rest, over ``t`` in [0, 1] (the transient; saves every 0.1)."""
    uniform = lid_driven_cavity(re)
    return _cavity(
        "lid-driven-cavity-start",
        f"lid-driven cavity from rest, regularised lid 16 x^2 (1 - x)^2, Re = {re:g}, t in [0, 1]",
        re, uniform.grid.n[0], {"t_end": 1.0, "dt": uniform.time.dt, "save_dt": 0.1}, 0.0, "smooth",
    )  # fmt: skip


def channel() -> Case:
    """Plane Poiseuille flow: a 4 x 1 channel, parabolic inflow of mean speed 1, Re = U H / nu = 10.

    The exact steady solution is ``u = 6 y (1 - y)``, ``v = 0``,
    ``p = -12 x / re + const``. Started at rest; 64 x 16 cells, dt = 0.008
    (stable bound 0.0092).
    """
    return Case(
        name="channel",
        description="plane Poiseuille flow in a 4 x 1 channel, parabolic inflow of mean speed 1, Re = 10",
        pde={"name": "navier-stokes-vp", "params": {"re": 10.0}},
        domain={"length": (4.0, 1.0)},
        grid={"n": (64, 16)},
        boundary={"left": {"kind": "inflow", "speed": 1.0}, "right": {"kind": "outflow"}, "bottom": {"kind": "wall"}, "top": {"kind": "wall"}},
        ic={"kind": "family", "name": "uniform", "params": {"value": 0.0}},
        time={"t_end": 20.0, "dt": 0.008, "save_dt": 1.0},
        solver={"method": "projection", "steady_tol": 1e-6},
    )


# Schäfer & Turek (1996), "Benchmark computations of laminar flow around a cylinder", Notes Numer. Fluid
# Mech. 52:547-566: the channel [0, 2.2] x [0, 0.41], a cylinder of diameter 0.1 at (0.2, 0.2), nu = 1e-3,
# density 1, parabolic inflow of maximum U_max (mean 2/3 U_max); Re = U_mean D / nu. In our PDE the
# viscosity is 1 / re, so re = 1 / nu = 1000 in the benchmark's units.
_CYLINDER_PROBES = ((0.15, 0.2), (0.25, 0.2))  # front and back of the cylinder: delta p = p(front) - p(back)


def _cylinder(name: str, description: str, mean_speed: float, cells_per_diameter: int, dt: float, time: dict, steady_tol: float) -> Case:
    from phys.geometry import cylinder_channel

    h = 0.1 / cells_per_diameter
    return Case(
        name=name,
        description=description,
        pde={"name": "navier-stokes-vp", "params": {"re": 1000.0}},
        domain={"length": (2.2, 0.41)},
        grid={"n": (round(2.2 / h), round(0.41 / h))},
        boundary={"inlet": {"kind": "inflow", "speed": mean_speed}, "outlet": {"kind": "outflow"}, "walls": {"kind": "wall"}, "cylinder": {"kind": "wall"}},
        ic={"kind": "family", "name": "uniform", "params": {"value": 0.0}},
        time={"dt": dt, **time},
        solver={"method": "projection", "steady_tol": steady_tol, "probes": _CYLINDER_PROBES},
        geometry=cylinder_channel(),
    )


def cylinder() -> Case:
    """Schäfer & Turek 2D-1: steady flow past a cylinder in a channel, U_max = 0.3, Re = 20.

    440 x 82 cells (20 across the cylinder, h = 0.005), dt = 0.004 (stable
    bound 0.0051 for the inflow's maximum speed), started at rest, marched to
    a steady state (max |du/dt| < 2e-5 over a save interval of 0.5; the file
    stops there). Outputs the series ``drag_coefficient``,
    ``lift_coefficient`` (``2 F / (U_mean^2 D)``, U_mean = 0.2) and
    ``pressure_difference`` p(0.15, 0.2) - p(0.25, 0.2). Reference (featflow):
    c_D = 5.57953523384, c_L = 0.010618948146, delta p = 0.11752016697.
    """
    return _cylinder(
        "cylinder",
        "Schäfer-Turek 2D-1: steady flow past a cylinder in a channel, Re = 20 (c_D, c_L, delta p)",
        0.2, 20, 0.004, {"t_end": 40.0, "save_dt": 0.5}, 2e-5,
    )  # fmt: skip


def cylinder_unsteady() -> Case:
    """Schäfer & Turek 2D-2: periodic vortex shedding behind the cylinder, U_max = 1.5, Re = 100.

    440 x 82 cells (20 across the cylinder), dt = 0.001 (stable bound 0.0021
    at the inflow's maximum speed; the flow past the cylinder is faster),
    started at rest, t_end = 12 with a save every 0.02 (some 16 per shedding
    period), so that the series ``lift_coefficient`` gives the Strouhal number
    ``St = D / (U_mean T)``. Reference intervals: c_D,max in [3.22, 3.24],
    c_L,max in [0.99, 1.01], St in [0.295, 0.305].
    """
    return _cylinder(
        "cylinder-unsteady",
        "Schäfer-Turek 2D-2: vortex shedding behind a cylinder in a channel, Re = 100 (c_D, c_L, St)",
        1.0, 20, 0.001, {"t_end": 12.0, "save_dt": 0.02}, 0.0,
    )  # fmt: skip
