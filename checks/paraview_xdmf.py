"""Open `phys export` XDMF sidecars with ParaView's own readers and compare every value with h5py's.

Needs Debian's ``paraview`` and ``xvfb`` packages (``apt-get install -y paraview xvfb``); run it with
the project's Python, which has h5py (pvpython has not)::

    .venv/bin/python checks/paraview_xdmf.py [--out DIR] [--pvpython pvpython]

It solves four small cases with ``phys run`` (1D ks, 2D ns-decaying and the lid-driven cavity on
rectangular grids, an ensemble of three ks-random trajectories), writes their sidecars with
``phys export``, and for each reader (Xdmf3ReaderS, Xdmf3ReaderT: ParaView's default; XDMFReader:
the legacy one) runs itself under ``xvfb-run -a pvpython`` to dump what the reader returns at
every time. It then checks the times, the extent ParaView reports, the number of grids (one per
trajectory) and every array against h5py, and for a single grid a screenshot (a plane must
cover a good part of the view, a line must span it); it prints one table row per file and reader and exits 1
if anything differs. (``--force-offscreen-rendering`` crashes Debian's pvpython: hence xvfb-run.)
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

READERS = ("Xdmf3ReaderS", "Xdmf3ReaderT", "XDMFReader")
RUNS = {
    "ks": ["ks", "--set", "t_end=5"],
    "ns": ["ns-decaying", "--set", "t_end=1", "--set", "n=[32,24]"],
    "cavity": ["lid-driven-cavity", "--set", "t_end=2", "--set", "n=[16,12]"],
    "ensemble": ["ks-random", "--batch", "3", "--set", "t_end=2"],
}
_SEP = "~"  # key separator in the dump (names of zip members)


# -- under pvpython ------------------------------------------------------------


def _dump(xdmf: str, reader_name: str, out: str) -> None:
    """Write what ParaView's reader returns at every time to ``out`` (.npz)."""
    from paraview import simple
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkCommonExecutionModel import vtkStreamingDemandDrivenPipeline

    # The legacy reader takes FileNames; the Xdmf3 readers take FileName. Both need an absolute
    # path: the Xdmf3 readers join a relative one to itself ("ns.xdmfns.h5").
    if reader_name == "XDMFReader":
        reader = simple.XDMFReader(FileNames=[xdmf])
    else:
        reader = getattr(simple, reader_name)(FileName=[xdmf])
    reader.UpdatePipelineInformation()
    times = list(reader.TimestepValues or [])
    dump: dict[str, np.ndarray] = {"times": np.array(times, dtype=float)}
    # What ParaView draws a single grid from (a multiblock has none): the legacy reader gave a
    # 2DRectMesh (0,0,0,ny-1,0,nx-1), so a plane was drawn as a line and a line as a point.
    information = reader.GetClientSideObject().GetOutputInformation(0)
    if information.Has(vtkStreamingDemandDrivenPipeline.WHOLE_EXTENT()):
        dump["whole_extent"] = np.array(information.Get(vtkStreamingDemandDrivenPipeline.WHOLE_EXTENT()))
    for index, time in enumerate(times):
        reader.UpdatePipeline(time)
        dump[f"extent{_SEP}{index}"] = np.array(reader.GetDataInformation().GetExtent())
        # The reader's own output (pvpython runs a built-in server): servermanager.Fetch of a
        # rectilinear grid zeroed its last nx - 1 values in ParaView 5.11.
        output = reader.GetClientSideObject().GetOutputDataObject(0)
        for block, grid in enumerate(_leaves(output)):
            dump[f"grid_extent{_SEP}{index}{_SEP}{block}"] = np.array(grid.GetExtent())
            points = grid.GetPointData()
            for a in range(points.GetNumberOfArrays()):
                # A copy: the reader reuses the array's memory at the next time.
                key = f"array{_SEP}{index}{_SEP}{block}{_SEP}{points.GetArrayName(a)}"
                dump[key] = vtk_to_numpy(points.GetArray(a)).copy()
    if "whole_extent" in dump:
        dump["drawn"] = np.array(_drawn(reader, out + ".png"))
    np.savez(out, **dump)


def _drawn(reader, png: str) -> tuple[float, float]:  # noqa: ANN001 (a ParaView proxy)
    """Share of a screenshot's pixels the grid covers (0.4 for a plane) and its longest side's share of the view."""
    from paraview import simple
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkIOImage import vtkPNGReader

    view = simple.GetActiveViewOrCreate("RenderView")
    view.ViewSize = [400, 340]
    simple.Show(reader, view)
    view.ResetCamera()
    simple.SaveScreenshot(png, view)
    simple.Delete(view)  # left to interpreter exit, its teardown fails with GLXBadContext under xvfb
    image = vtkPNGReader()
    image.SetFileName(png)
    image.Update()
    width, height, _ = image.GetOutput().GetDimensions()
    pixels = vtk_to_numpy(image.GetOutput().GetPointData().GetScalars())[:, :3].reshape(height, width, 3)
    covered = np.any(pixels != pixels[0, 0], axis=-1)  # a corner pixel is background
    rows, columns = np.nonzero(covered)
    side = max(np.ptp(rows) / height, np.ptp(columns) / width) if len(rows) else 0.0
    return float(covered.mean()), float(side)


def _leaves(data):  # noqa: ANN001, ANN202 (vtk objects)
    """The grids of a reader's output in order: blocks (legacy, Xdmf3ReaderT) or pieces (Xdmf3ReaderS)."""
    if data.IsA("vtkMultiBlockDataSet"):
        return [leaf for b in range(data.GetNumberOfBlocks()) for leaf in _leaves(data.GetBlock(b))]
    if data.IsA("vtkMultiPieceDataSet"):
        return [leaf for p in range(data.GetNumberOfPieces()) for leaf in _leaves(data.GetPiece(p))]
    return [data]


# -- under the project's Python -------------------------------------------------


def _expected(h5: Path) -> tuple[np.ndarray, tuple[int, ...], list[dict[str, np.ndarray]]]:
    """Times, the extent ParaView should show, and per trajectory the arrays at every time, from h5py."""
    import h5py

    with h5py.File(h5) as file:
        axes = [str(a) for a in file["dimensions"].attrs["spatial_dims"]]
        n = tuple(file["dimensions"][a].shape[0] for a in axes)
        times = file["dimensions/time"][()]
        trajectories: list[dict[str, np.ndarray]] = [{} for _ in range(int(file.attrs["n_trajectories"]))]
        for order, group in enumerate(("t0_fields", "t1_fields", "t2_fields")):
            for name in file[group].attrs["field_names"]:
                values = file[group][name][()]
                for component in itertools.product(range(len(axes)), repeat=order):
                    label = name + ("_" + "".join("xyz"[c] for c in component) if order else "")
                    for b, arrays in enumerate(trajectories):
                        # [T, *n] flattened C-order: VTK's point order (X fastest = our last axis).
                        arrays[label] = values[(b, slice(None), ..., *component)].reshape(len(times), -1)
    # ParaView's X, Y, Z carry our last, middle, first axis; missing axes have one point.
    sizes = (*n[::-1], 1, 1)[:3]
    return times, tuple(v for size in sizes for v in (0, size - 1)), trajectories


def _compare(h5: Path, dump: Path) -> str:
    """'ok: ...' or the first differences found."""
    times, extent, trajectories = _expected(h5)
    got = np.load(dump)
    problems: list[str] = []
    if got["times"].shape != times.shape or not np.allclose(got["times"], times):
        problems.append(f"times {got['times'].tolist()} != {times.tolist()}")
    if "whole_extent" in got.files and _ints(got["whole_extent"]) != extent:
        problems.append(f"whole extent {_ints(got['whole_extent'])} != {extent}")
    # A plane covers much of the view; a line spans it. (ParaView fits the camera to the data.)
    drawn = got["drawn"].tolist() if "drawn" in got.files else None
    flat_axes = sum(extent[2 * axis + 1] == 0 for axis in range(3))
    if drawn is not None and ((flat_axes == 1 and drawn[0] < 0.05) or (flat_axes == 2 and drawn[1] < 0.5)):
        problems.append(f"drawn on {drawn[0]:.1%} of the view, {drawn[1]:.0%} across: not the grid's shape")
    checked = 0
    for index in range(min(len(times), len(got["times"]))):
        if _ints(got[f"extent{_SEP}{index}"]) != extent:
            problems.append(f"t{index}: extent {_ints(got[f'extent{_SEP}{index}'])} != {extent}")
        for block, arrays in enumerate(trajectories):
            for label, values in arrays.items():
                key = f"array{_SEP}{index}{_SEP}{block}{_SEP}{label}"
                if key not in got:
                    problems.append(f"t{index} grid {block}: no array {label}")
                elif not np.array_equal(got[key], values[index]):
                    problems.append(f"t{index} grid {block}: {label} differs")
                else:
                    checked += 1
        extra = [k for k in got.files if k.startswith(f"array{_SEP}{index}{_SEP}{len(trajectories)}{_SEP}")]
        if extra:
            problems.append(f"t{index}: more grids than the {len(trajectories)} trajectories")
    if problems:
        return "FAIL: " + "; ".join(problems[:4]) + (f" (+{len(problems) - 4} more)" if len(problems) > 4 else "")
    fields = len(trajectories[0])
    return (
        f"ok: {len(times)} times x {len(trajectories)} grid(s) x {fields} array(s) = {checked} arrays equal "
        f"to h5py's; extent {extent}"
        + (f"; drawn on {drawn[0]:.1%} of the view, {drawn[1]:.0%} across" if drawn is not None else "")
    )


def _inputs(files: list[Path] | None, out: Path, phys: str) -> list[tuple[str, list[str]]]:
    """(name, how it was made) of each file to check; new runs and sidecars unless ``files`` are given."""
    if files is not None:
        return [(str(path), [path.name]) for path in files]
    for name, run in RUNS.items():
        h5 = out / f"{name}.h5"
        subprocess.run([phys, "run", *run, "--out", str(h5)], check=True, capture_output=True)
        subprocess.run([phys, "export", str(h5)], check=True, capture_output=True)
    return list(RUNS.items())


def _ints(values: np.ndarray) -> tuple[int, ...]:
    return tuple(int(v) for v in values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="folder for the runs (default: a new temporary one)")
    parser.add_argument("--pvpython", default="pvpython")
    parser.add_argument("--files", nargs="+", type=Path, metavar="H5",
                        help="check these files' existing .xdmf sidecars instead of new runs")
    parser.add_argument("--dump", nargs=3, metavar=("XDMF", "READER", "NPZ"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.dump:  # the half that runs under pvpython
        _dump(*args.dump)
        return 0
    out = (args.out or Path(tempfile.mkdtemp(prefix="paraview_xdmf_"))).resolve()
    out.mkdir(parents=True, exist_ok=True)
    phys = str(Path(sys.executable).with_name("phys"))
    version = subprocess.run([args.pvpython, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"{version}; runs in {out}\n")
    print("| file | reader | result |\n| --- | --- | --- |")
    failed = False
    for name, run in _inputs(args.files, out, phys):
        h5 = out / f"{name}.h5" if args.files is None else Path(name).resolve()
        for reader in READERS:
            dump = out / f"{h5.stem}.{reader}.npz"
            command = ["xvfb-run", "-a", args.pvpython, __file__, "--dump", str(h5.with_suffix(".xdmf")), reader, str(dump)]
            done = subprocess.run(command, capture_output=True, text=True, timeout=300)
            skipped = done.stdout.count("Skipping unrecognized array type") + done.stderr.count("Skipping unrecognized")
            result = _compare(h5, dump) if done.returncode == 0 else f"FAIL: pvpython exit {done.returncode}"
            if skipped:
                result += f" ({skipped} 'Skipping unrecognized array type' messages)"
            failed |= not result.startswith("ok")
            print(f"| {' '.join(run)} | {reader} | {result} |", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
