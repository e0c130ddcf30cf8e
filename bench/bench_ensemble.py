"""Ensemble throughput (issue 3): trajectory-steps per second against batch size and device count.

Each batch size ``B`` runs :func:`solvers.ensemble.solve_ensemble` on ``B``
random starts of one case (default: chaotic KS, n = 128, ETDRK4, float32),
the whole ensemble as one sharded program, snapshots copied to the host as a
real run does. Time is the median of ``--repeats`` runs after a warm-up run
(compilation excluded). ``--devices D`` splits the CPU into ``D`` host
devices (``XLA_FLAGS``, set before JAX starts) to measure scaling over devices
on a machine without accelerators; on a GPU machine all local devices are used.

``--quick`` is a smoke test (200 steps, batches 1, 4, 16, one repeat). The
table is printed; ``--write`` replaces the ``bench_ensemble`` section of
BENCHMARKS.md.

    .venv/bin/python bench/bench_ensemble.py [--quick] [--devices D] [--case ks-random] [--n 128] [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- bench_ensemble:start -->", "<!-- bench_ensemble:end -->"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--devices", type=int, help="host (CPU) devices to split the machine into")
    parser.add_argument("--case", default="ks-random")
    parser.add_argument("--n", type=int, default=128, help="grid points per axis")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batches", help="comma-separated batch sizes (default 1,4,16,64,256,1024)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="replace the section in BENCHMARKS.md")
    args = parser.parse_args(argv)
    if args.devices:
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={args.devices}"
    if args.quick:
        args.steps, args.repeats = 200, 1
    args.batches = args.batches or ("1,4,16" if args.quick else "1,4,16,64,256,1024")

    import jax

    import cases
    from solvers.ensemble import Ensemble, solve_ensemble

    base = cases.get(args.case)
    dims = len(base.grid.n)
    dt = base.time.dt
    # Save every 100 steps, as a training-data run would.
    case = base.with_updates(
        {"grid.n": (args.n,) * dims, "time.t_end": base.time.t0 + args.steps * dt, "time.save_dt": 100 * dt, "dtype": "float32"}
    )
    rows = []
    for batch in [int(b) for b in args.batches.split(",")]:
        ensemble = Ensemble(batch=batch)
        solve_ensemble(case, ensemble)  # compile
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            solve_ensemble(case, ensemble)
            times.append(time.perf_counter() - start)
        seconds = statistics.median(times)
        rows.append((batch, seconds, batch * case.time.n_steps / seconds))
        print(f"B = {batch:5d}: {seconds:8.3f} s, {rows[-1][2]:12.4g} trajectory-steps/s", flush=True)
    device = jax.devices()[0]
    header = (
        f"{args.case}, n = {args.n}^{dims}, {case.time.n_steps} steps, ETDRK{case.solver.order}, float32; "
        f"{len(jax.devices())} x {device.device_kind} ({device.platform}), {platform.machine()}, "
        f"jax {jax.__version__}; median of {args.repeats} after a warm-up"
    )
    table = "\n".join(
        [header, "", "| batch | seconds | trajectory-steps/s |", "| ---: | ---: | ---: |"]
        + [f"| {b} | {s:.3f} | {r:.4g} |" for b, s, r in rows]
    )
    print(table)
    if args.write:
        section = f"{START}\n## Ensembles (issue 3)\n\n{table}\n{END}"
        path = ROOT / "BENCHMARKS.md"
        text = path.read_text() if path.exists() else "# Benchmarks\n"
        pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
        text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section + "\n"
        path.write_text(text)
        print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
