"""Geometry written once: a 2D domain with named boundary pieces, as distance functions.

A :class:`Geometry` is a container (a :class:`Box` or a :class:`Polygon`) minus
obstacles (:class:`Disc`, :class:`Box`, :class:`Polygon`), whose boundary is
split into named :class:`Piece` s (``inlet``, ``outlet``, ``walls``,
``cylinder``, ``lid``, ...) so that a boundary condition attaches to a piece
by name. This module is the schema: validated, frozen, JSON round trip, one-line
errors (:class:`~phys.case.CaseError`), and it imports no JAX.

:meth:`Geometry.build` turns it into a :class:`GeometryField` (an
``eqx.Module`` from ``phys._distance``, imported on demand) that evaluates the
distance functions in ``jax.numpy``. The ``jax.numpy`` functions themselves
(``box_distance``, ``r_conjunction``, ``transfinite_interpolation``, ...) are
reachable from this module too; the first use imports JAX.

Conventions (docs/geometry.md has the formulas and their sources):

- A signed distance is **positive inside** the region it describes (for a
  geometry: inside the fluid domain), zero on its boundary, negative outside.
- Distances are normalised to first order: away from corners, the gradient has
  unit length on the boundary and points inwards.
- A piece's distance is unsigned: zero on the piece, positive elsewhere.
- Normals are **outward from the domain**: on an obstacle they point into the
  obstacle.

Boundary parts, which pieces are made of:

- a Box container: ``left`` (x = lower x), ``right``, ``bottom`` (y = lower y), ``top``;
- a Polygon container: ``edge0`` ... ``edge{n-1}``, edge ``i`` from vertex ``i`` to ``i + 1``;
- obstacle ``k`` (whole boundary): ``obstacle{k}``.

Each boundary part belongs to exactly one piece.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from phys.case import CaseError

if TYPE_CHECKING:  # the JAX side, imported on demand
    from phys._distance import GeometryField

__all__ = [
    "Box",
    "Disc",
    "Geometry",
    "GeometryField",
    "Piece",
    "Polygon",
    "box_distance",
    "cavity",
    "channel",
    "check_piece_names",
    "cylinder_channel",
    "disc_distance",
    "half_plane_distance",
    "polygon_distance",
    "polygon_inside",
    "r_conjunction",
    "r_difference",
    "r_disjunction",
    "r_equivalence",
    "segment_distance",
    "segment_exact_distance",
    "transfinite_interpolation",
    "transfinite_weights",
]

# Names served by phys._distance (JAX), imported on first use (PEP 562).
_JAX_NAMES = frozenset(
    {
        "GeometryField",
        "box_distance",
        "disc_distance",
        "half_plane_distance",
        "polygon_distance",
        "polygon_inside",
        "r_conjunction",
        "r_difference",
        "r_disjunction",
        "r_equivalence",
        "segment_distance",
        "segment_exact_distance",
        "transfinite_interpolation",
        "transfinite_weights",
    }
)

SHAPE_KINDS = ("box", "disc", "polygon")
BOX_SIDES = ("left", "right", "bottom", "top")
_PIECE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")

Point = tuple[float, float]


def __getattr__(name: str) -> Any:
    if name in _JAX_NAMES:
        from phys import _distance

        return getattr(_distance, name)
    raise AttributeError(f"module 'phys.geometry' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _JAX_NAMES)


# -- one-line errors ------------------------------------------------------------


def _loc_to_field(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in SHAPE_KINDS:
            continue  # the discriminator tag of the shape union adds nothing for a reader
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _from_pydantic(error: ValidationError) -> CaseError:
    first = error.errors()[0]
    prefix = _loc_to_field(first["loc"])
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, CaseError):
        return CaseError(".".join(p for p in (prefix, cause.field) if p), cause.message)
    kind = first["type"]
    message = first["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        message = "unknown field"
    elif kind == "union_tag_invalid":
        message = f"unknown shape kind {first['ctx']['tag']!r}; allowed: {', '.join(SHAPE_KINDS)}"
    elif kind == "union_tag_not_found":
        message = f"a shape needs a 'kind'; allowed: {', '.join(SHAPE_KINDS)}"
    return CaseError(prefix, message)


class _Part(BaseModel):
    """Frozen, strict about unknown keys, and with one-line errors (as ``phys.case``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    def __init__(self, **data: Any):
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise _from_pydantic(error) from None


def _fmt(point: Iterable[float]) -> str:
    return "(" + ", ".join(f"{value:g}" for value in point) + ")"


def _finite_point(point: Point) -> Point:
    for value in point:
        if not math.isfinite(value):
            raise ValueError(f"must hold finite numbers, got {_fmt(point)}")
    return point


# -- plane geometry in plain Python (validation only; evaluation is phys._distance) --


def _cross(o: Point, a: Point, b: Point) -> float:
    """z-component of (a - o) x (b - o): > 0 when o, a, b turn counter-clockwise."""
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _signed_area(vertices: tuple[Point, ...]) -> float:
    """Shoelace formula: positive for counter-clockwise vertices."""
    n = len(vertices)
    return 0.5 * sum(_cross((0.0, 0.0), vertices[i], vertices[(i + 1) % n]) for i in range(n))


def _on_segment(p: Point, a: Point, b: Point) -> bool:
    """p, known to be collinear with a-b, lies within the segment's bounding box."""
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def _segments_meet(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Closed segments a-b and c-d share at least one point (touching counts)."""
    d1, d2, d3, d4 = _cross(c, d, a), _cross(c, d, b), _cross(a, b, c), _cross(a, b, d)
    if ((d1 > 0 and d2 < 0) or (d1 < 0 and d2 > 0)) and ((d3 > 0 and d4 < 0) or (d3 < 0 and d4 > 0)):
        return True
    return (
        (d1 == 0 and _on_segment(a, c, d))
        or (d2 == 0 and _on_segment(b, c, d))
        or (d3 == 0 and _on_segment(c, a, b))
        or (d4 == 0 and _on_segment(d, a, b))
    )


def _point_segment_distance(p: Point, a: Point, b: Point) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    s = max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy)))
    return math.hypot(p[0] - a[0] - s * dx, p[1] - a[1] - s * dy)


def _edges(vertices: tuple[Point, ...]) -> list[tuple[Point, Point]]:
    return [(vertices[i], vertices[(i + 1) % len(vertices)]) for i in range(len(vertices))]


def _point_in_polygon(p: Point, vertices: tuple[Point, ...]) -> bool:
    """Even-odd crossing test along the ray to +x (points on the boundary: either answer)."""
    inside = False
    for a, b in _edges(vertices):
        if (a[1] > p[1]) != (b[1] > p[1]):
            x_cross = a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
            if p[0] < x_cross:
                inside = not inside
    return inside


def _boundary_distance(p: Point, vertices: tuple[Point, ...]) -> float:
    return min(_point_segment_distance(p, a, b) for a, b in _edges(vertices))


# -- shapes -----------------------------------------------------------------------


class Box(_Part):
    """The axis-aligned rectangle ``[lower x, upper x] x [lower y, upper y]``."""

    kind: Literal["box"] = "box"
    lower: Point
    upper: Point

    @field_validator("lower", "upper")
    @classmethod
    def _finite(cls, point: Point) -> Point:
        return _finite_point(point)

    @model_validator(mode="after")
    def _ordered(self) -> Box:
        if not (self.lower[0] < self.upper[0] and self.lower[1] < self.upper[1]):
            raise CaseError("upper", f"must exceed lower on both axes, got lower {_fmt(self.lower)} and upper {_fmt(self.upper)}")
        return self

    def vertices(self) -> tuple[Point, ...]:
        """Counter-clockwise, from the lower-left corner."""
        (x0, y0), (x1, y1) = self.lower, self.upper
        return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


class Disc(_Part):
    """The closed disc of ``radius`` about ``center``."""

    kind: Literal["disc"] = "disc"
    center: Point
    radius: float

    @field_validator("center")
    @classmethod
    def _finite(cls, point: Point) -> Point:
        return _finite_point(point)

    @field_validator("radius")
    @classmethod
    def _positive(cls, radius: float) -> float:
        if not (math.isfinite(radius) and radius > 0):
            raise ValueError(f"must be positive and finite, got {radius:g}")
        return radius


class Polygon(_Part):
    """A simple polygon (no self-intersection), vertices in either orientation."""

    kind: Literal["polygon"] = "polygon"
    vertices: tuple[Point, ...]

    @field_validator("vertices")
    @classmethod
    def _simple(cls, vertices: tuple[Point, ...]) -> tuple[Point, ...]:
        if len(vertices) < 3:
            raise ValueError(f"a polygon needs at least 3 vertices, got {len(vertices)}")
        for vertex in vertices:
            _finite_point(vertex)
        edges = _edges(vertices)
        n = len(edges)
        for i, (a, b) in enumerate(edges):
            if a == b:
                raise ValueError(f"edge {i} has zero length (vertex {i} repeats at {_fmt(a)})")
        for i in range(n):
            for j in range(i + 1, n):
                (a, b), (c, d) = edges[i], edges[j]
                if j == i + 1 or (i == 0 and j == n - 1):
                    # Neighbours share one vertex; they may only fold back onto each other.
                    shared, before, after = (b, a, d) if j == i + 1 else (a, b, c)
                    folds = _cross(shared, before, after) == 0 and (
                        (before[0] - shared[0]) * (after[0] - shared[0]) + (before[1] - shared[1]) * (after[1] - shared[1])
                    ) > 0
                    if folds:
                        raise ValueError(f"is self-intersecting: edges {i} and {j} overlap")
                elif _segments_meet(a, b, c, d):
                    raise ValueError(f"is self-intersecting: edges {i} and {j} cross")
        if _signed_area(vertices) == 0:
            raise ValueError("has zero area")
        return vertices

    def counter_clockwise(self) -> bool:
        return _signed_area(self.vertices) > 0


Shape = Annotated[Union[Box, Disc, Polygon], Field(discriminator="kind")]
Container = Annotated[Union[Box, Polygon], Field(discriminator="kind")]


def _outline(shape: Box | Polygon) -> tuple[Point, ...]:
    return shape.vertices() if isinstance(shape, Box) else shape.vertices


def _describe(shape: Box | Disc | Polygon) -> str:
    if isinstance(shape, Disc):
        return f"disc (center {_fmt(shape.center)}, radius {shape.radius:g})"
    if isinstance(shape, Box):
        return f"box ({_fmt(shape.lower)} to {_fmt(shape.upper)})"
    return f"polygon of {len(shape.vertices)} vertices"


def _placement(obstacle: Box | Disc | Polygon, container: tuple[Point, ...]) -> str | None:
    """Why ``obstacle`` is not strictly inside the container outline, or None if it is."""
    if isinstance(obstacle, Disc):
        inside = _point_in_polygon(obstacle.center, container)
        gap = _boundary_distance(obstacle.center, container)
        if inside and gap > obstacle.radius:
            return None
        if not inside and gap > obstacle.radius:
            return "lies outside the container"
        if all(math.dist(v, obstacle.center) <= obstacle.radius for v in container):
            return "covers the whole container"
        return "cuts or touches the container's boundary"
    outline = _outline(obstacle)
    if any(_segments_meet(a, b, c, d) for a, b in _edges(outline) for c, d in _edges(container)):
        return "cuts or touches the container's boundary"
    if _point_in_polygon(outline[0], container):
        return None
    if _point_in_polygon(container[0], outline):
        return "covers the whole container"
    return "lies outside the container"


def _disjoint(first: Box | Disc | Polygon, second: Box | Disc | Polygon) -> bool:
    """The two closed shapes share no point."""
    if isinstance(first, Disc) and isinstance(second, Disc):
        return math.dist(first.center, second.center) > first.radius + second.radius
    if isinstance(second, Disc):
        first, second = second, first
    if isinstance(first, Disc):
        outline = _outline(second)  # type: ignore[arg-type]
        return not _point_in_polygon(first.center, outline) and _boundary_distance(first.center, outline) > first.radius
    a, b = _outline(first), _outline(second)
    if any(_segments_meet(p, q, r, s) for p, q in _edges(a) for r, s in _edges(b)):
        return False
    return not (_point_in_polygon(a[0], b) or _point_in_polygon(b[0], a))


# -- pieces and the geometry ------------------------------------------------------------


class Piece(_Part):
    """A named piece of the boundary, made of boundary parts (see the module docstring)."""

    name: str
    boundary: tuple[str, ...]

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not _PIECE_NAME.match(name):
            raise ValueError(f"must be a name of letters, digits, '_' or '-' (not starting with a digit), got {name!r}")
        return name

    @field_validator("boundary")
    @classmethod
    def _not_empty(cls, boundary: tuple[str, ...]) -> tuple[str, ...]:
        if not boundary:
            raise ValueError("must name at least one boundary part")
        return boundary


class Geometry(_Part):
    """A 2D domain: ``container`` minus ``obstacles``, its boundary split into named ``pieces``.

    ``equivalence_order`` is the ``m`` of the R_m-equivalence that joins the
    curves of a piece (and pieces) into one distance, normalised to order ``m``
    (Sukumar & Srivastava 2022, their section on R-functions).
    """

    container: Container
    obstacles: tuple[Shape, ...] = ()
    pieces: tuple[Piece, ...]
    equivalence_order: int = 2

    @field_validator("equivalence_order")
    @classmethod
    def _order(cls, order: int) -> int:
        if order < 1:
            raise ValueError(f"must be a positive integer, got {order}")
        return order

    @model_validator(mode="after")
    def _consistent(self) -> Geometry:
        outline = _outline(self.container)
        for k, obstacle in enumerate(self.obstacles):
            problem = _placement(obstacle, outline)
            if problem is not None:
                raise CaseError(f"obstacles[{k}]", f"{_describe(obstacle)} {problem}; obstacles must lie strictly inside")
            for j in range(k):
                if not _disjoint(self.obstacles[j], obstacle):
                    raise CaseError(f"obstacles[{k}]", f"{_describe(obstacle)} overlaps or touches obstacles[{j}]")
        allowed = self.boundary_part_names()
        owner: dict[str, str] = {}
        for i, piece in enumerate(self.pieces):
            if any(p.name == piece.name for p in self.pieces[:i]):
                raise CaseError(f"pieces[{i}].name", f"duplicate piece name '{piece.name}'")
            for part in piece.boundary:
                if part not in allowed:
                    raise CaseError(f"pieces[{i}].boundary", f"unknown boundary part '{part}'; allowed: {', '.join(allowed)}")
                if part in owner:
                    raise CaseError(f"pieces[{i}].boundary", f"boundary part '{part}' is already in piece '{owner[part]}'")
                owner[part] = piece.name
        for part in allowed:
            if part not in owner:
                raise CaseError("pieces", f"boundary part '{part}' belongs to no piece")
        return self

    # -- the boundary, in plain Python --------------------------------------------

    def boundary_part_names(self) -> tuple[str, ...]:
        if isinstance(self.container, Box):
            edges: tuple[str, ...] = BOX_SIDES
        else:
            edges = tuple(f"edge{i}" for i in range(len(self.container.vertices)))
        return edges + tuple(f"obstacle{k}" for k in range(len(self.obstacles)))

    def boundary_curves(self) -> dict[str, tuple[tuple[Any, ...], ...]]:
        """Each boundary part as curves, oriented with the domain on their left.

        A curve is ``("segment", start, end)`` (so its outward normal is the
        right-hand normal of ``end - start``) or ``("circle", center, radius)``
        (an obstacle's rim: the domain is outside it).
        """
        curves: dict[str, tuple[tuple[Any, ...], ...]] = {}
        if isinstance(self.container, Box):
            (x0, y0), (x1, y1) = self.container.lower, self.container.upper
            corners = {"bottom": ((x0, y0), (x1, y0)), "right": ((x1, y0), (x1, y1)),
                       "top": ((x1, y1), (x0, y1)), "left": ((x0, y1), (x0, y0))}  # fmt: skip
            for side in BOX_SIDES:
                curves[side] = (("segment", *corners[side]),)
        else:
            ccw = self.container.counter_clockwise()
            for i, (a, b) in enumerate(_edges(self.container.vertices)):
                curves[f"edge{i}"] = (("segment", a, b) if ccw else ("segment", b, a),)
        for k, obstacle in enumerate(self.obstacles):
            if isinstance(obstacle, Disc):
                curves[f"obstacle{k}"] = (("circle", obstacle.center, obstacle.radius),)
            else:
                outline = _outline(obstacle)
                # The domain lies outside an obstacle: its rim runs clockwise.
                ccw = _signed_area(outline) > 0
                curves[f"obstacle{k}"] = tuple(("segment", b, a) if ccw else ("segment", a, b) for a, b in _edges(outline))
        return curves

    def bounds(self) -> tuple[Point, Point]:
        """Lower-left and upper-right corners of the container's bounding box."""
        outline = _outline(self.container)
        xs, ys = [v[0] for v in outline], [v[1] for v in outline]
        return (min(xs), min(ys)), (max(xs), max(ys))

    @property
    def piece_names(self) -> tuple[str, ...]:
        return tuple(piece.name for piece in self.pieces)

    # -- serialisation --------------------------------------------------------------

    def canonical_json(self) -> str:
        """Sorted keys, compact separators: what a Case hashes."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    # -- evaluation (JAX) -------------------------------------------------------------

    def build(self, dtype: str = "float32") -> GeometryField:
        """The distance functions, samplers and masks in ``jax.numpy`` (imports JAX)."""
        from phys._distance import build_geometry

        return build_geometry(self, dtype)


def check_piece_names(geometry: Geometry, names: Iterable[str], field: str = "piece") -> None:
    """Raise :class:`CaseError` on ``field`` if a name is not a piece of ``geometry``.

    For a Case to call on the pieces its boundary conditions name.
    """
    for name in names:
        if name not in geometry.piece_names:
            raise CaseError(field, f"unknown piece '{name}'; pieces: {', '.join(geometry.piece_names)}")


# -- ready-made geometries ------------------------------------------------------------------


def channel(length: float = 2.2, height: float = 0.41) -> Geometry:
    """The channel ``[0, length] x [0, height]``: ``inlet`` (left), ``outlet`` (right), ``walls``."""
    return Geometry(
        container=Box(lower=(0.0, 0.0), upper=(length, height)),
        pieces=(
            Piece(name="inlet", boundary=("left",)),
            Piece(name="outlet", boundary=("right",)),
            Piece(name="walls", boundary=("bottom", "top")),
        ),
    )


def cylinder_channel(
    length: float = 2.2, height: float = 0.41, center: Point = (0.2, 0.2), diameter: float = 0.1
) -> Geometry:
    """Schäfer & Turek (1996) benchmark 2D-1/2D-2: the channel minus a ``cylinder``.

    Defaults: ``[0, 2.2] x [0, 0.41]``, cylinder of diameter 0.1 centred at
    (0.2, 0.2) (slightly off the channel's centre line, 0.205, on purpose: it
    breaks the symmetry so that shedding starts).
    """
    return Geometry(
        container=Box(lower=(0.0, 0.0), upper=(length, height)),
        obstacles=(Disc(center=center, radius=0.5 * diameter),),
        pieces=(
            Piece(name="inlet", boundary=("left",)),
            Piece(name="outlet", boundary=("right",)),
            Piece(name="walls", boundary=("bottom", "top")),
            Piece(name="cylinder", boundary=("obstacle0",)),
        ),
    )


def cavity(length: float = 1.0) -> Geometry:
    """The lid-driven cavity ``[0, length]^2``: the ``lid`` (top) and the ``walls`` (left, bottom, right)."""
    return Geometry(
        container=Box(lower=(0.0, 0.0), upper=(length, length)),
        pieces=(
            Piece(name="lid", boundary=("top",)),
            Piece(name="walls", boundary=("left", "bottom", "right")),
        ),
    )
