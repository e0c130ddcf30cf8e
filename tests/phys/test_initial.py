"""Initial-condition families on the grid, and the differentiable leaves of a case's simulation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from cases import get
from phys.initial import grid_coordinates, initial_fields
from solvers import simulation


def test_kassam_trefethen_start_is_the_published_formula() -> None:
    case = get("ks").with_updates({"dtype": "float64"})
    (x,) = grid_coordinates(case)
    np.testing.assert_allclose(x[1] - x[0], 32 * np.pi / 128)
    expected = np.cos(x / 16) * (1 + np.sin(x / 16))
    np.testing.assert_allclose(np.asarray(initial_fields(case))[0], expected, rtol=1e-14)


def test_random_start_is_smooth_zero_mean_normalised_and_seeded() -> None:
    case = get("ks-random").with_updates({"dtype": "float64"})
    first = np.asarray(initial_fields(case))[0]
    again = np.asarray(initial_fields(case))[0]
    other = np.asarray(initial_fields(case.with_updates({"seed": 7})))[0]
    np.testing.assert_array_equal(first, again)
    assert np.max(np.abs(first - other)) > 0.1
    np.testing.assert_allclose(np.max(np.abs(first)), 1.0, rtol=1e-12)
    assert abs(first.mean()) < 1e-12
    spectrum = np.abs(np.fft.rfft(first))
    assert np.all(spectrum[4:] < 1e-10)  # modes 1..3 only


def test_simulation_leaves_are_arrays_and_grad_reaches_them() -> None:
    sim = simulation(get("ks").with_updates({"dtype": "float64"}))
    leaves = jax.tree_util.tree_leaves(sim)
    assert leaves and all(isinstance(leaf, jax.Array) for leaf in leaves)
    assert {leaf.dtype for leaf in leaves} == {jnp.dtype("float64")}
    grads = jax.grad(lambda s: s.pde.a * jnp.sum(s.u0**2) + s.pde.b)(sim)
    np.testing.assert_allclose(float(grads.pde.a), float(jnp.sum(sim.u0**2)))
    assert float(grads.pde.b) == 1.0
