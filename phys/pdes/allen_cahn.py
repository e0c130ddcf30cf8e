"""Allen-Cahn: ``u_t = d u_xx + k (u - u^3)``."""

from __future__ import annotations

from typing import ClassVar

from jaxtyping import Array, Float

from phys.pdes._base import AbstractPDE, Derivatives, Terms


class AllenCahn(AbstractPDE):
    """``u_t = d u_xx + k (u - u^3)`` in 1D (diffusivity ``d``, reaction rate ``k``).

    Defaults ``d = 1e-4``, ``k = 5`` are the PINN benchmark of Raissi et al.
    (2019) with ``u0 = x^2 cos(pi x)`` on the periodic ``[-1, 1)``. As in
    Kassam & Trefethen (2005, section 5) only the diffusion is the stiff
    linear part; the whole reaction ``k (u - u^3)`` is a source (``alpha =
    ()``). ``u = +-1`` are stable states and ``u = 0`` is unstable, so the
    solution settles into plateaus at +-1 joined by thin interfaces of width
    about ``sqrt(2 d / k)``.
    """

    name: ClassVar[str] = "allen-cahn"

    d: Float[Array, ""] = 1e-4
    """diffusivity"""
    k: Float[Array, ""] = 5.0
    """reaction rate"""

    fields: ClassVar[tuple[str, ...]] = ("u",)
    n_dims: ClassVar[int | None] = 1
    non_negative: ClassVar[tuple[str, ...]] = ("d",)

    def linear(self) -> dict[str, Terms]:
        return {"u": {(2,): self.d}}

    def nonlinear(self, d: Derivatives) -> dict[str, Terms]:
        u = d("u")
        return {"u": {(): self.k * (u - u * u * u)}}
