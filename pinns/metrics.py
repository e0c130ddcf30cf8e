"""Errors against the solver: every learned model is scored on the solver's grid and saved times.

``evaluate(model, reference, names)`` is the relative L2 error of
``model.predict`` (:meth:`pinns.nets.AbstractNetwork.predict`: a Lagrangian
model maps its characteristics back to the grid first) against the solver's
solution of the same case over every saved time (or the chosen ones).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from phys.fields import Fields

__all__ = ["relative_l2", "reference_values", "evaluate", "predict", "training_reference"]


def relative_l2(prediction: np.ndarray, reference: np.ndarray) -> float:
    """``|prediction - reference|_2 / |reference|_2`` over every entry."""
    return float(np.linalg.norm((prediction - reference).ravel()) / np.linalg.norm(reference.ravel()))


def reference_values(reference: Fields, names: tuple[str, ...]) -> np.ndarray:
    """``[T, *n, fields]``: the solver's saved values of the fields ``names`` (float64, host)."""
    return np.stack([np.asarray(reference[name][0], dtype=np.float64) for name in names], axis=-1)


def predict(model: Any, times: np.ndarray, coords: tuple[np.ndarray, ...], batch: int = 65536) -> np.ndarray:
    """The model's fields on the grid ``times x coords``: ``[T, *n, fields]`` (host)."""
    return model.predict(np.asarray(times), tuple(coords), batch)


def evaluate(model: Any, reference: Fields, names: tuple[str, ...], mask: np.ndarray | None = None) -> float:
    """Relative L2 error of ``model``'s first outputs, ``names``, against ``reference`` over its saved times (those where ``mask``)."""
    times = np.asarray(reference.time)
    target = reference_values(reference, names)
    if mask is not None:
        times, target = times[mask], target[mask]
    return relative_l2(predict(model, times, tuple(reference.coords.values()))[..., : len(names)], target)


def training_reference(reference: Fields, *, flow: bool, steady: bool) -> Fields:
    """The solver's output as the trainer scores it: a flow's velocity as its components ``u``, ``v`` (and ``p``),
    a steady problem's last saved state only (where the solver stopped, steady)."""
    import dataclasses

    values = dict(reference.values)
    orders = dict(reference.tensor_order)
    if flow:
        velocity = values.pop("velocity")
        values.update(u=velocity[..., 0], v=velocity[..., 1], p=values.pop("pressure"))
        orders = {name: 0 for name in values}
    time = np.asarray(reference.time)
    if steady:
        values = {name: value[:, -1:] for name, value in values.items()}
        time = time[-1:]
    return dataclasses.replace(reference, time=time, values=values, tensor_order=orders)
