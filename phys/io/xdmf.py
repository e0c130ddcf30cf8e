"""XDMF sidecar: lets ParaView (and VisIt) open an HDF5 file of our schema.

The sidecar holds no data; it points into the HDF5 file. It is read, every
field at every written time, by ParaView's default readers (``Xdmf3ReaderS``,
``Xdmf3ReaderT``), its legacy ``XDMFReader`` and VTK's ``vtkXdmfReader``
(docs/readers.md records the checks).

Layout. One temporal collection with a step per written snapshot. A file of
one trajectory has one uniform grid per step. An ensemble of B trajectories
has, per step, a spatial collection of B uniform grids named
``trajectory_<b>``: ParaView shows them as the blocks of one multiblock
dataset (all on the same coordinates, so show one block at a time).

Mesh. Always a ``3DRectMesh`` with ``VXVYVZ`` coordinates; a 1D or 2D grid
gets size-1 axes at coordinate 0. (With a ``2DRectMesh`` ParaView 5.11's
legacy reader reported a 64 x 64 field's extent as (0,0,0,63,0,63), so it
drew a line, and a 1D field drew as a point.)

Axis order. XDMF lists sizes slowest first (Z Y X) and ParaView's X is the
fastest-varying axis. Our arrays are C-ordered ``[x, y, z]``, last axis
fastest, and XDMF cannot transpose, so ParaView's X axis carries our last
axis: 1D X = x; 2D X = y, Y = x (the picture is mirrored across the
diagonal); 3D X = z, Y = y, Z = x. Every point keeps its coordinate values.

Snapshots. Each attribute is the slab ``[trajectory b, time t, all points(,
component c)]`` of a ``[B, T, *n(, D...)]`` dataset. No one DataItem form is
read by both reader families: the Xdmf3 readers skip ``ItemType="HyperSlab"``
items ("Skipping unrecognized array type [None]": they ask the item's type
before reading it, and a hyperslab has none until read), and the legacy
reader cannot parse Xdmf3's heavy-data selection
``file:/path|start:stride:count:dataspace``. So each slab is one DataItem
carrying both: ``Format="HDF"`` with the Xdmf3 selection as its text, and the
XDMF 2 hyperslab as its marker ``Type="HyperSlab"`` (the old spelling of
``ItemType``) with its two children (start/stride/count, the whole dataset).
Xdmf3 looks only at ``ItemType`` and reads the text; XDMF 2 takes ``Type``
as the item type and reads the children.

Vectors and tensors are written as scalar components ``<name>_x``,
``<name>_y`` (``<name>_xy`` for tensors): a slab cannot pad a 2D vector to
the three components ParaView's glyphs want, nor reorder components to the
reversed axes, and mislabelled arrows would be worse than none. Fields that
The Well stores without a sample or time axis are repeated at every step.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from pathlib import Path

import h5py
import numpy as np

from phys.fields import AXIS_NAMES
from phys.io._schema import field_datasets, flag, names, open_h5, written_steps

__all__ = ["write_xdmf"]

_MESH_RANK = 3


def write_xdmf(h5_path: str | Path) -> Path:
    """Write ``<h5_path with suffix .xdmf>`` next to the HDF5 file and return its path.

    Raises ``ValueError`` (one line, nothing written) for a file XDMF cannot
    describe: not HDF5, not The Well's schema, or without space axes.
    """
    h5_path = Path(h5_path)
    if set(h5_path.name) & {":", "|"}:
        # Both characters separate the parts of an XDMF heavy-data reference.
        raise ValueError(f"{h5_path}: XDMF cannot reference a file whose name holds ':' or '|'; rename it")
    with open_h5(h5_path) as file:
        root = _document(file, h5_path.name)
    ET.indent(root)
    out = h5_path.with_suffix(".xdmf")
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
    return out


def _document(file: h5py.File, h5_name: str) -> ET.Element:
    dims = file.get("dimensions")
    if not isinstance(dims, h5py.Group) or not isinstance(dims.get("time"), h5py.Dataset):
        raise ValueError(f"{h5_name}: not a file of The Well's schema (no /dimensions/time)")
    axes = names(dims.attrs, "spatial_dims")
    if not axes:
        raise ValueError(f"{h5_name}: no spatial dims (an ODE's time series); XDMF describes fields on a grid")
    if len(axes) > _MESH_RANK or any(not isinstance(dims.get(axis), h5py.Dataset) for axis in axes):
        raise ValueError(f"{h5_name}: /dimensions must hold 1 to 3 coordinate datasets, got {axes}")
    if dims["time"].ndim != 1:
        raise ValueError(f"{h5_name}: /dimensions/time differs per trajectory; one XDMF time axis cannot describe it")
    n = tuple(int(dims[axis].shape[-1]) for axis in axes)
    times = dims["time"][()][: written_steps(file)]
    fields = list(field_datasets(file).items())
    n_trajectories = int(file.attrs.get("n_trajectories", 1))
    for field, (order, dataset) in fields:
        _check_shape(h5_name, field, order, dataset, n, n_trajectories, int(dims["time"].shape[0]))
    xdmf = ET.Element("Xdmf", Version="3.0")
    name = str(file.attrs.get("dataset_name", Path(h5_name).stem))
    collection = ET.SubElement(
        ET.SubElement(xdmf, "Domain"), "Grid", Name=name, GridType="Collection", CollectionType="Temporal"
    )
    for index, time in enumerate(times):
        step_name = f"{name}_t{index}"
        if n_trajectories == 1:
            step = _uniform_grid(collection, step_name, h5_name, file, axes, fields, 0, index)
        else:
            step = ET.SubElement(collection, "Grid", Name=step_name, GridType="Collection", CollectionType="Spatial")
            for trajectory in range(n_trajectories):
                _uniform_grid(step, f"trajectory_{trajectory}", h5_name, file, axes, fields, trajectory, index)
        # The time belongs to the temporal collection's direct child: both readers look there.
        step.insert(0, ET.Element("Time", Value=f"{float(time):.9g}"))
    return xdmf


def _check_shape(
    h5_name: str, field: str, order: int, dataset: h5py.Dataset, n: tuple[int, ...], n_trajectories: int, n_times: int
) -> None:
    sample, timed = _leading_axes(dataset)
    expected = (*(n_trajectories,) * sample, *(n_times,) * timed, *n, *(len(n),) * order)
    if dataset.shape != expected:
        raise ValueError(
            f"{h5_name}: field '{field}' has shape {dataset.shape}; {n_trajectories} trajectories "
            f"of {n_times} times on the grid {n} need {expected}"
        )


def _leading_axes(dataset: h5py.Dataset) -> tuple[bool, bool]:
    """Whether the dataset has a trajectory axis and a time axis (The Well may store either without)."""
    return flag(dataset.attrs, "sample_varying", True), flag(dataset.attrs, "time_varying", True)


def _uniform_grid(
    parent: ET.Element,
    name: str,
    h5_name: str,
    file: h5py.File,
    axes: list[str],
    fields: list[tuple[str, tuple[int, h5py.Dataset]]],
    trajectory: int,
    time: int,
) -> ET.Element:
    grid = ET.SubElement(parent, "Grid", Name=name, GridType="Uniform")
    coordinates = [file["dimensions"][axis] for axis in axes]
    n = tuple(int(c.shape[-1]) for c in coordinates)
    shape = _mesh_shape(n)
    ET.SubElement(grid, "Topology", TopologyType="3DRectMesh", Dimensions=_dims(shape))
    geometry = ET.SubElement(grid, "Geometry", GeometryType="VXVYVZ")
    # VX runs along the fastest array axis, our last one (see the module docstring);
    # the size-1 axes padded in front of ours sit at coordinate 0.
    padded: list[h5py.Dataset | None] = [None] * (_MESH_RANK - len(coordinates)) + coordinates
    for dataset in reversed(padded):
        if dataset is None:
            flat = ET.SubElement(geometry, "DataItem", Format="XML", NumberType="Float", Precision="4", Dimensions="1")
            flat.text = "0"
        else:
            geometry.append(_hdf_item(h5_name, dataset))
    for field, (order, dataset) in fields:
        for component in itertools.product(range(len(axes)), repeat=order):
            label = field + ("_" + "".join(AXIS_NAMES[c] for c in component) if order else "")
            attribute = ET.SubElement(grid, "Attribute", Name=label, AttributeType="Scalar", Center="Node")
            sample, timed = _leading_axes(dataset)
            prefix = (*(trajectory,) * sample, *(time,) * timed)
            start = (*prefix, *(0,) * len(n), *component)
            count = (*(1,) * len(prefix), *n, *(1,) * order)
            attribute.append(_slab_item(h5_name, dataset, start, count, shape))
    return grid


def _mesh_shape(n: tuple[int, ...]) -> tuple[int, ...]:
    """Point counts of the 3D mesh, slowest first: our axes with size-1 axes in front."""
    return (1,) * (_MESH_RANK - len(n)) + n


def _slab_item(
    h5_name: str, dataset: h5py.Dataset, start: tuple[int, ...], count: tuple[int, ...], shape: tuple[int, ...]
) -> ET.Element:
    """One snapshot (component) of ``dataset``, in the form each reader family reads (module docstring)."""
    stride = (1,) * len(start)
    item = ET.Element("DataItem", Type="HyperSlab", **_number_attrs(dataset), Format="HDF", Dimensions=_dims(shape))
    item.text = f"{h5_name}:{dataset.name}|" + ":".join(_dims(row) for row in (start, stride, count, dataset.shape))
    selection = ET.SubElement(item, "DataItem", Format="XML", NumberType="Int", Dimensions=f"3 {len(start)}")
    selection.text = "\n".join(_dims(row) for row in (start, stride, count))
    item.append(_hdf_item(h5_name, dataset))
    return item


def _hdf_item(h5_name: str, dataset: h5py.Dataset) -> ET.Element:
    item = ET.Element("DataItem", Format="HDF", **_number_attrs(dataset), Dimensions=_dims(dataset.shape))
    item.text = f"{h5_name}:{dataset.name}"
    return item


def _number_attrs(dataset: h5py.Dataset) -> dict[str, str]:
    dtype = np.dtype(dataset.dtype)
    kind = "Float" if dtype.kind == "f" else "Int"
    return {"NumberType": kind, "Precision": str(dtype.itemsize)}


def _dims(shape: tuple[int, ...]) -> str:
    return " ".join(str(int(size)) for size in shape)
