"""PINN training steps per second on DeepXDE's Burgers configuration (issue 4).

Three codes do the same Adam step in one run:

- **physax**: the package's Adam steps as ``pinns.train.train`` runs them:
  ``pinns.loop.adam_steps``, ``TrainConfig.steps_per_call`` (100) steps
  fused into one compiled ``jax.lax.fori_loop`` per call, on the built-in
  ``burgers`` case with ``TrainConfig(method="pinn", width=20, depth=3,
  activation="tanh", n_chunks=1, ...)``. Each step also draws fresh
  collocation points (physax resamples every Adam step; DeepXDE keeps its
  points fixed), evaluates the residual from ``phys/pdes/burgers.py`` through
  :mod:`pinns.residual` (the network's own Taylor-mode jet, flux form
  ``-(u^2/2)_x``), and applies Adam with an exponentially decaying learning rate.
- **hand-written JAX**: a minimal loop: a plain tanh MLP as a list of
  ``(W, b)``, the residual ``u_t + u u_x - nu u_xx`` by ``jax.jvp``, the three
  mean squares, ``optax.adam(1e-3)``, one ``jax.jit`` call per step on fixed
  points (as a minimal loop is written; it pays Python dispatch every step,
  which physax's fused loop does not).
- **DeepXDE 1.15 on PyTorch** (``bench/_deepxde_burgers.py``, run in its own
  interpreter given by ``--deepxde-python`` or ``$PHYSAX_DEEPXDE_PYTHON``;
  without one the row is skipped and the section says so).

Diagnostic rows, timed in the same windows: physax's single-step
``_adam_body`` under ``jax.jit``, one call per step; the hand-written step fused 100
per call in a ``fori_loop`` (the like-for-like comparison with physax's
fused loop); physax's fused loop with the residual on the generic nested
``jax.jvp`` path (``residuals(..., taylor=False)``: what the Taylor-mode
path gains); and the hand-written loop with ``pinns.residual``'s residual.

Equal work per step: network 2 -> 20 -> 20 -> 20 -> 1 tanh, float32, Adam,
loss = residual + boundary + initial mean squares with unit weights, and the
point counts of DeepXDE's loss terms as its example builds them
(``num_domain=2540, num_boundary=80, num_initial=160``): DeepXDE's residual
loss runs over its 2,780 ``train_x_all`` rows (the 2,540 domain points plus
the 80 boundary and 160 initial points), the Dirichlet term over 80 points
and the IC term over 160 (the worker prints the counts it finds). physax and
the hand-written loop use 2,780 residual, 80 boundary (40 per wall) and 160
initial points. (DeepXDE also differentiates its 240 BC/IC rows, which it
then drops from the residual: 3,020 network rows, about 9% more than the
2,780 + 240 forward-only rows the JAX codes push through.)

Threads: "1 core" runs the JAX codes in a subprocess with
``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1``
and DeepXDE with ``torch.set_num_threads(1)``, and pins both processes to the
same single core (``os.sched_setaffinity``), because the XLA flags alone leave
JAX using about 1.5 cores here; "default" runs the JAX codes with XLA's
defaults on all visible cores. Each row also reports CPU seconds per wall
second over its timed windows (``os.times`` of the process), which shows how
many cores it really kept busy. Rates are medians of ``--windows``
windows after a warm-up (compile excluded), ``jax.block_until_ready`` at the
end of each window (a window is a whole number of calls, so physax's and the
fused hand-written windows are multiples of 100 steps); the JAX rows' windows
alternate so load changes hit all of them.

    .venv/bin/python bench/bench_pinn.py [--deepxde-python /tmp/dxenv/bin/python] [--quick] [--no-write]
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
SECTION = "bench_pinn"
START, END = markers(SECTION)
N_RESIDUAL, N_BOUNDARY_PER_WALL, N_INITIAL = 2780, 40, 160
WIDTH, DEPTH = 20, 3
NU = 0.01 / 3.141592653589793
ONE_THREAD_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


# -- the JAX worker (runs in a subprocess so XLA_FLAGS can differ) ----------------


def _physax_config(case_name: str = "burgers", method: str = "pinn", **case_updates):
    """(objective, optimiser settings, run key, state at step 0) as ``pinns.train.train`` builds them."""
    import cases
    from pinns.config import TrainConfig
    from pinns.train import setup

    config = TrainConfig.from_settings(
        method, width=WIDTH, depth=DEPTH, activation="tanh", n_residual=N_RESIDUAL, n_chunks=1,
        n_initial=N_INITIAL, n_boundary=N_BOUNDARY_PER_WALL, learning_rate=1e-3,
        weight_initial=1.0, weight_boundary=1.0, weight_residual=1.0,
        **({"hard_initial": True} if case_name != "burgers" else {}),
    )
    case = cases.get(case_name)
    case = case.with_updates(case_updates) if case_updates else case
    pieces = setup(case, config)
    return pieces.objective(pieces.problem), config.optimiser, pieces.run_key, pieces.state(pieces.problem)


def _physax_fused(case_name: str = "burgers", method: str = "pinn", **case_updates):
    """physax as ``pinns.train.train`` runs it: ``pinns.loop.adam_steps``, ``steps_per_call`` Adam steps per call.

    Returns (call, state, steps per call).
    """
    import jax.numpy as jnp
    from pinns.loop import adam_steps

    objective, optimiser, run_key, state = _physax_config(case_name, method, **case_updates)
    n = jnp.asarray(optimiser.steps_per_call, jnp.int32)

    def call(s):
        # The loss terms and causal weights it also returns are computed in the
        # same jitted call; the loop keeps only the state, as fit() does between evaluations.
        return adam_steps(s, objective, optimiser, run_key, n)[0]

    return call, state, optimiser.steps_per_call


def _physax_per_step():
    """Diagnostic: physax's Adam step (``pinns.loop._adam_body``), one jitted call per step."""
    import jax

    from pinns.loop import _adam_body

    objective, optimiser, run_key, state = _physax_config()
    step = jax.jit(_adam_body, static_argnums=2)
    return (lambda s: step(s, objective, optimiser, run_key)[0]), state, 1


def _physax_generic():
    """Diagnostic: the fused physax loop with the residual on the generic nested-``jvp`` path.

    ``pinns.method`` is traced with ``residuals(..., taylor=False)``; the
    optimiser settings differ in ``decay_steps`` (a schedule beyond the timed
    steps' reach: lr stays within 1e-6 of the physax row's over them) only so
    that this is a compilation of its own, not the cached one of the physax row.
    """
    import dataclasses
    import functools

    import jax.numpy as jnp
    import pinns.method
    from pinns.loop import adam_steps
    from pinns.residual import residuals

    if getattr(pinns.method, "residuals", None) is not residuals:
        raise RuntimeError("pinns.method no longer calls pinns.residual.residuals by that name: update this diagnostic")
    objective, optimiser, run_key, state = _physax_config()
    optimiser = dataclasses.replace(optimiser, decay_steps=optimiser.decay_steps + 1)
    n = jnp.asarray(optimiser.steps_per_call, jnp.int32)
    generic = functools.partial(residuals, taylor=False)

    def call(s):
        # Patched around every call (it only matters while tracing the first; cached calls never read it).
        pinns.method.residuals = generic
        try:
            return adam_steps(s, objective, optimiser, run_key, n)[0]
        finally:
            pinns.method.residuals = residuals

    return call, state, optimiser.steps_per_call


def _hand_written_step(physax_residual: bool = False, fused: int = 0):
    """A minimal hand-written PINN step; returns (call, carry, steps per call).

    ``physax_residual``: diagnostic; the same loop with the residual from
    :func:`pinns.residual.residuals` of ``phys/pdes/burgers.py`` instead of
    the hand-written one (the cost of the flux-form residual alone).
    ``fused``: diagnostic; that many steps per call in one ``jax.lax.fori_loop``
    (what physax's ``_adam_steps`` does) instead of one ``jax.jit`` call per step.
    """
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax

    rng = np.random.default_rng(0)
    f32 = np.float32
    # Fixed points, like DeepXDE: (t, x) columns.
    res = np.stack([rng.uniform(0, 1, N_RESIDUAL), rng.uniform(-1, 1, N_RESIDUAL)], 1).astype(f32)
    tb = rng.uniform(0, 1, 2 * N_BOUNDARY_PER_WALL).astype(f32)
    bc = np.stack([tb, np.repeat(np.array([-1.0, 1.0]), N_BOUNDARY_PER_WALL)], 1).astype(f32)
    x0 = rng.uniform(-1, 1, N_INITIAL).astype(f32)
    ic = np.stack([np.zeros_like(x0), x0], 1).astype(f32)
    u0 = (-np.sin(np.pi * x0)).astype(f32)

    sizes = [2] + [WIDTH] * DEPTH + [1]
    keys = jax.random.split(jax.random.key(1), len(sizes) - 1)
    params = [
        (jnp.sqrt(2.0 / (m + n)) * jax.random.normal(k, (n, m), jnp.float32), jnp.zeros((n,), jnp.float32))
        for k, m, n in zip(keys, sizes[:-1], sizes[1:])
    ]

    def net(p, t, x):
        h = jnp.stack([t, x])
        for w, b in p[:-1]:
            h = jnp.tanh(w @ h + b)
        w, b = p[-1]
        return (w @ h + b)[0]

    def residual(p, t, x):
        u, u_t = jax.jvp(lambda s: net(p, s, x), (t,), (jnp.ones_like(t),))
        u_x_of = lambda y: jax.jvp(lambda s: net(p, t, s), (y,), (jnp.ones_like(y),))[1]
        u_x, u_xx = jax.jvp(u_x_of, (x,), (jnp.ones_like(x),))
        return u_t + u * u_x - NU * u_xx

    if physax_residual:
        import cases
        from pinns.residual import residuals

        pde = cases.get("burgers").pde.build("float32")

    def loss(p, res, bc, ic, u0):
        if physax_residual:
            r = residuals(pde, lambda z: net(p, z[0], z[1])[None], res, ("u",))[:, 0]
        else:
            r = jax.vmap(residual, (None, 0, 0))(p, res[:, 0], res[:, 1])
        ub = jax.vmap(net, (None, 0, 0))(p, bc[:, 0], bc[:, 1])
        ui = jax.vmap(net, (None, 0, 0))(p, ic[:, 0], ic[:, 1])
        return jnp.mean(r**2) + jnp.mean(ub**2) + jnp.mean((ui - u0) ** 2)

    opt = optax.adam(1e-3)

    def train_step(p, opt_state, res, bc, ic, u0):
        value, grads = jax.value_and_grad(loss)(p, res, bc, ic, u0)
        updates, opt_state = opt.update(grads, opt_state, p)
        return optax.apply_updates(p, updates), opt_state

    data = tuple(map(jnp.asarray, (res, bc, ic, u0)))
    if fused:
        @jax.jit
        def steps(carry, n):
            return jax.lax.fori_loop(0, n, lambda _, c: train_step(*c, *data), carry)

        n = jnp.asarray(fused, jnp.int32)
        return (lambda carry: steps(carry, n)), (params, opt.init(params)), fused

    jitted = jax.jit(train_step)
    return (lambda carry: jitted(*carry, *data)), (params, opt.init(params)), 1


# (name, maker): the first two are the headline rows, the rest diagnostics.
RUNNERS = (
    ("physax", _physax_fused),
    ("hand", _hand_written_step),
    ("physax_step", _physax_per_step),
    ("hand_fused", lambda: _hand_written_step(fused=100)),
    ("physax_generic", _physax_generic),
    ("hand_physax_residual", lambda: _hand_written_step(physax_residual=True)),
    # The Lagrangian step beside the Eulerian one, same network and points, on convection at beta = 50.
    ("physax_convection", lambda: _physax_fused("convection", "pinn", **{"pde.params.beta": 50.0})),
    ("physax_lagrangian", lambda: _physax_fused("convection", "lagrangian", **{"pde.params.beta": 50.0})),
)


def worker(windows: int, window_s: float) -> dict:
    import jax

    runners = {}
    for name, make in RUNNERS:
        call, carry, per_call = make()
        t0 = time.perf_counter()
        carry = jax.block_until_ready(call(carry))  # compile
        compile_s = time.perf_counter() - t0
        warm = max(1, 20 // per_call)
        for _ in range(warm):
            carry = call(carry)
        jax.block_until_ready(carry)
        # Calls per window so that one window lasts about window_s.
        t0 = time.perf_counter()
        for _ in range(max(1, 50 // per_call)):
            carry = call(carry)
        jax.block_until_ready(carry)
        per_call_s = (time.perf_counter() - t0) / max(1, 50 // per_call)
        calls = max(1 if per_call > 1 else 20, round(window_s / per_call_s))
        runners[name] = {"call": call, "carry": carry, "calls": calls, "per_call": per_call, "compile_s": compile_s,
                         "rates": [], "cpu": 0.0, "wall": 0.0}
    for _ in range(windows):
        for r in runners.values():
            call, carry, n = r["call"], r["carry"], r["calls"]
            c0, t0 = os.times(), time.perf_counter()
            for _ in range(n):
                carry = call(carry)
            jax.block_until_ready(carry)
            wall, c1 = time.perf_counter() - t0, os.times()
            r["carry"] = carry
            r["rates"].append(n * r["per_call"] / wall)
            r["cpu"] += (c1.user - c0.user) + (c1.system - c0.system)
            r["wall"] += wall
    out = {}
    for name, r in runners.items():
        out[name] = {
            "steps_per_s": statistics.median(r["rates"]),
            "rates": r["rates"],
            "steps_per_window": r["calls"] * r["per_call"],
            "steps_per_call": r["per_call"],
            "compile_s": r["compile_s"],
            "cpu_per_wall": r["cpu"] / r["wall"],
        }
    import equinox
    import jaxlib
    import optax

    out["versions"] = {"python": platform.python_version(), "jax": jax.__version__, "jaxlib": jaxlib.__version__,
                       "equinox": equinox.__version__, "optax": optax.__version__}
    out["devices"] = str(jax.devices())
    out["xla_flags"] = os.environ.get("XLA_FLAGS", "")
    out["affinity"] = sorted(os.sched_getaffinity(0))
    return out


# -- the driver --------------------------------------------------------------------


def one_core() -> int | None:
    """The core the one-thread rows are pinned to (the lowest allowed), or None without affinity control."""
    try:
        return min(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def run_jax(one_thread: bool, windows: int, window_s: float) -> dict:
    env = dict(os.environ)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--windows", str(windows), "--window-s", str(window_s)]
    if one_thread:
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " " + ONE_THREAD_FLAGS).strip()
        if one_core() is not None:
            cmd += ["--cpu", str(one_core())]
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"JAX worker failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_deepxde(python: str, windows: int, steps: int) -> dict:
    env = dict(os.environ, DDE_BACKEND="pytorch")
    cmd = [python, str(ROOT / "bench" / "_deepxde_burgers.py"), "--threads", "1", "--windows", str(windows),
           "--steps", str(steps), "--train-windows", str(max(1, windows // 2))]
    if one_core() is not None:
        cmd += ["--cpu", str(one_core())]
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"DeepXDE worker failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def pool(results: list[dict]) -> dict:
    """One result from several rounds: every row's window rates put together, medians taken again."""
    out = dict(results[0])
    for key, value in results[0].items():
        if isinstance(value, dict) and "rates" in value:
            rows = [r[key] for r in results if r.get(key)]
            rates = [rate for row in rows for rate in row["rates"]]
            merged = {**value, "rates": rates, "steps_per_s": statistics.median(rates)}
            if "cpu_per_wall" in value:
                merged["cpu_per_wall"] = statistics.mean(row["cpu_per_wall"] for row in rows)
            out[key] = merged
    return out


def spread(rates: list[float]) -> float:
    return (max(rates) - min(rates)) / statistics.median(rates)


def section(one: dict, default: dict, dde: dict | None, dde_note: str, wall: float, load: tuple[float, float]) -> str:
    p1, h1 = one["physax"]["steps_per_s"], one["hand"]["steps_per_s"]
    p2, h2 = default["physax"]["steps_per_s"], default["hand"]["steps_per_s"]
    v = one["versions"]
    lines = [
        START,
        "## PINN training step: physax against DeepXDE and a hand-written JAX loop (issue 4)",
        "",
        "Generated by `.venv/bin/python bench/bench_pinn.py --deepxde-python ...`; do not edit by hand between the markers.",
        "",
        f"- Date: {datetime.date.today().isoformat()}; device: CPU, `os.cpu_count()` = {os.cpu_count()}, shared with other jobs "
        f"(no GPU lent); load average {load[0]:.2f} before, {load[1]:.2f} after; JAX devices `{one['devices']}`",
        f"- Versions: python {v['python']}, jax {v['jax']}, jaxlib {v['jaxlib']}, equinox {v['equinox']}, optax {v['optax']}"
        + (f"; DeepXDE {dde['versions']['deepxde']} on torch {dde['versions']['torch']} (python {dde['versions']['python']}, separate venv)" if dde else ""),
        "- Problem: DeepXDE's `examples/pinn_forward/Burgers.py` (u_t + u u_x = 0.01/pi u_xx on [-1, 1], u0 = -sin(pi x), "
        "u(+-1) = 0): MLP 2 -> 3 x 20 tanh -> 1, float32, Adam lr 1e-3, loss = residual + Dirichlet + IC mean squares, unit weights. "
        f"Points per step: residual {N_RESIDUAL}, boundary {2 * N_BOUNDARY_PER_WALL}, initial {N_INITIAL} "
        "(DeepXDE's `num_domain=2540, num_boundary=80, num_initial=160`; its residual loss runs over all "
        + (f"{dde['points']['pde_rows']} `train_x_all` rows, BC/IC terms over {dde['points']['bc_rows']} rows, "
           f"{dde['points']['network_rows']} rows through the network)." if dde else "2,780 `train_x_all` rows).")
        ,
        "- physax: `pinns.loop.adam_steps` as `pinns.train.train` calls it (through `pinns.loop.fit`) between evaluations: "
        f"{one['physax']['steps_per_call']} Adam steps per call in one compiled `jax.lax.fori_loop` (`TrainConfig.steps_per_call`), "
        "on the `burgers` case, "
        "`TrainConfig.from_settings('pinn', width=20, depth=3, n_residual=2780, n_chunks=1, n_initial=160, n_boundary=40)`; "
        "it redraws its collocation points every step (DeepXDE and the hand-written loop keep theirs fixed), "
        "scales inputs to [-1, 1], and takes the residual from `phys/pdes/burgers.py` (flux form) via `pinns.residual`. "
        "Hand-written: a minimal loop as one would write it: plain MLP, residual by `jax.jvp`, `optax.adam`, "
        "one `jax.jit` call per step (so it pays Python dispatch every step, which physax's fused loop does not; "
        "the diagnostic row `hand-written, fused in fori_loop` removes that difference). "
        "DeepXDE: `model.train_step` in a loop (the step alone); `model.train(iterations=N)` adds its per-step bookkeeping.",
        f"- Threads: \"1 core\" = JAX in a subprocess under `XLA_FLAGS={ONE_THREAD_FLAGS}` and DeepXDE under "
        f"`torch.set_num_threads(1)`, both also pinned to core {one['affinity']} by `os.sched_setaffinity` (the XLA flags alone "
        "do not hold JAX to one core: unpinned, the process keeps about 1.5 cores busy); \"default\" = JAX with XLA's defaults, unpinned "
        f"(cores {default['affinity']}). CPU s / wall s: the process's CPU time over its timed windows (1.0 = one core busy).",
        f"- Time: median steps/s of {len(one['physax']['rates'])} windows (about {one['physax']['steps_per_window'] / one['physax']['steps_per_s']:.1f} s each for physax, all JAX rows alternating) after "
        f"warm-up, compile excluded, `jax.block_until_ready` per window; spread = (max - min) / median. The 1-core rows come from "
        f"{one.get('rounds', 1)} rounds in which a fresh 1-core JAX process and a fresh DeepXDE process take turns (the shared cores' speed "
        "drifts over minutes; alternating lets a slow spell hit both), window rates pooled over the rounds; the default rows from one "
        f"process after them. Whole script: {wall:.0f} s.",
        "",
        "| code | threads | steps / s | ms / step | spread | CPU s / wall s | physax / this |",
        "|---|---|---|---|---|---|---|",
    ]

    def row(label, threads, r, ref=None):
        rate = r["steps_per_s"]
        ratio = f"{ref / rate:.2f}" if ref is not None else ""
        cpu = f"{r['cpu_per_wall']:.2f}" if "cpu_per_wall" in r else ""
        return f"| {label} | {threads} | {rate:,.0f} | {1e3 / rate:.2f} | {spread(r['rates']):.0%} | {cpu} | {ratio} |"

    lines.append(row("physax `adam_steps` (fused)", "1 core", one["physax"]))
    lines.append(row("hand-written JAX (jit per step)", "1 core", one["hand"], p1))
    if dde:
        lines.append(row("DeepXDE `train_step`", "1 core", dde["train_step"], p1))
        if dde.get("model_train"):
            lines.append(row("DeepXDE `model.train`", "1 core", dde["model_train"], p1))
    lines.append(row("physax `adam_steps` (fused)", "default (2)", default["physax"]))
    lines.append(row("hand-written JAX (jit per step)", "default (2)", default["hand"], p2))
    if dde:
        lines.append(row("DeepXDE `train_step` (1 core, as above)", "vs default", dde["train_step"], p2))
    lines += [
        "",
        "Diagnostics (same runs, windows alternating with the rows above): `physax _adam_body` is one physax Adam step jitted alone, one call per "
        "step (what `train` did before `_adam_steps`); `hand-written, fused in fori_loop` is the hand-written step "
        "run 100 steps per jitted call like physax's; `physax, generic residual` is the fused physax loop with "
        "`pinns.residual`'s specialised Taylor-mode path for the package's networks switched off (the generic nested "
        "`jax.jvp` path any callable gets); `hand-written + pinns.residual` is the hand-written per-step loop with its "
        "residual replaced by `pinns.residual.residuals` of `phys/pdes/burgers.py` (flux form; its network is a plain "
        "function, so this is the generic nested `jax.jvp` path).",
        "",
        "| variant | threads | steps / s | ms / step | spread | CPU s / wall s | physax / this |",
        "|---|---|---|---|---|---|---|",
    ]
    diagnostics = (
        ("physax `_adam_body` (jit per step)", "physax_step"),
        ("hand-written, fused in `fori_loop`", "hand_fused"),
        ("physax, generic residual (fused)", "physax_generic"),
        ("hand-written + `pinns.residual` (jit per step)", "hand_physax_residual"),
    )
    for label, key in diagnostics:
        for threads, res, ref in (("1 core", one, p1), ("default (2)", default, p2)):
            if key in res:
                lines.append(row(label, threads, res[key], ref))
    lines.append("")
    verdict = []
    if dde:
        d = dde["train_step"]["steps_per_s"]
        verdict.append(f"physax / DeepXDE `train_step` = **{p1 / d:.2f}x** on 1 core (target >= 2.5: {'met' if p1 / d >= 2.5 else 'NOT met'}), {p2 / d:.2f}x with JAX's defaults against DeepXDE's 1 thread")
    else:
        verdict.append(f"DeepXDE row skipped: {dde_note}")
    verdict.append(f"hand-written (jit per step) / physax = **{h1 / p1:.2f}** on 1 core, {h2 / p2:.2f} default (target <= 1.2: "
                   f"{'met' if h1 / p1 <= 1.2 else 'NOT met'} on 1 core)")
    if "hand_fused" in one:
        hf = one["hand_fused"]["steps_per_s"]
        verdict.append(f"hand-written fused / physax = {hf / p1:.2f} on 1 core")
    lines.append("Result: " + "; ".join(verdict) + ".")
    lines.append(f"Compile (first call, 1 core): physax {one['physax']['compile_s']:.1f} s, hand-written {one['hand']['compile_s']:.1f} s.")
    if dde:
        # The DeepXDE Burgers example's 15,000 Adam steps, set-up and compilation included.
        steps = 15000
        physax_s = one["physax"]["compile_s"] + steps / p1
        dde_s = dde.get("setup_s", 0.0) + steps / dde["train_step"]["steps_per_s"]
        lines += [
            "",
            f"The DeepXDE example's {steps:,} Adam steps, 1 core: without compile, physax {steps / p1:.1f} s against DeepXDE "
            f"{steps / dde['train_step']['steps_per_s']:.1f} s (**{p1 / dde['train_step']['steps_per_s']:.2f}x**); with compile "
            f"(physax's first call, {one['physax']['compile_s']:.1f} s; DeepXDE's set-up of data, network and model and its first "
            f"iteration, {dde.get('setup_s', 0.0):.1f} s), physax {physax_s:.1f} s against DeepXDE {dde_s:.1f} s "
            f"(**{dde_s / physax_s:.2f}x**; target >= 2.5: {'met' if dde_s / physax_s >= 2.5 else 'NOT met'}).",
        ]
    if "physax_lagrangian" in one:
        e, g = one["physax_convection"], one["physax_lagrangian"]
        lines += [
            "",
            "Lagrangian step beside the Eulerian one (same 3 x 20 tanh networks, 2780 residual points, fused Adam, 1 core, "
            "`convection` at beta = 50, both with the exact IC transform through the 256-point Fourier interpolant; the "
            "Lagrangian model has two such networks, characteristics and state, its residual by one Taylor-mode pass "
            "through both and the chain rule): "
            f"Eulerian `pinn` {1e3 / e['steps_per_s']:.2f} ms/step ({e['steps_per_s']:,.0f} steps/s, compile {e['compile_s']:.1f} s), "
            f"`lagrangian` {1e3 / g['steps_per_s']:.2f} ms/step ({g['steps_per_s']:,.0f} steps/s, compile {g['compile_s']:.1f} s): "
            f"{e['steps_per_s'] / g['steps_per_s']:.2f}x the Eulerian step's cost.",
        ]
    lines += ["", END]
    return "\n".join(lines)




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deepxde-python", default=os.environ.get("PHYSAX_DEEPXDE_PYTHON"),
                        help="interpreter with deepxde + torch (default: $PHYSAX_DEEPXDE_PYTHON; none: skip DeepXDE)")
    parser.add_argument("--windows", type=int, default=7)
    parser.add_argument("--window-s", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3,
                        help="the 1-core JAX worker and DeepXDE alternate this many times; their window rates are pooled")
    parser.add_argument("--quick", action="store_true", help="3 short windows; prints, does not write unless --write")
    parser.add_argument("--write", dest="write", action="store_true", default=None)
    parser.add_argument("--no-write", dest="write", action="store_false")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cpu", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.windows, args.window_s = 3, 0.3
    if args.worker:
        if args.cpu is not None:
            # Before JAX starts its thread pools: every thread of this process runs on one core.
            os.sched_setaffinity(0, {args.cpu})
        sys.path.insert(0, str(ROOT))
        print(json.dumps(worker(args.windows, args.window_s)))
        return
    wall0 = time.perf_counter()
    load0 = os.getloadavg()[0]
    # The machine's speed drifts (shared cores): alternating the one-core JAX
    # worker with DeepXDE in rounds lets a slow spell hit both sides.
    ones, ddes, note = [], [], ""
    steps = max(20, int(args.window_s * 110))  # DeepXDE does about 100 steps/s here: ~1 s windows
    if not args.deepxde_python:
        note = "no `--deepxde-python` and no `$PHYSAX_DEEPXDE_PYTHON`"
        print(f"DeepXDE skipped: {note}", file=sys.stderr)
    for _ in range(max(1, args.rounds)):
        ones.append(run_jax(True, args.windows, args.window_s))
        if args.deepxde_python:
            ddes.append(run_deepxde(args.deepxde_python, args.windows, steps))
    one, dde = pool(ones), pool(ddes) if ddes else None
    one["rounds"] = max(1, args.rounds)
    default = run_jax(False, args.windows, args.window_s)
    text = section(one, default, dde, note, time.perf_counter() - wall0, (load0, os.getloadavg()[0]))
    print(text)
    if args.write if args.write is not None else not args.quick:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
