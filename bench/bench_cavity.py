"""Lid-driven cavity throughput of the staggered-grid projection solver (issue 5).

The built-in ``lid-driven-cavity`` case (Re = 100, float32, started at rest)
at 64^2 and 128^2 cells, with the state-freezing steady test switched off so
that every step is computed; ``dt`` is 0.9 of the scheme's stability bound.
Each configuration runs ``--steps`` steps in one jitted ``lax.scan`` (one
save at the end) with both pressure Poisson solves (``dct``: dense cosine
transform matrices, ``fft``: ``jax.scipy.fft.dctn``). Times are medians of
``--repeats`` runs after a warm-up (compile excluded), with
``jax.block_until_ready``. One step is one SSP-RK3 step: three convective +
viscous tendencies and three projections.

The results replace the block between the ``bench_cavity`` markers of
BENCHMARKS.md (appended if absent). ``--quick`` (200 steps, 3 repeats) is a
smoke test: it prints the section and leaves BENCHMARKS.md alone unless
``--write`` is given.

    .venv/bin/python bench/bench_cavity.py [--quick] [--write | --no-write]
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
import jax.numpy as jnp
import jaxlib

from _markdown import markers, write_section

import cases
from solvers.projection import PROJECTION, stable_dt

ROOT = Path(__file__).resolve().parent.parent
SECTION = "bench_cavity"
START, END = markers(SECTION)
SIZES = (64, 128)


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
    static, params = PROJECTION.compile(case)
    state = PROJECTION.init(static, params)
    first = jnp.asarray(0, jnp.int32)
    jax.block_until_ready(PROJECTION.advance(static, params, state, first, 1))  # compile
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(PROJECTION.advance(static, params, state, first, 1))
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return steps / median, (max(times) - min(times)) / median


def section(rows: list[tuple[int, str, float, float]], steps: int, repeats: int, wall: float) -> str:
    device = jax.devices()[0]
    lines = [
        START,
        "## Lid-driven cavity (projection solver)",
        "",
        f"{datetime.date.today().isoformat()}, {platform.machine()} {device.platform} (no GPU lent; "
        f"{os.cpu_count()} CPUs visible, shared; load average {os.getloadavg()[0]:.1f} at the end), "
        f"python {platform.python_version()}, jax {jax.__version__}, jaxlib {jaxlib.__version__}, float32, Re = 100, "
        f"{steps} steps per run (one jitted `lax.scan`, one save at the end), median of {repeats} after a warm-up "
        f"(compile excluded), `jax.block_until_ready`; spread = (max - min) / median. Whole script: {wall:.0f} s. "
        "Produced by `bench/bench_cavity.py`.",
        "",
        "| cells | Poisson solve | steps / s | ms / step | spread |",
        "|---|---|---|---|---|",
    ]
    for n, poisson, rate, spread in rows:
        lines.append(f"| {n}^2 | {poisson} | {rate:,.0f} | {1e3 / rate:.3f} | {spread:.0%} |")
    lines += ["", END]
    return "\n".join(lines)




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 steps, 3 repeats (smoke test)")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--write", dest="write", action="store_true", default=None)
    parser.add_argument("--no-write", dest="write", action="store_false")
    args = parser.parse_args()
    steps = args.steps or (200 if args.quick else 2000)
    repeats = args.repeats or (3 if args.quick else 7)
    wall0 = time.perf_counter()
    rows = [(n, poisson, *steps_per_second(n, poisson, steps, repeats)) for n in SIZES for poisson in ("dct", "fft")]
    text = section(rows, steps, repeats, time.perf_counter() - wall0)
    print(text)
    if args.write if args.write is not None else not args.quick:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
