"""Kuramoto-Sivashinsky: ``u_t + c u u_x + a u_xx + b u_xxxx = 0``."""

from __future__ import annotations

from typing import ClassVar

from jaxtyping import Array, Float

from phys.pdes._base import AbstractPDE, Derivatives, Terms


class KuramotoSivashinsky(AbstractPDE):
    """``u_t + c u u_x + a u_xx + b u_xxxx = 0`` on a periodic interval.

    Defaults ``a = b = c = 1`` give the classic form; on ``[0, 32 pi)`` with
    ``u0 = cos(x/16)(1 + sin(x/16))`` it is the test case of Kassam &
    Trefethen (2005). The convective term is written in conservation form,
    ``c u u_x = (c u^2 / 2)_x``, so the mean of ``u`` is conserved exactly.
    """

    name: ClassVar[str] = "kuramoto-sivashinsky"

    a: Float[Array, ""] = 1.0
    """coefficient of u_xx (negative diffusion drives the instability)"""
    b: Float[Array, ""] = 1.0
    """coefficient of u_xxxx (hyperdiffusion)"""
    c: Float[Array, ""] = 1.0
    """coefficient of the convective term u u_x"""

    fields: ClassVar[tuple[str, ...]] = ("u",)
    n_dims: ClassVar[int | None] = 1

    def linear(self) -> dict[str, Terms]:
        return {"u": {(2,): -self.a, (4,): -self.b}}

    def nonlinear(self, d: Derivatives) -> dict[str, Terms]:
        u = d("u")
        return {"u": {(1,): -0.5 * self.c * u * u}}
