"""Ensembles on one device: seeds, sweeps, one compilation, shards, merge, resume, NaN reports."""

from __future__ import annotations

from pathlib import Path

import h5py
import jax
import numpy as np
import pytest

from cases import get
from phys.cli import main, parse_sweep
from phys.errors import ResumeError, SolveError
from phys.io import read, validate
from phys.initial import initial_fields
from phys.io.merge import merge, read_ensemble
from solvers import solve
from solvers import Ensemble, run_ensemble, solve_ensemble
from solvers.ensemble import derive_seeds, shard_range

# Small chaotic KS: 32 points, 40 steps, 9 snapshots.
CASE = get("ks-random").with_updates({"grid.n": 32, "time.t_end": 2.0, "time.dt": 0.05, "time.save_dt": 0.25})


def test_each_trajectory_is_the_plain_run_of_its_seed_and_swept_values() -> None:
    case = CASE.with_updates({"dtype": "float64", "seed": 7})
    ensemble = Ensemble(batch=2, sweep={"a": (1.0, 1.5), "c": (1.0, 0.5)})
    assert ensemble.size == 8
    # Seeds are one fold_in of the case's key per seed, shared by every sweep point.
    key = jax.random.key(7)
    expected = [int(jax.random.bits(jax.random.fold_in(key, b), dtype=np.uint32)) for b in range(2)]
    np.testing.assert_array_equal(derive_seeds(7, 2), expected)
    seeds, values = ensemble.seeds(case), ensemble.values(case)
    np.testing.assert_array_equal(seeds, expected * 4)
    # Outer product, first swept key slowest, seeds fastest: i = p * B + b.
    np.testing.assert_array_equal(values["a"], [1, 1, 1, 1, 1.5, 1.5, 1.5, 1.5])
    np.testing.assert_array_equal(values["c"], [1, 1, 0.5, 0.5, 1, 1, 0.5, 0.5])
    u = solve_ensemble(case, ensemble)["u"]
    assert u.shape == (8, 9, 32)
    for i in (2, 5):  # seed 0 with (a, c) = (1, 0.5); seed 1 with (1.5, 1)
        single = case.with_updates({"seed": int(seeds[i]), "pde.params.a": values["a"][i], "pde.params.c": values["c"][i]})
        # vmap reorders no arithmetic within a trajectory; only XLA's fusion differs (float64 rounding).
        np.testing.assert_allclose(u[i], solve(single)["u"][0], rtol=0, atol=1e-12)
    assert np.max(np.abs(u[0] - u[1])) > 0.1  # different seeds, different starts


def test_without_batch_the_sweep_starts_from_the_case_own_seed() -> None:
    ensemble = Ensemble(sweep={"a": (1.0, 2.0)})
    np.testing.assert_array_equal(ensemble.seeds(CASE), [CASE.seed, CASE.seed])
    u = solve_ensemble(CASE, ensemble)["u"]
    np.testing.assert_allclose(u[:, 0], np.broadcast_to(initial_fields(CASE)[0], (2, 32)), rtol=0, atol=1e-6)
    assert np.max(np.abs(u[0, -1] - u[1, -1])) > 0.01  # same start, different a


def test_a_sweep_compiles_once(traces) -> None:
    case = CASE.with_updates({"time.t_end": 1.0})  # 4 saves after the first: one block
    u = solve_ensemble(case, Ensemble(sweep={"b": (1.0, 1.1, 1.2, 1.3)}))["u"]
    assert traces() == 1  # four values of b, one traced loop
    chunked = solve_ensemble(case, Ensemble(sweep={"b": (1.0, 1.1, 1.2, 1.3)}), chunk=2)["u"]
    assert traces() <= 2  # two chunks of the same shape: at most one more program, the same for both
    np.testing.assert_array_equal(u, chunked)
    # Stronger hyperdiffusion damps the small scales more: the sweep really varied b.
    energy = np.sum(u[:, -1] ** 2, axis=-1)
    assert np.all(np.diff(energy) < 0)


def test_shard_slices_cover_the_ensemble_exactly_once() -> None:
    for size in (1, 5, 12, 97):
        for count in range(1, min(size, 9) + 1):
            slices = [shard_range(size, i, count) for i in range(count)]
            covered = np.concatenate([np.asarray(s) for s in slices])
            np.testing.assert_array_equal(covered, np.arange(size))
            assert max(map(len, slices)) - min(map(len, slices)) <= 1


def test_shards_merge_to_the_whole_run_bit_for_bit(tmp_path: Path) -> None:
    ensemble = Ensemble(batch=3, sweep={"a": (1.0, 1.5)})
    whole = run_ensemble(CASE, ensemble, tmp_path / "whole.h5")
    parts = [run_ensemble(CASE, ensemble, tmp_path / f"s{i}.h5", shard=(i, 3)) for i in (2, 0, 1)]
    with h5py.File(parts[0]) as f:
        np.testing.assert_array_equal(f.attrs["ensemble_index"], [4, 5])
    merged = merge(parts, tmp_path / "merged.h5")
    assert validate(merged) == []
    a, b = read(whole), read(merged)
    np.testing.assert_array_equal(a["u"], b["u"])
    np.testing.assert_array_equal(a.scalars["seed"], b.scalars["seed"])
    np.testing.assert_array_equal(b.scalars["a"], [1, 1, 1, 1.5, 1.5, 1.5])
    assert b.scalars["b"].shape == ()  # unswept parameters stay constants
    direct = read_ensemble(parts)  # the set read as one, without merging on disk
    np.testing.assert_array_equal(direct["u"], a["u"])
    np.testing.assert_array_equal(direct.scalars["seed"], a.scalars["seed"])
    with pytest.raises(ValueError, match="the files hold 4 of the ensemble's 6 trajectories; missing 4, 5"):
        merge(parts[1:], tmp_path / "partial.h5")
    with pytest.raises(ValueError, match="trajectory 4 is in more than one input file"):
        merge([parts[0], *parts], tmp_path / "twice.h5")


def test_killed_and_resumed_ensemble_equals_an_uninterrupted_one(tmp_path: Path) -> None:
    ensemble = Ensemble(batch=3)
    straight = run_ensemble(CASE, ensemble, tmp_path / "straight.h5", saves_per_block=2)

    def stop_after_two_blocks(written: int, total: int) -> None:
        if written >= 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_ensemble(CASE, ensemble, tmp_path / "run.h5", saves_per_block=2, on_block=stop_after_two_blocks)
    with h5py.File(tmp_path / "run.h5.tmp") as f:
        assert f.attrs["n_steps_written"] == 5
    # Resumed in chunks of 2: the stored state is per trajectory, not per device layout.
    resumed = run_ensemble(CASE, ensemble, tmp_path / "run.h5", saves_per_block=2, resume=True, chunk=2)
    np.testing.assert_array_equal(read(resumed)["u"], read(straight)["u"])
    with pytest.raises(ResumeError, match="holds another ensemble of this case"):
        run_ensemble(CASE, Ensemble(batch=4), tmp_path / "run.h5", resume=True)


def test_nan_report_names_the_trajectory_and_keeps_the_good_snapshots(tmp_path: Path) -> None:
    # b < 0 makes u_xxxx anti-diffusive: the second sweep point blows up.
    ensemble = Ensemble(batch=2, sweep={"b": (1.0, -1.0)})
    seed = derive_seeds(CASE.seed, 2)[0]
    with pytest.raises(SolveError, match=rf"^trajectory 2 \(seed {seed}, b = -1\) became non-finite .* at step (\d+)") as error:
        run_ensemble(CASE, ensemble, tmp_path / "bad.h5", saves_per_block=100)
    step = error.value.step
    with h5py.File(tmp_path / "bad.h5.tmp") as f:
        written = int(f.attrs["n_steps_written"])
        assert written == 1 + (step - 1) // 5  # the snapshots before the bad step, five steps per save
        assert np.all(np.isfinite(f["t0_fields/u"][:2, :written]))


def test_sweep_syntax() -> None:
    assert parse_sweep(CASE, "a=1,2,4") == ("a", (1.0, 2.0, 4.0))
    assert parse_sweep(CASE, "pde.params.b=0.5:2:4") == ("b", (0.5, 1.0, 1.5, 2.0))
    assert parse_sweep(CASE, "c=0.01:1:3:log") == ("c", (0.01, pytest.approx(0.1), 1.0))
    for bad in ("a=1:2", "a=0:1:3:log", "a=1:2:0", "a=x", "a"):
        with pytest.raises(Exception, match=f"--sweep {bad}: expected"):
            parse_sweep(CASE, bad)
    with pytest.raises(Exception, match="--sweep nu: not a parameter of PDE 'kuramoto-sivashinsky'; allowed: a, b, c"):
        parse_sweep(CASE, "nu=1,2")


def test_cli_batch_sweep_shards_and_merge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    case = ["ks-random", "--set", "n=32", "--set", "t_end=1", "--set", "save_dt=0.25", "--set", "dt=0.05", "--seed", "3"]
    ensemble = ["--batch", "2", "--sweep", "a=1:1.5:2"]
    for i in (0, 1):
        assert main(["run", *case, *ensemble, "--shard", f"{i}/2", "--out", "run.h5"]) == 0
    assert main(["merge", "run.shard0.h5", "run.shard1.h5", "--out", "all.h5"]) == 0
    expected = solve_ensemble(get("ks-random").with_updates({"grid.n": 32, "time.t_end": 1.0, "time.save_dt": 0.25,
                                                             "time.dt": 0.05, "seed": 3}),
                              Ensemble(batch=2, sweep={"a": (1.0, 1.5)}))["u"]
    fields = read(tmp_path / "all.h5")
    np.testing.assert_array_equal(fields["u"], expected.astype(np.float32))
    np.testing.assert_array_equal(fields.scalars["seed"], np.tile(derive_seeds(3, 2), 2))
    assert fields.attrs["seed"] == 3


BAD = [
    (["--sweep", "a=nan"], "phys: error: pde.params.a: must be a finite number, got nan"),
    (["--sweep", "a=1,2", "--sweep", "a=3"], "phys: error: --sweep a: given twice"),
    (["--batch", "0"], "phys: error: --batch: must be a positive integer, got 0"),
    (["--batch", "4", "--chunk", "0"], "phys: error: --chunk: must be a positive integer, got 0"),
    (["--shard", "2/2"], "phys: error: --shard 2/2: expected i/N with 0 <= i < N"),
    (["--batch", "2", "--shard", "0/3"], "phys: error: --shard 0/3: 3 shards for an ensemble of 2 trajectories"),
    (["--process-id", "1"], "phys: error: --coordinator, --num-processes and --process-id need --distributed"),
]


@pytest.mark.parametrize("args, message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_ensemble_options_are_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["run", "ks", *args]) == 2
    assert capsys.readouterr().err.splitlines() == [message]
    assert list(tmp_path.iterdir()) == []
