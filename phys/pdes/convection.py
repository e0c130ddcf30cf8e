"""Linear convection (advection): ``u_t + beta u_x = 0``."""

from __future__ import annotations

from typing import ClassVar

from jaxtyping import Array, Float

from phys.pdes._base import AbstractPDE, Derivatives, Terms


class Convection(AbstractPDE):
    """``u_t + beta u_x = 0`` in 1D: the profile moves right at speed ``beta``.

    Exact solution ``u(x, t) = u0(x - beta t)``. All of it is linear, so a
    spectral ETDRK step is exact up to rounding for any ``dt``. With
    ``u0 = sin x`` on ``[0, 2 pi)`` and ``beta = 30`` it is the failure mode of
    plain PINNs shown by Krishnapriyan et al. (2021).
    """

    beta: Float[Array, ""]

    fields: ClassVar[tuple[str, ...]] = ("u",)
    n_dims: ClassVar[int | None] = 1

    def linear(self) -> dict[str, Terms]:
        return {"u": {(1,): -self.beta}}

    def nonlinear(self, d: Derivatives) -> dict[str, Terms]:
        return {"u": {}}
