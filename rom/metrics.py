"""Errors against the solver: normalised L2 per saved time, averaged in the training horizon and beyond it.

As Phi-ROM reports them: at each saved time ``|u_rom - u| / |u|`` over the
grid (all fields), then the mean over the times before ``n_train_steps``
(``in_horizon``: the snapshots the model was trained on, for the training
trajectories) and from it on (``beyond``), then the mean over the set's
trajectories.
"""

from __future__ import annotations

import numpy as np

__all__ = ["error_curves", "summary"]


def error_curves(prediction: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``[b, T]``: the normalised L2 error of each trajectory at each saved time (``[b, T, ...]`` inputs)."""
    size = int(np.prod(reference.shape[2:]))
    p = np.asarray(prediction, np.float64).reshape(prediction.shape[0], prediction.shape[1], size)
    r = np.asarray(reference, np.float64).reshape(reference.shape[0], reference.shape[1], size)
    return np.linalg.norm(p - r, axis=-1) / np.linalg.norm(r, axis=-1)


def summary(curves: np.ndarray, n_train_steps: int) -> dict[str, float | None]:
    """``{"in_horizon": ..., "beyond": ...}`` of the curves of one set (None where the set or the span is empty)."""
    if curves.shape[0] == 0:
        return {"in_horizon": None, "beyond": None}
    inside, beyond = curves[:, :n_train_steps], curves[:, n_train_steps:]
    return {
        "in_horizon": float(np.mean(inside)),
        "beyond": float(np.mean(beyond)) if beyond.size else None,
    }
