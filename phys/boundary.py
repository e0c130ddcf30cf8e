"""A wall-bounded flow case's boundary conditions as velocity data on named geometry pieces (no JAX).

A flow states its conditions on named pieces (``Case.boundary``: a wall with
its tangential speed, an inflow of a mean speed, an outflow); the case derives
from them the per-axis form the projection solver reads (``Case.bcs``), and
this module turns that form into what a PINN needs on each piece: the
velocity to hold there, beside the piece's distance function and samples
(:mod:`phys.geometry`). One translation each way, so solver and PINN read one
statement of the conditions:

- a wall on the left or right side holds ``v`` = its speed (``u = 0``); on the
  bottom or top ``u`` = its speed (a lid is ``speed = 1`` on the top);
- an inflow (the left side) is the Poiseuille profile ``u = 6 U s (1 - s)``,
  ``s = (y - y0) / L_y``, of mean speed ``U``, ``v = 0``; an outflow (the
  right side) has zero normal gradient of the velocity, the pressure's zero
  there;
- every obstacle is a no-slip wall at rest;
- a wall's ``profile = "smooth"`` shapes its tangential velocity as
  ``16 s^2 (1 - s)^2`` along it (the regularised lid), as the solver does.

A case without a geometry has the box with one piece per side, named by the
side; with a geometry, its pieces are used, and a piece whose parts carry
different velocities (a moving piece over two sides) is refused.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from phys.case import Case, CaseError
from phys.geometry import BOX_SIDES, Box, Geometry, Piece

__all__ = ["PieceCondition", "FlowBoundary", "FLOW_BOUNDARIES", "flow_boundary", "is_flow", "pieces_of"]


@dataclass(frozen=True)
class PieceCondition:
    """What holds on one piece: a velocity (uniform, or the parabolic inflow) or the outflow."""

    piece: str
    kind: Literal["velocity", "outflow"]
    velocity: tuple[float, float] = (0.0, 0.0)  # uniform velocity (u, v) on the piece
    inflow_speed: float = 0.0  # > 0: the parabolic inflow of this mean speed (u only) instead
    span: tuple[float, float] = (0.0, 1.0)  # the interval the parabola (or the wall profile) spans
    # A wall's profile (phys.case.BoundaryCondition.profile): "smooth" multiplies the velocity by
    # 16 s^2 (1 - s)^2, s = (coordinate along the wall - span[0]) / (span[1] - span[0]), along axis ``along``.
    profile: str = "uniform"
    along: int = 0
    # A moving wall's data extended into the domain: times (c - ramp[0]) / (ramp[1] - ramp[0]), c the
    # coordinate across the wall (1 on the wall, 0 on the opposite one); None: the data as they are.
    ramp: tuple[float, float] | None = None


@dataclass(frozen=True)
class FlowBoundary:
    """A flow's geometry and one condition per piece."""

    geometry: Geometry
    conditions: tuple[PieceCondition, ...]

    def pieces(self, kind: Literal["velocity", "outflow"]) -> tuple[str, ...]:
        return pieces_of(self.conditions, kind)


def pieces_of(conditions: tuple[PieceCondition, ...], kind: Literal["velocity", "outflow"]) -> tuple[str, ...]:
    """The names of the pieces whose condition is of ``kind``, in order."""
    return tuple(c.piece for c in conditions if c.kind == kind)


def _moving(speed: float, ramp: tuple[float, float]) -> tuple[float, float] | None:
    # A wall at rest needs no ramp, so that walls at rest compare equal and may share a piece.
    return ramp if speed else None


def _part_conditions(case: Case) -> dict[str, PieceCondition]:
    """The condition on each box side and obstacle rim, keyed by boundary part (piece names left blank)."""
    x_bc, y_bc = case.bcs
    (x0, y0), (lx, ly) = case.domain.origin, case.domain.length
    parts: dict[str, PieceCondition] = {}
    x_span, y_span = (float(x0), float(x0 + lx)), (float(y0), float(y0 + ly))
    if x_bc.kind == "wall":
        parts["left"] = PieceCondition("", "velocity", (0.0, float(x_bc.lower)), span=y_span, profile=x_bc.profile, along=1,
                                       ramp=_moving(x_bc.lower, x_span[::-1]))
        parts["right"] = PieceCondition("", "velocity", (0.0, float(x_bc.upper)), span=y_span, profile=x_bc.profile, along=1,
                                        ramp=_moving(x_bc.upper, x_span))
    elif x_bc.kind == "inflow-outflow":
        parts["left"] = PieceCondition("", "velocity", inflow_speed=float(x_bc.lower), span=y_span)
        parts["right"] = PieceCondition("", "outflow")
    else:
        raise CaseError("bcs[0].kind", f"a flow's x axis must be 'wall' or 'inflow-outflow', got '{x_bc.kind}'")
    if y_bc.kind != "wall":
        raise CaseError("bcs[1].kind", f"a flow's y axis must be 'wall', got '{y_bc.kind}'")
    parts["bottom"] = PieceCondition("", "velocity", (float(y_bc.lower), 0.0), span=x_span, profile=y_bc.profile,
                                     ramp=_moving(y_bc.lower, y_span[::-1]))
    parts["top"] = PieceCondition("", "velocity", (float(y_bc.upper), 0.0), span=x_span, profile=y_bc.profile,
                                  ramp=_moving(y_bc.upper, y_span))
    for k in range(len(case.geometry.obstacles) if case.geometry is not None else 0):
        parts[f"obstacle{k}"] = PieceCondition("", "velocity")
    return parts


FLOW_BOUNDARIES = ("wall", "inflow-outflow")


def is_flow(case: Case) -> bool:
    """A wall-bounded flow: its boundary conditions are the projection solver's walls and inflow/outflow."""
    return any(bc.kind in FLOW_BOUNDARIES for bc in case.bcs)


def is_steady(case: Case) -> bool:
    """A case its solver marches to a steady state and stops (``solver.steady_tol > 0``): a PINN models that state."""
    return bool(getattr(case.solver, "steady_tol", 0.0))


def flow_boundary(case: Case) -> FlowBoundary:
    """The geometry of a 2D flow case and the condition on each of its pieces (see the module docstring)."""
    if len(case.bcs) != 2:
        raise CaseError("bcs", f"a flow's boundary needs two axes, got {len(case.bcs)}")
    parts = _part_conditions(case)
    if case.geometry is not None:
        geometry = case.geometry
    else:
        (x0, y0), (lx, ly) = case.domain.origin, case.domain.length
        geometry = Geometry(
            container=Box(lower=(x0, y0), upper=(x0 + lx, y0 + ly)),
            pieces=tuple(Piece(name=side, boundary=(side,)) for side in BOX_SIDES),
        )
    conditions = []
    for i, piece in enumerate(geometry.pieces):
        found = {parts[part] for part in piece.boundary}
        if len(found) != 1:
            raise CaseError(
                f"geometry.pieces[{i}]",
                f"piece '{piece.name}' joins boundary parts with different conditions ({', '.join(piece.boundary)}); split it",
            )
        (condition,) = found
        conditions.append(dataclasses.replace(condition, piece=piece.name))
    return FlowBoundary(geometry, tuple(conditions))
