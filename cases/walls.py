"""Wall-bounded incompressible flows, solved by the staggered-grid projection scheme.

``grid.n`` counts cells; outputs are at cell centres.
"""

from __future__ import annotations

from phys.case import Case


def lid_driven_cavity() -> Case:
    """Lid-driven cavity on the unit square, lid speed 1 at y = 1, Re = 100, marched to a steady state.

    64 x 64 cells, dt = 0.004 (stable bound 0.0049 at Re = 100), started at
    rest. The state freezes once ``max |du/dt| < 1e-6`` (averaged over a save
    interval of 1; float32 resolves it to about 2.4e-7); ``t_end = 40`` is
    ample, and the last snapshot is the steady state.
    Compare with Ghia, Ghia & Shin (1982).
    """
    return Case(
        name="lid-driven-cavity",
        description="lid-driven cavity, unit square, lid speed 1, Re = 100, marched to steady state (Ghia et al. 1982)",
        pde={"name": "navier-stokes-vp", "params": {"re": 100.0}},
        domain={"length": 1.0},
        grid={"n": 64},
        bcs=[{"kind": "wall"}, {"kind": "wall", "lower": 0.0, "upper": 1.0}],
        ic={"kind": "family", "name": "uniform", "params": {"value": 0.0}},
        time={"t_end": 40.0, "dt": 0.004, "save_dt": 1.0},
        solver={"method": "projection", "steady_tol": 1e-6},
    )


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
        bcs=[{"kind": "inflow-outflow", "lower": 1.0}, {"kind": "wall"}],
        ic={"kind": "family", "name": "uniform", "params": {"value": 0.0}},
        time={"t_end": 20.0, "dt": 0.008, "save_dt": 1.0},
        solver={"method": "projection", "steady_tol": 1e-6},
    )
