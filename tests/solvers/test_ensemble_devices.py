"""Ensembles over several devices and processes, each in a fresh interpreter.

Four host devices come from ``XLA_FLAGS=--xla_force_host_platform_device_count=4``,
which must be set before JAX starts; two processes on localhost use
``jax.distributed`` with CPU (gloo) collectives, as ``phys run --distributed`` sets up.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from ranks_testkit import finish, free_port

PHYS = [sys.executable, "-m", "phys.cli"]
SMALL = ["ks-random", "--set", "n=32", "--set", "t_end=1", "--set", "save_dt=0.25", "--set", "dt=0.05", "--seed", "11"]

FOUR_DEVICES = """
import jax, numpy as np
from jax.sharding import Mesh
from cases import get
from phys.io import read
from solvers import Ensemble, run_ensemble, solve_ensemble

assert len(jax.devices()) == 4
case = get("ks-random").with_updates({"grid.n": 32, "time.t_end": 1.0, "time.save_dt": 0.25, "time.dt": 0.05})
ensemble = Ensemble(batch=5)  # 5 trajectories on 4 devices: padded to 8
one = solve_ensemble(case, ensemble, mesh=Mesh(np.asarray(jax.devices()[:1]), ("cases",)))["u"]
four = read(run_ensemble(case, ensemble, "four.h5"))
chunked = read(run_ensemble(case, ensemble, "chunked.h5", chunk=3))
assert four["u"].shape == (5, 5, 32), four["u"].shape  # the padding never reaches the file
np.testing.assert_array_equal(four.scalars["seed"], ensemble.seeds(case))
print("sharded == unsharded:", np.array_equal(four["u"], one), "chunked == unsharded:", np.array_equal(chunked["u"], one))
"""


def test_sharded_ensemble_equals_the_unsharded_one_bit_for_bit(tmp_path: Path) -> None:
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    result = subprocess.run([sys.executable, "-c", FOUR_DEVICES], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["sharded", "==", "unsharded:", "True", "chunked", "==", "unsharded:", "True"]


def test_two_processes_merged_equal_one_process(tmp_path: Path) -> None:
    ensemble = ["--batch", "3", "--sweep", "a=1,1.5"]
    coordinator = f"localhost:{free_port()}"
    ranks = [
        subprocess.Popen(
            [*PHYS, "run", *SMALL, *ensemble, "--out", "dist.h5", "--distributed", "--coordinator", coordinator,
             "--num-processes", "2", "--process-id", str(rank)],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for rank in (0, 1)
    ]
    single = subprocess.run([*PHYS, "run", *SMALL, *ensemble, "--out", "one.h5"], capture_output=True, text=True, cwd=tmp_path)
    for process in ranks:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
    assert single.returncode == 0, single.stderr
    with h5py.File(tmp_path / "dist.rank0.h5") as f0, h5py.File(tmp_path / "dist.rank1.h5") as f1:
        # One device per process: rows 0-2 on rank 0, 3-5 on rank 1.
        np.testing.assert_array_equal(f0.attrs["ensemble_index"], [0, 1, 2])
        np.testing.assert_array_equal(f1.attrs["ensemble_index"], [3, 4, 5])
    merged = subprocess.run([*PHYS, "merge", "dist.rank1.h5", "dist.rank0.h5", "--out", "merged.h5"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert merged.returncode == 0, merged.stderr
    with h5py.File(tmp_path / "merged.h5") as a, h5py.File(tmp_path / "one.h5") as b:
        np.testing.assert_array_equal(a["t0_fields/u"][...], b["t0_fields/u"][...])
        np.testing.assert_array_equal(a["scalars/seed"][...], b["scalars/seed"][...])
        np.testing.assert_array_equal(a["scalars/a"][...], [1, 1, 1, 1.5, 1.5, 1.5])
        assert a.attrs["n_trajectories"] == 6 and a.attrs["complete"]


@pytest.mark.slow
def test_two_processes_stop_at_the_steady_state_of_the_whole_ensemble(tmp_path: Path) -> None:
    # Re 5 and 10 (rank 0's rows) are steady within a few saves, Re 400 and 800 (rank 1's) not by t = 20:
    # one process runs on, and so must the other, as one process would.
    cavity = ["lid-driven-cavity", "--set", "n=12", "--set", "dt=0.01", "--set", "t_end=20", "--set", "save_dt=0.5",
              "--set", "solver.steady_tol=1e-3", "--sweep", "re=5,10,400,800", "--saves-per-block", "4"]
    coordinator = f"localhost:{free_port()}"
    ranks = [
        subprocess.Popen(
            [*PHYS, "run", *cavity, "--out", "dist.h5", "--distributed", "--coordinator", coordinator,
             "--num-processes", "2", "--process-id", str(rank)],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for rank in (0, 1)
    ]
    single = subprocess.run([*PHYS, "run", *cavity, "--out", "one.h5"], capture_output=True, text=True, cwd=tmp_path)
    for code, _, stderr in finish(ranks, "a process waited for one that had stopped at its own rows' steady state"):
        assert code == 0, stderr
    assert single.returncode == 0, single.stderr
    merged = subprocess.run([*PHYS, "merge", "dist.rank0.h5", "dist.rank1.h5", "--out", "merged.h5"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert merged.returncode == 0, merged.stderr
    with h5py.File(tmp_path / "merged.h5") as a, h5py.File(tmp_path / "one.h5") as b:
        assert int(a.attrs["n_steps_written"]) == int(b.attrs["n_steps_written"]) == 41
        assert "stopped_steady" not in a.attrs and "stopped_steady" not in b.attrs
        # Not bit for bit: XLA's CPU code for the projection scheme's rows differs between a
        # batch of 4 and of 2 by float32 rounding (3e-7 seen, on a lid speed of 1).
        np.testing.assert_allclose(a["t1_fields/velocity"][...], b["t1_fields/velocity"][...], rtol=0, atol=1e-5)


# `phys run` with a CPU block budget of 960 point-steps: 32 points x 3 rows x 10 steps.
SMALL_BUDGET = """
import sys

import solvers.driver as driver
from phys.cli import main

driver._CPU_POINT_STEPS_PER_BLOCK = 960
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_processes_holding_unequal_rows_cut_the_same_blocks(tmp_path: Path) -> None:
    # Five trajectories on two processes: rank 0 holds three, rank 1 two (and a padding row).
    # Sized by its own rows, rank 1 would run blocks of 3 saves against rank 0's 2: their collectives
    # would not match (gloo aborts, or they wait for each other).
    coordinator = f"localhost:{free_port()}"
    ranks = [
        subprocess.Popen(
            [sys.executable, "-c", SMALL_BUDGET, "run", *SMALL, "--batch", "5", "--out", "dist.h5", "--distributed",
             "--coordinator", coordinator, "--num-processes", "2", "--process-id", str(rank)],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for rank in (0, 1)
    ]
    for code, _, stderr in finish(ranks, "the processes cut different blocks and waited for each other"):
        assert code == 0, stderr
    for rank, rows in ((0, [0, 1, 2]), (1, [3, 4])):
        with h5py.File(tmp_path / f"dist.rank{rank}.h5") as file:
            np.testing.assert_array_equal(file.attrs["ensemble_index"], rows)
            assert file.attrs["complete"] and int(file.attrs["n_steps_written"]) == 5
