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
    # The class defines ``advection_velocity(d)``, so a case may ask for a CFL-adaptive step (``solver.cfl``).
    advection_velocity: bool = False

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
        "convection": Signature(
            name="convection",
            target="phys.pdes.convection:Convection",
            summary="u_t + beta u_x = 0 (1D)",
            parameters={"beta": Parameter(1.0, "convection speed")},
            fields=("u",),
            n_dims=1,
        ),
        "convection-diffusion": Signature(
            name="convection-diffusion",
            target="phys.pdes.convection_diffusion:ConvectionDiffusion",
            summary="u_t + c u_x = nu u_xx (1D)",
            parameters={
                "c": Parameter(1.0, "convection speed"),
                "nu": Parameter(0.05, "diffusivity"),
            },
            fields=("u",),
            n_dims=1,
        ),
        "burgers": Signature(
            name="burgers",
            target="phys.pdes.burgers:Burgers",
            summary="u_t + u u_x = nu u_xx (1D, convection in flux form (u^2/2)_x)",
            parameters={"nu": Parameter(0.01 / 3.141592653589793, "viscosity; 0.01/pi is the PINN benchmark")},
            fields=("u",),
            n_dims=1,
        ),
        "allen-cahn": Signature(
            name="allen-cahn",
            target="phys.pdes.allen_cahn:AllenCahn",
            summary="u_t = d u_xx + k (u - u^3) (1D)",
            parameters={
                "d": Parameter(1e-4, "diffusivity"),
                "k": Parameter(5.0, "reaction rate"),
            },
            fields=("u",),
            n_dims=1,
        ),
        "navier-stokes-vp": Signature(
            name="navier-stokes-vp",
            target="phys.pdes.navier_stokes:IncompressibleNavierStokes2D",
            summary="incompressible NS, velocity-pressure form: u_t + div(u u) + grad p = lap u / re, "
            "div u = 0 (2D; pressure from the solver's projection)",
            parameters={"re": Parameter(100.0, "Reynolds number U L / nu (kinematic viscosity is 1/re)")},
            fields=("u", "v"),
            n_dims=2,
            solver="projection",
        ),
        "navier-stokes-2d": Signature(
            name="navier-stokes-2d",
            target="phys.pdes.navier_stokes:NavierStokes2D",
            summary="incompressible NS, vorticity form: w_t + div(u w) = nu lap w - drag w - A k cos(k y) "
            "(periodic 2D; Kolmogorov force f_x = A sin(k y))",
            parameters={
                "nu": Parameter(1e-3, "kinematic viscosity"),
                "drag": Parameter(0.0, "linear (Rayleigh) drag coefficient"),
                "forcing_amplitude": Parameter(0.0, "amplitude A of the body force f_x = A sin(k y)"),
                "forcing_wavenumber": Parameter(4.0, "angular wavenumber k of the body force"),
            },
            fields=("vorticity",),
            n_dims=2,
            advection_velocity=True,
        ),
        "lorenz": Signature(
            name="lorenz",
            target="phys.pdes.lorenz:Lorenz",
            summary="x' = sigma (y - x), y' = x (rho - z) - y, z' = x y - beta z (ODE, no space)",
            parameters={
                "sigma": Parameter(10.0, "Prandtl number"),
                "rho": Parameter(28.0, "Rayleigh number (scaled); chaotic above 24.74"),
                "beta": Parameter(8.0 / 3.0, "aspect-ratio factor of the convection cell"),
            },
            fields=("x", "y", "z"),
            n_dims=0,
            solver="ode",
        ),
        "lotka-volterra": Signature(
            name="lotka-volterra",
            target="phys.pdes.lotka_volterra:LotkaVolterra",
            summary="prey' = alpha prey - beta prey predator, predator' = delta prey predator - gamma predator (ODE)",
            parameters={
                "alpha": Parameter(1.3, "prey growth rate"),
                "beta": Parameter(0.9, "predation rate"),
                "gamma": Parameter(0.8, "predator death rate"),
                "delta": Parameter(1.8, "predator growth per prey eaten"),
            },
            fields=("prey", "predator"),
            n_dims=0,
            solver="ode",
        ),
    }
)

IC_FAMILIES: Mapping[str, Signature] = MappingProxyType(
    {
        "allen-cahn": Signature(
            name="allen-cahn",
            target="phys.initial:allen_cahn",
            summary="u0 = x^2 cos(wavenumber x) along the first axis (x^2 cos(pi x) on [-1, 1): "
            "the Allen-Cahn start of Raissi et al. 2019)",
            parameters={"wavenumber": Parameter(3.141592653589793, "angular wavenumber of the cosine")},
            n_dims=1,
        ),
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
        "uniform": Signature(
            name="uniform",
            target="phys.initial:uniform",
            summary="u0 = value everywhere, every field (value 0: a fluid at rest)",
            parameters={"value": Parameter(0.0, "the constant value")},
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
        "taylor-green-vorticity": Signature(
            name="taylor-green-vorticity",
            target="phys.initial:taylor_green_vorticity",
            summary="w0 = 2 A k sin(k x) sin(k y), the vorticity of the Taylor-Green vortex "
            "u = A sin(k x) cos(k y), v = -A cos(k x) sin(k y)",
            parameters={
                "amplitude": Parameter(1.0, "peak velocity A"),
                "wavenumber": Parameter(1.0, "angular wavenumber k (1 on [0, 2 pi)^2)"),
            },
            n_dims=2,
        ),
        "random-vorticity": Signature(
            name="random-vorticity",
            target="phys.initial:random_vorticity",
            summary="random vorticity from the case seed: filtered white noise with energy spectrum "
            "E(k) ~ k^4 exp(-2 (k/k_peak)^2), zero mean, scaled to a given rms velocity",
            parameters={
                "peak_wavenumber": Parameter(4.0, "angular wavenumber k_peak where E(k) peaks"),
                "velocity_rms": Parameter(1.0, "root mean square of |u| after scaling"),
            },
            n_dims=2,
        ),
    }
)
