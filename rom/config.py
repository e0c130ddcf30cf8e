"""The settings of a reduced-order-model run (no JAX: the command line checks them first).

Defaults are Phi-ROM's Burgers settings (Hosseini Dashtbayaz et al. 2025,
arXiv 2505.14595, and their script ``experiments/train_burgers_PHIROM.sh``):
latent 4, a sine MLP decoder of 4 hidden layers of 32, a dynamics network of
4 hidden layers of 64, batch 800, gamma 0.1, lambda 0.5, AdamW at 5e-3
decayed by 0.985 every 50 epochs, 1000 warm-up epochs. The paper trains
12,000 epochs; ``epochs`` here is the CPU budget's (see docs/rom.md).

Which trajectories train and test the model is part of the settings too
(:class:`RomConfig` ``sweep``, ``train_values``...): per built-in case from
:data:`PRESETS`, otherwise the PDE's first parameter swept around its value,
or the random initial conditions of several seeds.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Literal

from phys.case import Case, CaseError

__all__ = ["DATA_SETTINGS", "METHODS", "PRESETS", "RomConfig", "SETTINGS", "build_config", "preset"]

METHODS: dict[str, str] = {
    "phi": "Phi-ROM: latent velocity from the solver's tendency projected on the decoder's tangent space",
    "data": "data-only (DINo-like): latent velocity from finite differences of the auto-decoded latents",
    "pinn": "PINN-ROM: the tendency by autodiff of the decoder in x (pinns' residual), projected the same way",
}


def _evenly(start: float, stop: float, count: int) -> tuple[float, ...]:
    return tuple(start + (stop - start) * i / (count - 1) for i in range(count))


def _midpoints(values: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(0.5 * (a + b) for a, b in zip(values[:-1], values[1:]))


_BURGERS_TRAIN = _evenly(0.015, 0.03, 8)

# Phi-ROM's data splits. Burgers: mu in [0.015, 0.03], 8 training values, the
# 7 midpoints to interpolate and one step of 0.015/7 beyond each end to extrapolate.
PRESETS: dict[str, dict[str, Any]] = {
    "burgers-forced": {
        "sweep": "mu",
        "train_values": _BURGERS_TRAIN,
        "interpolation_values": _midpoints(_BURGERS_TRAIN),
        "extrapolation_values": (0.015 - 0.015 / 7, 0.03 + 0.015 / 7),
    },
    # Random Gaussian starts: unseen seeds are the interpolation set (the paper uses 200 trajectories).
    "diffusion-2d": {"sweep": "", "n_train_seeds": 16, "n_test_seeds": 8},
}


@dataclasses.dataclass(frozen=True)
class RomConfig:
    """Every setting of a ROM run; ``--set`` on ``phys rom`` reaches each by name.

    Attributes:
        method: ``phi`` (Phi-ROM), ``data`` (data-only) or ``pinn`` (PINN-ROM).
        latent_dim: size of each snapshot's latent vector alpha.
        decoder_width, decoder_depth: hidden layers of the sine MLP D(x; alpha).
        psi_width, psi_depth: hidden layers (swish) of the dynamics network Psi(alpha, mu).
        gamma: fraction of the grid points at which the decoder Jacobian is taken (hyper-reduction).
        loss_lambda: gradients mixed as lambda grad L_rec + (1 - lambda) grad L_dyn.
        warmup_epochs: epochs during which L_dyn trains only Psi (not the decoder nor the latents).
        epochs, batch: training epochs and snapshots per step.
        learning_rate, decay_rate, decay_epochs, final_learning_rate, weight_decay: AdamW with a staircase
            exponential decay by ``decay_rate`` every ``decay_epochs`` epochs, down to ``final_learning_rate``.
        squared_loss: normalised squared errors |a - b|^2 / |b|^2 instead of Phi-ROM's |a - b| / |b|.
        seed: seeds the networks, the batches and the hyper-reduction points.
        infer_steps, infer_learning_rate: Adam on a new trajectory's initial latent (first snapshot).
        train_fraction: the share of the saved snapshots (from the first) the model is trained on.
        sweep: the PDE parameter the sets vary ('' for none: the sets differ in seeds).
        train_values, interpolation_values, extrapolation_values: its values per set.
        n_train_seeds, n_test_seeds: with no sweep, trajectories from that many seeds per set.
    """

    method: Literal["phi", "data", "pinn"] = "phi"
    latent_dim: int = 4
    decoder_width: int = 32
    decoder_depth: int = 4
    psi_width: int = 64
    psi_depth: int = 4
    gamma: float = 0.1
    loss_lambda: float = 0.5
    warmup_epochs: int = 1000
    epochs: int = 3000
    batch: int = 800
    learning_rate: float = 5e-3
    decay_rate: float = 0.985
    decay_epochs: int = 50
    final_learning_rate: float = 1e-6
    weight_decay: float = 1e-4
    squared_loss: bool = False
    seed: int = 0
    infer_steps: int = 300
    infer_learning_rate: float = 1e-2
    train_fraction: float = 0.5
    sweep: str = ""
    train_values: tuple[float, ...] = ()
    interpolation_values: tuple[float, ...] = ()
    extrapolation_values: tuple[float, ...] = ()
    n_train_seeds: int = 0
    n_test_seeds: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise CaseError("method", f"unknown ROM method {self.method!r}; allowed: {', '.join(METHODS)}")
        for name in ("latent_dim", "decoder_width", "decoder_depth", "psi_width", "psi_depth", "epochs", "batch",
                     "decay_epochs", "infer_steps", "warmup_epochs", "seed", "n_train_seeds", "n_test_seeds"):
            value = getattr(self, name)
            low = 0 if name in ("warmup_epochs", "seed", "n_train_seeds", "n_test_seeds") else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise CaseError(name, f"must be an integer of at least {low}, got {value!r}")
        for name, low, high in (("gamma", 0.0, 1.0), ("loss_lambda", 0.0, 1.0), ("decay_rate", 0.0, 1.0), ("train_fraction", 0.0, 1.0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (low < value <= high):
                raise CaseError(name, f"must be a number in ({low:g}, {high:g}], got {value!r}")
        for name in ("learning_rate", "final_learning_rate", "infer_learning_rate"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
                raise CaseError(name, f"must be a positive number, got {value!r}")
        if not (isinstance(self.weight_decay, (int, float)) and self.weight_decay >= 0):
            raise CaseError("weight_decay", f"must be zero or positive, got {self.weight_decay!r}")
        for name in ("train_values", "interpolation_values", "extrapolation_values"):
            values = getattr(self, name)
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
                raise CaseError(name, f"must be a list of finite numbers, got {list(values)!r}")

    def replace(self, **changes: Any) -> RomConfig:
        for name in ("train_values", "interpolation_values", "extrapolation_values"):
            if name in changes and isinstance(changes[name], (list, tuple)):
                changes[name] = tuple(changes[name])
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RomConfig:
        return cls().replace(**data)


# What ``phys rom --set KEY=VALUE`` may change (``method`` has its own option).
SETTINGS = tuple(f.name for f in dataclasses.fields(RomConfig) if f.name != "method")


def _is_random(case: Case) -> bool:
    return getattr(case.ic, "kind", "") == "family" and str(getattr(case.ic, "name", "")).startswith("random-")


def preset(case: Case) -> dict[str, Any]:
    """The data settings of ``case``: its :data:`PRESETS` entry, else a sweep of the PDE's first parameter or seeds.

    A case without a preset whose PDE has parameters sweeps the first one over
    8 values in [0.8, 1.2] times its value (interpolation: the midpoints;
    extrapolation: one step beyond each end); with a random initial condition
    and no parameters, 8 training and 4 test seeds. ``CaseError`` when there
    is nothing to vary.
    """
    if case.name in PRESETS:
        return dict(PRESETS[case.name])
    if _is_random(case):
        return {"sweep": "", "n_train_seeds": 8, "n_test_seeds": 4}
    params = case.pde.params
    if not params:
        raise CaseError(
            "sweep",
            f"case '{case.name}' has nothing to vary for a ROM: PDE '{case.pde.name}' has no parameters and its initial "
            "condition is not random; give --data FILE.h5, an ensemble written by phys run",
        )
    name, value = next(iter(params.items()))
    if value == 0:
        raise CaseError("sweep", f"case '{case.name}': its first parameter {name} is 0, so no range around it; set sweep and train_values")
    train = _evenly(0.8 * value, 1.2 * value, 8)
    step = train[1] - train[0]
    return {"sweep": name, "train_values": train, "interpolation_values": _midpoints(train),
            "extrapolation_values": (train[0] - step, train[-1] + step)}


DATA_SETTINGS = ("sweep", "train_values", "interpolation_values", "extrapolation_values", "n_train_seeds", "n_test_seeds")


def build_config(case: Case, method: str, settings: dict[str, Any], *, data_file: bool = False) -> RomConfig:
    """The run's settings: the case's data settings (:func:`preset`), then ``settings`` over them.

    ``CaseError`` (one line, naming the setting) when one does not fit the case.
    With ``data_file`` (an ensemble given by ``--data``) a case with nothing
    to vary is fine: its trajectories are split by order (see :mod:`rom.data`).
    """
    if method not in METHODS:
        raise CaseError("method", f"unknown ROM method {method!r}; allowed: {', '.join(METHODS)}")
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise CaseError(unknown[0], f"unknown ROM setting; allowed: {', '.join(SETTINGS)}")
    try:
        base = preset(case)
    except CaseError:
        if not (data_file or set(DATA_SETTINGS) & set(settings)):
            raise
        base = {}
    try:
        config = RomConfig(method=method).replace(**{**base, **settings})  # type: ignore[arg-type]
    except TypeError as error:
        raise CaseError("set", str(error)) from None
    if config.sweep:
        if config.sweep not in case.pde.params:
            allowed = ", ".join(case.pde.params) or "none"
            raise CaseError("sweep", f"'{config.sweep}' is not a parameter of PDE '{case.pde.name}'; allowed: {allowed}")
        if len(config.train_values) < 2:
            raise CaseError("train_values", f"needs at least two values of {config.sweep}, got {list(config.train_values)}")
        for value in (*config.train_values, *config.interpolation_values, *config.extrapolation_values):
            case.with_updates({f"pde.params.{config.sweep}": float(value)})  # CaseError names the field
    elif not data_file:
        if config.n_train_seeds < 1:
            raise CaseError("n_train_seeds", f"with no sweep the sets differ in seeds: needs at least 1, got {config.n_train_seeds}")
        if not _is_random(case):
            raise CaseError("sweep", f"case '{case.name}': seeds change nothing, its initial condition is not random; set sweep")
    return config
