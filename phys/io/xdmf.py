"""XDMF 3 sidecar: lets ParaView (and VisIt) open an HDF5 file of our schema.

The sidecar holds no data. It is one temporal collection, one grid per
written snapshot, for **trajectory 0 only** (a sidecar per ensemble member
would multiply files; the data of every trajectory stay in the HDF5 file).
Each field is referenced through a HyperSlab ``DataItem`` that selects
``[trajectory 0, time t, all points(, component c)]`` of the HDF5 dataset.

Axis order. Our arrays are C-ordered ``[..., x, y, z]``: x varies slowest,
while XDMF rectilinear meshes take their first coordinate (VX) along the
fastest-varying axis. The geometry therefore lists the axes reversed (VX is
our last axis): every point sits at its true coordinates, but ParaView's X
axis shows our last axis (y in 2D, so a 2D picture appears transposed).

Vectors and tensors are written as scalar components ``<name>_x``,
``<name>_y`` (``<name>_xy`` for tensors): a hyperslab cannot pad a 2D vector
to the three components ParaView wants, nor reorder components to the
reversed axes, and mislabelled arrows would be worse than none. A 1D case is
a 2D rectilinear mesh with one point (at 0) along the second axis. Fields
that The Well stores without a sample or time axis are left out.
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

_TRAJECTORY = 0


def write_xdmf(h5_path: str | Path) -> Path:
    """Write ``<h5_path with suffix .xdmf>`` next to the HDF5 file and return its path."""
    h5_path = Path(h5_path)
    with open_h5(h5_path) as file:
        root = _document(file, h5_path.name)
    ET.indent(root)
    out = h5_path.with_suffix(".xdmf")
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
    return out


def _document(file: h5py.File, h5_name: str) -> ET.Element:
    dims = file["dimensions"]
    axes = names(dims.attrs, "spatial_dims")
    if not axes:
        raise ValueError(f"{h5_name}: no spatial dims (an ODE's time series); XDMF describes fields on a grid")
    n = tuple(int(dims[axis].shape[-1]) for axis in axes)
    times = dims["time"][()][: written_steps(file)]
    fields = [
        (name, order, dataset)
        for name, (order, dataset) in field_datasets(file).items()
        if flag(dataset.attrs, "sample_varying", True) and flag(dataset.attrs, "time_varying", True)
    ]
    xdmf = ET.Element("Xdmf", Version="3.0")
    domain = ET.SubElement(xdmf, "Domain")
    name = str(file.attrs.get("dataset_name", Path(h5_name).stem))
    collection = ET.SubElement(domain, "Grid", Name=name, GridType="Collection", CollectionType="Temporal")
    for index, time in enumerate(times):
        grid = ET.SubElement(collection, "Grid", Name=f"{name}_t{index}", GridType="Uniform")
        ET.SubElement(grid, "Time", Value=f"{float(time):.9g}")
        _add_mesh(grid, file, h5_name, axes, n)
        for field, order, dataset in fields:
            _add_field(grid, h5_name, field, order, dataset, index, axes)
    return xdmf


def _mesh_shape(n: tuple[int, ...]) -> tuple[int, ...]:
    return (1, *n) if len(n) == 1 else n


def _add_mesh(grid: ET.Element, file: h5py.File, h5_name: str, axes: list[str], n: tuple[int, ...]) -> None:
    shape = _mesh_shape(n)
    kind = "3D" if len(shape) == 3 else "2D"
    ET.SubElement(grid, "Topology", TopologyType=f"{kind}RectMesh", Dimensions=_dims(shape))
    geometry = ET.SubElement(grid, "Geometry", GeometryType="VXVYVZ" if kind == "3D" else "VXVY")
    # VX runs along the fastest array axis: our last one (see the module docstring).
    for axis in reversed(axes):
        geometry.append(_hdf_item(h5_name, file["dimensions"][axis]))
    if len(axes) == 1:
        flat = ET.SubElement(geometry, "DataItem", Format="XML", NumberType="Float", Precision="4", Dimensions="1")
        flat.text = "0"


def _add_field(
    grid: ET.Element, h5_name: str, name: str, order: int, dataset: h5py.Dataset, time: int, axes: list[str]
) -> None:
    n = dataset.shape[2 : 2 + len(axes)]
    for component in itertools.product(range(len(axes)), repeat=order):
        label = name + ("_" + "".join(AXIS_NAMES[c] for c in component) if order else "")
        attribute = ET.SubElement(grid, "Attribute", Name=label, AttributeType="Scalar", Center="Node")
        start = (_TRAJECTORY, time, *(0,) * len(n), *component)
        count = (1, 1, *n, *(1,) * order)
        attribute.append(_hyperslab(h5_name, dataset, start, count, _mesh_shape(n)))


def _hyperslab(
    h5_name: str, dataset: h5py.Dataset, start: tuple[int, ...], count: tuple[int, ...], shape: tuple[int, ...]
) -> ET.Element:
    slab = ET.Element("DataItem", ItemType="HyperSlab", Type="HyperSlab", Dimensions=_dims(shape))
    selection = ET.SubElement(slab, "DataItem", Format="XML", NumberType="Int", Dimensions=f"3 {len(start)}")
    selection.text = "\n".join(_dims(row) for row in (start, (1,) * len(start), count))
    slab.append(_hdf_item(h5_name, dataset))
    return slab


def _hdf_item(h5_name: str, dataset: h5py.Dataset) -> ET.Element:
    item = ET.Element(
        "DataItem",
        Format="HDF",
        NumberType="Float",
        Precision=str(np.dtype(dataset.dtype).itemsize),
        Dimensions=_dims(dataset.shape),
    )
    item.text = f"{h5_name}:{dataset.name}"
    return item


def _dims(shape: tuple[int, ...]) -> str:
    return " ".join(str(int(size)) for size in shape)
