"""Benchmark physax's Kuramoto-Sivashinsky solver against exponax (issue 2).

Both codes run in the same process on the same machine:

- KS ``u_t + u u_x + u_xx + u_xxxx = 0``, n = 256, length 100, dt = 0.05,
  10,000 steps, float32, from the same smooth sum-of-sines starts;
- one trajectory, and 64 trajectories with ``vmap``;
- physax ETDRK2/4 (``rollout``: only the final state saved, and a save every
  100 steps) vs exponax ETDRK2/4 (``exponax.repeat`` of its stepper, which
  converts to physical space each step, and a ``lax.scan`` of ``step_fourier``);
- the floor: an rfft + irfft pair of size 256 scanned 10,000 times in one jit.

Times are medians of ``--repeats`` runs after a warm-up (compile excluded),
with ``jax.block_until_ready``. Each cost is also given in FFT-pair times of
the same run (same batch size). A float64 check compares final states of both
codes after 200 steps.

The results replace the block between the ``bench_ks`` markers of
BENCHMARKS.md (created if absent). ``--quick`` (1,000 steps, 3 repeats) is a
smoke test: it prints the section but leaves BENCHMARKS.md alone unless
``--write`` is given.

    .venv/bin/python bench/bench_ks.py [--quick] [--write | --no-write]
"""

from __future__ import annotations

import argparse
import datetime
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
import jaxlib
import numpy as np

from _markdown import markers, write_section

import cases
from phys.compile import Params, compile_case
from solvers.rollout import make_stepper, rollout
from solvers.spectral import to_fourier, to_physical

N, LENGTH, DT, BATCH, SAVE_EVERY = 256, 100.0, 0.05, 64, 100
CHECK_STEPS = 200
ROOT = Path(__file__).resolve().parent.parent
SPREADS: list[float] = []  # (max - min) / median of each timed configuration
SECTION = "bench_ks"
START, END = markers(SECTION)


# --------------------------------------------------------------------------- setup
def initial_conditions(batch: int) -> np.ndarray:
    """``batch`` smooth mean-zero starts ``[batch, 1, N]``: sums of 8 sines, modes 1..8 (float64)."""
    rng = np.random.default_rng(2)
    x = LENGTH * np.arange(N) / N
    m = np.arange(1, 9)[None, :, None]
    amplitude = rng.normal(size=(batch, 8, 1)) / 4
    phase = rng.uniform(0, 2 * np.pi, size=(batch, 8, 1))
    u = np.sum(amplitude * np.sin(2 * np.pi * m * x / LENGTH + phase), axis=1)
    return u[:, None, :]


def physax_case(order: int, steps: int, save_every: int, u0: np.ndarray, dtype: str = "float32"):
    case = cases.get("ks").with_updates(
        {
            "grid.n": N,
            "domain.length": LENGTH,
            "time.dt": DT,
            "time.t_end": steps * DT,
            "time.save_dt": save_every * DT,
            "solver.order": order,
            "ic": {"kind": "array", "values": u0.tolist()},
            "dtype": dtype,
        }
    )
    return compile_case(case)


def exponax_stepper(order: int, dealiasing_fraction: float = 2 / 3):
    return exponax.stepper.KuramotoSivashinskyConservative(
        num_spatial_dims=1,
        domain_extent=LENGTH,
        num_points=N,
        dt=DT,
        convection_scale=1.0,
        second_order_scale=1.0,
        fourth_order_scale=1.0,
        dealiasing_fraction=dealiasing_fraction,
        order=order,
    )


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
    """``rollout`` (jit), vmapped over ``Params.u0`` when ``batched``."""
    run = lambda p: rollout(static, p)  # noqa: E731
    if batched:
        run = jax.vmap(run, in_axes=(Params(pde=None, u0=0),))
    return jax.jit(run)


def physax_bare_runner(static, batched: bool):
    """Diagnostic: physax's own ``ETDRK`` step (``make_stepper``) in a plain scan, no finite check, no saves."""

    def run(p):
        stepper = make_stepper(static, p.pde)
        u_hat = to_fourier(static, p.u0)
        u_hat = jax.lax.scan(lambda u, _: (stepper(u), None), u_hat, None, length=static.n_steps)[0]
        return to_physical(static, u_hat)

    if batched:
        run = jax.vmap(run, in_axes=(Params(pde=None, u0=0),))
    return jax.jit(run)


def lean_step(static, pde):
    """Diagnostic prototype of a leaner KS step (see ``lean_runner``)."""
    stepper = make_stepper(static, pde)
    complex_dtype = stepper.exp_full.dtype
    real_dtype = jnp.zeros((), complex_dtype).real.dtype
    m = np.fft.rfftfreq(N, 1.0 / N)
    keep = (np.abs(m) <= N / 3).astype(np.float64)
    ik = 1j * 2 * np.pi * m / LENGTH
    # -c/2 d/dx with the dealias mask folded in: one complex multiply for the flux.
    flux_symbol = jnp.asarray(keep * ik, complex_dtype) * (-0.5 * pde.c)

    def N_hat(u_hat):  # input already dealiased (masked state), output masked by flux_symbol
        u = jnp.fft.irfft(u_hat, n=N, axis=-1)
        return flux_symbol * jnp.fft.rfft(u * u, axis=-1)

    return stepper, N_hat, jnp.asarray(keep, real_dtype)


def lean_runner(static, batched: bool):
    """Diagnostic prototype: the same ETDRK algebra, with

    - no separate input/output ``jnp.where`` masks: the mask is folded into the
      flux's derivative symbol (so every N(u) output is already dealiased, and
      stages built from it only carry masked modes beyond E * u);
    - the derivative symbol precomputed once per solve (not rebuilt per call);
    - no per-step finite check (it would be done once per save interval).
    """

    def run(p):
        stepper, N_hat, keep = lean_step(static, p.pde)
        E, E2 = stepper.exp_full, stepper.exp_half
        mask = lambda v: v * keep  # noqa: E731

        if static.order == 2:
            f1, f2 = stepper.coefficients

            def step(u, _):
                nu = N_hat(mask(u))
                a = E * u + f1 * nu
                return a + f2 * (N_hat(mask(a)) - nu), None
        else:
            q, _, g1, g2, g3 = stepper.coefficients

            def step(u, _):
                nu = N_hat(mask(u))
                a = E2 * u + q * nu
                na = N_hat(mask(a))
                b = E2 * u + q * na
                nb = N_hat(mask(b))
                c = E2 * a + q * (2 * nb - nu)
                return E * u + g1 * nu + 2 * g2 * (na + nb) + g3 * N_hat(mask(c)), None

        u_hat = to_fourier(static, p.u0)
        u_hat = jax.lax.scan(step, u_hat, None, length=static.n_steps)[0]
        return to_physical(static, u_hat)

    if batched:
        run = jax.vmap(run, in_axes=(Params(pde=None, u0=0),))
    return jax.jit(run)


def exponax_repeat_runner(stepper, steps: int, batched: bool):
    return jax.jit(exponax.repeat(jax.vmap(stepper) if batched else stepper, steps))


def exponax_fourier_runner(stepper, steps: int, batched: bool):
    step = jax.vmap(stepper.step_fourier) if batched else stepper.step_fourier

    def run(u):
        u_hat = jnp.fft.rfft(u, axis=-1)
        u_hat = jax.lax.scan(lambda v, _: (step(v), None), u_hat, None, length=steps)[0]
        return jnp.fft.irfft(u_hat, n=N, axis=-1)

    return jax.jit(run)


def fft_floor_runner(steps: int):
    def run(u):
        pair = lambda v, _: (jnp.fft.irfft(jnp.fft.rfft(v, axis=-1), n=N, axis=-1), None)  # noqa: E731
        return jax.lax.scan(pair, u, None, length=steps)[0]

    return jax.jit(run)


# --------------------------------------------------------------------------- check
def agreement() -> list[str]:
    """Relative L2 differences after CHECK_STEPS steps in float64 (physax vs exponax, equal order)."""
    jax.config.update("jax_enable_x64", True)
    try:
        u0 = initial_conditions(1)[0]
        rel = lambda a, b: float(np.linalg.norm(a - b) / np.linalg.norm(b))  # noqa: E731
        lines = []
        finals = {}
        for order in (2, 4):
            static, params = physax_case(order, CHECK_STEPS, CHECK_STEPS, u0, dtype="float64")
            saves, bad = jax.jit(lambda p: rollout(static, p))(params)
            ours = np.asarray(saves[-1])
            assert int(bad) == -1
            u0_64 = jnp.asarray(u0, jnp.float64)
            theirs = np.asarray(exponax.repeat(exponax_stepper(order), CHECK_STEPS)(u0_64))
            theirs_85 = np.asarray(exponax.repeat(exponax_stepper(order, 86 / 128), CHECK_STEPS)(u0_64))
            finals[order] = ours
            lines.append(
                f"| ETDRK{order} | {rel(ours, theirs):.2e} | {rel(ours, theirs_85):.2e} | {rel(theirs_85, theirs):.2e} |"
            )
        lines.append(f"| physax ETDRK2 vs physax ETDRK4 (time error, for scale) | {rel(finals[2], finals[4]):.2e} | | |")
        return lines
    finally:
        jax.config.update("jax_enable_x64", False)


# --------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 steps and 3 repeats (smoke test)")
    parser.add_argument("--write", dest="write", action="store_true", default=None, help="rewrite BENCHMARKS.md")
    parser.add_argument("--no-write", dest="write", action="store_false", help="only print the section")
    parser.add_argument("--no-diagnostics", action="store_true", help="skip the physax step prototypes")
    args = parser.parse_args()
    steps, repeats = (1_000, 3) if args.quick else (10_000, 5)
    write = (not args.quick) if args.write is None else args.write
    wall0 = time.perf_counter()

    u0_batch = initial_conditions(BATCH)  # float64 host
    u0_b32 = jnp.asarray(u0_batch, jnp.float32)
    inputs = {False: u0_b32[0], True: u0_b32}
    sizes = {False: 1, True: BATCH}

    def us(seconds: float, batched: bool) -> float:
        return seconds / steps / sizes[batched] * 1e6

    results: dict[tuple[str, bool], float] = {}  # (label, batched) -> us per (trajectory-)step

    def record(label, fn, batched):
        results[label, batched] = us(median_time(fn, inputs[batched], repeats), batched)
        print(f"  {label:<40} {'x64' if batched else 'x1 '} {results[label, batched]:9.3f} us/step", flush=True)

    for batched in (False, True):
        record("FFT pair (rfft+irfft)", fft_floor_runner(steps), batched)
    for order in (2, 4):
        statics = {}
        for save_every, tag in ((steps, "final only"), (SAVE_EVERY, f"save every {SAVE_EVERY}")):
            static, params = physax_case(order, steps, save_every, u0_batch[0])
            statics[tag] = (static, params)
            for batched in (False, True):
                p = params if not batched else Params(pde=params.pde, u0=u0_b32)
                fn = physax_runner(static, batched)
                results[f"physax ETDRK{order}, {tag}", batched] = us(median_time(fn, p, repeats), batched)
                print(f"  physax ETDRK{order}, {tag:<27} {'x64' if batched else 'x1 '} "
                      f"{results[f'physax ETDRK{order}, {tag}', batched]:9.3f} us/step", flush=True)
        st = exponax_stepper(order)
        for batched in (False, True):
            record(f"exponax ETDRK{order}, repeat", exponax_repeat_runner(st, steps, batched), batched)
            record(f"exponax ETDRK{order}, scan of step_fourier", exponax_fourier_runner(st, steps, batched), batched)
        if not args.no_diagnostics:
            static, params = statics["final only"]
            for name, make in (("bare scan of make_stepper", physax_bare_runner), ("lean prototype", lean_runner)):
                for batched in (False, True):
                    p = params if not batched else Params(pde=params.pde, u0=u0_b32)
                    label = f"physax ETDRK{order}, {name}"
                    results[label, batched] = us(median_time(make(static, batched), p, repeats), batched)
                    print(f"  {label:<40} {'x64' if batched else 'x1 '} {results[label, batched]:9.3f} us/step",
                          flush=True)

    print("agreement check (float64) ...", flush=True)
    check_lines = agreement()
    section = render(results, check_lines, steps, repeats, time.perf_counter() - wall0, args.no_diagnostics)
    print(section)
    if write:
        write_section(SECTION, section)
        print(f"wrote {ROOT / 'BENCHMARKS.md'}")


def render(results, check_lines, steps, repeats, wall, no_diagnostics) -> str:
    floor = {b: results["FFT pair (rfft+irfft)", b] for b in (False, True)}
    cpu = _cpu_model()
    out = [
        START,
        "## Kuramoto-Sivashinsky (issue 2)",
        "",
        "Generated by `.venv/bin/python bench/bench_ks.py`; do not edit by hand between the markers.",
        "",
        f"- Date: {datetime.date.today().isoformat()}; device: `{jax.devices()}` (no GPU lent); CPU: {cpu}, "
        f"`os.cpu_count()` = {os.cpu_count()}, shared; load average {os.getloadavg()[0]:.1f} at the end",
        f"- Versions: python {platform.python_version()}, jax {jax.__version__}, jaxlib {jaxlib.__version__}, "
        f"equinox {eqx.__version__}, exponax {exponax.__version__}",
        f"- Problem: `u_t + u u_x + u_xx + u_xxxx = 0` (conservative convection, 2/3 dealiasing), n = {N}, "
        f"length {LENGTH:g}, dt = {DT}, {steps:,} steps, float32; same sum-of-sines starts (modes 1-8) for both codes; "
        f"batch = {BATCH} via `vmap`.",
        f"- Time: median of {repeats} runs after a warm-up (compile excluded), `jax.block_until_ready`; "
        "µs per step, per trajectory-step for the batch. Whole script: " f"{wall:.0f} s. Spread (max - min) / median "
        f"over the runs of one configuration: median {statistics.median(SPREADS):.0%}, largest {max(SPREADS):.0%}; "
        "the same configuration also moves by several % between invocations of the script, so ratios within about "
        "0.1 of 1 are parity on this machine.",
        "- FFT pairs: time per step / time of one rfft+irfft pair of size 256 in the same run (floor row), at the "
        "same batch size. Ideal: ETDRK-k does k nonlinear evaluations, each one irfft + one rfft, so **k pairs per "
        "step**; `exponax.repeat` also converts the state to and from physical space every step (**k + 1**).",
        "- Ratio: physax / exponax `scan of step_fourier` at equal order and batch (in parentheses: / exponax "
        "`repeat`).",
        "",
        "| code, scheme, output | ideal pairs | x1: µs/step | x1: FFT pairs | x1: ratio | "
        f"x{BATCH}: µs/traj-step | x{BATCH}: FFT pairs | x{BATCH}: ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def row(label, ideal, ratio_to=None):
        cells = [label, ideal]
        for b in (False, True):
            t = results[label, b]
            cells += [f"{t:.3f}" if b else f"{t:.2f}", f"{t / floor[b]:.1f}"]
            if ratio_to is None:
                cells.append("")
            else:
                fourier = results[f"exponax ETDRK{ratio_to}, scan of step_fourier", b]
                repeat = results[f"exponax ETDRK{ratio_to}, repeat", b]
                cells.append(f"{t / fourier:.2f} ({t / repeat:.2f})")
        return "| " + " | ".join(cells) + " |"

    out.append(row("FFT pair (rfft+irfft)", "1"))
    for order in (2, 4):
        out.append(row(f"physax ETDRK{order}, final only", str(order), order))
        out.append(row(f"physax ETDRK{order}, save every {SAVE_EVERY}", str(order), order))
        out.append(row(f"exponax ETDRK{order}, repeat", str(order + 1)))
        out.append(row(f"exponax ETDRK{order}, scan of step_fourier", str(order)))
    if not no_diagnostics:
        out += [
            "",
            "Diagnostics (not physax's API; prototypes in `bench/bench_ks.py`): `bare scan of make_stepper` is "
            "physax's own ETDRK step scanned without the per-step finite check and the checkpointed save blocks; "
            "`lean prototype` is the same algebra with the dealias mask folded into the flux's derivative symbol "
            "(no `jnp.where` on the input and output of N) and no per-step finite check.",
            "",
            "| variant | ideal pairs | x1: µs/step | x1: FFT pairs | x1: ratio | "
            f"x{BATCH}: µs/traj-step | x{BATCH}: FFT pairs | x{BATCH}: ratio |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for order in (2, 4):
            for name in ("bare scan of make_stepper", "lean prototype"):
                out.append(row(f"physax ETDRK{order}, {name}", str(order), order))
    out += [
        "",
        f"Agreement, float64, {CHECK_STEPS} steps (t = {CHECK_STEPS * DT:g}), one start: relative L2 difference of "
        "the final states. At n = 256 exponax's 2/3 rule keeps modes |m| <= 84 (cutoff 2/3 * 128 - 1), physax keeps "
        "|m| <= 85 (|m| <= n/3); the third column reruns exponax with `dealiasing_fraction = 86/128`, which keeps "
        "|m| <= 85 like physax, and the last column is the effect of that one mode on exponax alone.",
        "",
        "| order | physax vs exponax | physax vs exponax (|m| <= 85) | exponax 84 vs 85 |",
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




if __name__ == "__main__":
    sys.exit(main())
