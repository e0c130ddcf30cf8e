"""Training settings and per-case presets (no JAX: the CLI validates them before importing it).

``preset(name, case, method)`` gives the :class:`TrainConfig` a ``phys train``
run starts from; ``--set key=value`` then overrides single settings.

- ``cpu``: small networks and batches that train in minutes on a laptop CPU.
  For ``allen-cahn`` and ``convection`` that means time marching (10
  windows, each warm-started from the last) with the initial condition of
  each window imposed exactly (``hard_initial``): the whole span in one
  network does not train in minutes on a CPU (BENCHMARKS.md has both).
- ``paper``: the published configurations for GPUs. Allen-Cahn follows Wang,
  Sankaran & Perdikaris (2022, section 5.2 and their released code): modified
  MLP 4 x 256 tanh, exact periodic embedding, M = 32 chunks, eps from 1e-2 to
  1e2, batches of 8192 points, one window (``--set windows=N`` marches).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from phys.case import CaseError

__all__ = ["TrainConfig", "PRESETS", "METHODS", "preset"]

METHODS = ("pinn", "causal")


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a PINN training run (see :func:`pinns.train.train`)."""

    method: Literal["pinn", "causal"] = "pinn"
    # Optimisation: Adam with exponential decay lr * rate^(step / decay_steps), then L-BFGS.
    steps: int = 5000
    lbfgs_steps: int = 0
    learning_rate: float = 1e-3
    decay_steps: int = 2000
    decay_rate: float = 0.9
    # Points per step, resampled every Adam step (L-BFGS keeps one fixed batch).
    n_residual: int = 2048
    n_initial: int = 256
    n_boundary: int = 128
    n_residual_lbfgs: int = 0  # residual points of the fixed L-BFGS batch (0: n_residual)
    # Causal weighting: time chunks and the eps schedule (pinns.losses).
    n_chunks: int = 16
    causal_eps: float = 1e-2
    causal_delta: float = 0.99
    causal_factor: float = 10.0
    causal_eps_max: float = 100.0
    # Time marching: the span cut into `windows` windows trained one after
    # another, each for steps + lbfgs_steps steps, from the last one's weights
    # (warm_start) and its prediction at the window's start.
    windows: int = 1
    warm_start: bool = True
    # Impose the initial condition exactly by an output transform (periodic cases).
    hard_initial: bool = False
    # Loss weights: fixed initial values; re-balanced by gradient norms every
    # `balance_every` Adam steps (0: never).
    weight_initial: float = 1.0
    weight_boundary: float = 1.0
    # Data term: observations from an HDF5 file in physax's schema (e.g. a
    # `phys run` output), `n_data` of them drawn per step, weight `weight_data`.
    data_file: str = ""
    n_data: int = 256
    weight_data: float = 1.0
    weight_residual: float = 1.0
    balance_every: int = 0
    balance_momentum: float = 0.9
    # Network (pinns.nets.make_network).
    architecture: Literal["mlp", "modified_mlp"] = "mlp"
    width: int = 64
    depth: int = 4
    activation: Literal["tanh", "sin", "gelu"] = "tanh"
    n_modes: int = 1
    fourier_features: int = 0  # 0: no random Fourier features
    fourier_scale: float = 1.0
    factorize: bool = False
    factorize_mu: float = 1.0
    factorize_sigma: float = 0.1
    # Bookkeeping.
    eval_every: int = 500
    steps_per_call: int = 100  # Adam steps per compiled call (pinns.train._adam_steps)
    checkpoint_every: int = 1000
    seed: int | None = None  # None: the case's seed

    def __post_init__(self) -> None:
        _check(self)

    def replace(self, **changes: Any) -> TrainConfig:
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise CaseError(unknown[0], f"unknown training setting; allowed: {', '.join(f.name for f in dataclasses.fields(self))}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_POSITIVE_INTS = ("n_residual", "n_initial", "n_boundary", "n_chunks", "width", "depth", "n_modes", "decay_steps", "eval_every", "checkpoint_every", "steps_per_call", "windows", "n_data")
_NON_NEGATIVE_INTS = ("steps", "lbfgs_steps", "n_residual_lbfgs", "balance_every", "fourier_features")
_POSITIVE_FLOATS = ("learning_rate", "decay_rate", "causal_factor", "causal_eps_max", "fourier_scale")
_NON_NEGATIVE_FLOATS = ("causal_eps", "weight_initial", "weight_boundary", "weight_residual", "weight_data", "factorize_sigma")


def _check(config: TrainConfig) -> None:
    if config.method not in METHODS:
        raise CaseError("method", f"must be one of {', '.join(METHODS)}, got {config.method!r}")
    if config.architecture not in ("mlp", "modified_mlp"):
        raise CaseError("architecture", f"must be 'mlp' or 'modified_mlp', got {config.architecture!r}")
    if config.activation not in ("tanh", "sin", "gelu"):
        raise CaseError("activation", f"must be 'tanh', 'sin' or 'gelu', got {config.activation!r}")
    for name in _POSITIVE_INTS + _NON_NEGATIVE_INTS:
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < (1 if name in _POSITIVE_INTS else 0):
            kind = "a positive" if name in _POSITIVE_INTS else "a non-negative"
            raise CaseError(name, f"must be {kind} integer, got {value!r}")
    for name in _POSITIVE_FLOATS + _NON_NEGATIVE_FLOATS:
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value == value or value < 0:
            raise CaseError(name, f"must be a non-negative number, got {value!r}")
        if name in _POSITIVE_FLOATS and value == 0:
            raise CaseError(name, f"must be positive, got {value!r}")
    if not isinstance(config.data_file, str):
        raise CaseError("data_file", f"must be a path, got {config.data_file!r}")
    for name in ("warm_start", "hard_initial", "factorize"):
        if not isinstance(getattr(config, name), bool):
            raise CaseError(name, f"must be true or false, got {getattr(config, name)!r}")
    if not 0 < config.causal_delta < 1:
        raise CaseError("causal_delta", f"must be in (0, 1), got {config.causal_delta!r}")
    if not 0 <= config.balance_momentum < 1:
        raise CaseError("balance_momentum", f"must be in [0, 1), got {config.balance_momentum!r}")
    if config.n_residual % config.n_chunks:
        raise CaseError("n_residual", f"must be a multiple of n_chunks = {config.n_chunks}, got {config.n_residual}")
    if config.n_residual_lbfgs % config.n_chunks:
        raise CaseError("n_residual_lbfgs", f"must be a multiple of n_chunks = {config.n_chunks}, got {config.n_residual_lbfgs}")
    if config.steps + config.lbfgs_steps == 0:
        raise CaseError("steps", "steps + lbfgs_steps must be at least 1")


# Per preset: settings for every case, then per-case overrides (by case name).
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "cpu": {
        "*": {},
        # Measured with `phys train burgers` (2 CPU cores, float32, commit after
        # 5867b6b): rel. L2 0.119 after 6000 Adam steps, 8.6e-3 after 2000
        # L-BFGS steps, 4.2e-3 after 3000; 118 s of training.
        "burgers": dict(
            steps=6000, lbfgs_steps=3000, width=32, depth=4, n_residual=2048, n_initial=256, n_boundary=128,
            n_residual_lbfgs=8192, learning_rate=2e-3, decay_steps=1000, decay_rate=0.7, weight_initial=10.0,
            weight_boundary=10.0, eval_every=1000,
        ),
        # Time marching over 10 windows with the IC imposed exactly (the
        # previous window's prediction, Fourier-interpolated): a small gated
        # network per window, warm-started from the last.
        "allen-cahn": dict(
            steps=3000, windows=10, hard_initial=True, width=64, depth=4, architecture="modified_mlp", n_modes=1,
            n_residual=1024, n_chunks=16, learning_rate=1e-3, decay_steps=1000, decay_rate=0.9, eval_every=1000,
        ),
        "convection": dict(
            steps=1000, windows=10, hard_initial=True, width=64, depth=4, n_residual=1024, n_chunks=16,
            decay_steps=500, eval_every=500,
        ),
    },
    "paper": {
        "*": dict(
            steps=100000, architecture="modified_mlp", width=256, depth=4, n_residual=8192, n_initial=512,
            n_chunks=32, learning_rate=1e-3, decay_steps=5000, decay_rate=0.9, factorize=True,
            balance_every=1000, eval_every=1000, checkpoint_every=5000,
        ),
        "allen-cahn": dict(steps=300000, weight_initial=100.0),
    },
}


def preset(name: str, case_name: str, method: str = "pinn") -> TrainConfig:
    """The preset ``name`` for the case named ``case_name``."""
    if name not in PRESETS:
        raise CaseError("preset", f"must be one of {', '.join(PRESETS)}, got {name!r}")
    settings = {**PRESETS[name]["*"], **PRESETS[name].get(case_name, {}), "method": method}
    return TrainConfig(**settings)
