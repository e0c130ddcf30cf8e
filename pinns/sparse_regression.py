"""Sparse regression of a hidden term on a sympy candidate library (issue 14, step 3).

A network trained for a hidden term N(inputs) is sampled where the data lives;
this module turns those samples into a formula:

1. a candidate library of sympy terms (:func:`polynomial_library`, :class:`Library`);
2. sequentially thresholded least squares (:func:`stlsq`; Brunton, Proctor &
   Kutz 2016, PNAS 113:3932), thresholds on raw coefficients, optional ridge;
3. the threshold chosen along a geometric path by an information criterion
   (BIC by default; AIC, AICc) or by held-out error (:func:`sparse_regression`);
4. a :class:`CollinearityWarning` when candidates cannot be told apart on the samples;
5. the result as JSON (``{"term": "predator*prey", "coefficient": -0.9}``), as a
   sympy expression, and as a JAX function with the coefficients as an argument,
   so a differentiable solver can refine them (:class:`Formula`).

Pure numpy and sympy; JAX only inside the functions :meth:`Formula.parametric`
and :meth:`Formula.jax_function` return.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Mapping
from typing import Any, Literal, Union

import numpy as np
import sympy
from numpy.typing import ArrayLike

from pinns._library import Library, Samples, check_finite, polynomial_library, sample_columns

__all__ = [
    "CRITERIA",
    "CollinearityWarning",
    "Formula",
    "Library",
    "PathPoint",
    "Selection",
    "SparseRegressionConfig",
    "SparseRegressionResult",
    "collinearity_findings",
    "information_criterion",
    "polynomial_library",
    "sparse_regression",
    "stlsq",
    "threshold_path",
]

Criterion = Literal["bic", "aic", "aicc", "held-out"]
CRITERIA: tuple[str, ...] = ("bic", "aic", "aicc", "held-out")

# What a JAX formula is called with: one array per input name, or one array
# whose last axis holds the inputs in the library's order.
JaxInputs = Union[Mapping[str, Any], Any]


class CollinearityWarning(UserWarning):
    """Two candidate terms (or the library as a whole) are nearly linearly dependent on the samples.

    Their coefficients are then not identifiable: the regression may split one
    true term between look-alikes (``sin(u)`` for ``u - u**3/6`` at small ``|u|``).
    """


# --------------------------------------------------------------------------- configuration


@dataclasses.dataclass(frozen=True)
class SparseRegressionConfig:
    """How :func:`sparse_regression` fits and selects; every default is stated here once.

    Attributes:
        criterion: ``"bic"`` (default), ``"aic"``, ``"aicc"`` or ``"held-out"``.
            BIC is the default because its penalty per term, ``log n``, grows with
            the number of samples while AIC's stays 2: a network sampled where the
            data lives gives many samples (hundreds to thousands) of a smooth
            function with little noise, and there BIC is consistent (it picks the
            true sparse model with probability -> 1 as n grows) whereas AIC keeps a
            fixed chance of admitting a spurious small term. Mangan et al. 2017
            (Proc. R. Soc. A 473:20170009) rank SINDy models by AIC/AICc because
            they compare a handful of candidate models from few, noisy time
            points, where AICc's small-sample correction matters; both are offered.
        alpha: ridge strength on the column-scaled problem, dimensionless: the
            objective is ``mean((y - Theta xi)^2) + alpha * sum_j (s_j xi_j)^2``
            with ``s_j`` the root mean square of column j, so on orthogonal columns
            every coefficient is shrunk by ``1 / (1 + alpha)``, whatever the units.
        n_thresholds: points of the geometric threshold grid from the largest
            |coefficient| of the full fit down to ``smallest_ratio`` times it; one
            more point, a grid step above the largest, ends the path at the empty model.
        smallest_ratio: the smallest threshold over the largest.
        relative_residual_floor: residual norms below this fraction of ``|y|`` count
            as this fraction. Below it a residual is rounding of the solve, not
            information; without a floor, exact samples let the model with the most
            terms win by shaving 1e-30 off the RSS.
        held_out_fraction, seed: for ``"held-out"``: the fraction of samples kept
            out of the fit, drawn with ``numpy.random.default_rng(seed)``.
        correlation_limit, condition_limit: the collinearity warning's limits
            (see :func:`collinearity_findings`).
        effective_samples: the number of independent measurements behind the
            samples, used as n in the information criterion (None: the number of
            samples). Samples of a smooth surrogate (a network, a spline) fitted
            to N measurements carry about N measurements' worth of evidence
            however densely they are drawn; counting each as independent makes
            the likelihood term overstate every small RSS drop, and the surrogate's
            own smooth bias then buys spurious terms.
    """

    criterion: Criterion = "bic"
    alpha: float = 0.0
    n_thresholds: int = 40
    smallest_ratio: float = 1e-6
    relative_residual_floor: float = 1e-10
    held_out_fraction: float = 0.2
    seed: int = 0
    correlation_limit: float = 0.99
    condition_limit: float = 1e8
    effective_samples: int | None = None

    def __post_init__(self) -> None:
        if self.criterion not in CRITERIA:
            raise ValueError(f"criterion must be one of {', '.join(CRITERIA)}; got {self.criterion!r}")
        if not (math.isfinite(self.alpha) and self.alpha >= 0):
            raise ValueError(f"alpha must be finite and >= 0, got {self.alpha!r}")
        if isinstance(self.n_thresholds, bool) or not isinstance(self.n_thresholds, int) or self.n_thresholds < 2:
            raise ValueError(f"n_thresholds must be an integer >= 2, got {self.n_thresholds!r}")
        if not 0 < self.smallest_ratio < 1:
            raise ValueError(f"smallest_ratio must lie in (0, 1), got {self.smallest_ratio!r}")
        if not 0 < self.relative_residual_floor < 1:
            raise ValueError(f"relative_residual_floor must lie in (0, 1), got {self.relative_residual_floor!r}")
        if not 0 < self.held_out_fraction < 1:
            raise ValueError(f"held_out_fraction must lie in (0, 1), got {self.held_out_fraction!r}")
        if not 0 < self.correlation_limit < 1:
            raise ValueError(f"correlation_limit must lie in (0, 1), got {self.correlation_limit!r}")
        if not self.condition_limit > 1:
            raise ValueError(f"condition_limit must be > 1, got {self.condition_limit!r}")
        if self.effective_samples is not None and (
            isinstance(self.effective_samples, bool) or not isinstance(self.effective_samples, int) or self.effective_samples < 2
        ):
            raise ValueError(f"effective_samples must be None or an integer >= 2, got {self.effective_samples!r}")

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


# --------------------------------------------------------------------------- least squares


def _column_scales(theta: np.ndarray) -> np.ndarray:
    """Root mean square of each column; 1 for an all-zero column (its coefficient stays 0)."""
    scales = np.sqrt(np.mean(np.square(theta), axis=0))
    return np.where(scales > 0, scales, 1.0)


def _least_squares(theta: np.ndarray, y: np.ndarray, support: np.ndarray, alpha: float) -> np.ndarray:
    """Raw coefficients of the (ridge) least-squares fit of ``y`` on the ``support`` columns.

    Solved on columns scaled to unit root mean square, then unscaled: monomials
    of inputs of size 10 span 10^0..10^3 in scale, and the scaled problem's
    condition number is what is left of the library's own ill-conditioning.
    Ridge is added as ``sqrt(alpha n) I`` rows under the scaled matrix (not by
    the normal equations, which would square the condition number).
    """
    coefficients = np.zeros(theta.shape[1])
    if not support.any():
        return coefficients
    scales = _column_scales(theta[:, support])
    scaled = theta[:, support] / scales
    rhs = y
    if alpha > 0:
        k = scaled.shape[1]
        scaled = np.vstack([scaled, math.sqrt(alpha * theta.shape[0]) * np.eye(k)])
        rhs = np.concatenate([y, np.zeros(k)])
    solution, *_ = np.linalg.lstsq(scaled, rhs, rcond=None)
    coefficients[support] = solution / scales
    return coefficients


def stlsq(
    theta: ArrayLike,
    y: ArrayLike,
    threshold: float,
    *,
    alpha: float = 0.0,
    support: ArrayLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Sequentially thresholded least squares (Brunton, Proctor & Kutz 2016, PNAS 113:3932).

    Fit ``y`` on the columns of ``theta`` ([n, terms]); drop every term whose
    coefficient has ``|xi| < threshold``; refit on the rest; repeat until the
    support stops changing. The support only shrinks, so this ends after at
    most ``terms`` refits. ``support`` (boolean, [terms]) starts from a subset.

    The threshold applies to the raw coefficients, not to those of the
    normalised columns: the raw coefficients are the formula's, the numbers a
    user reads and sets a threshold for ("nothing below 0.01"); a threshold on
    normalised coefficients would depend on the range the samples happen to
    cover. Each solve is still done on scaled columns (see ``_least_squares``).

    ``y`` of shape [n] or [n, targets]; targets are fitted column by column,
    each with its own support. Returns ``(coefficients, support)``, shaped as
    ``[terms]`` or ``[terms, targets]`` following ``y``.
    """
    theta = np.asarray(theta, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if theta.ndim != 2:
        raise ValueError(f"theta must be [n, terms], got shape {theta.shape}")
    if y.ndim not in (1, 2) or y.shape[0] != theta.shape[0]:
        raise ValueError(f"y must be [n] or [n, targets] with n = {theta.shape[0]}, got shape {y.shape}")
    if not (math.isfinite(threshold) and threshold >= 0):
        raise ValueError(f"threshold must be finite and >= 0, got {threshold!r}")
    start = np.ones(theta.shape[1], dtype=bool) if support is None else np.asarray(support, dtype=bool)
    if start.shape != (theta.shape[1],):
        raise ValueError(f"support must be [{theta.shape[1]}] booleans, got shape {start.shape}")
    if y.ndim == 2:
        fits = [stlsq(theta, y[:, j], threshold, alpha=alpha, support=start) for j in range(y.shape[1])]
        return np.stack([c for c, _ in fits], axis=1), np.stack([s for _, s in fits], axis=1)
    kept = start.copy()
    while True:
        coefficients = _least_squares(theta, y, kept, alpha)
        pruned = kept & (np.abs(coefficients) >= threshold)
        if np.array_equal(pruned, kept):
            return coefficients, kept
        kept = pruned


# --------------------------------------------------------------------------- criteria and the path


def information_criterion(kind: str, rss: float, n: int, k: int, samples: int | None = None) -> float:
    """AIC, AICc or BIC of a Gaussian model with residual sum of squares ``rss``.

    The log-likelihood at the maximum-likelihood variance ``rss / n`` is
    ``-n/2 (log(2 pi rss / n) + 1)``; ``k`` counts every fitted parameter, the
    noise variance included (so a model of s terms has ``k = s + 1``: it changes
    no choice by AIC or BIC and makes AICc's correction the textbook one).
    AIC = -2 log L + 2k; AICc = AIC + 2k(k+1)/(n-k-1) (Hurvich & Tsai 1989);
    BIC = -2 log L + k log n (Schwarz 1978).

    ``samples``, when given, is the number of residuals summed in ``rss`` and
    ``n`` the number of independent observations they stand for: the variance
    is then ``rss / samples`` and the likelihood that of ``n`` observations
    (see ``SparseRegressionConfig.effective_samples``).
    """
    if rss <= 0:
        raise ValueError(f"rss must be > 0 (floor it), got {rss!r}")
    mean_square = rss / n if samples is None else rss / samples
    minus_two_log_likelihood = n * (math.log(2 * math.pi * mean_square) + 1)
    if kind == "aic":
        return minus_two_log_likelihood + 2 * k
    if kind == "aicc":
        if n - k - 1 <= 0:
            raise ValueError(f"AICc needs more samples than parameters + 1: n = {n}, k = {k}")
        return minus_two_log_likelihood + 2 * k + 2 * k * (k + 1) / (n - k - 1)
    if kind == "bic":
        return minus_two_log_likelihood + k * math.log(n)
    raise ValueError(f"information criterion must be aic, aicc or bic; got {kind!r}")


@dataclasses.dataclass(frozen=True)
class PathPoint:
    """One threshold of the path: the STLSQ model there, its RSS and its criterion value.

    ``coefficients`` follow ``support`` (sympy strings of the kept terms).
    ``rss`` is on the samples fitted (the training split for ``"held-out"``);
    ``criterion`` is the information criterion, or the held-out mean square error.
    """

    threshold: float
    support: tuple[str, ...]
    coefficients: tuple[float, ...]
    rss: float
    criterion: float

    def to_json(self) -> dict:
        return {
            "threshold": self.threshold,
            "support": list(self.support),
            "coefficients": list(self.coefficients),
            "rss": self.rss,
            "criterion": self.criterion,
        }


@dataclasses.dataclass(frozen=True)
class Selection:
    """A target's threshold path, in increasing threshold, and the index of the point chosen."""

    target: str
    criterion: str
    path: tuple[PathPoint, ...]
    chosen: int

    def to_json(self) -> dict:
        point = self.path[self.chosen]
        return {
            "criterion": self.criterion,
            "path": [p.to_json() for p in self.path],
            "chosen": {"index": self.chosen, "threshold": point.threshold, "support": list(point.support)},
        }


def threshold_path(
    theta: ArrayLike,
    y: ArrayLike,
    terms: tuple[str, ...],
    config: SparseRegressionConfig = SparseRegressionConfig(),
    *,
    target: str = "y",
) -> Selection:
    """STLSQ along a geometric grid of thresholds, each model scored; the best chosen.

    The grid runs from ``config.smallest_ratio`` times the largest |coefficient|
    of the full fit up to that largest coefficient, plus one step above it (the
    empty model: a target that is only noise should be explained by nothing).
    Thresholds are visited in increasing order, each STLSQ started from the
    previous support, so the supports are nested: the path reads as the order in
    which terms are removed, and the criterion compares nested models.

    The chosen point is the one of smallest criterion; among equal values, the
    sparsest (a floored RSS makes all exact fits tie, and the fewest terms win).
    """
    theta = np.asarray(theta, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1 or theta.ndim != 2 or y.shape[0] != theta.shape[0] or theta.shape[1] != len(terms):
        raise ValueError(f"threshold_path needs theta [n, {len(terms)}] and y [n]; got {theta.shape} and {y.shape}")
    if config.criterion == "held-out":
        fit_rows, test_rows = _held_out_split(theta.shape[0], config.held_out_fraction, config.seed)
    else:
        fit_rows = test_rows = np.arange(theta.shape[0])
    theta_fit, y_fit = theta[fit_rows], y[fit_rows]

    full = _least_squares(theta_fit, y_fit, np.ones(len(terms), dtype=bool), config.alpha)
    largest = float(np.max(np.abs(full)))
    if largest == 0.0:
        thresholds = np.zeros(1)  # y == 0 on the samples: the empty model is the only one
    else:
        step = config.smallest_ratio ** (1.0 / (config.n_thresholds - 1))
        thresholds = largest * config.smallest_ratio ** np.linspace(1.0, 0.0, config.n_thresholds)
        thresholds = np.append(thresholds, largest / step)

    n_fit = theta_fit.shape[0]
    floor_rss = (config.relative_residual_floor * float(np.linalg.norm(y_fit))) ** 2
    floor_rss = max(floor_rss, np.finfo(np.float64).tiny)
    points: list[PathPoint] = []
    support = np.ones(len(terms), dtype=bool)
    for threshold in thresholds:
        if largest == 0.0:
            coefficients, support = np.zeros(len(terms)), np.zeros(len(terms), dtype=bool)
        else:
            coefficients, support = stlsq(theta_fit, y_fit, float(threshold), alpha=config.alpha, support=support)
        rss = float(np.sum(np.square(y_fit - theta_fit @ coefficients)))
        if config.criterion == "held-out":
            y_test = y[test_rows]
            mse = float(np.mean(np.square(y_test - theta[test_rows] @ coefficients)))
            score = max(mse, config.relative_residual_floor**2 * float(np.mean(np.square(y_test))))
        else:
            n_eff = n_fit if config.effective_samples is None else config.effective_samples
            score = information_criterion(config.criterion, max(rss, floor_rss), n_eff, int(support.sum()) + 1, n_fit)
        points.append(
            PathPoint(
                threshold=float(threshold),
                support=tuple(t for t, keep in zip(terms, support) if keep),
                coefficients=tuple(float(c) for c, keep in zip(coefficients, support) if keep),
                rss=rss,
                criterion=float(score),
            )
        )
    best = min(p.criterion for p in points)
    ties = [i for i, p in enumerate(points) if p.criterion == best]
    chosen = min(ties, key=lambda i: (len(points[i].support), i))
    return Selection(target=target, criterion=config.criterion, path=tuple(points), chosen=chosen)


def _held_out_split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random split of ``range(n)`` into fitted and held-out rows (both sorted)."""
    n_test = int(round(fraction * n))
    if n_test < 1 or n - n_test < 2:
        raise ValueError(f"held-out split of {n} samples at fraction {fraction} leaves too few to fit or to test")
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_test:]), np.sort(order[:n_test])


# --------------------------------------------------------------------------- collinearity


def collinearity_findings(
    library: Library, theta: ArrayLike, correlation_limit: float = 0.99, condition_limit: float = 1e8
) -> list[str]:
    """What makes the library's columns nearly dependent on these samples, one phrase per finding.

    - Pairs of non-constant columns with Pearson ``|corr| > correlation_limit``:
      0.99 means one column explains 98% of the other's variance, so at 1% noise
      the two coefficients trade off freely along a ridge of equal fit.
    - The condition number of the column-scaled library above ``condition_limit``.
      1e8 is about ``1/sqrt(eps)`` in float64: past it the least-squares error
      bound ``cond * eps + cond^2 * eps * |r| / (|A| |x|)`` exceeds 1 for any
      non-zero residual, so coefficients lose every digit; below it, ordinary
      polynomial libraries (degree <= 5 on scaled data: 1e2 to 1e6) do not warn.
      Correlation catches the pairs; the condition number catches dependence
      among three or more columns that no pair shows.
    """
    theta = np.asarray(theta, dtype=np.float64)
    terms = library.terms
    findings: list[str] = []
    spread = np.std(theta, axis=0)
    # A column constant on the samples has no correlation; the condition number sees it.
    varying = np.flatnonzero(spread > 1e-12 * np.maximum(np.sqrt(np.mean(theta**2, axis=0)), 1e-300))
    if varying.size >= 2:
        with np.errstate(all="ignore"):
            correlation = np.corrcoef(theta[:, varying], rowvar=False)
        pairs = []
        for a in range(varying.size):
            for b in range(a + 1, varying.size):
                value = abs(float(correlation[a, b]))
                if value > correlation_limit:
                    pairs.append((value, terms[varying[a]], terms[varying[b]]))
        pairs.sort(key=lambda pair: -pair[0])
        if pairs:
            listed = ", ".join(f"{a} and {b} (|corr| = {_closeness_to_one(v)})" for v, a, b in pairs[:5])
            more = f" and {len(pairs) - 5} more pair(s)" if len(pairs) > 5 else ""
            findings.append(f"{listed}{more} exceed |corr| {correlation_limit}")
    if theta.shape[1] >= 1:
        singular = np.linalg.svd(theta / _column_scales(theta), compute_uv=False)
        condition = float(singular[0] / singular[-1]) if singular[-1] > 0 else math.inf
        if theta.shape[0] < theta.shape[1]:
            condition = math.inf  # fewer samples than terms: dependent whatever the values
        if condition > condition_limit:
            findings.append(f"the column-scaled library's condition number {condition:.3g} exceeds {condition_limit:.3g}")
    return findings


def _closeness_to_one(value: float) -> str:
    # "1 - 2.3e-06" says how collinear a pair is where "1.000000" would not.
    return f"{value:.4f}" if value < 0.9999 else f"1 - {1 - value:.1e}"


# --------------------------------------------------------------------------- results


@dataclasses.dataclass(frozen=True)
class Formula:
    """A discovered term for one target: the kept library terms and their coefficients.

    Attributes:
        target: the hidden field's name.
        inputs: the input names (the library's), in the order of an input array's last axis.
        terms: sympy strings of the kept terms; ``expressions`` are the same as sympy.
        coefficients: one float per kept term.
    """

    target: str
    inputs: tuple[str, ...]
    terms: tuple[str, ...]
    expressions: tuple[sympy.Expr, ...]
    coefficients: tuple[float, ...]

    def __post_init__(self) -> None:
        if not (len(self.terms) == len(self.expressions) == len(self.coefficients)):
            raise ValueError(
                f"formula for {self.target!r}: {len(self.terms)} terms, {len(self.expressions)} expressions, "
                f"{len(self.coefficients)} coefficients"
            )

    @classmethod
    def from_json(cls, target: str, inputs: tuple[str, ...], entries: list[dict]) -> "Formula":
        """Read back the ``[{"term": ..., "coefficient": ...}]`` list of :meth:`to_json`."""
        local = {name: sympy.Symbol(name) for name in inputs}
        expressions = tuple(sympy.sympify(entry["term"], locals=local) for entry in entries)
        return cls(
            target=target,
            inputs=tuple(inputs),
            terms=tuple(str(e) for e in expressions),
            expressions=expressions,
            coefficients=tuple(float(entry["coefficient"]) for entry in entries),
        )

    def to_json(self) -> list[dict]:
        """``[{"term": "predator*prey", "coefficient": -0.9}, ...]``: the kept terms, in library order."""
        return [{"term": t, "coefficient": c} for t, c in zip(self.terms, self.coefficients)]

    @property
    def expression(self) -> sympy.Expr:
        """The formula as one sympy expression, ``sum_j coefficient_j * term_j`` (0 if nothing is kept)."""
        return sympy.Add(*(sympy.Float(c) * e for c, e in zip(self.coefficients, self.expressions)))

    def parametric(self) -> Callable[[JaxInputs, Any], Any]:
        """``f(inputs, coefficients)``: the formula in JAX with its coefficients as an array argument.

        ``inputs`` maps each input name to an array (all of one shape), or is one
        array whose last axis holds the inputs in order; ``coefficients`` has
        shape ``[len(terms)]``. The result has the inputs' batch shape, and
        ``jax.grad`` with respect to ``coefficients`` gives the term values, so
        the coefficients can be refined by fitting through a differentiable solver.
        Start from ``jnp.asarray(formula.coefficients)``.
        """
        import jax.numpy as jnp

        symbols = tuple(sympy.Symbol(name) for name in self.inputs)
        # lambdify prints each term as jnp code once, here, not per call.
        functions = tuple(sympy.lambdify(symbols, e, modules="jax") for e in self.expressions)
        inputs_names = self.inputs

        def formula(inputs: JaxInputs, coefficients: Any) -> Any:
            columns = _jax_columns(inputs_names, inputs)
            batch = jnp.zeros_like(columns[0])
            if not functions:
                return batch
            # A constant term comes back as a Python number: add the batch's zeros to give it the shape.
            values = jnp.stack([batch + function(*columns) for function in functions], axis=-1)
            return values @ coefficients

        return formula

    def jax_function(self) -> Callable[[JaxInputs], Any]:
        """``f(inputs)``: the formula in JAX with the coefficients fixed, in the inputs' dtype."""
        import jax.numpy as jnp

        parametric = self.parametric()
        coefficients = np.asarray(self.coefficients, dtype=np.float64)

        def formula(inputs: JaxInputs) -> Any:
            # Python's float is weakly typed: float32 inputs stay float32, integer inputs get the default float.
            dtype = jnp.result_type(float, *_jax_columns(self.inputs, inputs))
            return parametric(inputs, jnp.asarray(coefficients, dtype=dtype))

        return formula


def _jax_columns(names: tuple[str, ...], inputs: JaxInputs) -> list[Any]:
    import jax.numpy as jnp

    if isinstance(inputs, Mapping):
        missing = [name for name in names if name not in inputs]
        if missing:
            raise ValueError(f"formula inputs lack {', '.join(missing)}; they have {sorted(inputs)}")
        return [jnp.asarray(inputs[name]) for name in names]
    array = jnp.asarray(inputs)
    if array.ndim == 0 or array.shape[-1] != len(names):
        raise ValueError(f"formula inputs must end in an axis of {len(names)} ({', '.join(names)}), got shape {array.shape}")
    return [array[..., i] for i in range(len(names))]


@dataclasses.dataclass(frozen=True)
class SparseRegressionResult:
    """What :func:`sparse_regression` found: one formula and one threshold path per target.

    ``collinearity`` holds the phrases of the collinearity warning (empty when
    none fired), so the finding travels with the result into metrics.
    """

    library: Library
    config: SparseRegressionConfig
    formulas: tuple[Formula, ...]
    selections: tuple[Selection, ...]
    collinearity: tuple[str, ...]

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(f.target for f in self.formulas)

    def formula(self, target: str) -> Formula:
        for f in self.formulas:
            if f.target == target:
                return f
        raise KeyError(f"no target {target!r}; targets are {list(self.targets)}")

    def formula_json(self) -> dict[str, list[dict]]:
        """``{target: [{"term": ..., "coefficient": ...}, ...]}``: the form of ``formula.json``."""
        return {f.target: f.to_json() for f in self.formulas}

    def to_json(self) -> dict:
        """Everything, as plain JSON: library, settings, formulas, and each target's path and choice."""
        return {
            "library": self.library.to_json(),
            "config": self.config.to_json(),
            "collinearity": list(self.collinearity),
            "formula": self.formula_json(),
            "selection": {s.target: s.to_json() for s in self.selections},
        }


def sparse_regression(
    library: Library,
    samples: Samples,
    targets: Mapping[str, ArrayLike],
    config: SparseRegressionConfig = SparseRegressionConfig(),
) -> SparseRegressionResult:
    """Formulas for each target from the library, by STLSQ with the threshold chosen along a path.

    ``samples`` are the inputs where the data lives (a mapping of 1-D arrays or
    an [n, inputs] array); ``targets`` maps each hidden field's name to its n
    values there (the network's output). Warns :class:`CollinearityWarning`
    before fitting when candidates are nearly dependent on the samples.

    With ``"held-out"`` the path is fitted on a seeded split and scored on the
    rest; the chosen support is then refitted on all samples. With an
    information criterion the path is fitted on all samples and the chosen
    point is the formula.
    """
    theta = library.evaluate(samples)
    if not isinstance(targets, Mapping) or len(targets) == 0:
        raise ValueError("targets must map at least one target name to its values at the samples")
    values: dict[str, np.ndarray] = {}
    for name, target in targets.items():
        y = np.asarray(target, dtype=np.float64)
        if y.shape != (theta.shape[0],):
            raise ValueError(f"target {name!r} has shape {y.shape}, the samples have {theta.shape[0]} values")
        check_finite(f"target {name!r}", y)
        values[str(name)] = y

    findings = collinearity_findings(library, theta, config.correlation_limit, config.condition_limit)
    if findings:
        warnings.warn(
            "nearly collinear candidate terms on the samples: " + "; ".join(findings)
            + "; their coefficients are not identifiable (drop one term of each pair or widen the samples)",
            CollinearityWarning,
            stacklevel=2,
        )

    formulas, selections = [], []
    for name, y in values.items():
        selection = threshold_path(theta, y, library.terms, config, target=name)
        support = np.array([t in selection.path[selection.chosen].support for t in library.terms])
        if config.criterion == "held-out":
            coefficients = _least_squares(theta, y, support, config.alpha)[support]
        else:
            coefficients = np.asarray(selection.path[selection.chosen].coefficients)
        formulas.append(
            Formula(
                target=name,
                inputs=library.inputs,
                terms=tuple(t for t, keep in zip(library.terms, support) if keep),
                expressions=tuple(e for e, keep in zip(library.expressions, support) if keep),
                coefficients=tuple(float(c) for c in coefficients),
            )
        )
        selections.append(selection)
    return SparseRegressionResult(
        library=library,
        config=config,
        formulas=tuple(formulas),
        selections=tuple(selections),
        collinearity=tuple(findings),
    )
