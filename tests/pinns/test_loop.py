"""The optimiser loop's pieces: causal weighting reaches the loss, L-BFGS runs its iterations and lowers the loss."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinns.config import TrainConfig
from pinns.loop import lbfgs_steps, total
from pinns.losses import causal_weights, chunk_losses
from pinns.residual import residuals
from pinns.train import setup, train


def _tiny(method: str, **settings):
    return TrainConfig.from_settings(method, width=8, depth=2, n_residual=64, n_chunks=4, n_initial=16, **settings)


def test_causal_training_is_told_apart_from_plain_training(small_case):
    from solvers.solve import solve

    case = small_case.with_updates({"dtype": "float64"})
    # The residual term of each method on one batch: the causal one is the weighted mean of the chunk
    # losses with the weights of its state's eps, the plain one their mean; both from the same residuals.
    causal = setup(case, _tiny("causal", causal_eps=1.0))
    plain = setup(case, _tiny("pinn"))
    model = causal.model(causal.problem)
    batch = causal.problem.sample(jax.random.key(3), causal.config.sampling)
    chunks, m, d = batch.residual.shape
    squared = jnp.sum(residuals(case.pde.build("float64"), model, batch.residual.reshape(-1, d)) ** 2, axis=1).reshape(chunks, m)
    losses = chunk_losses(squared)
    w = causal_weights(losses, 1.0)
    terms_causal, reported = causal.method.terms(model, causal.problem, batch, jnp.asarray(1.0))
    terms_plain, _ = plain.method.terms(model, plain.problem, batch, jnp.asarray(1.0))
    assert float(terms_causal["residual"]) == pytest.approx(float(jnp.mean(w * losses)), rel=1e-12)
    assert float(terms_plain["residual"]) == pytest.approx(float(jnp.mean(losses)), rel=1e-12)
    assert float(jnp.min(w)) < 0.9 and float(terms_causal["residual"]) < 0.95 * float(terms_plain["residual"])
    np.testing.assert_allclose(reported, w, rtol=1e-12)
    # Training: the causal run's early weights are below 1 and its eps rises along the schedule;
    # the plain run's eps stays where it is.
    reference = solve(case)
    settings = dict(steps=300, learning_rate=1e-2, decay_steps=100, eval_every=20)
    run = train(case, _tiny("causal", causal_eps=1.0, causal_delta=0.9, **settings), reference=reference, progress=False)
    first, last = run.history[0], run.history[-1]
    print("causal: min w", min(first["causal_weights"]), "eps", first["eps"], "->", last["eps"])
    assert min(first["causal_weights"]) < 0.9
    assert last["eps"] >= 10 * first["eps"]
    flat = train(case, _tiny("pinn", **settings), reference=reference, progress=False)
    assert {h["eps"] for h in flat.history} == {1.0}


def test_lbfgs_stage_runs_its_iterations_and_lowers_the_loss(small_case):
    case = small_case.with_updates({"dtype": "float64"})
    pieces = setup(case, _tiny("pinn", steps=0, lbfgs_steps=120, n_residual_lbfgs=128))
    objective, state = pieces.objective(pieces.problem), pieces.state(pieces.problem)
    lbfgs = objective.for_lbfgs()
    batch = lbfgs.sample(jax.random.fold_in(pieces.run_key, 2**31 - 1))

    def loss(model):
        terms, _ = lbfgs.terms(model, batch, state.reducer_state)
        return float(total(terms, state.weights))

    before = loss(state.model)
    half, _ = lbfgs_steps(state, objective, pieces.run_key, jnp.asarray(60, jnp.int32))
    after, value = lbfgs_steps(half, objective, pieces.run_key, jnp.asarray(60, jnp.int32))
    assert int(after.step) == 120
    print(f"L-BFGS: loss {before:.3e} -> {loss(half.model):.3e} (60) -> {loss(after.model):.3e} (120)")
    # Measured: 9.5e-01 -> 1.1e-03 -> 3.1e-04 (2 CPU cores, float64). A stage that stopped early, or took no steps, fails these.
    assert loss(half.model) < 1e-2 * before
    assert loss(after.model) < 0.5 * loss(half.model)
    assert float(value) == pytest.approx(loss(after.model), rel=0.5)  # the last iteration's loss, on the same batch
    # Cut into two calls or one, the same iterations: the phase is a function of its step count.
    whole, _ = lbfgs_steps(state, objective, pieces.run_key, jnp.asarray(120, jnp.int32))
    for a, b in zip(jax.tree.leaves(after.model), jax.tree.leaves(whole.model)):
        np.testing.assert_array_equal(a, b)
