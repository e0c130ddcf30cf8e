"""Incompressible Navier-Stokes in 2D, in its two forms.

Velocity-pressure form (:class:`IncompressibleNavierStokes2D`, for PINNs and
wall-bounded solvers), nondimensionalised by a velocity ``U`` and a length
``L`` so that the kinematic viscosity is ``1/re``::

    u_t + (u u)_x + (u v)_y + p_x = (u_xx + u_yy) / re
    v_t + (u v)_x + (v v)_y + p_y = (v_xx + v_yy) / re
    u_x + v_y = 0

The convective term is in flux (divergence) form, ``((u.grad) u)_i =
div(u u_i)`` when ``div u = 0``. The pressure is not a prognostic field: it is
the Lagrange multiplier of incompressibility, so :meth:`linear` and
:meth:`nonlinear` hold only the viscous and convective terms, and whoever
solves the equation supplies ``-grad p`` (a projection step, or the pressure
output of a PINN). :meth:`IncompressibleNavierStokes2D.residuals` gives the
full pointwise residuals, pressure and continuity included.

Vorticity form (:class:`NavierStokes2D`, for the periodic spectral solver),
with ``w = v_x - u_y``, streamfunction ``psi`` (``lap psi = -w``,
``u = psi_y``, ``v = -psi_x``), linear drag ``mu`` (parameter ``drag``) and the Kolmogorov body
force ``f = (A sin(k y), 0)``::

    w_t + (u w)_x + (v w)_y = nu lap w - mu w - A k cos(k y)

Taking the curl of the velocity-pressure form (with ``nu = 1/re``, plus the
drag ``-mu u`` and the force ``f``) gives this equation, and the pressure drops
out. A test (``tests/solvers/test_navier_stokes.py``) checks that the spectral
solution of the vorticity form makes the velocity-pressure residuals small.
"""

from __future__ import annotations

from typing import ClassVar, Mapping

import jax.numpy as jnp
from jaxtyping import Array, Float

from phys.pdes._base import AbstractPDE, Derivatives, Terms

__all__ = ["IncompressibleNavierStokes2D", "NavierStokes2D"]

# The flux key of d_xx - d_yy (an Operator, see phys.pdes._base).
_XX_MINUS_YY = ((1.0, (2, 0)), (-1.0, (0, 2)))


class IncompressibleNavierStokes2D(AbstractPDE):
    """``u_t + div(u u) + grad p = lap u / re``, ``div u = 0``: incompressible NS, velocity-pressure form (2D).

    See the module docstring.

    Fields ``u``, ``v`` (velocity components along x and y). ``linear`` is the
    viscous term ``lap / re``; ``nonlinear`` the convective term in flux form.
    Neither contains the pressure gradient (see the module docstring).
    """

    name: ClassVar[str] = "navier-stokes-vp"

    re: Float[Array, ""] = 100.0
    """Reynolds number U L / nu (kinematic viscosity is 1/re)"""

    fields: ClassVar[tuple[str, ...]] = ("u", "v")
    n_dims: ClassVar[int | None] = 2
    # The pressure is the Lagrange multiplier of incompressibility: solved for by a
    # projection, an extra output of a PINN.
    auxiliary_fields: ClassVar[tuple[str, ...]] = ("p",)
    output_orders: ClassVar[Mapping[str, int] | None] = {"velocity": 1, "pressure": 0}
    positive: ClassVar[tuple[str, ...]] = ("re",)
    default_scheme: ClassVar[str | None] = "projection"

    def outputs(self, d: Derivatives) -> dict[str, Array]:
        """What a solve saves: the ``velocity`` (vector ``(u, v)``) and the ``pressure`` (the auxiliary ``p``).

        The projection solver computes the pressure from its state; a PINN's
        prediction holds it as a column, and maps its columns to these names
        through this method (:func:`pinns.metrics.output_components`).
        """
        return {"velocity": jnp.stack([d("u"), d("v")], axis=-1), "pressure": d("p")}

    def linear(self) -> dict[str, Terms]:
        viscosity = 1.0 / self.re
        return {"u": {(2, 0): viscosity, (0, 2): viscosity}, "v": {(2, 0): viscosity, (0, 2): viscosity}}

    def nonlinear(self, d: Derivatives) -> dict[str, Terms]:
        u, v = d("u"), d("v")
        uv = u * v
        return {"u": {(1, 0): -u * u, (0, 1): -uv}, "v": {(1, 0): -uv, (0, 1): -v * v}}

    def residuals(self, d: Derivatives, time_derivatives: Mapping[str, Array]) -> dict[str, Array]:
        """Pointwise residuals of the full equations; zero for an exact solution.

        ``d`` supplies ``u``, ``v``, ``p`` and their first and second spatial
        derivatives (spectral on a grid, autodiff at points);
        ``time_derivatives`` holds ``u_t`` and ``v_t`` under the keys ``"u"``,
        ``"v"``. Returns ``{"u": x-momentum, "v": y-momentum, "continuity":
        u_x + v_y}``. The flux-form convection of :meth:`nonlinear` is expanded
        by the product rule, ``(u u)_x + (u v)_y = 2 u u_x + v u_y + u v_y`` (and alike
        for ``v``),
        so that only derivatives of the fields are needed.
        """
        viscosity = 1.0 / self.re
        u, v = d("u"), d("v")
        u_x, u_y, v_x, v_y = d("u", (1, 0)), d("u", (0, 1)), d("v", (1, 0)), d("v", (0, 1))
        convection_u = 2 * u * u_x + v * u_y + u * v_y
        convection_v = v * u_x + u * v_x + 2 * v * v_y
        laplacian_u = d("u", (2, 0)) + d("u", (0, 2))
        laplacian_v = d("v", (2, 0)) + d("v", (0, 2))
        return {
            "u": time_derivatives["u"] + convection_u + d("p", (1, 0)) - viscosity * laplacian_u,
            "v": time_derivatives["v"] + convection_v + d("p", (0, 1)) - viscosity * laplacian_v,
            "continuity": u_x + v_y,
        }


class NavierStokes2D(AbstractPDE):
    """``w_t + div(u w) = nu lap w - drag w - A k cos(k y)``: incompressible NS, vorticity form, periodic (2D).

    See the module docstring.

    ``w_t + (u w)_x + (v w)_y = nu lap w - drag w - A k cos(k y)``, with the
    velocity from the streamfunction (``lap psi = -w``, ``u = psi_y``,
    ``v = -psi_x``, zero-mean) and the Kolmogorov force ``f_x = A sin(k y)``
    (``A`` = ``forcing_amplitude``, ``k`` = ``forcing_wavenumber``, angular;
    the force is periodic when ``k`` is a whole multiple of ``2 pi / L_y``).
    Needs a caller that offers the inverse Laplacian and the coordinates
    (:class:`phys.pdes._base.Derivatives`): the spectral grid does.

    The nonlinear part is evaluated in Basdevant's (1983) form, an identity
    for divergence-free 2D flows::

        (u w)_x + (v w)_y = (v^2 - u^2)_xy + (d_xx - d_yy)(u v)

    which needs only ``u`` and ``v`` on the grid and two fluxes: a spectral
    solver does 2 inverse and 2 forward FFTs per evaluation (the advective
    form ``u w_x + v w_y`` needs 4 + 1). The force's curl, ``-(f_x)_y =
    -A k cos(k y)``, joins the second flux as ``-(d_xx - d_yy) h`` with
    ``h = (A / k) cos(k y)``, so it costs no transform of its own.

    Outputs: ``vorticity`` (scalar) and ``velocity`` (vector ``(u, v)`` on a
    last axis). Defaults: ``nu = 1e-3``, no drag, no forcing (``k = 4`` when
    the amplitude is set), the common Kolmogorov set-up on ``[0, 2 pi)^2``.
    """

    name: ClassVar[str] = "navier-stokes-2d"

    nu: Float[Array, ""] = 1e-3
    """kinematic viscosity"""
    drag: Float[Array, ""] = 0.0
    """linear (Rayleigh) drag coefficient"""
    forcing_amplitude: Float[Array, ""] = 0.0
    """amplitude A of the body force f_x = A sin(k y)"""
    forcing_wavenumber: Float[Array, ""] = 4.0
    """angular wavenumber k of the body force"""

    fields: ClassVar[tuple[str, ...]] = ("vorticity",)
    n_dims: ClassVar[int | None] = 2
    output_orders: ClassVar[Mapping[str, int] | None] = {"vorticity": 0, "velocity": 1}
    non_negative: ClassVar[tuple[str, ...]] = ("nu", "drag")

    def linear(self) -> dict[str, Terms]:
        return {"vorticity": {(2, 0): self.nu, (0, 2): self.nu, (0, 0): -self.drag}}

    def velocity(self, d: Derivatives) -> tuple[Array, Array]:
        """``(u, v) = (psi_y, -psi_x)`` with ``psi = -lap^-1 w``."""
        u = -d("vorticity", (0, 1), laplacian_power=-1)
        v = d("vorticity", (1, 0), laplacian_power=-1)
        return u, v

    def advection_velocity(self, d: Derivatives) -> tuple[Array, Array]:
        """The velocity that carries the vorticity, for a CFL-limited step: ``(u, v)``."""
        return self.velocity(d)

    def body_force(self, d: Derivatives) -> Array:
        """``f_x = A sin(k y)``, the Kolmogorov force on the momentum equation."""
        return self.forcing_amplitude * jnp.sin(self.forcing_wavenumber * d.coordinates[1])

    def nonlinear(self, d: Derivatives) -> dict[str, Terms]:
        u, v = self.velocity(d)
        k = self.forcing_wavenumber
        # h = (A/k) cos(k y); k = 0 means f_x = A sin(0) = 0, so h = 0 (double
        # where: no NaN in the gradient with respect to k either).
        safe_k = jnp.where(k == 0, 1.0, k)
        h = jnp.where(k == 0, 0.0, self.forcing_amplitude / safe_k * jnp.cos(safe_k * d.coordinates[1]))
        return {"vorticity": {(1, 1): u * u - v * v, _XX_MINUS_YY: -(u * v + h)}}

    def outputs(self, d: Derivatives) -> dict[str, Array]:
        u, v = self.velocity(d)
        return {"vorticity": d("vorticity"), "velocity": jnp.stack([u, v], axis=-1)}
