"""Ensemble throughput (issue 3): trajectory-steps per second against batch size and device count.

One measurement runs :func:`solvers.ensemble.solve_ensemble` on ``B`` random
starts of one case (float32), the whole ensemble as one sharded program,
snapshots (every 100 steps, and the last) copied to the host as a real run
does. Time is the median of ``--repeats`` runs after a warm-up run
(compilation excluded); everything inside ``solve_ensemble`` counts (the
starts drawn from the seeds, the ETDRK set-up, the stepping, the copies to
the host), because that is what a user waits for. ``--devices D`` splits the
CPU into ``D`` host devices (``XLA_FLAGS``, set before JAX starts) to
measure scaling over devices on a machine without accelerators; on a GPU
machine all local devices are used.

Without ``--case`` the script runs the suite, each measurement in its own
subprocess (so that ``XLA_FLAGS`` can change between them):

- KS (``ks-random``, length 22, n = 128, ETDRK4, dt = 0.05), batches 1 to
  1024, ``--ks-steps`` steps (default 2,000);
- NS 2D (``ns-decaying``, 128^2, ETDRK4, dt = 0.01), batches 1 to 256 with
  ``--ns-steps`` steps (default 50), and 1,024 with a fifth of them (one
  1,024-trajectory step of 128^2 costs about a second on this 2-core CPU:
  the full count would take minutes per run);
- scaling over 1, 2 and 4 host devices: KS with B = 256 and NS with B = 16.

The suite replaces the ``bench_ensemble`` section of BENCHMARKS.md (``--quick``:
smaller batches and steps, printed only, unless ``--write``).

    .venv/bin/python bench/bench_ensemble.py [--quick] [--write | --no-write]
    .venv/bin/python bench/bench_ensemble.py --case ks-random --n 128 --batches 1,64 --steps 2000 [--devices D]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _markdown import markers, write_section

ROOT = Path(__file__).resolve().parent.parent
SECTION = "bench_ensemble"
START, END = markers(SECTION)
DEVICE_COUNTS = (1, 2, 4)


# --------------------------------------------------------------------------- one measurement (child)
def measure(args: argparse.Namespace) -> dict:
    """Time ``solve_ensemble`` for each batch size of ``args``; returns a JSON-able record."""
    if args.devices:
        os.environ["XLA_FLAGS"] = (
            f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={args.devices}"
        )
    import jax

    import cases
    from solvers import Ensemble, solve_ensemble

    base = cases.get(args.case)
    dims = len(base.grid.n)
    dt = base.time.dt
    case = base.with_updates(
        {
            "grid.n": (args.n,) * dims,
            "time.t_end": base.time.t0 + args.steps * dt,
            # Save every 100 steps, as a training-data run would (and at the end of shorter runs).
            "time.save_dt": min(100, args.steps) * dt,
            "dtype": "float32",
        }
    )
    # The per-call fixed cost (ETDRK set-up, drawing the starts, copies to the host): a 1-step run, same batch.
    one_step = base.with_updates(
        {"grid.n": (args.n,) * dims, "time.t_end": base.time.t0 + dt, "time.save_dt": dt, "dtype": "float32"}
    )

    def timed(c, ensemble) -> tuple[float, float]:
        solve_ensemble(c, ensemble)  # compile + warm-up
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            solve_ensemble(c, ensemble)
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        return median, (max(times) - min(times)) / median

    rows = []
    for batch in [int(b) for b in args.batches.split(",")]:
        ensemble = Ensemble(batch=batch)
        seconds, spread = timed(case, ensemble)
        one, _ = timed(one_step, ensemble) if args.fixed else (float("nan"), 0.0)
        steps = case.time.n_steps
        rate = batch * steps / seconds
        stepping = batch * (steps - 1) / (seconds - one) if args.fixed and seconds > one else float("nan")
        rows.append({"batch": batch, "seconds": seconds, "rate": rate, "spread": spread, "one_step_seconds": one,
                     "stepping_rate": stepping})
        print(f"  {args.case} n={args.n} D={len(jax.devices())} B={batch:5d} steps={steps}: "
              f"{seconds:8.3f} s, {rate:12.4g} trajectory-steps/s; 1 step {one:.3f} s, stepping only "
              f"{stepping:12.4g}", file=sys.stderr, flush=True)
    device = jax.devices()[0]
    return {
        "case": args.case,
        "n": args.n,
        "dims": dims,
        "steps": case.time.n_steps,
        "order": case.solver.order,
        "devices": len(jax.devices()),
        "device_kind": f"{device.device_kind} ({device.platform})",
        "jax": jax.__version__,
        "repeats": args.repeats,
        "rows": rows,
    }


def child(case: str, n: int, steps: int, batches: str, repeats: int, devices: int | None = None,
          fixed: bool = True) -> dict:
    """Run one measurement in a fresh interpreter (its own ``XLA_FLAGS``); returns its record."""
    command = [sys.executable, __file__, "--case", case, "--n", str(n), "--steps", str(steps),
               "--batches", batches, "--repeats", str(repeats), "--json"] + (["--fixed"] if fixed else [])
    if devices:
        command += ["--devices", str(devices)]
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    result = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- suite
def suite(args: argparse.Namespace) -> str:
    wall0 = time.perf_counter()
    ks_batches = "1,4,16" if args.quick else "1,4,16,64,256,1024"
    ns_batches = "1,4" if args.quick else "1,4,16,64,256"
    ks_steps, ns_steps = (200, 10) if args.quick else (args.ks_steps, args.ns_steps)
    repeats = 1 if args.quick else args.repeats
    walls: dict[str, float] = {}

    def timed(label: str, *a, **k) -> dict:
        t0 = time.perf_counter()
        record = child(*a, **k)
        walls[label] = time.perf_counter() - t0
        return record

    ks = timed("KS batches", "ks-random", 128, ks_steps, ks_batches, repeats)
    ns = timed("NS batches", "ns-decaying", 128, ns_steps, ns_batches, repeats)
    ns_big = None if args.quick else timed("NS B=1024", "ns-decaying", 128, max(2, ns_steps // 5), "1024", repeats)
    scaling = {}
    for devices in DEVICE_COUNTS:
        scaling["ks", devices] = timed(f"KS D={devices}", "ks-random", 128, ks_steps, "16" if args.quick else "256",
                                       repeats, devices, fixed=False)
        scaling["ns", devices] = timed(f"NS D={devices}", "ns-decaying", 128, ns_steps, "4" if args.quick else "16",
                                       repeats, devices, fixed=False)
    return render(ks, ns, ns_big, scaling, time.perf_counter() - wall0, walls)


def render(ks: dict, ns: dict, ns_big: dict | None, scaling: dict, wall: float, walls: dict) -> str:
    import jax  # only for the versions line; the measurements ran in subprocesses

    spreads = [r["spread"] for rec in [ks, ns, ns_big, *scaling.values()] if rec for r in rec["rows"]]
    ns_rows = ns["rows"] + (ns_big["rows"] if ns_big else [])
    lines = [
        START,
        "## Ensembles (issue 3)",
        "",
        "Generated by `.venv/bin/python bench/bench_ensemble.py`; do not edit by hand between the markers.",
        "",
        f"- Date: {datetime.date.today().isoformat()}; device: {ks['device_kind']} (no GPU lent), "
        f"{platform.machine()}, `os.cpu_count()` = {os.cpu_count()}, shared; load average "
        f"{os.getloadavg()[0]:.1f} at the end; jax {jax.__version__}, float32.",
        "- What is timed: `solvers.ensemble.solve_ensemble(case, Ensemble(batch=B))`, the whole ensemble as one "
        "`vmap`-ed, sharded program (mesh axis `cases`), starts drawn from per-trajectory seeds, snapshots every "
        "100 steps copied to the host; median of "
        f"{ks['repeats']} runs after a warm-up (compile excluded), `jax.block_until_ready` implied by the copy to "
        "the host. Rate = B x steps / seconds (trajectory-steps per second); per-call fixed costs (ETDRK set-up, "
        "drawing the starts, copying the snapshots) are included. The same call with 1 step (same batch) gives "
        "that fixed cost; `stepping only` = B x (steps - 1) / (T(steps) - T(1 step)) is the rate of the "
        "time stepping itself.",
        f"- Whole script: {wall:.0f} s ("
        + ", ".join(f"{k} {v:.0f} s" for k, v in walls.items())
        + f"). Spread (max - min) / median of one configuration: median {statistics.median(spreads):.0%}, "
        f"largest {max(spreads):.0%}.",
        "",
        f"Against batch size, one device. KS: `ks-random` (length 22), n = 128, ETDRK{ks['order']}, dt = 0.05, "
        f"{ks['steps']:,} steps. NS: `ns-decaying`, 128^2, ETDRK{ns['order']}, dt = 0.01, {ns['steps']:,} steps"
        + (f" ({ns_big['steps']:,} at B = 1,024, to keep the run within minutes on 2 cores)" if ns_big else "")
        + ".",
        "",
        "| batch | KS: trajectory-steps/s | KS: stepping only | KS: fixed cost, ms | NS 128^2: trajectory-steps/s | "
        "NS 128^2: stepping only | NS 128^2: fixed cost, ms |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    ks_by = {r["batch"]: r for r in ks["rows"]}
    ns_by = {r["batch"]: r for r in ns_rows}
    for batch in sorted(set(ks_by) | set(ns_by)):
        cells = [f"{batch:,}"]
        for by in (ks_by, ns_by):
            r = by.get(batch)
            cells += ([f"{r['rate']:,.0f}", f"{r['stepping_rate']:,.0f}", f"{r['one_step_seconds'] * 1e3:,.1f}"]
                      if r else ["not run", "", ""])
        lines.append("| " + " | ".join(cells) + " |")
    ks_b, ns_b = scaling["ks", 1]["rows"][0]["batch"], scaling["ns", 1]["rows"][0]["batch"]
    lines += [
        "",
        "Against the number of host devices (`XLA_FLAGS=--xla_force_host_platform_device_count=D`, one subprocess "
        f"each; the same 2 cores are split among the devices, so this measures the sharding overhead and whatever "
        f"parallelism XLA finds, not more hardware). KS B = {ks_b}, {scaling['ks', 1]['steps']:,} steps; NS 128^2 "
        f"B = {ns_b}, {scaling['ns', 1]['steps']:,} steps. Speed-up = rate / rate at D = 1.",
        "",
        "| devices | KS: trajectory-steps/s | KS: speed-up | NS 128^2: trajectory-steps/s | NS 128^2: speed-up |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for devices in DEVICE_COUNTS:
        cells = [str(devices)]
        for name in ("ks", "ns"):
            rate = scaling[name, devices]["rows"][0]["rate"]
            cells += [f"{rate:,.0f}", f"{rate / scaling[name, 1]['rows'][0]['rate']:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append(END)
    return "\n".join(lines)




def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="suite smoke test: small batches and steps, one repeat")
    parser.add_argument("--devices", type=int, help="host (CPU) devices to split the machine into (one measurement)")
    parser.add_argument("--case", help="one measurement of this case instead of the suite")
    parser.add_argument("--n", type=int, default=128, help="grid points per axis (one measurement)")
    parser.add_argument("--steps", type=int, default=2000, help="steps (one measurement)")
    parser.add_argument("--batches", default="1,4,16,64,256,1024", help="comma-separated batch sizes (one measurement)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per configuration")
    parser.add_argument("--ks-steps", type=int, default=2000, help="KS steps in the suite")
    parser.add_argument("--ns-steps", type=int, default=50, help="NS steps in the suite (a fifth at B = 1,024)")
    parser.add_argument("--json", action="store_true", help="print the record as one JSON line (one measurement)")
    parser.add_argument("--fixed", action="store_true", help="also time a 1-step run of each batch (fixed cost)")
    parser.add_argument("--write", dest="write", action="store_true", default=None, help="rewrite BENCHMARKS.md")
    parser.add_argument("--no-write", dest="write", action="store_false", help="only print the section")
    args = parser.parse_args(argv)
    if args.case:
        record = measure(args)
        print(json.dumps(record) if args.json else json.dumps(record, indent=1))
        return
    section = suite(args)
    print(section)
    if (not args.quick) if args.write is None else args.write:
        write_section(SECTION, section)
        print(f"wrote {ROOT / 'BENCHMARKS.md'}")


if __name__ == "__main__":
    sys.exit(main())
