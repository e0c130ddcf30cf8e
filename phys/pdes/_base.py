"""The contract every PDE file fulfils: its physics, written once.

A PDE states ``d/dt field = L field + N(fields)`` where

- ``L`` (:meth:`AbstractPDE.linear`) is the stiff, linear, constant-coefficient
  part, a polynomial in the derivative operators: ``{alpha: c_alpha}`` means
  ``sum_alpha c_alpha D^alpha``, with ``alpha`` a multi-index of derivative
  orders per axis (``(2,)`` is d^2/dx^2, ``(1, 1)`` is d^2/dxdy). A spectral
  solver turns it into a Fourier symbol; a PINN applies it by autodiff.
- ``N`` (:meth:`AbstractPDE.nonlinear`) is the rest, in flux form
  ``sum_alpha D^alpha F_alpha`` (``alpha = ()`` for a source term). The fluxes
  ``F_alpha`` are pointwise functions of the fields and their derivatives,
  which the caller supplies through a :class:`Derivatives` callable: spectral
  differentiation on a grid, or autodiff of a network at points. Writing the
  outer derivative symbolically lets a spectral solver take it in Fourier
  space (one FFT per flux) and a PINN take it by autodiff. A flux key may
  also be an :data:`Operator`, ``((c_1, alpha_1), (c_2, alpha_2), ...)``,
  meaning ``sum_j c_j D^alpha_j`` applied to one flux (for example
  ``(d_xx - d_yy) F``): a spectral solver then transforms ``F`` once.
  Evaluators expand either kind of key with :func:`operator_terms`.

Parameters are array leaves, so ``jax.grad`` and ``vmap`` reach them without
recompiling.
"""

from __future__ import annotations

import abc
from typing import ClassVar, Mapping, Protocol

import equinox as eqx
from jaxtyping import Array

MultiIndex = tuple[int, ...]
Terms = dict[MultiIndex, Array]
# sum_j c_j D^alpha_j with constant (host) coefficients c_j: a flux key.
Operator = tuple[tuple[float, MultiIndex], ...]


def operator_terms(key: MultiIndex | Operator) -> Operator:
    """A flux key as ``((coefficient, alpha), ...)``: a multi-index ``alpha`` is ``((1.0, alpha),)``."""
    if all(isinstance(item, int) for item in key):
        return ((1.0, tuple(key)),)  # a multi-index, () included
    return tuple((float(c), tuple(alpha)) for c, alpha in key)


class Derivatives(Protocol):
    """What a PDE may ask of the caller about the state, pointwise.

    - ``d(field, alpha)``: the field (``alpha = ()``) or its derivative ``D^alpha``.
    - ``d(field, alpha, laplacian_power=p)``: ``D^alpha lap^p field``. Negative
      powers are the inverse Laplacian with zero mean (``lap^-1`` of the mean
      mode is taken as 0), which a vorticity-streamfunction form needs; only
      evaluators with a global view of the field offer them (the spectral
      grid does; autodiff at points raises ``NotImplementedError``).
    - ``d.coordinates``: the point coordinates, one array per axis shaped like
      the fields, for explicitly space-dependent terms (a body force).

    Callers that evaluate PDEs which need neither extension may implement only
    ``d(field, alpha)``.
    """

    coordinates: tuple[Array, ...]

    def __call__(self, field: str, alpha: MultiIndex = (), *, laplacian_power: int = 0) -> Array: ...


class AbstractPDE(eqx.Module):
    """A PDE ``d/dt u = L u + N(u)``; see the module docstring."""

    fields: ClassVar[tuple[str, ...]]
    n_dims: ClassVar[int | None]

    @abc.abstractmethod
    def linear(self) -> dict[str, Terms]:
        """Per field, the constant coefficients of its stiff linear operator."""

    @abc.abstractmethod
    def nonlinear(self, d: Derivatives) -> dict[str, Terms]:
        """Per field, the fluxes ``F_alpha`` whose derivatives ``D^alpha`` sum to N."""

    # Output fields and their tensor order (0 scalar, 1 vector, 2 tensor);
    # ``None`` means the state fields themselves, all scalars.
    output_orders: ClassVar[Mapping[str, int] | None] = None

    def outputs(self, d: Derivatives) -> dict[str, Array]:
        """What a solve saves, from the state: by default the state fields.

        A PDE solved in one form and reported in another (vorticity solved,
        velocity saved too) overrides this and :attr:`output_orders`; vectors
        put their components on a last axis.
        """
        return {field: d(field) for field in self.fields}

    # Optional: a PDE that transports its fields defines
    # ``advection_velocity(self, d) -> tuple[Array, ...]``, the pointwise velocity
    # (one component per axis) that carries them. A grid solver then bounds its
    # step by a CFL number, ``dt * max_x sum_i |a_i| / dx_i`` (``solver.cfl``);
    # the registry's ``advection_velocity`` flag says the class has it.
    advection_velocity = None

    @classmethod
    def output_tensor_orders(cls) -> dict[str, int]:
        return dict(cls.output_orders) if cls.output_orders is not None else {f: 0 for f in cls.fields}
