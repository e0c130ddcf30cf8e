"""Lorenz (1963) system: three coupled ODEs, no space."""

from __future__ import annotations

from typing import ClassVar

from jaxtyping import Array, Float

from phys.pdes._base import AbstractPDE, Derivatives, Terms


class Lorenz(AbstractPDE):
    """``x' = sigma (y - x)``, ``y' = x (rho - z) - y``, ``z' = x y - beta z``.

    Defaults ``sigma = 10``, ``rho = 28``, ``beta = 8/3`` are Lorenz's (1963)
    chaotic values. With no space, every term is a source (multi-index
    ``()``): the diagonal damping ``-sigma x``, ``-y``, ``-beta z`` is the
    linear part, the coupling and the products are the rest.
    """

    name: ClassVar[str] = "lorenz"

    sigma: Float[Array, ""] = 10.0
    """Prandtl number"""
    rho: Float[Array, ""] = 28.0
    """Rayleigh number (scaled); chaotic above 24.74"""
    beta: Float[Array, ""] = 8.0 / 3.0
    """aspect-ratio factor of the convection cell"""

    fields: ClassVar[tuple[str, ...]] = ("x", "y", "z")
    n_dims: ClassVar[int | None] = 0

    def linear(self) -> dict[str, Terms]:
        return {"x": {(): -self.sigma}, "y": {(): -1.0}, "z": {(): -self.beta}}

    def nonlinear(self, d: Derivatives) -> dict[str, Terms]:
        x, y, z = d("x"), d("y"), d("z")
        return {"x": {(): self.sigma * y}, "y": {(): x * (self.rho - z)}, "z": {(): x * y}}
