"""Benchmark physax's periodic 2D Navier-Stokes solver against exponax (issue 5).

Both codes run in the same process on the same machine:

- NS in vorticity form on ``[0, 2 pi)^2``, ``nu = 1e-3``, no drag, no force,
  n = 128 and 256, dt = 2e-3, float32, from the same seeded random vorticity
  (``random-vorticity``, peak wavenumber 4, rms velocity 1);
- one trajectory, and 8 trajectories with ``vmap``;
- physax ETDRK2/4 (``rollout``, only the final state saved) vs exponax's
  ``NavierStokesVorticity`` ETDRK2/4 (a ``lax.scan`` of ``step_fourier``);
- jax-cfd's spectral solver when it is installed (it is not in this
  environment: the row says so);
- the floor: an rfft2 + irfft2 pair of the same size scanned in one jit.

Times are medians of ``--repeats`` runs after a warm-up (compile excluded),
with ``jax.block_until_ready``, per step (per trajectory-step for the batch)
and in FFT-pair times of the same run. Ideal pair counts: physax evaluates
the convective term in Basdevant's form (2 inverse + 2 forward FFTs, 2 pairs
per evaluation); exponax in advective form (4 inverse + 1 forward, 2.5
pairs). ETDRK-k evaluates it k times per step.

Equal accuracy: both use the same scheme, order and dt, so a float64 run of
both from the same start (with exponax's dealiasing set to keep the same
modes as physax's 2/3 rule) must agree to rounding; the check is printed with
the timings. exponax's vorticity has the opposite sign to ours (its velocity
is ``grad(lap^-1 w)`` with the second component negated, ``u = -psi_y``), so
it is run from ``-w0``. physax computes its ETDRK coefficients inside each
call (so that gradients reach ``nu``), exponax once at construction: a
fixed cost per call, negligible at 200 steps but not in ``--quick``. Both
use 16 contour points (exponax's default; physax's case default is 64).

The results replace the block between the ``bench_ns`` markers of
BENCHMARKS.md. ``--quick`` (n = 64 and 128, 10 steps, 2 repeats) is a smoke
test that leaves BENCHMARKS.md alone unless ``--write`` is given.

    .venv/bin/python bench/bench_ns.py [--quick] [--write | --no-write]
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import math
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

import equinox as eqx
import exponax
import jax
import jax.numpy as jnp
import jaxlib
import numpy as np

import cases
from phys.compile import Params, compile_case
from solvers.rollout import rollout

NU, DT, BATCH = 1e-3, 2e-3, 8
CHECK_STEPS = 50
ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- bench_ns:start -->", "<!-- bench_ns:end -->"
SPREADS: list[float] = []


# --------------------------------------------------------------------------- setup
def physax_case(n: int, order: int, steps: int, seed: int = 0, dtype: str = "float32"):
    case = cases.get("ns-decaying").with_updates(
        {
            "grid.n": n,
            "pde.params.nu": NU,
            "time": {"t_end": steps * DT, "dt": DT, "save_dt": steps * DT},
            "solver.order": order,
            # exponax's default contour (16 points); physax's default (64) costs
            # 4x more in the per-call coefficient set-up, for no gain in float32.
            "solver.contour_points": 16,
            "dtype": dtype,
            "seed": seed,
        }
    )
    return compile_case(case)


def starts(n: int, batch: int, dtype: str = "float32") -> jax.Array:
    """``batch`` seeded random vorticity fields ``[batch, 1, n, n]`` from physax's IC family."""
    return jnp.stack([physax_case(n, 4, 1, seed=s, dtype=dtype)[1].u0 for s in range(batch)])


def exponax_stepper(n: int, order: int, dealiasing_fraction: float = 2 / 3):
    return exponax.stepper.NavierStokesVorticity(
        2, 2 * math.pi, n, DT, diffusivity=NU, drag=0.0, order=order, dealiasing_fraction=dealiasing_fraction
    )


def matching_fraction(n: int) -> float:
    """exponax keeps |m| <= fraction * n/2 - 1; physax keeps |m| <= n/3: this fraction keeps the same modes."""
    return (n // 3 + 1) / (n / 2)


def median_time(fn, arg, repeats: int) -> float:
    jax.block_until_ready(fn(arg))  # compile + warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(arg))
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    SPREADS.append((max(times) - min(times)) / median)
    return median


# --------------------------------------------------------------------------- runners
def physax_runner(static, batched: bool):
    run = lambda p: rollout(static, p)[0][-1]  # noqa: E731
    if batched:
        run = jax.vmap(run, in_axes=(Params(pde=None, u0=0),))
    return jax.jit(run)


def exponax_runner(stepper, n: int, steps: int, batched: bool):
    step = jax.vmap(stepper.step_fourier) if batched else stepper.step_fourier

    def run(w):
        w_hat = jnp.fft.rfft2(w)
        w_hat = jax.lax.scan(lambda v, _: (step(v), None), w_hat, None, length=steps)[0]
        return jnp.fft.irfft2(w_hat, s=(n, n))

    return jax.jit(run)


def fft_floor_runner(n: int, steps: int):
    def run(w):
        pair = lambda v, _: (jnp.fft.irfft2(jnp.fft.rfft2(v), s=(n, n)), None)  # noqa: E731
        return jax.lax.scan(pair, w, None, length=steps)[0]

    return jax.jit(run)


# --------------------------------------------------------------------------- check
def agreement(n: int) -> list[str]:
    """Relative L2 difference of physax and exponax after CHECK_STEPS steps, float64, same modes kept."""
    jax.config.update("jax_enable_x64", True)
    try:
        rel = lambda a, b: float(np.linalg.norm(a - b) / np.linalg.norm(b))  # noqa: E731
        lines, finals = [], {}
        for order in (2, 4):
            static, params = physax_case(n, order, CHECK_STEPS, dtype="float64")
            ours = np.asarray(jax.jit(lambda p: rollout(static, p)[0][-1])(params))
            # exponax's velocity is grad(lap^-1 w) rotated the other way, u = -psi_y for our psi:
            # its vorticity is minus ours, so it runs from -w0 and its result is negated back.
            theirs = -np.asarray(
                exponax.repeat(exponax_stepper(n, order, matching_fraction(n)), CHECK_STEPS)(-params.u0)
            )
            theirs_default = -np.asarray(exponax.repeat(exponax_stepper(n, order), CHECK_STEPS)(-params.u0))
            finals[order] = ours
            lines.append(f"| {n} | ETDRK{order} | {rel(ours, theirs):.2e} | {rel(ours, theirs_default):.2e} |")
        lines.append(f"| {n} | physax ETDRK2 vs ETDRK4 (time error, for scale) | {rel(finals[2], finals[4]):.2e} | |")
        return lines
    finally:
        jax.config.update("jax_enable_x64", False)


# --------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 64 and 128, 10 steps, 2 repeats (smoke test)")
    parser.add_argument("--steps", type=int, default=None, help="steps per timed run (default 200)")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per configuration (default 5)")
    parser.add_argument("--write", dest="write", action="store_true", default=None, help="rewrite BENCHMARKS.md")
    parser.add_argument("--no-write", dest="write", action="store_false", help="only print the section")
    args = parser.parse_args()
    sizes = (64, 128) if args.quick else (128, 256)
    steps = args.steps or (10 if args.quick else 200)
    repeats = args.repeats or (2 if args.quick else 5)
    write = (not args.quick) if args.write is None else args.write
    jax_cfd = importlib.util.find_spec("jax_cfd") is not None
    wall0 = time.perf_counter()

    results: dict[tuple[int, str, bool], float] = {}  # (n, label, batched) -> us per (trajectory-)step
    for n in sizes:
        w0 = starts(n, BATCH)
        inputs = {False: w0[0], True: w0}

        def record(label: str, fn, arg, batched: bool) -> None:
            seconds = median_time(fn, arg, repeats)
            results[n, label, batched] = seconds / steps / (BATCH if batched else 1) * 1e6
            print(f"  n={n:<4} {label:<28} {'x8' if batched else 'x1'} {results[n, label, batched]:10.2f} us/step",
                  flush=True)

        for batched in (False, True):
            record("FFT pair (rfft2+irfft2)", fft_floor_runner(n, steps), inputs[batched], batched)
        for order in (2, 4):
            static, params = physax_case(n, order, steps)
            for batched in (False, True):
                p = Params(pde=params.pde, u0=inputs[batched])
                record(f"physax ETDRK{order}", physax_runner(static, batched), p, batched)
                record(f"exponax ETDRK{order}", exponax_runner(exponax_stepper(n, order), n, steps, batched),
                       inputs[batched], batched)

    print("agreement check (float64) ...", flush=True)
    check_lines = [line for n in sizes for line in agreement(n)]
    section = render(results, sizes, check_lines, steps, repeats, time.perf_counter() - wall0, jax_cfd)
    print(section)
    if write:
        write_section(section)
        print(f"wrote {ROOT / 'BENCHMARKS.md'}")


def render(results, sizes, check_lines, steps, repeats, wall, jax_cfd) -> str:
    out = [
        START,
        "## Navier-Stokes 2D, periodic (issue 5)",
        "",
        "Generated by `.venv/bin/python bench/bench_ns.py`; do not edit by hand between the markers.",
        "",
        f"- Date: {datetime.date.today().isoformat()}; device: `{jax.devices()}`; CPU: {_cpu_model()}, "
        f"`os.cpu_count()` = {os.cpu_count()}",
        f"- Versions: python {platform.python_version()}, jax {jax.__version__}, jaxlib {jaxlib.__version__}, "
        f"equinox {eqx.__version__}, exponax {exponax.__version__}; jax-cfd: "
        + ("installed but not wired into this script yet" if jax_cfd else "not installed (no row)"),
        f"- Problem: vorticity form on [0, 2 pi)^2, nu = {NU:g}, no drag or force, dt = {DT:g}, {steps:,} steps, "
        f"float32, 2/3 dealiasing; seeded random vorticity starts (peak wavenumber 4, rms velocity 1); batch = "
        f"{BATCH} via `vmap`. physax: `rollout` (final state only, 16 contour points); exponax: `NavierStokesVorticity`, `lax.scan` "
        "of `step_fourier`.",
        f"- Time: median of {repeats} runs after a warm-up (compile excluded); µs per step (per trajectory-step for "
        f"the batch). Whole script: {wall:.0f} s. Spread (max - min) / median: median "
        f"{statistics.median(SPREADS):.0%}, largest {max(SPREADS):.0%}.",
        "- FFT pairs: time per step / time of one rfft2 + irfft2 pair of the same size and batch (floor row). "
        "Ideal: physax 2 pairs per nonlinear evaluation (Basdevant's form: u, v inverse; u^2 - v^2, u v forward), "
        "exponax 2.5 (u, v, w_x, w_y inverse; u.grad w forward); ETDRK-k evaluates k times.",
        "- Ratio: physax / exponax at equal order, size and batch (below 1: physax faster).",
        "",
        "| n | code, scheme | ideal pairs | x1: µs/step | x1: FFT pairs | x1: ratio | "
        f"x{BATCH}: µs/traj-step | x{BATCH}: FFT pairs | x{BATCH}: ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for n in sizes:
        floor = {b: results[n, "FFT pair (rfft2+irfft2)", b] for b in (False, True)}
        rows = [("FFT pair (rfft2+irfft2)", "1", None)]
        for order in (2, 4):
            rows += [(f"physax ETDRK{order}", f"{2 * order}", order), (f"exponax ETDRK{order}", f"{2.5 * order:g}", None)]
        for label, ideal, ratio_order in rows:
            cells = [str(n), label, ideal]
            for b in (False, True):
                t = results[n, label, b]
                cells += [f"{t:.1f}", f"{t / floor[b]:.1f}"]
                cells.append(f"{t / results[n, f'exponax ETDRK{ratio_order}', b]:.2f}" if ratio_order else "")
            out.append("| " + " | ".join(cells) + " |")
    out += [
        "",
        f"Agreement, float64, {CHECK_STEPS} steps, seed-0 start: relative L2 difference of the final vorticity. "
        "The first column sets exponax's `dealiasing_fraction` so that it keeps the same modes as physax "
        "(|m| <= n/3); the second uses exponax's default 2/3 (one mode fewer per axis).",
        "",
        "| n | order | physax vs exponax (same modes) | physax vs exponax (default) |",
        "|---|---|---|---|",
        *check_lines,
        END,
    ]
    return "\n".join(out)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def write_section(section: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n\nMeasured by the scripts in `bench/`.\n"
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
