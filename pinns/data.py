"""Observations for the PINN data term, from an HDF5 file in physax's schema.

A ``phys run`` output (or any file of The Well's layout with the case's
fields) gives values on its grid at its saved times; every grid point at
every saved time becomes one observation ``(t, x, ...) -> (u, ...)``. The
trainer draws ``n_data`` of them per step (:mod:`pinns.train`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from phys.case import Case, CaseError
from phys.fields import Fields

__all__ = ["observations", "load_observations"]


def observations(fields: Fields, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``(points [o, 1 + d], values [o, len(names)])`` from the one trajectory in ``fields``."""
    missing = [name for name in names if name not in fields.values]
    if missing:
        raise CaseError("data_file", f"has no field {missing[0]!r} (it holds {', '.join(fields.values)})")
    if fields.n_trajectories != 1:
        raise CaseError("data_file", f"holds {fields.n_trajectories} trajectories; the data term takes a file with one")
    axes = [np.asarray(fields.time, np.float64), *(np.asarray(c, np.float64) for c in fields.coords.values())]
    mesh = np.meshgrid(*axes, indexing="ij")
    points = np.stack([m.reshape(-1) for m in mesh], axis=1)
    values = np.stack([np.asarray(fields.values[name][0], np.float64).reshape(-1) for name in names], axis=1)
    return points, values


def load_observations(path: str | Path, case: Case) -> tuple[np.ndarray, np.ndarray]:
    """The observations in the file at ``path`` for ``case``'s fields; one-line :class:`CaseError` if it does not fit."""
    from phys.io import read

    path = Path(path)
    if not path.is_file():
        raise CaseError("data_file", f"no such file: {path}")
    try:
        fields = read(path)
    except (OSError, ValueError) as error:
        raise CaseError("data_file", f"cannot read {path}: {error}") from None
    if fields.n_dims != case.n_dims:
        raise CaseError("data_file", f"{path} is {fields.n_dims}D, the case is {case.n_dims}D")
    points, values = observations(fields, case.fields)
    lower = np.array([case.time.t0, *case.domain.origin])
    upper = np.array([case.time.t_end, *(o + n for o, n in zip(case.domain.origin, case.domain.length))])
    inside = np.all((points >= lower - 1e-9) & (points <= upper + 1e-9), axis=1)
    if not inside.any():
        raise CaseError("data_file", f"{path} has no observation inside the case's time span and domain")
    return points[inside], values[inside]
