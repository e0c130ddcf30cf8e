"""Distance functions in ``jax.numpy``: shapes, R-functions, named pieces (2D).

Imported on demand by :mod:`phys.geometry` (whose schema imports no JAX).
Every function here is pointwise (one point ``x`` of shape ``(2,)``) and pure:
``vmap`` over points, ``jit`` and ``grad`` through it.

Conventions (docs/geometry.md):

- a signed distance is positive inside its region, zero on the boundary,
  negative outside; the gradient on the boundary is the unit inward normal
  (normalised to first order), away from corners;
- an unsigned distance (a segment, a piece) is zero on its curve and positive
  elsewhere, with unit derivative along the normal on leaving the curve.

Source for the constructions: N. Sukumar & A. Srivastava, "Exact imposition of
boundary conditions with distance functions in physics-informed deep neural
networks", CMAME 389 (2022) 114333 (arXiv:2104.08426), cited below as [SS22].
The formulas are quoted with each function; equation numbers are not given
because we could not check them against the published text.

Differentiability: distances are smooth where they are positive (away from
corners and medial lines of the exact distances). On its own zero set an
unsigned distance has a kink (it behaves like ``|f|``); there ``jax.grad``
returns the symmetric subgradient (zero) instead of NaN, by the double-``where``
trick in :func:`_safe_sqrt`. Differentiate at interior points.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, PRNGKeyArray

if TYPE_CHECKING:
    from phys.geometry import Geometry

__all__ = [
    "GeometryField",
    "PieceField",
    "box_distance",
    "build_geometry",
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

Point = Float[Array, "2"]
Scalar = Float[Array, ""]


def _safe_sqrt(s: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
    """``sqrt(s)`` for ``s >= 0`` whose gradient at ``s = 0`` is 0, not inf (and not NaN downstream).

    The inner ``where`` keeps the untaken branch finite: a NaN there would leak
    into the gradient through the outer ``where``.
    """
    positive = s > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, s, 1.0)), 0.0)


def _norm(v: Float[Array, "2"]) -> Scalar:
    return _safe_sqrt(jnp.sum(v * v))


# -- R-functions -------------------------------------------------------------------


def r_conjunction(a: Float[Array, "*shape"], b: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
    """R0-conjunction (intersection) ``a ∧ b = a + b - sqrt(a^2 + b^2)``, [SS22] section on R-functions.

    Positive exactly where both are; normalised to first order: on ``a = 0``
    with ``b > 0`` it is ``a - a^2 / (2 b) + ...``, so its gradient is ``grad a``.
    Where ``a + b > 0`` the subtraction cancels digits (and could round a
    small positive value to zero, losing the sign); the equal form
    ``2 a b / (a + b + sqrt(a^2 + b^2))`` does not.
    """
    root = _safe_sqrt(a * a + b * b)
    total = a + b
    positive = total > 0
    denominator = jnp.where(positive, total + root, 1.0)
    return jnp.where(positive, 2 * a * b / denominator, total - root)


def r_disjunction(a: Float[Array, "*shape"], b: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
    """R0-disjunction (union) ``a ∨ b = a + b + sqrt(a^2 + b^2)`` = ``-((-a) ∧ (-b))``."""
    return -r_conjunction(-a, -b)


def r_difference(a: Float[Array, "*shape"], b: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
    """Set difference ``A \\ B = A ∧ (not B)``; R-negation is ``-b``."""
    return r_conjunction(a, -b)


def r_equivalence(phis: Float[Array, "k"], m: int = 2) -> Scalar:
    """R_m-equivalence ``(sum_i phi_i^-m)^(-1/m)`` of unsigned distances, [SS22] section on R-functions.

    Zero on every curve ``phi_i = 0``, positive elsewhere, and normalised to
    order ``m``: near curve ``i`` it is ``phi_i (1 - (phi_i / phi_j)^m / m + ...)``.
    Written as ``phi_min (sum_i (phi_min / phi_i)^m)^(-1/m)`` so that nothing
    divides by zero on a curve and nothing underflows in float32 when many
    small distances multiply (the form ``prod phi / (sum prod ...)^(1/m)``
    does both); ``phi_min`` cancels, so its kinks never reach the gradient.
    """
    smallest = jnp.min(phis)
    zero = phis <= 0
    ratios = jnp.where(zero, 1.0, smallest / jnp.where(zero, 1.0, phis))
    return smallest * jnp.sum(ratios**m) ** (-1.0 / m)


def transfinite_weights(phis: Float[Array, "k"], mu: int = 1) -> Float[Array, "k"]:
    """Weights of the transfinite interpolation of boundary data, [SS22] section on transfinite interpolation.

    ``w_i = prod_{j != i} phi_j^mu / sum_k prod_{j != k} phi_j^mu``: ``w_i = 1``
    on piece ``i`` and 0 on the others, and they sum to 1. Computed as
    ``(phi_min / phi_i)^mu / sum_k (phi_min / phi_k)^mu`` (equal where every
    ``phi > 0``: divide above and below by ``prod_j phi_j^mu``), which stays
    finite on the pieces. Where two pieces meet (a corner, both ``phi = 0``)
    the formula is 0/0; there each of them gets an equal share.
    """
    smallest = jnp.min(phis)
    zero = phis <= 0
    ratios = jnp.where(zero, 1.0, smallest / jnp.where(zero, 1.0, phis)) ** mu
    return ratios / jnp.sum(ratios)


def transfinite_interpolation(
    phis: Float[Array, "k"], values: Float[Array, "k *shape"], mu: int = 1
) -> Float[Array, "*shape"]:
    """``g = sum_i w_i g_i``: equals ``values[i]`` where ``phis[i] = 0``, smooth where every ``phi > 0``."""
    return jnp.tensordot(transfinite_weights(phis, mu), values, axes=1)


# -- primitive shapes (signed, positive inside) --------------------------------------


def half_plane_distance(x: Point, point: Point, normal: Point) -> Scalar:
    """Signed distance to the half-plane ``{y : (y - point) . normal <= 0}`` (``normal``: its outward normal). Exact."""
    return jnp.dot(point - x, normal) / _norm(normal)


def disc_distance(x: Point, center: Point, radius: Scalar) -> Scalar:
    """Signed distance to the disc, ``radius - |x - center|``. Exact."""
    return radius - _norm(x - center)


def _slab(s: Scalar, low: Scalar, high: Scalar) -> Scalar:
    """Interval ``[low, high]`` as ``(s - low)(high - s) / (high - low)``: unit slope at both ends ([SS22], 1D)."""
    return (s - low) * (high - s) / (high - low)


def box_distance(x: Point, lower: Point, upper: Point) -> Scalar:
    """The box as the R0-conjunction of its two slabs: smooth, normalised to first order away from corners."""
    return r_conjunction(_slab(x[0], lower[0], upper[0]), _slab(x[1], lower[1], upper[1]))


def segment_distance(x: Point, start: Point, end: Point) -> Scalar:
    """Approximate (unsigned) distance to the segment ``start``-``end``, [SS22] trimmed segment.

    ``f`` is the signed distance to the segment's line, ``t = ((L/2)^2 -
    |x - x_c|^2) / L`` the disc through both ends (centre ``x_c``, length ``L``),
    positive between them; ``phi = sqrt(t^2 + f^4)`` and the distance is
    ``sqrt(f^2 + ((phi - t) / 2)^2)``. On the segment ``f = 0`` and ``t > 0``,
    so it vanishes there and grows like ``|f| + O(f^7)`` off it: unit normal
    derivative; beyond the ends it grows like the distance to the nearer end.
    """
    d = end - start
    length = _norm(d)
    f = (d[0] * (x[1] - start[1]) - d[1] * (x[0] - start[0])) / length  # > 0 on the left
    offset = x - 0.5 * (start + end)
    t = (0.25 * length**2 - jnp.sum(offset * offset)) / length
    phi = _safe_sqrt(t**2 + f**4)
    return _safe_sqrt(f**2 + (0.5 * (phi - t)) ** 2)


def segment_exact_distance(x: Point, start: Point, end: Point) -> Scalar:
    """Euclidean distance to the closed segment (projection clamped to its ends)."""
    d = end - start
    s = jnp.clip(jnp.dot(x - start, d) / jnp.dot(d, d), 0.0, 1.0)
    return _norm(x - (start + s * d))


def polygon_inside(x: Point, vertices: Float[Array, "n 2"]) -> Bool[Array, ""]:
    """Even-odd crossing test along the ray to +x: exact for points off the boundary."""
    a, b = vertices, jnp.roll(vertices, -1, axis=0)
    straddles = (a[:, 1] > x[1]) != (b[:, 1] > x[1])
    rise = jnp.where(straddles, b[:, 1] - a[:, 1], 1.0)
    crossing = a[:, 0] + (x[1] - a[:, 1]) * (b[:, 0] - a[:, 0]) / rise
    return jnp.sum(straddles & (x[0] < crossing)) % 2 == 1


def polygon_distance(x: Point, vertices: Float[Array, "n 2"], m: int = 2) -> Scalar:
    """Signed distance of a simple polygon: ``±`` the R_m-equivalence of its edges' segment distances.

    The sign comes from the crossing test; it flips only where the distance
    is zero, so the result is continuous, and it is smooth across the edges
    (each edge's distance is ``|f|`` there, the sign makes it ``f``).
    """
    edges = jax.vmap(segment_distance, in_axes=(None, 0, 0))(x, vertices, jnp.roll(vertices, -1, axis=0))
    unsigned = r_equivalence(edges, m)
    return jnp.where(polygon_inside(x, vertices), unsigned, -unsigned)


# -- boundary curves ----------------------------------------------------------------


class AbstractCurve(eqx.Module):
    """A curve of the boundary, oriented with the domain on its left."""

    @abc.abstractmethod
    def distance(self, x: Point) -> Scalar:
        """Approximate unsigned distance, normalised to first order."""

    @abc.abstractmethod
    def exact_distance(self, x: Point) -> Scalar:
        """Euclidean distance."""

    @abc.abstractmethod
    def point(self, s: Scalar) -> Point:
        """The point at arc-length fraction ``s`` in [0, 1]."""

    @abc.abstractmethod
    def normal(self, s: Scalar) -> Point:
        """Unit normal at ``s``, outward from the domain."""

    @abc.abstractmethod
    def length(self) -> Scalar:
        """Arc length."""

    @abc.abstractmethod
    def closest_normal(self, x: Point) -> Point:
        """Outward normal at the point of the curve closest to ``x``."""


class Segment(AbstractCurve):
    start: Point
    end: Point

    def distance(self, x: Point) -> Scalar:
        return segment_distance(x, self.start, self.end)

    def exact_distance(self, x: Point) -> Scalar:
        return segment_exact_distance(x, self.start, self.end)

    def point(self, s: Scalar) -> Point:
        return self.start + s * (self.end - self.start)

    def normal(self, s: Scalar) -> Point:
        # The domain is on the left of start -> end, so outward is the right-hand normal.
        del s  # the same everywhere on a segment
        d = (self.end - self.start) / self.length()
        return jnp.stack([d[1], -d[0]])

    def length(self) -> Scalar:
        return _norm(self.end - self.start)

    def closest_normal(self, x: Point) -> Point:
        return self.normal(jnp.zeros_like(self.start[0]))


class Circle(AbstractCurve):
    """The rim of a disc obstacle: the domain is outside, the outward normal points to the centre."""

    center: Point
    radius: Scalar

    def distance(self, x: Point) -> Scalar:
        return jnp.abs(_norm(x - self.center) - self.radius)

    def exact_distance(self, x: Point) -> Scalar:
        return self.distance(x)

    def point(self, s: Scalar) -> Point:
        angle = 2 * jnp.pi * s
        return self.center + self.radius * jnp.stack([jnp.cos(angle), jnp.sin(angle)])

    def normal(self, s: Scalar) -> Point:
        angle = 2 * jnp.pi * s
        return -jnp.stack([jnp.cos(angle), jnp.sin(angle)])

    def length(self) -> Scalar:
        return 2 * jnp.pi * self.radius

    def closest_normal(self, x: Point) -> Point:
        r = x - self.center
        return -r / jnp.where(_norm(r) > 0, _norm(r), 1.0)


class PieceField(eqx.Module):
    """A named boundary piece: its distance, sampler and normals."""

    name: str = eqx.field(static=True)
    curves: tuple[AbstractCurve, ...]
    order: int = eqx.field(static=True)

    def distance(self, x: Point) -> Scalar:
        """Zero on the piece, positive elsewhere, unit derivative along the normal on leaving it."""
        if len(self.curves) == 1:
            return self.curves[0].distance(x)
        return r_equivalence(jnp.stack([curve.distance(x) for curve in self.curves]), self.order)

    def exact_distance(self, x: Point) -> Scalar:
        return jnp.min(jnp.stack([curve.exact_distance(x) for curve in self.curves]))

    def length(self) -> Scalar:
        return sum((curve.length() for curve in self.curves[1:]), self.curves[0].length())

    def sample(self, key: PRNGKeyArray, n: int) -> tuple[Float[Array, "n 2"], Float[Array, "n 2"]]:
        """``n`` points independently uniform in arc length over the piece, and the outward normals there."""
        lengths = jnp.stack([curve.length() for curve in self.curves])
        ends = jnp.cumsum(lengths)
        arc = jax.random.uniform(key, (n,), dtype=lengths.dtype) * ends[-1]
        index = jnp.minimum(jnp.searchsorted(ends, arc, side="right"), len(self.curves) - 1)
        s = jnp.clip((arc - (ends[index] - lengths[index])) / lengths[index], 0.0, 1.0)
        points = jnp.stack([jax.vmap(curve.point)(s) for curve in self.curves])
        normals = jnp.stack([jax.vmap(curve.normal)(s) for curve in self.curves])
        rows = jnp.arange(n)
        return points[index, rows], normals[index, rows]


# -- regions (container and obstacles) ---------------------------------------------------


class AbstractRegion(eqx.Module):
    @abc.abstractmethod
    def __call__(self, x: Point) -> Scalar:
        """Signed distance, positive inside the region."""


class BoxRegion(AbstractRegion):
    lower: Point
    upper: Point

    def __call__(self, x: Point) -> Scalar:
        return box_distance(x, self.lower, self.upper)


class DiscRegion(AbstractRegion):
    center: Point
    radius: Scalar

    def __call__(self, x: Point) -> Scalar:
        return disc_distance(x, self.center, self.radius)


class PolygonRegion(AbstractRegion):
    vertices: Float[Array, "n 2"]
    order: int = eqx.field(static=True)

    def __call__(self, x: Point) -> Scalar:
        return polygon_distance(x, self.vertices, self.order)


class GeometryField(eqx.Module):
    """A :class:`~phys.geometry.Geometry` evaluated in ``jax.numpy``: build it with ``Geometry.build()``.

    Pointwise methods take one point ``x`` (shape ``(2,)``); ``vmap`` them.
    """

    container: AbstractRegion
    obstacles: tuple[AbstractRegion, ...]
    # Each obstacle's boundary curves (the same objects its piece holds).
    rims: tuple[tuple[AbstractCurve, ...], ...]
    pieces: tuple[PieceField, ...]
    order: int = eqx.field(static=True)
    # The container's bounding box, for the grid helpers (grid sizes are static anyway).
    bounds: tuple[tuple[float, float], tuple[float, float]] = eqx.field(static=True)
    dtype: str = eqx.field(static=True)

    @property
    def piece_names(self) -> tuple[str, ...]:
        return tuple(piece.name for piece in self.pieces)

    def piece(self, name: str) -> PieceField:
        for piece in self.pieces:
            if piece.name == name:
                return piece
        raise KeyError(f"unknown piece '{name}'; pieces: {', '.join(self.piece_names)}")

    # -- the whole domain ---------------------------------------------------------------

    def signed_distance(self, x: Point) -> Scalar:
        """Container minus obstacles by R0-functions: positive in the domain, normalised to first order."""
        value = self.container(x)
        for obstacle in self.obstacles:
            value = r_difference(value, obstacle(x))
        return value

    def inside(self, x: Point) -> Bool[Array, ""]:
        """Strictly inside the domain (R-functions keep the exact sign)."""
        return self.signed_distance(x) > 0

    def exact_distance(self, x: Point) -> Scalar:
        """Euclidean signed distance to the domain's boundary, positive inside (not smooth on medial lines)."""
        nearest = jnp.min(jnp.stack([piece.exact_distance(x) for piece in self.pieces]))
        return jnp.where(self.inside(x), nearest, -nearest)

    def outward_normal(self, x: Point) -> Point:
        """Outward unit normal at the boundary point nearest ``x`` (for points on or near the boundary)."""
        curves = [curve for piece in self.pieces for curve in piece.curves]
        distances = jnp.stack([curve.exact_distance(x) for curve in curves])
        normals = jnp.stack([curve.closest_normal(x) for curve in curves])
        return normals[jnp.argmin(distances)]

    # -- pieces: hard constraints and boundary losses --------------------------------------

    def piece_distance(self, name: str, x: Point) -> Scalar:
        return self.piece(name).distance(x)

    def distance(self, x: Point, pieces: Sequence[str] | None = None) -> Scalar:
        """``phi`` for hard constraints: the R_m-equivalence of the named pieces (all if None).

        Zero on those pieces, positive elsewhere in the domain, unit derivative
        along the normal on leaving them (``u = g + phi N`` then holds ``u = g``
        there for any network ``N``).
        """
        names = self.piece_names if pieces is None else tuple(pieces)
        if len(names) == 1:
            return self.piece_distance(names[0], x)
        return r_equivalence(jnp.stack([self.piece_distance(name, x) for name in names]), self.order)

    def sample(self, name: str, key: PRNGKeyArray, n: int) -> tuple[Float[Array, "n 2"], Float[Array, "n 2"]]:
        """``n`` points on piece ``name``, uniform in arc length, and the outward normals there."""
        return self.piece(name).sample(key, n)

    def transfinite(self, x: Point, data: Mapping[str, Callable[[Point], Array]], mu: int = 1) -> Array:
        """``g(x) = sum_i w_i(x) g_i(x)`` over the pieces named in ``data``: equals ``g_i`` on piece ``i``.

        ``data`` maps a piece name to its boundary data, a function of the
        point (scalar- or array-valued, the same shape for every piece).
        """
        names = tuple(data)
        phis = jnp.stack([self.piece_distance(name, x) for name in names])
        values = jnp.stack([jnp.asarray(data[name](x)) for name in names])
        return transfinite_interpolation(phis, values, mu)

    # -- uniform grids: what an immersed-boundary solver needs ---------------------------------

    def obstacle_distance(self, x: Point) -> Scalar:
        """Euclidean signed distance to the nearest obstacle surface, negative inside an obstacle (+inf: none)."""
        if not self.obstacles:
            return jnp.full((), jnp.inf, dtype=jnp.result_type(x))
        values = []
        for obstacle, rim in zip(self.obstacles, self.rims):
            gap = jnp.min(jnp.stack([curve.exact_distance(x) for curve in rim]))
            values.append(jnp.where(obstacle(x) > 0, -gap, gap))
        return jnp.min(jnp.stack(values))

    def solid_mask(self, x: Point) -> Bool[Array, ""]:
        """True where ``x`` is not strictly inside the domain: in an obstacle, on the boundary, or outside."""
        return ~self.inside(x)

    def cell_centres(self, n: tuple[int, int]) -> Float[Array, "nx ny 2"]:
        """Centres of the uniform ``n[0] x n[1]`` grid over the container's bounding box."""
        return self._grid(n, 1)[:, :, 0, 0]

    def solid_fraction(self, n: tuple[int, int], subsamples: int = 4) -> Float[Array, "nx ny"]:
        """Fraction of each cell of the uniform grid over the bounding box that is solid.

        Counted on ``subsamples x subsamples`` points per cell (their
        sub-cell centres), so the error per cut cell is at most the area of
        the sub-cells the boundary crosses: ``O(h / subsamples)`` along the
        boundary. ``subsamples = 1`` is the mask at the cell centres.
        """
        points = self._grid(n, subsamples)
        solid = jax.vmap(jax.vmap(jax.vmap(jax.vmap(self.solid_mask))))(points)
        return jnp.mean(solid.astype(points.dtype), axis=(2, 3))

    def _grid(self, n: tuple[int, int], subsamples: int) -> Float[Array, "nx ny s s 2"]:
        (x0, y0), (x1, y1) = self.bounds
        dtype = self.dtype
        axes = []
        for low, high, cells in ((x0, x1, n[0]), (y0, y1, n[1])):
            h = (high - low) / cells
            sub = (jnp.arange(subsamples, dtype=dtype) + 0.5) / subsamples
            axes.append(low + h * (jnp.arange(cells, dtype=dtype)[:, None] + sub[None, :]))  # [cell, sub]
        xs, ys = axes
        grid_x = jnp.broadcast_to(xs[:, None, :, None], (n[0], n[1], subsamples, subsamples))
        grid_y = jnp.broadcast_to(ys[None, :, None, :], (n[0], n[1], subsamples, subsamples))
        return jnp.stack([grid_x, grid_y], axis=-1)


def build_geometry(geometry: Geometry, dtype: str = "float32") -> GeometryField:
    """Arrays for every shape and curve of ``geometry``, in ``dtype``."""
    from phys.geometry import Box, Disc

    def array(value: Any) -> Array:
        return jnp.asarray(value, dtype=dtype)

    order = geometry.equivalence_order

    def region(shape: Any) -> AbstractRegion:
        if isinstance(shape, Box):
            return BoxRegion(array(shape.lower), array(shape.upper))
        if isinstance(shape, Disc):
            return DiscRegion(array(shape.center), array(shape.radius))
        return PolygonRegion(array(shape.vertices), order)

    def curve(spec: tuple[Any, ...]) -> AbstractCurve:
        if spec[0] == "segment":
            return Segment(array(spec[1]), array(spec[2]))
        return Circle(array(spec[1]), array(spec[2]))

    parts = {name: tuple(curve(spec) for spec in specs) for name, specs in geometry.boundary_curves().items()}
    pieces = tuple(
        PieceField(piece.name, tuple(c for part in piece.boundary for c in parts[part]), order)
        for piece in geometry.pieces
    )
    return GeometryField(
        container=region(geometry.container),
        obstacles=tuple(region(obstacle) for obstacle in geometry.obstacles),
        rims=tuple(parts[f"obstacle{k}"] for k in range(len(geometry.obstacles))),
        pieces=pieces,
        order=order,
        bounds=geometry.bounds(),
        dtype=dtype,
    )
