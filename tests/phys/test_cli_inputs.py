"""Inputs that never crash: each refused in one line, exit status 2, before anything is compiled or written."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from cases import get
from phys.cli import main
from phys.io import TrajectoryWriter

BAD = [
    (["run", "ks", "--set", "dt=1e-30"],
     "phys: error: time.dt: (t_end - t0) / dt = 1.5e+32 steps; at most 2147483647 (the step counter is int32): raise dt or shorten t_end"),
    (["run", "ks", "--set", "t_end=1e12"],
     "phys: error: time.dt: (t_end - t0) / dt = 4e+12 steps; at most 2147483647 (the step counter is int32): raise dt or shorten t_end"),
    (["run", "burgers", "--set", "nu=-0.1"], "phys: error: pde.params.nu: must be non-negative (viscosity), got -0.1"),
    (["run", "lid-driven-cavity", "--set", "re=0"],
     "phys: error: pde.params.re: must be positive (Reynolds number U L / nu (kinematic viscosity is 1/re)), got 0.0"),
    (["run", "ks", "--out", "."], "phys: error: --out .: is a directory; name a file in it, such as ks.h5"),
    (["run", "ks", "--plot", "x.xyz"], "phys: error: --plot x.xyz: unknown picture format '.xyz'; use one of "),
    (["run", "ks-random", "--distributed"],
     "phys: error: --distributed: no coordinator; run under SLURM (srun) or Open MPI (mpirun), "
     "or give all of --coordinator HOST:PORT --num-processes N --process-id I"),
    (["run", "ks", "--max-memory", "12Q"], "phys: error: --max-memory 12Q: expected a size such as 16G, 512M or 2T"),
    # 151 saves x 128 points x 4 bytes = 75.5 KiB on disk; 24 copies x 128 points x 4 bytes = 12 KiB of state.
    (["run", "ks", "--max-memory", "64K"],
     "phys: error: time.save_dt: the run needs about 87.5 KiB (151 saves of 128 points: 75.5 KiB of output, 12 KiB of "
     "solver state), above --max-memory 64 KiB; save less often (save_dt), shorten t_end, use a coarser grid, or raise --max-memory"),
    (["run", "ks", "--ic-trajectory", "1"], "phys: error: --ic-trajectory: needs --ic FILE.h5"),
    (["plot", "missing.h5"], "phys: error: file not found: missing.h5"),
]


@pytest.mark.parametrize("args, message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(args, message, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith(("SLURM_", "OMPI_"))]:
        monkeypatch.delenv(name)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(message), err
    assert list(tmp_path.iterdir()) == []


def test_a_grid_of_a_billion_points_is_refused_by_the_default_limit_naming_the_grid(tmp_path, monkeypatch, capsys) -> None:
    import phys.resources

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(phys.resources, "machine_memory", lambda: 64 * 2**30)
    assert main(["run", "ks", "--set", "n=1e9"]) == 2
    # 24 copies x 1e9 points x 4 bytes = 89.4 GiB of state alone, above the 64 GiB.
    assert capsys.readouterr().err.startswith(
        "phys: error: grid.n: the run needs about 652 GiB (151 saves of 1000000000 points: 563 GiB of output, "
        "89.4 GiB of solver state), above --max-memory 64 GiB (this machine's memory); use a coarser grid"
    )
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_output_directory_is_refused_before_the_solve(tmp_path, monkeypatch, capsys) -> None:
    import phys.cli

    (tmp_path / "ro").mkdir()
    real = os.access
    monkeypatch.setattr(phys.cli.os, "access", lambda path, mode: False if Path(path).name == "ro" else real(path, mode))
    assert main(["run", "ks", "--out", str(tmp_path / "ro" / "ks.h5")]) == 2
    assert capsys.readouterr().err == f"phys: error: --out {tmp_path / 'ro' / 'ks.h5'}: directory {tmp_path / 'ro'} is not writable\n"
    assert main(["run", "ks", "--plot", str(tmp_path / "ro" / "new" / "ks.png")]) == 2
    assert "is not a writable directory" in capsys.readouterr().err
    assert list((tmp_path / "ro").iterdir()) == []


def test_train_out_naming_a_file_is_refused(tmp_path, capsys) -> None:
    (tmp_path / "taken").write_text("x")
    assert main(["train", "burgers", "--out", str(tmp_path / "taken")]) == 2
    assert capsys.readouterr().err == f"phys: error: --out {tmp_path / 'taken'}: exists and is not a directory\n"


def _two_trajectories(path: Path) -> np.ndarray:
    case = get("ks").with_updates({"time.t_end": 1.0})
    n = case.grid.n[0]
    x = case.domain.length[0] * np.arange(n) / n
    writer = TrajectoryWriter.create(path, case, tensor_order={"u": 0}, n_trajectories=2, times=np.arange(2.0), coords=(x,))
    values = np.stack([np.stack([np.cos(x / 16) * (k + 1)] * 2) for k in range(2)])
    writer.append({"u": values})
    writer.finalize()
    return values


def test_an_ic_file_of_several_trajectories_needs_ic_trajectory(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    _two_trajectories(tmp_path / "two.h5")
    assert main(["run", "ks", "--ic", "two.h5", "--out", "out.h5"]) == 2
    assert capsys.readouterr().err == "phys: error: --ic two.h5: holds 2 trajectories; choose one with --ic-trajectory I (0 to 1)\n"
    assert main(["run", "ks", "--ic", "two.h5", "--ic-trajectory", "2", "--out", "out.h5"]) == 2
    assert capsys.readouterr().err == "phys: error: --ic-trajectory 2: two.h5 holds trajectories 0 to 1\n"
    assert not (tmp_path / "out.h5").exists() and not (tmp_path / "out.h5.tmp").exists()


def test_ic_trajectory_and_ic_time_pick_the_start_and_start_the_clock(tmp_path, monkeypatch, capsys) -> None:
    from phys.io import read

    monkeypatch.chdir(tmp_path)
    values = _two_trajectories(tmp_path / "two.h5")
    args = ["run", "ks", "--ic", "two.h5", "--ic-trajectory", "1", "--ic-time", "1", "--set", "t_end=3", "--out", "out.h5"]
    assert main(args) == 0, capsys.readouterr().err
    out = read(tmp_path / "out.h5")
    np.testing.assert_array_equal(out.time, [1.0, 2.0, 3.0])  # t0 = the snapshot's time; t_end as given
    # Trajectory 1 (twice trajectory 0), after the solver's float32 Fourier round trip.
    np.testing.assert_allclose(out["u"][0, 0], values[1, 1], rtol=0, atol=1e-6)
    # Without --set t_end the case keeps its span (150): t_end = 1 + 150.
    from phys.cli import _parser, _with_initial_file

    parsed = _parser().parse_args(["run", "ks", "--ic", "two.h5", "--ic-trajectory", "0", "--ic-time", "1"])
    case = _with_initial_file(get("ks"), parsed)
    assert (case.time.t0, case.time.t_end, case.ic.trajectory) == (1.0, 151.0, 0)


def test_resume_without_a_partial_file_says_it_starts_over(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["run", "ks", "--set", "t_end=2", "--out", "a.h5", "--resume"]) == 0
    assert "phys: --resume: no partial output at a.h5.tmp; starting from the beginning" in capsys.readouterr().err
    assert (tmp_path / "a.h5").exists()
