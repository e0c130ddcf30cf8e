"""A flow case's boundary conditions as data on named pieces (phys.boundary), and the wall profile."""

from __future__ import annotations

import numpy as np
import pytest

from cases import get
from phys.boundary import flow_boundary
from phys.case import Case, CaseError
from phys.geometry import Geometry, Piece


def test_each_case_gets_its_walls_lid_inflow_outflow_and_obstacle():
    lid = {c.piece: c for c in flow_boundary(get("lid-driven-cavity")).conditions}
    assert set(lid) == {"left", "right", "bottom", "top"}
    assert lid["top"].velocity == (1.0, 0.0) and lid["bottom"].velocity == (0.0, 0.0)
    assert all(c.kind == "velocity" for c in lid.values())
    cylinder = {c.piece: c for c in flow_boundary(get("cylinder")).conditions}
    assert cylinder["inlet"].inflow_speed == 0.2 and cylinder["inlet"].span == (0.0, 0.41)
    assert cylinder["outlet"].kind == "outflow"
    assert cylinder["cylinder"].velocity == (0.0, 0.0) and cylinder["walls"].velocity == (0.0, 0.0)
    smooth = {c.piece: c for c in flow_boundary(get("lid-driven-cavity-smooth")).conditions}
    assert smooth["top"].profile == "smooth" and smooth["top"].along == 0 and smooth["top"].span == (0.0, 1.0)


def test_a_piece_joining_parts_with_different_conditions_is_refused():
    case = get("cylinder")
    joined = Geometry(
        container=case.geometry.container,
        obstacles=case.geometry.obstacles,
        pieces=(Piece(name="inflow_and_walls", boundary=("left", "bottom", "top")), Piece(name="outlet", boundary=("right",)),
                Piece(name="cylinder", boundary=("obstacle0",))),
    )  # fmt: skip
    with pytest.raises(CaseError, match="piece 'inflow_and_walls' joins boundary parts with different conditions"):
        flow_boundary(case.model_copy(update={"geometry": joined}))


def test_smooth_profile_only_on_walls():
    case = get("channel").model_dump()
    case["bcs"] = [{**case["bcs"][0], "profile": "smooth"}, case["bcs"][1]]
    with pytest.raises(CaseError, match="profile"):
        Case(**case)


def test_uniform_profile_keeps_the_cavity_hash_and_smooth_changes_it():
    uniform, smooth = get("lid-driven-cavity"), get("lid-driven-cavity-smooth")
    assert "profile" not in uniform.canonical_json()
    assert "smooth" in smooth.canonical_json() and uniform.sha256() != smooth.sha256()


def test_solver_lid_is_the_profile_at_the_faces():
    import jax.numpy as jnp

    from solvers.projection import Boundary, StaggeredGrid, _ghost_u

    n = 16
    grid = StaggeredGrid((n, n), (1.0, 1.0), (0.0, 0.0), (Boundary("wall", 0.0, 0.0), Boundary("wall", 0.0, 2.0, "smooth")), "dct")
    u = jnp.asarray(np.random.default_rng(0).normal(size=(n + 1, n)))
    ghost = _ghost_u(grid, u)
    x = np.arange(n + 1) / n
    np.testing.assert_allclose(0.5 * (ghost[:, -1] + ghost[:, -2]), 2.0 * 16 * x**2 * (1 - x) ** 2, atol=1e-12)
    np.testing.assert_allclose(0.5 * (ghost[:, 0] + ghost[:, 1]), 0.0, atol=1e-12)
