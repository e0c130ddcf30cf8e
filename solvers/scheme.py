"""The scheme contract: what every solver back-end is, and the one time axis they share.

A scheme is the discretisation of a case's PDE on its own grid: an equinox
Module built from a :class:`~phys.case.Case` (:meth:`AbstractScheme.from_case`,
or :func:`scheme_for`) whose array leaves are the PDE's parameters (and
whatever else of the case is an array, such as boundary values), with

- :meth:`~AbstractScheme.init`: the state from the initial fields on the
  scheme's grid (``[fields, *n]`` at :meth:`~AbstractScheme.coords`);
- :meth:`~AbstractScheme.step`: one step of ``dt``, pure;
- :meth:`~AbstractScheme.tendency`: ``d state / dt`` of the discretised
  equation, the right-hand side the scheme integrates, shaped like the state;
- :meth:`~AbstractScheme.observe`: the output fields at a state;
- :meth:`~AbstractScheme.fields`: the state fields on the grid (inverse of
  ``init`` for the fields), so that a tendency can be read on the grid.

A state is a flat ``dict`` of arrays: it is stored with each written block of
an HDF5 run, so a resumed run continues bit for bit. Everything else (the
time loop, saving, non-finite detection, steady states, blocks, files,
ensembles) is written once, in :mod:`solvers.rollout` and
:mod:`solvers.driver`, for every scheme alike. A scheme may refine the
defaults here: :meth:`~AbstractScheme.prepare` (precompute what depends on the
parameters, once per rollout), :meth:`~AbstractScheme.advance_interval` (one
save interval, when it is not ``save_every`` plain steps: an adaptive step),
:meth:`~AbstractScheme.failure_hint` and :meth:`~AbstractScheme.report`.
"""

from __future__ import annotations

import abc
import importlib
from typing import Any, NamedTuple, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from phys.case import Case, CaseError
from phys.pdes._base import AbstractPDE, Derivatives

__all__ = ["AbstractScheme", "NO_BAD_STEP", "SCHEMES", "State", "TimeAxis", "check_dtype", "scheme_for", "scheme_class"]

# ``bad_step`` when every step stayed finite.
NO_BAD_STEP = -1

State = dict[str, Array]
S = TypeVar("S", bound="AbstractScheme")


class TimeAxis(NamedTuple):
    """Steps of ``dt`` from ``t0``; a snapshot every ``save_every`` steps, the initial one included.

    Hashable (a ``jit`` static field). A step is what :meth:`AbstractScheme.step`
    takes: for the adaptive ODE scheme it is a whole save interval (``dt`` is
    then ``save_dt``), so that every count here means the same for all schemes.
    """

    t0: float
    dt: float
    n_steps: int
    save_every: int

    @classmethod
    def from_case(cls, case: Case) -> TimeAxis:
        time = case.time
        return cls(t0=time.t0, dt=time.dt, n_steps=time.n_steps, save_every=time.save_every)

    @property
    def n_saves(self) -> int:
        """Snapshots saved, the initial one included."""
        return self.n_steps // self.save_every + 1

    @property
    def save_dt(self) -> float:
        return self.dt * self.save_every

    def save_times(self) -> np.ndarray:
        return self.t0 + self.save_dt * np.arange(self.n_saves)

    def time_of(self, step: int) -> float:
        return self.t0 + step * self.dt


def check_dtype(case: Case) -> None:
    """``CaseError`` if the case asks for float64 while JAX computes in float32."""
    if case.dtype == "float64" and not jax.config.jax_enable_x64:
        raise CaseError("dtype", "float64 needs JAX's 64-bit mode: call jax.config.update('jax_enable_x64', True) first")


def _finite(tree: Any) -> Bool[Array, ""]:
    leaves = [jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree_util.tree_leaves(tree) if jnp.issubdtype(leaf.dtype, jnp.inexact)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.asarray(True)


class AbstractScheme(eqx.Module):
    """A discretisation of a case's PDE; see the module docstring.

    Subclasses hold their grid and settings as static fields and the PDE (and
    any other differentiable input) as array leaves.
    """

    pde: eqx.AbstractVar[AbstractPDE]
    time: eqx.AbstractVar[TimeAxis]
    dtype: eqx.AbstractVar[str]

    @classmethod
    @abc.abstractmethod
    def from_case(cls: type[S], case: Case) -> S:
        """The scheme of ``case``; ``CaseError`` (one line) if it cannot solve it."""

    @abc.abstractmethod
    def coords(self) -> tuple[np.ndarray, ...]:
        """Per-axis coordinates (host, 1D) of the grid the initial fields and the outputs live on."""

    @abc.abstractmethod
    def init(self, fields: Float[Array, "fields *n"]) -> State:
        """The state from the state fields on :meth:`coords` (boundary values imposed, faces projected...)."""

    @abc.abstractmethod
    def fields(self, state: State) -> Float[Array, "fields *n"]:
        """The state fields on :meth:`coords`; ``fields(init(u))`` is ``u`` where ``u`` satisfies the constraints."""

    @abc.abstractmethod
    def step(self, state: State) -> State:
        """The state one ``dt`` later."""

    @abc.abstractmethod
    def tendency(self, state: State) -> State:
        """``d state / dt`` of the semi-discrete equation at ``state`` (zero on imposed values)."""

    @abc.abstractmethod
    def observe(self, state: State) -> dict[str, Array]:
        """The output fields: ``[*n]`` scalars, ``[*n, d]`` vectors, ``[*n, d, d]`` tensors."""

    # -- defaults ----------------------------------------------------------------

    def derivatives(self, state: State) -> Derivatives:
        """The evaluator this scheme hands its PDE (``d(field, alpha)`` on its grid) at ``state``.

        What the scheme computes the PDE's terms from: spectral derivatives,
        finite differences, or the point values of an ODE. Hidden-term
        discovery reads a network's inputs (fields and their derivatives) with it.
        """
        raise NotImplementedError(f"the {type(self).__name__} scheme does not expose its derivatives")

    def output_orders(self) -> dict[str, int]:
        """Output field names and their tensor order (0 scalar, 1 vector, 2 tensor)."""
        return type(self.pde).output_tensor_orders()

    def output_scalars(self) -> tuple[str, ...]:
        """Names of outputs that are one number per snapshot (``[]`` from :meth:`observe`): time series.

        They are written as ``/scalars/<name>`` ``[B, T]`` (sample- and time-varying),
        not as fields. None by default.
        """
        return ()

    def prepare(self: S) -> S:
        """This scheme with what depends on the parameters precomputed (called once per rollout)."""
        return self

    def finite(self, state: State) -> Bool[Array, ""]:
        """Whether ``state`` holds only finite values."""
        return _finite(state)

    def advance_interval(self, state: State, first_step: Int[Array, ""]) -> tuple[State, Int[Array, ""]]:
        """One save interval from global step ``first_step``: the state and the first non-finite step or ``NO_BAD_STEP``.

        By default ``save_every`` plain steps, each checked; the step count is
        1-based (the step that produced the bad state).
        """

        def one_step(carry: tuple[State, Array, Array], _: None) -> tuple[tuple[State, Array, Array], None]:
            state, step, bad = carry
            state = self.step(state)
            step = step + 1
            bad = jnp.where((bad == NO_BAD_STEP) & ~self.finite(state), step, bad)
            return (state, step, bad), None

        start = (state, jnp.asarray(first_step, jnp.int32), jnp.asarray(NO_BAD_STEP, jnp.int32))
        (state, _, bad), _ = jax.lax.scan(one_step, start, None, length=self.time.save_every)
        return state, bad

    def failure_hint(self) -> str:
        """What to change after a blow-up."""
        return f"reduce dt (now {self.time.dt:g})"

    def report(self, state: State) -> str | None:
        """An optional closing line about the run (on stderr), from the final state."""
        return None

    @property
    def steady_tol(self) -> float:
        """Freeze the state once ``max |state fields(t + save_dt) - fields(t)| / save_dt`` falls below it; 0: never."""
        return 0.0


# Case.solver.method -> "module:Class"; imported on first use, so the command
# line validates a case before any solver (or JAX) is imported.
SCHEMES: dict[str, str] = {
    "etdrk": "solvers.etdrk:Spectral",
    "finite-difference": "solvers.finite_difference:FiniteDifference",
    "finite-volume": "solvers.finite_volume:FiniteVolume",
    "projection": "solvers.projection:Projection",
    "ode": "solvers.ode:Ode",
}


def scheme_class(method: str) -> type[AbstractScheme]:
    module, _, name = SCHEMES[method].partition(":")
    return getattr(importlib.import_module(module), name)


def scheme_for(case: Case) -> AbstractScheme:
    """The scheme ``case.solver.method`` of ``case``, its PDE in the case's dtype."""
    check_dtype(case)
    return scheme_class(case.solver.method).from_case(case)
