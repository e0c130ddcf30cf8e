"""Lid-driven cavity: throughput of the projection solver, and accuracy against Ghia, Ghia & Shin (1982).

Throughput: the built-in ``lid-driven-cavity`` case (Re = 100, float32,
started at rest) at 64^2 and 128^2 cells with the steady test off (every step
computed), ``dt`` 0.9 of the scheme's stability bound, through the user path
``solvers.simulation(case)``: each call runs ``--steps`` steps in one
compiled rollout with one save at the end. Both pressure Poisson solves
(``dct``: dense cosine transform matrices, ``fft``: ``jax.scipy.fft.dctn``).
Times are medians of ``--repeats`` calls after a warm-up (compile excluded),
with ``jax.block_until_ready``. One step is one SSP-RK3 step: three
convective + viscous tendencies and three projections.

Accuracy: ``lid-driven-cavity`` built for Re = 100, 400 and 1000
(``cases.walls.lid_driven_cavity(re)``, the same as ``phys run
lid-driven-cavity --set re=...``: its grid follows ``re``), marched to its
steady state by ``solvers.solve``; the max error of the centreline velocities
against Ghia's Tables I and II (bench/_ghia.py).

The results replace the block between the ``bench_cavity`` markers of
BENCHMARKS.md (appended if absent). ``--quick`` (200 steps, 3 repeats, Re =
100 only) is a smoke test: it prints the section and leaves BENCHMARKS.md
alone unless ``--write`` is given.

    nice -n 10 .venv/bin/python bench/bench_cavity.py [--quick] [--write | --no-write]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import time
from pathlib import Path

import jax
import jaxlib

from _ghia import ghia_errors
from _markdown import markers, write_section

import cases
from cases.walls import lid_driven_cavity
from solvers import simulation
from solvers.projection import stable_dt
from solvers.solve import solve

ROOT = Path(__file__).resolve().parent.parent
SECTION = "bench_cavity"
START, END = markers(SECTION)
SIZES = (64, 128)
REYNOLDS = (100.0, 400.0, 1000.0)


def steps_per_second(n: int, poisson: str, steps: int, repeats: int) -> tuple[float, float]:
    """Median steps per second and the spread ``(max - min) / median`` of the run times."""
    dt = 0.9 * stable_dt((n, n), (1.0, 1.0), 1.0 / 100.0, 1.0)
    case = cases.get("lid-driven-cavity").with_updates(
        {
            "grid.n": n,
            "time.dt": dt,
            "time.t_end": dt * steps,
            "time.save_dt": dt * steps,
            "solver.steady_tol": 0.0,
            "solver.poisson": poisson,
        }
    )
    sim = simulation(case)
    jax.block_until_ready(sim())  # compile
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(sim())
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return steps / median, (max(times) - min(times)) / median


def ghia_row(re: float) -> tuple[float, int, float, float, float, float, float]:
    """Re, cells, dt, steady time, u error, v error, wall seconds of one run to the steady state."""
    case = lid_driven_cavity(re)
    start = time.perf_counter()
    fields = solve(case)
    wall = time.perf_counter() - start
    u_error, v_error = ghia_errors(fields, re)
    return re, case.grid.n[0], case.time.dt, float(fields.time[-1]), u_error, v_error, wall


def section(rows, ghia, steps: int, repeats: int, wall: float) -> str:
    device = jax.devices()[0]
    lines = [
        START,
        "## Lid-driven cavity (projection solver)",
        "",
        f"{datetime.date.today().isoformat()}, {platform.machine()} {device.platform} "
        f"({os.cpu_count()} CPUs visible, shared; load average {os.getloadavg()[0]:.1f} at the end), "
        f"python {platform.python_version()}, jax {jax.__version__}, jaxlib {jaxlib.__version__}, float32. "
        f"Whole script: {wall:.0f} s. Produced by `bench/bench_cavity.py` (`nice -n 10`).",
        "",
        f"Throughput at Re = 100 through `solvers.simulation(case)`: {steps} steps per call (one compiled rollout, "
        f"one save at the end), median of {repeats} after a warm-up (compile excluded), `jax.block_until_ready`; "
        "spread = (max - min) / median.",
        "",
        "| cells | Poisson solve | steps / s | ms / step | spread |",
        "|---|---|---|---|---|",
    ]
    for n, poisson, rate, spread in rows:
        lines.append(f"| {n}^2 | {poisson} | {rate:,.0f} | {1e3 / rate:.3f} | {spread:.0%} |")
    lines += [
        "",
        "Accuracy: `lid_driven_cavity(re)` (its grid follows `re`; `phys run lid-driven-cavity --set re=...`), "
        "marched to its steady state, max error of the centreline velocities against Ghia, Ghia & Shin (1982) "
        "Tables I (u at x = 0.5) and II (v at y = 0.5), linear interpolation to their points. Target: 1e-2.",
        "",
        "| Re | cells | dt | steady at t | max error u | max error v | wall (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for re, n, dt, steady, u_error, v_error, seconds in ghia:
        lines.append(f"| {re:g} | {n}^2 | {dt:.4g} | {steady:g} | {u_error:.2e} | {v_error:.2e} | {seconds:.0f} |")
    lines += ["", END]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 steps, 3 repeats, Re = 100 only (smoke test)")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--write", dest="write", action="store_true", default=None)
    parser.add_argument("--no-write", dest="write", action="store_false")
    args = parser.parse_args()
    steps = args.steps or (200 if args.quick else 2000)
    repeats = args.repeats or (3 if args.quick else 7)
    wall0 = time.perf_counter()
    rows = [(n, poisson, *steps_per_second(n, poisson, steps, repeats)) for n in SIZES for poisson in ("dct", "fft")]
    ghia = [ghia_row(re) for re in (REYNOLDS[:1] if args.quick else REYNOLDS)]
    text = section(rows, ghia, steps, repeats, time.perf_counter() - wall0)
    print(text)
    if args.write if args.write is not None else not args.quick:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
