"""The contract every PDE fulfils, built in or a user's: its physics, written once.

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

A PDE is an equinox Module. Its fields are its physical parameters, each a
scalar array with a default on the class and a docstring under it::

    class KortewegDeVries(phys.AbstractPDE):
        \"\"\"u_t + 6 u u_x + delta u_xxx = 0\"\"\"

        delta: Float[Array, ""] = 1.0
        \"\"\"dispersion coefficient\"\"\"

        fields = ("u",)
        n_dims = 1

        def linear(self):
            return {"u": {(3,): -self.delta}}

        def nonlinear(self, d):
            return {"u": {(1,): -3.0 * d("u") ** 2}}

Defaults given as numbers become arrays when the PDE is built, so ``jax.grad``
and ``vmap`` reach every parameter without recompiling. The optional
capabilities (:meth:`AbstractPDE.advection_velocity`,
:meth:`AbstractPDE.residuals`, :meth:`AbstractPDE.outputs`) are methods here
with defaults; :meth:`AbstractPDE.has_advection_velocity` and
:meth:`AbstractPDE.has_residual_form` say whether a class overrides them.
:func:`check_pde_class` checks a class against this contract and names what
is wrong in one line.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any, ClassVar, Mapping, Protocol

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array

__all__ = ["AbstractPDE", "Derivatives", "MultiIndex", "Operator", "Terms", "PDEContractError", "check_pde_class", "operator_terms"]

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
    - ``d.coordinates``: the point coordinates, one array per axis, for
      explicitly space-dependent terms (a body force). Each is broadcastable
      to the fields' shape, not necessarily of it: the spectral grid gives
      axis ``i`` as ``n_i`` along itself and 1 elsewhere, so write terms with
      broadcasting (``jnp.zeros_like(u) + f(y)`` where a full field is needed).

    Callers that evaluate PDEs which need neither extension may implement only
    ``d(field, alpha)``.
    """

    coordinates: tuple[Array, ...]

    def __call__(self, field: str, alpha: MultiIndex = (), *, laplacian_power: int = 0) -> Array: ...


def _to_array(value: Any) -> Array:
    # A parameter given as a number becomes a (weakly typed) array; the case
    # casts it to its dtype when it builds the PDE.
    return value if isinstance(value, jax.Array) else jnp.asarray(value)


def _looks_like_array(annotation: Any) -> bool:
    """``Float[Array, ""]``, ``Array``, ``float``...: an annotation a scalar parameter may carry."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", repr(annotation))
    text = text.removeprefix("jaxtyping.").removeprefix("jax.")
    return text in ("Array", "float", "int") or re.match(r"^(Float|Real|Inexact|Shaped|Num)\[", text) is not None


# Class attributes of the contract, never parameters.
_CONTRACT_ATTRIBUTES = frozenset(
    {"fields", "n_dims", "name", "default_scheme", "output_orders", "auxiliary_fields", "positive", "non_negative"}
)


class AbstractPDE(eqx.Module):
    """A PDE ``d/dt u = L u + N(u)``; see the module docstring.

    Class attributes: ``fields`` (the state fields' names), ``n_dims`` (number
    of space axes; 0 for an ODE system, ``None`` for any), optionally
    ``name`` (the registered name of a built-in PDE), ``default_scheme`` (the
    scheme a case gets when it names none: by default ``ode`` without space,
    else ``etdrk`` on periodic axes and ``finite-difference`` on bounded ones),
    ``output_orders`` and ``auxiliary_fields`` (see :meth:`outputs` and
    :meth:`residuals`).
    """

    fields: ClassVar[tuple[str, ...]]
    n_dims: ClassVar[int | None]
    name: ClassVar[str | None] = None
    default_scheme: ClassVar[str | None] = None
    # Output fields and their tensor order (0 scalar, 1 vector, 2 tensor);
    # ``None`` means the state fields themselves, all scalars.
    output_orders: ClassVar[Mapping[str, int] | None] = None
    # Outputs a PINN's network gives besides the state fields (a pressure),
    # read by :meth:`residuals`.
    auxiliary_fields: ClassVar[tuple[str, ...]] = ()
    # Parameters a case may not set to zero or below (``positive``) or below zero
    # (``non_negative``: viscosities, diffusivities): refused when the case is validated.
    positive: ClassVar[tuple[str, ...]] = ()
    non_negative: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Every annotated field is a parameter: give it the array converter,
        # keeping its default (equinox builds the dataclass after this hook).
        annotations = cls.__dict__.get("__annotations__", {})
        for attribute in list(annotations):
            if attribute in _CONTRACT_ATTRIBUTES:
                # ``fields: tuple[str, ...] = ("u",)`` written without ClassVar
                # stays a class attribute, not a dataclass field.
                del annotations[attribute]
                continue
            default = cls.__dict__.get(attribute, dataclasses.MISSING)
            if isinstance(default, dataclasses.Field) or not _looks_like_array(annotations[attribute]):
                continue  # left for check_pde_class to name, rather than failing in the converter
            if default is dataclasses.MISSING:
                setattr(cls, attribute, eqx.field(converter=_to_array))
            else:
                setattr(cls, attribute, eqx.field(default=default, converter=_to_array))

    def linear(self) -> dict[str, Terms]:
        """Per field, the constant coefficients of its stiff linear operator."""
        raise NotImplementedError(f"{type(self).__name__} must define linear()")

    def nonlinear(self, d: Derivatives) -> dict[str, Terms]:
        """Per field, the fluxes ``F_alpha`` whose derivatives ``D^alpha`` sum to N."""
        raise NotImplementedError(f"{type(self).__name__} must define nonlinear(d)")

    def outputs(self, d: Derivatives) -> dict[str, Array]:
        """What a solve saves, from the state: by default the state fields.

        A PDE solved in one form and reported in another (vorticity solved,
        velocity saved too) overrides this and :attr:`output_orders`; vectors
        put their components on a last axis.
        """
        return {field: d(field) for field in self.fields}

    def advection_velocity(self, d: Derivatives) -> tuple[Array, ...] | None:
        """The pointwise velocity (one component per axis) that transports the fields, or ``None``.

        A grid solver bounds its step by a CFL number with it
        (``dt * max_x sum_i |a_i| / dx_i``, ``solver.cfl``); a Lagrangian PINN
        follows its characteristics ``dX/dt = a``, and takes the rest of the
        right-hand side, ``L u + N(u) + a . grad u``, along them.
        """
        return None

    def residuals(self, d: Derivatives, time_derivatives: Mapping[str, Array]) -> dict[str, Array] | None:
        """The full pointwise residuals, for PDEs not all of the form ``u_t = L u + N(u)``; else ``None``.

        ``d`` supplies the state fields, the :attr:`auxiliary_fields` and
        their derivatives; ``time_derivatives`` the state fields' ``d/dt``.
        Incompressible Navier-Stokes (a pressure, a divergence constraint)
        overrides this; a PINN then uses these equations instead of forming
        ``u_t - L u - N(u)`` itself.
        """
        return None

    @classmethod
    def output_tensor_orders(cls) -> dict[str, int]:
        return dict(cls.output_orders) if cls.output_orders is not None else {f: 0 for f in cls.fields}

    @classmethod
    def has_advection_velocity(cls) -> bool:
        return cls.advection_velocity is not AbstractPDE.advection_velocity

    @classmethod
    def has_residual_form(cls) -> bool:
        return cls.residuals is not AbstractPDE.residuals

    @classmethod
    def parameter_defaults(cls) -> dict[str, float]:
        """Each parameter's default, by name, in declaration order."""
        return {f.name: float(f.default) for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}


class PDEContractError(ValueError):
    """A PDE class that breaks :class:`AbstractPDE`'s contract; ``str`` is one line naming the class."""


def _is_multi_index(key: Any, n_dims: int | None) -> bool:
    if not (isinstance(key, tuple) and all(isinstance(a, int) and not isinstance(a, bool) and a >= 0 for a in key)):
        return False
    return n_dims is None or len(key) <= max(n_dims, 0)


def _is_flux_key(key: Any, n_dims: int | None) -> bool:
    if _is_multi_index(key, n_dims):
        return True
    return (
        isinstance(key, tuple)
        and len(key) > 0
        and all(isinstance(item, tuple) and len(item) == 2 and _is_multi_index(item[1], n_dims) for item in key)
    )


class _Probe:
    """A :class:`Derivatives` that answers zeros for the fields a PDE may read, and names a wrong one."""

    def __init__(self, cls: type, readable: tuple[str, ...], n_dims: int):
        self._cls, self._readable = cls, readable
        self.coordinates = tuple(jnp.zeros(()) for _ in range(n_dims))

    def __call__(self, field: str, alpha: MultiIndex = (), *, laplacian_power: int = 0) -> Array:
        if field not in self._readable:
            raise PDEContractError(
                f"{self._cls.__name__}: asks d for field '{field}', which is not one of fields {self._readable}"
            )
        return jnp.zeros(())


def _shape_of(result: Any) -> Any:
    """``{field: {key: None}}`` of a PDE method's result (the keys are what the contract checks)."""
    if not isinstance(result, dict):
        return result
    return {field: ({key: None for key in terms} if isinstance(terms, dict) else terms) for field, terms in result.items()}


def _check_terms(cls: type, method: str, result: Any, fields: tuple[str, ...], n_dims: int | None, flux: bool) -> None:
    name = cls.__name__
    if not isinstance(result, dict):
        raise PDEContractError(f"{name}: {method} must return a dict {{field: {{multi-index: coefficient}}}}, got {type(result).__name__}")
    for field, terms in result.items():
        if field not in fields:
            raise PDEContractError(f"{name}: {method} returns a term for '{field}', which is not one of fields {fields}")
        if not isinstance(terms, dict):
            raise PDEContractError(f"{name}: {method}['{field}'] must be a dict {{multi-index: coefficient}}, got {type(terms).__name__}")
        valid = _is_flux_key if flux else _is_multi_index
        for key in terms:
            if not valid(key, n_dims):
                axes = "" if n_dims is None else f" of at most {n_dims} non-negative ints"
                raise PDEContractError(
                    f"{name}: {method}['{field}'] has key {key!r}, which is not a multi-index (a tuple{axes}, e.g. (2,) for d^2/dx^2)"
                )


def check_pde_class(cls: Any) -> None:
    """Raise :class:`PDEContractError` (one line, naming the class) unless ``cls`` fulfils the PDE contract.

    Checks the class attributes (``fields``, ``n_dims``), that every field is
    a scalar array parameter with a numeric default, and, on an instance
    with the defaults, what :meth:`~AbstractPDE.linear` and
    :meth:`~AbstractPDE.nonlinear` return (traced abstractly: no work).
    """
    if not (isinstance(cls, type) and issubclass(cls, AbstractPDE)):
        raise PDEContractError(f"{getattr(cls, '__name__', cls)!s}: is not a subclass of phys.AbstractPDE")
    name = cls.__name__
    fields = getattr(cls, "fields", None)
    if fields is None:
        raise PDEContractError(f"{name}: class attribute 'fields' is missing (the state fields' names, e.g. fields = ('u',))")
    if not (isinstance(fields, tuple) and fields and all(isinstance(f, str) and f for f in fields)) or len(set(fields)) != len(fields):
        raise PDEContractError(f"{name}: 'fields' must be a tuple of distinct names, e.g. ('u',); got {fields!r}")
    if not hasattr(cls, "n_dims"):
        raise PDEContractError(f"{name}: class attribute 'n_dims' is missing (number of space axes, 0 for an ODE system)")
    n_dims = cls.n_dims
    if n_dims is not None and (isinstance(n_dims, bool) or not isinstance(n_dims, int) or n_dims < 0):
        raise PDEContractError(f"{name}: 'n_dims' must be a non-negative integer or None, got {n_dims!r}")
    for method in ("linear", "nonlinear"):
        if getattr(cls, method) is getattr(AbstractPDE, method):
            raise PDEContractError(f"{name}: must define {method}()")
    for field in dataclasses.fields(cls):
        annotation = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", repr(field.type))
        if field.metadata.get("static", False) or not _looks_like_array(field.type):
            raise PDEContractError(
                f"{name}: parameter '{field.name}' is annotated {annotation}, not an array "
                f"(parameters are scalar arrays: {field.name}: Float[Array, \"\"] = 1.0)"
            )
        default = field.default
        if default is dataclasses.MISSING:
            raise PDEContractError(f"{name}: parameter '{field.name}' has no default (write {field.name}: Float[Array, \"\"] = <value>)")
        if isinstance(default, bool) or not isinstance(default, (int, float)) or not math.isfinite(default):
            raise PDEContractError(f"{name}: parameter '{field.name}' must default to a finite number, got {default!r}")
    try:
        pde = cls()
    except PDEContractError:
        raise
    except Exception as error:  # an __init__ or __check_init__ of the user's that fails
        raise PDEContractError(f"{name}: cannot be built with its defaults: {type(error).__name__}: {error}") from None
    axes = 0 if n_dims is None else n_dims
    readable = tuple(fields) + tuple(cls.auxiliary_fields)

    returned: list[Any] = []

    def evaluate() -> Array:
        # The dicts leave through the closure: their keys (multi-indices beside
        # operators) are not pytree keys that JAX can sort.
        returned.extend([_shape_of(pde.linear()), _shape_of(pde.nonlinear(_Probe(cls, readable, axes)))])
        return jnp.zeros(())

    try:
        jax.eval_shape(evaluate)
        linear, nonlinear = returned
    except PDEContractError:
        raise
    except NotImplementedError:
        return  # asks for something the probe cannot give (an inverse Laplacian): checked by its evaluator
    except Exception as error:
        raise PDEContractError(f"{name}: linear() or nonlinear(d) fails on the defaults: {type(error).__name__}: {error}") from None
    _check_terms(cls, "linear()", linear, fields, n_dims, flux=False)
    _check_terms(cls, "nonlinear(d)", nonlinear, fields, n_dims, flux=True)
