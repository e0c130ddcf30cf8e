"""Names of the built-in PDEs and initial-condition families, without JAX.

The case schema must validate a case (unknown PDE, unknown parameter) before
JAX is imported, so that bad input fails fast and prints one line. This table
holds what validation needs: each PDE's parameters with their defaults, its
field names and dimension, and where its class lives. The class itself, in
``phys/pdes/<name>.py``, declares the same parameters as array fields; a test
(``tests/phys/test_registry.py``) checks that the two agree and that every PDE
file is registered here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping


@dataclass(frozen=True)
class Parameter:
    """A physical parameter: default value and meaning."""

    default: float
    doc: str


@dataclass(frozen=True)
class Signature:
    """What the schema knows of a PDE or IC family without importing it."""

    name: str
    target: str  # "module:attribute"
    summary: str
    parameters: Mapping[str, Parameter] = field(default_factory=dict)
    fields: tuple[str, ...] = ()
    n_dims: int | None = None  # None: any dimension
    solver: str = "etdrk"  # the scheme a case gets when it names none (``phys.case.SOLVERS``)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))

    def defaults(self) -> dict[str, float]:
        return {k: p.default for k, p in self.parameters.items()}

    def load(self) -> Any:
        module, _, attribute = self.target.partition(":")
        return getattr(importlib.import_module(module), attribute)


PDES: Mapping[str, Signature] = MappingProxyType(
    {
        "kuramoto-sivashinsky": Signature(
            name="kuramoto-sivashinsky",
            target="phys.pdes.kuramoto_sivashinsky:KuramotoSivashinsky",
            summary="u_t + c u u_x + a u_xx + b u_xxxx = 0 (periodic, 1D)",
            parameters={
                "a": Parameter(1.0, "coefficient of u_xx (negative diffusion drives the instability)"),
                "b": Parameter(1.0, "coefficient of u_xxxx (hyperdiffusion)"),
                "c": Parameter(1.0, "coefficient of the convective term u u_x"),
            },
            fields=("u",),
            n_dims=1,
        ),
    }
)

IC_FAMILIES: Mapping[str, Signature] = MappingProxyType(
    {
        "kassam-trefethen": Signature(
            name="kassam-trefethen",
            target="phys.initial:kassam_trefethen",
            summary="u0 = cos(x/scale) (1 + sin(x/scale)), the KS start of Kassam & Trefethen (2005)",
            parameters={"scale": Parameter(16.0, "length scale; 16 on [0, 32 pi)")},
            n_dims=1,
        ),
        "sine": Signature(
            name="sine",
            target="phys.initial:sine",
            summary="u0 = amplitude sin(wavenumber x + phase) along the first axis",
            parameters={
                "amplitude": Parameter(1.0, "peak value"),
                "wavenumber": Parameter(1.0, "angular wavenumber (rad per unit length)"),
                "phase": Parameter(0.0, "phase shift (rad)"),
            },
        ),
        "random-fourier": Signature(
            name="random-fourier",
            target="phys.initial:random_fourier",
            summary="smooth random field: Fourier modes 1..max_mode with random "
            "amplitudes and phases from the case seed, zero mean, max |u0| = amplitude",
            parameters={
                "amplitude": Parameter(1.0, "max |u0| after normalisation"),
                "max_mode": Parameter(5.0, "highest Fourier mode (integer >= 1)"),
            },
        ),
    }
)
