"""A known PDE plus a hidden term: a network (or a formula) added to some fields' right-hand sides.

Universal differential equations (Rackauckas et al. 2020, arXiv 2001.04385)
and universal PINNs (Podina, Eastman & Kohandel 2023, arXiv 2212.04630) learn
the part of an equation nobody wrote down: ``d/dt u = L u + N(u) + H(inputs)``
with ``L`` and ``N`` the known PDE's own terms and ``H`` a network whose
inputs are the fields and their space derivatives up to order ``K``
(:func:`input_names`). :func:`with_hidden_term` builds that equation as a PDE
object of the same fields, so every evaluator takes it as it is: the
solvers (through ``eqx.tree_at(lambda s: s.scheme.pde, sim, pde)``) and the
PINN residual alike. ``H`` is any Module mapping the input vector to one
value per hidden field: a network while it is learned, the discovered formula
(:class:`FormulaTerm`) once it is found.
"""

from __future__ import annotations

import functools
from typing import Callable, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from phys.pdes._base import AbstractPDE, Derivatives, Terms
from pinns.hidden_names import input_names

__all__ = ["FormulaTerm", "HiddenNetwork", "WithHiddenTerm", "input_names", "hidden_inputs", "with_hidden_term"]

def hidden_inputs(d: Derivatives, fields: tuple[str, ...], n_dims: int, derivatives: int) -> Float[Array, "... inputs"]:
    """The values of :func:`input_names` from ``d``, stacked on a last axis."""
    values = []
    for field in fields:
        values.append(d(field))
        for axis in range(n_dims):
            for k in range(1, derivatives + 1):
                values.append(d(field, tuple(k if i == axis else 0 for i in range(n_dims))))
    return jnp.stack(jnp.broadcast_arrays(*values), axis=-1)


class HiddenNetwork(eqx.Module):
    """An MLP on inputs normalised by fixed statistics, its output scaled back: ``H(z) = scale * MLP((z - shift) / spread)``.

    The statistics come from the data (not trained): the network then starts
    near O(1) inputs and outputs whatever the units of the problem.
    """

    mlp: eqx.nn.MLP
    shift: Array
    spread: Array
    scale: Array

    def __init__(self, n_inputs: int, n_outputs: int, key: PRNGKeyArray, *, width: int = 32, depth: int = 3,
                 shift: Array | None = None, spread: Array | None = None, scale: Array | None = None, dtype=None):
        mlp = eqx.nn.MLP(n_inputs, n_outputs, width, depth, activation=jax.nn.gelu, key=key, dtype=dtype)
        # A zero output layer: the fit starts from the known equation alone, not from a random term that may blow it up.
        last = mlp.layers[-1]
        self.mlp = eqx.tree_at(lambda m: (m.layers[-1].weight, m.layers[-1].bias), mlp,
                               (jnp.zeros_like(last.weight), jnp.zeros_like(last.bias)))
        self.shift = jnp.zeros(n_inputs, dtype) if shift is None else jnp.asarray(shift, dtype)
        self.spread = jnp.ones(n_inputs, dtype) if spread is None else jnp.asarray(spread, dtype)
        self.scale = jnp.ones(n_outputs, dtype) if scale is None else jnp.asarray(scale, dtype)

    def __call__(self, z: Float[Array, " inputs"]) -> Float[Array, " outputs"]:
        shift, spread, scale = (jax.lax.stop_gradient(a) for a in (self.shift, self.spread, self.scale))
        return scale * self.mlp((z - shift) / spread)


class FormulaTerm(eqx.Module):
    """A discovered formula per hidden field as ``H``, its coefficients trainable arrays (refinement through a solver)."""

    formulas: tuple[Callable, ...] = eqx.field(static=True)  # parametric f(inputs, coefficients), one per field
    coefficients: tuple[Array, ...]

    def __call__(self, z: Float[Array, " inputs"]) -> Float[Array, " outputs"]:
        return jnp.stack([f(z, c) for f, c in zip(self.formulas, self.coefficients)])


class WithHiddenTerm(AbstractPDE):
    """``known`` plus ``term(inputs)`` added as a source to the ``hidden`` fields; see the module docstring."""

    known: AbstractPDE
    term: Callable[[Array], Array]
    hidden: tuple[str, ...] = eqx.field(static=True)
    derivatives: int = eqx.field(static=True)

    fields: ClassVar[tuple[str, ...]] = ()
    n_dims: ClassVar[int | None] = None

    def linear(self) -> dict[str, Terms]:
        return self.known.linear()

    def nonlinear(self, d: Derivatives) -> dict[str, Terms]:
        terms = {field: dict(values) for field, values in self.known.nonlinear(d).items()}
        z = hidden_inputs(d, self.fields, self.n_dims or 0, self.derivatives)
        flat = z.reshape(-1, z.shape[-1])
        h = jax.vmap(self.term)(flat).reshape(*z.shape[:-1], len(self.hidden))
        for index, field in enumerate(self.hidden):
            source = terms.setdefault(field, {})
            source[()] = source.get((), 0.0) + h[..., index]
        return terms

    def outputs(self, d: Derivatives) -> dict[str, Array]:
        return self.known.outputs(d)

    def advection_velocity(self, d: Derivatives) -> tuple[Array, ...] | None:
        return self.known.advection_velocity(d)


@functools.cache
def _class_for(known: type[AbstractPDE]) -> type[WithHiddenTerm]:
    # The fields and dimension are class attributes of the contract: one subclass per known PDE class.
    return type(
        f"{known.__name__}WithHiddenTerm",
        (WithHiddenTerm,),
        {"fields": known.fields, "n_dims": known.n_dims, "output_orders": known.output_orders, "__module__": __name__},
    )


def with_hidden_term(known: AbstractPDE, term: Callable[[Array], Array], hidden: tuple[str, ...], derivatives: int) -> WithHiddenTerm:
    """``known``'s equation with ``term(inputs)`` added to the fields ``hidden`` (inputs: :func:`input_names`)."""
    unknown = [field for field in hidden if field not in known.fields]
    if unknown:
        raise ValueError(f"hidden field '{unknown[0]}' is not a field of the PDE; it has {', '.join(known.fields)}")
    return _class_for(type(known))(known=known, term=term, hidden=tuple(hidden), derivatives=derivatives)
