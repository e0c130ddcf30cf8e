"""The residual of a ``phys`` PDE at points, by autodiff of a network.

A PDE file states ``d/dt u = L u + N(u)`` once (``phys/pdes/_base.py``):
``linear()`` is a polynomial in derivatives, ``nonlinear(d)`` a set of fluxes
``F_alpha`` whose derivatives ``D^alpha F_alpha`` sum to ``N``. Here ``d`` is
answered by differentiating the network at the point, and the outer
``D^alpha`` of each flux by the chain rule through the derivatives the flux
reads (``(u^2/2)_x = u u_x``, done by forward mode over ``F``, not by running
the network again), so the PINN residual

    r = u_t - (sum_alpha c_alpha D^alpha u + sum_alpha D^alpha F_alpha(u, Du, ...))

comes from the same definition the spectral solver uses; no PDE is written a
second time.

Derivatives come two ways (:func:`network_derivatives`):

- The networks of :mod:`pinns.nets` propagate their own Taylor jets
  (:meth:`pinns.nets.MLP.jet`): value, ``d/dt`` and the pure derivatives
  along each space axis up to order 4, layer by layer, with the
  activations' derivatives in closed form (``tanh' = 1 - tanh^2``, ...). On
  the Burgers step of ``bench/bench_pinn.py`` (2,780 points, 3 x 20 tanh,
  float32, 1 pinned core) the residual's value and parameter gradient took
  2.5 ms against 4.0 ms for nested ``jvp`` (paired windows, same process),
  and the whole fused Adam step 3.2 ms against 5.1 ms. Measured and
  dropped: stacking the streams into one wider matmul per layer (48% slower
  stacked per point, 49% slower stacked along the batch: the copies cost
  more than the wider matmul saves at width 20), and running the points in
  chunks of 256-1390 through ``lax.map`` (30-50% slower). Kept: recomputing
  each activation's derivatives in the gradient (``jax.checkpoint``), 8%
  faster than storing them. For d^4/dx^4 of a 4 x 64 tanh MLP on 4096
  points (float64, 1 core, ``bench/bench_pinn_derivatives.py``) the jet took
  23 ms forward and 148 ms forward + gradient, nested ``jvp`` 83 and 359 ms,
  ``jax.experimental.jet`` 120 and 484 ms.
- Any other callable (and mixed derivatives, and orders above 4, on either
  path) gets nested forward mode: ``u, u_t`` from one ``jax.jvp`` and one
  chain per axis giving every order up to the highest (:func:`_tower`).
  ``taylor=False`` forces this path for the package's networks too; the
  tests check that the two agree to rounding in float64.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from phys.pdes._base import AbstractPDE, Derivatives, MultiIndex
from pinns.nets import MAX_JET_ORDER, AbstractNetwork, as_network

__all__ = [
    "derivative", "point_derivatives", "residual", "residuals", "time_derivative",
    "right_hand_side", "table_derivatives", "derivative_table", "reads", "network_derivatives",
]

PointFunction = Callable[[Float[Array, " d"]], Array]


def _directional(fn: PointFunction, direction: Array) -> PointFunction:
    def derivative_of(z: Array) -> Array:
        return jax.jvp(fn, (z,), (direction,))[1]

    return derivative_of


def derivative(fn: PointFunction, alpha: MultiIndex, axis_offset: int = 1) -> PointFunction:
    """``D^alpha fn`` as a function of the point, by nested forward mode.

    ``alpha`` counts derivatives per spatial axis; input ``axis_offset + i``
    of the point is spatial axis ``i`` (input 0 is time).
    """

    def at(z: Array) -> Array:
        out = fn
        for axis, order in enumerate(alpha):
            unit = jnp.zeros_like(z).at[axis_offset + axis].set(1)
            for _ in range(order):
                out = _directional(out, unit)
        return out(z)

    return at


def time_derivative(fn: PointFunction) -> PointFunction:
    """``d fn / dt`` (input 0 is time)."""

    def at(z: Array) -> Array:
        return jax.jvp(fn, (z,), (jnp.zeros_like(z).at[0].set(1),))[1]

    return at


def _pad(alpha: MultiIndex, n_dims: int) -> MultiIndex:
    if len(alpha) > n_dims:
        raise ValueError(f"derivative {alpha} has more axes than the {n_dims}D points")
    return tuple(alpha) + (0,) * (n_dims - len(alpha))


Key = tuple  # (field, alpha) for a network output, (axis, alpha) for a coordinate


def _shift(alpha: MultiIndex, axis: int) -> MultiIndex:
    return tuple(a + (i == axis) for i, a in enumerate(alpha))


def _tower(fn: PointFunction, direction: Array, order: int) -> Callable[[Array], tuple[Array, ...]]:
    """``(fn, D fn, ..., D^order fn)`` along ``direction`` from one nested forward pass.

    Each level differentiates only the top derivative of the level below and
    carries the lower ones as auxiliary outputs, so ``u, u_x, u_xx`` share one
    chain instead of three (the way a hand-written PINN gets them).
    """
    if order == 0:
        return lambda z: (fn(z),)
    below = _tower(fn, direction, order - 1)

    def at(z: Array) -> tuple[Array, ...]:
        def top_and_rest(y: Array) -> tuple[Array, tuple[Array, ...]]:
            values = below(y)
            return values[-1], values[:-1]

        top, d_top, rest = jax.jvp(top_and_rest, (z,), (direction,), has_aux=True)
        return (*rest, top, d_top)

    return at


def _pure_orders(alphas: set[MultiIndex], n_dims: int) -> tuple[int, ...]:
    """Per space axis, the highest order of a pure derivative along it among ``alphas`` (0: none)."""
    return tuple(max((a[axis] for a in alphas if sum(a) == a[axis]), default=0) for axis in range(n_dims))


def network_derivatives(
    net: AbstractNetwork, alphas: set[MultiIndex], z: Array, taylor: bool = True
) -> tuple[Array, Array, dict[MultiIndex, Array]]:
    """``(net(z), d net / dt, {alpha: D^alpha net})`` at ``z``.

    A model whose :meth:`pinns.nets.AbstractNetwork.jet` gives a jet (the
    networks of :mod:`pinns.nets` and their transforms) gives the value,
    ``d/dt`` and every pure space derivative from one Taylor-mode pass
    (:meth:`pinns.nets.MLP.jet`), when ``taylor`` and the orders are at most
    :data:`pinns.nets.MAX_JET_ORDER`. Otherwise: ``u, u_t`` from one jvp and
    one nested forward-mode tower per axis. Mixed derivatives take nested
    forward mode on either path.
    """
    n_dims = z.shape[0] - 1
    zero = (0,) * n_dims
    orders = _pure_orders(alphas, n_dims)
    out: dict[MultiIndex, Array] = {}
    result = net.jet(z, (1, *orders)) if taylor and max(orders, default=0) <= MAX_JET_ORDER else None
    if result is not None:
        value, u_t = result.value, result.directions[0][0]
        u_t = jnp.zeros_like(value) if u_t is None else u_t  # None: a steady model (pinns.constraints.Steady)
        for axis, streams in enumerate(result.directions[1:]):
            for k, stream in enumerate(streams, start=1):
                # None: known to vanish (a network linear in the input).
                out[tuple(k if i == axis else 0 for i in range(n_dims))] = jnp.zeros_like(value) if stream is None else stream
    else:
        value, u_t = jax.jvp(net, (z,), (jnp.zeros_like(z).at[0].set(1),))
        for axis, order in enumerate(orders):
            if order:
                unit = jnp.zeros_like(z).at[1 + axis].set(1)
                for k, derivative_k in enumerate(_tower(net, unit, order)(z)[1:], start=1):
                    out[tuple(k if i == axis else 0 for i in range(n_dims))] = derivative_k
    out[zero] = value
    for alpha in alphas:
        if alpha not in out:  # mixed derivatives
            out[alpha] = derivative(net, alpha)(z)
    return value, u_t, out


class _Lookup:
    """:class:`phys.pdes._base.Derivatives` over a table ``{(field, alpha): value}``.

    ``names`` maps a field to its table column; a missing entry is recorded
    in ``reads`` and answered with a zero, so a first call of a PDE method
    lists what the method needs without computing anything.
    """

    def __init__(self, values: dict[Key, Array] | None, n_dims: int, names: tuple[str, ...], dtype: jnp.dtype):
        self._values, self._n_dims, self._names, self._dtype = values, n_dims, names, dtype
        self.reads: list[Key] = []

    def _get(self, key: Key) -> Array:
        self.reads.append(key)
        if self._values is None:
            return jnp.zeros((), self._dtype)
        return self._values[key]

    @property
    def coordinates(self) -> tuple[Array, ...]:
        return tuple(self._get((axis, (0,) * self._n_dims)) for axis in range(self._n_dims))

    def __call__(self, field: str, alpha: MultiIndex = (), *, laplacian_power: int = 0) -> Array:
        if laplacian_power:
            # An inverse Laplacian needs the whole field, not one point.
            raise NotImplementedError("autodiff at points cannot apply powers of the Laplacian; use a pointwise form")
        if field not in self._names:
            raise KeyError(f"unknown field '{field}'; the network gives {', '.join(self._names)}")
        return self._get((field, _pad(alpha, self._n_dims)))


def reads(method: Callable[[Derivatives], Any], n_dims: int, names: tuple[str, ...], dtype: jnp.dtype) -> list[Key]:
    """The ``(field, alpha)`` entries a PDE method asks ``d`` for (traced abstractly: no work)."""
    recorder = _Lookup(None, n_dims, names, dtype)
    jax.eval_shape(lambda: method(recorder))
    return list(dict.fromkeys(recorder.reads))


def derivative_table(network: dict[MultiIndex, Array], names: tuple[str, ...], z: Array, keys: set[Key]) -> dict[Key, Array]:
    """The value of every key at ``z``: the network's derivatives, and the coordinates' derivatives (1 or 0)."""
    n_dims = z.shape[0] - 1
    table: dict[Key, Array] = {}
    for field, alpha in keys:
        if isinstance(field, str):
            table[(field, alpha)] = network[alpha][names.index(field)]
        elif not any(alpha):
            table[(field, alpha)] = z[1 + field]
        else:
            table[(field, alpha)] = jnp.asarray(alpha == _shift((0,) * n_dims, field), z.dtype)
    return table


TableFunction = Callable[[dict[Key, Array]], Array]


def _outer_derivative(flux: TableFunction, keys: set[Key], alpha: MultiIndex) -> tuple[TableFunction, set[Key]]:
    """``D^alpha`` of a flux given as a function of the derivatives table, by the chain rule.

    ``flux`` reads the entries ``keys``; along axis ``e`` its derivative is the
    forward-mode derivative of ``flux`` with respect to its entries, in the
    direction of the entries shifted by ``e`` (``u -> u_x``, ``u_x -> u_xx``,
    ``x -> 1``), so the network is never run again for the flux. Returns the
    derivative as a function of the table and the entries it reads.
    """
    for axis, order in enumerate(alpha):
        for _ in range(order):
            flux, keys = _directional_in_table(flux, keys, axis)
    return flux, keys


def _directional_in_table(flux: TableFunction, keys: set[Key], axis: int) -> tuple[TableFunction, set[Key]]:
    # A fixed order (keys mix field names and axis numbers, which do not sort as pytree dict keys).
    order = sorted(keys, key=repr)

    def derivative_of(table: dict[Key, Array]) -> Array:
        primal = tuple(table[key] for key in order)
        tangent = tuple(table[(f, _shift(alpha, axis))] for f, alpha in order)
        return jax.jvp(lambda *entries: flux(dict(zip(order, entries))), primal, tangent)[1]

    return derivative_of, set(keys) | {(f, _shift(alpha, axis)) for f, alpha in keys}


class _PointDerivatives:
    """:class:`phys.pdes._base.Derivatives` at one point, by autodiff of a network.

    Derivatives of the whole output vector are memoised per multi-index while
    tracing, so each is built once however many fields or terms ask for it.
    """

    def __init__(self, net: Callable[[Array], Float[Array, " fields"]], names: tuple[str, ...], z: Array):
        self._net, self._names, self._z = net, names, z
        self._cache: dict[MultiIndex, Array] = {}

    @property
    def coordinates(self) -> tuple[Array, ...]:
        return tuple(self._z[1:])

    def __call__(self, field: str, alpha: MultiIndex = (), *, laplacian_power: int = 0) -> Array:
        if laplacian_power:
            # An inverse Laplacian needs the whole field, not one point.
            raise NotImplementedError("autodiff at points cannot apply powers of the Laplacian; use a pointwise form")
        if field not in self._names:
            raise KeyError(f"unknown field '{field}'; the network gives {', '.join(self._names)}")
        key = _pad(alpha, self._z.shape[0] - 1)
        if key not in self._cache:
            self._cache[key] = derivative(self._net, key)(self._z)
        return self._cache[key][self._names.index(field)]


def point_derivatives(
    net: Callable[[Array], Float[Array, " fields"]], names: tuple[str, ...], z: Float[Array, " d"]
) -> Derivatives:
    """``d(field, alpha)`` at the point ``z = (t, x, ...)``, the outputs of ``net`` named ``names``."""
    return _PointDerivatives(net, names, z)


def residual(
    pde: AbstractPDE,
    net: Callable[[Array], Float[Array, " outputs"]],
    z: Float[Array, " d"],
    names: tuple[str, ...] | None = None,
    *,
    taylor: bool = True,
) -> Float[Array, " equations"]:
    """The PDE's residuals at one point ``z = (t, x, ...)``; ``net``'s outputs are named ``names``.

    ``names`` defaults to ``pde.fields``. A PDE whose equations are not all of
    the form ``u_t = L u + N(u)`` (incompressible Navier-Stokes: a pressure
    and a divergence constraint) states its full pointwise residuals in its
    ``residuals(d, time_derivatives)`` method; that form is used when it has one,
    with ``names`` naming the extra outputs (``("u", "v", "p")``).

    The entries the right-hand side reads are listed first
    (:func:`right_hand_side`); then every needed derivative is built once
    (:func:`network_derivatives`; ``taylor=False`` forces the generic nested
    forward mode) and the terms are read off the table.
    """
    names = pde.fields if names is None else tuple(names)
    net = as_network(net)
    n_dims = z.shape[0] - 1
    zero = (0,) * n_dims
    coordinates = {(axis, zero) for axis in range(n_dims)}
    full_form = pde.residuals if pde.has_residual_form() else None

    def derivatives(keys: set[Key]) -> tuple[Array, dict[Key, Array]]:
        alphas = {alpha for field, alpha in keys if isinstance(field, str)}
        _, u_t, network = network_derivatives(net, alphas, z, taylor)
        return u_t, derivative_table(network, names, z, keys)

    if full_form is not None:
        # Only shapes matter while listing the reads.
        placeholder = {field: jnp.zeros((), z.dtype) for field in pde.fields}
        keys = set(reads(lambda d: full_form(d, placeholder), n_dims, names, z.dtype)) | coordinates
        u_t, table = derivatives(keys)
        time_derivatives = {field: u_t[names.index(field)] for field in pde.fields}
        terms = full_form(_Lookup(table, n_dims, names, z.dtype), time_derivatives)
        return jnp.stack(list(terms.values()))
    keys, rhs = right_hand_side(pde, n_dims, names, z.dtype)
    u_t, table = derivatives(keys | coordinates)
    values = rhs(table)
    return jnp.stack([u_t[names.index(field)] - values[field] for field in pde.fields])


def table_derivatives(table: dict[Key, Array], n_dims: int, names: tuple[str, ...], dtype: jnp.dtype) -> Derivatives:
    """``d(field, alpha)`` answered from a derivative table ``{(field, alpha): value}`` (see :func:`reads`)."""
    return _Lookup(table, n_dims, names, dtype)


def right_hand_side(
    pde: AbstractPDE, n_dims: int, names: tuple[str, ...], dtype: jnp.dtype
) -> tuple[set[Key], Callable[[dict[Key, Array]], dict[str, Array]]]:
    """The derivative-table entries ``L u + N(u)`` needs at a point, and the function of the table that gives it per field.

    First the PDE's methods are traced abstractly to list the derivatives
    they read; the flux terms ``D^alpha F`` need those shifted by ``alpha``
    (chain rule, :func:`_outer_derivative`), so the network is never run
    again for a flux. Whoever fills the table (autodiff of an Eulerian
    network, the chain rule along a Lagrangian one) then gets the right-hand
    side from the PDE's own definition.
    """
    zero = (0,) * n_dims
    coordinates = {(axis, zero) for axis in range(n_dims)}
    linear = {field: {_pad(alpha, n_dims): c for alpha, c in terms.items()} for field, terms in pde.linear().items()}
    read = set(reads(pde.nonlinear, n_dims, names, dtype)) | coordinates
    flux_shape = jax.eval_shape(lambda: pde.nonlinear(_Lookup(None, n_dims, names, dtype)))

    def flux(field: str, alpha: MultiIndex) -> Callable[[dict[Key, Array]], Array]:
        return lambda table: pde.nonlinear(_Lookup(table, n_dims, names, dtype))[field][alpha]

    outer = {}
    keys = set(read) | {(field, alpha) for field, terms in linear.items() for alpha in terms}
    for field, terms in flux_shape.items():
        for alpha in terms:
            if any(_pad(alpha, n_dims)):
                outer[(field, alpha)] = _outer_derivative(flux(field, alpha), read, _pad(alpha, n_dims))
                keys |= outer[(field, alpha)][1]

    def rhs(table: dict[Key, Array]) -> dict[str, Array]:
        fluxes = pde.nonlinear(_Lookup(table, n_dims, names, dtype))
        out = {}
        for field in pde.fields:
            value = jnp.zeros((), dtype)
            for alpha, coefficient in linear.get(field, {}).items():
                value = value + coefficient * table[(field, alpha)]
            for alpha, flux_value in fluxes.get(field, {}).items():
                value = value + (outer[(field, alpha)][0](table) if (field, alpha) in outer else flux_value)
            out[field] = value
        return out

    return keys, rhs


def residuals(
    pde: AbstractPDE,
    net: Callable[[Array], Float[Array, " outputs"]],
    points: Float[Array, "n d"],
    names: tuple[str, ...] | None = None,
    *,
    taylor: bool = True,
) -> Float[Array, "n equations"]:
    """:func:`residual` at a batch of points."""
    return jax.vmap(lambda z: residual(pde, net, z, names, taylor=taylor))(points)
