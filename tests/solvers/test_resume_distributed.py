"""``phys run --distributed --resume``: rank files interrupted at different blocks resume to an uninterrupted run.

A job killed mid-run does not stop its processes at the same instant: one
rank may have written a block that another had computed but not yet
written. The ranks must then agree on where to continue (every compiled
call needs all of them), or the resumed run hangs or pairs the wrong steps.
Two processes on localhost use ``jax.distributed`` with CPU (gloo)
collectives, each in a fresh interpreter.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Callable

import h5py
import numpy as np
import pytest
from ranks_testkit import finish, free_port

PHYS = [sys.executable, "-m", "phys.cli"]
# Nine saves in blocks of two: the start and four blocks.
SMALL = ["ks-random", "--set", "n=32", "--set", "t_end=2", "--set", "save_dt=0.25", "--set", "dt=0.05", "--seed", "11",
         "--batch", "4", "--saves-per-block", "2"]

# One rank of `phys run --distributed`, killed at its append number KILL: after
# writing it ("after:KILL"), while writing it ("before:KILL"), or never ("none").
INTERRUPTED = """
import sys

import phys.io.hdf5 as hdf5
from phys.cli import main

when, _, kill = sys.argv[1].partition(":")
original = hdf5.TrajectoryWriter.append
calls = [0]

class Killed(Exception):
    pass

def append(self, snapshots, solver_state=None):
    calls[0] += 1
    if when == "before" and calls[0] == int(kill):
        raise Killed
    original(self, snapshots, solver_state)
    if when == "after" and calls[0] == int(kill):
        raise Killed

hdf5.TrajectoryWriter.append = append
try:
    main(sys.argv[2:])
except Killed:
    print("killed at append", calls[0])
"""

# (rank 0's kill, rank 1's kill, snapshots each rank's file holds then, rank 0's file complete).
SKEWS = {
    # Rank 0 wrote the start and two blocks; rank 1 only the start and one.
    "one block apart": ("after:3", "before:3", (5, 3), False),
    # Rank 0 finished and renamed its file; rank 1 was killed writing its last block.
    "one rank complete": ("none", "before:5", (9, 7), True),
}


def _two_ranks(tmp_path: Path, command: Callable[[int], list[str]], extra: list[str], *, exit_code: int = 0) -> list[str]:
    """``command(rank) run ...`` for ranks 0 and 1 together; their stdout, or stderr when ``exit_code`` is not 0."""
    coordinator = f"localhost:{free_port()}"
    flags = ["--distributed", "--coordinator", coordinator, "--num-processes", "2"]
    ranks = [
        subprocess.Popen(
            [*command(rank), "run", *SMALL, "--out", "dist.h5", *extra, *flags, "--process-id", str(rank)],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for rank in (0, 1)
    ]
    outputs = []
    for code, stdout, stderr in finish(ranks, "the ranks did not finish: they disagree on where to continue"):
        assert code == exit_code, stderr
        outputs.append(stdout if exit_code == 0 else stderr)
    return outputs


def _written(path: Path) -> int:
    with h5py.File(path) as file:
        return int(file.attrs["n_steps_written"])


@pytest.fixture(scope="module")
def straight(tmp_path_factory) -> np.ndarray:
    """The uninterrupted single-process run's snapshots of every row."""
    folder = tmp_path_factory.mktemp("straight")
    single = subprocess.run([*PHYS, "run", *SMALL, "--out", "one.h5"], capture_output=True, text=True, cwd=folder)
    assert single.returncode == 0, single.stderr
    with h5py.File(folder / "one.h5") as one:
        return one["t0_fields/u"][...]


def _refuse_a_file_of_another_ensemble(tmp_path: Path) -> None:
    """A rank file that cannot be resumed makes every rank refuse in one line, and nothing is rewound or overwritten."""
    with h5py.File(tmp_path / "dist.rank1.h5.tmp", "a") as file:
        file["scalars/seed"][0] += 1  # as if left by a run with another --seed
    errors = _two_ranks(tmp_path, lambda rank: PHYS, ["--resume"], exit_code=2)
    assert errors[0].splitlines()[-1] == "phys: error: process(es) 1 cannot resume their files (see their messages)"
    assert errors[1].splitlines()[-1] == (
        "phys: error: dist.rank1.h5.tmp holds another ensemble of this case (the seeds differ (--seed)): "
        "delete it or drop --resume"
    )
    assert _written(tmp_path / "dist.rank0.h5.tmp") == 5
    assert _written(tmp_path / "dist.rank1.h5.tmp") == 3
    with h5py.File(tmp_path / "dist.rank1.h5.tmp", "a") as file:
        file["scalars/seed"][0] -= 1


@pytest.mark.slow
@pytest.mark.parametrize("skew", sorted(SKEWS))
def test_ranks_interrupted_at_different_blocks_resume_to_the_uninterrupted_run(tmp_path: Path, skew: str,
                                                                               straight: np.ndarray) -> None:
    kills, written, complete = SKEWS[skew][:2], SKEWS[skew][2], SKEWS[skew][3]
    _two_ranks(tmp_path, lambda rank: [sys.executable, "-c", INTERRUPTED, kills[rank]], [])
    assert _written(tmp_path / ("dist.rank0.h5" if complete else "dist.rank0.h5.tmp")) == written[0]
    assert _written(tmp_path / "dist.rank1.h5.tmp") == written[1]
    if skew == "one block apart":
        # The refusal leaves the files as they were: the resume below still continues them.
        _refuse_a_file_of_another_ensemble(tmp_path)

    _two_ranks(tmp_path, lambda rank: PHYS, ["--resume"])
    for rank in (0, 1):
        assert not (tmp_path / f"dist.rank{rank}.h5.tmp").exists()
        with h5py.File(tmp_path / f"dist.rank{rank}.h5") as file:
            assert file.attrs["complete"] and int(file.attrs["n_steps_written"]) == 9
            rows = np.asarray(file.attrs["ensemble_index"])
            np.testing.assert_array_equal(rows, [0, 1] if rank == 0 else [2, 3])
            np.testing.assert_array_equal(file["t0_fields/u"][...], straight[rows])
