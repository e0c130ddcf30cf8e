"""Where a solve's snapshots go: the writer protocol, and its in-memory implementation.

The block driver (:mod:`solvers.driver`) hands a writer blocks of snapshots
``{name: [B, k, ...]}`` together with the solver state that follows them, and
asks it, when a run resumes, how many snapshots it holds and the state after
the last of them. :class:`phys.io.TrajectoryWriter` writes them to HDF5
(resumable); :class:`MemoryWriter` keeps them in memory (``solve``).
"""

from __future__ import annotations

from typing import Mapping, Protocol

import numpy as np

__all__ = ["MemoryWriter", "Writer"]


class Writer(Protocol):
    @property
    def n_written(self) -> int:
        """Snapshots held, per trajectory."""

    def append(self, snapshots: Mapping[str, np.ndarray], solver_state: Mapping[str, np.ndarray] | None = None) -> None:
        """Add ``snapshots[name]`` (``[B, k, ...]``) and, when given, the state after them."""

    def solver_state(self) -> dict[str, np.ndarray]:
        """The state given to the latest append that had one."""

    def stop_steady(self, time: float) -> None:
        """End the run at the snapshots written: the solution is steady from ``time`` on."""


class MemoryWriter:
    """Snapshots kept in memory; :meth:`result` joins them into ``{name: [B, T, ...]}``."""

    def __init__(self) -> None:
        self._blocks: list[dict[str, np.ndarray]] = []
        self._state: dict[str, np.ndarray] = {}
        self._n_written = 0
        self.steady_time: float | None = None

    @property
    def n_written(self) -> int:
        return self._n_written

    def append(self, snapshots: Mapping[str, np.ndarray], solver_state: Mapping[str, np.ndarray] | None = None) -> None:
        self._blocks.append({name: np.asarray(values) for name, values in snapshots.items()})
        self._n_written += next(iter(snapshots.values())).shape[1]
        if solver_state is not None:
            self._state = dict(solver_state)

    def solver_state(self) -> dict[str, np.ndarray]:
        return dict(self._state)

    def stop_steady(self, time: float) -> None:
        self.steady_time = float(time)

    def result(self) -> dict[str, np.ndarray]:
        return {name: np.concatenate([block[name] for block in self._blocks], axis=1) for name in self._blocks[0]}
