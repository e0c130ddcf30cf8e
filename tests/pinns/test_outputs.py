"""A model's columns and the solver's outputs, both read from the PDE's ``outputs`` (pinns.metrics)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

import phys
from phys.fields import Fields
from phys.pdes.navier_stokes import IncompressibleNavierStokes2D, NavierStokes2D
from pinns.metrics import named_outputs, output_components, training_reference


class _Energy(phys.AbstractPDE):
    """u_t = u_xx, saving u and a computed energy u^2 / 2."""

    fields: ClassVar[tuple[str, ...]] = ("u",)
    n_dims: ClassVar[int | None] = 1
    output_orders = {"u": 0, "energy": 0}

    def linear(self):
        return {"u": {(2,): 1.0}}

    def nonlinear(self, d):
        return {"u": {}}

    def outputs(self, d):
        return {"u": d("u"), "energy": 0.5 * d("u") ** 2}


def test_the_flow_outputs_are_read_off_the_pde():
    assert output_components(IncompressibleNavierStokes2D(), ("u", "v", "p")) == {"velocity": ("u", "v"), "pressure": ("p",)}
    # Without the pressure column the outputs cannot be read; without derivatives neither can a vorticity's velocity.
    assert output_components(IncompressibleNavierStokes2D(), ("u", "v")) == {}
    assert output_components(NavierStokes2D(), ("vorticity",)) == {}
    # A computed output (0.5 u^2 is 1 on the marker sqrt 2, no marker) is not taken for a column.
    assert output_components(_Energy(), ("u",)) == {"u": ("u",)}


def test_named_outputs_and_training_reference_are_inverse():
    rng = np.random.default_rng(0)
    prediction = rng.normal(size=(3, 5, 4, 3))  # [T, nx, ny, (u, v, p)]
    pde, names = IncompressibleNavierStokes2D(), ("u", "v", "p")
    outputs = named_outputs(pde, names, prediction)
    assert set(outputs) == {"velocity", "pressure"}
    np.testing.assert_array_equal(outputs["velocity"], prediction[..., :2])
    np.testing.assert_array_equal(outputs["pressure"], prediction[..., 2])
    reference = Fields(
        time=np.arange(3.0),
        coords={"x": np.arange(5.0), "y": np.arange(4.0)},
        values={name: value[None] for name, value in outputs.items()},
        tensor_order={"velocity": 1, "pressure": 0},
    )
    scored = training_reference(reference, pde, names, steady=False)
    assert dict(scored.tensor_order) == {"u": 0, "v": 0, "p": 0}
    for i, name in enumerate(names):
        np.testing.assert_array_equal(scored[name][0], prediction[..., i])
    steady = training_reference(reference, pde, names, steady=True)
    assert steady.time.tolist() == [2.0]
    np.testing.assert_array_equal(steady["p"][0, 0], prediction[-1, ..., 2])
