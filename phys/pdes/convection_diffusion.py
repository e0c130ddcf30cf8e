"""Convection-diffusion: ``u_t + c u_x = nu u_xx``."""

from __future__ import annotations

from typing import ClassVar

import jax.numpy as jnp
from jaxtyping import Array, Float

from phys.pdes._base import AbstractPDE, Derivatives, Terms


class ConvectionDiffusion(AbstractPDE):
    """``u_t + c u_x = nu u_xx`` in 1D (speed ``c``, diffusivity ``nu``).

    Linear with constant coefficients, so everything is in :meth:`linear`.
    Exact solutions used by the tests: on a periodic interval
    ``u = exp(-nu k^2 t) sin(k (x - c t))``; on ``[0, L]`` with Dirichlet
    values, ``A + B exp(c x / nu)`` (steady) plus
    ``exp(c x / (2 nu) - (c^2 / (4 nu) + nu k^2) t) sin(k x)`` with ``k L / pi``
    a whole number.
    """

    name: ClassVar[str] = "convection-diffusion"

    c: Float[Array, ""] = 1.0
    """convection speed"""
    nu: Float[Array, ""] = 0.05
    """diffusivity"""

    fields: ClassVar[tuple[str, ...]] = ("u",)
    n_dims: ClassVar[int | None] = 1
    non_negative: ClassVar[tuple[str, ...]] = ("nu",)

    def linear(self) -> dict[str, Terms]:
        return {"u": {(1,): -self.c, (2,): self.nu}}

    def nonlinear(self, d: Derivatives) -> dict[str, Terms]:
        return {"u": {}}

    def advection_velocity(self, d: Derivatives) -> tuple[Array]:
        """The constant speed ``c``; along ``x = x0 + c t`` only the diffusion remains."""
        return (jnp.broadcast_to(self.c, jnp.shape(d("u"))),)
