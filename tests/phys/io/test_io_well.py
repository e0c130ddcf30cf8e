"""`phys export --well`: The Well's split layout, stats.yaml against numpy, and bad inputs refused in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml
from io_testkit import SMALL, append_steps, create_writer, synthetic, write_well_file

import phys.io.well as well
from cases import get
from phys.case import Case
from phys.cli import main
from phys.io import export_well, read, validate
from phys.io.well import parse_split, split_counts

# 8 x 6 points, 5 saved times; a scalar, a vector and a tensor field.
TENSOR_ORDER = {"vorticity": 0, "velocity": 1, "stress": 2}


def _ns_case() -> Case:
    return get("ns-decaying").with_updates({**SMALL, "grid.n": [8, 6]})


def _write(path: Path, n_trajectories: int, case: Case | None = None, **kwargs: object) -> dict[str, np.ndarray]:
    """A finished file; each tensor component gets its own offset, so a mixed-up component shows in the stats."""
    case = case or _ns_case()
    order = TENSOR_ORDER if case.n_dims == 2 else {"u": 0}
    data = synthetic(case, n_trajectories, order)
    for name, values in data.items():
        if order[name]:
            values += np.arange(values[0, 0].size // np.prod(case.grid.n)).reshape((case.n_dims,) * order[name])
    writer = create_writer(path, case, order, n_trajectories, **kwargs)
    append_steps(writer, data, case.time.n_saves, block=2)
    writer.finalize()
    return {name: values.astype(np.float32) for name, values in data.items()}


@pytest.mark.parametrize("block_values", [well._BLOCK_VALUES, 100])
def test_stats_yaml_is_the_wells_statistics_of_the_train_trajectories(tmp_path, monkeypatch, block_values) -> None:
    # 100 values a block splits each trajectory into runs of two times: deltas across runs are exercised.
    monkeypatch.setattr(well, "_BLOCK_VALUES", block_values)
    data = _write(tmp_path / "run.h5", 5)
    result = export_well([tmp_path / "run.h5"], tmp_path / "root", "ns", parse_split("train=0.6,valid=0.2,test=0.2"))
    stats = yaml.safe_load((result.path / "stats.yaml").read_text())
    assert sorted(stats) == ["mean", "mean_delta", "rms", "rms_delta", "std", "std_delta"]
    for name, order in TENSOR_ORDER.items():
        train = data[name][:3].astype(np.float64)  # trajectories 0, 1, 2 are the train split
        delta = np.diff(train, axis=1)  # u[:, t + 1] - u[:, t] within each trajectory
        axes = tuple(range(train.ndim - order))  # trajectories, times and points; not components
        expected = {
            "mean": train.mean(axis=axes), "std": train.std(axis=axes), "rms": np.sqrt((train**2).mean(axis=axes)),
            "mean_delta": delta.mean(axis=axes), "std_delta": delta.std(axis=axes),
            "rms_delta": np.sqrt((delta**2).mean(axis=axes)),
        }
        for statistic, value in expected.items():
            got = np.asarray(stats[statistic][name])
            assert got.dtype == np.float64 and got.shape == (2,) * order, (statistic, name)
            np.testing.assert_allclose(got, value, rtol=1e-10, atol=1e-12, err_msg=f"{statistic}[{name}]")
    # The offsets make the components' means 0, 1 (vector) and 0..3 (tensor): each one in its place.
    assert np.round(stats["mean"]["velocity"]).tolist() == [0.0, 1.0]
    assert np.round(stats["mean"]["stress"]).tolist() == [[0.0, 1.0], [2.0, 3.0]]


def test_an_ensemble_is_cut_into_consecutive_runs_of_trajectories_per_split(tmp_path) -> None:
    seeds = np.array([11, 12, 13, 14, 15])
    data = _write(tmp_path / "run.h5", 5, scalars={"nu": np.linspace(1e-3, 5e-3, 5)}, seeds=seeds)
    result = export_well([tmp_path / "run.h5"], tmp_path / "root", "ns", parse_split("train=0.6,valid=0.2,test=0.2"))
    assert result.path == tmp_path / "root" / "ns" and result.trajectories == {"train": 3, "valid": 1, "test": 1}
    layout = sorted(str(path.relative_to(result.path)) for path in result.path.rglob("*") if path.is_file())
    assert layout == [
        "data/test/run.traj4-4.h5", "data/train/run.traj0-2.h5", "data/valid/run.traj3-3.h5", "stats.yaml"
    ]
    assert [p.name for p in (tmp_path / "root").iterdir()] == ["ns"]  # no work folder left behind
    for split, (start, stop) in {"train": (0, 3), "valid": (3, 4), "test": (4, 5)}.items():
        (path,) = result.files[split]
        assert validate(path) == []
        fields = read(path)
        for name in TENSOR_ORDER:
            np.testing.assert_array_equal(fields.values[name], data[name][start:stop])
        with h5py.File(path) as file:
            assert file.attrs["n_trajectories"] == stop - start
            assert file["scalars/seed"][()].tolist() == seeds[start:stop].tolist()
            # A swept parameter is per trajectory in the root attributes and in /scalars.
            np.testing.assert_allclose(file.attrs["nu"], np.linspace(1e-3, 5e-3, 5)[start:stop])
            np.testing.assert_allclose(file["scalars/nu"][()], np.linspace(1e-3, 5e-3, 5)[start:stop], rtol=1e-6)
            assert {file["boundary_conditions"][g].attrs["bc_type"] for g in file["boundary_conditions"]} == {"PERIODIC"}
            assert "solver_state" not in file
            assert file["t0_fields/vorticity"].chunks == (1, 1, 8, 6)  # still one snapshot per chunk


def test_single_trajectory_files_go_whole_to_their_split_in_the_order_given(tmp_path) -> None:
    paths = [tmp_path / f"seed{seed}.h5" for seed in (3, 1, 2, 4, 5)]
    for path in paths:
        _write(path, 1)
    result = export_well(paths, tmp_path / "root", "ns", parse_split("train=0.6,valid=0.2,test=0.2"))
    assert {split: [p.name for p in files] for split, files in result.files.items()} == {
        "train": ["seed3.h5", "seed1.h5", "seed2.h5"], "valid": ["seed4.h5"], "test": ["seed5.h5"]
    }


def test_old_files_with_lower_case_bc_type_are_exported_in_the_wells_spelling(tmp_path) -> None:
    _write(tmp_path / "old.h5", 2)
    with h5py.File(tmp_path / "old.h5", "a") as file:
        for group in file["boundary_conditions"].values():
            group.attrs["bc_type"] = "periodic"
    result = export_well([tmp_path / "old.h5"], tmp_path / "root", "ns", {"train": 1.0})
    with h5py.File(result.files["train"][0]) as file:
        assert [g.attrs["bc_type"] for g in file["boundary_conditions"].values()] == ["PERIODIC", "PERIODIC"]


def test_an_ode_file_is_exported_with_scalar_statistics(tmp_path, capsys) -> None:
    lorenz = get("lorenz").with_updates({"time.t_end": 1.0, "time.save_dt": 0.25, "time.dt": 0.125})
    data = _write(tmp_path / "lorenz.h5", 2, lorenz)
    assert main(["export", str(tmp_path / "lorenz.h5"), "--well", str(tmp_path / "root"), "--name", "lorenz"]) == 0
    out = capsys.readouterr().out
    assert "return_grid=False" in out  # the-well's grid code fails on zero spatial dims
    stats = yaml.safe_load((tmp_path / "root" / "lorenz" / "stats.yaml").read_text())
    train = data["u"][:2].astype(np.float64)  # 2 trajectories: largest remainders give train both
    assert stats["mean"]["u"] == pytest.approx(train.mean(), rel=1e-12)
    assert stats["std_delta"]["u"] == pytest.approx(np.diff(train, axis=1).std(), rel=1e-12)


@pytest.mark.parametrize(
    ("n", "fractions", "expected"),
    [
        (10, {"train": 0.8, "valid": 0.1, "test": 0.1}, (8, 1, 1)),
        (10, {"train": 0.7, "valid": 0.2, "test": 0.1}, (7, 2, 1)),  # 0.7 * 10 is 6.999...: still 7
        (3, {"train": 0.8, "valid": 0.1, "test": 0.1}, (3, 0, 0)),
        (5, {"train": 0.8, "valid": 0.1, "test": 0.1}, (4, 1, 0)),  # a tie of remainders goes to valid first
        (7, {"train": 0.5, "test": 0.5}, (4, 0, 3)),
        (1, {"train": 1.0}, (1, 0, 0)),
    ],
)
def test_split_counts_follow_the_largest_remainder_rule(n, fractions, expected) -> None:
    assert tuple(split_counts(n, fractions).values()) == expected


def test_parse_split_fills_missing_splits_with_zero() -> None:
    assert parse_split("train=0.9, test=0.1") == {"train": 0.9, "valid": 0.0, "test": 0.1}


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    good = str(tmp_path / "good.h5")
    text = tmp_path / "notes.h5"
    text.write_text("not hdf5")
    theirs = write_well_file(tmp_path / "theirs.h5", (8, 6))
    other = tmp_path / "other.h5"
    _write(other, 1, get("ks").with_updates(SMALL))
    (tmp_path / "root" / "taken").mkdir(parents=True)
    root = ["--well", str(tmp_path / "root"), "--name"]
    return {
        "unknown split": ([good, *root, "ns", "--split", "train=0.8,dev=0.2"], "unknown split 'dev'"),
        "fractions not summing to 1": ([good, *root, "ns", "--split", "train=0.8,valid=0.1"], "sum to 0.9, not 1"),
        "a fraction out of range": ([good, *root, "ns", "--split", "train=1.5,test=-0.5"], "not a fraction"),
        "no train trajectory": ([good, *root, "ns", "--split", "valid=0.5,test=0.5"], "leaves the train split none"),
        "existing output": ([good, *root, "taken"], "already exists"),
        "a text file": ([str(text), *root, "ns"], "not a complete physax file"),
        "a file of The Well itself": ([str(theirs), *root, "ns"], "not a complete physax file"),
        "two kinds of data": ([good, str(other), *root, "ns"], "one Well dataset holds one kind of data"),
        "a missing file": ([str(tmp_path / "none.h5"), *root, "ns"], "file not found"),
        "--name without --well": ([good, "--name", "ns"], "--name and --split go with --well"),
        "--well without --name": ([good, "--well", str(tmp_path / "root")], "--well needs --name"),
        "a path as name": ([good, *root, "a/b"], "must be a folder name"),
        "xdmf of a text file": ([str(text)], "not a readable HDF5 file"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "unknown split", "fractions not summing to 1", "a fraction out of range", "no train trajectory",
        "existing output", "a text file", "a file of The Well itself", "two kinds of data", "a missing file",
        "--name without --well", "--well without --name", "a path as name", "xdmf of a text file",
    ],
)
def test_bad_export_input_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, case) -> None:
    _write(tmp_path / "good.h5", 3)
    argv, message = _bad_inputs(tmp_path)[case]
    before = sorted(str(path) for path in tmp_path.rglob("*"))
    assert main(["export", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("phys: error: ") and captured.err.count("\n") == 1 and message in captured.err
    assert sorted(str(path) for path in tmp_path.rglob("*")) == before  # nothing written, not even a sidecar


def test_export_without_well_writes_a_sidecar_per_file(tmp_path, capsys) -> None:
    for name in ("a.h5", "b.h5"):
        _write(tmp_path / name, 1)
    assert main(["export", str(tmp_path / "a.h5"), str(tmp_path / "b.h5")]) == 0
    assert capsys.readouterr().out.splitlines() == [f"wrote {tmp_path / 'a.xdmf'}", f"wrote {tmp_path / 'b.xdmf'}"]


def test_export_to_the_well_imports_no_jax(tmp_path) -> None:
    _write(tmp_path / "run.h5", 2)
    probe = "import sys\nfrom phys.cli import main\nrc = main(sys.argv[1:])\nprint('jax' in sys.modules)\nsys.exit(rc)\n"
    argv = ["export", str(tmp_path / "run.h5"), "--well", str(tmp_path / "root"), "--name", "ns"]
    result = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "False"
