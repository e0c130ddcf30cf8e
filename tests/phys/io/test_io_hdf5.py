"""The HDF5 writer, readers and validator (phys/io/hdf5.py)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from io_testkit import append_steps, create_writer, small_case, synthetic

from phys.case import Case
from phys.io import TrajectoryWriter, read, read_snapshot, validate

# -- a finished file ---------------------------------------------------------


def test_finished_file_is_valid_and_carries_every_attribute(finished_run, case: Case) -> None:
    path, _, _ = finished_run
    assert validate(path) == []
    assert not Path(str(path) + ".tmp").exists()
    with h5py.File(path, "r") as file:
        attrs = file.attrs
        assert list(attrs["simulation_parameters"]) == ["a", "b", "c"]
        assert attrs["a"] == 1.0 and attrs["b"] == 1.0 and attrs["c"] == 1.0
        assert attrs["dataset_name"] == "ks"
        assert attrs["grid_type"] == "cartesian"
        assert attrs["n_spatial_dims"] == 1
        assert attrs["n_trajectories"] == 2
        assert attrs["case_json"] == case.canonical_json()
        assert attrs["case_sha256"] == hashlib.sha256(case.canonical_json().encode()).hexdigest() == case.sha256()
        assert attrs["physax_version"] == importlib.metadata.version("physax")
        assert attrs["jax_version"] == importlib.metadata.version("jax")
        assert attrs["solve_dtype"] == "float32"
        assert attrs["seed"] == case.seed
        assert attrs["n_steps_written"] == 5
        assert bool(attrs["complete"]) is True

        assert list(file["dimensions"].attrs["spatial_dims"]) == ["x"]
        for name, time_varying in (("time", True), ("x", False)):
            assert file["dimensions"][name].dtype == np.float32
            assert not file["dimensions"][name].attrs["sample_varying"]
            assert bool(file["dimensions"][name].attrs["time_varying"]) is time_varying
        np.testing.assert_array_equal(file["dimensions/time"][()], np.float32([0, 0.5, 1, 1.5, 2]))

        bc = file["boundary_conditions/x_periodic"]
        assert list(bc.attrs["associated_dims"]) == ["x"] and len(bc.attrs["associated_fields"]) == 0
        assert (bc.attrs["bc_type"], bc.attrs["kind"]) == ("PERIODIC", "periodic")
        assert (bc.attrs["lower"], bc.attrs["upper"]) == (0.0, 0.0)
        assert not bc.attrs["sample_varying"] and not bc.attrs["time_varying"]
        assert np.flatnonzero(bc["mask"][()]).tolist() == [0, 15]
        assert bc["values"].shape == (0,) and bc["values"].dtype == np.float32

        scalars = file["scalars"]
        assert list(scalars.attrs["field_names"]) == ["a", "b", "c"]
        assert scalars["a"].shape == () and scalars["a"].dtype == np.float32
        assert not scalars["a"].attrs["sample_varying"] and not scalars["a"].attrs["time_varying"]
        assert scalars["seed"].dtype == np.int64 and scalars["seed"][()].tolist() == [case.seed] * 2
        assert scalars["seed"].attrs["sample_varying"]

        expected = {
            "t0_fields": ("u", (2, 5, 16)),
            "t1_fields": ("flux", (2, 5, 16, 1)),
            "t2_fields": ("stress", (2, 5, 16, 1, 1)),
        }
        for group, (name, shape) in expected.items():
            assert list(file[group].attrs["field_names"]) == [name]
            dataset = file[group][name]
            assert dataset.shape == shape and dataset.dtype == np.float32
            assert dataset.chunks == (1, 1, *shape[2:])
            assert dataset.compression == "gzip" and dataset.shuffle
            assert dataset.attrs["dim_varying"].tolist() == [True]
            assert dataset.attrs["sample_varying"] and dataset.attrs["time_varying"]
        assert not file["t2_fields/stress"].attrs["symmetric"]
        assert not file["t2_fields/stress"].attrs["antisymmetric"]


def test_read_returns_the_written_arrays_and_the_case(finished_run, case: Case) -> None:
    path, data, tensor_order = finished_run
    fields = read(path)
    assert set(fields.values) == set(data)
    for name, values in data.items():
        assert fields[name].dtype == np.float32
        np.testing.assert_array_equal(fields[name], values.astype(np.float32))
    assert dict(fields.tensor_order) == tensor_order
    assert fields.case == case and fields.case.sha256() == case.sha256()
    np.testing.assert_array_equal(fields.time, np.float32([0, 0.5, 1, 1.5, 2]))
    np.testing.assert_array_equal(fields.coords["x"], (case.domain.length[0] * np.arange(16) / 16).astype(np.float32))
    assert fields.scalars["a"] == 1.0 and fields.scalars["seed"].tolist() == [0, 0]
    assert fields.attrs["complete"] is True and fields.attrs["simulation_parameters"] == ["a", "b", "c"]
    assert fields.n_trajectories == 2 and fields.n_dims == 1


def test_per_trajectory_scalars_and_seeds_are_stored_sample_varying(tmp_path: Path, case: Case) -> None:
    writer = create_writer(
        tmp_path / "run.h5", case, {"u": 0}, 3, scalars={"a": np.array([0.5, 1.0, 1.5]), "b": 2.0}, seeds=np.arange(3)
    )
    append_steps(writer, synthetic(case, 3, {"u": 0}), 5, block=5)
    path = writer.finalize()
    assert validate(path) == []
    with h5py.File(path, "r") as file:
        assert file["scalars/a"].shape == (3,) and file["scalars/a"].attrs["sample_varying"]
        assert file["scalars/b"].shape == () and not file["scalars/b"].attrs["sample_varying"]
        assert file.attrs["b"] == 2.0 and list(file.attrs["simulation_parameters"]) == ["a", "b"]
    assert read(path).scalars["seed"].tolist() == [0, 1, 2]


def test_phys_io_does_not_import_jax() -> None:
    code = "import sys, phys.io; assert 'jax' not in sys.modules, sorted(m for m in sys.modules if 'jax' in m)"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- validate ----------------------------------------------------------------


def _delete_group(file: h5py.File) -> None:
    del file["t1_fields"]


def _float64_field(file: h5py.File) -> None:
    values, attrs = file["t0_fields/u"][()], dict(file["t0_fields/u"].attrs)
    del file["t0_fields/u"]
    file["t0_fields"].create_dataset(
        "u", data=values.astype(np.float64), chunks=(1, 1, 16), compression="gzip", shuffle=True
    )
    file["t0_fields/u"].attrs.update(attrs)


def _tamper_case_json(file: h5py.File) -> None:
    data = json.loads(file.attrs["case_json"])
    data["pde"]["params"]["a"] = 2.0
    file.attrs["case_json"] = json.dumps(data, sort_keys=True, separators=(",", ":"))


def _whole_field_chunks(file: h5py.File) -> None:
    values, attrs = file["t0_fields/u"][()], dict(file["t0_fields/u"].attrs)
    del file["t0_fields/u"]
    file["t0_fields"].create_dataset("u", data=values, chunks=values.shape)
    file["t0_fields/u"].attrs.update(attrs)


def _unlisted_field(file: h5py.File) -> None:
    file["t0_fields"].attrs["field_names"] = np.array([], dtype=h5py.string_dtype())


def _wrong_time_axis(file: h5py.File) -> None:
    del file["dimensions/time"]
    file["dimensions/time"] = np.float32([0.0, 1.0, 2.0])
    file["dimensions/time"].attrs.update({"sample_varying": False, "time_varying": True})


def _drop_root_attr(file: h5py.File) -> None:
    del file.attrs["n_trajectories"]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (_delete_group, "/t1_fields"),
        (_float64_field, "/t0_fields/u: dtype float64, expected float32"),
        (_tamper_case_json, "case_sha256"),
        (_whole_field_chunks, "/t0_fields/u: chunks"),
        (_whole_field_chunks, "/t0_fields/u: compression"),
        (_unlisted_field, "dataset 'u' is not listed in field_names"),
        (_wrong_time_axis, "/t0_fields/u: shape (2, 5, 16), expected (2, 3, 16)"),
        (_drop_root_attr, "'n_trajectories' is missing"),
    ],
)
def test_validate_reports_each_schema_break(finished_run, edit, expected: str) -> None:
    path, _, _ = finished_run
    with h5py.File(path, "a") as file:
        edit(file)
    problems = validate(path)
    assert any(expected in problem for problem in problems), problems


def test_validate_reports_a_file_that_is_not_hdf5(tmp_path: Path) -> None:
    path = tmp_path / "notes.h5"
    path.write_text("not hdf5")
    (problem,) = validate(path)
    assert "not a readable HDF5 file" in problem


# -- incomplete files --------------------------------------------------------


def test_incomplete_file_is_reported_and_read_only_on_request(tmp_path: Path, case: Case) -> None:
    data = synthetic(case, 2, {"u": 0})
    writer = create_writer(tmp_path / "run.h5", case, {"u": 0}, 2)
    append_steps(writer, data, 3)
    problems = validate(writer.tmp_path)
    assert any("'complete' is False" in problem for problem in problems), problems
    assert any("'n_steps_written' is 3" in problem for problem in problems), problems
    with pytest.raises(ValueError, match="n_steps_written = 3 of 5"):
        read(writer.tmp_path)
    partial = read(writer.tmp_path, allow_incomplete=True)
    assert partial["u"].shape == (2, 3, 16) and partial.time.tolist() == [0.0, 0.5, 1.0]
    np.testing.assert_array_equal(partial["u"], data["u"][:, :3].astype(np.float32))
    with pytest.raises(ValueError, match="only 3 of 5 snapshots written"):
        writer.finalize()


def test_append_rejects_overflow_and_mismatched_shapes(tmp_path: Path, case: Case) -> None:
    writer = create_writer(tmp_path / "run.h5", case, {"u": 0, "flux": 1}, 2)
    good = {"u": np.zeros((2, 4, 16)), "flux": np.zeros((2, 4, 16, 1))}
    writer.append(good)
    with pytest.raises(ValueError, match="overflow the 5 saved times"):
        writer.append(good)
    with pytest.raises(ValueError, match=r"'u' has shape \(2, 1, 15\)"):
        writer.append({"u": np.zeros((2, 1, 15)), "flux": np.zeros((2, 1, 16, 1))})
    with pytest.raises(ValueError, match="missing flux"):
        writer.append({"u": np.zeros((2, 1, 16))})
    with pytest.raises(ValueError, match="same number k"):
        writer.append({"u": np.zeros((2, 1, 16)), "flux": np.zeros((2, 0, 16, 1))})
    assert writer.n_written == 4
    with h5py.File(writer.tmp_path, "r") as file:
        assert file.attrs["n_steps_written"] == 4
        assert np.isnan(file["t0_fields/u"][:, 4]).all()  # unwritten snapshots are NaN


def test_discard_deletes_the_unfinished_file(tmp_path: Path, case: Case) -> None:
    writer = create_writer(tmp_path / "run.h5", case, {"u": 0}, 1)
    assert writer.tmp_path.exists()
    writer.discard()
    assert not writer.tmp_path.exists() and not writer.path.exists()


# -- resume ------------------------------------------------------------------


def test_resume_without_a_tmp_file_returns_none(tmp_path: Path, case: Case) -> None:
    assert TrajectoryWriter.resume(tmp_path / "run.h5", case) is None


def test_resumed_run_gives_the_same_file_as_an_uninterrupted_one(tmp_path: Path, case: Case) -> None:
    tensor_order = {"u": 0, "flux": 1}
    data = synthetic(case, 2, tensor_order)
    straight = create_writer(tmp_path / "straight.h5", case, tensor_order, 2)
    append_steps(straight, data, 5)
    straight_path = straight.finalize()

    first = create_writer(tmp_path / "resumed.h5", case, tensor_order, 2)
    append_steps(first, data, 2)
    del first  # the process that wrote it is gone
    resumed = TrajectoryWriter.resume(tmp_path / "resumed.h5", case)
    assert resumed is not None and resumed.n_written == 2 and not resumed.complete
    append_steps(resumed, data, 5)
    resumed_path = resumed.finalize()

    expected, got = read(straight_path), read(resumed_path)
    for name in tensor_order:
        np.testing.assert_array_equal(got[name], expected[name])
    assert got.attrs == expected.attrs
    assert validate(resumed_path) == []


def test_resume_refuses_a_tmp_file_of_another_case(tmp_path: Path, case: Case) -> None:
    other = small_case(**{"pde.params.a": 2.0})
    create_writer(tmp_path / "run.h5", other, {"u": 0}, 1)
    with pytest.raises(ValueError) as error:
        TrajectoryWriter.resume(tmp_path / "run.h5", case)
    assert str(error.value) == (
        f"{tmp_path / 'run.h5.tmp'} holds another case (pde.params.a is 2.0 in the file, 1.0 here): delete it or drop --resume"
    )


def test_resume_reports_a_corrupt_tmp_file(tmp_path: Path, case: Case) -> None:
    Path(tmp_path / "run.h5.tmp").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    with pytest.raises(ValueError, match="not a readable HDF5 file"):
        TrajectoryWriter.resume(tmp_path / "run.h5", case)


def test_resume_of_a_complete_file_leaves_nothing_to_do(finished_run, case: Case) -> None:
    path, _, _ = finished_run
    writer = TrajectoryWriter.resume(path, case)
    assert writer is not None and writer.complete and writer.n_written == writer.n_times == 5
    assert writer.finalize() == path
    with pytest.raises(ValueError, match="the file is complete"):
        writer.append({"u": np.zeros((2, 1, 16))})


_KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    sys.path.insert(0, {testkit!r})
    from io_testkit import create_writer, small_case, synthetic

    case = small_case(**{{"time.t_end": 10.0}})
    data = synthetic(case, 2, {{"u": 0}})
    writer = create_writer({path!r}, case, {{"u": 0}}, 2)
    for start in range(case.time.n_saves):
        state = {{"spectrum": np.full(3, start + 1j)}}
        writer.append({{"u": data["u"][:, start:start + 1]}}, solver_state=state)
        time.sleep(0.5)
    time.sleep(60)
    """
)


def _wait_for_snapshots(tmp: Path, count: int, timeout: float) -> int:
    """``n_steps_written`` of a file another process is writing, once it reaches ``count``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with h5py.File(tmp, "r", locking=False) as file:
                written = int(file.attrs["n_steps_written"])
            if written >= count:
                return written
        except (OSError, KeyError):
            pass  # not created yet, or caught mid-write
        time.sleep(0.02)
    raise AssertionError(f"{tmp} never reached {count} snapshots")


def test_writer_killed_between_appends_leaves_a_file_that_resume_finishes(tmp_path: Path) -> None:
    path = tmp_path / "run.h5"
    script = _KILLED_WRITER.format(testkit=str(Path(__file__).parent), path=str(path))
    process = subprocess.Popen([sys.executable, "-c", script])
    try:
        _wait_for_snapshots(Path(str(path) + ".tmp"), 2, timeout=60)
        time.sleep(0.1)  # land the kill in the pause between appends
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL

    case = small_case(**{"time.t_end": 10.0})
    data = synthetic(case, 2, {"u": 0})
    writer = TrajectoryWriter.resume(path, case)
    assert writer is not None and 2 <= writer.n_written < case.time.n_saves
    np.testing.assert_array_equal(writer.solver_state()["spectrum"], np.full(3, writer.n_written - 1 + 1j))
    append_steps(writer, data, case.time.n_saves)
    writer.finalize()
    assert validate(path) == []
    np.testing.assert_array_equal(read(path)["u"], data["u"].astype(np.float32))


# -- solver state ------------------------------------------------------------


def test_solver_state_round_trips_complex128_exactly(tmp_path: Path, case: Case) -> None:
    rng = np.random.default_rng(0)
    data = synthetic(case, 1, {"u": 0})
    writer = create_writer(tmp_path / "run.h5", case, {"u": 0}, 1)
    assert writer.solver_state() == {}
    for step in range(3):
        state = {
            "u_hat": rng.standard_normal((1, 9)) + 1j * rng.standard_normal((1, 9)),
            "step": np.int64(step),
        }
        writer.append({"u": data["u"][:, step : step + 1]}, solver_state=state)
    resumed = TrajectoryWriter.resume(tmp_path / "run.h5", case)
    assert resumed is not None
    restored = resumed.solver_state()
    assert restored["u_hat"].dtype == np.complex128
    np.testing.assert_array_equal(restored["u_hat"], state["u_hat"])
    assert restored["step"] == 2


def test_append_without_state_keeps_the_latest_state(tmp_path: Path, case: Case) -> None:
    data = synthetic(case, 1, {"u": 0})
    writer = create_writer(tmp_path / "run.h5", case, {"u": 0}, 1)
    writer.append({"u": data["u"][:, :1]}, solver_state={"step": np.int64(0)})
    writer.append({"u": data["u"][:, 1:2]}, solver_state={"step": np.int64(1)})
    writer.append({"u": data["u"][:, 2:3]})
    assert writer.solver_state() == {"step": 1}
    writer.append({"u": data["u"][:, 3:4]}, solver_state={"step": np.int64(3)})
    assert writer.solver_state() == {"step": 3}
    with h5py.File(writer.tmp_path, "r") as file:
        assert sorted(file["solver_state"]) == ["a", "b"]  # two slots, overwritten in turn


def test_state_written_after_the_last_counted_snapshot_is_ignored(tmp_path: Path, case: Case) -> None:
    data = synthetic(case, 1, {"u": 0})
    writer = create_writer(tmp_path / "run.h5", case, {"u": 0}, 1)
    writer.append({"u": data["u"][:, :1]}, solver_state={"step": np.int64(0)})
    writer.append({"u": data["u"][:, 1:2]}, solver_state={"step": np.int64(1)})
    with h5py.File(writer.tmp_path, "a") as file:
        file.attrs["n_steps_written"] = 1  # as if killed before the count of the second append
    resumed = TrajectoryWriter.resume(tmp_path / "run.h5", case)
    assert resumed is not None and resumed.n_written == 1
    assert resumed.solver_state() == {"step": 0}



def test_rewind_goes_back_one_append_to_its_state_and_reopens_a_complete_file(tmp_path: Path, case: Case) -> None:
    from phys.errors import ResumeError

    data = synthetic(case, 1, {"u": 0})
    writer = create_writer(tmp_path / "run.h5", case, {"u": 0}, 1)
    for start, stop in ((0, 1), (1, 3), (3, 5)):  # the start and two blocks of two: T = 5
        writer.append({"u": data["u"][:, start:stop]}, solver_state={"step": np.int64(stop)})
    writer.finalize()
    resumed = TrajectoryWriter.resume(tmp_path / "run.h5", case)
    assert resumed is not None and resumed.complete and resumed.state_counts() == (3, 5)
    with pytest.raises(ResumeError, match=r"no solver state stored at 1 snapshots \(it holds \(3, 5\)\)"):
        resumed.rewind(1)  # two appends back: that state was overwritten
    resumed.rewind(3)
    assert not (tmp_path / "run.h5").exists() and not resumed.complete
    again = TrajectoryWriter.resume(tmp_path / "run.h5", case)
    assert again is not None and again.n_written == 3 and again.solver_state() == {"step": 3}
    again.append({"u": data["u"][:, 3:5] + 1.0}, solver_state={"step": np.int64(5)})
    np.testing.assert_array_equal(read(again.finalize())["u"], np.concatenate(
        [data["u"][:, :3], data["u"][:, 3:5] + 1.0], axis=1).astype(np.float32))


# -- read_snapshot -----------------------------------------------------------


def test_read_snapshot_counts_negative_indices_from_the_last_written(tmp_path: Path, case: Case) -> None:
    data = synthetic(case, 2, {"u": 0, "flux": 1})
    writer = create_writer(tmp_path / "run.h5", case, {"u": 0, "flux": 1}, 2)
    append_steps(writer, data, 3)
    last = read_snapshot(writer.tmp_path, "u", trajectory=1)
    np.testing.assert_array_equal(last, data["u"][1, 2].astype(np.float32))
    first = read_snapshot(writer.tmp_path, "flux", time_index=0)
    np.testing.assert_array_equal(first, data["flux"][0, 0].astype(np.float32))
    assert read_snapshot(writer.tmp_path, "flux").shape == (16, 1)


@pytest.mark.parametrize(
    ("target", "kwargs", "expected"),
    [
        ("missing.h5", {"field": "u"}, "missing.h5: no such file"),
        ("text.h5", {"field": "u"}, "not a readable HDF5 file"),
        ("run.h5", {"field": "v"}, "no field 'v'; available fields: flux, stress, u"),
        ("run.h5", {"field": "u", "time_index": 5}, r"time_index 5 is out of range \[-5, 4\]"),
        ("run.h5", {"field": "u", "time_index": -6}, r"time_index -6 is out of range \[-5, 4\]"),
        ("run.h5", {"field": "u", "trajectory": 2}, r"trajectory 2 is out of range \[-2, 1\]"),
    ],
)
def test_read_snapshot_errors_say_what_is_wrong(finished_run, target: str, kwargs: dict, expected: str) -> None:
    path, _, _ = finished_run
    (path.parent / "text.h5").write_text("plain text")
    with pytest.raises(ValueError, match=expected):
        read_snapshot(path.parent / target, **kwargs)


# -- files of The Well -------------------------------------------------------


def test_read_accepts_a_file_of_the_well_without_provenance(well_file_2d: Path) -> None:
    fields = read(well_file_2d)
    assert fields.case is None
    assert fields["density"].shape == (2, 4, 8, 6) and fields["velocity"].shape == (2, 4, 8, 6, 2)
    assert dict(fields.tensor_order) == {"density": 0, "velocity": 1}
    assert read_snapshot(well_file_2d, "velocity", time_index=-1).shape == (8, 6, 2)
    assert any("'case_json' is missing" in problem for problem in validate(well_file_2d))
