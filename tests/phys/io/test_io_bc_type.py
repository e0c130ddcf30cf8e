"""bc_type in The Well's spelling (PERIODIC, WALL, OPEN); files with the old lower-case spelling still read."""

from __future__ import annotations

import h5py
import numpy as np
from io_testkit import SMALL, append_steps, create_writer, synthetic

from cases import get
from phys.io import read, validate


def test_bc_type_is_upper_case_for_periodic_and_wall_axes(tmp_path, finished_run) -> None:
    path, _, _ = finished_run
    burgers = get("burgers").with_updates(SMALL)  # Dirichlet ends: The Well's WALL
    writer = create_writer(tmp_path / "burgers.h5", burgers, {"u": 0}, 1)
    append_steps(writer, synthetic(burgers, 1, {"u": 0}), burgers.time.n_saves)
    walled = writer.finalize()
    with h5py.File(path) as periodic_file, h5py.File(walled) as wall_file:
        assert periodic_file["boundary_conditions/x_periodic"].attrs["bc_type"] == "PERIODIC"
        assert wall_file["boundary_conditions/x_wall"].attrs["bc_type"] == "WALL"
        assert wall_file["boundary_conditions/x_wall"].attrs["kind"] == "dirichlet"
    assert validate(path) == [] and validate(walled) == []


def test_a_file_with_the_old_lower_case_bc_type_still_validates_and_reads(finished_run) -> None:
    path, data, _ = finished_run
    with h5py.File(path, "a") as file:
        file["boundary_conditions/x_periodic"].attrs["bc_type"] = "periodic"
    assert validate(path) == []
    np.testing.assert_array_equal(read(path).values["u"], data["u"].astype(np.float32))


def test_a_misspelt_bc_type_is_still_reported(finished_run) -> None:
    path, _, _ = finished_run
    with h5py.File(path, "a") as file:
        file["boundary_conditions/x_periodic"].attrs["bc_type"] = "PERIODICAL"
    assert any("bc_type 'periodical'" in problem for problem in validate(path))
