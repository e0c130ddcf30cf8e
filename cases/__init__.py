"""Ready-made cases, one file per family, registered by name.

``REGISTRY[name]()`` builds a fresh, validated :class:`phys.case.Case`.
Importing this package does not import JAX.
"""

from __future__ import annotations

from typing import Callable

from phys.case import Case

from cases.ks import ks, ks_random
from cases.one_d import allen_cahn, burgers, burgers_moving_front, convection, convection_diffusion, fisher_kpp
from cases.ns import ns_decaying, ns_kolmogorov, ns_taylor_green
from cases.ode import lorenz, lotka_volterra
from cases.rom import burgers_forced, diffusion_2d
from cases.walls import channel, cylinder, cylinder_unsteady, lid_driven_cavity, lid_driven_cavity_smooth, lid_driven_cavity_start

__all__ = ["REGISTRY", "get"]

REGISTRY: dict[str, Callable[[], Case]] = {
    "ks": ks,
    "ks-random": ks_random,
    "burgers": burgers,
    "burgers-moving-front": burgers_moving_front,
    "convection": convection,
    "convection-diffusion": convection_diffusion,
    "allen-cahn": allen_cahn,
    "fisher-kpp": fisher_kpp,
    "ns-taylor-green": ns_taylor_green,
    "ns-kolmogorov": ns_kolmogorov,
    "ns-decaying": ns_decaying,
    "lid-driven-cavity": lid_driven_cavity,
    "lid-driven-cavity-smooth": lid_driven_cavity_smooth,
    "lid-driven-cavity-start": lid_driven_cavity_start,
    "channel": channel,
    "cylinder": cylinder,
    "cylinder-unsteady": cylinder_unsteady,
    "lorenz": lorenz,
    "lotka-volterra": lotka_volterra,
    "burgers-forced": burgers_forced,
    "diffusion-2d": diffusion_2d,
}


def get(name: str) -> Case:
    return REGISTRY[name]()
