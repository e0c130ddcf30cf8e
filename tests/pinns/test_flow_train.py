"""Data-free Navier-Stokes through `phys train`: the channel's Poiseuille flow, with exact walls."""

from __future__ import annotations

import json

import h5py
import numpy as np

from phys.cli import main

SMALL = ["--set", "width=32", "--set", "depth=3", "--set", "n_residual=512", "--set", "n_boundary=64",
         "--set", "lbfgs_steps=150", "--set", "n_residual_lbfgs=512", "--set", "eval_every=300", "--set", "seed=0"]  # fmt: skip


def test_channel_trains_to_poiseuille_with_hard_walls_and_writes_the_solver_fields(tmp_path, capsys):
    out = tmp_path / "channel"
    assert main(["train", "channel", "--constraints", "hard", "--steps", "200", *SMALL, "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["marching"]["constraints"] == "hard"
    with h5py.File(out / "prediction.h5") as f:
        velocity = f["t1_fields/velocity"][0, -1]  # [nx, ny, 2] at the solver's steady state
        pressure = f["t0_fields/pressure"][0, -1]
        y = f["dimensions/y"][:]
        x = f["dimensions/x"][:]
    exact = 6 * y * (1 - y)
    error = np.linalg.norm(velocity[..., 0] - exact[None, :]) / np.linalg.norm(np.broadcast_to(exact, velocity.shape[:2]))
    assert error < 3e-2, error
    assert metrics["rel_l2"] < 3e-2
    # p = -12 x / re + c with p = 0 at the outflow x = 4, exactly by the transform: dp/dx = -1.2.
    slope = np.polyfit(x, pressure.mean(axis=1), 1)[0]
    assert abs(slope + 1.2) < 0.15, slope

    # --init-from reads the saved model into this run's skeleton, and a fresh model warm-started from it is it.
    import jax
    import jax.numpy as jnp

    from cases import get
    from pinns.cli import configure
    from pinns.train import load_model, setup

    case = get("channel")
    settings = dict(item.split("=") for item in SMALL[1::2])
    config = configure(case, method="pinn", preset_name="cpu", steps=200,
                       settings={k: (int(v) if v.isdigit() else v) for k, v in {**settings, "constraints": "hard"}.items()})
    loaded = load_model(case, config, out / "model.eqx")
    pieces = setup(case, config)
    fresh = pieces.model(pieces.problem).warm_start(loaded)
    z = jnp.asarray(np.random.default_rng(0).uniform([0, 0, 0], [1, 4, 1], (64, 3)), jnp.float32)
    np.testing.assert_array_equal(jax.vmap(fresh)(z), jax.vmap(loaded)(z))
    assert float(jnp.max(jnp.abs(jax.vmap(pieces.model(pieces.problem))(z) - jax.vmap(loaded)(z)))) > 1e-2
    # Another network does not fit: one line, before anything is solved or written.
    capsys.readouterr()
    other = tmp_path / "other"
    assert main(["train", "channel", "--constraints", "hard", "--steps", "1", *SMALL, "--set", "width=16", "--init-from", str(out),
                 "--out", str(other)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "init_from" in err[0] and "model.eqx" in err[0]
    assert not other.exists()


def test_hard_constraints_on_a_periodic_case_is_one_line(tmp_path, capsys):
    assert main(["train", "convection", "--constraints", "hard", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "constraints" in err[0] and "hard_initial" in err[0]
    assert not (tmp_path / "x").exists()


def test_time_marching_on_a_steady_case_is_one_line_before_anything_is_solved(tmp_path, capsys):
    # The channel's solver stops at the steady state, which the PINN models: there is no time to march through.
    assert main(["train", "channel", "--set", "windows=3", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "windows=3" in err[0] and "steady" in err[0]
    assert not (tmp_path / "x").exists()
    # The Python API refuses it alike, before its reference solve.
    import pytest

    from cases import get
    from phys.case import CaseError
    from pinns.config import preset
    from pinns.train import train

    with pytest.raises(CaseError, match="windows"):
        train(get("channel"), preset("cpu", "channel").replace(windows=2), progress=False)
