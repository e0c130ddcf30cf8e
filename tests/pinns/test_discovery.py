"""Hidden-term discovery: gradients reach the hidden network, a user's own ODE's missing term is found, bad input is one line."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from phys.cli import main

# A user's ODE none of the shipped cases has: an oscillator whose friction is the term to find.
OSCILLATOR = '''
from jaxtyping import Array, Float
import phys


class Oscillator(phys.AbstractPDE):
    """x' = v, v' = -k x - c v (friction c)."""

    k: Float[Array, ""] = 4.0
    """stiffness"""
    c: Float[Array, ""] = 0.3
    """friction"""

    fields = ("x", "v")
    n_dims = 0

    def linear(self):
        return {"x": {}, "v": {(): -self.c}}

    def nonlinear(self, d):
        return {"x": {(): d("v")}, "v": {(): -self.k * d("x")}}


CASE = phys.Case(
    name="oscillator", pde=Oscillator(), ic={"kind": "array", "values": [1.0, 0.0]},
    time={"t_end": 4.0, "dt": 0.01, "save_dt": 0.2}, dtype="float64",
)
'''


@pytest.fixture(scope="module")
def oscillator(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("oscillator")
    case_file = folder / "oscillator_case.py"
    case_file.write_text(OSCILLATOR)
    data = folder / "full.h5"
    assert main(["run", str(case_file), "--out", str(data)]) == 0
    return case_file, data


def test_a_users_ode_recovers_its_missing_friction(oscillator, tmp_path: Path) -> None:
    case_file, data = oscillator
    out = tmp_path / "found"
    # The known part has no friction (c = 0); the hidden term on v must be -0.3 v.
    code = main(["discover", str(case_file), "--set", "c=0", "--data", str(data), "--hidden", "v", "--degree", "1",
                 "--set", "steps=200", "--set", "refine_steps=15", "--out", str(out)])
    assert code == 0
    formula = json.loads((out / "formula.json").read_text())
    assert [entry["term"] for entry in formula["v"]] == ["v"]
    assert abs(formula["v"][0]["coefficient"] + 0.3) < 3e-3
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["resolve_rel_l2"] < 1e-3
    # The friction's evidence: the rise of the criterion from the chosen model to the empty one on the path.
    by_support = {tuple(row["support"]["v"]): row["criterion"] for row in metrics["path"]}
    assert metrics["evidence"]["v"]["v"] == pytest.approx(by_support[()] - by_support[("v",)], rel=1e-12)
    assert metrics["evidence"]["v"]["v"] > 100 and metrics["weak_terms"] == []
    assert (out / "discovery.png").stat().st_size > 1000 and "known: oscillator_case:Oscillator" in (out / "formula.txt").read_text()


def test_the_hidden_networks_gradient_reaches_the_loss(oscillator) -> None:
    from phys._imports import load_case_module
    from pinns.hidden import HiddenNetwork, with_hidden_term
    from solvers import simulation

    case_file, _ = oscillator
    case = load_case_module(case_file).CASE.with_updates({"pde.params.c": 0.0})
    sim = simulation(case)
    network = HiddenNetwork(2, 1, jax.random.key(0), width=4, depth=1, dtype=jnp.float64)

    def loss(net):
        pde = with_hidden_term(sim.pde, net, ("v",), 0)
        return jnp.sum(eqx.tree_at(lambda s: s.scheme.pde, sim, pde)()["x"] ** 2)

    grads = eqx.filter_grad(loss)(network)
    weight = network.mlp.layers[-1].weight
    g = grads.mlp.layers[-1].weight
    direction = jnp.zeros_like(weight).at[0, 0].set(1.0)
    step = 1e-6
    shifted = lambda h: loss(eqx.tree_at(lambda n: n.mlp.layers[-1].weight, network, weight + h * direction))  # noqa: E731
    finite = (shifted(step) - shifted(-step)) / (2 * step)
    assert abs(float(finite)) > 1e-3
    np.testing.assert_allclose(float(g[0, 0]), float(finite), rtol=1e-5)


def _bad(tmp_path: Path, oscillator, kind: str) -> list[str]:
    case_file, data = oscillator
    args = ["discover", str(case_file), "--data", str(data), "--hidden", "v", "--out", str(tmp_path / "out")]
    if kind == "field":
        args[args.index("v")] = "w"
    elif kind == "library":
        args += ["--degree", "0", "--set", "constant=false"]
    elif kind == "time":
        args += ["--set", "t_end=2.0"]
    elif kind == "fields":
        other = tmp_path / "lv.h5"
        assert main(["run", "lotka-volterra", "--set", "t_end=4", "--set", "save_dt=0.2", "--out", str(other)]) == 0
        args[args.index(str(data))] = str(other)
    return args


BAD = {
    "field": "phys: error: hidden: 'w' is not a field of PDE 'oscillator_case:Oscillator'; it has x, v",
    "library": "phys: error: degree: candidate library is empty: give degree >= 1, constant=True or extra functions",
    "time": "phys: error: data: {data} is saved at 21 times from 0 to 4; the case saves 11 from 0 to 2 (set t_end and save_dt to the file's)",
    "fields": "phys: error: data: {other} has fields predator, prey; the case needs x, v",
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_input_is_one_line_exit_2_nothing_written(kind: str, oscillator, tmp_path: Path, capsys) -> None:
    args = _bad(tmp_path, oscillator, kind)
    capsys.readouterr()
    assert main(args) == 2
    expected = BAD[kind].format(data=oscillator[1], other=tmp_path / "lv.h5")
    assert capsys.readouterr().err == expected + "\n"
    assert not (tmp_path / "out").exists()


def test_the_pinn_route_finds_the_same_friction(oscillator, tmp_path: Path) -> None:
    # Universal-PINN route: a solution network and the hidden network trained on data + residual, then the same
    # regression, choice and refinement through the solver.
    case_file, data = oscillator
    out = tmp_path / "pinn"
    code = main(["discover", str(case_file), "--set", "c=0", "--data", str(data), "--hidden", "v", "--degree", "1",
                 "--route", "pinn", "--set", "pinn_steps=3000", "--set", "pinn_width=32", "--set", "pinn_depth=3",
                 "--set", "n_residual=128", "--set", "refine_steps=15", "--out", str(out)])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["route"] == "pinn"
    # The network's samples alone already carry the answer (before refinement through the solver).
    before = {row["term"]: row["coefficient"] for row in metrics["coefficients_before_refinement"]["v"]}
    assert abs(before.get("v", 0.0) + 0.3) < 0.05
    formula = json.loads((out / "formula.json").read_text())
    assert [entry["term"] for entry in formula["v"]] == ["v"]
    assert abs(formula["v"][0]["coefficient"] + 0.3) < 3e-3
    assert metrics["resolve_rel_l2"] < 1e-3


def test_each_chosen_terms_evidence_is_the_rise_of_the_criterion_without_it() -> None:
    # A stand-in for the refit through the solver, with misfits set by hand: the true term "a" lowers the
    # misfit a hundredfold, "b" shaves 8% off it (chosen by BIC at n = 62, log n = 4.13, but weakly),
    # "1" nothing. So the choice is {a, b}; b's evidence is 62 log(1/0.92) - log 62 and a's is large.
    import math

    from pinns._library import polynomial_library
    from pinns.discovery import STRONG_EVIDENCE, _choose, weak_terms
    from pinns.discovery_config import DiscoveryConfig
    from pinns.sparse_regression import information_criterion

    library = polynomial_library(("a", "b"), 1, constant=True)
    assert library.terms == ("1", "a", "b")
    n = 62

    def rss(masks: np.ndarray) -> float:
        on = dict(zip(library.terms, masks[0]))
        return 1.0 * (0.01 if on["a"] else 1.0) * (0.92 if on["b"] else 1.0)

    def refit(masks: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Every kept coefficient 1: no term falls below min_contribution.
        return masks.astype(float), np.array([rss(m) for m in masks])

    theta = np.random.default_rng(0).normal(size=(n, 3))
    config = DiscoveryConfig(hidden=("u",), degree=1, min_evidence=0.0)  # the plain criterion
    _, masks, _, _, evidence = _choose(library, theta, [theta.sum(axis=1)], np.ones((1, 3), bool), refit, n, config)
    assert [t for t, m in zip(library.terms, masks[0]) if m] == ["a", "b"]

    def bic(value: float, k: int) -> float:
        return information_criterion("bic", value, n, k)

    assert evidence["u"]["b"] == pytest.approx(bic(0.01, 1) - bic(0.0092, 2), rel=1e-12)
    assert evidence["u"]["b"] == pytest.approx(n * math.log(1 / 0.92) - math.log(n), rel=1e-12)
    assert evidence["u"]["a"] == pytest.approx(n * math.log(100) - math.log(n), rel=1e-12)
    assert 0 < evidence["u"]["b"] < STRONG_EVIDENCE < evidence["u"]["a"]
    assert weak_terms(evidence) == [{"field": "u", "term": "b", "evidence": evidence["u"]["b"]}]

    # By default a term must carry strong evidence: b (1.04) is not kept, a is, with the same evidence as before.
    rows, masks, _, rss_chosen, strong = _choose(library, theta, [theta.sum(axis=1)], np.ones((1, 3), bool), refit, n,
                                                 DiscoveryConfig(hidden=("u",), degree=1))
    assert [t for t, m in zip(library.terms, masks[0]) if m] == ["a"]
    assert rss_chosen == pytest.approx(0.01)
    assert strong["u"]["a"] == pytest.approx(bic(1.0, 0) - bic(0.01, 1), rel=1e-12) and weak_terms(strong) == []
    # A term worth just over the bar is kept, just under it dropped: the bar is the criterion's rise, exactly.
    for shave, kept in ((math.exp(-(math.log(n) + STRONG_EVIDENCE + 0.01) / n), ["a", "b"]),
                        (math.exp(-(math.log(n) + STRONG_EVIDENCE - 0.01) / n), ["a"])):
        def refit_b(masks: np.ndarray, starts: np.ndarray, shave: float = shave) -> tuple[np.ndarray, np.ndarray]:
            on = [dict(zip(library.terms, m[0])) for m in masks]
            return masks.astype(float), np.array([(0.01 if o["a"] else 1.0) * (shave if o["b"] else 1.0) for o in on])

        _, masks, _, _, _ = _choose(library, theta, [theta.sum(axis=1)], np.ones((1, 3), bool), refit_b, n,
                                    DiscoveryConfig(hidden=("u",), degree=1))
        assert [t for t, m in zip(library.terms, masks[0]) if m] == kept
