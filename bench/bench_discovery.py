"""Hidden-term discovery on the issue's cases (issue 14), PySINDy beside on the same measurements.

Each problem: the full model run by ``phys run`` (float64, written to an
HDF5 file as a user's data would be), then :func:`pinns.discovery.discover`
on the known part of the equation with the measurements thinned and noised
(``n_data`` times, Gaussian noise of ``noise`` x each field's mean |value|,
seeded). Reported per seed: the terms found for each hidden field against the
true ones, the largest relative coefficient error, the re-solved equation's
relative L2 error against all the clean data, and the wall time (fit,
regression, choice through the solver and validation; compile included).

- ``lv-0.5%``, ``lv-5%``: Lotka-Volterra as in Rackauckas et al. (2020)'s
  universal-ODE study, t in [0, 3] at 31 times; known part the case with
  ``beta = delta = 0``; hidden -0.9 prey predator and +1.8 predator prey.
- ``burgers``: the known part is diffusion (``convection-diffusion`` with
  ``c = 0``, ``nu = 0.05``), the data Burgers with the same ``nu``
  (``n = 129``, walls); hidden ``-u u_x``; 6 measured times (the start and
  five later snapshots, as in the UPINN paper's Burgers study).
- ``fisher-kpp``: the known part is diffusion (``rho = 0``); hidden
  ``rho u (1 - u)`` = ``+u - u**2``.

PySINDy (its defaults: ``STLSQ()``, ``SmoothedFiniteDifference`` in time;
``PolynomialLibrary`` for ODEs, ``PDELibrary`` with the same degree and
derivatives up to 2 for PDEs) sees the same noisy measurements and looks for
the whole right-hand side; it is not a physax dependency and runs in its own
interpreter (``--sindy-python``; this file with ``--worker``, which imports
numpy and pysindy only):

    python3 -m venv .venv-sindy && .venv-sindy/bin/pip install pysindy
    .venv/bin/python bench/bench_discovery.py --sindy-python .venv-sindy/bin/python

The settings were chosen on seeds 0 and 11, and the default ``min_evidence``
(a kept term must lower BIC by 6 beyond its ``log n``) after plain BIC
kept a spurious prey^2 on lv-5% seed 3; the table reports seeds 4-6, which
played no part in either.
Writes the ``bench_discovery`` section of BENCHMARKS.md (``--no-write``:
print only; ``--only NAME``: one problem).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SECTION = "bench_discovery"
SEEDS = (4, 5, 6)


@dataclass(frozen=True)
class Problem:
    name: str
    case: str
    data_set: tuple[str, ...]  # phys run --set for the full model
    known: dict[str, Any]  # Case.with_updates for the known part
    config: dict[str, Any]  # DiscoveryConfig fields
    truth: dict[str, dict[str, float]]  # hidden field -> {term: coefficient}
    full: dict[str, dict[str, float]]  # the whole right-hand side, for PySINDy
    tolerance: float  # the bound on the relative coefficient error
    note: str = ""
    sindy: dict[str, Any] = field(default_factory=dict)


LV_TIME = ("t_end=3", "save_dt=0.1")
LV_KNOWN = {"pde.params.beta": 0.0, "pde.params.delta": 0.0, "time.t_end": 3.0, "time.save_dt": 0.1, "dtype": "float64"}
LV_TRUTH = {"prey": {"predator*prey": -0.9}, "predator": {"predator*prey": 1.8}}
LV_FULL = {"prey": {"prey": 1.3, "prey predator": -0.9}, "predator": {"predator": -1.8, "prey predator": 1.8}}
BURGERS_SET = ("nu=0.1", "n=65", "dt=0.01", "save_dt=0.1")
BURGERS_KNOWN = {
    "pde": {"name": "convection-diffusion", "params": {"c": 0.0, "nu": 0.1}},
    "grid.n": [65], "time.dt": 0.01, "time.save_dt": 0.1, "dtype": "float64",
}
FISHER_SET = ("dt=0.05",)
FISHER_KNOWN = {"pde.params.rho": 0.0, "time.dt": 0.05, "dtype": "float64"}

PROBLEMS = (
    Problem("lv-0.5%", "lotka-volterra", LV_TIME, LV_KNOWN,
            {"hidden": ("prey", "predator"), "noise": 0.005}, LV_TRUTH, LV_FULL, 0.02),
    Problem("lv-5%", "lotka-volterra", LV_TIME, LV_KNOWN,
            {"hidden": ("prey", "predator"), "noise": 0.05}, LV_TRUTH, LV_FULL, 0.10),
    Problem("lv-0.5%, PINN route", "lotka-volterra", LV_TIME, LV_KNOWN,
            {"hidden": ("prey", "predator"), "noise": 0.005, "route": "pinn"}, LV_TRUTH, LV_FULL, 0.02),
    Problem("burgers", "burgers", BURGERS_SET, BURGERS_KNOWN,
            {"hidden": ("u",), "derivatives": 1, "degree": 2, "noise": 0.01, "n_data": 6},
            {"u": {"u*u_x": -1.0}}, {"u": {"u u_1": -1.0, "u_11": 0.1}}, 0.05),
    Problem("fisher-kpp", "fisher-kpp", FISHER_SET, FISHER_KNOWN,
            {"hidden": ("u",), "degree": 2, "noise": 0.01, "n_data": 6},
            {"u": {"u": 1.0, "u**2": -1.0}}, {"u": {"u": 1.0, "u^2": -1.0, "u_11": 0.1}}, 0.05),
)


# -- PySINDy, in its own interpreter ---------------------------------------------------


def pysindy_worker() -> None:
    """stdin {"t", "u" [T, fields, *n], "x" or null, "names", "degree"} -> stdout {"equations", "version"}."""
    import pysindy as ps

    data = json.load(sys.stdin)
    t, u = np.asarray(data["t"]), np.asarray(data["u"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if data["x"] is None:
            model = ps.SINDy(feature_library=ps.PolynomialLibrary(degree=data["degree"]), optimizer=ps.STLSQ(),
                             differentiation_method=ps.SmoothedFiniteDifference())
            model.fit(u, t=t, feature_names=data["names"])
        else:
            x = np.asarray(data["x"])
            library = ps.PDELibrary(function_library=ps.PolynomialLibrary(degree=data["degree"], include_bias=False),
                                    derivative_order=2, spatial_grid=x, include_bias=True)
            # The data are [x, t, fields]: time is axis -2, which PySINDy's differentiation must be told.
            model = ps.SINDy(feature_library=library, optimizer=ps.STLSQ(),
                             differentiation_method=ps.SmoothedFiniteDifference(axis=-2))
            model.fit(np.moveaxis(u, 0, -1).transpose(1, 2, 0), t=t, feature_names=data["names"])  # [x, t, fields]
    print(json.dumps({"equations": model.equations(precision=3), "version": ps.__version__}))


def pysindy_result(python: str | None, t: np.ndarray, u: np.ndarray, x: np.ndarray | None, names: list[str],
                   degree: int) -> str:
    if python is None:
        return "not run"
    payload = {"t": t.tolist(), "u": u.tolist(), "x": None if x is None else x.tolist(), "names": names, "degree": degree}
    done = subprocess.run([python, str(Path(__file__).resolve()), "--worker"], input=json.dumps(payload),
                          capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return f"failed: {last[:120]}"
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return "; ".join(f"{n}' = {e}" for n, e in zip(names, answer["equations"]))


# -- physax ----------------------------------------------------------------------------


def make_data(problem: Problem, folder: Path) -> Path:
    out = folder / f"{problem.case}.h5"
    if not out.exists():
        phys = Path(sys.executable).parent / "phys"
        command = [str(phys), "run", problem.case, "--dtype", "float64", "--out", str(out)]
        for setting in problem.data_set:
            command += ["--set", setting]
        subprocess.run(command, check=True, capture_output=True)
    return out


def run_one(problem: Problem, data: Path, seed: int, sindy_python: str | None) -> dict[str, Any]:
    from cases import get
    from pinns.discovery import discover, load_observations
    from pinns.discovery_config import DiscoveryConfig
    from solvers import scheme_for

    case = get(problem.case).with_updates(problem.known)
    config = DiscoveryConfig(**problem.config, seed=seed)
    start = time.perf_counter()
    metrics = discover(case, data, config)
    wall = time.perf_counter() - start
    found = {f: dict(zip(m["terms"], m["coefficients"])) for f, m in
             ((f, _terms(metrics["formula"][f])) for f in config.hidden)}
    exact = all(set(found[f]) == set(problem.truth[f]) for f in config.hidden)
    errors = [abs(found[f][t] - c) / abs(c) for f in config.hidden for t, c in problem.truth[f].items() if t in found[f]]
    coords = scheme_for(case).coords()
    obs = load_observations(data, case, config, coords)
    t = case.time.t0 + case.time.save_dt * obs.times
    values = obs.values if case.n_dims == 0 else obs.values.reshape(len(t), len(case.fields), *[len(c) for c in coords])
    sindy = pysindy_result(sindy_python, t, values, None if case.n_dims == 0 else coords[0], list(case.fields),
                           config.degree)
    return {
        "seed": seed, "found": found, "exact": exact, "max_error": max(errors) if errors and exact else float("nan"),
        "resolve": metrics["resolve_rel_l2"], "wall_s": wall, "pysindy": sindy, "evidence": metrics["evidence"],
    }


def _terms(formula: dict[str, Any]) -> dict[str, Any]:
    """``Formula.to_json`` as ``{"terms": [...], "coefficients": [...]}``, whatever its list layout."""
    if "terms" in formula:
        return {"terms": list(formula["terms"]), "coefficients": [float(c) for c in formula["coefficients"]]}
    return {"terms": [row["term"] for row in formula], "coefficients": [float(row["coefficient"]) for row in formula]}


def _formula_text(found: dict[str, dict[str, float]]) -> str:
    parts = []
    for f, terms in found.items():
        body = " ".join(f"{c:+.4g} {t}" for t, c in terms.items()) or "0"
        parts.append(f"H_{f} = {body}")
    return "; ".join(parts)


def section(rows: list[tuple[Problem, dict[str, Any]]], wall: float) -> str:
    import jax

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _markdown import markers
    from _timing import machine_line, versions

    start, end = markers(SECTION)
    lines = [
        start,
        "## Hidden-term discovery, `phys discover` (issue 14)",
        "",
        "Generated by `.venv/bin/python bench/bench_discovery.py --sindy-python .venv-sindy/bin/python`; "
        "do not edit by hand between the markers.",
        "",
        machine_line(),
        versions() + f", pysindy in its own interpreter",
        f"- Seeds {', '.join(sorted({str(r['seed']) for _, r in rows}))} (noise draw and network initialisation); "
        "settings chosen on seeds 0 and 11, the default `min_evidence` = 6 after plain BIC kept a spurious prey^2 "
        "on lv-5% seed 3 (seeds 0, 3 and 11 not reported; seeds 1-3 were the earlier table's). "
        f"Whole script {wall:.0f} s. Wall times include compilation.",
        "- `exact`: the terms found are exactly the true hidden terms; `max rel. err`: the largest relative "
        "coefficient error then (the issue's bound beside it); `re-solve`: the completed equation re-solved from the "
        "data's start, relative L2 against all the clean data; `weakest term`: the chosen term whose removal raises "
        "the BIC least, and by how much (6 or more by default: 'strong' evidence in Kass & Raftery's grades, "
        "asked of every kept term; see docs/discovery.md).",
        "",
        "| problem | seed | found | exact | max rel. err (bound) | re-solve rel. L2 | weakest term (BIC rise) | wall s | "
        "PySINDy on the same data (whole right-hand side) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for problem, r in rows:
        err = "n/a" if not r["exact"] else f"{r['max_error']:.2%}"
        kept = [(value, f, t) for f, terms in r["evidence"].items() for t, value in terms.items()]
        weakest = "none" if not kept else "{1}: {2} ({0:.3g})".format(*min(kept))
        lines.append(
            f"| {problem.name} | {r['seed']} | {_formula_text(r['found'])} | {'yes' if r['exact'] else 'no'} | "
            f"{err} ({problem.tolerance:.0%}) | {r['resolve']:.2e} | {weakest} | {r['wall_s']:.0f} | {r['pysindy']} |"
        )
    lines += ["", "True hidden terms: " + "; ".join(
        f"{p.name}: {_formula_text(p.truth)}" for p in PROBLEMS if any(q is p for q, _ in rows)), "", end]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sindy-python", default=None, help="an interpreter with pysindy (omit: PySINDy not run)")
    parser.add_argument("--only", action="append", default=None, help="run only the problem of this name")
    parser.add_argument("--seeds", type=int, nargs="*", default=list(SEEDS))
    parser.add_argument("--no-write", dest="write", action="store_false")
    args = parser.parse_args()
    if args.worker:
        pysindy_worker()
        return
    import jax

    jax.config.update("jax_enable_x64", True)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    start = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for problem in PROBLEMS:
            if args.only and problem.name not in args.only:
                continue
            data = make_data(problem, Path(folder))
            for seed in args.seeds:
                result = run_one(problem, data, seed, args.sindy_python)
                print(f"{problem.name} seed {seed}: {_formula_text(result['found'])} exact={result['exact']} "
                      f"err={result['max_error']:.3g} resolve={result['resolve']:.2e} {result['wall_s']:.0f} s | "
                      f"pysindy: {result['pysindy']}", flush=True)
                rows.append((problem, result))
    text = section(rows, time.perf_counter() - start)
    print(text)
    if args.write and not args.only:
        from _markdown import write_section

        write_section(SECTION, text)
        print("wrote BENCHMARKS.md")


if __name__ == "__main__":
    main()
