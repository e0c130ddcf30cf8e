"""Fixtures for the I/O tests: a small KS case, a finished run, files shaped like The Well's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from io_testkit import append_steps, create_writer, small_case, synthetic, write_well_file

from phys.case import Case


@pytest.fixture
def case() -> Case:
    return small_case()


@pytest.fixture
def finished_run(tmp_path: Path, case: Case) -> tuple[Path, dict[str, np.ndarray], dict[str, int]]:
    """A finalized file of two trajectories holding a scalar, a vector and a tensor field."""
    tensor_order = {"u": 0, "flux": 1, "stress": 2}
    data = synthetic(case, 2, tensor_order)
    writer = create_writer(tmp_path / "run.h5", case, tensor_order, 2)
    append_steps(writer, data, case.time.n_saves, block=2)
    return writer.finalize(), data, tensor_order


@pytest.fixture
def well_file_2d(tmp_path: Path) -> Path:
    return write_well_file(tmp_path / "well_2d.hdf5", (8, 6))


@pytest.fixture
def well_file_3d(tmp_path: Path) -> Path:
    return write_well_file(tmp_path / "well_3d.hdf5", (4, 5, 6))
