"""Viscous Burgers: ``u_t + u u_x = nu u_xx``."""

from __future__ import annotations

from typing import ClassVar

from jaxtyping import Array, Float

from phys.pdes._base import AbstractPDE, Derivatives, Terms


class Burgers(AbstractPDE):
    """``u_t + u u_x = nu u_xx`` in 1D, viscosity ``nu``.

    The convective term is written in conservation form,
    ``u u_x = (u^2 / 2)_x``: a flux-form solver then conserves the integral of
    ``u`` up to boundary fluxes. With ``u0 = -sin(pi x)`` on ``[-1, 1]``,
    ``u(+-1) = 0`` and ``nu = 0.01 / pi`` it is the benchmark of Raissi et al.
    (2019), whose exact solution follows from the Cole-Hopf transform
    (Basdevant et al. 1986).
    """

    name: ClassVar[str] = "burgers"

    nu: Float[Array, ""] = 0.01 / 3.141592653589793
    """viscosity; 0.01/pi is the PINN benchmark"""

    fields: ClassVar[tuple[str, ...]] = ("u",)
    n_dims: ClassVar[int | None] = 1
    non_negative: ClassVar[tuple[str, ...]] = ("nu",)

    def linear(self) -> dict[str, Terms]:
        return {"u": {(2,): self.nu}}

    def nonlinear(self, d: Derivatives) -> dict[str, Terms]:
        u = d("u")
        return {"u": {(1,): -0.5 * u * u}}

    def advection_velocity(self, d: Derivatives) -> tuple[Array]:
        """``u`` itself: the field carries itself."""
        return (d("u"),)
