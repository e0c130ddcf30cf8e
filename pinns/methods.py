"""The training methods ``phys train --method`` offers, found through entry points (no JAX here).

A method is registered in the entry point group ``physax.methods`` by a
:class:`MethodSpec`; a plug-in package registers its own the same way, in its
``pyproject.toml``::

    [project.entry-points."physax.methods"]
    mine = "my_package.methods:MINE"

and ``phys train CASE --method mine`` then offers it, with no line of
``phys`` or ``pinns`` changed. The spec is light (importing it imports no
JAX): a summary, the class of the method's own settings (or ``None``), a
``check`` run before anything is computed, and ``build(config)``, which
imports what it needs and returns the :class:`pinns.method.AbstractMethod`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Callable

from phys.case import Case, CaseError
from pinns.config import Causal, Lagrangian

if TYPE_CHECKING:
    from pinns.config import TrainConfig

__all__ = ["MethodSpec", "GROUP", "registered", "method_spec", "PINN", "CAUSAL", "LAGRANGIAN"]

GROUP = "physax.methods"


def _no_check(case: Case, config: TrainConfig) -> None:
    return None


@dataclass(frozen=True)
class MethodSpec:
    """A training method as registered: what the command line needs before JAX is imported."""

    name: str
    summary: str
    build: Callable[[TrainConfig], Any]  # -> pinns.method.AbstractMethod
    settings: type | None = None  # the method's own settings dataclass (TrainConfig.method_settings)
    check: Callable[[Case, TrainConfig], None] = _no_check  # raise CaseError if it cannot train the case


def registered() -> dict[str, MethodSpec]:
    """Every method registered in ``physax.methods``, by name (the entry point's name)."""
    specs = {}
    for entry in entry_points(group=GROUP):
        spec = entry.load()
        if not isinstance(spec, MethodSpec) or spec.name != entry.name:
            raise CaseError("method", f"entry point '{entry.name}' ({entry.value}) is not a MethodSpec named '{entry.name}'")
        specs[entry.name] = spec
    return specs


def method_spec(name: str) -> MethodSpec:
    """The registered method ``name``; a one-line :class:`CaseError` listing the others if there is none."""
    for entry in entry_points(group=GROUP):
        if entry.name == name:
            spec = entry.load()
            if not isinstance(spec, MethodSpec) or spec.name != name:
                raise CaseError("method", f"entry point '{name}' ({entry.value}) is not a MethodSpec named '{name}'")
            return spec
    names = sorted(entry.name for entry in entry_points(group=GROUP))
    raise CaseError("method", f"must be one of {', '.join(names)}, got {name!r}")


# -- the built-in methods ------------------------------------------------------------


def _build_pinn(config: TrainConfig) -> Any:
    from pinns.method import EulerianPINN
    from pinns.reducers import Mean

    return EulerianPINN.from_config(config, Mean())


def _build_causal(config: TrainConfig) -> Any:
    from pinns.method import EulerianPINN
    from pinns.reducers import CausalWeighting

    return EulerianPINN.from_config(config, CausalWeighting.from_settings(config.method_settings))


def _build_lagrangian(config: TrainConfig) -> Any:
    from pinns.lagrangian import LagrangianPINN

    return LagrangianPINN.from_config(config)


def _check_lagrangian(case: Case, config: TrainConfig) -> None:
    from phys._registry import PDES

    if not case.pde.signature.advection_velocity:
        able = ", ".join(name for name, s in PDES.items() if s.advection_velocity and s.n_dims == 1)
        raise CaseError("method", f"lagrangian needs a PDE with a transport velocity (advection_velocity); '{case.pde.name}' has none; these have: {able}")
    if case.n_dims != 1:
        raise CaseError("method", f"lagrangian is implemented for one space axis; '{case.name}' has {case.n_dims}")
    if any(bc.kind != "periodic" for bc in case.bcs):
        raise CaseError("method", "lagrangian needs a periodic domain (the characteristics' positions are wrapped into the period)")
    if config.sampling.data_file:
        raise CaseError("data_file", "lagrangian has no data term yet (observations are Eulerian)")
    if config.marching.windows != 1:
        raise CaseError("windows", "lagrangian trains one window (its characteristics start at x0 at the initial time)")


PINN = MethodSpec(
    "pinn",
    "plain PINN: residual, initial, boundary and data terms, residual averaged over the points",
    _build_pinn,
)
CAUSAL = MethodSpec(
    "causal",
    "causal training (Wang, Sankaran & Perdikaris 2022; patented, research use only): time chunks weighted by exp(-eps sum of earlier losses)",
    _build_causal,
    settings=Causal,
)
LAGRANGIAN = MethodSpec(
    "lagrangian",
    "Lagrangian PINN (Mojgani, Balajewicz & Hassanzadeh 2022): characteristics X(x0, t) and the state carried along them",
    _build_lagrangian,
    settings=Lagrangian,
    check=_check_lagrangian,
)
