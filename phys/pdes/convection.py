"""Linear convection (advection): ``u_t + beta u_x = 0``."""

from __future__ import annotations

from typing import ClassVar

import jax.numpy as jnp
from jaxtyping import Array, Float

from phys.pdes._base import AbstractPDE, Derivatives, Terms


class Convection(AbstractPDE):
    """``u_t + beta u_x = 0`` in 1D: the profile moves right at speed ``beta``.

    Exact solution ``u(x, t) = u0(x - beta t)``. All of it is linear, so a
    spectral ETDRK step is exact up to rounding for any ``dt``. With
    ``u0 = sin x`` on ``[0, 2 pi)`` and ``beta = 30`` it is the failure mode of
    plain PINNs shown by Krishnapriyan et al. (2021).
    """

    name: ClassVar[str] = "convection"

    beta: Float[Array, ""] = 1.0
    """convection speed"""

    fields: ClassVar[tuple[str, ...]] = ("u",)
    n_dims: ClassVar[int | None] = 1

    def linear(self) -> dict[str, Terms]:
        return {"u": {(1,): -self.beta}}

    def nonlinear(self, d: Derivatives) -> dict[str, Terms]:
        return {"u": {}}

    def advection_velocity(self, d: Derivatives) -> tuple[Array]:
        """The constant speed ``beta``: characteristics are ``x = x0 + beta t``."""
        return (jnp.broadcast_to(self.beta, jnp.shape(d("u"))),)
