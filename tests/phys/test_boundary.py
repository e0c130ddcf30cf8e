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


def test_a_piece_whose_parts_move_differently_is_refused_for_the_pinn():
    # One piece over the left and bottom sides at speed 1: the solver moves v on the left and u on the
    # bottom; a PINN's transform needs one velocity per piece, so flow_boundary asks for a split.
    joined = Geometry(
        container=get("cylinder").geometry.container,
        obstacles=get("cylinder").geometry.obstacles,
        pieces=(Piece(name="moving", boundary=("left", "bottom")), Piece(name="still", boundary=("right", "top")),
                Piece(name="cylinder", boundary=("obstacle0",))),
    )  # fmt: skip
    case = get("cylinder").with_updates(
        {"geometry": joined.model_dump(mode="json"), "solver.probes": None,
         "boundary": {"moving": {"kind": "wall", "speed": 1.0}, "still": {"kind": "wall"}, "cylinder": {"kind": "wall"}}}
    )  # fmt: skip
    assert (case.bcs[0].lower, case.bcs[1].lower) == (1.0, 1.0)
    with pytest.raises(CaseError, match="piece 'moving' joins boundary parts with different conditions"):
        flow_boundary(case)


def test_named_pieces_give_the_solver_its_axes():
    cylinder = get("cylinder")
    x_axis, y_axis = cylinder.bcs
    assert (x_axis.kind, x_axis.lower, x_axis.upper) == ("inflow-outflow", 0.2, 0.0)
    assert (y_axis.kind, y_axis.lower, y_axis.upper) == ("wall", 0.0, 0.0)
    lid = get("lid-driven-cavity").with_updates({"boundary.bottom.speed": -0.5, "boundary.left.speed": 0.25})
    assert [(bc.kind, bc.lower, bc.upper) for bc in lid.bcs] == [("wall", 0.25, 0.0), ("wall", -0.5, 1.0)]
    smooth = get("lid-driven-cavity-smooth").bcs[1]
    assert smooth.profile == "smooth" and smooth.upper == 1.0


def test_named_pieces_are_the_json_and_the_hash():
    case = get("cylinder")
    data = case.to_dict()
    assert "bcs" not in data and data["boundary"]["inlet"] == {"kind": "inflow", "speed": 0.2}
    again = Case.from_json(case.to_json())
    assert again == case and again.sha256() == case.sha256() and again.bcs == case.bcs
    faster = case.with_updates({"boundary.inlet.speed": 0.25})
    assert faster.sha256() != case.sha256() and faster.bcs[0].lower == 0.25


@pytest.mark.parametrize(
    ("name", "updates", "message"),
    [
        ("cylinder", {"boundary.lid": {"kind": "wall"}}, "boundary.lid: unknown piece 'lid'; pieces: inlet, outlet, walls, cylinder"),
        ("cylinder", {"boundary": {"inlet": {"kind": "inflow", "speed": 1.0}, "outlet": {"kind": "outflow"}, "walls": {"kind": "wall"}}},
         "boundary: piece 'cylinder' has no condition; every piece needs one"),
        ("cylinder", {"boundary.cylinder.speed": 1.0}, "boundary.cylinder: an obstacle (obstacle0) is a wall at rest, not 'wall' at speed 1"),
        ("cylinder", {"boundary": None}, "boundary: a case with a geometry states its conditions on the geometry's pieces (inlet, outlet, walls, cylinder), not per axis"),
        ("cylinder", {"boundary.inlet": {"kind": "outflow"}, "boundary.outlet": {"kind": "inflow", "speed": 0.2}},
         "boundary.inlet: solver 'projection' takes walls on both the left and right sides, or an inflow on the left and an outflow on the right; got outflow and inflow"),
        ("channel", {"boundary.top": {"kind": "inflow", "speed": 1.0}}, "boundary.top: solver 'projection' takes walls on the bottom and top sides; the top is 'inflow'"),
        ("channel", {"boundary.left.speed": 0.0}, "boundary.left.speed: an inflow's mean speed must be positive, got 0.0"),
        ("channel", {"boundary.right.speed": 1.0}, "boundary.right.speed: an outflow takes no speed (its velocity is the flow's), got 1.0"),
        ("channel", {"boundary.left.profile": "smooth"}, "boundary.left.profile: shapes a wall's tangential velocity; an 'inflow' piece has none"),
        ("channel", {"bcs": [{"kind": "dirichlet"}] * 2}, "bcs: the boundary is given twice: on named pieces ('boundary') and per axis ('bcs'); give one"),
        ("lid-driven-cavity", {"boundary.bottom.speed": 1.0, "boundary.top.profile": "smooth"},
         "boundary.top: the moving walls on bottom and top need one profile, got smooth and uniform"),
        ("lid-driven-cavity", {"boundary": None, "bcs": [{"kind": "wall"}, {"kind": "wall", "upper": 1.0}]},
         "bcs[0].kind: a 2D flow states its walls, inflow and outflow on named pieces: boundary = {'left': {'kind': 'inflow', 'speed': 1}, "
         "'right': {'kind': 'outflow'}, 'bottom': {'kind': 'wall'}, 'top': {'kind': 'wall'}} (docs/cases.md)"),
    ],
)  # fmt: skip
def test_bad_named_conditions_are_one_line_errors(name, updates, message):
    with pytest.raises(CaseError) as error:
        get(name).with_updates(updates)
    assert str(error.value) == message


def test_named_pieces_are_for_2d_flows():
    data = get("burgers").to_dict()
    del data["bcs"]
    data["boundary"] = {"left": {"kind": "wall"}}
    with pytest.raises(CaseError, match=r"^boundary: conditions on named pieces are for 2D flows; a 1D case gives 'bcs' per axis$"):
        Case(**data)


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
