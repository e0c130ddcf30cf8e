"""``rom.png``: error against time per set, and the forecast beside the solver's field."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_rom"]


def plot_rom(path: Path, method: str, curves: dict[str, np.ndarray], times: np.ndarray, horizon: float,
             prediction: np.ndarray, reference: np.ndarray, coords: tuple[np.ndarray, ...], label: str) -> None:
    """Left: mean error per set against t (the training horizon dashed). Right: one trajectory, ROM dashed, solver solid."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for name, curve in curves.items():
        if curve.shape[0]:
            left.plot(times, curve.mean(axis=0), label=name)
    left.axvline(horizon, color="k", linestyle="--", linewidth=0.8)
    left.set_xlabel("t")
    left.set_ylabel("normalised L2 error")
    left.set_title(f"{method}: error against time (dashed: training horizon)", fontsize=9)
    left.legend()
    if len(coords) == 1 and prediction.size:
        x = coords[0]
        for k, t in enumerate(np.linspace(0, len(times) - 1, 4).astype(int)):
            colour = f"C{k}"
            right.plot(x, reference[t, 0], color=colour, label=f"t = {times[t]:.3g}")
            right.plot(x, prediction[t, 0], color=colour, linestyle="--")
        right.set_xlabel("x")
        right.legend()
    elif prediction.size:
        both = np.concatenate([reference[-1, 0], prediction[-1, 0]], axis=1)
        right.imshow(both.T, origin="lower", aspect="auto")
        right.set_xlabel("solver | ROM")
    right.set_title(f"{label}: solver (solid), ROM (dashed)", fontsize=9)
    figure.tight_layout()
    tmp = path.with_name(path.name + ".tmp.png")
    figure.savefig(tmp, dpi=100)
    plt.close(figure)
    tmp.replace(path)
