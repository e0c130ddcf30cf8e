"""Inviscid Burgers with a space-dependent source: ``u_t + (u^2 / 2)_x = a exp(mu x)``."""

from __future__ import annotations

from typing import ClassVar

import jax.numpy as jnp
from jaxtyping import Array, Float

from phys.pdes._base import AbstractPDE, Derivatives, Terms


class BurgersForced(AbstractPDE):
    """``u_t + (u^2 / 2)_x = a exp(mu x)`` in 1D: inviscid Burgers forced by a source growing along x.

    The parametric Burgers problem of Lee & Carlberg (2020, J. Comput. Phys.
    404, sec. 6.1) from which Phi-ROM's Burgers data come: on ``[0, 100]`` with
    the inflow ``u(0, t) = 4.25`` a shock runs right into ``u ~ 1`` while the
    source steepens both sides. Written in conservation form (flux ``u^2 / 2``)
    with the source as a term of its own, so a finite-volume scheme reads the
    flux at cell faces and the source at cell centres. There is no diffusion:
    a grid solver needs a shock-capturing (finite-volume) scheme, which is
    this PDE's default.
    """

    name: ClassVar[str] = "burgers-forced"
    default_scheme: ClassVar[str | None] = "finite-volume"

    mu: Float[Array, ""] = 0.02
    """growth rate of the source along x (Lee & Carlberg's mu_2; Phi-ROM varies it in [0.015, 0.03])"""
    a: Float[Array, ""] = 0.02
    """amplitude of the source a exp(mu x)"""

    fields: ClassVar[tuple[str, ...]] = ("u",)
    n_dims: ClassVar[int | None] = 1

    def linear(self) -> dict[str, Terms]:
        return {"u": {}}

    def nonlinear(self, d: Derivatives) -> dict[str, Terms]:
        u = d("u")
        (x,) = d.coordinates
        return {"u": {(1,): -0.5 * u * u, (): self.a * jnp.exp(self.mu * x)}}

    def advection_velocity(self, d: Derivatives) -> tuple[Array]:
        """``u`` itself, the characteristic speed ``f'(u)`` of the flux ``u^2 / 2``."""
        return (d("u"),)
