"""Output files: HDF5 in The Well's schema, XDMF sidecars for ParaView, The Well's dataset layout, quick-look PNGs.

This package imports no JAX: files are written from and read into NumPy arrays.
"""

from phys.io.hdf5 import TrajectoryWriter, read, read_snapshot, validate
from phys.io.merge import merge, read_ensemble
from phys.io.plot import plot_file
from phys.io.well import WellExport, export_well
from phys.io.writer import MemoryWriter, Writer
from phys.io.xdmf import write_xdmf

__all__ = [
    "MemoryWriter",
    "TrajectoryWriter",
    "WellExport",
    "Writer",
    "export_well",
    "merge",
    "plot_file",
    "read",
    "read_ensemble",
    "read_snapshot",
    "validate",
    "write_xdmf",
]
