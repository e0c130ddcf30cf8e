"""Kuramoto-Sivashinsky cases."""

from __future__ import annotations

import math

from phys.case import Case


def ks() -> Case:
    """The Kassam & Trefethen (2005) KS run: [0, 32 pi), n = 128, ETDRK4, dt = 1/4, t <= 150."""
    return Case(
        name="ks",
        description="Kuramoto-Sivashinsky, Kassam & Trefethen (2005): u0 = cos(x/16)(1 + sin(x/16)) on [0, 32 pi)",
        pde={"name": "kuramoto-sivashinsky"},
        domain={"length": 32 * math.pi},
        grid={"n": 128},
        ic={"kind": "family", "name": "kassam-trefethen", "params": {"scale": 16.0}},
        time={"t_end": 150.0, "dt": 0.25, "save_dt": 1.0},
        solver={"order": 4},
    )


def ks_random() -> Case:
    """Chaotic KS on a domain of length 22 from a smooth random start drawn from the seed."""
    return Case(
        name="ks-random",
        description="Kuramoto-Sivashinsky, length 22 (chaotic), smooth random start from the seed",
        pde={"name": "kuramoto-sivashinsky"},
        domain={"length": 22.0},
        grid={"n": 64},
        ic={"kind": "family", "name": "random-fourier", "params": {"amplitude": 1.0, "max_mode": 3}},
        time={"t_end": 200.0, "dt": 0.05, "save_dt": 0.5},
        solver={"order": 4},
    )
