"""Solutions on a grid: coordinates, times, field arrays and the case that made them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from phys.case import Case

__all__ = ["Fields", "AXIS_NAMES"]

AXIS_NAMES = ("x", "y", "z")


@dataclass(frozen=True)
class Fields:
    """A set of trajectories on a uniform grid (host arrays).

    ``values[name]`` is shaped ``[B, T, *n]`` for a scalar field, with one more
    trailing axis of size ``n_dims`` per tensor order (``[B, T, *n, D]`` for a
    vector). ``tensor_order[name]`` says which (0, 1 or 2), as The Well's
    ``t0_fields``/``t1_fields``/``t2_fields`` groups do.
    """

    time: np.ndarray
    coords: Mapping[str, np.ndarray]
    values: Mapping[str, np.ndarray]
    tensor_order: Mapping[str, int]
    case: Case | None = None
    scalars: Mapping[str, np.ndarray] = field(default_factory=dict)
    attrs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def n_trajectories(self) -> int:
        return next(iter(self.values.values())).shape[0]

    @property
    def n_dims(self) -> int:
        return len(self.coords)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]
