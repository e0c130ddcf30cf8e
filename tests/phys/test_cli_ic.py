"""``phys run CASE --ic FILE.h5 [--ic-time T]``: continuing a run from a snapshot, and one-line errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from cases import get
from phys.case import CaseError, FileIC
from phys.cli import main
from phys.io import read, read_snapshot
from phys.io._schema import PROVENANCE_ATTRS
from solvers import solve

PHYS = [sys.executable, "-m", "phys.cli"]
KS64 = {"dtype": "float64"}


def phys(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*PHYS, *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def first_half(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``ks`` in float64 to t = 10 (snapshots every 1), written by the command line as a.h5."""
    folder = tmp_path_factory.mktemp("ic")
    result = phys("run", "ks", "--dtype", "float64", "--set", "t_end=10", "--out", "a.h5", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder / "a.h5"


@pytest.fixture(scope="module")
def straight() -> np.ndarray:
    """``ks`` in float64 to t = 20 in one run, in memory: ``[21, n]``."""
    return solve(get("ks").with_updates({**KS64, "time.t_end": 20.0}))["u"][0]


def test_continuing_from_the_last_snapshot_equals_the_straight_run(first_half: Path, straight: np.ndarray) -> None:
    folder = first_half.parent
    result = phys(
        *("run", "ks", "--dtype", "float64", "--set", "t0=10", "--set", "t_end=20"),
        *("--ic", "a.h5", "--out", "b.h5"),
        cwd=folder,
    )
    assert result.returncode == 0, result.stderr
    second = read(folder / "b.h5")
    assert second.case is not None and second.case.ic == FileIC(path="a.h5")
    np.testing.assert_array_equal(second.time, np.arange(10.0, 21.0))
    # The start is the stored snapshot itself, bit for bit.
    np.testing.assert_array_equal(second["u"][0, 0], read(first_half)["u"][0, -1])
    # The only difference from the straight float64 run is the float32 rounding
    # of that start (2^-24 of |u|) and of the stored snapshots, which KS barely
    # amplifies by t = 20: measured 5.4e-8 of max |u|.
    error = np.max(np.abs(second["u"][0] - straight[10:]))
    assert error <= 1e-6 * np.max(np.abs(straight))


def test_ic_time_picks_that_snapshot_also_from_a_file_without_provenance(
    first_half: Path, straight: np.ndarray, tmp_path: Path
) -> None:
    bare = tmp_path / "bare.h5"
    shutil.copy(first_half, bare)
    with h5py.File(bare, "a") as file:
        for key in PROVENANCE_ATTRS:
            del file.attrs[key]
    np.testing.assert_array_equal(read_snapshot(bare, "u", time=5.0), read(first_half)["u"][0, 5])
    case = get("ks").with_updates(
        {**KS64, "time.t0": 5.0, "time.t_end": 15.0, "ic": {"kind": "file", "path": str(bare), "time": 5.0}}
    )
    continued = solve(case)["u"][0]
    # The saved start is the snapshot after a Fourier round trip: equal to float64 rounding.
    np.testing.assert_allclose(continued[0], read(first_half)["u"][0, 5], rtol=0, atol=1e-13)
    assert np.max(np.abs(continued - straight[5:16])) <= 1e-6 * np.max(np.abs(straight))


def _renamed_field_copy(source: Path, target: Path) -> None:
    shutil.copy(source, target)
    with h5py.File(target, "a") as file:
        file.move("t0_fields/u", "t0_fields/w")
        file["t0_fields"].attrs["field_names"] = np.array(["w"], dtype=h5py.string_dtype())


BAD = [
    (["--set", "n=64", "--ic", "a.h5"], "phys: error: ic.path: a.h5 has 128 points along x, the case's grid has 64"),
    (
        ["--set", "length=100", "--ic", "a.h5"],
        "phys: error: ic.path: a.h5 has x from 0 to 99.7456, the case's grid from 0 to 99.2188",
    ),
    (
        ["--ic", "a.h5", "--ic-time", "7.3"],
        "phys: error: ic.time: a.h5: no snapshot at t = 7.3 (11 written, t = 0 to 10)",
    ),
    (["--ic", "w.h5"], "phys: error: ic.path: w.h5: no field 'u'; available fields: w"),
    (["--ic-time", "7"], "phys: error: --ic-time: needs --ic FILE.h5"),
    (["--ic", "missing.h5"], "phys: error: --ic missing.h5: file not found"),
]


@pytest.mark.parametrize("args, message", BAD, ids=["grid-size", "grid-length", "time", "field", "no-ic", "no-file"])
def test_a_file_that_does_not_fit_is_one_line_exit_2_and_no_output(
    args: list[str], message: str, first_half: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    shutil.copy(first_half, tmp_path / "a.h5")
    _renamed_field_copy(first_half, tmp_path / "w.h5")
    monkeypatch.chdir(tmp_path)
    assert main(["run", "ks", *args, "--out", "out.h5"]) == 2
    assert capsys.readouterr().err == message + "\n"
    assert not (tmp_path / "out.h5").exists() and not (tmp_path / "out.h5.tmp").exists()


def test_a_0d_case_refuses_a_1d_file_without_a_traceback(first_half: Path) -> None:
    result = phys("run", "lorenz", "--ic", "a.h5", "--out", "out.h5", cwd=first_half.parent)
    assert result.returncode == 2
    assert result.stderr == "phys: error: ic.path: a.h5 is 1D, the case is 0D\n"
    assert not (first_half.parent / "out.h5").exists()


def test_file_ic_takes_a_time_or_an_index_not_both() -> None:
    with pytest.raises(CaseError) as info:
        get("ks").with_updates({"ic": {"kind": "file", "path": "a.h5", "time": 5.0, "time_index": 3}})
    assert str(info.value) == "ic.time: give time or time_index, not both (time_index is 3)"
