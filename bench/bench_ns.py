"""Periodic 2D Navier-Stokes: physax on the path users run against exponax and jax-cfd, same process.

- Vorticity form on ``[0, 2 pi)^2``, ``nu = 1e-3``, no drag, no force, n = 128
  and 256, dt = 2e-3, float32, from the same seeded random vorticity
  (``ns-decaying``'s family: peak wavenumber 4, rms velocity 1); one
  trajectory, and 8 with ``vmap``; the final state saved.
- physax: ``solvers.simulation(case)()`` (every call computes the ETDRK
  coefficients from ``nu``, transforms in and out, and saves vorticity and
  velocity) and ``solvers.solve(case)`` (from the case, to host arrays);
  the batch is ``jax.vmap`` of the simulation over its initial vorticity.
- exponax: ``NavierStokesVorticity`` ETDRK2/4 by its user path,
  ``exponax.repeat(stepper, steps)`` (physical-space stepper), and by a
  ``lax.scan`` of ``step_fourier`` (its fastest).
- jax-cfd: ``spectral.equations.NavierStokes2D`` with ``crank_nicolson_rk2``
  / ``crank_nicolson_rk4``, a ``lax.scan`` of the step on the rfft2 state.
- The floor: an rfft2 + irfft2 pair of the same size scanned in one jit.

Ideal transform pairs per evaluation of the convective term: physax 2
(Basdevant's form: u, v inverse; u^2 - v^2, u v forward), exponax and
jax-cfd 2.5 (u, v, w_x, w_y inverse; u.grad w forward); ETDRK-k evaluates it
k times per step, CN-RK2 twice, the low-storage CN-RK4 five times.

Times are medians of warm calls (``jax.block_until_ready``), set-up
included, per step; compile (first call minus the median) beside them.
Equal accuracy: float64 runs of each code from the same start, compared with
a physax ETDRK4 reference at dt/4 (exponax agrees with physax to rounding;
jax-cfd's own time error is given against its dt/4 run, since its 2/3
truncation differs).

Writes the ``bench_ns`` section of BENCHMARKS.md (``--quick``: n = 64 and 128,
20 steps, 2 repeats, prints only unless ``--write``).

    .venv-bench/bin/python bench/bench_ns.py [--quick] [--write | --no-write]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time

import equinox as eqx
import exponax
import jax
import jax.numpy as jnp
import jax_cfd
import numpy as np
from jax_cfd.base import grids as cfd_grids
from jax_cfd.spectral import equations as cfd_equations
from jax_cfd.spectral import time_stepping as cfd_time_stepping

from _markdown import markers, write_section
from _timing import Timing, machine_line, timed, versions

import cases
from phys.initial import initial_fields
from solvers import simulation, solve

NU, DT, BATCH = 1e-3, 2e-3, 8
FINE, CHECK_STEPS = 4, 64
SECTION = "bench_ns"
START, END = markers(SECTION)
CFD_STEPPERS = {2: cfd_time_stepping.crank_nicolson_rk2, 4: cfd_time_stepping.crank_nicolson_rk4}
CFD_EVALUATIONS = {2: 2, 4: 5}
CFD_NAMES = {2: "CN-RK2", 4: "CN-RK4"}


def ns_case(n: int, order: int, steps: int, seed: int = 0, dtype: str = "float32", dt: float = DT):
    return cases.get("ns-decaying").with_updates(
        {
            "grid.n": n, "pde.params.nu": NU, "time": {"t_end": steps * dt, "dt": dt, "save_dt": steps * dt},
            "solver.order": order, "dtype": dtype, "seed": seed,
        }
    )


def starts(n: int, batch: int, dtype: str = "float32") -> jax.Array:
    """``batch`` seeded random vorticity fields ``[batch, 1, n, n]`` (physax's IC family)."""
    return jnp.stack([initial_fields(ns_case(n, 4, 1, seed=s, dtype=dtype)) for s in range(batch)])


def exponax_stepper(n: int, order: int, fraction: float = 2 / 3, dt: float = DT):
    return exponax.stepper.NavierStokesVorticity(
        2, 2 * math.pi, n, dt, diffusivity=NU, drag=0.0, order=order, dealiasing_fraction=fraction
    )


def same_modes(n: int) -> float:
    """exponax keeps |m| <= fraction * n/2 - 1; physax keeps |m| <= n/3: this fraction keeps the same modes."""
    return (n // 3 + 1) / (n / 2)


def cfd_stepper(n: int, order: int, dt: float = DT):
    grid = cfd_grids.Grid((n, n), domain=((0.0, 2 * math.pi), (0.0, 2 * math.pi)))
    return CFD_STEPPERS[order](cfd_equations.NavierStokes2D(NU, grid, drag=0.0, smooth=True), dt)


def scan_runner(step, n: int, steps: int, batched: bool):
    """rfft2, ``steps`` applications of a Fourier-space ``step`` in a ``lax.scan``, irfft2."""
    step = jax.vmap(step) if batched else step

    def run(w):
        w_hat = jax.lax.scan(lambda v, _: (step(v), None), jnp.fft.rfft2(w), None, length=steps)[0]
        return jnp.fft.irfft2(w_hat, s=(n, n))

    return jax.jit(run)


# The floor runs this many FFT pairs per step of the steppers (a pair is ~10x cheaper than a step), and its
# time per pair is its time over all of them.
FLOOR_PAIRS = 10
FLOOR = "FFT pair (rfft2+irfft2)"


def fft_floor(n: int, steps: int):
    def run(w):
        return jax.lax.scan(lambda v, _: (jnp.fft.irfft2(jnp.fft.rfft2(v), s=(n, n)), None), w, None, length=steps)[0]

    return jax.jit(run)


def accuracy(n: int) -> list[tuple]:
    """``(n, label, error vs physax reference, own time error)`` rows, float64, CHECK_STEPS steps of DT."""
    jax.config.update("jax_enable_x64", True)
    try:
        rel = lambda a, b: float(np.linalg.norm(a - b) / np.linalg.norm(b))  # noqa: E731
        t_end = CHECK_STEPS * DT

        def physax(order, dt):
            return np.asarray(simulation(ns_case(n, order, round(t_end / dt), dtype="float64", dt=dt))()["vorticity"][-1])

        reference = physax(4, DT / FINE)
        w0 = np.asarray(initial_fields(ns_case(n, 4, 1, dtype="float64")))

        def scan(step, dt):
            return np.asarray(scan_runner(step, n, round(t_end / dt), False)(w0))[0]

        rows = [(n, f"physax ETDRK{order}", rel(physax(order, DT), reference), None) for order in (2, 4)]
        for order in (2, 4):
            stepper = exponax_stepper(n, order, same_modes(n))
            # exponax's vorticity has the opposite sign to ours (its velocity is -psi_y): run it from -w0.
            ours_sign = scan(lambda v: -stepper.step_fourier(-v), DT)
            rows.append((n, f"exponax ETDRK{order} (physax's modes)", rel(ours_sign, reference), None))
        cfd_fine = np.asarray(scan_runner(cfd_stepper(n, 4, DT / FINE), n, round(t_end / (DT / FINE)), False)(w0[0]))
        for order in (2, 4):
            at_dt = np.asarray(scan_runner(cfd_stepper(n, order), n, CHECK_STEPS, False)(w0[0]))
            rows.append((n, f"jax-cfd {CFD_NAMES[order]}", rel(at_dt, reference), rel(at_dt, cfd_fine)))
        return rows
    finally:
        jax.config.update("jax_enable_x64", False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 64 and 128, 20 steps, 2 repeats (smoke test)")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--write", dest="write", action="store_true", default=None, help="rewrite BENCHMARKS.md")
    parser.add_argument("--no-write", dest="write", action="store_false", help="only print the section")
    args = parser.parse_args()
    sizes = (64, 128) if args.quick else (128, 256)
    steps_of = {n: (20 if args.quick else (200 if n <= 128 else 100)) for n in sizes}
    repeats = args.repeats or (2 if args.quick else 5)
    write = (not args.quick) if args.write is None else args.write
    wall = time.perf_counter()
    results: dict[tuple[int, str, bool], Timing] = {}

    for n in sizes:
        steps = steps_of[n]
        w0 = starts(n, BATCH)
        inputs = {False: w0[0], True: w0}

        def record(label: str, fn, batched: bool) -> None:
            results[n, label, batched] = t = timed(fn, repeats)
            size = BATCH if batched else 1
            calls = steps * (FLOOR_PAIRS if label == FLOOR else 1)
            print(f"  n={n:<4} {label:<42} x{size} {t.median / calls / size * 1e6:10.1f} us/step  compile {t.compile:5.2f} s",
                  flush=True)

        for batched in (False, True):
            floor = fft_floor(n, FLOOR_PAIRS * steps)
            record(FLOOR, lambda: floor(inputs[batched]), batched)
        for order in (2, 4):
            case = ns_case(n, order, steps)
            sim = simulation(case)
            record(f"physax ETDRK{order}, simulation(case)()", lambda: sim()["vorticity"], False)
            sims = jax.vmap(lambda v: eqx.tree_at(lambda s: s.u0, sim, v)()["vorticity"])
            record(f"physax ETDRK{order}, simulation(case)()", lambda: sims(w0), True)
            record(f"physax ETDRK{order}, solve(case)", lambda: solve(case)["vorticity"], False)
            stepper = exponax_stepper(n, order)
            for batched in (False, True):
                repeat = jax.jit(jax.vmap(exponax.repeat(stepper, steps)) if batched else exponax.repeat(stepper, steps))
                record(f"exponax ETDRK{order}, repeat (user path)", lambda: repeat(inputs[batched]), batched)
                fourier = scan_runner(stepper.step_fourier, n, steps, batched)
                record(f"exponax ETDRK{order}, scan of step_fourier", lambda: fourier(inputs[batched]), batched)
                cfd = scan_runner(cfd_stepper(n, order), n, steps, batched)
                record(f"jax-cfd {CFD_NAMES[order]}", lambda: cfd(inputs[batched][..., 0, :, :]), batched)
    print("accuracy check (float64) ...", flush=True)
    rows = [row for n in sizes for row in accuracy(n)]
    section = render(results, rows, sizes, steps_of, repeats, time.perf_counter() - wall)
    print(section)
    if write:
        write_section(SECTION, section)
        print("wrote BENCHMARKS.md")


def render(results, rows, sizes, steps_of, repeats, wall) -> str:
    per_step = {key: t.median / (steps_of[key[0]] * (FLOOR_PAIRS if key[1] == FLOOR else 1)) / (BATCH if key[2] else 1) * 1e6
                for key, t in results.items()}
    spreads = [t.spread for t in results.values()]
    out = [
        START,
        "## Navier-Stokes 2D, periodic, the user path (issue 10)",
        "",
        "Generated by `.venv-bench/bin/python bench/bench_ns.py`; do not edit by hand between the markers.",
        "",
        machine_line(),
        versions(equinox=eqx, exponax=exponax, jax_cfd=jax_cfd),
        f"- Problem: vorticity form on [0, 2 pi)^2, nu = {NU:g}, no drag or force, dt = {DT:g}, float32, 2/3 dealiasing, "
        f"seeded random vorticity (peak wavenumber 4, rms velocity 1); steps per call: "
        f"{', '.join(f'{steps_of[n]} at {n}^2' for n in sizes)}; batch = {BATCH} via `vmap`.",
        f"- Time: median of {repeats} warm calls, `jax.block_until_ready`, set-up included (physax: ETDRK coefficients "
        "from `nu` in every call, by series); µs per (trajectory-)step; compile = first call minus the median, s. "
        f"Whole script {wall:.0f} s. Spread (max - min) / median: median {statistics.median(spreads):.0%}, largest "
        f"{max(spreads):.0%}.",
        "- FFT pairs: time per step / one rfft2 + irfft2 pair of the same size and batch (floor row).",
        "",
        f"| n | code, path | ideal pairs | x1: µs/step | x1: FFT pairs | x1: compile s | x{BATCH}: µs/traj-step | x{BATCH}: FFT pairs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n in sizes:
        floor = {b: per_step[n, FLOOR, b] for b in (False, True)}
        labels = [(FLOOR, 1.0)]
        for order in (2, 4):
            labels += [
                (f"physax ETDRK{order}, simulation(case)()", 2.0 * order),
                (f"physax ETDRK{order}, solve(case)", 2.0 * order),
                (f"exponax ETDRK{order}, repeat (user path)", 2.5 * order + 1),
                (f"exponax ETDRK{order}, scan of step_fourier", 2.5 * order),
                (f"jax-cfd {CFD_NAMES[order]}", 2.5 * CFD_EVALUATIONS[order]),
            ]
        for label, ideal in labels:
            cells = [str(n), label, f"{ideal:g}"]
            for b in (False, True):
                if (n, label, b) not in per_step:
                    cells += ["", ""] + ([""] if not b else [])
                    continue
                t = per_step[n, label, b]
                cells += [f"{t:,.1f}", f"{t / floor[b]:.1f}"]
                if not b:
                    cells.append(f"{results[n, label, b].compile:.1f}")
            out.append("| " + " | ".join(cells) + " |")
    own = {(n, label): e for n, label, _, e in rows}
    error = {(n, label): e for n, label, e, _ in rows}
    out += [
        "",
        "Ratios of `simulation(case)()` per (trajectory-)step, set-up included, at equal order (below 1: physax faster). "
        "exponax runs the same scheme and agrees with physax to rounding (accuracy table): its ratios are at equal "
        "accuracy; against its user path (`repeat`) and, in parentheses, its fastest (`scan of step_fourier`). For "
        "jax-cfd, `equal error` multiplies the ratio by (e_physax / e_jax-cfd)^(1/order), the codes' own float64 time "
        "errors at dt: the cost per unit of simulated time if physax shrank its dt until its error matched jax-cfd's.",
        "",
        f"| n | scheme | x1: / exponax | x1: / jax-cfd | x1: / jax-cfd, equal error | x{BATCH}: / exponax | x{BATCH}: / jax-cfd |",
        "|---|---|---|---|---|---|---|",
    ]
    for n in sizes:
        for order in (2, 4):
            ours = {b: per_step[n, f"physax ETDRK{order}, simulation(case)()", b] for b in (False, True)}
            repeat = {b: per_step[n, f"exponax ETDRK{order}, repeat (user path)", b] for b in (False, True)}
            fourier = {b: per_step[n, f"exponax ETDRK{order}, scan of step_fourier", b] for b in (False, True)}
            cfd = {b: per_step[n, f"jax-cfd {CFD_NAMES[order]}", b] for b in (False, True)}
            factor = (error[n, f"physax ETDRK{order}"] / own[n, f"jax-cfd {CFD_NAMES[order]}"]) ** (1 / order)
            out.append(
                f"| {n} | ETDRK{order} | **{ours[False] / repeat[False]:.2f}** ({ours[False] / fourier[False]:.2f}) | "
                f"{ours[False] / cfd[False]:.2f} | {ours[False] / cfd[False] * factor:.2f} | "
                f"**{ours[True] / repeat[True]:.2f}** ({ours[True] / fourier[True]:.2f}) | {ours[True] / cfd[True]:.2f} |"
            )
    out += [
        "",
        f"Accuracy, float64, {CHECK_STEPS} steps of dt = {DT:g}, seed-0 start: relative L2 difference of the final "
        f"vorticity from physax ETDRK4 at dt/{FINE}; jax-cfd's own time error against its CN-RK4 at dt/{FINE}.",
        "",
        "| n | code, scheme | vs physax reference | vs own dt/4 |",
        "|---|---|---|---|",
    ]
    for n, label, e, o in rows:
        out.append(f"| {n} | {label} | {e:.2e} | {'' if o is None else f'{o:.2e}'} |")
    out.append(END)
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
