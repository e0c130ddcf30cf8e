"""Ensembles of one case: many trajectories in one compiled program, over devices and hosts.

An :class:`Ensemble` is a set of trajectories of one case that differ in the
seed of their initial condition and in swept physical parameters:

* ``batch = B`` draws ``B`` seeds, ``seed_b = bits(fold_in(key(case.seed), b))``
  (one ``fold_in`` per seed, a uint32, stored in ``/scalars/seed``). A
  trajectory with seed ``s`` starts from ``initial_fields(case, coords, key(s))``,
  so it is also the plain run of ``case`` with ``seed = s``. Without
  ``batch`` there is one seed, the case's own.
* ``sweep = {name: values}`` varies PDE parameters. Sweeps and seeds combine
  as an outer product: every point of the sweep grid (itself the outer
  product of the swept values, the first key varying slowest) runs from the
  same ``B`` seeds, so a parameter's effect is seen on identical initial
  conditions. Trajectory ``i = p * B + b`` has sweep point ``p`` and seed ``b``.

The one time loop (:func:`solvers.rollout.advance`) is ``vmap``-ed over the
trajectories' simulations (:class:`solvers.Simulation`: the
scheme with its PDE, and the initial fields), so the whole ensemble (and any
sweep) is one compiled program (:mod:`solvers.driver`). Rows are sharded
over all devices on the mesh axis ``"cases"`` (global devices under
``jax.distributed``); a chunk that does not divide is padded with copies of
its last trajectory, and padding rows never reach a file or a NaN report.

Swept values replace leaves of the scheme's PDE; a random start replaces the
initial fields, drawn on the scheme's own grid (cell centres for the
projection scheme), so every scheme takes both.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Mapping

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from phys.case import Case, CaseError

__all__ = ["Ensemble", "MESH_AXIS", "default_mesh", "derive_seeds", "shard_range"]

MESH_AXIS = "cases"


@dataclass(frozen=True)
class Ensemble:
    """Trajectories of one case: ``batch`` seeds times the grid of ``sweep`` values (outer product)."""

    batch: int | None = None
    sweep: Mapping[str, tuple[float, ...]] = field(default_factory=dict)

    @property
    def n_seeds(self) -> int:
        return 1 if self.batch is None else self.batch

    @property
    def size(self) -> int:
        return self.n_seeds * math.prod(len(values) for values in self.sweep.values())

    def check(self, case: Case) -> None:
        """``CaseError`` naming ``batch`` or the swept parameter if the ensemble does not fit ``case``."""
        if self.batch is not None and (isinstance(self.batch, bool) or self.batch < 1):
            raise CaseError("batch", f"must be a positive integer, got {self.batch!r}")
        parameters = case.pde.signature.parameters
        for name, values in self.sweep.items():
            if name not in parameters:
                raise CaseError(
                    f"sweep.{name}", f"not a parameter of PDE '{case.pde.name}'; allowed: {', '.join(parameters)}"
                )
            if len(values) == 0:
                raise CaseError(f"sweep.{name}", "needs at least one value")
            for value in values:  # each value must make a valid case (finite, in range)
                case.with_updates({f"pde.params.{name}": float(value)})

    def seeds(self, case: Case) -> np.ndarray:
        """The seed of every trajectory, ``[size]`` int64."""
        seeds = np.asarray([case.seed]) if self.batch is None else derive_seeds(case.seed, self.batch)
        return np.tile(seeds, self.size // self.n_seeds).astype(np.int64)

    def values(self, case: Case) -> dict[str, np.ndarray]:
        """Every swept parameter's value per trajectory, ``{name: [size]}`` float64."""
        grid = list(itertools.product(*self.sweep.values()))
        return {
            name: np.repeat(np.asarray([point[k] for point in grid], dtype=np.float64), self.n_seeds)
            for k, name in enumerate(self.sweep)
        }


def derive_seeds(seed: int, count: int) -> np.ndarray:
    """``count`` uint32 seeds, ``bits(fold_in(key(seed), i))``: independent of ``count`` and of devices."""
    base = jax.random.key(seed)
    keys = jax.vmap(lambda i: jax.random.fold_in(base, i))(jnp.arange(count, dtype=jnp.uint32))
    return np.asarray(jax.vmap(lambda k: jax.random.bits(k, dtype=jnp.uint32))(keys)).astype(np.int64)


def shard_range(size: int, index: int, count: int) -> range:
    """The ``index``-th of ``count`` contiguous, near-equal slices of ``range(size)``."""
    if not 0 <= index < count:
        raise CaseError("shard", f"index must be in [0, {count}), got {index}")
    if count > size:
        raise CaseError("shard", f"{count} shards for an ensemble of {size} trajectories leaves some empty")
    return range(index * size // count, (index + 1) * size // count)


# -- layout: which rows each process holds ------------------------------------


def global_array(mesh: Mesh, host: np.ndarray, spec: PartitionSpec) -> jax.Array:
    """A global array from a host array every process holds in full (only local slices are copied)."""
    host = np.asarray(host)
    return jax.make_array_from_callback(host.shape, NamedSharding(mesh, spec), lambda index: host[index])


@dataclass(frozen=True)
class Chunk:
    """``global_index[r]`` of each padded row ``r``; ``slot[r]``: its position in this process's file, or -1."""

    global_index: np.ndarray
    slot: np.ndarray
    n_real: int


def layout(indices: np.ndarray, chunk: int, mesh: Mesh) -> tuple[list[Chunk], np.ndarray]:
    """Split ``indices`` in chunks padded to the device count; the rows this process holds, in file order."""
    devices = mesh.devices.reshape(-1)
    # At least two rows per device: XLA compiles a batch of one differently
    # (the unit axis is squeezed) and its float results may differ in the last
    # bit, so every trajectory is computed alike however the ensemble is cut.
    padded = max(2, math.ceil(chunk / len(devices))) * len(devices)
    per_device = padded // len(devices)
    mine = np.asarray([device.process_index == jax.process_index() for device in devices])
    chunks, local = [], []
    for first in range(0, len(indices), chunk):
        real = indices[first : first + chunk]
        rows = np.concatenate([real, np.full(padded - len(real), real[-1])])
        slot = np.full(padded, -1)
        for r in range(len(real)):
            if mine[r // per_device]:
                slot[r] = len(local)
                local.append(real[r])
        chunks.append(Chunk(rows, slot, len(real)))
    return chunks, np.asarray(local, dtype=np.int64)


def idle_processes(n_trajectories: int, chunk: int, mesh: Mesh) -> list[int]:
    """The processes whose devices get no real row of the first chunk (the largest one)."""
    devices = mesh.devices.reshape(-1)
    per_device = max(2, math.ceil(chunk / len(devices)))
    busy = {devices[r // per_device].process_index for r in range(min(chunk, n_trajectories))}
    return sorted({device.process_index for device in devices} - busy)


def upload_state(mesh: Mesh, chunk: Chunk, host: Mapping[str, np.ndarray]) -> dict[str, jax.Array]:
    """This chunk's rows of the host state on the devices; padding rows are zeros (never read back)."""
    padded = len(chunk.slot)
    state = {}
    for name, values in host.items():
        full = np.zeros((padded, *values.shape[1:]), values.dtype)
        held = chunk.slot >= 0
        full[held] = values[chunk.slot[held]]
        state[name] = global_array(mesh, full, PartitionSpec(MESH_AXIS))
    return state


def download(array: jax.Array, chunk: Chunk, into: np.ndarray) -> None:
    """Copy the rows of ``array`` this process holds into their slots of ``into``."""
    for shard in array.addressable_shards:
        rows = range(*shard.index[0].indices(len(chunk.slot)))
        slots = chunk.slot[rows.start : rows.stop]
        held = slots >= 0
        if np.any(held):
            into[slots[held]] = np.asarray(shard.data)[held]


def replicated(array: jax.Array) -> np.ndarray:
    return np.asarray(array.addressable_data(0))


def default_mesh() -> Mesh:
    """All devices (of all processes) on one axis, ``"cases"``."""
    return Mesh(np.asarray(jax.devices()), (MESH_AXIS,))
