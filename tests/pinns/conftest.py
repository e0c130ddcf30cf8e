"""Shared cases for the PINN tests."""

from __future__ import annotations

import math

import pytest

from phys.case import Case


@pytest.fixture
def small_case() -> Case:
    """A periodic convection-diffusion case small enough to train in seconds."""
    return Case(
        name="convection-diffusion-small",
        pde={"name": "convection-diffusion", "params": {"c": 1.0, "nu": 0.1}},
        domain={"length": 2 * math.pi},
        grid={"n": 32},
        ic={"kind": "family", "name": "sine", "params": {"amplitude": 1.0, "wavenumber": 1.0}},
        time={"t_end": 0.5, "dt": 0.05, "save_dt": 0.1},
    )
