"""Compile a :class:`~phys.case.Case` into a static part and a pytree of arrays.

The static part (:class:`Static`) is hashable: grid sizes, step counts, scheme.
It is a ``jit`` static argument. The array part (:class:`Params`) holds the PDE
with its physical parameters and the initial state: ensembles ``vmap`` over it
without recompiling, and ``jax.grad`` reaches every leaf.
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from phys._registry import IC_FAMILIES
from phys.case import ArrayIC, Case, CaseError, FamilyIC, FileIC
from phys.pdes import load
from phys.pdes._base import AbstractPDE

__all__ = ["Static", "Params", "compile_case", "grid_coordinates", "initial_state", "make_pde"]


class Static(NamedTuple):
    """Hashable, compile-time description of a solve."""

    pde: str
    fields: tuple[str, ...]
    n: tuple[int, ...]
    length: tuple[float, ...]
    origin: tuple[float, ...]
    bcs: tuple[str, ...]
    t0: float
    dt: float
    n_steps: int
    save_every: int
    order: int
    dealias: bool
    contour_points: int
    dtype: str
    # Adaptive step's CFL number (``Etdrk.cfl``); None: every step is ``dt``.
    cfl: float | None = None

    @property
    def failure_hint(self) -> str | None:
        """What to change when a solve fails (:func:`solvers.solve.check_finite`); None: reduce dt."""
        if self.cfl is None:
            return None
        return f"reduce solver.cfl (now {self.cfl:g}; steps are counted in units of dt = {self.dt:g}, the largest allowed)"

    @property
    def n_saves(self) -> int:
        """Snapshots saved, the initial one included."""
        return self.n_steps // self.save_every + 1

    def save_times(self) -> np.ndarray:
        return self.t0 + self.dt * self.save_every * np.arange(self.n_saves)


class Params(eqx.Module):
    """Everything a solve differentiates or batches over."""

    pde: AbstractPDE
    u0: Float[Array, "fields *n"]


def grid_coordinates(case: Case) -> tuple[np.ndarray, ...]:
    """1D point coordinates along each axis.

    Periodic axes: ``origin + length * i / n`` (no end point, it is the first
    point again). Bounded axes (Dirichlet, Neumann): ``origin + length * i /
    (n - 1)``, both end points included, so ``n`` counts the boundary points.
    """
    return tuple(
        o + length * np.arange(n) / (n if bc.kind == "periodic" else n - 1)
        for o, length, n, bc in zip(case.domain.origin, case.domain.length, case.grid.n, case.bcs)
    )


def make_pde(case: Case) -> AbstractPDE:
    dtype = jnp.dtype(case.dtype)
    cls = load(case.pde.name)
    return cls(**{k: jnp.asarray(v, dtype=dtype) for k, v in case.pde.params.items()})


def initial_state(case: Case, key: jax.Array | None = None) -> Float[Array, "fields *n"]:
    """The initial fields, stacked ``[fields, *n]``, in the case's dtype."""
    dtype = jnp.dtype(case.dtype)
    shape = (len(case.fields), *case.grid.n)
    ic = case.ic
    if isinstance(ic, FamilyIC):
        key = jax.random.key(case.seed) if key is None else key
        axes = [jnp.asarray(x, dtype=dtype) for x in grid_coordinates(case)]
        coords = tuple(jnp.meshgrid(*axes, indexing="ij"))
        family = IC_FAMILIES[ic.name].load()
        values = family(coords, case.domain.length, key, **ic.params)
        return jnp.broadcast_to(jnp.asarray(values, dtype=dtype), shape)
    if isinstance(ic, ArrayIC):
        return jnp.asarray(np.asarray(ic.values, dtype=np.float64).reshape(shape), dtype=dtype)
    assert isinstance(ic, FileIC)
    return jnp.asarray(_read_snapshot(case, ic), dtype=dtype)


def _read_snapshot(case: Case, ic: FileIC) -> np.ndarray:
    """The state fields, by name, at the chosen snapshot of ``ic.path``; ``CaseError`` if they do not fit."""
    from phys.io.hdf5 import read_coordinates, read_snapshot, snapshot_index

    time_index = ic.time_index
    try:
        if ic.time is not None:
            time_index = snapshot_index(ic.path, ic.time, trajectory=ic.trajectory)
    except ValueError as error:
        raise CaseError("ic.time", str(error)) from None
    try:
        _check_file_grid(case, ic.path, read_coordinates(ic.path))
        names = (ic.field,) if ic.field is not None else case.fields
        snapshots = [read_snapshot(ic.path, name, time_index=time_index, trajectory=ic.trajectory) for name in names]
    except ValueError as error:
        raise CaseError("ic.path", str(error)) from None
    for name, values in zip(names, snapshots):
        if values.shape != case.grid.n:
            raise CaseError("ic.path", f"field '{name}' in {ic.path} has shape {values.shape}, the grid is {case.grid.n}")
    return np.stack(snapshots)


def _check_file_grid(case: Case, path: str, coords: dict[str, np.ndarray]) -> None:
    """``ValueError`` unless the file's grid is the case's: same axes, sizes and points."""
    if len(coords) != case.n_dims:
        raise ValueError(f"{path} is {len(coords)}D, the case is {case.n_dims}D")
    for (axis, stored), expected in zip(coords.items(), grid_coordinates(case)):
        if stored.shape != expected.shape:
            raise ValueError(f"{path} has {stored.size} points along {axis}, the case's grid has {expected.size}")
        # Coordinates are stored as float32; a thousandth of a cell is far above
        # that rounding and far below any real difference of grids.
        spacing = abs(float(expected[1] - expected[0])) if expected.size > 1 else 1.0
        if np.max(np.abs(stored.astype(np.float64) - expected)) > 1e-3 * spacing:
            raise ValueError(
                f"{path} has {axis} from {float(stored[0]):.6g} to {float(stored[-1]):.6g}, "
                f"the case's grid from {float(expected[0]):.6g} to {float(expected[-1]):.6g}"
            )


def compile_case(case: Case, key: jax.Array | None = None) -> tuple[Static, Params]:
    """Split ``case`` into its static part and its array part."""
    if case.dtype == "float64" and not jax.config.jax_enable_x64:
        raise CaseError(
            "dtype", "float64 needs JAX's 64-bit mode: call jax.config.update('jax_enable_x64', True) first"
        )
    time = case.time
    static = Static(
        pde=case.pde.name,
        fields=case.fields,
        n=case.grid.n,
        length=case.domain.length,
        origin=case.domain.origin,
        bcs=tuple(bc.kind for bc in case.bcs),
        t0=time.t0,
        dt=time.dt,
        n_steps=time.n_steps,
        save_every=time.save_every,
        order=case.solver.order,
        dealias=case.solver.dealias,
        contour_points=case.solver.contour_points,
        dtype=case.dtype,
        cfl=case.solver.cfl,
    )
    return static, Params(pde=make_pde(case), u0=initial_state(case, key))
