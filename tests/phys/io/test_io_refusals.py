"""``phys merge``, ``phys validate`` and ``phys plot`` on files they cannot take: one line, exit 2 (1 for an invalid file)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
from io_testkit import append_steps, create_writer, small_case, synthetic

from phys.cli import main
from phys.io.merge import write_ensemble_attrs


def _part(path: Path, case, index: list[int], size: int, complete: bool = True) -> Path:
    data = synthetic(case, len(index), {"u": 0})
    writer = create_writer(path, case, {"u": 0}, len(index))
    write_ensemble_attrs(writer.tmp_path, np.asarray(index), size)
    append_steps(writer, data, case.time.n_saves if complete else 2)
    return writer.finalize() if complete else writer.tmp_path


def test_merge_refuses_another_case_an_incomplete_file_overlaps_and_gaps(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    case = small_case()
    _part(tmp_path / "a.h5", case, [0, 1], 4)
    _part(tmp_path / "b.h5", case, [2, 3], 4)
    _part(tmp_path / "c.h5", small_case(**{"pde.params.a": 1.5}), [2, 3], 4)
    _part(tmp_path / "d.h5", case, [1, 2], 4)
    _part(tmp_path / "e.h5", case, [2, 3], 4, complete=False)
    with h5py.File(tmp_path / "foreign.h5", "w") as f:
        f["x"] = 1.0
    cases = {
        ("a.h5", "c.h5"): "phys: error: c.h5 holds another case than a.h5 (pde.params.a is 1.5 in c.h5, 1.0 in a.h5): not one ensemble",
        ("a.h5", "d.h5"): "phys: error: merge: trajectory 1 is in more than one input file",
        ("a.h5",): "phys: error: merge: the files hold 2 of the ensemble's 4 trajectories; missing 2, 3",
        ("a.h5", "e.h5.tmp"): "phys: error: e.h5.tmp: incomplete file (2 snapshots written); finish it with --resume first",
        ("a.h5", "foreign.h5"): "phys: error: foreign.h5: not written by physax (no case_json attribute)",
    }
    for files, message in cases.items():
        assert main(["merge", *files, "--out", "all.h5"]) == 2
        assert capsys.readouterr().err == message + "\n"
        assert not (tmp_path / "all.h5").exists() and not (tmp_path / "all.h5.tmp").exists()
    assert main(["merge", "b.h5", "a.h5", "--out", "all.h5"]) == 0  # the refusals above were not the files' fault
    with h5py.File(tmp_path / "all.h5") as f:
        np.testing.assert_array_equal(f.attrs["ensemble_index"], [0, 1, 2, 3])


def test_validate_reports_the_first_non_finite_snapshot_on_stderr(tmp_path, capsys) -> None:
    case = small_case()
    data = synthetic(case, 2, {"u": 0})
    data["u"][1, 3, 5] = np.nan
    writer = create_writer(tmp_path / "nan.h5", case, {"u": 0}, 2)
    append_steps(writer, data, case.time.n_saves)
    writer.finalize()
    assert main(["validate", str(tmp_path / "nan.h5")]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"{tmp_path / 'nan.h5'}: /t0_fields/u: non-finite values (NaN or inf) from snapshot 3 of trajectory 1\n"
    data["u"][1, 3, 5] = 0.0
    writer = create_writer(tmp_path / "ok.h5", case, {"u": 0}, 2)
    append_steps(writer, data, case.time.n_saves)
    writer.finalize()
    assert main(["validate", str(tmp_path / "ok.h5")]) == 0


def test_plot_of_a_truncated_or_foreign_file_or_an_unknown_field_is_one_line(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    case = small_case()
    writer = create_writer(tmp_path / "run.h5", case, {"u": 0}, 1)
    append_steps(writer, synthetic(case, 1, {"u": 0}), case.time.n_saves)
    writer.finalize()
    whole = (tmp_path / "run.h5").read_bytes()
    (tmp_path / "cut.h5").write_bytes(whole[: len(whole) // 2])
    with h5py.File(tmp_path / "foreign.h5", "w") as f:
        f["x"] = 1.0
    for args, start in (
        (["cut.h5"], "phys: error: cut.h5: not a readable HDF5 file (truncated or corrupt?)"),
        (["foreign.h5"], "phys: error: foreign.h5: not a file of physax's schema"),
        (["run.h5", "--field", "nope"], "phys: error: run.h5: no field 'nope'; available fields: u"),
        (["run.h5", "--out", "run.xyz"], "phys: error: --out run.xyz: unknown picture format '.xyz'"),
    ):
        assert main(["plot", *args]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith(start), err
    assert not list(tmp_path.glob("*.png*")) and not list(tmp_path.glob("*.xyz*"))
    assert main(["plot", "run.h5"]) == 0 and (tmp_path / "run.png").stat().st_size > 1000
