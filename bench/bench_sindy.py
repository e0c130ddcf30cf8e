"""PySINDy beside physax's sparse regression on a noisy du/dt = 0.5 u - u^3 trajectory (issue 14).

The data: u(t) from u(0) = 0.1 on t in [0, 10] at ``--n-data`` evenly spaced
times, exact (a Bernoulli equation: 1/u^2 = 1/a + (1/u0^2 - 1/a) exp(-2 a t)
with a = 0.5), plus Gaussian noise of ``--noise`` times the mean |u|, one
seeded draw per seed.

- PySINDy (its defaults: ``SmoothedFiniteDifference`` derivatives,
  ``PolynomialLibrary(degree=3)``, ``STLSQ()``) on the noisy samples.
- physax: a smooth fit of the same noisy samples (scipy's
  ``make_smoothing_spline``, its smoothing chosen by generalised cross
  validation: a stand-in for the hidden-term network), sampled at 400 times in
  the inner 90% of the span (where the data lives, away from the spline's free
  ends), with its exact derivative; then ``sparse_regression`` on the degree-3
  library with BIC, the criterion's n set to the number of measurements
  (``effective_samples``: 400 samples of a spline fitted to N data are N data's
  worth of evidence).

Only prints the formulas, one line per seed and method; BENCHMARKS.md is left
alone. When written (pysindy 2.1.0, seeds 0-4, 1% noise), PySINDy kept a
spurious u**2 on every seed at 51 and at 151 times; ours found exactly
{u, u**3} on 2 of 5 seeds at each, and the rest absorbed the spline's smooth
bias with u**2 (and a constant) that the collinearity warning flags (u**2 and
u**3 have |corr| 0.994 on this range). The surrogate's accuracy decides: a
spline's derivative is a weaker stand-in than a network trained with the known
physics, and this bench does not show the issue's claim either way. PySINDy is not a physax dependency: it runs in its own interpreter,

    python3 -m venv .venv-sindy && .venv-sindy/bin/pip install pysindy
    .venv/bin/python bench/bench_sindy.py --sindy-python .venv-sindy/bin/python

and that interpreter runs this same file with ``--worker`` (which imports
numpy and pysindy only): the noisy data goes in as JSON on stdin, the
coefficients come back as JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np

GROWTH = 0.5  # a in du/dt = a u - u^3
U0 = 0.1
T_END = 10.0


def trajectory(t: np.ndarray) -> np.ndarray:
    """The exact solution of du/dt = a u - u^3 from u(0) = U0 (w = 1/u^2 solves w' = -2 a w + 2)."""
    w = 1 / GROWTH + (1 / U0**2 - 1 / GROWTH) * np.exp(-2 * GROWTH * t)
    return 1 / np.sqrt(w)


def noisy_data(n_data: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0.0, T_END, n_data)
    u = trajectory(t)
    rng = np.random.default_rng(seed)
    return t, u + noise * float(np.mean(np.abs(u))) * rng.standard_normal(u.shape)


def pysindy_worker() -> None:
    """Runs in the PySINDy interpreter: {"t": [...], "u": [...]} on stdin -> {"terms", "coefficients"}."""
    import pysindy as ps

    data = json.load(sys.stdin)
    model = ps.SINDy(
        feature_library=ps.PolynomialLibrary(degree=3),
        optimizer=ps.STLSQ(),
        differentiation_method=ps.SmoothedFiniteDifference(),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(np.asarray(data["u"])[:, None], t=np.asarray(data["t"]), feature_names=["u"])
    names = model.get_feature_names()
    print(json.dumps({"terms": names, "coefficients": model.coefficients()[0].tolist(), "version": ps.__version__}))


def pysindy_formula(python: str, t: np.ndarray, u: np.ndarray) -> str:
    done = subprocess.run(
        [python, str(Path(__file__).resolve()), "--worker"],
        input=json.dumps({"t": t.tolist(), "u": u.tolist()}),
        capture_output=True,
        text=True,
        check=True,
    )
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return _format(
        [(term.replace("^", "**").replace(" ", "*"), c) for term, c in zip(answer["terms"], answer["coefficients"]) if c != 0]
    )


def physax_formula(t: np.ndarray, u: np.ndarray) -> tuple[str, list[str]]:
    from scipy.interpolate import make_smoothing_spline

    from pinns.sparse_regression import SparseRegressionConfig, polynomial_library, sparse_regression

    spline = make_smoothing_spline(t, u)
    where = np.linspace(0.05 * T_END, 0.95 * T_END, 400)
    # The collinearity warning is expected here (u**2 and u**3 on u in (0.1, 0.7)); it is reported, not raised.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = sparse_regression(
            polynomial_library(("u",), 3),
            {"u": spline(where)},
            {"du_dt": spline.derivative()(where)},
            SparseRegressionConfig(effective_samples=t.size),
        )
    formula = result.formula("du_dt")
    return _format(list(zip(formula.terms, formula.coefficients))), list(result.collinearity)


def _format(terms: list[tuple[str, float]]) -> str:
    if not terms:
        return "0"
    return " ".join(f"{c:+.3f}{'' if t == '1' else ' ' + t}" for t, c in terms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sindy-python", default=".venv-sindy/bin/python", help="an interpreter with pysindy")
    parser.add_argument("--n-data", type=int, default=51)
    parser.add_argument("--noise", type=float, default=0.01, help="noise sd over the mean |u|")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    if args.worker:
        pysindy_worker()
        return
    print(f"du/dt = 0.5 u - u**3, u(0) = {U0}, t in [0, {T_END}], {args.n_data} times, noise {args.noise:g} x mean|u|")
    for seed in range(args.seeds):
        t, u = noisy_data(args.n_data, args.noise, seed)
        ours, collinear = physax_formula(t, u)
        note = f"   [collinear: {'; '.join(collinear)}]" if collinear else ""
        print(f"seed {seed}  pysindy: {pysindy_formula(args.sindy_python, t, u)}")
        print(f"seed {seed}  physax : {ours}{note}")


if __name__ == "__main__":
    main()
