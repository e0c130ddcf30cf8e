"""Quick-look PNGs (phys/io/plot.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from phys.io import plot_file


def _assert_picture(png: Path, shape: tuple[int, int]) -> None:
    image = imread(png)
    assert image.shape[:2] == shape
    assert np.ptp(image[..., :3]) > 0.1  # not a blank canvas


def test_1d_run_is_drawn_as_a_space_time_diagram(finished_run, tmp_path: Path) -> None:
    path, _, _ = finished_run
    png = plot_file(path, tmp_path / "plots" / "u.png")
    _assert_picture(png, (500, 700))


def test_2d_vector_field_is_drawn_at_first_and_last_time(well_file_2d: Path, tmp_path: Path) -> None:
    png = plot_file(well_file_2d, tmp_path / "velocity.png", field="velocity", trajectory=1)
    _assert_picture(png, (450, 1000))


def test_3d_field_is_drawn_on_its_middle_slice(well_file_3d: Path, tmp_path: Path) -> None:
    _assert_picture(plot_file(well_file_3d, tmp_path / "density.png"), (450, 1000))


def test_plot_names_the_available_fields_when_asked_for_a_missing_one(finished_run, tmp_path: Path) -> None:
    path, _, _ = finished_run
    with pytest.raises(ValueError, match="no field 'v'; available fields: flux, stress, u"):
        plot_file(path, tmp_path / "v.png", field="v")
