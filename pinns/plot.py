"""``training.png``: loss terms, causal weights and error against steps, prediction beside reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from phys.fields import Fields

__all__ = ["plot_training"]


def plot_training(
    path: Path,
    history: list[dict[str, Any]],
    prediction: np.ndarray,
    reference: np.ndarray,
    fields: Fields,
    name: str,
) -> Path:
    """Four panels: losses and rel. L2 per step, last causal weights, predicted and reference field (field 0)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(11, 8), constrained_layout=True)
    steps = [h["step"] for h in history]
    losses = axes[0, 0]
    for key in sorted({k for h in history for k in h if k.startswith("loss")}):
        points = [(h["step"], h[key]) for h in history if key in h and h[key] > 0]
        if points:
            losses.semilogy(*zip(*points), label=key)
    if steps:
        # A time-marching run records the error over the window being trained.
        windowed = any("window" in h for h in history)
        label = "rel. L2 vs solver (current window)" if windowed else "rel. L2 vs solver"
        losses.semilogy(steps, [h["rel_l2"] for h in history], "k--", label=label)
    losses.set_xlabel("step")
    losses.legend(fontsize=8)
    final = float(np.linalg.norm(prediction - reference) / np.linalg.norm(reference))
    losses.set_title(f"losses and error (final rel. L2 {final:.2e}, all times)")

    causal = axes[0, 1]
    weights = [h["causal_weights"] for h in history if "causal_weights" in h]
    if weights:
        for index in sorted({0, len(weights) // 2, len(weights) - 1}):
            causal.plot(weights[index], marker=".", label=f"step {[h['step'] for h in history if 'causal_weights' in h][index]}")
        causal.legend(fontsize=8)
    causal.set_ylim(-0.05, 1.05)
    causal.set_xlabel("time chunk")
    causal.set_title("causal weights w_i")

    t = np.asarray(fields.time)
    coords = [np.asarray(c) for c in fields.coords.values()]
    predicted, expected = prediction[..., 0], reference[..., 0]
    if predicted.ndim >= 3:
        # 2D and up: the last saved time as an image over the first two axes (further axes cut in the middle).
        predicted, expected = predicted[-1], expected[-1]
        while predicted.ndim > 2:
            predicted, expected = predicted[..., predicted.shape[-1] // 2], expected[..., expected.shape[-1] // 2]
        extent = (float(coords[0][0]), float(coords[0][-1]), float(coords[1][0]), float(coords[1][-1]))
        labels, when = ("x", "y"), f" at t = {float(t[-1]):g}"
    else:
        # 1D: a space-time image.
        extent = (float(t[0]), float(t[-1]), float(coords[0][0]), float(coords[0][-1]))
        labels, when = ("t", "x"), ""
        if len(t) == 1:  # one time (a steady problem): no time extent to draw over
            extent = (extent[0] - 0.5, extent[0] + 0.5, *extent[2:])
    limits = dict(vmin=float(expected.min()), vmax=float(expected.max()), aspect="auto", origin="lower", cmap="RdBu_r")
    for ax, values, title in ((axes[1, 0], predicted, f"PINN {name}{when}"), (axes[1, 1], expected, f"solver {name}{when}")):
        image = ax.imshow(values.T, extent=extent, **limits)
        ax.set_xlabel(labels[0])
        ax.set_ylabel(labels[1])
        ax.set_title(title)
        figure.colorbar(image, ax=ax)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
