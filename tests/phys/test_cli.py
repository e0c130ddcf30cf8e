"""The ``phys`` command line: listing, showing, running, validating, and one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from cases import REGISTRY, get
from phys.io import read, validate
from solvers import solve

PHYS = [sys.executable, "-m", "phys.cli"]


def phys(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*PHYS, *args], capture_output=True, text=True, cwd=cwd)


def test_cases_lists_builtins_with_descriptions(tmp_path: Path) -> None:
    result = phys("cases", cwd=tmp_path)
    assert result.returncode == 0
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines())
    assert set(lines) >= {"ks", "ks-random"}
    assert "Kassam & Trefethen" in lines["ks"]


def test_show_applies_overrides(tmp_path: Path) -> None:
    result = phys("show", "ks", "--set", "n=256", "--set", "a=2", "--seed", "5", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["grid"]["n"] == [256] and data["pde"]["params"]["a"] == 2.0 and data["seed"] == 5


def test_run_writes_a_valid_file_equal_to_the_in_memory_solve(tmp_path: Path) -> None:
    result = phys("run", "ks", "--set", "t_end=20", "--out", "ks.h5", "--plot", "ks.png", "--xdmf", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert validate(tmp_path / "ks.h5") == []
    assert (tmp_path / "ks.png").stat().st_size > 1000 and (tmp_path / "ks.xdmf").exists()
    assert not (tmp_path / "ks.h5.tmp").exists()
    fields = read(tmp_path / "ks.h5")
    case = get("ks").with_updates({"time.t_end": 20.0})
    assert fields.case == case
    expected = solve(case)["u"]
    np.testing.assert_allclose(fields["u"], expected, rtol=0, atol=1e-5)


def test_run_accepts_python_and_json_case_files(tmp_path: Path) -> None:
    case = get("ks").with_updates({"time.t_end": 4.0, "grid.n": 32})
    (tmp_path / "case.json").write_text(case.to_json())
    (tmp_path / "case.py").write_text(
        "from cases import REGISTRY, get\nCASE = get('ks').with_updates({'time.t_end': 4.0, 'grid.n': 32})\n"
    )
    for spec in ("case.json", "case.py"):
        result = phys("run", spec, "--out", f"{spec}.h5", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        with h5py.File(tmp_path / f"{spec}.h5") as f:
            assert f.attrs["case_sha256"] == case.sha256()


BAD = [
    (["run", "ks", "--set", "dt=-1"], "phys: error: time.dt: must be positive, got -1.0"),
    (["run", "ks", "--set", "n=0"], "phys: error: grid.n: must be a positive integer, got 0"),
    (["run", "ks", "--set", "t_end=-5"], "phys: error: time.t_end: must be after t0 = 0.0, got -5.0"),
    (
        ["run", "ks", "--set", "nu=0.1"],
        "phys: error: --set nu: unknown key; allowed: n, dt, t0, t_end, save_dt, length, origin, dtype, seed, order, dealias, phi, "
        "contour_points, cfl, a, b, c, a top-level field such as bcs, or a dotted path such as time.dt",
    ),
    (
        ["run", "ks", "--set", "pde.params.nu=0.1"],
        "phys: error: pde.params.nu: unknown parameter for PDE 'kuramoto-sivashinsky'; allowed: a, b, c",
    ),
    (["run", "ks", "--set", "a=nan"], "phys: error: pde.params.a: must be a finite number, got nan"),
    (
        ["run", "ks", "--set", 'bcs=[{"kind": "slip"}]'],
        "phys: error: bcs[0].kind: unknown boundary condition kind 'slip'; allowed: periodic, dirichlet, neumann, wall, inflow-outflow",
    ),
    (["run", "nope"], f"phys: error: unknown case 'nope'; built-in cases: {', '.join(sorted(REGISTRY))} "
        "(or a .py / .json file)"),
    (["run", "missing.json"], "phys: error: case file not found: missing.json"),
    (["run", "ks", "--dtype", "float16"], "phys: error: dtype: must be 'float32' or 'float64', got 'float16'"),
    (["run", "ks", "--set", "dt"], "phys: error: --set dt: expected key=value"),
    (["run", "ks", "--out", "no/such/dir/ks.h5"], "phys: error: --out no/such/dir/ks.h5: directory no/such/dir does not exist"),
    (
        ["run", "cylinder", "--set", "n=[88,16]"],
        "phys: error: grid.n: geometry.obstacles[0] spans 3.9 cells across on the grid (88, 16); "
        "the immersed boundary needs at least 8: refine grid.n",
    ),
    (
        ["run", "cylinder", "--set", 'geometry.obstacles=[{"kind": "disc", "center": [0.06, 0.2], "radius": 0.05}]'],
        "phys: error: geometry.obstacles[0]: cuts the inflow: 0.01 from x = 0, less than 4 cells (0.02) of fluid",
    ),
    (
        ["run", "cylinder", "--set", 'boundary.lid={"kind": "wall", "speed": 1}'],
        "phys: error: boundary.lid: unknown piece 'lid'; pieces: inlet, outlet, walls, cylinder",
    ),
]


@pytest.mark.parametrize("args, message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_exit_2_no_files_and_no_jax(tmp_path: Path, args: list[str], message: str) -> None:
    probe = (
        "import sys\nfrom phys.cli import main\nrc = main(sys.argv[1:])\n"
        "print('jax' in sys.modules, file=sys.stdout)\nsys.exit(rc)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [message]
    assert result.stdout.strip() == "False"  # validated before JAX was imported
    assert list(tmp_path.iterdir()) == []


def test_case_file_without_case_is_reported(tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_text("x = 1\n")
    result = phys("run", "empty.py", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["phys: error: empty.py must define CASE = phys.Case(...)"]


def test_blow_up_exits_1_with_the_step_and_leaves_no_complete_file(tmp_path: Path) -> None:
    result = phys("run", "ks", "--set", "b=-1", "--out", "bad.h5", cwd=tmp_path)
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert "non-finite" in result.stderr and "at step" in result.stderr
    assert "snapshots before it are kept in bad.h5.tmp" in result.stderr
    assert not (tmp_path / "bad.h5").exists() and (tmp_path / "bad.h5.tmp").exists()


def test_validate_reports_a_good_file_and_a_broken_one(tmp_path: Path) -> None:
    assert phys("run", "ks", "--set", "t_end=4", "--out", "ks.h5", cwd=tmp_path).returncode == 0
    good = phys("validate", "ks.h5", cwd=tmp_path)
    assert good.returncode == 0 and "valid" in good.stdout
    with h5py.File(tmp_path / "ks.h5", "a") as f:
        del f["dimensions"]
    bad = phys("validate", "ks.h5", cwd=tmp_path)
    assert bad.returncode == 1 and "dimensions" in bad.stderr and bad.stdout == ""


# A run long enough to be stopped part-way: ~20,000 ETDRK4 steps.
LONG = ["--set", "n=256", "--set", "dt=0.05", "--set", "t_end=1000", "--set", "save_dt=1", "--saves-per-block", "25"]


def _written(tmp: Path) -> int:
    try:
        with h5py.File(tmp, "r", locking=False) as f:
            return int(f.attrs["n_steps_written"])
    except (OSError, KeyError):
        return 0


def _catches_sigint(pid: int) -> bool:
    """Whether process ``pid`` has a handler for SIGINT (Linux: bit 2 of SigCgt in /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    return False


# A child inherits an ignored SIGINT (a test run started in the background of a
# non-interactive shell ignores it), and Python then installs no KeyboardInterrupt
# handler: the signal would be swallowed and the run finish. The run is started
# with Python's own handler, as an interactive shell's child has it.
INTERRUPTIBLE = [
    sys.executable, "-c",
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'phys'; runpy.run_module('phys.cli', run_name='__main__')",
]


def _interrupt(tmp_path: Path, sig: int) -> tuple[int, str]:
    process = subprocess.Popen([*INTERRUPTIBLE, "run", "ks", *LONG, "--out", "run.h5"], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while _written(tmp_path / "run.h5.tmp") < 100 and time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    # Frozen before it is judged: a stopped run can neither finish nor write, so
    # the signal lands part-way however late this process was scheduled.
    os.kill(process.pid, signal.SIGSTOP)
    try:
        assert process.poll() is None, "the run finished before it could be stopped"
        assert _written(tmp_path / "run.h5.tmp") < 1001
        if sig == signal.SIGINT and Path("/proc").is_dir():
            assert _catches_sigint(process.pid), "the run has no SIGINT handler"
        os.kill(process.pid, sig)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)  # the pending SIGINT is delivered now
    _, stderr = process.communicate(timeout=60)
    return process.returncode, stderr


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_interrupted_then_resumed_run_equals_an_uninterrupted_one(tmp_path: Path, sig: int) -> None:
    returncode, stderr = _interrupt(tmp_path, sig)
    if sig == signal.SIGINT:
        assert returncode == 130, stderr
        assert "run again with --resume" in stderr
    assert not (tmp_path / "run.h5").exists()
    stopped_at = _written(tmp_path / "run.h5.tmp")
    assert 100 <= stopped_at < 1001
    resumed = phys("run", "ks", *LONG, "--out", "run.h5", "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    straight = phys("run", "ks", *LONG, "--out", "straight.h5", cwd=tmp_path)
    assert straight.returncode == 0, straight.stderr
    with h5py.File(tmp_path / "run.h5") as a, h5py.File(tmp_path / "straight.h5") as b:
        np.testing.assert_array_equal(a["t0_fields/u"][...], b["t0_fields/u"][...])
        assert a.attrs["complete"] and a.attrs["n_steps_written"] == 1001
    assert validate(tmp_path / "run.h5") == []


def test_resume_of_another_case_or_a_corrupt_file_is_one_line_exit_2(tmp_path: Path) -> None:
    assert phys("run", "ks", "--set", "t_end=2", "--out", "a.h5", cwd=tmp_path).returncode == 0
    other = phys("run", "ks", "--set", "t_end=3", "--out", "a.h5", "--resume", cwd=tmp_path)
    assert other.returncode == 2 and len(other.stderr.splitlines()) == 1
    assert other.stderr == "phys: error: a.h5 holds another case (time.t_end is 2.0 in the file, 3.0 here): delete it or drop --resume\n"
    (tmp_path / "b.h5.tmp").write_text("not hdf5")
    corrupt = phys("run", "ks", "--out", "b.h5", "--resume", cwd=tmp_path)
    assert corrupt.returncode == 2 and len(corrupt.stderr.splitlines()) == 1
    assert "b.h5.tmp: not a readable HDF5 file" in corrupt.stderr
    with h5py.File(tmp_path / "a.h5") as f:  # the complete file was not touched
        assert f.attrs["complete"] and f["t0_fields/u"].shape[1] == 3


def test_resume_of_a_complete_file_rewrites_nothing(tmp_path: Path) -> None:
    assert phys("run", "ks", "--set", "t_end=2", "--out", "a.h5", cwd=tmp_path).returncode == 0
    before = (tmp_path / "a.h5").stat().st_mtime_ns
    again = phys("run", "ks", "--set", "t_end=2", "--out", "a.h5", "--resume", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "a.h5").stat().st_mtime_ns == before
