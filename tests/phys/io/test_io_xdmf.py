"""XDMF sidecars (phys/io/xdmf.py) opened by a real reader: VTK's vtkXdmfReader, the legacy reader behind
ParaView's XDMFReader. Values, coordinates and extents are compared with h5py's at two times.

ParaView's default Xdmf3ReaderS/T are checked by checks/paraview_xdmf.py (they are not on PyPI).
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from io_testkit import SMALL, append_steps, create_writer, synthetic
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkCommonDataModel import vtkCompositeDataSet, vtkDataObject, vtkRectilinearGrid
from vtkmodules.vtkCommonExecutionModel import vtkStreamingDemandDrivenPipeline
from vtkmodules.vtkIOXdmf2 import vtkXdmfReader

from cases import get
from phys.case import Case
from phys.io import write_xdmf


def _run(path: Path, case: Case, tensor_order: dict[str, int], n_trajectories: int) -> tuple[Path, dict[str, np.ndarray]]:
    data = synthetic(case, n_trajectories, tensor_order)
    writer = create_writer(path, case, tensor_order, n_trajectories)
    append_steps(writer, data, case.time.n_saves, block=2)
    return writer.finalize(), {name: values.astype(np.float32) for name, values in data.items()}


class _Read:
    """What vtkXdmfReader returns for a sidecar: its times, and the grids (named blocks) at a time."""

    def __init__(self, xdmf: Path):
        self.reader = vtkXdmfReader()
        self.reader.SetFileName(str(xdmf))
        self.reader.UpdateInformation()
        info = self.reader.GetOutputInformation(0)
        key = vtkStreamingDemandDrivenPipeline.TIME_STEPS()
        self.times = [info.Get(key, i) for i in range(info.Length(key))]
        # What ParaView draws from: a single grid's WHOLE_EXTENT (a multiblock has none). The legacy
        # reader gave a 2DRectMesh (0,0,0,ny-1,0,nx-1), so a plane was drawn as a line, a line as a point.
        extent = vtkStreamingDemandDrivenPipeline.WHOLE_EXTENT()
        self.whole_extent = info.Get(extent) if info.Has(extent) else None

    def grids(self, time: float) -> list[tuple[str, vtkRectilinearGrid]]:
        self.reader.UpdateTimeStep(time)
        output = self.reader.GetOutputDataObject(0)
        if output.IsA("vtkMultiBlockDataSet"):
            return [
                (output.GetMetaData(b).Get(vtkCompositeDataSet.NAME()), output.GetBlock(b))
                for b in range(output.GetNumberOfBlocks())
            ]
        return [("", output)]


def _arrays(grid: vtkDataObject) -> dict[str, np.ndarray]:
    points = grid.GetPointData()
    # Copies: the reader reuses the arrays' memory at its next update.
    return {points.GetArrayName(i): vtk_to_numpy(points.GetArray(i)).copy() for i in range(points.GetNumberOfArrays())}


def _axes(grid: vtkRectilinearGrid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(vtk_to_numpy(c) for c in (grid.GetXCoordinates(), grid.GetYCoordinates(), grid.GetZCoordinates()))


def _h5(path: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    with h5py.File(path) as file:
        return file["dimensions/time"][()], {axis: file["dimensions"][axis][()] for axis in ("x", "y") if axis in file["dimensions"]}


def test_vtk_reads_a_1d_run_as_a_line_along_x_at_every_time(tmp_path) -> None:
    case = get("ks").with_updates(SMALL)
    path, data = _run(tmp_path / "ks.h5", case, {"u": 0}, 1)
    read = _Read(write_xdmf(path))
    times, coords = _h5(path)
    assert read.times == pytest.approx(times.tolist())
    assert read.whole_extent == (0, 15, 0, 0, 0, 0)
    for index in (1, 3):
        ((_, grid),) = read.grids(float(times[index]))
        # 16 points along ParaView's X, one along Y and Z: a line, not a point.
        assert grid.GetExtent() == (0, 15, 0, 0, 0, 0)
        x, y, z = _axes(grid)
        np.testing.assert_array_equal(x, coords["x"])
        assert y.tolist() == [0.0] and z.tolist() == [0.0]
        np.testing.assert_array_equal(_arrays(grid)["u"], data["u"][0, index])


def test_vtk_reads_a_2d_run_on_a_plane_with_each_value_at_its_coordinates(tmp_path) -> None:
    # 8 x 6 points: a square grid would hide a swapped axis.
    case = get("ns-decaying").with_updates({**SMALL, "grid.n": [8, 6]})
    path, data = _run(tmp_path / "ns.h5", case, {"vorticity": 0, "velocity": 1}, 1)
    read = _Read(write_xdmf(path))
    times, coords = _h5(path)
    assert read.whole_extent == (0, 5, 0, 7, 0, 0)
    for index in (0, 4):
        ((_, grid),) = read.grids(float(times[index]))
        # ParaView's X carries our last axis (y, 6 points), its Y our x (8 points), Z is flat.
        assert grid.GetExtent() == (0, 5, 0, 7, 0, 0)
        x, y, z = _axes(grid)
        np.testing.assert_array_equal(x, coords["y"])
        np.testing.assert_array_equal(y, coords["x"])
        assert z.tolist() == [0.0]
        arrays = _arrays(grid)
        assert sorted(arrays) == ["velocity_x", "velocity_y", "vorticity"]
        # VTK's point k sits at X index k % 6, Y index k // 6: our [x, y] order flattened.
        point = 13
        assert grid.GetPoint(point)[:2] == pytest.approx((coords["y"][point % 6], coords["x"][point // 6]))
        assert arrays["vorticity"][point] == data["vorticity"][0, index, point // 6, point % 6]
        np.testing.assert_array_equal(arrays["vorticity"].reshape(8, 6), data["vorticity"][0, index])
        for component, axis in enumerate("xy"):
            np.testing.assert_array_equal(
                arrays[f"velocity_{axis}"].reshape(8, 6), data["velocity"][0, index, ..., component]
            )


def test_vtk_reads_an_ensemble_as_one_block_per_trajectory(tmp_path) -> None:
    case = get("ks").with_updates(SMALL)
    path, data = _run(tmp_path / "ensemble.h5", case, {"u": 0, "flux": 1, "stress": 2}, 3)
    read = _Read(write_xdmf(path))
    times, _ = _h5(path)
    for index in (2, 4):
        grids = read.grids(float(times[index]))
        # The legacy reader suffixes a block's name with its time index: trajectory_0[2].
        assert [name.partition("[")[0] for name, _ in grids] == ["trajectory_0", "trajectory_1", "trajectory_2"]
        for trajectory, (_, grid) in enumerate(grids):
            assert grid.GetExtent() == (0, 15, 0, 0, 0, 0)
            arrays = _arrays(grid)
            assert sorted(arrays) == ["flux_x", "stress_xx", "u"]
            np.testing.assert_array_equal(arrays["u"], data["u"][trajectory, index])
            np.testing.assert_array_equal(arrays["flux_x"], data["flux"][trajectory, index, :, 0])
            np.testing.assert_array_equal(arrays["stress_xx"], data["stress"][trajectory, index, :, 0, 0])


def test_vtk_reads_a_well_ensemble_of_2d_vectors_and_3d_files(well_file_2d, well_file_3d) -> None:
    for path, n in ((well_file_2d, (8, 6)), (well_file_3d, (4, 5, 6))):
        read = _Read(write_xdmf(path))
        with h5py.File(path) as file:
            density, velocity = file["t0_fields/density"][()], file["t1_fields/velocity"][()]
            times = file["dimensions/time"][()]
        reversed_n = (*n[::-1], 1, 1)[:3]
        for index in (1, 3):
            for trajectory, (_, grid) in enumerate(read.grids(float(times[index]))):
                assert grid.GetExtent() == tuple(v for size in reversed_n for v in (0, size - 1))
                arrays = _arrays(grid)
                np.testing.assert_array_equal(arrays["density"].reshape(n), density[trajectory, index])
                for component, axis in enumerate("xyz"[: len(n)]):
                    np.testing.assert_array_equal(
                        arrays[f"velocity_{axis}"].reshape(n), velocity[trajectory, index, ..., component]
                    )


def test_an_unfinished_run_lists_only_the_written_times(tmp_path) -> None:
    case = get("ks").with_updates(SMALL)
    data = synthetic(case, 1, {"u": 0})
    writer = create_writer(tmp_path / "part.h5", case, {"u": 0}, 1)
    append_steps(writer, data, 3)
    read = _Read(write_xdmf(writer.tmp_path))
    assert read.times == [0.0, 0.5, 1.0]
    ((_, grid),) = read.grids(1.0)
    np.testing.assert_array_equal(_arrays(grid)["u"], data["u"][0, 2].astype(np.float32))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no spatial dims"),
        (b"not hdf5", "not a readable HDF5 file"),
        ({"other": 1}, "not a file of The Well's schema"),
    ],
)
def test_files_xdmf_cannot_describe_are_refused_in_one_line(tmp_path, content, message) -> None:
    path = tmp_path / "bad.h5"
    if content is None:  # an ODE: fields without space
        lorenz = get("lorenz").with_updates({"time.t_end": 1.0, "time.save_dt": 0.5, "time.dt": 0.25})
        writer = create_writer(path, lorenz, {"x": 0}, 1)
        append_steps(writer, synthetic(lorenz, 1, {"x": 0}), lorenz.time.n_saves)
        path = writer.finalize()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        with h5py.File(path, "w") as file:
            file.attrs.update(content)
    with pytest.raises(ValueError, match=message) as error:
        write_xdmf(path)
    assert "\n" not in str(error.value)
    assert not path.with_suffix(".xdmf").exists()
