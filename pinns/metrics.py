"""Errors against the solver: every learned model is scored on the solver's grid and saved times.

``evaluate(model, reference, names)`` is the relative L2 error of
``model.predict`` (:meth:`pinns.nets.AbstractNetwork.predict`: a Lagrangian
model maps its characteristics back to the grid first) against the solver's
solution of the same case over every saved time (or the chosen ones).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from phys.fields import Fields

__all__ = ["relative_l2", "reference_values", "evaluate", "predict", "output_components", "named_outputs", "training_reference"]


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


# Marker values for the columns when reading an output off ``pde.outputs``: square roots of primes, so
# that no sum, product or power of markers equals another marker, and a computed output is not taken
# for a selection.
_MARKER_PRIMES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47)


class _NotASelection(Exception):
    pass


def output_components(pde: Any, names: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Which of a model's columns ``names`` each of the PDE's outputs is, component by component.

    Read from ``pde.outputs`` itself (the one declaration, also what the
    solver saves), evaluated on marker values: an output that selects columns
    (the state fields by default; a flow's ``velocity`` from ``u``, ``v`` and
    its ``pressure`` from ``p``) maps back to them; an output computed from
    them, or from their derivatives, is left out (a prediction's columns do
    not give it).
    """
    import jax.numpy as jnp

    if len(names) > len(_MARKER_PRIMES):
        raise ValueError(f"at most {len(_MARKER_PRIMES)} columns, got {len(names)}")
    markers = {name: jnp.asarray([math.sqrt(prime)]) for name, prime in zip(names, _MARKER_PRIMES)}  # default dtype
    by_value = {float(marker[0]): name for name, marker in markers.items()}

    def column(name: str, order: tuple[int, ...] | None = None, **options: Any) -> Any:
        if name not in markers or (order is not None and any(order)) or options:
            raise _NotASelection
        return markers[name]

    try:
        outputs = pde.outputs(column)
    except (_NotASelection, AttributeError, TypeError):
        return {}
    components: dict[str, tuple[str, ...]] = {}
    for output, value in outputs.items():
        flat = [float(v) for v in np.asarray(value).reshape(-1)]
        if flat and all(v in by_value for v in flat):
            components[output] = tuple(by_value[v] for v in flat)
    return components


def named_outputs(pde: Any, names: tuple[str, ...], prediction: np.ndarray) -> dict[str, np.ndarray]:
    """A prediction ``[..., columns]`` (columns ``names``) under the names the solver writes (``pde.outputs``).

    A vector output holds its components on a last axis. Columns no output
    selects keep their own names.
    """
    arrays: dict[str, np.ndarray] = {}
    used: set[str] = set()
    for output, parts in output_components(pde, names).items():
        index = [names.index(part) for part in parts]
        order = type(pde).output_tensor_orders().get(output, 0)
        arrays[output] = prediction[..., index] if order else prediction[..., index[0]]
        used.update(parts)
    for i, name in enumerate(names):
        if name not in used:
            arrays[name] = prediction[..., i]
    return arrays


def training_reference(reference: Fields, pde: Any, names: tuple[str, ...], *, steady: bool) -> Fields:
    """The solver's output as the trainer scores it: per column of the model (``names``), and for a
    steady problem the last saved state only (where the solver stopped, steady).

    An output that selects columns (:func:`output_components`) is split into
    them (a flow's ``velocity`` into ``u`` and ``v``, its ``pressure`` into
    ``p``); the rest stay as they are.
    """
    import dataclasses

    values = dict(reference.values)
    orders = dict(reference.tensor_order)
    for output, parts in output_components(pde, names).items():
        if output not in values or parts == (output,):
            continue
        value, order = values.pop(output), orders.pop(output)
        for i, part in enumerate(parts):
            values[part] = value[..., i] if order else value
            orders[part] = 0
    time = np.asarray(reference.time)
    if steady:
        values = {name: value[:, -1:] for name, value in values.items()}
        time = time[-1:]
    return dataclasses.replace(reference, time=time, values=values, tensor_order=orders)
