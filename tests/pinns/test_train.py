"""Training: a resumed run equals an uninterrupted one; a short run on ``burgers`` cuts the error."""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np
import pytest

from pinns.checkpoint import CheckpointError
from pinns.config import TrainConfig, preset
from pinns.train import predict, relative_l2, setup, train


# Measured on 2 CPU cores: 1.121 untrained -> 0.338 after 1500 Adam steps (x0.30);
# the bound leaves room for other BLAS builds and CPUs, not for a broken trainer.
FACTOR = 0.4


def _params(model):
    return jax.tree.leaves(eqx.filter(model, eqx.is_inexact_array))


@pytest.mark.parametrize("method, lbfgs_steps", [("pinn", 4), ("causal", 0)])
def test_resumed_training_gives_the_same_parameters_as_an_uninterrupted_run(tmp_path, small_case, method, lbfgs_steps):
    from solvers.solve import solve

    case = small_case
    reference = solve(case)
    # With L-BFGS, stop inside its phase, so both optimiser states go through the checkpoint.
    config = TrainConfig.from_settings(method, steps=10 - lbfgs_steps, lbfgs_steps=lbfgs_steps, width=8, depth=2, n_residual=64,
                                       n_chunks=4, n_initial=16, eval_every=3, checkpoint_every=5)
    whole = train(case, config, reference=reference, progress=False)
    train(case, config, reference=reference, checkpoint_dir=tmp_path, stop_at=8, progress=False)
    resumed = train(case, config, reference=reference, checkpoint_dir=tmp_path, resume=True, progress=False)
    assert resumed.steps == whole.steps == 10
    for a, b in zip(_params(whole.model), _params(resumed.model), strict=True):
        np.testing.assert_array_equal(a, b)
    assert [h["step"] for h in resumed.history] == [3, 6, 9, 10]
    # A checkpoint of another configuration is refused, not silently continued.
    with pytest.raises(CheckpointError, match=r"config differs: network\.width is 8 in the checkpoint, 9 here"):
        train(case, config.replace(width=9), reference=reference, checkpoint_dir=tmp_path, resume=True, progress=False)
    # A run that stopped and was not resumed differs (the test can fail).
    stopped = train(case, config, reference=reference, stop_at=8, progress=False)
    assert any(not np.array_equal(a, b) for a, b in zip(_params(whole.model), _params(stopped.model)))


def test_resume_with_more_adam_steps_equals_a_run_started_with_them(tmp_path, small_case):
    from solvers.solve import solve

    case = small_case
    reference = solve(case)
    config = TrainConfig.from_settings("causal", steps=10, width=8, depth=2, n_residual=64, n_chunks=4, n_initial=16,
                                       eval_every=3, checkpoint_every=5)
    whole = train(case, config, reference=reference, progress=False)
    short = train(case, config.replace(steps=6), reference=reference, checkpoint_dir=tmp_path, progress=False)
    assert short.steps == 6
    extended = train(case, config, reference=reference, checkpoint_dir=tmp_path, resume=True, progress=False)
    assert extended.steps == 10
    for a, b in zip(_params(whole.model), _params(extended.model), strict=True):
        np.testing.assert_array_equal(a, b)
    # Fewer steps than the checkpoint took cannot continue it.
    with pytest.raises(CheckpointError, match="steps: 4 is fewer than the 10 steps"):
        train(case, config.replace(steps=4), reference=reference, checkpoint_dir=tmp_path, resume=True, progress=False)


def test_short_training_on_burgers_cuts_the_error_by_a_stated_factor():
    from cases import get
    from solvers.solve import solve

    # A coarser reference than the case's (n = 2049, dt = 2.5e-4) keeps the test
    # short; at n = 513 it differs from the fine one by far less than the bound.
    case = get("burgers").with_updates({"grid.n": 513, "time.dt": 1e-3})
    reference = solve(case)
    config = preset("cpu", "burgers").replace(steps=1500, lbfgs_steps=0, eval_every=1500)
    pieces = setup(case, config)
    untrained = pieces.model(pieces.problem)
    target = reference["u"][0][..., None]
    before = relative_l2(predict(untrained, reference.time, (reference.coords["x"],)), target)
    after = train(case, config, reference=reference, progress=False).rel_l2
    print(f"burgers rel. L2: {before:.3f} untrained, {after:.3f} after 1500 Adam steps")
    assert after < FACTOR * before


def test_gradient_norm_balancing_makes_every_weighted_term_pull_equally_hard():
    import optax

    from pinns.loop import balance

    from cases import get

    case = get("burgers").with_updates({"grid.n": 65, "dtype": "float64"})
    config = preset("cpu", "burgers").replace(width=8, depth=2, n_residual=256, n_initial=32, n_boundary=16, balance_every=1,
                                              balance_momentum=0.0)
    pieces = setup(case, config)
    objective = pieces.objective(pieces.problem)
    key = jax.random.key(0)
    state = pieces.state(pieces.problem)
    balanced = balance(state, objective, 0.0, key)
    # The same batch balance draws; each term's gradient norm, times its new weight.
    batch = objective.sample(jax.random.fold_in(key, state.step))
    params, static = eqx.partition(state.model, eqx.is_inexact_array)
    pulls = {}
    for name in state.weights:
        grad = jax.grad(lambda p: objective.terms(eqx.combine(p, static), batch, state.reducer_state)[0][name])(params)
        pulls[name] = float(balanced.weights[name]) * float(optax.tree.norm(grad))
    assert set(pulls) == {"initial", "residual", "boundary"}
    values = np.array(list(pulls.values()))
    np.testing.assert_allclose(values, values[0], rtol=1e-10)
    # ... and that common pull is the sum of the raw norms (lambda_i = sum_j |g_j| / |g_i|).
    raw = sum(pulls[name] / float(balanced.weights[name]) for name in pulls)
    assert values[0] == pytest.approx(raw, rel=1e-10)
    # With momentum, the new weight is the blend of the old one and that value.
    half = balance(state, objective, 0.5, key)
    for name in pulls:
        assert float(half.weights[name]) == pytest.approx(0.5 * float(state.weights[name]) + 0.5 * float(balanced.weights[name]), rel=1e-12)
