"""Flow past a cylinder (Schäfer & Turek 1996, benchmarks 2D-1 and 2D-2): accuracy and speed of the immersed boundary.

- 2D-1 (``cylinder``, Re = 20) at the default resolution (20 cells across the
  cylinder) by the user path (``solvers.solve.run_case``, what ``phys run``
  calls), to an HDF5 file: c_D, c_L and delta p (the last values of the
  ``/scalars`` series) against the featflow reference values, wall time and
  peak memory (``ru_maxrss`` of this process).
- Grid convergence of c_D, c_L and delta p over ``--rows`` cells across the
  channel (default 41, 58, 82, 116: 10, 14.1, 20 and 28.3 across the
  cylinder, ratio sqrt 2; dt 0.8 of the stable bound), the observed order of
  the last three, ``log((f1 - f2) / (f2 - f3)) / log r``, and each value's
  error against the reference.
- Steps per second at the 2D-1 resolution with and without the obstacle
  (the same channel, ``geometry`` removed), through ``solvers.simulation``,
  median of 5 calls of 200 steps after a warm-up.
- 2D-2 (``cylinder-unsteady``, Re = 100): Strouhal number from the lift
  signal (mean period between upward zero crossings of c_L - mean over the
  last ``--window`` time units), c_D,max and c_L,max over that window (peaks
  refined by a parabola through the three samples around each maximum).

The results replace the block between the ``bench_cylinder`` markers of
BENCHMARKS.md. ``--quick`` (41 and 82 rows only, 2D-2 to t = 4) is a smoke
test that writes nothing unless ``--write`` is given.

    nice -n 10 .venv/bin/python bench/bench_cylinder.py [--quick] [--write | --no-write]
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path

import jax
import jaxlib
import numpy as np

from _markdown import markers, write_section

import cases
from phys.io import read
from solvers import simulation
from solvers.projection import stable_dt
from solvers.solve import run_case

SECTION = "bench_cylinder"
START, END = markers(SECTION)
# featflow reference values of 2D-1 (Schäfer & Turek 1996; John & Matthies 2001).
REFERENCE = {"drag_coefficient": 5.57953523384, "lift_coefficient": 0.010618948146, "pressure_difference": 0.11752016697}
# 2D-2 intervals (Schäfer & Turek 1996, Table 4).
INTERVALS = {"c_D,max": (3.22, 3.24), "c_L,max": (0.99, 1.01), "St": (0.295, 0.305)}


def cylinder_at(rows: int, name: str = "cylinder", **updates: object):
    """The case ``name`` with ``rows`` cells across the channel, dt 0.8 of the stable bound (a whole fraction of save_dt)."""
    case = cases.get(name)
    n = (round(2.2 * rows / 0.41), rows)
    speed = 1.5 * case.bcs[0].lower
    save_dt = case.time.save_dt
    dt = 0.8 * stable_dt(n, (2.2, 0.41), 1e-3, 1.5 * speed)
    dt = save_dt / math.ceil(save_dt / dt)
    return case.with_updates({"grid.n": list(n), "time.dt": dt, **updates})


def steady_run(case, directory: Path) -> dict[str, float]:
    start = time.perf_counter()
    path = run_case(case, directory / f"{case.name}-{case.grid.n[0]}.h5")
    wall = time.perf_counter() - start
    fields = read(path)
    out = {name: float(fields.scalars[name][0, -1]) for name in REFERENCE}
    out["wall"] = wall
    out["steady_time"] = float(fields.attrs.get("steady_time", np.nan))
    out["t_end"] = float(fields.time[-1])
    return out


def rate(case, steps: int = 200, repeats: int = 5) -> float:
    case = case.with_updates({"time.t_end": steps * case.time.dt, "time.save_dt": steps * case.time.dt, "solver.steady_tol": 0.0})
    sim = simulation(case)
    jax.block_until_ready(sim())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(sim())
        times.append(time.perf_counter() - start)
    return steps / statistics.median(times)


def _peaks(t: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Local maxima refined by the parabola through each and its two neighbours."""
    inner = np.flatnonzero((f[1:-1] > f[:-2]) & (f[1:-1] >= f[2:])) + 1
    a, b, c = f[inner - 1], f[inner], f[inner + 1]
    curvature = a - 2 * b + c  # < 0 at a maximum
    return np.where(curvature < 0, b - (a - c) ** 2 / (8 * np.where(curvature < 0, curvature, -1.0)), b)


def shedding(case, window: float) -> dict[str, float]:
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as directory:
        path = run_case(case, Path(directory) / "cylinder-unsteady.h5")
        fields = read(path)
    wall = time.perf_counter() - start
    t = np.asarray(fields.time, np.float64)
    drag = np.asarray(fields.scalars["drag_coefficient"][0], np.float64)
    lift = np.asarray(fields.scalars["lift_coefficient"][0], np.float64)
    last = t >= t[-1] - window
    t, drag, lift = t[last], drag[last], lift[last]
    centred = lift - lift.mean()
    up = np.flatnonzero((centred[:-1] < 0) & (centred[1:] >= 0))
    crossings = t[up] - centred[up] * (t[up + 1] - t[up]) / (centred[up + 1] - centred[up])
    period = float(np.mean(np.diff(crossings))) if len(crossings) > 1 else float("nan")
    mean_speed = case.bcs[0].lower
    return {
        "St": 0.1 / (mean_speed * period),
        "c_D,max": float(np.max(_peaks(t, drag))) if len(_peaks(t, drag)) else float(drag.max()),
        "c_L,max": float(np.max(_peaks(t, lift))) if len(_peaks(t, lift)) else float(lift.max()),
        "periods": len(crossings) - 1,
        "wall": wall,
        "t_end": float(fields.time[-1]),
    }


def _order(values: list[float], refinement: float) -> float:
    if len(values) < 3:
        return float("nan")
    f1, f2, f3 = values[-3:]
    ratio = (f1 - f2) / (f2 - f3) if f2 != f3 else float("nan")
    return math.log(ratio) / math.log(refinement) if ratio > 0 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int, nargs="+", default=None, help="cells across the channel (a constant ratio)")
    parser.add_argument("--window", type=float, default=3.0, help="2D-2: the last this many time units are analysed")
    parser.add_argument("--write", dest="write", action="store_true", default=None)
    parser.add_argument("--no-write", dest="write", action="store_false")
    args = parser.parse_args()
    rows = args.rows or ([41, 82] if args.quick else [41, 58, 82, 116])
    wall0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as directory:
        default = steady_run(cases.get("cylinder"), Path(directory))
        memory_default = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        table = []
        for m in rows:
            result = default if m == cases.get("cylinder").grid.n[1] else steady_run(cylinder_at(m), Path(directory))
            table.append((m, result))
        memory_refined = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    base = cases.get("cylinder")
    with_obstacle = rate(base)
    without = rate(base.with_updates({"geometry": None, "solver.probes": None}))
    unsteady_case = cases.get("cylinder-unsteady")
    if args.quick:
        unsteady_case = unsteady_case.with_updates({"time.t_end": 4.0})
    unsteady = shedding(unsteady_case, args.window)
    wall = time.perf_counter() - wall0

    device = jax.devices()[0]
    lines = [
        START,
        "## Flow past a cylinder (Schäfer & Turek 1996, immersed boundary)",
        "",
        f"{datetime.date.today().isoformat()}, {platform.machine()} {device.platform} "
        f"({os.cpu_count()} CPUs visible, shared; load average {os.getloadavg()[0]:.1f} at the end), "
        f"python {platform.python_version()}, jax {jax.__version__}, jaxlib {jaxlib.__version__}, float32. "
        f"Whole script: {wall:.0f} s. Produced by `bench/bench_cylinder.py` (`nice -n 10`). No GPU was lent.",
        "",
        f"2D-1 (`phys run cylinder`, {base.grid.n[0]} x {base.grid.n[1]} cells, 20 across the cylinder, "
        f"dt = {base.time.dt:g}): steady at t = {default['steady_time']:g}, wall {default['wall']:.0f} s, "
        f"peak memory {memory_default:.0f} MiB (process).",
        "",
        "| quantity | ours | reference (featflow) | error |",
        "|---|---|---|---|",
    ]
    for name, ref in REFERENCE.items():
        lines.append(f"| {name} | {default[name]:.5f} | {ref:.5f} | {default[name] / ref - 1:+.2%} |")
    lines += [
        "",
        f"Grid convergence (steady runs; peak memory after the finest: {memory_refined:.0f} MiB):",
        "",
        "| cells across the cylinder | grid | c_D | error | c_L | Δp | error | wall (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m, r in table:
        lines.append(
            f"| {0.1 * m / 0.41:.1f} | {round(2.2 * m / 0.41)} x {m} | {r['drag_coefficient']:.4f} | "
            f"{r['drag_coefficient'] / REFERENCE['drag_coefficient'] - 1:+.2%} | {r['lift_coefficient']:.4f} | "
            f"{r['pressure_difference']:.4f} | {r['pressure_difference'] / REFERENCE['pressure_difference'] - 1:+.2%} | {r['wall']:.0f} |"
        )
    drags = [r["drag_coefficient"] for _, r in table]
    pressures = [r["pressure_difference"] for _, r in table]
    lines += [
        "",
        f"Observed order (last three grids, ratio {rows[-1] / rows[-2]:.3f}): c_D {_order(drags, rows[-1] / rows[-2]):.2f}, "
        f"Δp {_order(pressures, rows[-1] / rows[-2]):.2f}.",
        "",
        f"Speed at the 2D-1 resolution (`solvers.simulation`, 200 steps per call, median of 5): "
        f"{with_obstacle:.0f} steps/s with the cylinder, {without:.0f} steps/s for the empty channel.",
        "",
        f"2D-2 (`phys run cylinder-unsteady`, 20 cells across, dt = {unsteady_case.time.dt:g}, to t = {unsteady['t_end']:g}, "
        f"last {args.window:g} analysed, {unsteady['periods']} periods; wall {unsteady['wall']:.0f} s):",
        "",
        "| quantity | ours | reference interval | off the centre |",
        "|---|---|---|---|",
    ]
    for name, (low, high) in INTERVALS.items():
        centre = 0.5 * (low + high)
        lines.append(f"| {name} | {unsteady[name]:.4f} | [{low}, {high}] | {unsteady[name] / centre - 1:+.1%} |")
    lines += ["", END]
    text = "\n".join(lines)
    print(text)
    if args.write if args.write is not None else not args.quick:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
