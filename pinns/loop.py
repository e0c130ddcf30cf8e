"""The optimiser loop: fused Adam steps, then L-BFGS, with evaluation, checkpoint and re-balancing events.

The loop minimises any :class:`AbstractObjective`: something that draws a
batch from a key, forms named loss terms of a model on it (through a reducer
with a state), and updates that state after a step. A PINN's objective is a
method on a problem (:class:`MethodObjective`); a reduced-order model
(``rom``) brings its own. The loss is ``sum_i weights_i * terms_i``.

Performance notes (bench/bench_pinn.py, 2 CPU cores):

- ``n`` Adam steps run in one compiled ``jax.lax.fori_loop`` (:func:`adam_steps`),
  ``n`` traced, so every length shares one compilation. One call per step
  paid 1.5 ms of dispatch on a 4 ms step (1 core); the loop pays it once.
  Each step draws its batch from ``fold_in(key, step)``, so a run is the same
  function of the step count however it is cut into calls, and a run
  resumed from a checkpoint equals an uninterrupted one bit for bit.
- Plain ``jax.jit``, not ``eqx.filter_jit``: every leaf of a
  :class:`TrainState` and of an objective is an array (models, methods and
  problems keep their settings in static fields) and the optimiser settings
  are a hashable dataclass, so nothing needs filtering; filter_jit's per-call
  partition of the state cost 0.75 ms of a 4 ms step.
- L-BFGS (``optax.lbfgs``, zoom line search) works on one fixed batch, its
  steps fused the same way (:func:`lbfgs_steps`).
"""

from __future__ import annotations

import abc
import functools
from dataclasses import dataclass
from typing import Any, Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, PRNGKeyArray

from pinns.config import Optimiser, Run, Sampling
from pinns.losses import balanced_weights

__all__ = [
    "AbstractObjective", "MethodObjective", "TrainState", "Events", "init_state", "adam", "adam_steps", "lbfgs_steps",
    "balance", "total", "fit",
]


class AbstractObjective(eqx.Module):
    """What the loop minimises."""

    @abc.abstractmethod
    def sample(self, key: PRNGKeyArray) -> Any:
        """One step's batch."""

    @abc.abstractmethod
    def terms(self, model: Any, batch: Any, reducer_state: Array) -> tuple[dict[str, Array], Array]:
        """``({term: value}, what the reducer reports)`` of ``model`` on ``batch``."""

    @abc.abstractmethod
    def reducer_init(self, dtype: Any) -> Array:
        """The reducer's state at the first step."""

    @abc.abstractmethod
    def reducer_update(self, state: Array, reported: Array) -> Array:
        """The reducer's state after a step that reported ``reported``."""

    @abc.abstractmethod
    def initial_weights(self) -> dict[str, float]:
        """The terms' weights at the first step (their names are the terms')."""

    def for_lbfgs(self) -> AbstractObjective:
        """The objective whose one fixed batch the L-BFGS phase minimises (by default: this one)."""
        return self


class MethodObjective(AbstractObjective):
    """A method (:class:`pinns.method.AbstractMethod`) on a problem, with the sampling settings."""

    method: Any
    problem: Any
    sampling: Sampling = eqx.field(static=True)

    def sample(self, key: PRNGKeyArray) -> Any:
        return self.problem.sample(key, self.sampling)

    def terms(self, model: Any, batch: Any, reducer_state: Array) -> tuple[dict[str, Array], Array]:
        return self.method.terms(model, self.problem, batch, reducer_state)

    def reducer_init(self, dtype: Any) -> Array:
        return self.method.reducer.init(dtype)

    def reducer_update(self, state: Array, reported: Array) -> Array:
        return self.method.reducer.update(state, reported)

    def initial_weights(self) -> dict[str, float]:
        return self.method.initial_weights(self.problem)

    def for_lbfgs(self) -> MethodObjective:
        import dataclasses

        size = self.sampling.n_residual_lbfgs or self.sampling.n_residual
        return MethodObjective(self.method, self.problem, dataclasses.replace(self.sampling, n_residual=size))


class TrainState(eqx.Module):
    """Everything a checkpoint holds; the run continues from it bit for bit."""

    model: Any
    adam_state: Any
    lbfgs_state: Any
    step: Array
    reducer_state: Array
    weights: dict[str, Array]


def adam(optimiser: Optimiser) -> optax.GradientTransformation:
    """Adam with the learning rate ``lr * rate^(step / decay_steps)``."""
    return optax.adam(optax.exponential_decay(optimiser.learning_rate, optimiser.decay_steps, optimiser.decay_rate))


def _strong(tree: Any) -> Any:
    # optax.lbfgs initialises some line-search counters as weakly typed
    # scalars that its update returns strongly typed: without this the first
    # L-BFGS call compiles twice.
    return jax.tree.map(lambda x: jnp.asarray(x, dtype=x.dtype) if isinstance(x, jax.Array) else x, tree)


def _dtype(model: Any) -> Any:
    return jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array))[0].dtype


def init_state(objective: AbstractObjective, model: Any, optimiser: Optimiser) -> TrainState:
    """The state at step 0 of training ``model`` on ``objective``."""
    dtype = _dtype(model)
    params = eqx.filter(model, eqx.is_inexact_array)
    return TrainState(
        model=model,
        adam_state=adam(optimiser).init(params),
        lbfgs_state=_strong(optax.lbfgs().init(params)),
        step=jnp.asarray(0, jnp.int32),
        reducer_state=objective.reducer_init(dtype),
        weights={name: jnp.asarray(w, dtype) for name, w in objective.initial_weights().items()},
    )


def total(terms: dict[str, Array], weights: dict[str, Array]) -> Array:
    """``sum_i weights_i terms_i`` over the weighted terms."""
    return sum(weights[name] * terms[name] for name in weights)


def _adam_body(state: TrainState, objective: AbstractObjective, optimiser: Optimiser, key: PRNGKeyArray) -> tuple[TrainState, dict[str, Array], Array]:
    batch = objective.sample(jax.random.fold_in(key, state.step))
    params, static = eqx.partition(state.model, eqx.is_inexact_array)

    def loss(p):
        terms, reported = objective.terms(eqx.combine(p, static), batch, state.reducer_state)
        return total(terms, state.weights), (terms, reported)

    (_, (terms, reported)), grads = jax.value_and_grad(loss, has_aux=True)(params)
    updates, adam_state = adam(optimiser).update(grads, state.adam_state, params)
    model = eqx.combine(optax.apply_updates(params, updates), static)
    reducer_state = objective.reducer_update(state.reducer_state, reported)
    return TrainState(model, adam_state, state.lbfgs_state, state.step + 1, reducer_state, state.weights), terms, reported


@functools.partial(jax.jit, static_argnums=2)
def adam_steps(
    state: TrainState, objective: AbstractObjective, optimiser: Optimiser, key: PRNGKeyArray, n: Array
) -> tuple[TrainState, dict[str, Array], Array]:
    """``n`` Adam steps in one compiled loop; the terms and the reducer's report of the last."""
    _, terms, reported = jax.eval_shape(lambda s: _adam_body(s, objective, optimiser, key), state)
    zeros = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), (terms, reported))

    def body(_, carry):
        return _adam_body(carry[0], objective, optimiser, key)

    return jax.lax.fori_loop(0, n, body, (state, *zeros))


def _lbfgs_loss(objective: AbstractObjective, key: PRNGKeyArray, state: TrainState) -> tuple[Callable, Any]:
    # One fixed batch for the whole L-BFGS phase: its curvature pairs assume one function.
    objective = objective.for_lbfgs()
    batch = objective.sample(jax.random.fold_in(key, 2**31 - 1))
    static = eqx.partition(state.model, eqx.is_inexact_array)[1]

    def loss(p):
        terms, _ = objective.terms(eqx.combine(p, static), batch, state.reducer_state)
        return total(terms, state.weights)

    return loss, static


@jax.jit
def lbfgs_steps(state: TrainState, objective: AbstractObjective, key: PRNGKeyArray, n: Array) -> tuple[TrainState, Array]:
    """``n`` L-BFGS iterations on the fixed batch, in one compiled loop; the loss before the last update."""
    loss, static = _lbfgs_loss(objective, key, state)
    solver = optax.lbfgs()

    def body(_, carry):
        params, lbfgs_state, _ = carry
        value, grad = optax.value_and_grad_from_state(loss)(params, state=lbfgs_state)
        updates, lbfgs_state = solver.update(grad, lbfgs_state, params, value=value, grad=grad, value_fn=loss)
        return optax.apply_updates(params, updates), lbfgs_state, value

    params = eqx.filter(state.model, eqx.is_inexact_array)
    value0 = jnp.zeros((), _dtype(state.model))
    params, lbfgs_state, value = jax.lax.fori_loop(0, n, body, (params, state.lbfgs_state, value0))
    model = eqx.combine(params, static)
    return TrainState(model, state.adam_state, lbfgs_state, state.step + n, state.reducer_state, state.weights), value


@eqx.filter_jit
def balance(state: TrainState, objective: AbstractObjective, momentum: float, key: PRNGKeyArray) -> TrainState:
    """Re-weight the terms by their gradient norms (:func:`pinns.losses.balanced_weights`) on the step's batch."""
    batch = objective.sample(jax.random.fold_in(key, state.step))
    params, static = eqx.partition(state.model, eqx.is_inexact_array)
    norms = {}
    for name in state.weights:
        grad = jax.grad(lambda p: objective.terms(eqx.combine(p, static), batch, state.reducer_state)[0][name])(params)
        norms[name] = optax.tree.norm(grad)
    return eqx.tree_at(lambda s: s.weights, state, balanced_weights(norms, state.weights, momentum))


@dataclass
class Events:
    """What :func:`fit` does between compiled calls."""

    evaluate: Callable[[Any], float]  # model -> error against the reference (rel. L2)
    record: list[dict[str, Any]]  # history entries are appended here
    save: Callable[[TrainState, list[dict[str, Any]]], None] | None = None  # checkpoint
    label: dict[str, Any] | None = None  # added to every history entry (the window, say)
    offset: int = 0  # added to the step of every history entry
    bar: Any = None  # a tqdm bar, or None
    balance_every: int = 0
    balance_momentum: float = 0.9


def _call_length(step: int, end: int, phase_end: int, every: tuple[int, ...], per_call: int) -> int:
    """Steps until the next event (evaluation, checkpoint, re-balancing, end of the phase or of the run)."""
    length = min(per_call, phase_end - step, end - step)
    for period in every:
        if period:
            length = min(length, period - step % period)
    return max(length, 1)


def fit(
    state: TrainState,
    objective: AbstractObjective,
    optimiser: Optimiser,
    run: Run,
    key: PRNGKeyArray,
    events: Events,
    end: int | None = None,
) -> TrainState:
    """Adam steps, then L-BFGS steps, until step ``end`` (default: all of them); history into ``events.record``."""
    total_steps = optimiser.steps + optimiser.lbfgs_steps
    end = total_steps if end is None else min(end, total_steps)
    while int(state.step) < end:
        step = int(state.step)
        terms: dict[str, Array] = {}
        reported = None
        if step < optimiser.steps:
            if events.balance_every and step % events.balance_every == 0 and step > 0:
                state = balance(state, objective, events.balance_momentum, key)
            every = (run.eval_every, run.checkpoint_every, events.balance_every)
            length = _call_length(step, end, optimiser.steps, every, optimiser.steps_per_call)
            state, terms, reported = adam_steps(state, objective, optimiser, key, jnp.asarray(length, jnp.int32))
            loss = float(total(terms, state.weights))
        else:
            length = _call_length(step, end, total_steps, (run.eval_every, run.checkpoint_every), optimiser.steps_per_call)
            state, value = lbfgs_steps(state, objective, key, jnp.asarray(length, jnp.int32))
            loss = float(value)
        done = step + length
        if done % run.eval_every == 0 or done == total_steps:
            error = events.evaluate(state.model)
            entry = {"step": events.offset + done, "loss": loss, "rel_l2": error, "eps": float(state.reducer_state), **(events.label or {})}
            entry.update({f"loss_{k}": float(v) for k, v in terms.items()})
            entry.update({f"weight_{k}": float(v) for k, v in state.weights.items()})
            if reported is not None:
                entry["causal_weights"] = [float(w) for w in np.asarray(reported)]
            events.record.append(entry)
            if events.bar is not None:
                events.bar.set_postfix(loss=f"{loss:.3e}", rel_l2=f"{error:.3e}")
        if events.save is not None and (done % run.checkpoint_every == 0 or done == end):
            events.save(state, events.record)
        if events.bar is not None:
            events.bar.update(length)
    return state
