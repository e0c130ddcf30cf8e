"""Diffusion (the heat equation) in 2D: ``u_t = D (u_xx + u_yy)``."""

from __future__ import annotations

from typing import ClassVar

from jaxtyping import Array, Float

from phys.pdes._base import AbstractPDE, Derivatives, Terms


class Diffusion(AbstractPDE):
    """``u_t = D (u_xx + u_yy)`` in 2D, diffusivity ``D``.

    Linear with constant coefficients, so everything is in :meth:`linear`.
    With zero Dirichlet values on ``[0, 1]^2`` the eigenmode
    ``sin(pi x) sin(pi y)`` decays as ``exp(-2 pi^2 D t)`` (the test of the 2D
    finite-difference scheme). The default ``D = 2`` is Phi-ROM's diffusion
    problem (Hosseini Dashtbayaz et al. 2025) on a 40 x 40 grid of unit spacing.
    """

    name: ClassVar[str] = "diffusion"

    D: Float[Array, ""] = 2.0
    """diffusivity"""

    fields: ClassVar[tuple[str, ...]] = ("u",)
    n_dims: ClassVar[int | None] = 2
    non_negative: ClassVar[tuple[str, ...]] = ("D",)

    def linear(self) -> dict[str, Terms]:
        return {"u": {(2, 0): self.D, (0, 2): self.D}}

    def nonlinear(self, d: Derivatives) -> dict[str, Terms]:
        return {"u": {}}
