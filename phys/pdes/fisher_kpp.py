"""Fisher-KPP: ``u_t = D u_xx + rho u (1 - u)``."""

from __future__ import annotations

from typing import ClassVar

from jaxtyping import Array, Float

from phys.pdes._base import AbstractPDE, Derivatives, Terms


class FisherKPP(AbstractPDE):
    """``u_t = D u_xx + rho u (1 - u)`` in 1D: logistic growth that spreads by diffusion (Fisher 1937; KPP 1937).

    From a localised start the state saturates at ``u = 1`` and invades ``u = 0``
    as two fronts moving at the minimal speed ``2 sqrt(D rho)``. The diffusion is
    the stiff linear part; the reaction, linear growth included, is a source, so
    that ``rho = 0`` leaves exactly the heat equation (the known part when the
    reaction is the term to discover).
    """

    name: ClassVar[str] = "fisher-kpp"

    D: Float[Array, ""] = 0.1
    """diffusivity"""
    rho: Float[Array, ""] = 1.0
    """growth rate of the logistic reaction"""

    fields: ClassVar[tuple[str, ...]] = ("u",)
    n_dims: ClassVar[int | None] = 1
    non_negative: ClassVar[tuple[str, ...]] = ("D",)

    def linear(self) -> dict[str, Terms]:
        return {"u": {(2,): self.D}}

    def nonlinear(self, d: Derivatives) -> dict[str, Terms]:
        u = d("u")
        return {"u": {(): self.rho * u * (1.0 - u)}}
