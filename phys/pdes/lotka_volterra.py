"""Lotka-Volterra predator-prey system: two coupled ODEs, no space."""

from __future__ import annotations

from typing import ClassVar

from jaxtyping import Array, Float

from phys.pdes._base import AbstractPDE, Derivatives, Terms


class LotkaVolterra(AbstractPDE):
    """``prey' = alpha prey - beta prey predator``, ``predator' = delta prey predator - gamma predator``.

    Defaults ``alpha = 1.3``, ``beta = 0.9``, ``gamma = 0.8``, ``delta = 1.8``.
    Orbits are closed: ``V = delta prey - gamma ln(prey) + beta predator -
    alpha ln(predator)`` is conserved. Growth and death rates are the linear
    part; the encounter terms are sources (multi-index ``()``).
    """

    name: ClassVar[str] = "lotka-volterra"

    alpha: Float[Array, ""] = 1.3
    """prey growth rate"""
    beta: Float[Array, ""] = 0.9
    """predation rate"""
    gamma: Float[Array, ""] = 0.8
    """predator death rate"""
    delta: Float[Array, ""] = 1.8
    """predator growth per prey eaten"""

    fields: ClassVar[tuple[str, ...]] = ("prey", "predator")
    n_dims: ClassVar[int | None] = 0

    def linear(self) -> dict[str, Terms]:
        return {"prey": {(): self.alpha}, "predator": {(): -self.gamma}}

    def nonlinear(self, d: Derivatives) -> dict[str, Terms]:
        encounters = d("prey") * d("predator")
        return {"prey": {(): -self.beta * encounters}, "predator": {(): self.delta * encounters}}
