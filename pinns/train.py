"""Train a PINN on a ``phys`` case: Adam, then L-BFGS, with checkpoints and a solver reference.

The problem comes from the case alone: the PDE (``phys/pdes``, residual by
:mod:`pinns.residual`), the space-time box ``[t0, t_end] x domain``, the
initial condition on the case's grid, and the boundary conditions (periodic
axes get an exact periodic embedding, so they need no loss term; Dirichlet and
Neumann axes get a boundary term). The reference is the solver's solution of
the same case (:func:`solvers.solve`): every ``eval_every`` steps the relative
L2 error over all saved times on the solver's grid is recorded.

Each Adam step draws fresh collocation points from ``fold_in(key, step)``:
time stratified into the causal chunks, space uniform. The run is a pure
function of the case, the config and the step, so a run resumed from a
checkpoint reproduces an uninterrupted one exactly.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, PRNGKeyArray

from phys.case import Case, CaseError
from phys.initial import grid_coordinates, initial_fields
from phys.fields import Fields
from phys.pdes._base import AbstractPDE
from pinns.config import TrainConfig
from pinns.constraints import FourierInterpolant, HardInitial, TimeWindows
from pinns.losses import causal_residual_loss, causal_weights, chunk_losses, balanced_weights, mean_square, next_causal_eps
from pinns.nets import make_network
from pinns.residual import derivative, residuals

__all__ = ["CheckpointError", "Problem", "TrainState", "TrainResult", "make_problem", "init_state", "train", "predict", "relative_l2"]

class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed: it belongs to another case or config."""


CHECKPOINT = "checkpoint.eqx"
CHECKPOINT_INFO = "checkpoint.json"


class Problem(eqx.Module):
    """What the losses need from a case, as arrays and static settings."""

    pde: AbstractPDE
    ic_points: Float[Array, "n d"]
    ic_values: Float[Array, "n fields"]
    span: Float[Array, "2"]  # the time window trained now: an array, so windows share one compilation
    lower: tuple[float, ...] = eqx.field(static=True)  # (t0, x0, ...) of the whole run
    upper: tuple[float, ...] = eqx.field(static=True)  # (t_end, x0 + L, ...)
    bcs: tuple[tuple[str, float, float], ...] = eqx.field(static=True)  # per space axis (kind, lower, upper)
    names: tuple[str, ...] = eqx.field(static=True)
    grid_shape: tuple[int, ...] = eqx.field(static=True)  # the IC points are this grid, flattened
    hard_initial: bool = eqx.field(static=True, default=False)  # the IC holds exactly: no IC loss term
    # Observations for the data term (pinns.data), or None: points (t, x, ...) and values there.
    data_points: Float[Array, "o d"] | None = None
    data_values: Float[Array, "o fields"] | None = None


def make_problem(case: Case, hard_initial: bool = False, data: tuple[np.ndarray, np.ndarray] | None = None) -> Problem:
    """The PINN problem of ``case``: box, IC on the case's grid, BCs.

    ``hard_initial``: the network is wrapped so the IC holds exactly
    (:class:`pinns.constraints.HardInitial`); it needs every space axis periodic.
    ``data``: observations ``(points [o, 1 + d], values [o, fields])`` for a
    data term (:func:`pinns.data.observations`).
    """
    if hard_initial and any(bc.kind != "periodic" for bc in case.bcs):
        raise CaseError("hard_initial", "needs every space axis periodic (the IC is imposed through its Fourier interpolant)")
    dtype = jnp.dtype(case.dtype)
    u0 = initial_fields(case)  # [fields, *n]
    coords = grid_coordinates(case)
    mesh = jnp.meshgrid(*[jnp.asarray(c, dtype) for c in coords], indexing="ij")
    space = jnp.stack([m.reshape(-1) for m in mesh], axis=1)
    t0 = jnp.full((space.shape[0], 1), case.time.t0, dtype)
    lower = (case.time.t0, *case.domain.origin)
    upper = (case.time.t_end, *(o + length for o, length in zip(case.domain.origin, case.domain.length)))
    return Problem(
        pde=case.pde.build(case.dtype),
        ic_points=jnp.concatenate([t0, space], axis=1),
        ic_values=u0.reshape(u0.shape[0], -1).T,
        span=jnp.asarray([case.time.t0, case.time.t_end], dtype),
        lower=tuple(float(v) for v in lower),
        upper=tuple(float(v) for v in upper),
        bcs=tuple((bc.kind, float(bc.lower), float(bc.upper)) for bc in case.bcs),
        names=case.fields,
        grid_shape=tuple(u0.shape[1:]),
        hard_initial=hard_initial,
        data_points=None if data is None else jnp.asarray(data[0], dtype),
        data_values=None if data is None else jnp.asarray(data[1], dtype),
    )


def window_problem(problem: Problem, t0: float, t1: float, ic_values: Float[Array, "n fields"]) -> Problem:
    """``problem`` on the time window ``[t0, t1]``, starting from ``ic_values`` on the IC grid."""
    dtype = problem.ic_values.dtype
    changes = (problem.ic_points.at[:, 0].set(t0), jnp.asarray(ic_values, dtype), jnp.asarray([t0, t1], problem.span.dtype))
    return eqx.tree_at(lambda p: (p.ic_points, p.ic_values, p.span), problem, changes)


def window_edges(problem: Problem, windows: int) -> tuple[float, ...]:
    """``windows + 1`` equally spaced times from the start to the end of the problem."""
    t0, t1 = problem.lower[0], problem.upper[0]
    return tuple(float(v) for v in np.linspace(t0, t1, windows + 1))


class TrainState(eqx.Module):
    """Everything a checkpoint holds; the run continues from it bit for bit."""

    model: eqx.Module
    adam_state: Any
    lbfgs_state: Any
    step: Array
    eps: Array
    weights: dict[str, Array]


@dataclass
class TrainResult:
    model: eqx.Module
    history: list[dict[str, Any]]
    rel_l2: float
    steps: int
    wall_s: float
    prediction: np.ndarray | None = None  # [T, *n, fields] on the reference grid


# -- setup --------------------------------------------------------------------


def _network(problem: Problem, config: TrainConfig, key: PRNGKeyArray, dtype: jnp.dtype) -> eqx.Module:
    periods = (None,) + tuple(
        (hi - lo) if kind == "periodic" else None for (kind, _, _), lo, hi in zip(problem.bcs, problem.lower[1:], problem.upper[1:])
    )
    return make_network(
        key,
        lower=(float(problem.span[0]), *problem.lower[1:]),
        upper=(float(problem.span[1]), *problem.upper[1:]),
        n_out=len(problem.names),
        periods=periods,
        architecture=config.architecture,
        width=config.width,
        depth=config.depth,
        activation=config.activation,
        n_modes=config.n_modes,
        fourier=(config.fourier_features, config.fourier_scale) if config.fourier_features else None,
        factorize=(config.factorize_mu, config.factorize_sigma) if config.factorize else None,
        dtype=dtype,
    )


def _term_names(problem: Problem) -> tuple[str, ...]:
    boundary = any(kind != "periodic" for kind, _, _ in problem.bcs)
    initial = () if problem.hard_initial else ("initial",)
    data = () if problem.data_points is None else ("data",)
    return initial + ("residual",) + (("boundary",) if boundary else ()) + data


def _hard_initial(problem: Problem, network: eqx.Module) -> HardInitial:
    values = np.asarray(problem.ic_values).T.reshape(-1, *problem.grid_shape)
    length = tuple(hi - lo for lo, hi in zip(problem.lower[1:], problem.upper[1:]))
    initial = FourierInterpolant(values, problem.lower[1:], length, problem.ic_values.dtype)
    return HardInitial(network, initial, problem.span[0], problem.span[1] - problem.span[0])


def _warm_start(network: eqx.Module, previous: eqx.Module) -> eqx.Module:
    """``previous``'s weights in ``network``, whose input box (the new window) is kept."""
    if isinstance(previous, HardInitial):
        previous = previous.network
    embedding = (network.embedding.shift, network.embedding.scale)
    return eqx.tree_at(lambda m: (m.embedding.shift, m.embedding.scale), previous, embedding)


def _adam(config: TrainConfig) -> optax.GradientTransformation:
    schedule = optax.exponential_decay(config.learning_rate, config.decay_steps, config.decay_rate)
    return optax.adam(schedule)


def init_state(problem: Problem, config: TrainConfig, key: PRNGKeyArray, previous: eqx.Module | None = None) -> TrainState:
    """A fresh state; ``previous`` (the last window's model) seeds the weights when given."""
    dtype = problem.ic_values.dtype
    model = _network(problem, config, key, dtype)
    if previous is not None:
        model = _warm_start(model, previous)
    if problem.hard_initial:
        model = _hard_initial(problem, model)
    params = eqx.filter(model, eqx.is_inexact_array)
    initial = {"initial": config.weight_initial, "residual": config.weight_residual, "boundary": config.weight_boundary,
               "data": config.weight_data}
    return TrainState(
        model=model,
        adam_state=_adam(config).init(params),
        lbfgs_state=_strong(optax.lbfgs().init(params)),
        step=jnp.asarray(0, jnp.int32),
        eps=jnp.asarray(config.causal_eps, dtype),
        weights={name: jnp.asarray(initial[name], dtype) for name in _term_names(problem)},
    )


def _strong(tree: Any) -> Any:
    # optax.lbfgs initialises some line-search counters as weakly typed
    # scalars that its update returns strongly typed: without this the first
    # L-BFGS step compiles twice.
    return jax.tree.map(lambda x: jnp.asarray(x, dtype=x.dtype) if isinstance(x, jax.Array) else x, tree)


# -- losses -------------------------------------------------------------------


class Batch(NamedTuple):
    residual: Float[Array, "chunks m d"]
    initial: Float[Array, "k d"]
    initial_values: Float[Array, "k fields"]
    boundary: Float[Array, "b d"] | None  # points on the lower faces; upper faces are + length
    boundary_axis: tuple[int, ...]
    data: Float[Array, "k d"] | None = None
    data_values: Float[Array, "k fields"] | None = None


def sample(problem: Problem, config: TrainConfig, key: PRNGKeyArray) -> Batch:
    """Collocation points: time stratified into ``n_chunks`` chunks in order, space uniform."""
    dtype = problem.ic_values.dtype
    key_t, key_x, key_ic, key_bc = jax.random.split(key, 4)
    m = config.n_residual // config.n_chunks
    n_dims = len(problem.lower) - 1
    t0, t1 = problem.span[0], problem.span[1]
    chunk = (t1 - t0) / config.n_chunks
    offsets = jax.random.uniform(key_t, (config.n_chunks, m), dtype)
    t = t0 + chunk * (jnp.arange(config.n_chunks, dtype=dtype)[:, None] + offsets)
    lo = jnp.asarray(problem.lower[1:], dtype)
    hi = jnp.asarray(problem.upper[1:], dtype)
    x = lo[None, None, :] + (hi - lo)[None, None, :] * jax.random.uniform(key_x, (config.n_chunks, m, n_dims), dtype)
    residual = jnp.concatenate([t[..., None], x], axis=-1)
    pick = jax.random.randint(key_ic, (config.n_initial,), 0, problem.ic_points.shape[0])
    walls = tuple(i for i, (kind, _, _) in enumerate(problem.bcs) if kind != "periodic")
    boundary = None
    if walls:
        # n_boundary random points per walled axis on its lower face.
        faces = []
        for j, axis in enumerate(walls):
            k_t, k_x = jax.random.split(jax.random.fold_in(key_bc, j))
            tb = t0 + (t1 - t0) * jax.random.uniform(k_t, (config.n_boundary, 1), dtype)
            xb = lo[None, :] + (hi - lo)[None, :] * jax.random.uniform(k_x, (config.n_boundary, n_dims), dtype)
            xb = xb.at[:, axis].set(lo[axis])
            faces.append(jnp.concatenate([tb, xb], axis=1))
        boundary = jnp.stack(faces)
    data = data_values = None
    if problem.data_points is not None:
        rows = jax.random.randint(jax.random.fold_in(key_ic, 1), (config.n_data,), 0, problem.data_points.shape[0])
        data, data_values = problem.data_points[rows], problem.data_values[rows]
    return Batch(residual, problem.ic_points[pick], problem.ic_values[pick], boundary, walls, data, data_values)


def loss_terms(model: eqx.Module, problem: Problem, batch: Batch, eps: Array, causal: bool) -> tuple[dict[str, Array], Array]:
    """The mean-square terms and the causal weights (computed, and reported, for both methods)."""
    chunks, m, d = batch.residual.shape
    r = residuals(problem.pde, model, batch.residual.reshape(chunks * m, d), problem.names)
    squared = jnp.sum(jnp.square(r), axis=1).reshape(chunks, m)
    if causal:
        residual_loss, weights = causal_residual_loss(squared, eps)
    else:
        residual_loss, weights = jnp.mean(squared), causal_weights(chunk_losses(squared), eps)
    terms = {"residual": residual_loss}
    if not problem.hard_initial:
        terms["initial"] = mean_square(jax.vmap(model)(batch.initial) - batch.initial_values)
    if batch.data is not None:
        # Only observations inside the window being trained count (all of them without windows);
        # masking rather than filtering keeps one shape, so windows share a compilation.
        inside = (batch.data[:, 0] >= problem.span[0]) & (batch.data[:, 0] <= problem.span[1])
        misfit = jnp.mean(jnp.square(jax.vmap(model)(batch.data) - batch.data_values), axis=1)
        terms["data"] = jnp.sum(jnp.where(inside, misfit, 0)) / jnp.maximum(jnp.sum(inside), 1)
    if batch.boundary is not None:
        misfits = []
        for j, axis in enumerate(batch.boundary_axis):
            kind, low, high = problem.bcs[axis]
            length = problem.upper[1 + axis] - problem.lower[1 + axis]
            lower = batch.boundary[j]
            upper = lower.at[:, 1 + axis].add(length)
            if kind == "dirichlet":
                value = jax.vmap(model)
            else:  # neumann: the normal derivative along the axis
                alpha = tuple(1 if i == axis else 0 for i in range(d - 1))
                value = jax.vmap(derivative(model, alpha))
            misfits += [value(lower) - low, value(upper) - high]
        terms["boundary"] = mean_square(jnp.stack(misfits))
    return terms, weights


def _total(terms: dict[str, Array], weights: dict[str, Array]) -> Array:
    return sum(weights[name] * terms[name] for name in terms)


# -- steps ----------------------------------------------------------------------


def _adam_body(state: TrainState, problem: Problem, config: TrainConfig, key: PRNGKeyArray) -> tuple[TrainState, dict[str, Array], Array]:
    batch = sample(problem, config, jax.random.fold_in(key, state.step))
    causal = config.method == "causal"
    params, static = eqx.partition(state.model, eqx.is_inexact_array)

    def loss(p):
        terms, w = loss_terms(eqx.combine(p, static), problem, batch, state.eps, causal)
        return _total(terms, state.weights), (terms, w)

    (_, (terms, weights)), grads = jax.value_and_grad(loss, has_aux=True)(params)
    updates, adam_state = _adam(config).update(grads, state.adam_state, params)
    model = eqx.combine(optax.apply_updates(params, updates), static)
    eps = state.eps
    if causal:
        eps = next_causal_eps(eps, weights, config.causal_delta, config.causal_factor, config.causal_eps_max)
    new = TrainState(model, adam_state, state.lbfgs_state, state.step + 1, eps, state.weights)
    return new, terms, weights


@functools.partial(jax.jit, static_argnums=2)
def _adam_steps(
    state: TrainState, problem: Problem, config: TrainConfig, key: PRNGKeyArray, n: Array
) -> tuple[TrainState, dict[str, Array], Array]:
    """``n`` Adam steps in one compiled loop; the terms and causal weights of the last.

    ``n`` is traced, so every length shares one compilation. One call per
    step paid 1.5 ms of dispatch on a 4 ms step (bench/bench_pinn.py, 1 core);
    the loop pays it once. Each step is :func:`_adam_body` with the step
    count in its key, so a run is the same function of the step count
    however it is cut into calls. Plain ``jax.jit``, not ``eqx.filter_jit``:
    every leaf of a TrainState and a Problem is an array (the networks keep
    their settings in static fields) and TrainConfig is hashable, so nothing
    needs filtering, and filter_jit's per-call partition of the state cost
    0.75 ms of a 4 ms step.
    """
    _, terms, weights = jax.eval_shape(lambda s: _adam_body(s, problem, config, key), state)
    zeros = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), (terms, weights))

    def body(_, carry):
        return _adam_body(carry[0], problem, config, key)

    return jax.lax.fori_loop(0, n, body, (state, *zeros))


def _call_length(step: int, end: int, config: TrainConfig) -> int:
    """Adam steps until the next event (evaluation, checkpoint, re-balancing, end of Adam or of the run)."""
    length = min(config.steps_per_call, config.steps - step, end - step)
    for every in (config.eval_every, config.checkpoint_every, config.balance_every):
        if every:
            length = min(length, every - step % every)
    return max(length, 1)


@eqx.filter_jit
def _balance(state: TrainState, problem: Problem, config: TrainConfig, key: PRNGKeyArray) -> TrainState:
    """Re-weight the terms by their gradient norms (pinns.losses.balanced_weights)."""
    batch = sample(problem, config, jax.random.fold_in(key, state.step))
    params, static = eqx.partition(state.model, eqx.is_inexact_array)
    norms = {}
    for name in state.weights:
        grad = jax.grad(lambda p: loss_terms(eqx.combine(p, static), problem, batch, state.eps, config.method == "causal")[0][name])(params)
        norms[name] = optax.tree.norm(grad)
    weights = balanced_weights(norms, state.weights, config.balance_momentum)
    return eqx.tree_at(lambda s: s.weights, state, weights)


def _lbfgs_loss(problem: Problem, config: TrainConfig, key: PRNGKeyArray, state: TrainState) -> tuple[Callable, Any]:
    # One fixed batch for the whole L-BFGS phase: its curvature pairs assume one function.
    size = config.n_residual_lbfgs or config.n_residual
    batch = sample(problem, config.replace(n_residual=size), jax.random.fold_in(key, 2**31 - 1))
    params, static = eqx.partition(state.model, eqx.is_inexact_array)

    def loss(p):
        terms, _ = loss_terms(eqx.combine(p, static), problem, batch, state.eps, config.method == "causal")
        return _total(terms, state.weights)

    return loss, static


@eqx.filter_jit
def _lbfgs_step(state: TrainState, problem: Problem, config: TrainConfig, key: PRNGKeyArray) -> tuple[TrainState, Array]:
    loss, static = _lbfgs_loss(problem, config, key, state)
    params = eqx.filter(state.model, eqx.is_inexact_array)
    value, grad = optax.value_and_grad_from_state(loss)(params, state=state.lbfgs_state)
    solver = optax.lbfgs()
    updates, lbfgs_state = solver.update(grad, state.lbfgs_state, params, value=value, grad=grad, value_fn=loss)
    model = eqx.combine(optax.apply_updates(params, updates), static)
    return TrainState(model, state.adam_state, lbfgs_state, state.step + 1, state.eps, state.weights), value


# -- evaluation -----------------------------------------------------------------


@eqx.filter_jit
def _evaluate(model: eqx.Module, points: Float[Array, "n d"]) -> Float[Array, "n fields"]:
    return jax.vmap(model)(points)


def predict(model: eqx.Module, times: np.ndarray, coords: tuple[np.ndarray, ...], batch: int = 65536) -> np.ndarray:
    """The network on the grid ``times x coords``: ``[T, *n, fields]`` (host)."""
    if isinstance(model, TimeWindows):
        # Each window's network on its own times only, put back in the order asked for.
        times = np.asarray(times)
        owner = np.searchsorted(np.asarray(model.edges[1:-1]), times, side="right")
        out = None
        for i, m in enumerate(model.models):
            if np.any(owner == i):
                part = predict(m, times[owner == i], coords, batch)
                out = np.empty((len(times), *part.shape[1:]), part.dtype) if out is None else out
                out[owner == i] = part
        return out
    dtype = jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array))[0].dtype
    axes = [np.asarray(times), *map(np.asarray, coords)]
    mesh = np.meshgrid(*axes, indexing="ij")
    points = np.stack([m.reshape(-1) for m in mesh], axis=1).astype(dtype)
    out = np.concatenate([np.asarray(_evaluate(model, jnp.asarray(points[i : i + batch]))) for i in range(0, len(points), batch)])
    return out.reshape(*mesh[0].shape, -1)


def relative_l2(prediction: np.ndarray, reference: np.ndarray) -> float:
    """``|prediction - reference|_2 / |reference|_2`` over every entry."""
    return float(np.linalg.norm((prediction - reference).ravel()) / np.linalg.norm(reference.ravel()))


def _reference_values(reference: Fields, names: tuple[str, ...]) -> np.ndarray:
    # [T, *n, fields] for the network's fields the solver also saves.
    return np.stack([np.asarray(reference[name][0], dtype=np.float64) for name in names], axis=-1)


# -- checkpoints ----------------------------------------------------------------


def save_checkpoint(
    directory: Path, window: int, finished: list[eqx.Module], state: TrainState, history: list[dict[str, Any]], identity: dict[str, Any]
) -> None:
    """``checkpoint.eqx`` (finished windows' models and the current state) and ``checkpoint.json``, each written then renamed."""
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / (CHECKPOINT + ".tmp")
    eqx.tree_serialise_leaves(tmp, (tuple(finished), state))
    tmp.replace(directory / CHECKPOINT)
    info = directory / (CHECKPOINT_INFO + ".tmp")
    info.write_text(json.dumps({"step": int(state.step), "window": window, **identity, "history": history}))
    info.replace(directory / CHECKPOINT_INFO)


def load_checkpoint(
    directory: Path, skeleton: Callable[[int], TrainState], identity: dict[str, Any]
) -> tuple[int, list[eqx.Module], TrainState, list[dict[str, Any]]] | None:
    """``(window, finished models, state, history)``, or ``None`` if there is none.

    ``skeleton(w)`` gives a state shaped like window ``w``'s. Raises
    :class:`CheckpointError` if the checkpoint is another run's.
    """
    if not (directory / CHECKPOINT).exists() or not (directory / CHECKPOINT_INFO).exists():
        return None
    info = json.loads((directory / CHECKPOINT_INFO).read_text())
    for key, value in identity.items():
        if info.get(key) != value:
            raise CheckpointError(f"{directory / CHECKPOINT} was written by another run ({key} differs); use another directory")
    window = int(info.get("window", 0))
    like = (tuple(skeleton(w).model for w in range(window)), skeleton(window))
    finished, state = eqx.tree_deserialise_leaves(directory / CHECKPOINT, like)
    return window, list(finished), state, info["history"]


# -- the loop -------------------------------------------------------------------


def train(
    case: Case,
    config: TrainConfig,
    *,
    reference: Fields | None = None,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    stop_at: int | None = None,
    progress: bool | None = None,
) -> TrainResult:
    """Train a PINN on ``case``; report the relative L2 error against ``reference``.

    ``reference`` defaults to :func:`solvers.solve` of the case. With
    ``config.windows > 1`` the time span is cut into that many windows
    (time marching): each window gets ``steps + lbfgs_steps`` steps, starts
    from the previous window's prediction at its first time (IC loss term,
    or exactly with ``hard_initial``) and from its weights; the result is a
    :class:`pinns.constraints.TimeWindows`. History records count steps over
    all windows; their ``rel_l2`` is the error over the saved times of the
    window being trained, the result's over all of them.

    With ``checkpoint_dir``, the state (finished windows and the current one)
    is saved every ``checkpoint_every`` steps and at the end; ``resume``
    continues from it. ``stop_at`` ends the run after that many steps in all
    (to test resuming). ``progress``: a tqdm bar (``None``: only on a terminal).
    """
    from tqdm import tqdm

    if reference is None:
        from solvers.solve import solve

        reference = solve(case)
    start = time.perf_counter()
    from pinns.data import load_observations

    data = load_observations(config.data_file, case) if config.data_file else None
    whole = make_problem(case, config.hard_initial, data)
    key = jax.random.key(case.seed if config.seed is None else config.seed)
    init_key, run_key = jax.random.split(key)
    edges = window_edges(whole, config.windows)
    per_window = config.steps + config.lbfgs_steps
    total = per_window * config.windows
    end = total if stop_at is None else min(stop_at, total)
    coords = tuple(reference.coords[name] for name in reference.coords)
    times = np.asarray(reference.time)
    target = _reference_values(reference, whole.names)
    directory = Path(checkpoint_dir) if checkpoint_dir is not None else None
    identity = {"case_sha256": case.sha256(), "config": config.to_dict()}

    def problem_of(window: int, finished: list[eqx.Module]) -> Problem:
        if window == 0:
            return window_problem(whole, edges[0], edges[1], whole.ic_values)
        start_values = predict(finished[-1], np.asarray([edges[window]]), coords).reshape(-1, len(whole.names))
        return window_problem(whole, edges[window], edges[window + 1], start_values)

    def fresh(window: int, problem: Problem, finished: list[eqx.Module]) -> TrainState:
        previous = finished[-1] if finished and config.warm_start else None
        return init_state(problem, config, init_key if window == 0 else jax.random.fold_in(init_key, window), previous)

    finished: list[eqx.Module] = []
    history: list[dict[str, Any]] = []
    window = 0
    problem = problem_of(0, finished)
    state = fresh(0, problem, finished)
    if resume and directory is not None:
        loaded = load_checkpoint(directory, lambda w: _skeleton(whole, config, edges, w, init_key), identity)
        if loaded is not None:
            window, finished, state, history = loaded
            problem = problem_of(window, finished)

    with tqdm(total=total, initial=window * per_window + int(state.step), desc=f"{case.name} {config.method}", disable=progress is False if progress is not None else None, leave=False) as bar:
        while True:
            in_window = (times >= edges[window]) & ((times < edges[window + 1]) | (window == config.windows - 1))
            state = _train_window(
                state, problem, config, jax.random.fold_in(run_key, window) if window else run_key,
                offset=window * per_window, end=end - window * per_window,
                evaluate=lambda model: relative_l2(predict(model, times[in_window], coords), target[in_window]),
                record=history, save=None if directory is None else (lambda s, h: save_checkpoint(directory, window, finished, s, h, identity)),
                bar=bar,
            )
            if int(state.step) < per_window or window + 1 == config.windows:
                break
            finished.append(state.model)
            window += 1
            problem = problem_of(window, finished)
            state = fresh(window, problem, finished)
            if directory is not None:
                save_checkpoint(directory, window, finished, state, history, identity)
    models = [*finished, state.model]
    model = models[0] if config.windows == 1 else TimeWindows(tuple(models), edges[: len(models) + 1])
    prediction = predict(model, times, coords) if len(models) == config.windows else None
    return TrainResult(
        model=model,
        history=history,
        rel_l2=relative_l2(prediction, target) if prediction is not None else float("nan"),
        steps=window * per_window + int(state.step),
        wall_s=time.perf_counter() - start,
        prediction=prediction,
    )


def _skeleton(whole: Problem, config: TrainConfig, edges: tuple[float, ...], window: int, key: PRNGKeyArray) -> TrainState:
    # Shapes and static fields of window ``window``'s state, for deserialising a checkpoint.
    return init_state(window_problem(whole, edges[window], edges[window + 1], whole.ic_values), config, key)


def _train_window(
    state: TrainState,
    problem: Problem,
    config: TrainConfig,
    run_key: PRNGKeyArray,
    *,
    offset: int,
    end: int,
    evaluate: Callable[[eqx.Module], float],
    record: list[dict[str, Any]],
    save: Callable[[TrainState, list[dict[str, Any]]], None] | None,
    bar: Any,
) -> TrainState:
    """Adam then L-BFGS on one window until its step ``end``; appends history records to ``record``."""
    total = config.steps + config.lbfgs_steps
    end = min(end, total)
    weights = None
    terms: dict[str, Array] = {}
    while int(state.step) < end:
        step = int(state.step)
        if step < config.steps:
            if config.balance_every and step % config.balance_every == 0 and step > 0:
                state = _balance(state, problem, config, run_key)
            length = _call_length(step, end, config)
            state, terms, weights = _adam_steps(state, problem, config, run_key, jnp.asarray(length, jnp.int32))
            loss = float(_total(terms, state.weights))
        else:
            length = 1
            state, value = _lbfgs_step(state, problem, config, run_key)
            loss = float(value)
            terms = {"total": value}
        done = step + length
        if done % config.eval_every == 0 or done == total:
            error = evaluate(state.model)
            entry = {"step": offset + done, "loss": loss, "rel_l2": error, "eps": float(state.eps)}
            if config.windows > 1:
                entry["window"] = offset // total
            entry.update({f"loss_{k}": float(v) for k, v in terms.items() if k != "total"})
            entry.update({f"weight_{k}": float(v) for k, v in state.weights.items()})
            if weights is not None:
                entry["causal_weights"] = [float(w) for w in np.asarray(weights)]
            record.append(entry)
            bar.set_postfix(loss=f"{loss:.3e}", rel_l2=f"{error:.3e}")
        if save is not None and (done % config.checkpoint_every == 0 or done == end):
            save(state, record)
        bar.update(length)
    return state
