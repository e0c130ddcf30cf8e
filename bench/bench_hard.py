"""Hard- against soft-constraint PINNs on data-free Navier-Stokes: cavity, channel, cylinder (BENCHMARKS.md section).

Every run trains the velocity-pressure equations with no data
(``pinns.train.train``, the path ``phys train CASE --constraints hard|soft``
takes), same network, points and steps for both modes, and is scored against
our projection solver's steady state of the same case (relative L2 of the
velocity on the solver's grid), plus:

- cavity (Re 100): max centreline errors against Ghia, Ghia & Shin (1982);
- channel (Poiseuille, Re 10): relative L2 against the exact ``u = 6 y (1 - y)``;
- cylinder (Schäfer-Turek 2D-1): c_D and delta p from the trained fields
  (stress integrated over the rim, 512 points), against featflow's
  5.57953523384 and 0.11752016697 and our solver's.

Results accumulate in ``bench/results/hard.json`` (one record per case, mode
and seed), so the script can run in parts (``--cases``, ``--modes``,
``--seeds``); the section is written from every record held there.
Seeds 0-2 are reported; the settings were chosen on seed 100.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import jaxlib
import numpy as np

from _ghia import GHIA_U, GHIA_V, GHIA_X, GHIA_Y
from _markdown import write_section

from cases import get
from pinns.config import preset
from pinns.train import train
from solvers.solve import solve

SECTION = "hard-constraints"
RESULTS = Path(__file__).resolve().parent / "results" / "hard.json"
FEATFLOW = {"drag_coefficient": 5.57953523384, "pressure_difference": 0.11752016697}
# The runs, in order: "name" or "name@re" (the Reynolds number ramp: warm-started from the run before
# it of the same mode and seed, at the next Re). The budget is the cpu preset's (pinns/config.py).
CASES = ("lid-driven-cavity-smooth", "lid-driven-cavity-smooth@400", "lid-driven-cavity", "channel", "cylinder",
         "lid-driven-cavity-start")  # fmt: skip


def build(name: str):
    """The case of a run name (``name@re``: at that Reynolds number, its grid built for it)."""
    from cases.walls import lid_driven_cavity_smooth

    if "@" in name:
        base, re = name.split("@")
        assert base == "lid-driven-cavity-smooth"
        return lid_driven_cavity_smooth(float(re))
    return get(name)


def config(case_name: str, mode: str, seed: int, steps: int | None):
    config = preset("cpu", case_name.split("@")[0], "pinn").replace(seed=seed, constraints=mode)
    return config if steps is None else config.replace(steps=steps)


def cylinder_forces(model, case) -> tuple[float, float]:
    """``(c_D, delta p)`` of a trained flow model: the fluid's stress on the rim, ``2 F_x / (U_mean^2 D)``."""
    (obstacle,) = case.geometry.obstacles
    center, radius = np.asarray(obstacle.center), obstacle.radius
    nu = 1.0 / float(case.pde.params["re"])
    mean_speed = float(case.bcs[0].lower)
    theta = (np.arange(512) + 0.5) * 2 * np.pi / 512
    normal = np.stack([np.cos(theta), np.sin(theta)], axis=1)  # out of the cylinder, into the fluid
    t_end = case.time.t_end
    points = jnp.asarray(np.concatenate([np.full((512, 1), t_end), center + radius * normal], axis=1), jnp.float32)
    values = jax.vmap(model)(points)
    gradient = jax.vmap(jax.jacfwd(model))(points)  # [n, outputs, (t, x, y)]
    u_x, u_y, v_x = gradient[:, 0, 1], gradient[:, 0, 2], gradient[:, 1, 1]
    n_x, n_y = jnp.asarray(normal[:, 0]), jnp.asarray(normal[:, 1])
    traction_x = -values[:, 2] * n_x + nu * (2 * u_x * n_x + (u_y + v_x) * n_y)
    drag = float(jnp.sum(traction_x) * 2 * np.pi * radius / 512)
    front, back = (jnp.asarray([t_end, x, 0.2], jnp.float32) for x in (0.15, 0.25))
    delta_p = float(model(front)[2] - model(back)[2])
    return 2 * drag / (mean_speed**2 * 2 * radius), delta_p


def cavity_ghia(model, case) -> tuple[float, float]:
    t = case.time.t_end
    u = jax.vmap(model)(jnp.asarray([[t, 0.5, y] for y in GHIA_Y], jnp.float32))[:, 0]
    v = jax.vmap(model)(jnp.asarray([[t, x, 0.5] for x in GHIA_X], jnp.float32))[:, 1]
    return float(np.max(np.abs(np.asarray(u) - GHIA_U[100.0]))), float(np.max(np.abs(np.asarray(v) - GHIA_V[100.0])))


def channel_exact(model, case) -> float:
    xs = np.linspace(0.05, 3.95, 40)
    ys = np.linspace(0.0, 1.0, 41)
    points = np.array([[case.time.t_end, x, y] for x in xs for y in ys])
    u = np.asarray(jax.vmap(model)(jnp.asarray(points, jnp.float32))[:, :2], np.float64)
    exact = np.stack([6 * points[:, 2] * (1 - points[:, 2]), np.zeros(len(points))], axis=1)
    return float(np.linalg.norm(u - exact) / np.linalg.norm(exact))


def run_one(case_name: str, mode: str, seed: int, steps: int | None, reference, initial=None) -> tuple[dict, object]:
    case = build(case_name)
    start = time.perf_counter()
    result = train(case, config(case_name, mode, seed, steps), reference=reference, progress=False, initial=initial)
    record = {"case": case_name, "mode": mode, "seed": seed, "steps": result.steps, "wall_s": time.perf_counter() - start,
              "rel_l2": result.rel_l2, "ramped": initial is not None}  # fmt: skip
    if case_name == "lid-driven-cavity":
        record["ghia_u"], record["ghia_v"] = cavity_ghia(result.model, case)
    elif case_name == "channel":
        record["exact_rel_l2"] = channel_exact(result.model, case)
    elif case_name == "cylinder":
        record["drag_coefficient"], record["pressure_difference"] = cylinder_forces(result.model, case)
    return record, result.model


def load() -> list[dict]:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else []


def update(record: dict) -> list[dict]:
    """Put ``record`` in the results file in place of the same run's old one; parts may run in parallel."""
    import fcntl

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with open(RESULTS.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        key = (record["case"], record["mode"], record["seed"])
        records = [r for r in load() if (r["case"], r["mode"], r["seed"]) != key] + [record]
        RESULTS.write_text(json.dumps(records, indent=1))
    return records


def _summary(values: list[float]) -> str:
    if not values:
        return "not run"
    return f"{np.median(values):.3g} [{min(values):.3g}, {max(values):.3g}]"


def section(records: list[dict], solver: dict) -> str:
    device = jax.devices()[0]
    lines = [
        f"<!-- {SECTION}:start -->",
        "## Hard-constraint PINNs: data-free Navier-Stokes (`phys train CASE --constraints hard|soft`)",
        "",
        f"{datetime.date.today().isoformat()}, {platform.machine()} {device.platform} ({os.cpu_count()} CPUs, shared), "
        f"python {platform.python_version()}, jax {jax.__version__}, jaxlib {jaxlib.__version__}, float32. "
        "Produced by `bench/bench_hard.py`. No data: the velocity-pressure residuals and the boundary conditions only "
        "(soft: as loss terms on points of each piece; hard: built into the output from the geometry's distance "
        "functions, `pinns/flow.py`). Both modes on the same budget, the cpu preset of `pinns/config.py`: MLP 4 x 64 "
        "tanh, 2048 residual and 256 boundary points per piece per Adam step, 2000 Adam steps (1e-3, x0.9 every 1000) "
        "then 2000 L-BFGS steps on 4096 fixed points. Errors: relative L2 of the velocity against our projection "
        "solver's solution of the same case on its grid (its steady state; for `lid-driven-cavity-start` every saved "
        "time in [0, 1]). `@400`: Re = 400, started from the Re = 100 run's weights (`phys train --init-from`), the "
        "same budget again. Seeds 0-2: median [min, max]; settings chosen on seed 100. Wall: the training, the "
        "compiles included (the reference solve not).",
        "",
        "| case | mode | steps | wall (s) | rel. L2 vs solver | other |",
        "|---|---|---|---|---|---|",
    ]
    for case_name in CASES:
        for mode in ("hard", "soft"):
            rows = [r for r in records if r["case"] == case_name and r["mode"] == mode and r["seed"] in (0, 1, 2)]
            if not rows:
                lines.append(f"| {case_name} | {mode} | - | - | not run | |")
                continue
            other = ""
            if case_name == "lid-driven-cavity":
                other = f"Ghia max error u {_summary([r['ghia_u'] for r in rows])}, v {_summary([r['ghia_v'] for r in rows])}"
            elif case_name == "channel":
                other = f"rel. L2 vs exact Poiseuille {_summary([r['exact_rel_l2'] for r in rows])}"
            elif case_name == "cylinder":
                cd = [r["drag_coefficient"] for r in rows]
                dp = [r["pressure_difference"] for r in rows]
                other = f"c_D {_summary(cd)} (featflow 5.5795), delta p {_summary(dp)} (0.1175)"
            seeds = ",".join(str(r["seed"]) for r in rows)
            lines.append(
                f"| {case_name} | {mode} (seeds {seeds}) | {rows[0]['steps']} | {_summary([r['wall_s'] for r in rows])} | "
                f"{_summary([r['rel_l2'] for r in rows])} | {other} |"
            )
    if solver:
        lines += ["", "Our solver on the cylinder (the reference above): " + ", ".join(f"{k} {v:.4g}" for k, v in solver.items()) + "."]
    lines += [
        "",
        "Targets (the issue): cavity <= 5e-2 within 20 minutes, channel <= 1e-2, cylinder c_D within 5% of 5.5795.",
        "",
        f"<!-- {SECTION}:end -->",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--modes", default="hard,soft")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=None, help="Adam steps instead of the preset's (a smoke test)")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--section-only", action="store_true", help="write the section from the results held, run nothing")
    args = parser.parse_args()
    if args.section_only:
        args.cases = ""
    records = load()
    solver: dict = {}
    models: dict = {}
    for case_name in filter(None, args.cases.split(",")):
        reference = solve(build(case_name))
        if case_name == "cylinder":
            solver = {name: float(reference.scalars[name][0, -1]) for name in FEATFLOW}
        for mode in args.modes.split(","):
            for seed in (int(s) for s in args.seeds.split(",")):
                initial = None
                if "@" in case_name:
                    # The ramp: the previous case in CASES, same mode and seed, must have run in this call.
                    before = CASES[CASES.index(case_name) - 1]
                    initial = models.get((before, mode, seed))
                    if initial is None:
                        raise SystemExit(f"{case_name} continues {before}: run them in one call (--cases {before},{case_name})")
                record, model = run_one(case_name, mode, seed, args.steps, reference, initial)
                models[(case_name, mode, seed)] = model
                print(json.dumps(record), flush=True)
                records = update(record)
    if solver:
        (RESULTS.parent / "hard_solver.json").write_text(json.dumps(solver))
    elif (RESULTS.parent / "hard_solver.json").exists():
        solver = json.loads((RESULTS.parent / "hard_solver.json").read_text())
    text = section(load(), solver)
    print(text)
    if not args.no_write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
