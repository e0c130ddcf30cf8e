"""Sparse regression of hidden terms: the library, STLSQ, the threshold path, collinearity, the JAX form.

Every sample set is drawn from a seeded numpy generator. Positive samples
lie in (0.05, 2): there no two degree-3 monomials of (prey, predator) have
|corr| > 0.99 (x**2 and x**3 on U(0, 1): sqrt(35)/6 = 0.986), so the
Lotka-Volterra tests run under the suite's warnings-as-errors without a
collinearity warning, as they should.
"""

from __future__ import annotations

import json
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy

from pinns.sparse_regression import (
    CollinearityWarning,
    Formula,
    Library,
    SparseRegressionConfig,
    information_criterion,
    polynomial_library,
    sparse_regression,
    stlsq,
)

LV_INPUTS = ("prey", "predator")


def _lotka_volterra_samples(seed: int, n: int = 400) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"prey": rng.uniform(0.05, 2.0, n), "predator": rng.uniform(0.05, 2.0, n)}


def _with_noise(values: np.ndarray, level: float, seed: int) -> np.ndarray:
    """``values`` plus Gaussian noise of standard deviation ``level`` times their root mean square."""
    rng = np.random.default_rng(seed)
    return values + level * math.sqrt(float(np.mean(values**2))) * rng.standard_normal(values.shape)


# --------------------------------------------------------------------------- library


def test_polynomial_library_lists_every_monomial_up_to_the_degree_by_its_sympy_string():
    library = polynomial_library(LV_INPUTS, 2, extra={"sin_prey": "sin(prey)"})
    # sympy orders a product's factors alphabetically: prey*predator prints as predator*prey.
    assert library.terms == ("1", "prey", "predator", "prey**2", "predator*prey", "predator**2", "sin(prey)")
    assert library.names[-1] == "sin_prey"
    assert len(polynomial_library(("u", "u_x", "u_xx"), 3)) == math.comb(3 + 3, 3)
    assert len(polynomial_library(("u", "u_x", "u_xx"), 3, constant=False)) == math.comb(3 + 3, 3) - 1
    # Columns at (prey, predator) = (2, 3) and (0.5, 1), by hand.
    expected = [[1, 2, 3, 4, 6, 9, math.sin(2)], [1, 0.5, 1, 0.25, 0.5, 1, math.sin(0.5)]]
    by_name = library.evaluate({"prey": [2.0, 0.5], "predator": [3.0, 1.0]})
    by_array = library.evaluate(np.array([[2.0, 3.0], [0.5, 1.0]]))
    np.testing.assert_allclose(by_name, expected, rtol=1e-15)
    np.testing.assert_array_equal(by_array, by_name)
    assert all(sympy.sympify(t) == e for t, e in zip(library.terms, library.expressions))


# --------------------------------------------------------------------------- STLSQ on exact samples


def test_stlsq_recovers_the_lotka_volterra_interaction_terms_from_exact_samples():
    samples = _lotka_volterra_samples(seed=0)
    interaction = samples["prey"] * samples["predator"]
    library = polynomial_library(LV_INPUTS, 3)
    result = sparse_regression(library, samples, {"prey": -0.9 * interaction, "predator": 1.8 * interaction})

    for target, coefficient in (("prey", -0.9), ("predator", 1.8)):
        (entry,) = result.formula_json()[target]
        assert entry["term"] == "predator*prey"
        assert abs(entry["coefficient"] - coefficient) < 1e-10
    # A grid reaching down to rounding (1e-18 of the largest coefficient) puts
    # models of 1e-16 spurious terms on the path, with RSS 1e-29 against the true
    # model's 9e-29: the residual floor must make these tie, and the sparsest win.
    deep = SparseRegressionConfig(smallest_ratio=1e-18, n_thresholds=60)
    path_result = sparse_regression(library, samples, {"prey": -0.9 * interaction}, deep)
    path = path_result.selections[0].path
    assert max(len(p.support) for p in path) == len(library)
    assert path_result.formula("prey").terms == ("predator*prey",)
    floor = (1e-10 * np.linalg.norm(0.9 * interaction)) ** 2
    exact = [p for p in path if "predator*prey" in p.support]
    assert all(p.rss < floor for p in exact)
    for p in exact:
        assert p.criterion == pytest.approx(information_criterion("bic", floor, 400, len(p.support) + 1), rel=1e-14)
    # STLSQ alone at one threshold, both targets at once as columns of y.
    theta = library.evaluate(samples)
    coefficients, support = stlsq(theta, np.stack([-0.9 * interaction, 1.8 * interaction], axis=1), 0.1)
    column = library.terms.index("predator*prey")
    assert support.sum(axis=0).tolist() == [1, 1] and support[column].all()
    np.testing.assert_allclose(coefficients[column], [-0.9, 1.8], atol=1e-10)


def test_stlsq_keeps_a_small_but_true_term_among_terms_of_order_one():
    samples = _lotka_volterra_samples(seed=1, n=500)
    prey, predator = samples["prey"], samples["predator"]
    truth = {"1": -0.7, "prey": 1.1, "predator*prey": -0.9, "predator**2": 0.05}
    target = -0.7 + 1.1 * prey - 0.9 * prey * predator + 0.05 * predator**2
    library = polynomial_library(LV_INPUTS, 3)

    formula = sparse_regression(library, samples, {"f": target}).formula("f")
    assert dict(zip(formula.terms, formula.coefficients)).keys() == truth.keys()
    for term, coefficient in zip(formula.terms, formula.coefficients):
        assert abs(coefficient - truth[term]) < 1e-10
    # At a threshold just under the small term, STLSQ keeps it; just over, it must go.
    theta = library.evaluate(samples)
    _, kept = stlsq(theta, target, 0.049)
    _, dropped = stlsq(theta, target, 0.051)
    small = library.terms.index("predator**2")
    assert kept.sum() == 4 and kept[small]
    assert not dropped[small]


# --------------------------------------------------------------------------- noise and the criterion


def test_bic_selects_the_true_support_at_one_percent_noise_with_coefficients_within_two_percent():
    samples = _lotka_volterra_samples(seed=2)
    interaction = samples["prey"] * samples["predator"]
    targets = {"prey": _with_noise(-0.9 * interaction, 0.01, 10), "predator": _with_noise(1.8 * interaction, 0.01, 11)}
    result = sparse_regression(polynomial_library(LV_INPUTS, 3), samples, targets)

    assert result.config.criterion == "bic"
    for target, coefficient in (("prey", -0.9), ("predator", 1.8)):
        formula = result.formula(target)
        assert formula.terms == ("predator*prey",)
        assert abs(formula.coefficients[0] / coefficient - 1) < 0.02


def test_bic_picks_the_true_support_more_often_than_aic_at_one_percent_noise():
    # Why BIC is the default: log(400) = 6.0 per term against AIC's 2. Over 100
    # seeds of this setting BIC picked exactly predator*prey 99 times, AIC 72.
    samples = _lotka_volterra_samples(seed=0)
    library = polynomial_library(LV_INPUTS, 3)
    hits = {"bic": 0, "aic": 0}
    for seed in range(20):
        target = _with_noise(-0.9 * samples["prey"] * samples["predator"], 0.01, seed)
        for criterion in hits:
            formula = sparse_regression(library, samples, {"f": target}, SparseRegressionConfig(criterion=criterion)).formula("f")
            hits[criterion] += formula.terms == ("predator*prey",)
    assert hits["bic"] >= 19
    assert hits["aic"] < hits["bic"]


def test_path_supports_shrink_as_the_threshold_grows_and_the_choice_is_the_criterion_minimum():
    samples = _lotka_volterra_samples(seed=3)
    target = _with_noise(-0.9 * samples["prey"] * samples["predator"] + 0.4 * samples["prey"], 0.01, 3)
    result = sparse_regression(polynomial_library(LV_INPUTS, 3), samples, {"f": target})
    selection = result.selections[0]
    path = selection.path

    thresholds = [p.threshold for p in path]
    assert thresholds == sorted(thresholds)
    for smaller, larger in zip(path, path[1:]):
        assert set(larger.support) <= set(smaller.support)
    sizes = [len(p.support) for p in path]
    assert sizes[0] == 10 and sizes[-1] == 0 and len(set(sizes)) >= 4
    # The largest threshold is one grid step above the full fit's largest |coefficient|.
    assert path[-2].threshold == pytest.approx(0.9, rel=0.05)
    assert path[selection.chosen].criterion == min(p.criterion for p in path)
    assert path[selection.chosen].support == ("prey", "predator*prey")
    # The RSS never falls as terms are removed (least squares on nested supports).
    assert all(a.rss <= b.rss * (1 + 1e-12) for a, b in zip(path, path[1:]))

    document = json.loads(json.dumps(result.to_json(), allow_nan=False))
    chosen = document["selection"]["f"]["chosen"]
    assert chosen["support"] == ["prey", "predator*prey"]
    assert set(document["selection"]["f"]["path"][0]) == {"threshold", "support", "coefficients", "rss", "criterion"}
    assert [e["term"] for e in document["formula"]["f"]] == ["prey", "predator*prey"]


def test_a_target_of_pure_noise_or_zero_is_explained_by_nothing():
    # The path ends one grid step above the largest coefficient, at the empty
    # model, so a criterion can say "no hidden term" (50 of 50 noise seeds did).
    samples = _lotka_volterra_samples(seed=12)
    library = polynomial_library(LV_INPUTS, 3)
    noise = np.random.default_rng(12).standard_normal(400)
    result = sparse_regression(library, samples, {"noise": noise, "zero": np.zeros(400)})
    assert result.formula_json() == {"noise": [], "zero": []}
    assert result.formula("zero").expression == 0
    assert len(result.selections[0].path) == SparseRegressionConfig().n_thresholds + 1


def test_information_criteria_equal_their_formulas():
    # rss = 2, n = 10, k = 3: -2 log L = 10 (log(2 pi 0.2) + 1).
    base = 10 * (math.log(2 * math.pi * 0.2) + 1)
    assert information_criterion("aic", 2.0, 10, 3) == pytest.approx(base + 6, rel=1e-15)
    assert information_criterion("aicc", 2.0, 10, 3) == pytest.approx(base + 6 + 24 / 6, rel=1e-15)
    assert information_criterion("bic", 2.0, 10, 3) == pytest.approx(base + 3 * math.log(10), rel=1e-15)
    # 40 residuals standing for 10 observations: variance 2/40, likelihood and penalty of n = 10.
    effective = 10 * (math.log(2 * math.pi * 2.0 / 40) + 1) + 3 * math.log(10)
    assert information_criterion("bic", 2.0, 10, 3, samples=40) == pytest.approx(effective, rel=1e-15)


def test_effective_samples_set_the_criterion_n_on_the_path():
    samples = _lotka_volterra_samples(seed=11, n=200)
    target = _with_noise(-0.9 * samples["prey"] * samples["predator"], 0.01, 11)
    config = SparseRegressionConfig(effective_samples=25)
    point = sparse_regression(polynomial_library(LV_INPUTS, 2), samples, {"f": target}, config).selections[0].path[0]
    expected = information_criterion("bic", point.rss, 25, len(point.support) + 1, samples=200)
    assert point.criterion == pytest.approx(expected, rel=1e-14)


def test_held_out_selection_is_seeded_and_recovers_the_sparse_model():
    samples = _lotka_volterra_samples(seed=4, n=300)
    target = -0.9 * samples["prey"] * samples["predator"]
    library = polynomial_library(LV_INPUTS, 3)
    config = SparseRegressionConfig(criterion="held-out", seed=7)
    first = sparse_regression(library, samples, {"f": target}, config)
    again = sparse_regression(library, samples, {"f": target}, config)
    other = sparse_regression(library, samples, {"f": target}, SparseRegressionConfig(criterion="held-out", seed=8))

    assert first.formula("f").terms == ("predator*prey",)
    assert abs(first.formula("f").coefficients[0] + 0.9) < 1e-10
    assert first.to_json() == again.to_json()
    # Another seed holds out other samples: the empty model's training RSS differs.
    assert first.selections[0].path[-1].rss != other.selections[0].path[-1].rss


# --------------------------------------------------------------------------- collinearity


def test_collinearity_warning_names_sin_u_beside_u_on_small_samples():
    u = np.random.default_rng(5).uniform(-0.1, 0.1, 300)
    library = polynomial_library(("u",), 3, constant=False, extra={"sin_u": "sin(u)"})
    with pytest.warns(CollinearityWarning, match=r"u and sin\(u\) \(\|corr\| = 1 - ") as record:
        result = sparse_regression(library, {"u": u}, {"f": 0.5 * u - u**3})
    message = str(record[0].message)
    assert len(record) == 1 and "\n" not in message
    # sin u = u - u^3/6 + ...: on U(-a, a) the part of u^3 that u does not explain
    # has variance 4 a^6 / 175, so 1 - corr(u, sin u) = a^4 / 1050 to leading order.
    deficit = float(message.split("|corr| = 1 - ")[1].split(")")[0])
    assert deficit == pytest.approx(0.1**4 / 1050, rel=0.1)
    # The pairs with u**3 stay under the limit (corr(u, u^3) = sqrt(21)/5 = 0.917 on U(-a, a)).
    assert "u**3 and" not in message and "and u**3" not in message
    assert result.collinearity and "sin(u)" in result.collinearity[0]


def test_collinearity_warning_fires_on_a_large_condition_number_no_pair_shows():
    # w = u + v: no pair of u, v, w has |corr| near 1, but the three are dependent.
    rng = np.random.default_rng(6)
    samples = {"u": rng.normal(size=200), "v": rng.normal(size=200)}
    library = polynomial_library(("u", "v"), 1, constant=False, extra={"w": "u + v"})
    with pytest.warns(CollinearityWarning, match="condition number") as record:
        sparse_regression(library, samples, {"f": samples["u"]})
    assert "|corr|" not in str(record[0].message)


def test_no_collinearity_warning_on_a_well_conditioned_library():
    u = np.random.default_rng(7).uniform(-1.0, 1.0, 300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = sparse_regression(polynomial_library(("u",), 2), {"u": u}, {"f": 0.5 * u - u**2})
    assert result.collinearity == ()


# --------------------------------------------------------------------------- ridge


def test_ridge_shrinks_orthogonal_columns_by_one_over_one_plus_alpha():
    # Orthogonal columns of very different scales: the ridge acts on the
    # column-scaled problem, so every coefficient shrinks by 1/(1 + alpha).
    # (A ridge on raw coefficients would shrink them by |c_j|^2 / (|c_j|^2 + alpha).)
    rng = np.random.default_rng(8)
    n, alpha = 200, 0.25
    q, _ = np.linalg.qr(rng.normal(size=(n, 3)))
    theta = q * np.array([1.0, 30.0, 0.02])
    y = theta @ np.array([2.0, -0.5, 40.0]) + rng.normal(size=n)
    least_squares = (theta.T @ y) / np.sum(theta**2, axis=0)
    coefficients, support = stlsq(theta, y, 0.0, alpha=alpha)
    assert support.all()
    np.testing.assert_allclose(coefficients, least_squares / (1 + alpha), rtol=1e-12)


# --------------------------------------------------------------------------- JAX form


def test_parametric_jax_formula_matches_numpy_and_its_coefficient_gradient_is_the_library_column():
    library = polynomial_library(("u", "u_x"), 2, extra={"sin_u": "sin(u)"})
    coefficients = np.linspace(-1.0, 1.0, len(library))
    formula = Formula("g", library.inputs, library.terms, library.expressions, tuple(coefficients))
    samples = np.random.default_rng(9).normal(size=(50, 2))
    theta = library.evaluate(samples)

    parametric = jax.jit(formula.parametric())
    values = parametric(jnp.asarray(samples), jnp.asarray(coefficients))
    np.testing.assert_allclose(values, theta @ coefficients, rtol=1e-13, atol=1e-14)
    by_name = parametric({"u": jnp.asarray(samples[:, 0]), "u_x": jnp.asarray(samples[:, 1])}, jnp.asarray(coefficients))
    np.testing.assert_array_equal(by_name, values)
    # The formula is linear in its coefficients: d f(x_i) / d c_j is column j at x_i, exactly.
    jacobian = jax.jacfwd(parametric, argnums=1)(jnp.asarray(samples), jnp.asarray(coefficients))
    np.testing.assert_allclose(jacobian, theta, rtol=1e-15, atol=0)
    gradient = jax.grad(lambda c: parametric(jnp.asarray(samples[3]), c))(jnp.asarray(coefficients))
    np.testing.assert_allclose(gradient, theta[3], rtol=1e-15, atol=0)
    # The fixed-coefficient form keeps a float32 input float32.
    assert formula.jax_function()(jnp.asarray(samples, dtype=jnp.float32)).dtype == jnp.float32


def test_formula_json_round_trips_and_its_expression_is_the_weighted_sum():
    samples = _lotka_volterra_samples(seed=10, n=200)
    target = 0.5 * samples["prey"] - 0.9 * samples["prey"] * samples["predator"]
    formula = sparse_regression(polynomial_library(LV_INPUTS, 2), samples, {"prey": target}).formula("prey")
    prey, predator = sympy.symbols("prey predator")
    residual = sympy.expand(formula.expression - (0.5 * prey - 0.9 * prey * predator))
    assert all(abs(float(c)) < 1e-10 for c in sympy.Poly(residual, prey, predator).coeffs())

    again = Formula.from_json("prey", LV_INPUTS, json.loads(json.dumps(formula.to_json())))
    assert again == formula


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: polynomial_library(("u",), 0, constant=False), "candidate library is empty"),
        (lambda: Library(inputs=("u",), names=(), expressions=()), "candidate library is empty"),
        (
            lambda: polynomial_library(("u", "u_x"), 2).evaluate({"u": np.ones(10), "u_x": np.ones(12)}),
            "samples have unequal lengths: 'u' has 10, 'u_x' has 12",
        ),
        (
            lambda: polynomial_library(("u",), 2).evaluate({"u": np.array([0.1, np.nan, 0.3])}),
            r"samples: 'u' holds 1 NaN value\(s\) of 3",
        ),
        (
            lambda: sparse_regression(polynomial_library(("u",), 2), {"u": np.ones(5)}, {"f": np.ones(4)}),
            r"target 'f' has shape \(4,\), the samples have 5 values",
        ),
        (
            lambda: sparse_regression(polynomial_library(("u",), 2), {"u": np.ones(3)}, {"f": [1.0, np.nan, 2.0]}),
            r"target 'f' holds 1 NaN value\(s\) of 3",
        ),
        (lambda: polynomial_library(("u",), 2, extra={"g": "v**2"}), "library term 'g' uses v, which is not among the inputs"),
        (lambda: SparseRegressionConfig(criterion="cv"), "criterion must be one of bic, aic, aicc, held-out"),
    ],
    ids=["empty-library", "empty-library-direct", "unequal-lengths", "nan-samples", "target-length", "nan-target",
         "unknown-symbol", "unknown-criterion"],
)
def test_bad_input_raises_a_one_line_value_error_naming_the_problem(make, message):
    with pytest.raises(ValueError, match=message) as error:
        make()
    assert "\n" not in str(error.value)
