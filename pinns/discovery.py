"""Hidden-term discovery: a known PDE, sparse noisy measurements, the missing terms as a formula.

The user knows part of the equation (the case's PDE, built in or their own
class) and has measurements of the full system (an HDF5 file of our schema).
A network ``H`` is added to the right-hand side of the ``hidden`` fields
(:mod:`pinns.hidden`) and fitted to the measurements; then it is turned into a
formula:

1. **Fit** the network. The solver route (universal differential equations,
   Rackauckas et al. 2020): ``H`` inside the differentiable solver's
   right-hand side, the trajectory from the data's initial state fitted to
   the measurements through :func:`solvers.simulation` (diffrax's adjoint for
   ODEs, checkpointed rollouts for PDEs). The PINN route (universal PINNs,
   Podina et al. 2023; :mod:`pinns.discovery_pinn`): a solution network
   trained with ``H`` on the data misfit and the residual of known + ``H``.
2. **Sample** ``H`` where the data lives: its inputs (the fields and their
   space derivatives up to ``derivatives``) along the fitted trajectory (the
   solver's, or the solution network's by autodiff), at the measured times.
3. **Regress**: a sympy library (monomials up to ``degree`` plus named extra
   functions) and sequentially thresholded least squares along a threshold
   path (:mod:`pinns.sparse_regression`), with its collinearity warning.
4. **Choose and refine through the solver**: every distinct support on the
   path is refitted to the measurements through the solver (its coefficients
   by L-BFGS, the other hidden fields' networks held), and the support is
   chosen by BIC on that data misfit, ``n log(RSS / n) + k log n``. BIC on
   the network's samples alone cannot tell terms apart that agree along the
   one trajectory the data covers (prey and prey x predator on a short
   Lotka-Volterra arc are 0.999 correlated); on the data, a term that does
   not lower the misfit beyond the noise costs ``log n`` and is dropped.
   Then all hidden fields' formulas are refitted together.
5. **Validate**: the completed equation, formula in place of the network,
   re-solved by the numerical solver from the data's initial state; its
   error against all the data.

:func:`discover` runs it and writes ``formula.json``, ``formula.txt``,
``metrics.json`` and ``discovery.png``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Literal, Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import sympy

from phys.case import Case, CaseError
from pinns._library import Library, polynomial_library
from pinns.discovery_config import STRONG_EVIDENCE, DiscoveryConfig
from pinns.hidden import HiddenNetwork, hidden_inputs, input_names, with_hidden_term
from pinns.sparse_regression import CollinearityWarning, Formula, SparseRegressionConfig, information_criterion, sparse_regression

__all__ = ["STRONG_EVIDENCE", "DiscoveryConfig", "Observations", "discover", "load_observations"]


# -- measurements ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Observations:
    """The measurements a run fits: thinned and noised, and the clean file they came from.

    ``times`` index the case's saved times; ``points`` the flattened grid
    (None: every point; the first time is always measured everywhere, as the
    solver starts from it). ``values[k]`` is ``[fields, points]`` (or
    ``[fields]`` without space) at ``times[k]``.
    """

    times: np.ndarray
    points: np.ndarray | None
    values: np.ndarray
    initial: np.ndarray  # [fields, *n], noised like the rest
    clean: np.ndarray  # [T, fields, *n], all of the file
    scale: np.ndarray  # [fields]: each field's mean absolute value (noise and loss weights are relative to it)

    @property
    def count(self) -> int:
        return int(self.values.size)


def load_observations(path: str | Path, case: Case, config: DiscoveryConfig, coords: tuple[np.ndarray, ...]) -> Observations:
    """Measurements of the case's fields from ``path``; ``CaseError`` (one line) if the file does not fit the case."""
    from phys.io import read

    path = Path(path)
    if not path.is_file():
        raise CaseError("data", f"no such file: {path}")
    try:
        fields = read(path)
    except (OSError, ValueError, KeyError) as error:
        raise CaseError("data", f"{path} is not a complete physax HDF5 file: {error}") from None
    missing = [name for name in case.fields if name not in fields.values]
    if missing:
        raise CaseError("data", f"{path} has fields {', '.join(sorted(fields.values))}; the case needs {', '.join(case.fields)}")
    if fields.n_trajectories != 1:
        raise CaseError("data", f"{path} holds {fields.n_trajectories} trajectories; discovery fits one")
    _check_grid(path, fields, coords)
    times = case.time.t0 + case.time.save_dt * np.arange(case.time.n_saves)
    if len(fields.time) != len(times) or np.max(np.abs(fields.time - times)) > 1e-4 * max(1.0, float(np.max(np.abs(times)))):
        raise CaseError(
            "data",
            f"{path} is saved at {len(fields.time)} times from {fields.time[0]:g} to {fields.time[-1]:g}; the case saves "
            f"{len(times)} from {times[0]:g} to {times[-1]:g} (set t_end and save_dt to the file's)",
        )
    clean = np.stack([np.asarray(fields[name][0], np.float64) for name in case.fields], axis=1)  # [T, fields, *n]
    scale = np.mean(np.abs(clean), axis=tuple(i for i in range(clean.ndim) if i != 1))
    rng = np.random.default_rng(config.seed)
    noisy = clean + config.noise * scale.reshape(1, -1, *([1] * (clean.ndim - 2))) * rng.normal(size=clean.shape)
    count = len(times) if config.n_data is None else min(config.n_data, len(times))
    chosen = np.unique(np.round(np.linspace(0, len(times) - 1, count)).astype(int))
    flat = noisy.reshape(noisy.shape[0], noisy.shape[1], -1)
    points = None
    if config.n_points is not None and case.n_dims > 0:
        points = np.unique(np.round(np.linspace(0, flat.shape[-1] - 1, min(config.n_points, flat.shape[-1]))).astype(int))
    values = flat[chosen] if points is None else flat[chosen][..., points]
    if case.n_dims == 0:
        values = values[..., 0]
    return Observations(chosen, points, values, noisy[0], clean, scale)


def _check_grid(path: Path, fields: Any, coords: tuple[np.ndarray, ...]) -> None:
    stored = list(fields.coords.values())
    if len(stored) != len(coords):
        raise CaseError("data", f"{path} is {len(stored)}D, the case is {len(coords)}D")
    for axis, (have, want) in enumerate(zip(stored, coords)):
        spacing = float(want[1] - want[0]) if len(want) > 1 else 1.0
        if have.shape != want.shape or np.max(np.abs(have - want)) > 1e-3 * abs(spacing):
            raise CaseError(
                "data",
                f"{path}'s grid along axis {axis} has {have.size} points from {have[0]:g} to {have[-1]:g}; "
                f"the case's has {want.size} from {want[0]:g} to {want[-1]:g}",
            )


# -- the fitted model -------------------------------------------------------------


class _Term(eqx.Module):
    """The hidden term: per hidden field, the network's output, or the library with coefficients under a mask.

    Every formula is the whole library, ``theta(z) @ (coefficients * mask)``:
    candidate supports of one field differ only in the mask, an array, so one
    compilation serves them all.
    """

    network: Callable[[jax.Array], jax.Array] | None
    coefficients: tuple[jax.Array, ...]
    masks: tuple[jax.Array, ...]
    formulas: tuple[Callable | None, ...] = eqx.field(static=True)

    def __call__(self, z: jax.Array) -> jax.Array:
        out = self.network(z) if self.network is not None else None
        parts = zip(self.formulas, self.coefficients, self.masks)
        return jnp.stack([out[i] if f is None else f(z, c * m) for i, (f, c, m) in enumerate(parts)])


def _simulation_with(sim: Any, term: Callable, config: DiscoveryConfig, known: Any) -> Any:
    return eqx.tree_at(lambda s: s.scheme.pde, sim, with_hidden_term(known, term, config.hidden, config.derivatives))


def _predicted(sim: Any, case: Case, obs: Observations) -> tuple[jax.Array, jax.Array]:
    """The simulation at the measured times and points, ``[times, fields, points]`` like ``obs.values``, and its bad step."""
    solution = sim()
    states = jnp.stack([solution[name] for name in case.fields], axis=1)[obs.times]
    if case.n_dims == 0:
        return states, solution.bad_step
    flat = states.reshape(states.shape[0], states.shape[1], -1)
    return (flat if obs.points is None else flat[..., obs.points]), solution.bad_step


def _misfit(sim: Any, case: Case, obs: Observations) -> jax.Array:
    """Sum of squared residuals at the measurements, each field relative to its scale (the first time included: it anchors the start).

    A candidate whose solve blows up scores infinity, so a line search steps back from it.
    """
    scale = jnp.asarray(obs.scale).reshape(1, -1, *([1] * (obs.values.ndim - 2)))
    predicted, bad = _predicted(sim, case, obs)
    residual = (predicted - jnp.asarray(obs.values)) / scale
    value = jnp.sum(jnp.where(jnp.isfinite(residual), residual, 0.0) ** 2)
    return jnp.where(bad == -1, value, jnp.inf)


def _adam(params: Any, loss: Callable[[Any], jax.Array], config: DiscoveryConfig, steps: int) -> tuple[Any, list[float]]:
    schedule = optax.exponential_decay(config.learning_rate, config.decay_steps, config.decay_rate)
    optimiser = optax.adam(schedule)
    state = optimiser.init(params)

    @eqx.filter_jit
    def step(params: Any, state: Any) -> tuple[Any, Any, jax.Array]:
        value, grads = eqx.filter_value_and_grad(loss)(params)
        updates, state = optimiser.update(grads, state, params)
        return eqx.apply_updates(params, updates), state, value

    history = []
    for index in range(steps):
        params, state, value = step(params, state)
        if index % max(1, steps // 20) == 0 or index == steps - 1:
            history.append(float(value))
    return params, history


# -- samples where the data lives ----------------------------------------------------


def _samples(sim: Any, case: Case, obs: Observations, config: DiscoveryConfig) -> tuple[np.ndarray, np.ndarray]:
    """The network's inputs and outputs along the fitted trajectory at the measured times: ``[N, inputs]``, ``[N, hidden]``."""
    scheme = sim.scheme
    solution = sim()
    states = jnp.stack([solution[name] for name in case.fields], axis=1)[obs.times]
    n_dims = case.n_dims

    def at(fields: jax.Array) -> tuple[jax.Array, jax.Array]:
        d = scheme.derivatives(scheme.init(fields))
        z = hidden_inputs(d, case.fields, n_dims, config.derivatives)
        flat = z.reshape(-1, z.shape[-1])
        return flat, jax.vmap(scheme.pde.term)(flat)

    inputs, outputs = jax.vmap(at)(states)
    inputs, outputs = np.asarray(inputs), np.asarray(outputs)
    if n_dims == 1 and any(bc.kind != "periodic" for bc in case.bcs):
        # One-sided differences at the ends, where imposed values hold: not where the term acts.
        inputs, outputs = inputs[:, 1:-1], outputs[:, 1:-1]
    return inputs.reshape(-1, inputs.shape[-1]), outputs.reshape(-1, outputs.shape[-1])


# -- the run --------------------------------------------------------------------------


def library_of(case: Case, config: DiscoveryConfig) -> Library:
    """The candidate library over the network's inputs; ``CaseError`` if it is empty or an extra function is bad."""
    names = input_names(case.fields, case.n_dims, config.derivatives)
    try:
        library = polynomial_library(names, config.degree, constant=config.constant, extra=dict(config.extra) or None)
    except ValueError as error:
        raise CaseError("degree", str(error)) from None
    return library


def _formula(target: str, library: Library, support: tuple[str, ...], coefficients: np.ndarray) -> Formula:
    index = {term: i for i, term in enumerate(library.terms)}
    return Formula(
        target=target,
        inputs=library.inputs,
        terms=tuple(support),
        expressions=tuple(library.expressions[index[t]] for t in support),
        coefficients=tuple(float(c) for c in coefficients),
    )


def discover(case: Case, data: str | Path, config: DiscoveryConfig, out: str | Path | None = None) -> dict[str, Any]:
    """Run the discovery of ``config.hidden``'s hidden terms from the measurements in ``data``; see the module docstring.

    Returns the metrics; with ``out``, writes ``formula.json``, ``formula.txt``,
    ``metrics.json`` and ``discovery.png`` there.
    """
    from solvers import simulation

    start = time.perf_counter()
    unknown = [field for field in config.hidden if field not in case.fields]
    if unknown:
        raise CaseError("hidden", f"'{unknown[0]}' is not a field of PDE '{case.pde.name}'; it has {', '.join(case.fields)}")
    library = library_of(case, config)
    base = simulation(case, throw=False)  # a blow-up while fitting is a bad candidate, not an error
    known = base.pde
    obs = load_observations(data, case, config, base.scheme.coords())
    base = eqx.tree_at(lambda s: s.u0, base, jnp.asarray(obs.initial, base.u0.dtype))
    n_in = len(library.inputs)
    network = _network(base, case, obs, config, n_in)

    if config.route == "pinn":
        # 1-2. Fit a solution network and the hidden network together; sample along the solution network.
        from pinns.discovery_pinn import fit_pinn

        fit = fit_pinn(case, known, obs, config, base.scheme.coords(), network, base.u0.dtype)
        inputs, outputs, history = fit.inputs, fit.outputs, fit.history
        # Its u(t0) is a denoised start for the solver, refitted with the coefficients below.
        base = eqx.tree_at(lambda s: s.u0, base, jnp.asarray(fit.initial, base.u0.dtype))
    else:
        # 1. Fit the network through the solver.
        inputs, outputs, history = _fit_through_solver(base, case, obs, config, known, network)
    # 2-3. Sample and regress along the threshold path.
    samples = {name: inputs[:, i] for i, name in enumerate(library.inputs)}
    targets = {field: outputs[:, k] for k, field in enumerate(config.hidden)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CollinearityWarning)
        regression = sparse_regression(library, samples, targets, SparseRegressionConfig(alpha=config.ridge, criterion=config.criterion))
    collinear = [str(w.message) for w in caught if issubclass(w.category, CollinearityWarning)]

    # 4. Choose the supports by the criterion on the data misfit, every candidate refitted through the solver.
    n = obs.count
    full = _formula("all", library, library.terms, np.zeros(len(library))).parametric()
    theta = library.evaluate(samples)
    refit = _refitter(base, full, config, known, case, obs)
    on_samples = np.stack([[t in f.terms for t in library.terms] for f in regression.formulas])
    rows, best, coefficients, rss, evidence = _choose(library, theta, [targets[f] for f in config.hidden], on_samples, refit, n, config)
    final = {field: _formula(field, library, tuple(t for t, keep in zip(library.terms, best[k]) if keep),
                             coefficients[k][best[k]]) for k, field in enumerate(config.hidden)}

    # 5. Validate: the completed equation re-solved from the data's initial state.
    from_data = eqx.tree_at(lambda s: s.u0, base, jnp.asarray(obs.initial, base.u0.dtype))
    completed = _simulation_with(from_data, _formula_term(final, config, base.u0.dtype), config, known)
    solution = completed()
    resolved = np.stack([np.asarray(solution[name]) for name in case.fields], axis=1)
    rel = float(np.linalg.norm(resolved - obs.clean) / np.linalg.norm(obs.clean))
    metrics = {
        "case": case.name,
        "case_sha256": case.sha256(),
        "data": str(data),
        "route": config.route,
        "config": config.to_json(),
        "library": list(library.terms),
        "inputs": list(library.inputs),
        "formula": {field: f.to_json() for field, f in final.items()},
        "coefficients_before_refinement": {f.target: f.to_json() for f in regression.formulas},
        "criterion": config.criterion,
        "path": rows,
        "chosen": {field: list(f.terms) for field, f in final.items()},
        "evidence": evidence,
        "weak_terms": weak_terms(evidence),
        "strong_evidence": STRONG_EVIDENCE,
        "collinearity": collinear,
        "fit_history": history,
        "data_rss_final": rss,
        "resolve_rel_l2": rel,
        "measurements": obs.count,
        "wall_s": time.perf_counter() - start,
    }
    if out is not None:
        _write(Path(out), case, final, metrics, (samples, outputs, library), (resolved, obs))
    return metrics



def _fit_through_solver(base: Any, case: Case, obs: Observations, config: DiscoveryConfig, known: Any,
                        network: HiddenNetwork) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """The solver route's fit (step 1) and samples (step 2): the network's inputs, outputs and the loss history."""
    none = tuple(jnp.zeros(0, base.u0.dtype) for _ in config.hidden)
    term = _Term(network, none, none, (None,) * len(config.hidden))

    def network_loss(net: Any) -> jax.Array:
        return _misfit(_simulation_with(base, eqx.tree_at(lambda t: t.network, term, net), config, known), case, obs)

    trainable, frozen = eqx.partition(network, eqx.is_inexact_array)
    trainable, history = _adam(trainable, lambda p: network_loss(eqx.combine(p, frozen)), config, config.steps)
    fitted = _simulation_with(base, eqx.tree_at(lambda t: t.network, term, eqx.combine(trainable, frozen)), config, known)
    inputs, outputs = _samples(fitted, case, obs, config)
    return inputs, outputs, history

def _network(base: Any, case: Case, obs: Observations, config: DiscoveryConfig, n_in: int) -> HiddenNetwork:
    """The hidden network, its input and output statistics from the data (the start's inputs; the measured rates)."""
    scheme = base.scheme
    d = scheme.derivatives(scheme.init(base.u0))
    z = np.asarray(hidden_inputs(d, case.fields, case.n_dims, config.derivatives)).reshape(-1, n_in)
    if case.n_dims == 0:  # the inputs are the fields: their measured range, not one point
        z = obs.values.reshape(-1, n_in)
    shift, spread = z.mean(axis=0), z.std(axis=0)
    spread = np.where(spread > 0, spread, np.maximum(np.abs(shift), 1.0))
    dt = case.time.save_dt * max(1, int(np.min(np.diff(obs.times)))) if len(obs.times) > 1 else case.time.save_dt
    rates = np.abs(np.diff(obs.values, axis=0)) / dt
    index = [case.fields.index(field) for field in config.hidden]
    scale = np.maximum(np.mean(rates, axis=(0, *range(2, rates.ndim)))[index], 1e-6)
    return HiddenNetwork(n_in, len(config.hidden), jax.random.key(config.seed), width=config.width, depth=config.depth,
                         shift=shift, spread=spread, scale=scale, dtype=base.u0.dtype)


def _formula_term(formulas: Mapping[str, Formula], config: DiscoveryConfig, dtype: Any) -> _Term:
    coefficients = tuple(jnp.asarray(f.coefficients, dtype) for f in formulas.values())
    return _Term(None, coefficients, tuple(jnp.ones_like(c) for c in coefficients), tuple(f.parametric() for f in formulas.values()))


def _least_squares_start(theta: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    coefficients = np.zeros(theta.shape[1])
    if mask.any():
        coefficients[mask] = np.linalg.lstsq(theta[:, mask], target, rcond=None)[0]
    return coefficients


def _refitter(base: Any, full: Callable, config: DiscoveryConfig, known: Any, case: Case,
              obs: Observations) -> Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``refit(masks, starts) -> (coefficients, rss)``: candidate models fitted through the solver.

    ``masks`` and ``starts`` are ``[candidates, hidden, terms]``: every hidden
    field the library under its mask. They are fitted one after another by
    one compiled function (the mask is traced). Fitting a round's candidates
    together under ``jax.vmap`` was tried: its compile took 45 s against 8 s
    on a small ODE, and the solver's checkpointed loop refused the batch.

    For ODEs the initial state is fitted too, from the measured (noisy) first
    snapshot: starting from the noise would bias every coefficient to make up
    for it. A PDE's start is a field measured at every grid point: its noise
    is smoothed by the dynamics and averaged by the misfit, while fitting its
    many values would let them make up for wrong coefficients.
    """
    dtype = base.u0.dtype
    hidden = len(config.hidden)

    def loss(coefficients: jax.Array, mask: jax.Array, u0: jax.Array) -> jax.Array:
        term = _Term(None, tuple(coefficients[k] for k in range(hidden)), tuple(mask[k] for k in range(hidden)), (full,) * hidden)
        return _misfit(_simulation_with(eqx.tree_at(lambda s: s.u0, base, u0), term, config, known), case, obs)

    # The initial state is refitted where it is a few numbers (ODEs); a field's start stays as measured.
    run = _lbfgs_masked(loss, config.refine_steps, fit_initial=case.n_dims == 0)

    def refit(masks: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        coefficients, values = [], []
        for mask, start in zip(masks, starts):
            c, v = run(jnp.asarray(start * mask, dtype), jnp.asarray(mask, dtype), base.u0)
            coefficients.append(np.asarray(c) * mask)
            values.append(float(v))
        return np.stack(coefficients), np.asarray(values)

    return refit


def _lbfgs_masked(loss: Callable[[jax.Array, jax.Array, jax.Array], jax.Array], steps: int, fit_initial: bool) -> Callable:
    """L-BFGS on the coefficients under a mask, then (``fit_initial``) on them and the initial state together.

    One compilation whatever the mask (it is traced). The coefficients come
    first, from the measured start: fitted together from the outset, the
    initial state's many values can make up for wrong coefficients (a
    spatial field has a value per grid point), a local minimum far from the
    truth.
    """
    solver = optax.lbfgs()

    def phase(objective: Callable, params: tuple[jax.Array, jax.Array], mask: jax.Array, initial: float) -> tuple[jax.Array, jax.Array]:
        value_and_grad = optax.value_and_grad_from_state(objective)

        def step(carry: tuple[Any, Any], _: None) -> tuple[tuple[Any, Any], None]:
            params, state = carry
            value, grad = value_and_grad(params, state=state)
            grad = (grad[0] * mask, grad[1] * initial)
            updates, state = solver.update(grad, state, params, value=value, grad=grad, value_fn=objective)
            return (optax.apply_updates(params, updates), state), None

        (params, _), _ = jax.lax.scan(step, (params, solver.init(params)), None, length=steps)
        return params

    @jax.jit
    def run(coefficients: jax.Array, mask: jax.Array, u0: jax.Array) -> tuple[jax.Array, jax.Array]:
        def objective(params: tuple[jax.Array, jax.Array]) -> jax.Array:
            return loss(params[0] * mask, mask, params[1])

        params = phase(objective, (coefficients, u0), mask, 0.0)
        if fit_initial:
            params = phase(objective, params, mask, 1.0)
        return params[0] * mask, objective(params)

    return run


def _choose(library: Library, theta: np.ndarray, targets: list[np.ndarray], start: np.ndarray, refit: Callable, n: int,
            config: DiscoveryConfig) -> tuple[list[dict[str, Any]], np.ndarray, np.ndarray, float, dict[str, dict[str, float]]]:
    """Stepwise selection on the data misfit: terms added, then dropped, while the criterion falls.

    Every candidate (all hidden fields' supports together) is refitted
    through the solver. From the empty model, the term (of any field) whose
    addition lowers the criterion most is added until none does; then the
    term whose removal lowers it most is dropped until none does. The
    threshold path on the network's samples (``start``, reported in the
    metrics) is not trusted for the choice: along the one trajectory the data
    cover, look-alike terms share one true term's weight there, while on the
    data a term that does not lower the misfit beyond the noise costs
    ``log n`` (BIC) or 2 (AIC), and every kept term must carry at least
    ``config.min_evidence`` beyond that (see :data:`STRONG_EVIDENCE`, the
    default). A model in which a term's share of its
    field's hidden term is below ``config.min_contribution`` is not admitted
    (:func:`_smallest_share`). Returns the rows tried, the chosen masks
    ``[hidden, terms]``, their coefficients and misfit, and each chosen
    term's evidence: how much the criterion rises when that term alone is
    dropped (see :data:`STRONG_EVIDENCE`).
    """
    terms = library.terms
    hidden = config.hidden
    rows: list[dict[str, Any]] = []
    scored: dict[bytes, tuple[float, np.ndarray, float]] = {}

    def record(masks: np.ndarray, coefficients: np.ndarray, rss: float) -> None:
        value = information_criterion(config.criterion, max(rss, 1e-300), n, int(masks.sum())) if math.isfinite(rss) else math.inf
        small = _smallest_share(theta, coefficients, masks)
        admissible = small is None or small[1] >= config.min_contribution
        scored[masks.tobytes()] = (value if admissible else math.inf, coefficients, rss)
        rows.append({
            "support": {f: [t for t, m in zip(terms, masks[k]) if m] for k, f in enumerate(hidden)},
            "coefficients_refined": {f: [float(c) for c, m in zip(coefficients[k], masks[k]) if m] for k, f in enumerate(hidden)},
            "data_rss": rss,
            "criterion": value,
            "smallest_share": None if small is None else {"field": hidden[small[0]], "term": terms[small[2]], "share": small[1]},
            "admissible": admissible,
        })

    def score(candidates: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[float, np.ndarray, float]]:
        """(criterion, coefficients, rss) of each ``(masks, warm start)``; the new ones refitted in one call."""
        new: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        for masks, warm in candidates:
            if masks.tobytes() not in scored:
                new.setdefault(masks.tobytes(), (masks, warm * masks))
        if new:
            coefficients, rss = refit(np.stack([m for m, _ in new.values()]), np.stack([w for _, w in new.values()]))
            for (masks, _), c, r in zip(new.values(), coefficients, rss):
                record(masks, c, float(r))
        return [scored[masks.tobytes()] for masks, _ in candidates]

    def least_squares_start(masks: np.ndarray, k: int, j: int, current: np.ndarray) -> np.ndarray:
        # The new term's coefficient from the samples, the others kept: a start near the refit.
        warm = current.copy()
        residual = targets[k] - theta @ (current[k] * masks[k])
        column = theta[:, j]
        warm[k, j] = float(column @ residual / max(column @ column, 1e-300))
        return warm

    masks = np.zeros((len(hidden), len(terms)), bool)
    current = score([(masks, np.zeros(masks.shape))])[0]
    for direction in ("add", "drop"):
        while True:
            trials = []
            for k, j in zip(*np.nonzero(~masks if direction == "add" else masks)):
                trial = masks.copy()
                trial[k, j] = direction == "add"
                warm = least_squares_start(masks, k, j, current[1]) if direction == "add" else current[1]
                trials.append((trial, warm))
            if not trials:
                break
            values = [value for value, _, _ in score(trials)]
            best = int(np.argmin(values))
            # A term is added only if it lowers the criterion by more than the evidence asked of it, and
            # dropped while its removal raises the criterion by less.
            margin = -config.min_evidence if direction == "add" else config.min_evidence
            if not values[best] < current[0] + margin:
                break
            masks = trials[best][0]
            current = scored[masks.tobytes()]
    # Each chosen term's evidence: scored already by the last drop round (the cache) unless no drop round ran.
    kept = list(zip(*np.nonzero(masks)))
    without = [masks.copy() for _ in kept]
    for trial, (k, j) in zip(without, kept):
        trial[k, j] = False
    evidence: dict[str, dict[str, float]] = {}
    for (k, j), (value, _, _) in zip(kept, score([(trial, current[1]) for trial in without])):
        evidence.setdefault(hidden[k], {})[terms[j]] = value - current[0]
    return rows, masks, current[1], current[2], evidence





def weak_terms(evidence: Mapping[str, Mapping[str, float]]) -> list[dict[str, Any]]:
    """The chosen terms whose evidence is below :data:`STRONG_EVIDENCE`, weakest first."""
    weak = [{"field": field, "term": term, "evidence": float(value)}
            for field, terms in evidence.items() for term, value in terms.items() if value < STRONG_EVIDENCE]
    return sorted(weak, key=lambda row: row["evidence"])


def _smallest_share(theta: np.ndarray, coefficients: np.ndarray, masks: np.ndarray) -> tuple[int, float, int] | None:
    """The kept term with the smallest share of its field's hidden term along the samples: (field, share, term).

    A term's share is the root mean square of ``c_j theta_j`` over that of the
    whole hidden term ``theta @ c``. A term far below the others is what a fit
    to noisy measurements buys to shave the misfit (or to make up for the
    difference between two discretisations of the same term), not physics the
    data can support.
    """
    best = None
    for k in range(masks.shape[0]):
        total = float(np.sqrt(np.mean((theta @ (coefficients[k] * masks[k])) ** 2)))
        for j in np.nonzero(masks[k])[0]:
            share = float(np.sqrt(np.mean((theta[:, j] * coefficients[k, j]) ** 2))) / max(total, 1e-300)
            if best is None or share < best[1]:
                best = (k, share, int(j))
    return best

def equation_text(case: Case, formulas: Mapping[str, Formula], weak: Sequence[Mapping[str, Any]] = ()) -> str:
    """The discovered equation, one line per field: the known PDE's name and parameters plus the formula.

    Weakly supported terms (:func:`weak_terms`) follow, one comment line each.
    """
    params = ", ".join(f"{k} = {v:g}" for k, v in case.pde.params.items())
    lines = [f"known: {case.pde.name} ({params})"]
    for field, formula in formulas.items():
        hidden = " + ".join(f"({c:.6g})*{t}" for c, t in zip(formula.coefficients, formula.terms)) or "0"
        lines.append(f"d{field}/dt = [known terms of {field}] + {hidden}")
    lines += [f"# weak: {w['term']} in d{w['field']}/dt (criterion rises by {w['evidence']:.3g} without it)" for w in weak]
    return "\n".join(lines) + "\n"


def _plain(value: Any) -> Any:
    """NumPy scalars and arrays as JSON numbers and lists."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _write(out: Path, case: Case, formulas: Mapping[str, Formula], metrics: dict[str, Any], regression: tuple, resolved: tuple) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "formula.json").write_text(json.dumps({field: f.to_json() for field, f in formulas.items()}, indent=2))
    (out / "formula.txt").write_text(equation_text(case, formulas, metrics["weak_terms"]))
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, default=_plain))
    _plot(out / "discovery.png", case, formulas, regression, resolved)


def _plot(path: Path, case: Case, formulas: Mapping[str, Formula], regression: tuple, resolved: tuple) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples, outputs, library = regression
    trajectory, obs = resolved
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for k, (field, formula) in enumerate(formulas.items()):
        predicted = np.asarray(formula.jax_function()(np.stack([samples[n] for n in library.inputs], axis=-1)))
        left.scatter(outputs[:, k], predicted, s=4, label=field)
    low, high = float(outputs.min()), float(outputs.max())
    left.plot([low, high], [low, high], "k--", lw=0.8)
    left.set_xlabel("hidden network at the samples")
    left.set_ylabel("discovered formula")
    left.legend()
    times = case.time.t0 + case.time.save_dt * np.arange(trajectory.shape[0])
    if case.n_dims == 0:
        for i, name in enumerate(case.fields):
            right.plot(times, trajectory[:, i], label=f"{name}, re-solved")
            right.plot(times[obs.times], obs.values[:, i], "o", ms=3, label=f"{name}, data")
        right.set_xlabel("t")
    else:
        x = np.arange(trajectory.shape[-1])
        right.plot(x, obs.clean[-1, 0], label="data, last time")
        right.plot(x, trajectory[-1, 0], "--", label="re-solved")
        right.set_xlabel("grid point")
    right.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
