"""XDMF sidecars (phys/io/xdmf.py): every DataItem points at a real dataset, with a consistent hyperslab."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from math import prod
from pathlib import Path

import h5py
import numpy as np
import pytest

from phys.io import write_xdmf


def _check_references(xdmf: Path, h5: Path) -> list[ET.Element]:
    """Assert every HDF DataItem names an existing dataset of its stated shape; return the grids."""
    root = ET.parse(xdmf).getroot()
    assert root.tag == "Xdmf" and root.get("Version") == "3.0"
    with h5py.File(h5, "r") as file:
        for item in root.iter("DataItem"):
            if item.get("Format") == "HDF":
                name, _, dataset_path = item.text.strip().partition(":")
                assert name == h5.name
                assert dataset_path in file, dataset_path
                assert tuple(map(int, item.get("Dimensions").split())) == file[dataset_path].shape
            if item.get("ItemType") == "HyperSlab":
                selection, source = list(item)
                dataset = file[source.text.strip().partition(":")[2]]
                start, stride, count = np.array(selection.text.split(), dtype=int).reshape(3, -1)
                assert len(start) == dataset.ndim
                assert (start >= 0).all() and (start + (count - 1) * stride < np.array(dataset.shape)).all()
                assert prod(map(int, item.get("Dimensions").split())) == prod(count)
    (collection,) = root.find("Domain")
    assert collection.get("CollectionType") == "Temporal"
    return list(collection)


def test_xdmf_of_a_1d_run_is_a_flat_2d_mesh(finished_run) -> None:
    path, _, _ = finished_run
    xdmf = write_xdmf(path)
    assert xdmf == path.with_suffix(".xdmf") and xdmf.exists()
    grids = _check_references(xdmf, path)
    assert [float(grid.find("Time").get("Value")) for grid in grids] == [0.0, 0.5, 1.0, 1.5, 2.0]
    topology = grids[0].find("Topology")
    assert topology.get("TopologyType") == "2DRectMesh" and topology.get("Dimensions") == "1 16"
    names = [attribute.get("Name") for attribute in grids[0].iter("Attribute")]
    assert names == ["u", "flux_x", "stress_xx"]


@pytest.mark.parametrize(
    ("fixture", "topology", "dims"), [("well_file_2d", "2DRectMesh", "8 6"), ("well_file_3d", "3DRectMesh", "4 5 6")]
)
def test_xdmf_of_2d_and_3d_files_lists_vector_components(request, fixture: str, topology: str, dims: str) -> None:
    path: Path = request.getfixturevalue(fixture)
    grids = _check_references(write_xdmf(path), path)
    assert len(grids) == 4
    mesh = grids[-1].find("Topology")
    assert (mesh.get("TopologyType"), mesh.get("Dimensions")) == (topology, dims)
    axes = "xyz"[: len(dims.split())]
    names = [attribute.get("Name") for attribute in grids[-1].iter("Attribute")]
    assert names == ["density", *(f"velocity_{axis}" for axis in axes)]
    # The geometry lists the fastest array axis (our last) first.
    coordinates = [item.text.partition(":")[2] for item in grids[0].find("Geometry")]
    assert coordinates == [f"/dimensions/{axis}" for axis in reversed(axes)]
