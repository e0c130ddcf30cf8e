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

Derivatives are nested forward mode (``jax.jvp`` along unit vectors). We
measured it against Taylor mode (``jax.experimental.jet``) for d^4/dx^4 of a
4 x 64 tanh MLP on 4096 points, float64, 2 CPU cores: nested ``jvp`` took
42 ms forward and 182 ms forward + parameter gradient, ``jet`` 111 ms and
290 ms (the two agree to 1.5e-14). Nested forward mode is used
(``bench/bench_pinn_derivatives.py`` repeats the measurement), one chain per
axis giving every order up to the highest (:func:`_tower`): on the Burgers
step of ``bench/bench_pinn.py`` this and the chain rule for the flux took the
residual from 0.75 ms per step slower than a hand-written ``jvp`` residual to
the same speed, with identical values.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from phys.pdes._base import AbstractPDE, Derivatives, MultiIndex

__all__ = ["derivative", "point_derivatives", "residual", "residuals", "time_derivative"]

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


def _network_derivatives(
    net: PointFunction, alphas: set[MultiIndex], z: Array, value: Array | None = None
) -> dict[MultiIndex, Array]:
    """``D^alpha net`` at ``z`` for every ``alpha``: one tower per axis, nested forward mode for mixed ones."""
    n_dims = z.shape[0] - 1
    zero = (0,) * n_dims
    out: dict[MultiIndex, Array] = {}
    if value is not None:
        out[zero] = value
    for axis in range(n_dims):
        orders = [alpha[axis] for alpha in alphas if alpha[axis] and sum(alpha) == alpha[axis]]
        if orders:
            unit = jnp.zeros_like(z).at[1 + axis].set(1)
            for k, derivative_k in enumerate(_tower(net, unit, max(orders))(z)):
                out.setdefault(tuple(k if i == axis else 0 for i in range(n_dims)), derivative_k)
    for alpha in alphas:
        if alpha not in out:  # mixed derivatives, and the value if nothing else gave it
            out[alpha] = derivative(net, alpha)(z)
    return out


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


def _reads(method: Callable[[Derivatives], Any], n_dims: int, names: tuple[str, ...], dtype: jnp.dtype) -> list[Key]:
    """The ``(field, alpha)`` entries a PDE method asks ``d`` for (traced abstractly: no work)."""
    recorder = _Lookup(None, n_dims, names, dtype)
    jax.eval_shape(lambda: method(recorder))
    return list(dict.fromkeys(recorder.reads))


def _table(net: PointFunction, names: tuple[str, ...], z: Array, keys: set[Key], value: Array | None = None) -> dict[Key, Array]:
    """The value of every key at ``z``: network derivatives, and the coordinates' derivatives (1 or 0)."""
    n_dims = z.shape[0] - 1
    alphas = {alpha for field, alpha in keys if isinstance(field, str)}
    network = _network_derivatives(net, alphas, z, value)
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
) -> Float[Array, " equations"]:
    """The PDE's residuals at one point ``z = (t, x, ...)``; ``net``'s outputs are named ``names``.

    ``names`` defaults to ``pde.fields``. A PDE whose equations are not all of
    the form ``u_t = L u + N(u)`` (incompressible Navier-Stokes: a pressure
    and a divergence constraint) states its full pointwise residuals in a
    ``residuals(d, time_derivatives)`` method; that form is used when present,
    with ``names`` naming the extra outputs (``("u", "v", "p")``).

    First the PDE's methods are traced abstractly to list the derivatives
    they read; the flux terms ``D^alpha F`` need those shifted by ``alpha``
    (chain rule, :func:`_outer_derivative`). Then every needed derivative is
    built once (one forward-mode tower per axis) and the terms are read off
    the table.
    """
    names = pde.fields if names is None else tuple(names)
    n_dims = z.shape[0] - 1
    zero = (0,) * n_dims
    # u and u_t from one jvp; u seeds the table.
    value, u_t = jax.jvp(net, (z,), (jnp.zeros_like(z).at[0].set(1),))
    coordinates = {(axis, zero) for axis in range(n_dims)}
    full_form = getattr(pde, "residuals", None)
    if full_form is not None:
        time_derivatives = {field: u_t[names.index(field)] for field in pde.fields}
        keys = set(_reads(lambda d: full_form(d, time_derivatives), n_dims, names, z.dtype)) | coordinates
        terms = full_form(_Lookup(_table(net, names, z, keys, value), n_dims, names, z.dtype), time_derivatives)
        return jnp.stack(list(terms.values()))
    linear = {field: {_pad(alpha, n_dims): c for alpha, c in terms.items()} for field, terms in pde.linear().items()}
    reads = set(_reads(pde.nonlinear, n_dims, names, z.dtype)) | coordinates
    flux_shape = jax.eval_shape(lambda: pde.nonlinear(_Lookup(None, n_dims, names, z.dtype)))

    def flux(field: str, alpha: MultiIndex) -> Callable[[dict[Key, Array]], Array]:
        return lambda table: pde.nonlinear(_Lookup(table, n_dims, names, z.dtype))[field][alpha]

    outer = {}
    keys = set(reads) | {(field, alpha) for field, terms in linear.items() for alpha in terms}
    for field, terms in flux_shape.items():
        for alpha in terms:
            if any(_pad(alpha, n_dims)):
                outer[(field, alpha)] = _outer_derivative(flux(field, alpha), reads, _pad(alpha, n_dims))
                keys |= outer[(field, alpha)][1]
    table = _table(net, names, z, keys, value)
    fluxes = pde.nonlinear(_Lookup(table, n_dims, names, z.dtype))
    out = []
    for field in pde.fields:
        rhs = jnp.zeros((), z.dtype)
        for alpha, coefficient in linear.get(field, {}).items():
            rhs = rhs + coefficient * table[(field, alpha)]
        for alpha, flux_value in fluxes.get(field, {}).items():
            if (field, alpha) in outer:
                rhs = rhs + outer[(field, alpha)][0](table)
            else:
                rhs = rhs + flux_value
        out.append(u_t[names.index(field)] - rhs)
    return jnp.stack(out)


def residuals(
    pde: AbstractPDE,
    net: Callable[[Array], Float[Array, " outputs"]],
    points: Float[Array, "n d"],
    names: tuple[str, ...] | None = None,
) -> Float[Array, "n equations"]:
    """:func:`residual` at a batch of points."""
    return jax.vmap(lambda z: residual(pde, net, z, names))(points)
