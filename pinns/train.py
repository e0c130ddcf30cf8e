"""Train a PINN on a ``phys`` case: the pieces put together, time marching, checkpoints, the solver's error.

:func:`train` assembles the pieces of :mod:`pinns`: the problem from the case
(:func:`pinns.problem.make_problem`), the method registered under
``config.method`` (:mod:`pinns.methods`) with its reducer and the model it
builds, the optimiser loop (:func:`pinns.loop.fit`: fused Adam steps, then
L-BFGS), checkpoints (:mod:`pinns.checkpoint`) and the error against the
solver's solution of the same case (:mod:`pinns.metrics`), every
``eval_every`` steps over the saved times on the solver's grid.

Time marching (``windows > 1``) is the one thing done here above the loop:
the span is cut into windows trained one after another, each a fresh model
of the method for that window's problem (starting from the previous model's
prediction at the window's first time), warm-started from the previous
model's weights (:meth:`pinns.nets.AbstractNetwork.warm_start`); the result
is a :class:`pinns.constraints.TimeWindows`. The loop itself never knows.

Each Adam step draws fresh points from ``fold_in(key, step)``; the run is a
pure function of the case, the config and the step, so a run resumed from a
checkpoint reproduces an uninterrupted one exactly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import numpy as np
from jaxtyping import PRNGKeyArray

from phys.boundary import is_steady
from phys.case import Case
from phys.fields import Fields
from pinns.checkpoint import CheckpointError, load_checkpoint, read_info, save_checkpoint
from pinns.config import TrainConfig, check_windows
from pinns.constraints import TimeWindows
from pinns.loop import Events, MethodObjective, TrainState, fit, init_state
from pinns.methods import method_spec
from pinns.metrics import evaluate, predict, reference_values, relative_l2, training_reference
from pinns.nets import AbstractNetwork
from pinns.problem import Problem, make_problem

__all__ = ["CheckpointError", "Setup", "TrainResult", "setup", "train", "predict", "relative_l2", "load_model"]


@dataclass
class TrainResult:
    model: AbstractNetwork
    history: list[dict[str, Any]]
    rel_l2: float
    steps: int
    wall_s: float
    prediction: np.ndarray | None = None  # [T, *n, outputs] on the reference grid (fields first, then e.g. a pressure)
    times: np.ndarray | None = None  # the reference's times the prediction is at (a steady problem: its last)


@dataclass
class Setup:
    """The pieces of a run on a case: the whole problem, the method, the keys."""

    problem: Problem
    method: Any  # pinns.method.AbstractMethod
    config: TrainConfig
    init_key: PRNGKeyArray
    run_key: PRNGKeyArray

    def objective(self, problem: Problem) -> MethodObjective:
        return MethodObjective(self.method, problem, self.config.sampling)

    def model(self, problem: Problem, window: int = 0, previous: AbstractNetwork | None = None) -> AbstractNetwork:
        """Window ``window``'s fresh model, from ``previous``'s weights when given."""
        key = self.init_key if window == 0 else jax.random.fold_in(self.init_key, window)
        model = self.method.init_model(problem, key)
        return model if previous is None else model.warm_start(previous)

    def state(self, problem: Problem, window: int = 0, previous: AbstractNetwork | None = None) -> TrainState:
        return init_state(self.objective(problem), self.model(problem, window, previous), self.config.optimiser)


def setup(case: Case, config: TrainConfig) -> Setup:
    """The problem, method and keys of training ``case`` with ``config``."""
    from pinns.data import load_observations

    spec = method_spec(config.method)
    spec.check(case, config)
    data = load_observations(config.sampling.data_file, case) if config.sampling.data_file else None
    key = jax.random.key(case.seed if config.run.seed is None else config.run.seed)
    init_key, run_key = jax.random.split(key)
    return Setup(make_problem(case, data), spec.build(config), config, init_key, run_key)


def train(
    case: Case,
    config: TrainConfig,
    *,
    reference: Fields | None = None,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    stop_at: int | None = None,
    progress: bool | None = None,
    initial: AbstractNetwork | None = None,
) -> TrainResult:
    """Train on ``case``; report the relative L2 error against ``reference`` (default: :func:`solvers.solve` of the case).

    With ``config.marching.windows > 1`` the span is cut into that many
    windows (see the module docstring); each gets ``steps + lbfgs_steps``
    steps. History records count steps over all windows; their ``rel_l2`` is
    the error over the saved times of the window being trained, the result's
    over all of them. With ``checkpoint_dir`` the state (finished windows and
    the current one) is saved every ``checkpoint_every`` steps and at the end;
    ``resume`` continues from it. ``stop_at`` ends the run after that many
    steps in all (to test resuming). ``progress``: a tqdm bar (``None``: only on a terminal).
    ``initial``: a model trained before (on a neighbouring case: a lower Reynolds number, say) whose
    weights start the first window (:meth:`pinns.nets.AbstractNetwork.warm_start`); the rest is fresh.
    """
    from tqdm import tqdm

    check_windows(is_steady(case), config.marching.windows)  # before the reference solve
    if reference is None:
        from solvers.solve import solve

        reference = solve(case)
    start = time.perf_counter()
    pieces = setup(case, config)
    whole = pieces.problem
    reference = training_reference(reference, whole.pde, whole.names, steady=whole.steady)
    windows = config.marching.windows
    edges = whole.window_edges(windows)
    per_window = config.optimiser.steps + config.optimiser.lbfgs_steps
    total = per_window * windows
    end = total if stop_at is None else min(stop_at, total)
    coords = tuple(reference.coords[name] for name in reference.coords)
    times = np.asarray(reference.time)
    directory = Path(checkpoint_dir) if checkpoint_dir is not None else None
    identity = {"case_sha256": case.sha256(), "config": config.to_dict()}

    def problem_of(window: int, finished: list[AbstractNetwork]) -> Problem:
        if window == 0:
            return whole.window(edges[0], edges[1], whole.ic_values)
        start_values = predict(finished[-1], np.asarray([edges[window]]), coords).reshape(-1, len(whole.names))
        return whole.window(edges[window], edges[window + 1], start_values)

    def fresh(window: int, problem: Problem, finished: list[AbstractNetwork]) -> TrainState:
        previous = finished[-1] if finished and config.marching.warm_start else (initial if window == 0 else None)
        return pieces.state(problem, window, previous)

    def skeleton(info: dict[str, Any]) -> tuple[tuple[AbstractNetwork, ...], TrainState]:
        # Shapes and static fields of window w's state, for deserialising a checkpoint.
        window = int(info.get("window", 0))
        like = lambda w: pieces.state(whole.window(edges[w], edges[w + 1], whole.ic_values), 0)  # noqa: E731
        return tuple(like(w).model for w in range(window)), like(window)

    def save(window: int, finished: list[AbstractNetwork], state: TrainState, history: list[dict[str, Any]]) -> None:
        save_checkpoint(directory, (tuple(finished), state), {"step": int(state.step), "window": window, **identity, "history": history})

    finished: list[AbstractNetwork] = []
    history: list[dict[str, Any]] = []
    window = 0
    problem = problem_of(0, finished)
    state = fresh(0, problem, finished)
    if resume and directory is not None:
        loaded = load_checkpoint(directory, skeleton, _continuable(directory, identity, config))
        if loaded is not None:
            (saved, state), info = loaded
            window, finished, history = int(info.get("window", 0)), list(saved), info["history"]
            problem = problem_of(window, finished)

    hide = progress is False if progress is not None else None
    with tqdm(total=total, initial=window * per_window + int(state.step), desc=f"{case.name} {config.method}", disable=hide, leave=False) as bar:
        while True:
            in_window = (times >= edges[window]) & ((times < edges[window + 1]) | (window == windows - 1))
            events = Events(
                evaluate=lambda model: evaluate(model, reference, whole.fields, in_window),
                record=history,
                save=None if directory is None else (lambda s, h: save(window, finished, s, h)),
                label={"window": window} if windows > 1 else None,
                offset=window * per_window,
                bar=bar,
                balance_every=config.weights.balance_every,
                balance_momentum=config.weights.balance_momentum,
            )
            run_key = jax.random.fold_in(pieces.run_key, window) if window else pieces.run_key
            state = fit(state, pieces.objective(problem), config.optimiser, config.run, run_key, events, end - window * per_window)
            if int(state.step) < per_window or window + 1 == windows:
                break
            finished.append(state.model)
            window += 1
            problem = problem_of(window, finished)
            state = fresh(window, problem, finished)
            if directory is not None:
                save(window, finished, state, history)
    models = [*finished, state.model]
    model = models[0] if windows == 1 else TimeWindows(tuple(models), edges[: len(models) + 1])
    complete = len(models) == windows
    prediction = predict(model, times, coords) if complete else None
    return TrainResult(
        model=model,
        history=history,
        rel_l2=relative_l2(prediction[..., : len(whole.fields)], reference_values(reference, whole.fields)) if complete else float("nan"),
        steps=window * per_window + int(state.step),
        wall_s=time.perf_counter() - start,
        prediction=prediction,
        times=times,
    )


def load_model(case: Case, config: TrainConfig, path: Path) -> AbstractNetwork:
    """The model a run saved at ``path`` (its ``model.eqx``), read into the skeleton of ``config`` on ``case``.

    Raises :class:`CheckpointError` naming the file when it does not fit (another network, method or case kind).
    """
    import equinox as eqx

    pieces = setup(case, config)
    whole = pieces.problem
    edges = whole.window_edges(config.marching.windows)
    like = pieces.model(whole.window(edges[0], edges[1], whole.ic_values))
    try:
        return eqx.tree_deserialise_leaves(path, like)
    except Exception as error:  # equinox raises RuntimeError/ValueError/TypeError on a shape or structure mismatch
        raise CheckpointError(f"{path} does not fit this run's model ({type(error).__name__}: {str(error).splitlines()[0][:120]}); "
                              "the network settings, method and constraints must be those it was trained with") from None


def _continuable(directory: Path, identity: dict[str, Any], config: TrainConfig) -> dict[str, Any]:
    """The identity the checkpoint in ``directory`` must have to be continued with ``config``.

    ``--resume --steps N`` extends a run: a checkpoint whose config differs
    only in its Adam steps is continued while it is still in (or at the end
    of) its Adam phase and in its one window, since each Adam step depends on
    its step index alone (the schedule decays with the step, not with the
    total), so the extended run equals one started with N steps.
    """
    from phys.errors import differences

    info = read_info(directory)
    if info is None or info.get("case_sha256") != identity["case_sha256"] or not isinstance(info.get("config"), dict):
        return identity
    saved = info["config"]
    if [path for path, _, _ in differences(identity["config"], saved)] != ["optimiser.steps"]:
        return identity
    step, before, now = int(info.get("step", 0)), int(saved["optimiser"]["steps"]), config.optimiser.steps
    where = f"{Path(directory) / 'checkpoint.eqx'} (step {step}, {before} Adam steps)"
    if config.marching.windows != 1:
        raise CheckpointError(f"steps: {where} marches through {config.marching.windows} windows, whose steps are fixed once trained; use another directory")
    if step > before:
        raise CheckpointError(f"steps: {where} is past its Adam phase, in L-BFGS; more Adam steps cannot continue it")
    if now < step:
        raise CheckpointError(f"steps: {now} is fewer than the {step} steps {where} already took")
    return {**identity, "config": saved}
