"""The physics case: one validated, immutable description shared by every tool.

A :class:`Case` names a PDE and its parameters, the domain and grid, the
boundary conditions, the initial condition, the time span and output cadence,
the numerical scheme, the dtype and the seed. It round-trips through JSON and
has a stable hash (sha256 of the canonical JSON: sorted keys, compact
separators), stored with every output.

This module imports no JAX: a case is validated, and bad input reported,
before anything is compiled.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sys
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_serializer, model_validator

from phys._imports import ImportPathError, object_path
from phys._registry import PDES, Signature, ic_signature, pde_signature

__all__ = [
    "BoundaryCondition",
    "Case",
    "PieceBoundary",
    "CaseError",
    "Domain",
    "FamilyIC",
    "FileIC",
    "ArrayIC",
    "Grid",
    "PDESpec",
    "Etdrk",
    "Ode",
    "ODE_INTEGRATORS",
    "ODE_ADJOINTS",
    "FiniteDifference",
    "FiniteVolume",
    "Projection",
    "Solver",
    "SOLVERS",
    "SOLVER_METHODS",
    "Time",
    "BC_KINDS",
]

# "wall" is the projection solver's per-axis form of a flow's conditions, derived from Case.boundary
# (a 2D flow states them on named pieces); "inflow-outflow" is also a 1D conservation law's (FiniteVolume).
BC_KINDS = ("periodic", "dirichlet", "neumann", "wall", "inflow-outflow")
# Relative slack when checking that t_end - t0 and save_dt are whole multiples
# of dt: decimal inputs such as 0.1 are not exact in binary.
_MULTIPLE_RTOL = 1e-9


class CaseError(ValueError):
    """An invalid case. ``str(error)`` is one line: ``<field>: <what is wrong>``."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


# phys.geometry imports CaseError from this module, so it is imported once CaseError exists.
from phys.geometry import Box as _GeometryBox, Geometry  # noqa: E402

def _loc_to_field(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif isinstance(item, str) and item in ("family", "array", "file"):
            continue  # discriminator tags of the IC union add nothing for a reader
        elif isinstance(item, str) and parts == ["solver"] and item in SOLVER_METHODS:
            continue  # nor do those of the scheme union (``solver.order``, not ``solver.etdrk.order``)
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _from_pydantic(error: ValidationError) -> CaseError:
    first = error.errors()[0]
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, CaseError):
        # A model-level check that names its own field inside the model.
        prefix = _loc_to_field(first["loc"])
        return CaseError(".".join(p for p in (prefix, cause.field) if p), cause.message)
    message = first["msg"]
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    elif first["type"] == "literal_error":
        message = f"must be {first['ctx']['expected']}, got {first['input']!r}"
    return CaseError(_loc_to_field(first["loc"]), message)


class _Part(BaseModel):
    """Frozen, strict about unknown keys, and with one-line errors."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    def __init__(self, **data: Any):
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise _from_pydantic(error) from None


def _finite(name: str, value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number, got {value}")
    return value


class PDESpec(_Part):
    """Which PDE, and its physical parameters (missing ones take defaults).

    ``name`` is a built-in PDE's name (``phys pdes`` lists them) or the import
    path ``"module:Class"`` of a class of your own (a subclass of
    ``phys.AbstractPDE``, in a module or a case file). A :class:`Case` also
    takes the PDE object itself, ``Case(pde=MyPDE(nu=0.1), ...)``, and
    records it here by import path and parameters.
    """

    name: str
    params: dict[str, float] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _known(cls, name: str) -> str:
        pde_signature(name)  # ValueError, one line, if unknown or not importable
        return name

    @model_validator(mode="after")
    def _fill_and_check(self) -> PDESpec:
        signature = self.signature
        unknown = sorted(set(self.params) - set(signature.parameters))
        if unknown:
            allowed = ", ".join(signature.parameters) or "none"
            raise CaseError(f"params.{unknown[0]}", f"unknown parameter for PDE '{self.name}'; allowed: {allowed}")
        for key, value in self.params.items():
            if not math.isfinite(value):
                raise CaseError(f"params.{key}", f"must be a finite number, got {value}")
            sign = signature.parameters[key].sign
            if (sign == "positive" and not value > 0) or (sign == "non-negative" and value < 0):
                doc = signature.parameters[key].doc.split(";")[0]
                raise CaseError(f"params.{key}", f"must be {sign}{f' ({doc})' if doc else ''}, got {value}")
        object.__setattr__(self, "params", {**signature.defaults(), **self.params})
        return self

    @property
    def signature(self) -> Signature:
        """Fields, dimension, parameters with defaults and docs, default scheme."""
        return pde_signature(self.name)

    def load(self) -> type:
        """The PDE class (imports JAX)."""
        return self.signature.load()

    def build(self, dtype: str | None = None) -> Any:
        """The PDE object with these parameters, as arrays of ``dtype`` (default: JAX's default float)."""
        import jax.numpy as jnp

        return self.load()(**{k: jnp.asarray(v, dtype=dtype) for k, v in self.params.items()})


def _pde_as_spec(pde: Any) -> Any:
    """A PDE object (or class) given to ``Case(pde=...)``, as ``{"name": ..., "params": ...}``."""
    if isinstance(pde, (dict, PDESpec)) or pde is None or "phys.pdes._base" not in sys.modules:
        return pde  # not a PDE object: none can exist before its base class is imported
    from phys.pdes._base import AbstractPDE, PDEContractError, check_pde_class

    cls = pde if isinstance(pde, type) else type(pde)
    if not issubclass(cls, AbstractPDE):
        return pde  # left to the schema, which says what is wrong
    try:
        check_pde_class(cls)
    except PDEContractError as error:
        raise CaseError("pde", str(error)) from None
    params = {}
    if not isinstance(pde, type):
        for name in dataclasses.fields(cls):
            value = getattr(pde, name.name)
            try:
                params[name.name] = float(value)
            except (TypeError, ValueError):
                raise CaseError(f"pde.{name.name}", f"must be a scalar number to be recorded in the case, got {value!r}") from None
    try:
        path = object_path(cls)
    except ImportPathError as error:
        raise CaseError("pde", str(error)) from None
    registered = getattr(cls, "name", None)
    if registered in PDES and PDES[registered].target == path:
        path = registered
    return {"name": path, "params": params}


class Domain(_Part):
    """A box: ``origin + [0, length)`` along each axis."""

    length: tuple[float, ...]
    origin: tuple[float, ...] | None = None

    @field_validator("length", "origin", mode="before")
    @classmethod
    def _scalar_to_tuple(cls, value: Any) -> Any:
        return (value,) if isinstance(value, (int, float)) else value

    @field_validator("length")
    @classmethod
    def _positive(cls, length: tuple[float, ...]) -> tuple[float, ...]:
        # No axes is a 0-D case (an ODE); ``Case`` checks that its PDE has no space.
        for value in length:
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"must be positive and finite, got {value}")
        return length

    @field_validator("origin")
    @classmethod
    def _finite_origin(cls, origin: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if origin is not None:
            for value in origin:
                _finite("origin", value)
        return origin

    @model_validator(mode="after")
    def _default_origin(self) -> Domain:
        if self.origin is None:
            object.__setattr__(self, "origin", (0.0,) * len(self.length))
        elif len(self.origin) != len(self.length):
            raise ValueError(f"origin has {len(self.origin)} axes but length has {len(self.length)}")
        return self


class Grid(_Part):
    """Number of points along each axis."""

    n: tuple[int, ...]

    @field_validator("n", mode="before")
    @classmethod
    def _scalar_to_tuple(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"must be a positive integer, got {value!r}")
        if isinstance(value, (int, float, str)):
            value = (value,)
        out = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, (int, float, str)):
                raise ValueError(f"must be a positive integer, got {item!r}")
            try:
                number = float(item)
            except ValueError:
                raise ValueError(f"must be a positive integer, got {item!r}") from None
            if not (math.isfinite(number) and number == int(number) and number > 0):
                raise ValueError(f"must be a positive integer, got {item!r}")
            out.append(int(number))
        return tuple(out)

    @field_validator("n")
    @classmethod
    def _at_least_four(cls, n: tuple[int, ...]) -> tuple[int, ...]:
        for value in n:
            if value < 4:
                raise ValueError(f"must be a positive integer of at least 4, got {value}")
        return n


class BoundaryCondition(_Part):
    """Boundary condition on one axis (both ends). Values apply to non-periodic kinds."""

    kind: str
    lower: float = 0.0
    upper: float = 0.0
    # A wall's tangential velocity along it: "uniform" (the value everywhere, a lid whose speed jumps at the
    # corners), or "smooth" (the value times 16 s^2 (1 - s)^2, s in [0, 1] along the wall: zero with its
    # slope at the corners, the regularised lid). Left out of the JSON (and hash) when uniform.
    profile: Literal["uniform", "smooth"] = Field(default="uniform", exclude_if=lambda value: value == "uniform")

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in BC_KINDS:
            raise ValueError(f"unknown boundary condition kind '{kind}'; allowed: {', '.join(BC_KINDS)}")
        return kind

    @field_validator("lower", "upper")
    @classmethod
    def _finite_value(cls, value: float) -> float:
        return _finite("value", value)

    @model_validator(mode="after")
    def _profile_of_a_wall(self) -> BoundaryCondition:
        if self.profile != "uniform" and self.kind != "wall":
            raise CaseError("profile", f"shapes a wall's tangential velocity; a '{self.kind}' boundary has none")
        return self


class PieceBoundary(_Part):
    """The condition on one named boundary piece of a 2D flow (``Case.boundary``).

    ``wall``: no slip; ``speed`` is the wall's tangential velocity, the
    component along the axis the side runs on (``u`` on the bottom and top,
    ``v`` on the left and right; a lid is ``speed = 1`` on the top), shaped by
    ``profile`` as :class:`BoundaryCondition`'s. ``inflow``: the Poiseuille
    profile of mean speed ``speed`` (> 0) across the side. ``outflow``: zero
    normal gradient of the velocity, the pressure's zero there.
    """

    kind: Literal["wall", "inflow", "outflow"]
    speed: float = 0.0
    profile: Literal["uniform", "smooth"] = Field(default="uniform", exclude_if=lambda value: value == "uniform")

    @field_validator("speed")
    @classmethod
    def _finite_speed(cls, speed: float) -> float:
        return _finite("speed", speed)

    @model_validator(mode="after")
    def _fits_the_kind(self) -> PieceBoundary:
        if self.kind == "inflow" and not self.speed > 0:
            raise CaseError("speed", f"an inflow's mean speed must be positive, got {self.speed}")
        if self.kind == "outflow" and self.speed != 0:
            raise CaseError("speed", f"an outflow takes no speed (its velocity is the flow's), got {self.speed}")
        if self.profile != "uniform" and self.kind != "wall":
            raise CaseError("profile", f"shapes a wall's tangential velocity; an '{self.kind}' piece has none")
        return self


class FamilyIC(_Part):
    """A family of initial conditions with its parameters.

    ``name`` is a built-in family (``phys ics`` lists them) or the import path
    ``"module:function"`` of a function of your own, ``f(coords, lengths, key,
    *, param=default, ...)`` (see :mod:`phys.initial`); the function itself is
    accepted too and recorded by import path.
    """

    kind: Literal["family"] = "family"
    name: str
    params: dict[str, float] = Field(default_factory=dict)

    @field_validator("name", mode="before")
    @classmethod
    def _path_of_function(cls, name: Any) -> Any:
        return object_path(name) if callable(name) else name  # ImportPathError: one line on ic.name

    @field_validator("name")
    @classmethod
    def _known(cls, name: str) -> str:
        ic_signature(name)
        return name

    @model_validator(mode="after")
    def _fill_and_check(self) -> FamilyIC:
        signature = self.signature
        unknown = sorted(set(self.params) - set(signature.parameters))
        if unknown:
            allowed = ", ".join(signature.parameters) or "none"
            raise CaseError(f"params.{unknown[0]}", f"unknown parameter for initial condition '{self.name}'; allowed: {allowed}")
        for key, value in self.params.items():
            if not math.isfinite(value):
                raise CaseError(f"params.{key}", f"must be a finite number, got {value}")
            sign = signature.parameters[key].sign
            if (sign == "positive" and not value > 0) or (sign == "non-negative" and value < 0):
                doc = signature.parameters[key].doc.split(";")[0]
                raise CaseError(f"params.{key}", f"must be {sign}{f' ({doc})' if doc else ''}, got {value}")
        object.__setattr__(self, "params", {**signature.defaults(), **self.params})
        return self

    @property
    def signature(self) -> Signature:
        return ic_signature(self.name)

    def load(self) -> Any:
        """The family's function (imports JAX)."""
        return self.signature.load()


class ArrayIC(_Part):
    """Initial values given point by point, nested lists shaped ``[fields, *n]`` or ``n``."""

    kind: Literal["array"] = "array"
    values: list[Any]

    @field_validator("values")
    @classmethod
    def _finite_values(cls, values: list[Any]) -> list[Any]:
        def walk(item: Any) -> None:
            if isinstance(item, list):
                for sub in item:
                    walk(sub)
            elif isinstance(item, bool) or not isinstance(item, (int, float)):
                raise ValueError(f"must hold numbers only, found {item!r}")
            elif not math.isfinite(item):
                raise ValueError(f"must hold finite numbers, found {item}")

        walk(values)
        return values


class FileIC(_Part):
    """A snapshot from an HDF5 file of our schema."""

    kind: Literal["file"] = "file"
    path: str
    field: str | None = None  # defaults to the PDE's field
    time_index: int = -1
    trajectory: int = 0
    # The snapshot saved at this time (within float32 rounding); None: use ``time_index``.
    time: float | None = None

    @field_validator("time")
    @classmethod
    def _finite_snapshot_time(cls, time: float | None) -> float | None:
        return None if time is None else _finite("time", time)

    @model_validator(mode="after")
    def _one_selection(self) -> FileIC:
        if self.time is not None and self.time_index != -1:
            raise CaseError("time", f"give time or time_index, not both (time_index is {self.time_index})")
        return self


InitialCondition = Annotated[Union[FamilyIC, ArrayIC, FileIC], Field(discriminator="kind")]


class Time(_Part):
    """Time span, step and output cadence. Snapshots are saved at t0, t0 + save_dt, ..., t_end."""

    t0: float = 0.0
    t_end: float
    dt: float
    save_dt: float | None = None  # None: every step

    @field_validator("t0", "t_end")
    @classmethod
    def _finite_time(cls, value: float) -> float:
        return _finite("time", value)

    @field_validator("dt")
    @classmethod
    def _positive_dt(cls, dt: float) -> float:
        if not (math.isfinite(dt) and dt > 0):
            raise ValueError(f"must be positive, got {dt}")
        return dt

    @field_validator("save_dt")
    @classmethod
    def _positive_save_dt(cls, save_dt: float | None) -> float | None:
        if save_dt is not None and not (math.isfinite(save_dt) and save_dt > 0):
            raise ValueError(f"must be positive, got {save_dt}")
        return save_dt

    @model_validator(mode="after")
    def _consistent(self) -> Time:
        if self.t_end <= self.t0:
            raise CaseError("t_end", f"must be after t0 = {self.t0}, got {self.t_end}")
        if self.save_dt is None:
            object.__setattr__(self, "save_dt", self.dt)
        span_steps = (self.t_end - self.t0) / self.dt
        if span_steps > MAX_STEPS:
            # The time loop counts steps in int32: beyond this the count overflows inside jit.
            raise CaseError(
                "dt", f"(t_end - t0) / dt = {span_steps:.3g} steps; at most {MAX_STEPS} (the step counter is int32): "
                "raise dt or shorten t_end"
            )
        if abs(span_steps - round(span_steps)) > _MULTIPLE_RTOL * max(1.0, span_steps):
            raise CaseError("t_end", f"t_end - t0 = {self.t_end - self.t0} is not a whole number of steps dt = {self.dt}")
        save_steps = self.save_dt / self.dt
        if round(save_steps) < 1 or abs(save_steps - round(save_steps)) > _MULTIPLE_RTOL * max(1.0, save_steps):
            raise CaseError("save_dt", f"must be a whole multiple of dt = {self.dt}, got {self.save_dt}")
        if round(span_steps) % round(save_steps) != 0:
            raise CaseError(
                "save_dt", f"t_end - t0 = {self.t_end - self.t0} is not a whole number of save intervals {self.save_dt}"
            )
        return self

    @property
    def n_steps(self) -> int:
        return round((self.t_end - self.t0) / self.dt)

    @property
    def save_every(self) -> int:
        assert self.save_dt is not None
        return round(self.save_dt / self.dt)

    @property
    def n_saves(self) -> int:
        """Number of saved snapshots, the initial one included."""
        return self.n_steps // self.save_every + 1


# Steps of one run: the solvers' step counter is an int32.
MAX_STEPS = 2**31 - 1

# ``save_every`` squared must stay below 2**31 (see ``Etdrk.check``).
_CFL_MAX_SAVE_EVERY = 46340


class Etdrk(_Part):
    """Exponential time differencing Runge-Kutta on a Fourier grid (periodic axes only)."""

    method: Literal["etdrk"] = "etdrk"
    order: int = 4
    dealias: bool = True
    # How the phi functions of the ETDRK coefficients are evaluated: "series"
    # (Taylor series where |z| < 1, the closed forms elsewhere: 2e-15 relative
    # against 60-digit values, and about half a step's cost) or "contour" (the
    # contour mean of Kassam & Trefethen 2005 with contour_points points on a
    # full circle, so complex symbols from odd derivatives are handled too:
    # 8e-10 at 64 points, and some 40-70 steps' cost of 2D NS per solve).
    phi: Literal["series", "contour"] = "series"
    contour_points: int = 64
    # Adaptive step (None: fixed ``time.dt``). Each save interval is split into
    # the fewest equal steps with ``dt * max_x sum_i |a_i| / dx_i <= cfl`` (``a``
    # the PDE's ``advection_velocity``) at the interval's start; ``time.dt`` is
    # then the largest step allowed. Left out of the JSON (and hash) when None.
    # Its coefficients are series, not contour integrals: contour_points is unused.
    cfl: float | None = Field(default=None, exclude_if=lambda value: value is None)

    @field_validator("order")
    @classmethod
    def _order(cls, order: int) -> int:
        if order not in (1, 2, 3, 4):
            raise ValueError(f"must be 1, 2, 3 or 4, got {order}")
        return order

    @field_validator("contour_points")
    @classmethod
    def _points(cls, points: int) -> int:
        if points < 8:
            raise ValueError(f"must be at least 8, got {points}")
        return points

    @field_validator("cfl")
    @classmethod
    def _cfl(cls, cfl: float | None) -> float | None:
        if cfl is not None and not (math.isfinite(cfl) and cfl > 0):
            raise ValueError(f"must be a positive number (or null for a fixed dt), got {cfl}")
        return cfl

    def check(self, case: Case) -> None:
        """Raise :class:`CaseError` if this scheme cannot solve ``case``."""
        for axis, bc in enumerate(case.bcs):
            if bc.kind != "periodic":
                raise CaseError(f"bcs[{axis}].kind", f"solver 'etdrk' is spectral and needs 'periodic', got '{bc.kind}'")
        if self.cfl is not None:
            if not case.pde.signature.advection_velocity:
                able = ", ".join(name for name, signature in PDES.items() if signature.advection_velocity)
                raise CaseError(
                    "solver.cfl",
                    f"PDE '{case.pde.name}' defines no advection velocity, so its step cannot follow a CFL number; "
                    f"use a fixed dt (cfl null) or a PDE that does: {able}",
                )
            # Failed substeps are reported in whole steps of dt (an int32 count,
            # substep * steps-per-save must not overflow): see solvers.rollout.
            if case.time.save_every > _CFL_MAX_SAVE_EVERY:
                raise CaseError(
                    "time.save_dt",
                    f"an adaptive (cfl) run allows at most {_CFL_MAX_SAVE_EVERY} steps dt per save interval, "
                    f"got {case.time.save_every}; raise dt",
                )


class FiniteDifference(_Part):
    """Second-order finite differences on a bounded 1D interval or 2D box, IMEX Runge-Kutta in time.

    The grid holds ``n`` uniformly spaced points per axis, both boundary points
    included. In 2D every side is Dirichlet and the implicit part (``u``,
    ``u_xx``, ``u_yy`` terms) is solved by sine transforms; the rest is 1D. Dirichlet values are imposed at the end points; Neumann values
    through a ghost point (second-order accurate). The PDE's linear part (up to
    second derivatives) is implicit, a tridiagonal solve per stage; its
    nonlinear part is explicit. ``order`` picks the IMEX scheme of Ascher,
    Ruuth & Spiteri (1997): 1 is forward-backward Euler (their (1,1,1)),
    2 is their L-stable (2,2,2), 3 their L-stable (4,4,3).
    """

    method: Literal["finite-difference"] = "finite-difference"
    order: int = 3

    @field_validator("order")
    @classmethod
    def _order(cls, order: int) -> int:
        if order not in (1, 2, 3):
            raise ValueError(f"must be 1, 2 or 3, got {order}")
        return order

    def check(self, case: Case) -> None:
        """Raise :class:`CaseError` if this scheme cannot solve ``case``."""
        if case.n_dims not in (1, 2):
            raise CaseError("grid.n", f"solver 'finite-difference' is 1D or 2D, the case is {case.n_dims}D")
        # In 2D the implicit part is solved by sine transforms, which need Dirichlet ends.
        allowed = ("dirichlet", "neumann") if case.n_dims == 1 else ("dirichlet",)
        for axis, bc in enumerate(case.bcs):
            if bc.kind not in allowed:
                raise CaseError(
                    f"bcs[{axis}].kind",
                    f"solver 'finite-difference' needs {' or '.join(repr(k) for k in allowed)} in {case.n_dims}D "
                    f"(use 'etdrk' when periodic), got '{bc.kind}'",
                )


class FiniteVolume(_Part):
    """Conservative finite volumes for 1D conservation laws with shocks, explicit SSP Runge-Kutta.

    ``grid.n`` counts cells of width ``length / n`` (outputs at cell centres).
    The PDE's first-derivative fluxes meet at each face through an
    approximate Riemann solver, ``flux``: ``rusanov`` (local Lax-Friedrichs,
    any flux) or ``upwind`` (the flux of the upwind side by the sign of the
    Roe speed, one field only). ``reconstruction``: ``constant`` (first order)
    or ``muscl`` (minmod-limited slopes, second order). ``order``: SSP
    Runge-Kutta 1, 2 or 3 (Shu & Osher 1988). ``time.dt`` may not exceed
    ``max_cfl`` times the forward-Euler stable step at the initial state
    (checked when the case is compiled). Boundary conditions: ``periodic``,
    ``dirichlet`` (ghost cells hold ``lower``/``upper``), ``neumann`` (ghost
    cells continue the given gradient) or ``inflow-outflow`` (``lower`` at the
    left, zero gradient at the right, ``upper`` must be 0).
    """

    method: Literal["finite-volume"] = "finite-volume"
    flux: Literal["rusanov", "upwind"] = "rusanov"
    reconstruction: Literal["constant", "muscl"] = "constant"
    order: int = 3
    max_cfl: float = 1.0

    @field_validator("order")
    @classmethod
    def _order(cls, order: int) -> int:
        if order not in (1, 2, 3):
            raise ValueError(f"must be 1, 2 or 3, got {order}")
        return order

    @field_validator("max_cfl")
    @classmethod
    def _cfl(cls, max_cfl: float) -> float:
        if not (math.isfinite(max_cfl) and 0 < max_cfl <= 1):
            raise ValueError(f"must be in (0, 1], got {max_cfl}")
        return max_cfl

    def check(self, case: Case) -> None:
        """Raise :class:`CaseError` if this scheme cannot solve ``case``."""
        if case.n_dims != 1:
            raise CaseError("grid.n", f"solver 'finite-volume' is 1D, the case is {case.n_dims}D")
        allowed = ("periodic", "dirichlet", "neumann", "inflow-outflow")
        (bc,) = case.bcs
        if bc.kind not in allowed:
            raise CaseError("bcs[0].kind", f"solver 'finite-volume' needs one of {', '.join(allowed)}, got '{bc.kind}'")
        if bc.kind == "inflow-outflow" and bc.upper != 0:
            raise CaseError("bcs[0].upper", f"'inflow-outflow' takes the inflow value in 'lower'; 'upper' must be 0, got {bc.upper}")
        if self.flux == "upwind" and len(case.fields) != 1:
            raise CaseError("solver.flux", f"'upwind' takes one field (a scalar law); PDE '{case.pde.name}' has {len(case.fields)}: use 'rusanov'")


# diffrax solvers the ``ode`` scheme may name (the names are diffrax's, lower case):
# explicit embedded Runge-Kutta pairs, and the L-stable ESDIRK ``kvaerno*`` for stiff systems.
ODE_INTEGRATORS = ("tsit5", "dopri5", "dopri8", "bosh3", "heun", "kvaerno3", "kvaerno4", "kvaerno5")
# How gradients pass through the solve: diffrax's recursive checkpointing
# (exact discrete gradient, reverse mode), continuous backsolve (memory O(1),
# gradient to the solver's tolerance), direct (forward and reverse), forward mode.
ODE_ADJOINTS = ("recursive", "backsolve", "direct", "forward")
# float32 resolves relative changes near 6e-8: an error controller asked for
# less than this many ulps keeps rejecting steps until it runs out of them.
_FLOAT32_MIN_RTOL = 1e-6


class Ode(_Part):
    """Adaptive Runge-Kutta through diffrax, for cases without space (PDE ``n_dims`` 0).

    Each save interval is one ``diffrax.diffeqsolve`` with an I-controller on
    ``rtol``/``atol``, starting from the trial step ``time.dt``; snapshots fall
    on step ends (no dense-output interpolation), and the result does not
    depend on how a run is split into blocks. The defaults (Tsit5, 1e-8) keep
    the relative error at t = 1 of the built-in cases near 2e-9 in float64
    even with one save at t = 1 (``tests/solvers/test_ode.py``), well inside 1e-6.
    """

    method: Literal["ode"] = "ode"
    integrator: str = "tsit5"
    rtol: float = 1e-8
    atol: float = 1e-8
    adjoint: str = "recursive"
    max_steps: int = 4096  # per save interval

    @field_validator("integrator")
    @classmethod
    def _integrator(cls, integrator: str) -> str:
        if integrator not in ODE_INTEGRATORS:
            raise ValueError(f"unknown integrator '{integrator}'; allowed: {', '.join(ODE_INTEGRATORS)}")
        return integrator

    @field_validator("adjoint")
    @classmethod
    def _adjoint(cls, adjoint: str) -> str:
        if adjoint not in ODE_ADJOINTS:
            raise ValueError(f"unknown adjoint '{adjoint}'; allowed: {', '.join(ODE_ADJOINTS)}")
        return adjoint

    @field_validator("rtol", "atol")
    @classmethod
    def _tolerance(cls, tolerance: float) -> float:
        if not (math.isfinite(tolerance) and tolerance > 0):
            raise ValueError(f"must be positive, got {tolerance}")
        return tolerance

    @field_validator("max_steps")
    @classmethod
    def _max_steps(cls, max_steps: int) -> int:
        if max_steps < 1:
            raise ValueError(f"must be a positive integer, got {max_steps}")
        return max_steps

    def check(self, case: Case) -> None:
        """Raise :class:`CaseError` if this scheme cannot solve ``case``."""
        if case.n_dims != 0:
            raise CaseError("solver.method", f"solver 'ode' integrates cases without space, the case is {case.n_dims}D")
        if case.dtype == "float32" and self.rtol < _FLOAT32_MIN_RTOL:
            raise CaseError(
                "solver.rtol",
                f"float32 cannot reach rtol {self.rtol:g}; use dtype float64 or rtol >= {_FLOAT32_MIN_RTOL:g}",
            )


# float32 machine epsilon, and a margin of ulps of the flow speed that a
# converged float32 run may still change by over a save interval.
_FLOAT32_EPS = 1.1920929e-07
_FLOAT32_STEADY_ULPS = 2.0


class Projection(_Part):
    """Incompressible NS with walls: finite volumes on a staggered (MAC) grid, pressure projection.

    ``grid.n`` counts cells (outputs sit at cell centres). Explicit SSP-RK3,
    each stage projected by a cosine-transform Poisson solve; ``time.dt`` must
    not exceed ``max_cfl`` times the scheme's stability bound (checked when
    the case is compiled, as it needs the viscosity). With ``steady_tol > 0``
    the state is frozen once ``max |u(t + save_dt) - u(t)| / save_dt`` falls below it. Boundary
    conditions on named pieces (``Case.boundary``, :class:`PieceBoundary`):
    walls (no slip, a tangential speed: a lid) on every side, or an inflow
    (Poiseuille, of a mean speed) on the left and an outflow on the right;
    obstacles of the case's ``geometry`` are walls at rest. The solver reads
    them per axis (``Case.bcs``, derived): ``wall`` with the tangential speeds
    of the two sides in ``lower``/``upper``, or ``inflow-outflow`` with the
    inflow's mean speed in ``lower``.
    """

    method: Literal["projection"] = "projection"
    # Fraction of the explicit stability bound (solvers.projection.stable_dt) dt may use.
    max_cfl: float = 1.0
    # Steady residual max|u(t + save_dt) - u(t)| / save_dt below which the state
    # is frozen (checked at each save); 0 marches to t_end.
    steady_tol: float = 0.0
    # Pressure Poisson solve, exact by cosine transforms either way: "dct" by dense
    # transform matrices (fastest up to a few hundred cells per axis), "fft" by
    # jax.scipy.fft.dctn (O(n^2 log n), for larger grids).
    poisson: Literal["dct", "fft"] = "dct"
    # Two points (x, y) of the fluid or of an obstacle's rim: the output series
    # /scalars/pressure_difference is p(probes[0]) - p(probes[1]) (a case with
    # obstacles only). Left out of the JSON (and hash) when None.
    probes: tuple[tuple[float, float], tuple[float, float]] | None = Field(default=None, exclude_if=lambda value: value is None)

    @field_validator("max_cfl")
    @classmethod
    def _cfl(cls, max_cfl: float) -> float:
        if not (math.isfinite(max_cfl) and 0 < max_cfl <= 1):
            raise ValueError(f"must be in (0, 1], got {max_cfl}")
        return max_cfl

    @field_validator("probes")
    @classmethod
    def _finite_probes(cls, probes: Any) -> Any:
        if probes is not None:
            for point in probes:
                for value in point:
                    _finite("probes", value)
        return probes

    @field_validator("steady_tol")
    @classmethod
    def _steady_tol(cls, steady_tol: float) -> float:
        if not (math.isfinite(steady_tol) and steady_tol >= 0):
            raise ValueError(f"must be zero or positive, got {steady_tol}")
        return steady_tol

    def check(self, case: Case) -> None:
        """Raise :class:`CaseError` if this scheme cannot solve ``case``."""
        if case.n_dims != 2 or case.fields != ("u", "v"):
            raise CaseError("pde.name", f"solver 'projection' solves 2D velocity fields (u, v), not '{case.pde.name}'")
        if case.boundary is None:
            kinds = ", ".join(bc.kind for bc in case.bcs)
            raise CaseError("boundary", f"solver 'projection' takes walls, inflow and outflow on named pieces ({_FLOW_EXAMPLE}); got bcs {kinds}")
        if case.geometry is not None:
            _check_obstacles(case)
        elif self.probes is not None:
            raise CaseError("solver.probes", "pressure probes need obstacles: give the case a geometry")
        # max|u(t + save_dt) - u(t)| / save_dt cannot resolve less than a few
        # ulps of the flow speed per save interval: a tolerance below that is never met.
        speed = max(abs(value) for bc in case.bcs for value in (bc.lower, bc.upper))
        floor = _FLOAT32_STEADY_ULPS * _FLOAT32_EPS * speed / case.time.save_dt
        if case.dtype == "float32" and 0 < self.steady_tol < floor:
            raise CaseError(
                "solver.steady_tol",
                f"float32 resolves max|du/dt| only to about {floor:.2g} at save_dt = {case.time.save_dt:g}; "
                f"use steady_tol >= {floor:.2g}, a longer save_dt or dtype float64",
            )


_FLOW_EXAMPLE = (
    "boundary = {'left': {'kind': 'inflow', 'speed': 1}, 'right': {'kind': 'outflow'}, "
    "'bottom': {'kind': 'wall'}, 'top': {'kind': 'wall'}} (docs/cases.md)"
)

# The immersed boundary (solvers.projection) reconstructs the velocity next to
# an obstacle from a point 2.5 cells out along the normal, whose interpolation
# stencil must lie in the fluid: an obstacle needs this many cells across, and
# this many cells of fluid between it and the container.
MIN_CELLS_ACROSS = 8
MIN_CELLS_CLEAR = 4


def _check_obstacles(case: Case) -> None:
    """The geometry fits the box and grid of a projection case (see ``MIN_CELLS_ACROSS``)."""
    geometry = case.geometry
    assert geometry is not None
    lower = tuple(case.domain.origin)
    upper = tuple(o + size for o, size in zip(case.domain.origin, case.domain.length))
    container = geometry.container
    if not isinstance(container, _GeometryBox) or not all(
        math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) for a, b in zip((*container.lower, *container.upper), (*lower, *upper))
    ):
        raise CaseError(
            "geometry.container",
            f"must be the case's box {lower} to {upper} (domain.origin, domain.length) for solver 'projection'",
        )
    if not geometry.obstacles:
        raise CaseError("geometry.obstacles", "a projection case with a geometry needs at least one obstacle")
    h = [size / n for size, n in zip(case.domain.length, case.grid.n)]
    inflow = case.bcs[0].kind == "inflow-outflow"
    sides = (("left", 0, lower[0]), ("right", 0, upper[0]), ("bottom", 1, lower[1]), ("top", 1, upper[1]))
    for k, obstacle in enumerate(geometry.obstacles):
        (x0, y0), (x1, y1) = _extent(obstacle)
        across = min((x1 - x0) / h[0], (y1 - y0) / h[1])
        if across < MIN_CELLS_ACROSS:
            raise CaseError(
                "grid.n",
                f"geometry.obstacles[{k}] spans {across:.3g} cells across on the grid {case.grid.n}; "
                f"the immersed boundary needs at least {MIN_CELLS_ACROSS}: refine grid.n",
            )
        for side, axis, at in sides:
            gap = abs((x0, y0)[axis] - at) if side in ("left", "bottom") else abs(at - (x1, y1)[axis])
            if gap < MIN_CELLS_CLEAR * h[axis]:
                what = "cuts the inflow" if side == "left" and inflow else f"is too close to the {side} side"
                raise CaseError(
                    f"geometry.obstacles[{k}]",
                    f"{what}: {gap:.3g} from {('x', 'y')[axis]} = {at:g}, less than {MIN_CELLS_CLEAR} cells "
                    f"({MIN_CELLS_CLEAR * h[axis]:.3g}) of fluid",
                )
    if case.solver.probes is not None:
        for i, point in enumerate(case.solver.probes):
            if not all(lo <= c <= hi for c, lo, hi in zip(point, lower, upper)):
                raise CaseError(f"solver.probes[{i}]", f"{point} lies outside the box {lower} to {upper}")
            for k, obstacle in enumerate(geometry.obstacles):
                if _strictly_inside(obstacle, point, 1e-9 * max(case.domain.length)):
                    raise CaseError(f"solver.probes[{i}]", f"{point} lies inside geometry.obstacles[{k}]; put it in the fluid or on the rim")


def _extent(shape: Any) -> tuple[tuple[float, float], tuple[float, float]]:
    """Bounding box of a geometry shape."""
    if shape.kind == "disc":
        (cx, cy), r = shape.center, shape.radius
        return (cx - r, cy - r), (cx + r, cy + r)
    vertices = shape.vertices() if shape.kind == "box" else shape.vertices
    xs, ys = [v[0] for v in vertices], [v[1] for v in vertices]
    return (min(xs), min(ys)), (max(xs), max(ys))


def _strictly_inside(shape: Any, point: tuple[float, float], slack: float) -> bool:
    if shape.kind == "disc":
        return math.dist(shape.center, point) < shape.radius - slack
    (x0, y0), (x1, y1) = _extent(shape)
    if shape.kind == "box":
        return x0 + slack < point[0] < x1 - slack and y0 + slack < point[1] < y1 - slack
    from phys.geometry import _boundary_distance, _point_in_polygon

    return _point_in_polygon(point, shape.vertices) and _boundary_distance(point, shape.vertices) > slack


# Every numerical scheme a case can ask for, told apart by ``method``. A new
# scheme adds its class here (with a ``check(case)`` method) and its back-end
# to ``solvers.scheme.SCHEMES``.
SOLVERS: tuple[type[_Part], ...] = (Etdrk, FiniteDifference, FiniteVolume, Ode, Projection)
Solver = Annotated[Union[SOLVERS], Field(discriminator="method")] if len(SOLVERS) > 1 else SOLVERS[0]
SOLVER_METHODS = tuple(cls.model_fields["method"].default for cls in SOLVERS)


class Case(_Part):
    """A physics case: everything needed to reproduce one solve.

    Scalars are accepted where a per-axis tuple is expected (``grid.n = 128``
    on a 2D PDE means 128 x 128).
    """

    name: str
    description: str = ""
    pde: PDESpec
    domain: Domain
    grid: Grid
    bcs: tuple[BoundaryCondition, ...] = ()
    ic: InitialCondition
    time: Time
    # None: the PDE's default scheme (filled in at validation, so JSON and hash always name it).
    solver: Solver | None = None
    dtype: Literal["float32", "float64"] = "float32"
    seed: int = 0
    # The fluid domain as shapes with named boundary pieces (phys.geometry): the
    # box minus obstacles, which the projection solver holds by an immersed
    # boundary. Left out of the JSON (and hash) when None.
    geometry: Geometry | None = Field(default=None, exclude_if=lambda value: value is None)
    # A 2D flow's conditions on named boundary pieces (the geometry's, or the box's
    # sides left/right/bottom/top without one), in place of ``bcs``, which are
    # then derived from them for the solver (:func:`_axis_conditions`) and left
    # out of the JSON. Required with a geometry. Left out of the JSON when None.
    boundary: dict[str, PieceBoundary] | None = Field(default=None, exclude_if=lambda value: value is None)

    @model_serializer(mode="wrap")
    def _without_derived_bcs(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        if self.boundary is not None:
            data.pop("bcs", None)  # derived from ``boundary``: one statement of the conditions in the JSON and hash
        return data

    @field_validator("seed")
    @classmethod
    def _seed(cls, seed: int) -> int:
        if not 0 <= seed < 2**32:
            raise ValueError(f"must be an integer in [0, 2**32), got {seed}")
        return seed

    @model_validator(mode="before")
    @classmethod
    def _broadcast_axes(cls, data: Any) -> Any:
        """Repeat scalar grid sizes, lengths and BCs to the PDE's dimension."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        data["pde"] = pde = _pde_as_spec(data.get("pde"))
        name = pde.get("name") if isinstance(pde, dict) else getattr(pde, "name", None)
        signature = _signature_or_none(name)
        solver = data.get("solver")
        if isinstance(solver, dict) and "method" not in solver and signature is not None:
            # A scheme's settings without its name: the PDE's default scheme.
            data["solver"] = {"method": _default_method(signature, data.get("bcs")), **solver}
        n_dims = signature.n_dims if signature is not None else None
        if n_dims == 0:
            # Without space there is no grid, domain or BC: spelled out empty,
            # so JSON and the hash always hold them.
            data.setdefault("grid", {"n": ()})
            data.setdefault("domain", {"length": ()})
            return data
        if not n_dims:
            return data
        grid = data.get("grid")
        if isinstance(grid, dict) and isinstance(grid.get("n"), (int, float)) and not isinstance(grid.get("n"), bool):
            data["grid"] = {**grid, "n": (grid["n"],) * n_dims}
        domain = data.get("domain")
        if isinstance(domain, dict):
            domain = dict(domain)
            for key in ("length", "origin"):
                if isinstance(domain.get(key), (int, float)) and not isinstance(domain.get(key), bool):
                    domain[key] = (domain[key],) * n_dims
            data["domain"] = domain
        bcs = data.get("bcs")
        if isinstance(bcs, (dict, BoundaryCondition)):
            data["bcs"] = (bcs,) * n_dims
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Case:
        signature = self.pde.signature
        if signature.n_dims != 0 and not self.domain.length:
            raise CaseError("domain.length", "must name at least one axis")
        n_dims = len(self.grid.n)
        if signature.n_dims is not None and n_dims != signature.n_dims:
            raise CaseError("grid.n", f"PDE '{self.pde.name}' is {signature.n_dims}D but the grid has {n_dims} axes")
        if n_dims == 0 and signature.n_dims != 0:
            raise CaseError("grid.n", "must name at least one axis")
        if len(self.domain.length) != n_dims:
            raise CaseError("domain.length", f"has {len(self.domain.length)} axes but the grid has {n_dims}")
        if self.boundary is None:
            for axis, bc in enumerate(self.bcs):
                if bc.kind == "wall" or (bc.kind == "inflow-outflow" and n_dims == 2):
                    raise CaseError(f"bcs[{axis}].kind", f"a 2D flow states its walls, inflow and outflow on named pieces: {_FLOW_EXAMPLE}")
        else:
            if self.bcs:
                raise CaseError("bcs", "the boundary is given twice: on named pieces ('boundary') and per axis ('bcs'); give one")
            object.__setattr__(self, "bcs", _axis_conditions(self))
        if not self.bcs:
            object.__setattr__(self, "bcs", (BoundaryCondition(kind="periodic"),) * n_dims)
        if len(self.bcs) != n_dims:
            raise CaseError("bcs", f"needs one boundary condition per axis ({n_dims}), got {len(self.bcs)}")
        if self.solver is None:
            method = _default_method(signature, self.bcs)
            default = {cls.model_fields["method"].default: cls for cls in SOLVERS}[method]
            object.__setattr__(self, "solver", default())
        if self.geometry is not None and not isinstance(self.solver, Projection):
            raise CaseError("geometry", f"obstacles are solved by solver 'projection' only, not '{self.solver.method}'")
        if self.geometry is not None and self.boundary is None:
            pieces = ", ".join(self.geometry.piece_names)
            raise CaseError("boundary", f"a case with a geometry states its conditions on the geometry's pieces ({pieces}), not per axis")
        self.solver.check(self)
        family = self.ic.signature if isinstance(self.ic, FamilyIC) else None
        if family is not None and family.n_dims is not None and family.n_dims != n_dims:
            raise CaseError("ic.name", f"initial condition '{self.ic.name}' is {family.n_dims}D, the case is {n_dims}D")
        if n_dims == 0 and isinstance(self.ic, FamilyIC):
            raise CaseError("ic.kind", "a 0-D case starts from 'array' (one value per field) or 'file', not a family")
        if isinstance(self.ic, ArrayIC):
            shape = _nested_shape(self.ic.values)
            fields = len(signature.fields)
            if shape not in (self.grid.n, (fields, *self.grid.n)):
                raise CaseError("ic.values", f"shape {shape} does not fit the grid {self.grid.n}")
        if isinstance(self.ic, FileIC) and self.ic.field is not None and self.ic.field not in signature.fields:
            raise CaseError("ic.field", f"PDE '{self.pde.name}' has fields {', '.join(signature.fields)}, not '{self.ic.field}'")
        return self

    # -- serialisation -------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    def canonical_json(self) -> str:
        """The JSON that is hashed: sorted keys, compact separators."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    @classmethod
    def from_json(cls, text: str) -> Case:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise CaseError("", f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
        if not isinstance(data, dict):
            raise CaseError("", "a case in JSON must be an object")
        return cls(**data)

    # -- derived quantities --------------------------------------------------

    @property
    def n_dims(self) -> int:
        return len(self.grid.n)

    @property
    def fields(self) -> tuple[str, ...]:
        return self.pde.signature.fields

    def with_updates(self, updates: dict[str, Any]) -> Case:
        """A new case with dotted-path updates (``{"time.dt": 0.1}``), validated."""
        data = self.to_dict()
        for path, value in updates.items():
            node = data
            keys = path.split(".")
            for key in keys[:-1]:
                if not isinstance(node, dict) or key not in node:
                    raise CaseError(path, "unknown field")
                node = node[key]
            if not isinstance(node, dict):
                raise CaseError(path, "unknown field")
            node[keys[-1]] = value
        return Case(**data)


def _axis_conditions(case: Case) -> tuple[BoundaryCondition, BoundaryCondition]:
    """The per-axis conditions the projection solver reads, from the conditions on named pieces.

    Every piece needs one condition and a condition names a piece; an obstacle
    is a wall at rest; the x sides are both walls or an inflow (left) and an
    outflow (right); the y sides are walls. Moving walls of one axis share a
    profile.
    """
    assert case.boundary is not None
    if case.n_dims != 2:
        raise CaseError("boundary", f"conditions on named pieces are for 2D flows; a {case.n_dims}D case gives 'bcs' per axis")
    geometry = case.geometry
    pieces = {p.name: p.boundary for p in geometry.pieces} if geometry is not None else {side: (side,) for side in ("left", "right", "bottom", "top")}
    for name in case.boundary:
        if name not in pieces:
            raise CaseError(f"boundary.{name}", f"unknown piece '{name}'; pieces: {', '.join(pieces)}")
    for name in pieces:
        if name not in case.boundary:
            raise CaseError("boundary", f"piece '{name}' has no condition; every piece needs one")
    owner = {part: name for name, parts in pieces.items() for part in parts}
    for part, name in owner.items():
        condition = case.boundary[name]
        if part.startswith("obstacle") and (condition.kind != "wall" or condition.speed != 0):
            raise CaseError(f"boundary.{name}", f"an obstacle ({part}) is a wall at rest, not '{condition.kind}' at speed {condition.speed:g}")
    if any(side not in owner for side in ("left", "right", "bottom", "top")):
        raise CaseError("geometry.container", "conditions on a flow's pieces need a box container (sides left, right, bottom, top)")

    def side(name: str) -> PieceBoundary:
        return case.boundary[owner[name]]

    def walls(lower: str, upper: str) -> BoundaryCondition:
        moving = {side(s).profile for s in (lower, upper) if side(s).speed}
        if len(moving) > 1:
            raise CaseError(f"boundary.{owner[upper]}", f"the moving walls on {lower} and {upper} need one profile, got {' and '.join(sorted(moving))}")
        return BoundaryCondition(kind="wall", lower=side(lower).speed, upper=side(upper).speed, profile=moving.pop() if moving else "uniform")

    kinds = (side("left").kind, side("right").kind)
    if kinds == ("wall", "wall"):
        x_axis = walls("left", "right")
    elif kinds == ("inflow", "outflow"):
        x_axis = BoundaryCondition(kind="inflow-outflow", lower=side("left").speed)
    else:
        culprit = owner["right"] if kinds[0] in ("wall", "inflow") else owner["left"]  # the first side that cannot stay
        raise CaseError(
            f"boundary.{culprit}",
            f"solver 'projection' takes walls on both the left and right sides, or an inflow on the left and an outflow on the right; got {kinds[0]} and {kinds[1]}",
        )
    for s in ("bottom", "top"):
        if side(s).kind != "wall":
            raise CaseError(f"boundary.{owner[s]}", f"solver 'projection' takes walls on the bottom and top sides; the {s} is '{side(s).kind}'")
    return x_axis, walls("bottom", "top")


def _signature_or_none(name: Any) -> Signature | None:
    """The PDE's signature if ``name`` names one; the field's own validator reports it otherwise."""
    if not isinstance(name, str):
        return None
    try:
        return pde_signature(name)
    except ValueError:
        return None


def _default_method(signature: Signature, bcs: Any) -> str:
    """The PDE's default scheme: its own, else ``ode`` without space, ``etdrk`` on periodic axes, ``finite-difference`` on bounded ones."""
    if signature.default_scheme is not None:
        return signature.default_scheme
    if signature.n_dims == 0:
        return "ode"
    method = "etdrk"
    items = bcs if isinstance(bcs, (list, tuple)) else [bcs] if bcs is not None else []
    kinds = {item.get("kind") if isinstance(item, dict) else getattr(item, "kind", None) for item in items}
    if method == "etdrk" and kinds - {"periodic", None}:
        return "finite-difference"
    return method


def _nested_shape(values: Any) -> tuple[int, ...]:
    shape: list[int] = []
    node = values
    while isinstance(node, list):
        shape.append(len(node))
        if not node:
            break
        node = node[0]
    return tuple(shape)
