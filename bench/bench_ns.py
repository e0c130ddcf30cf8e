"""Benchmark physax's periodic 2D Navier-Stokes solver against exponax and jax-cfd (issue 5).

All three codes run in the same process on the same machine:

- NS in vorticity form on ``[0, 2 pi)^2``, ``nu = 1e-3``, no drag, no force,
  n = 128 and 256, dt = 2e-3, float32, from the same seeded random vorticity
  (``random-vorticity``, peak wavenumber 4, rms velocity 1);
- one trajectory, and 8 trajectories with ``vmap``;
- physax ETDRK2/4 (``rollout``, only the final state saved);
- exponax's ``NavierStokesVorticity`` ETDRK2/4 (a ``lax.scan`` of
  ``step_fourier``);
- jax-cfd's pseudo-spectral ``spectral.equations.NavierStokes2D`` with its
  IMEX steppers ``crank_nicolson_rk2`` and ``crank_nicolson_rk4`` (a
  ``lax.scan`` of the step function on the rfft2 state);
- the floor: an rfft2 + irfft2 pair of the same size scanned in one jit.

Times are medians of ``--repeats`` runs after a warm-up (compile excluded),
with ``jax.block_until_ready``, per step (per trajectory-step for the batch)
and in FFT-pair times of the same run. Ideal pair counts per evaluation of
the convective term: physax 2 (Basdevant's form: 2 inverse + 2 forward
FFTs), exponax and jax-cfd 2.5 (advective form: 4 inverse + 1 forward).
ETDRK-k evaluates it k times per step, jax-cfd's CN-RK2 twice and its
low-storage CN-RK4 (Carpenter-Kennedy) five times.

Fixed cost: physax computes its ETDRK coefficients (contour integrals) inside
each call so that gradients reach ``nu``; exponax and jax-cfd compute theirs
once, outside the timed function. physax's per-step figure is therefore
``(T(steps) - T(1)) / (steps - 1)`` (set-up excluded) and its set-up,
``T(1)`` minus one step, is reported separately, for the 16 contour points
used here (exponax's default) and for physax's case default of 64. The
other codes' only fixed cost is one rfft2/irfft2 pair per call (below 0.1%
of a run), so their figure is ``T(steps) / steps``.

Equal accuracy: the schemes differ (ETDRK vs Crank-Nicolson/RK IMEX), so a
float64 run of each from the same start (seed 0, ``--check-steps`` steps of
the benchmark's dt) is compared with a physax ETDRK4 reference at dt/4, and
each code is also run at 4 dt for the margin. jax-cfd's 2/3 filter is a different spatial
truncation (it keeps wavenumbers -n/3 .. n/3 - 1 along x, physax keeps |m| <=
n/3 on both axes), so its difference from the physax reference has a
spatial floor that dt does not control: the table also gives jax-cfd's time
error against its own dt/4 run, and the difference between the two dt/4
runs. exponax's vorticity has the opposite sign to ours (its velocity is
``u = -psi_y`` for our ``psi``), so it is run from ``-w0``; its
``dealiasing_fraction`` is set so that it keeps the same modes as physax,
and its default (one mode fewer per axis) is shown too. jax-cfd uses our
sign and axis order.

The results replace the block between the ``bench_ns`` markers of
BENCHMARKS.md. ``--quick`` (n = 64 and 128, 10 steps, 2 repeats) is a smoke
test that leaves BENCHMARKS.md alone unless ``--write`` is given.

    .venv/bin/python bench/bench_ns.py [--quick] [--write | --no-write]
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import equinox as eqx
import exponax
import jax
import jax.numpy as jnp
import jax_cfd
import jaxlib
import numpy as np
from jax_cfd.base import grids as cfd_grids
from jax_cfd.spectral import equations as cfd_equations
from jax_cfd.spectral import time_stepping as cfd_time_stepping

from _markdown import markers, write_section

import cases
from phys.compile import Params, compile_case
from solvers.rollout import rollout

NU, DT, BATCH = 1e-3, 2e-3, 8
FINE = 4  # reference dt = DT / FINE
COARSE = 4  # margin column: dt = COARSE * DT
CONTOUR_POINTS, DEFAULT_CONTOUR_POINTS = 16, 64
ROOT = Path(__file__).resolve().parent.parent
SECTION = "bench_ns"
START, END = markers(SECTION)
SPREADS: list[tuple[float, str]] = []  # (spread, configuration)
FLOOR = "FFT pair (rfft2+irfft2)"
CFD_STEPPERS = {2: cfd_time_stepping.crank_nicolson_rk2, 4: cfd_time_stepping.crank_nicolson_rk4}
CFD_EVALUATIONS = {2: 2, 4: 5}  # explicit-term evaluations per step
CFD_NAMES = {2: "CN-RK2", 4: "CN-RK4"}


# --------------------------------------------------------------------------- setup
def physax_case(
    n: int,
    order: int,
    steps: int,
    seed: int = 0,
    dtype: str = "float32",
    dt: float = DT,
    contour_points: int = CONTOUR_POINTS,
):
    case = cases.get("ns-decaying").with_updates(
        {
            "grid.n": n,
            "pde.params.nu": NU,
            "time": {"t_end": steps * dt, "dt": dt, "save_dt": steps * dt},
            "solver.order": order,
            # exponax's default contour (16 points); physax's default (64) costs
            # 4x more in the per-call coefficient set-up, for no gain in float32.
            "solver.contour_points": contour_points,
            "dtype": dtype,
            "seed": seed,
        }
    )
    return compile_case(case)


def starts(n: int, batch: int, dtype: str = "float32") -> jax.Array:
    """``batch`` seeded random vorticity fields ``[batch, 1, n, n]`` from physax's IC family."""
    return jnp.stack([physax_case(n, 4, 1, seed=s, dtype=dtype)[1].u0 for s in range(batch)])


def exponax_stepper(n: int, order: int, dealiasing_fraction: float = 2 / 3, dt: float = DT):
    return exponax.stepper.NavierStokesVorticity(
        2, 2 * math.pi, n, dt, diffusivity=NU, drag=0.0, order=order, dealiasing_fraction=dealiasing_fraction
    )


def cfd_stepper(n: int, order: int, dt: float = DT):
    """jax-cfd's spectral NS step on the rfft2 vorticity; built under the current x64 setting."""
    grid = cfd_grids.Grid((n, n), domain=((0.0, 2 * math.pi), (0.0, 2 * math.pi)))
    equation = cfd_equations.NavierStokes2D(NU, grid, drag=0.0, smooth=True)
    return CFD_STEPPERS[order](equation, dt)


def matching_fraction(n: int) -> float:
    """exponax keeps |m| <= fraction * n/2 - 1; physax keeps |m| <= n/3: this fraction keeps the same modes."""
    return (n // 3 + 1) / (n / 2)


def median_time(fn, arg, repeats: int, label: str = "") -> float:
    jax.block_until_ready(fn(arg))  # compile + warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(arg))
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    SPREADS.append(((max(times) - min(times)) / median, label))
    return median


# --------------------------------------------------------------------------- runners
def physax_runner(static, batched: bool):
    run = lambda p: rollout(static, p)[0][-1]  # noqa: E731
    if batched:
        run = jax.vmap(run, in_axes=(Params(pde=None, u0=0),))
    return jax.jit(run)


def scan_runner(step, n: int, steps: int, batched: bool):
    """rfft2, ``steps`` applications of a Fourier-space ``step`` in a ``lax.scan``, irfft2."""
    step = jax.vmap(step) if batched else step

    def run(w):
        w_hat = jnp.fft.rfft2(w)
        w_hat = jax.lax.scan(lambda v, _: (step(v), None), w_hat, None, length=steps)[0]
        return jnp.fft.irfft2(w_hat, s=(n, n))

    return jax.jit(run)


def exponax_runner(stepper, n: int, steps: int, batched: bool):
    return scan_runner(stepper.step_fourier, n, steps, batched)


def cfd_runner(n: int, order: int, steps: int, batched: bool):
    # jax-cfd's equation transforms over all axes of its state: give it [n, n], without our channel axis.
    run = scan_runner(cfd_stepper(n, order), n, steps, batched)
    return jax.jit(lambda w: run(w[..., 0, :, :]))


def fft_floor_runner(n: int, steps: int):
    def run(w):
        pair = lambda v, _: (jnp.fft.irfft2(jnp.fft.rfft2(v), s=(n, n)), None)  # noqa: E731
        return jax.lax.scan(pair, w, None, length=steps)[0]

    return jax.jit(run)


# --------------------------------------------------------------------------- check
def accuracy(n: int, steps: int) -> list[tuple]:
    """Rows ``(n, label, err_dt, err_coarse, own_dt, own_coarse)`` of the float64 accuracy check.

    ``err_*``: relative L2 difference of the final vorticity from physax ETDRK4
    at dt/FINE after ``steps * DT``, at dt and COARSE * dt; ``own_*``: from the
    same code's own run at dt/FINE (None where that is the physax reference).
    """
    jax.config.update("jax_enable_x64", True)
    try:
        rel = lambda a, b: float(np.linalg.norm(a - b) / np.linalg.norm(b))  # noqa: E731
        t_end = steps * DT

        def physax(order, dt):
            static, params = physax_case(n, order, round(t_end / dt), dtype="float64", dt=dt)
            return np.asarray(jax.jit(lambda p: rollout(static, p)[0][-1])(params))[0], params.u0[0]

        reference, w0 = physax(4, DT / FINE)
        w0 = np.asarray(w0)

        def scan(step, dt):
            return np.asarray(scan_runner(step, n, round(t_end / dt), False)(w0))

        rows = []
        for order in (2, 4):
            rows.append((n, f"physax ETDRK{order}", rel(physax(order, DT)[0], reference),
                         rel(physax(order, COARSE * DT)[0], reference), None, None))
        for order in (2, 4):
            def ex(dt, frac):
                # exponax: opposite vorticity sign (module docstring): its state is -v; one channel axis.
                stepper = exponax_stepper(n, order, frac, dt)
                return scan(lambda v: -stepper.step_fourier(-v[None])[0], dt)

            frac = matching_fraction(n)
            rows.append((n, f"exponax ETDRK{order} (physax's modes)", rel(ex(DT, frac), reference),
                         rel(ex(COARSE * DT, frac), reference), None, None))
            rows.append((n, f"exponax ETDRK{order} (default 2/3)", rel(ex(DT, 2 / 3), reference),
                         rel(ex(COARSE * DT, 2 / 3), reference), None, None))
        cfd_fine = scan(cfd_stepper(n, 4, DT / FINE), DT / FINE)
        for order in (2, 4):
            at_dt = scan(cfd_stepper(n, order, DT), DT)
            at_coarse = scan(cfd_stepper(n, order, COARSE * DT), COARSE * DT)
            rows.append((n, f"jax-cfd {CFD_NAMES[order]}", rel(at_dt, reference), rel(at_coarse, reference),
                         rel(at_dt, cfd_fine), rel(at_coarse, cfd_fine)))
        rows.append((n, f"jax-cfd CN-RK4 at dt/{FINE} (spatial floor: jax-cfd's vs physax's truncation)",
                     rel(cfd_fine, reference), None, None, None))
        return rows
    finally:
        jax.config.update("jax_enable_x64", False)


# --------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 64 and 128, 10 steps, 2 repeats (smoke test)")
    parser.add_argument("--steps", type=int, default=None,
                        help="steps per timed run at n = 128 (default 200; halved at n = 256)")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per configuration (default 5)")
    parser.add_argument("--check-steps", type=int, default=None, help="steps of the accuracy check (default 64)")
    parser.add_argument("--write", dest="write", action="store_true", default=None, help="rewrite BENCHMARKS.md")
    parser.add_argument("--no-write", dest="write", action="store_false", help="only print the section")
    args = parser.parse_args()
    sizes = (64, 128) if args.quick else (128, 256)
    base_steps = args.steps or (10 if args.quick else 200)
    # Half the steps at 256^2 (each costs ~4x): the run stays within a few minutes.
    steps_of = {n: base_steps if n <= 128 else max(8, base_steps // 2) for n in sizes}
    repeats = args.repeats or (2 if args.quick else 5)
    check_steps = args.check_steps or (8 if args.quick else 64)
    write = (not args.quick) if args.write is None else args.write
    wall0 = time.perf_counter()

    results: dict[tuple[int, str, bool], float] = {}  # (n, label, batched) -> us per (trajectory-)step
    setup: dict[tuple[int, int, int], float] = {}  # (n, order, contour points) -> ms per call
    for n in sizes:
        steps = steps_of[n]
        w0 = starts(n, BATCH)
        inputs = {False: w0[0], True: w0}

        def record(label: str, seconds: float, batched: bool) -> None:
            results[n, label, batched] = seconds / (BATCH if batched else 1) * 1e6
            print(f"  n={n:<4} {label:<28} {'x8' if batched else 'x1'} {results[n, label, batched]:10.2f} us/step",
                  flush=True)

        # The floor runs 10x the steps: a pair is ~10x cheaper than a step, and short runs are noisy.
        for batched in (False, True):
            label = f"{n} {FLOOR} {'x8' if batched else 'x1'}"
            record(FLOOR, median_time(fft_floor_runner(n, 10 * steps), inputs[batched], repeats, label) / (10 * steps),
                   batched)
        for order in (2, 4):
            static, params = physax_case(n, order, steps)
            static1, params1 = physax_case(n, order, 1)
            for batched in (False, True):
                # physax: set-up excluded by differencing a run of `steps` and a run of 1 step.
                tag = f"{n} physax ETDRK{order} {'x8' if batched else 'x1'}"
                whole = median_time(physax_runner(static, batched), Params(pde=params.pde, u0=inputs[batched]), repeats,
                                    tag)
                one = median_time(physax_runner(static1, batched), Params(pde=params1.pde, u0=inputs[batched]), repeats,
                                  tag + " 1 step")
                per_step = (whole - one) / (steps - 1)
                record(f"physax ETDRK{order}", per_step, batched)
                if not batched:
                    setup[n, order, CONTOUR_POINTS] = (one - per_step) * 1e3
                record(f"exponax ETDRK{order}",
                       median_time(exponax_runner(exponax_stepper(n, order), n, steps, batched), inputs[batched], repeats,
                                   f"{n} exponax ETDRK{order} {'x8' if batched else 'x1'}") / steps, batched)
                record(f"jax-cfd {CFD_NAMES[order]}",
                       median_time(cfd_runner(n, order, steps, batched), inputs[batched], repeats,
                                   f"{n} jax-cfd {CFD_NAMES[order]} {'x8' if batched else 'x1'}") / steps, batched)
            # physax's case default contour: set-up only (one step, single trajectory).
            static64, params64 = physax_case(n, order, 1, contour_points=DEFAULT_CONTOUR_POINTS)
            one64 = median_time(physax_runner(static64, False), Params(pde=params64.pde, u0=inputs[False]), repeats,
                                f"{n} physax ETDRK{order} x1 1 step, {DEFAULT_CONTOUR_POINTS} contour points")
            setup[n, order, DEFAULT_CONTOUR_POINTS] = one64 * 1e3 - results[n, f"physax ETDRK{order}", False] * 1e-3
        print(f"  n={n}: set-up (ms) {[(k, round(v, 1)) for k, v in setup.items() if k[0] == n]}", flush=True)

    print("accuracy check (float64) ...", flush=True)
    t_check = time.perf_counter()
    check_rows = [row for n in sizes for row in accuracy(n, check_steps)]
    t_check = time.perf_counter() - t_check
    section = render(results, setup, sizes, check_rows, steps_of, repeats, check_steps,
                     time.perf_counter() - wall0, t_check)
    print(section)
    if write:
        write_section(SECTION, section)
        print(f"wrote {ROOT / 'BENCHMARKS.md'}")


def render(results, setup, sizes, check_rows, steps_of, repeats, check_steps, wall, t_check) -> str:
    steps_text = ", ".join(f"{steps_of[n]:,} at {n}^2" for n in sizes)
    out = [
        START,
        "## Navier-Stokes 2D, periodic (issue 5)",
        "",
        "Generated by `.venv/bin/python bench/bench_ns.py`; do not edit by hand between the markers.",
        "",
        f"- Date: {datetime.date.today().isoformat()}; device: `{jax.devices()}` (no GPU lent); CPU: {_cpu_model()}, "
        f"`os.cpu_count()` = {os.cpu_count()}, shared; load average {os.getloadavg()[0]:.1f} at the end",
        f"- Versions: python {platform.python_version()}, jax {jax.__version__}, jaxlib {jaxlib.__version__}, "
        f"equinox {eqx.__version__}, exponax {exponax.__version__}, jax-cfd {jax_cfd.__version__}",
        f"- Problem: vorticity form on [0, 2 pi)^2, nu = {NU:g}, no drag or force, dt = {DT:g}, float32, 2/3 "
        f"dealiasing; seeded random vorticity starts (peak wavenumber 4, rms velocity 1); batch = {BATCH} via `vmap`. "
        f"physax: `rollout` (final state only, {CONTOUR_POINTS} contour points); exponax: `NavierStokesVorticity`, "
        "`lax.scan` of `step_fourier`; jax-cfd: `spectral.equations.NavierStokes2D` with "
        "`spectral.time_stepping.crank_nicolson_rk2` / `crank_nicolson_rk4`, `lax.scan` of the step on the rfft2 state.",
        f"- Time: median of {repeats} runs after a warm-up (compile excluded), `jax.block_until_ready`; steps per "
        f"timed run: {steps_text} (10x that for the FFT-pair floor). µs per step (per trajectory-step for the batch). physax: set-up excluded, "
        "`(T(steps) - T(1)) / (steps - 1)`; set-up in its own table below. Whole script: "
        f"{wall:.0f} s (accuracy check {t_check:.0f} s). Spread (max - min) / median over the runs of one "
        f"configuration: median {statistics.median(s for s, _ in SPREADS):.0%}, largest {max(SPREADS)[0]:.0%} "
        f"({max(SPREADS)[1]}).",
        "- FFT pairs: time per step / time of one rfft2 + irfft2 pair of the same size and batch (floor row). "
        "Ideal: physax 2 pairs per nonlinear evaluation (Basdevant's form: u, v inverse; u^2 - v^2, u v forward), "
        "exponax and jax-cfd 2.5 (u, v, w_x, w_y inverse; u.grad w forward); ETDRK-k evaluates k times, "
        "CN-RK2 2 times, CN-RK4 (5-stage low-storage) 5 times.",
        "",
        f"| n | code, scheme | ideal pairs | x1: µs/step | x1: FFT pairs | x{BATCH}: µs/traj-step | x{BATCH}: FFT pairs |",
        "|---|---|---|---|---|---|---|",
    ]
    ideal = {"physax": 2.0, "exponax": 2.5}
    for n in sizes:
        floor = {b: results[n, FLOOR, b] for b in (False, True)}
        rows = [(FLOOR, 1.0)]
        for order in (2, 4):
            rows += [(f"physax ETDRK{order}", ideal["physax"] * order), (f"exponax ETDRK{order}", ideal["exponax"] * order),
                     (f"jax-cfd {CFD_NAMES[order]}", 2.5 * CFD_EVALUATIONS[order])]
        for label, pairs in rows:
            cells = [str(n), label, f"{pairs:g}"]
            for b in (False, True):
                t = results[n, label, b]
                cells += [f"{t:,.1f}", f"{t / floor[b]:.1f}"]
            out.append("| " + " | ".join(cells) + " |")
    out += [
        "",
        "Ratio physax / peer per (trajectory-)step, set-up excluded, at equal nominal order (below 1: physax faster). "
        "ETDRK2 is paired with jax-cfd's CN-RK2 and ETDRK4 with CN-RK4. exponax runs the same scheme and agrees "
        "with physax to rounding (accuracy table), so its ratio is at equal accuracy. For jax-cfd, `equal error` "
        "multiplies the ratio by (e_physax / e_jax-cfd)^(1/order), the two codes' own float64 time errors at dt "
        "(accuracy table, same n): the cost per unit of simulated time if physax shrank its dt until its "
        "time error matched jax-cfd's (below 1 throughout the table would mean faster at equal accuracy).",
        "",
        f"| n | physax scheme | x1: / exponax | x1: / jax-cfd | x1: / jax-cfd, equal error | x{BATCH}: / exponax | "
        f"x{BATCH}: / jax-cfd | x{BATCH}: / jax-cfd, equal error |",
        "|---|---|---|---|---|---|---|---|",
    ]
    errors = {(n, label): (e1, own1) for n, label, e1, _, own1, _ in check_rows}
    for n in sizes:
        for order in (2, 4):
            ours_error = errors[n, f"physax ETDRK{order}"][0]
            theirs_error = errors[n, f"jax-cfd {CFD_NAMES[order]}"][1]
            factor = (ours_error / theirs_error) ** (1 / order)
            cells = [str(n), f"ETDRK{order}"]
            for b in (False, True):
                ours = results[n, f"physax ETDRK{order}", b]
                versus_cfd = ours / results[n, f"jax-cfd {CFD_NAMES[order]}", b]
                cells += [f"{ours / results[n, f'exponax ETDRK{order}', b]:.2f}", f"{versus_cfd:.2f}",
                          f"{versus_cfd * factor:.2f}"]
            out.append("| " + " | ".join(cells) + " |")
    out += [
        "",
        "physax's fixed cost per call (ETDRK coefficients by contour integrals, computed inside the call so that "
        "gradients reach `nu`; plus the transforms in and out), ms, single trajectory (the batch shares it), and "
        "the number of steps it equals:",
        "",
        f"| n | scheme | {CONTOUR_POINTS} contour points (benchmarked) | {DEFAULT_CONTOUR_POINTS} contour points "
        "(case default) | in steps (16 / 64) |",
        "|---|---|---|---|---|",
    ]
    for n in sizes:
        for order in (2, 4):
            a, b = setup[n, order, CONTOUR_POINTS], setup[n, order, DEFAULT_CONTOUR_POINTS]
            step_ms = results[n, f"physax ETDRK{order}", False] * 1e-3
            out.append(f"| {n} | ETDRK{order} | {a:.1f} | {b:.1f} | {a / step_ms:.0f} / {b / step_ms:.0f} |")
    out += [
        "",
        f"Accuracy, float64, {check_steps} steps of dt = {DT:g} (t = {check_steps * DT:g}), seed-0 start: relative L2 "
        f"difference of the final vorticity from physax ETDRK4 at dt/{FINE}. jax-cfd's own time error is against "
        f"its CN-RK4 at dt/{FINE} (empty where it is the physax reference); the last row of each size is the difference between the two dt/{FINE} runs, "
        "i.e. the two codes' different 2/3 truncations (jax-cfd drops wavenumber +n/3 along x), which dt does "
        "not change.",
        "",
        f"| n | code, scheme | vs physax ref, dt | vs physax ref, {COARSE} dt | vs own dt/{FINE}, dt | "
        f"vs own dt/{FINE}, {COARSE} dt |",
        "|---|---|---|---|---|---|",
    ]
    fmt = lambda x: "" if x is None else f"{x:.2e}"  # noqa: E731
    for n, label, *errors in check_rows:
        out.append(f"| {n} | {label} | " + " | ".join(fmt(e) for e in errors) + " |")
    out.append(END)
    return "\n".join(out)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"




if __name__ == "__main__":
    sys.exit(main())
