"""Kuramoto-Sivashinsky: physax on the path users run against exponax, same process, same machine.

- KS ``u_t + u u_x + u_xx + u_xxxx = 0``, n = 256, length 100, dt = 0.05,
  10,000 steps, a snapshot every 100 steps, float32, the same smooth
  sum-of-sines starts for both codes; one trajectory, and 64 with ``vmap``.
- physax: ``solvers.simulation(case)()`` (the differentiable object; every
  call computes its ETDRK coefficients, transforms in and out and saves 101
  snapshots) and ``solvers.solve(case)`` (from the case: builds the scheme,
  evaluates the initial condition, copies to the host); the batch is
  ``jax.vmap`` of the simulation over its initial state (docs/python.md).
- exponax: its user path, ``exponax.rollout(exponax.repeat(stepper, 100),
  100, include_init=True)`` (its stepper works in physical space, one extra
  rfft/irfft pair per step), and its fastest path, a ``lax.scan`` of
  ``step_fourier`` that saves only the final state.
- The floor: an rfft + irfft pair of size 256 scanned 10,000 times in one jit.

Each figure is the median of ``--repeats`` warm calls (``jax.block_until_ready``),
set-up included, per step (per trajectory-step for the batch), and in FFT-pair
times of the same run; the compile time (first call minus the warm median) is
reported beside it. A float64 check compares the codes' final states after
200 steps: equal accuracy.

Writes the ``bench_ks`` section of BENCHMARKS.md (``--quick``: 1,000 steps,
2 repeats, prints only unless ``--write``).

    .venv-bench/bin/python bench/bench_ks.py [--quick] [--write | --no-write]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import equinox as eqx
import exponax
import jax
import jax.numpy as jnp
import numpy as np

from _markdown import markers, write_section
from _timing import Timing, machine_line, timed, versions

import cases
import solvers
from solvers import simulation, solve

N, LENGTH, DT, BATCH, SAVE_EVERY = 256, 100.0, 0.05, 64, 100
CHECK_STEPS = 200
SECTION = "bench_ks"
START, END = markers(SECTION)


def starts(batch: int) -> np.ndarray:
    """``batch`` smooth mean-zero starts ``[batch, 1, N]``: sums of 8 sines, modes 1..8 (float64)."""
    rng = np.random.default_rng(2)
    x = LENGTH * np.arange(N) / N
    m = np.arange(1, 9)[None, :, None]
    amplitude = rng.normal(size=(batch, 8, 1)) / 4
    phase = rng.uniform(0, 2 * np.pi, size=(batch, 8, 1))
    return np.sum(amplitude * np.sin(2 * np.pi * m * x / LENGTH + phase), axis=1)[:, None, :]


def ks_case(order: int, steps: int, u0: np.ndarray, dtype: str = "float32", save_every: int = SAVE_EVERY):
    return cases.get("ks").with_updates(
        {
            "grid.n": N, "domain.length": LENGTH, "time.dt": DT, "time.t_end": steps * DT,
            "time.save_dt": save_every * DT, "solver.order": order, "ic": {"kind": "array", "values": u0.tolist()},
            "dtype": dtype,
        }
    )


def exponax_stepper(order: int, dealiasing_fraction: float = 2 / 3):
    return exponax.stepper.KuramotoSivashinskyConservative(
        num_spatial_dims=1, domain_extent=LENGTH, num_points=N, dt=DT, convection_scale=1.0, second_order_scale=1.0,
        fourth_order_scale=1.0, dealiasing_fraction=dealiasing_fraction, order=order,
    )


def exponax_user(stepper, steps: int, batched: bool):
    """exponax's documented path: a rollout of the physical-space stepper, a snapshot every SAVE_EVERY steps."""
    block = exponax.repeat(stepper, SAVE_EVERY)
    run = exponax.rollout(block, steps // SAVE_EVERY, include_init=True)
    return jax.jit(jax.vmap(run) if batched else run)


def exponax_fourier(stepper, steps: int, batched: bool):
    step = jax.vmap(stepper.step_fourier) if batched else stepper.step_fourier

    def run(u):
        u_hat = jax.lax.scan(lambda v, _: (step(v), None), jnp.fft.rfft(u, axis=-1), None, length=steps)[0]
        return jnp.fft.irfft(u_hat, n=N, axis=-1)

    return jax.jit(run)


def fft_floor(steps: int):
    def run(u):
        return jax.lax.scan(lambda v, _: (jnp.fft.irfft(jnp.fft.rfft(v, axis=-1), n=N, axis=-1), None), u, None, length=steps)[0]

    return jax.jit(run)


def agreement() -> list[str]:
    """Relative L2 differences after CHECK_STEPS steps in float64 (physax vs exponax, equal order)."""
    jax.config.update("jax_enable_x64", True)
    try:
        u0 = starts(1)[0]
        rel = lambda a, b: float(np.linalg.norm(a - b) / np.linalg.norm(b))  # noqa: E731
        lines, finals = [], {}
        for order in (2, 4):
            ours = np.asarray(simulation(ks_case(order, CHECK_STEPS, u0, "float64", CHECK_STEPS))()["u"][-1])
            u0_64 = jnp.asarray(u0, jnp.float64)
            theirs = np.asarray(exponax.repeat(exponax_stepper(order), CHECK_STEPS)(u0_64))[0]
            same_modes = np.asarray(exponax.repeat(exponax_stepper(order, 86 / 128), CHECK_STEPS)(u0_64))[0]
            finals[order] = ours
            lines.append(f"| ETDRK{order} | {rel(ours, theirs):.2e} | {rel(ours, same_modes):.2e} | {rel(same_modes, theirs):.2e} |")
        lines.append(f"| physax ETDRK2 vs physax ETDRK4 (time error, for scale) | {rel(finals[2], finals[4]):.2e} | | |")
        return lines
    finally:
        jax.config.update("jax_enable_x64", False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 steps and 2 repeats (smoke test)")
    parser.add_argument("--write", dest="write", action="store_true", default=None, help="rewrite BENCHMARKS.md")
    parser.add_argument("--no-write", dest="write", action="store_false", help="only print the section")
    args = parser.parse_args()
    steps, repeats = (1_000, 2) if args.quick else (10_000, 5)
    write = (not args.quick) if args.write is None else args.write
    wall = time.perf_counter()
    u0 = starts(BATCH)
    batch32 = jnp.asarray(u0, jnp.float32)
    inputs = {False: batch32[0], True: batch32}
    results: dict[tuple[str, bool], Timing] = {}

    def record(label: str, fn, batched: bool) -> None:
        results[label, batched] = t = timed(fn, repeats)
        size = BATCH if batched else 1
        print(f"  {label:<46} x{size:<3} {t.median / steps / size * 1e6:9.3f} us/step   compile {t.compile:6.2f} s", flush=True)

    for batched in (False, True):
        floor = fft_floor(steps)
        record("FFT pair (rfft+irfft)", lambda: floor(inputs[batched]), batched)
    for order in (2, 4):
        case = ks_case(order, steps, u0[0])
        sim = simulation(case)
        record(f"physax ETDRK{order}, simulation(case)()", lambda: sim()["u"], False)
        sims = jax.vmap(lambda v: eqx.tree_at(lambda s: s.u0, sim, v)()["u"])
        record(f"physax ETDRK{order}, simulation(case)()", lambda: sims(batch32), True)
        record(f"physax ETDRK{order}, solve(case)", lambda: solve(case)["u"], False)
        stepper = exponax_stepper(order)
        for batched in (False, True):
            user = exponax_user(stepper, steps, batched)
            record(f"exponax ETDRK{order}, rollout (user path)", lambda: user(inputs[batched]), batched)
            fourier = exponax_fourier(stepper, steps, batched)
            record(f"exponax ETDRK{order}, scan of step_fourier", lambda: fourier(inputs[batched]), batched)
    print("agreement check (float64) ...", flush=True)
    section = render(results, agreement(), steps, repeats, time.perf_counter() - wall)
    print(section)
    if write:
        write_section(SECTION, section)
        print("wrote BENCHMARKS.md")


def render(results: dict[tuple[str, bool], Timing], check_lines: list[str], steps: int, repeats: int, wall: float) -> str:
    per_step = {key: t.median / steps / (BATCH if key[1] else 1) * 1e6 for key, t in results.items()}
    floor = {b: per_step["FFT pair (rfft+irfft)", b] for b in (False, True)}
    spreads = [t.spread for t in results.values()]
    out = [
        START,
        "## Kuramoto-Sivashinsky, the user path (issue 10)",
        "",
        "Generated by `.venv-bench/bin/python bench/bench_ks.py`; do not edit by hand between the markers.",
        "",
        machine_line(),
        versions(equinox=eqx, exponax=exponax),
        f"- Problem: `u_t + u u_x + u_xx + u_xxxx = 0` (conservative convection, 2/3 dealiasing), n = {N}, length "
        f"{LENGTH:g}, dt = {DT}, {steps:,} steps, a snapshot every {SAVE_EVERY} steps (exponax's scan: final state "
        f"only), float32; the same sum-of-sines starts (modes 1-8) for both codes; batch = {BATCH} via `vmap`.",
        f"- Time: median of {repeats} warm calls, `jax.block_until_ready`, set-up included (physax computes its ETDRK "
        "coefficients inside every call, so that gradients reach the PDE's parameters), µs per step (per "
        f"trajectory-step for the batch); compile = first call minus the median, s. Whole script {wall:.0f} s. "
        f"Spread (max - min) / median over the calls of one configuration: median {statistics.median(spreads):.0%}, "
        f"largest {max(spreads):.0%}.",
        "- FFT pairs: time per step / one rfft+irfft pair of size 256 in the same run and batch (floor row). Ideal: "
        "ETDRK-k does k nonlinear evaluations of one pair each; exponax's physical-space stepper adds one pair per step.",
        "- Ratio: physax / exponax at equal order and batch: against exponax's rollout (its user path), and in "
        "parentheses against its scan of `step_fourier` (its fastest path, final state only).",
        "",
        f"| code, path | ideal pairs | x1: µs/step | x1: FFT pairs | x1: ratio | x1: compile s | x{BATCH}: µs/traj-step | "
        f"x{BATCH}: FFT pairs | x{BATCH}: ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def row(label: str, ideal: str, order: int | None) -> str:
        cells = [label, ideal]
        for b in (False, True):
            if (label, b) not in per_step:
                cells += ["", "", ""] + ([""] if not b else [])
                continue
            t = per_step[label, b]
            cells += [f"{t:.3f}" if b else f"{t:.2f}", f"{t / floor[b]:.1f}"]
            if order is None:
                cells.append("")
            else:
                user = per_step[f"exponax ETDRK{order}, rollout (user path)", b]
                fourier = per_step[f"exponax ETDRK{order}, scan of step_fourier", b]
                cells.append(f"**{t / user:.2f}** ({t / fourier:.2f})")
            if not b:
                cells.append(f"{results[label, b].compile:.1f}")
        return "| " + " | ".join(cells) + " |"

    out.append(row("FFT pair (rfft+irfft)", "1", None))
    for order in (2, 4):
        out.append(row(f"physax ETDRK{order}, simulation(case)()", str(order), order))
        out.append(row(f"physax ETDRK{order}, solve(case)", str(order), order))
        out.append(row(f"exponax ETDRK{order}, rollout (user path)", str(order + 1), None))
        out.append(row(f"exponax ETDRK{order}, scan of step_fourier", str(order), None))
    out += [
        "",
        f"Agreement, float64, {CHECK_STEPS} steps (t = {CHECK_STEPS * DT:g}), one start: relative L2 difference of the "
        "final states. At n = 256 exponax's 2/3 rule keeps modes |m| <= 84, physax |m| <= 85 (n/3); the third column "
        "reruns exponax with `dealiasing_fraction = 86/128` (the same modes as physax), the last is that one mode's "
        "effect on exponax alone.",
        "",
        "| order | physax vs exponax | physax vs exponax (same modes) | exponax 84 vs 85 modes |",
        "|---|---|---|---|",
        *check_lines,
        END,
    ]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
