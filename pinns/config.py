"""Training settings, one small frozen dataclass per piece, and per-case presets (no JAX).

The command line validates them before importing JAX. A run's
:class:`TrainConfig` holds one settings object per piece of the trainer:

- :class:`Optimiser`: the Adam phase (fused steps, exponential decay) and the L-BFGS phase;
- :class:`Sampling`: collocation, initial, boundary and data points per step;
- :class:`Weights`: the loss terms' weights and their gradient-norm balancing;
- :class:`Network`: the network of :func:`pinns.nets.make_network`;
- :class:`Marching`: the model's transforms: time-marching windows, exact initial conditions;
- :class:`Run`: evaluation and checkpoint cadence, seed;
- the method's own settings (``method_settings``): :class:`Causal` for ``causal``,
  :class:`Lagrangian` for ``lagrangian``, none for ``pinn``; a plug-in method names its
  own class (:class:`pinns.methods.MethodSpec`).

Every setting has a unique flat name, which is what ``--set key=value`` and
:meth:`TrainConfig.replace` take; :meth:`TrainConfig.keys` lists them.

``preset(name, case, method)`` gives the config a ``phys train`` run starts from:

- ``cpu``: small networks and batches that train in minutes on a laptop CPU.
  For ``allen-cahn``, ``convection``, ``convection-diffusion`` and
  ``burgers-moving-front`` the Eulerian methods march in time (10 windows,
  each warm-started from the last) with each window's initial condition
  imposed exactly (``hard_initial``). The Lagrangian method trains one window
  with the exact initial transform. Tuned on seed 100, which the accuracy
  table (``bench/bench_pinn_accuracy.py``, seeds 0-2) does not report.
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

__all__ = [
    "Optimiser", "Sampling", "Weights", "Network", "Marching", "Run", "Causal", "Lagrangian",
    "TrainConfig", "PRESETS", "preset",
]


def _positive_int(piece: Any, *names: str, minimum: int = 1) -> None:
    for name in names:
        value = getattr(piece, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            kind = "a positive" if minimum == 1 else "a non-negative"
            raise CaseError(name, f"must be {kind} integer, got {value!r}")


def _number(piece: Any, *names: str, positive: bool = False) -> None:
    for name in names:
        value = getattr(piece, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value == value or value < 0:
            raise CaseError(name, f"must be a non-negative number, got {value!r}")
        if positive and value == 0:
            raise CaseError(name, f"must be positive, got {value!r}")


def _flag(piece: Any, *names: str) -> None:
    for name in names:
        if not isinstance(getattr(piece, name), bool):
            raise CaseError(name, f"must be true or false, got {getattr(piece, name)!r}")


def _choice(piece: Any, name: str, allowed: tuple[str, ...]) -> None:
    value = getattr(piece, name)
    if value not in allowed:
        raise CaseError(name, f"must be {' or '.join(repr(a) for a in allowed)}, got {value!r}")


@dataclass(frozen=True)
class Optimiser:
    """Adam with exponential decay ``lr * rate^(step / decay_steps)``, then L-BFGS (``optax.lbfgs``) on one fixed batch."""

    steps: int = 5000
    lbfgs_steps: int = 0
    learning_rate: float = 1e-3
    decay_steps: int = 2000
    decay_rate: float = 0.9
    steps_per_call: int = 100  # steps per compiled call (pinns.loop): the fused loop pays dispatch once

    def __post_init__(self) -> None:
        _positive_int(self, "decay_steps", "steps_per_call")
        _positive_int(self, "steps", "lbfgs_steps", minimum=0)
        _number(self, "learning_rate", "decay_rate", positive=True)
        if self.steps + self.lbfgs_steps == 0:
            raise CaseError("steps", "steps + lbfgs_steps must be at least 1")


@dataclass(frozen=True)
class Sampling:
    """Points per step, redrawn every Adam step; L-BFGS keeps one fixed batch."""

    n_residual: int = 2048
    n_initial: int = 256
    n_boundary: int = 128
    n_residual_lbfgs: int = 0  # residual points of the fixed L-BFGS batch (0: n_residual)
    n_chunks: int = 16  # time strata of the residual points (the causal weights' chunks)
    # Data term: observations from an HDF5 file in physax's schema (e.g. a `phys run` output).
    data_file: str = ""
    n_data: int = 256

    def __post_init__(self) -> None:
        _positive_int(self, "n_residual", "n_initial", "n_boundary", "n_chunks", "n_data")
        _positive_int(self, "n_residual_lbfgs", minimum=0)
        if not isinstance(self.data_file, str):
            raise CaseError("data_file", f"must be a path, got {self.data_file!r}")
        if self.n_residual % self.n_chunks:
            raise CaseError("n_residual", f"must be a multiple of n_chunks = {self.n_chunks}, got {self.n_residual}")
        if self.n_residual_lbfgs % self.n_chunks:
            raise CaseError("n_residual_lbfgs", f"must be a multiple of n_chunks = {self.n_chunks}, got {self.n_residual_lbfgs}")


@dataclass(frozen=True)
class Weights:
    """Fixed loss weights, re-balanced by gradient norms every ``balance_every`` Adam steps (0: never)."""

    weight_initial: float = 1.0
    weight_residual: float = 1.0
    weight_boundary: float = 1.0
    weight_data: float = 1.0
    balance_every: int = 0
    balance_momentum: float = 0.9

    def __post_init__(self) -> None:
        _number(self, "weight_initial", "weight_residual", "weight_boundary", "weight_data")
        _positive_int(self, "balance_every", minimum=0)
        if not 0 <= self.balance_momentum < 1:
            raise CaseError("balance_momentum", f"must be in [0, 1), got {self.balance_momentum!r}")

    def of(self, name: str) -> float:
        """The initial weight of the term ``name``."""
        return getattr(self, f"weight_{name}")


@dataclass(frozen=True)
class Network:
    """The network (:func:`pinns.nets.make_network`)."""

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

    def __post_init__(self) -> None:
        _choice(self, "architecture", ("mlp", "modified_mlp"))
        _choice(self, "activation", ("tanh", "sin", "gelu"))
        _positive_int(self, "width", "depth", "n_modes")
        _positive_int(self, "fourier_features", minimum=0)
        _number(self, "fourier_scale", positive=True)
        _number(self, "factorize_sigma")
        _flag(self, "factorize")


@dataclass(frozen=True)
class Marching:
    """The model's transforms: ``windows`` time-marching windows (each ``steps + lbfgs_steps`` steps,
    from the last one's weights when ``warm_start`` and its prediction at the window's start), and the
    initial condition imposed exactly by an output transform (``hard_initial``, periodic cases); the
    boundary conditions of a wall-bounded flow as loss terms (``constraints = "soft"``) or built into the
    model from the geometry's distance functions (``"hard"``, :mod:`pinns.flow`)."""

    windows: int = 1
    warm_start: bool = True
    hard_initial: bool = False
    constraints: str = "soft"

    def __post_init__(self) -> None:
        _positive_int(self, "windows")
        _flag(self, "warm_start", "hard_initial")
        _choice(self, "constraints", ("soft", "hard"))


@dataclass(frozen=True)
class Run:
    """Bookkeeping: evaluation against the solver and checkpoints every so many steps, the seed."""

    eval_every: int = 500
    checkpoint_every: int = 1000
    seed: int | None = None  # None: the case's seed

    def __post_init__(self) -> None:
        _positive_int(self, "eval_every", "checkpoint_every")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            raise CaseError("seed", f"must be an integer or null, got {self.seed!r}")


@dataclass(frozen=True)
class Causal:
    """Causal weighting's schedule (:class:`pinns.reducers.CausalWeighting`): eps from ``causal_eps``,
    times ``causal_factor`` (up to ``causal_eps_max``) whenever every weight exceeds ``causal_delta``."""

    causal_eps: float = 1e-2
    causal_delta: float = 0.99
    causal_factor: float = 10.0
    causal_eps_max: float = 100.0

    def __post_init__(self) -> None:
        _number(self, "causal_eps")
        _number(self, "causal_factor", "causal_eps_max", positive=True)
        if not 0 < self.causal_delta < 1:
            raise CaseError("causal_delta", f"must be in (0, 1), got {self.causal_delta!r}")


@dataclass(frozen=True)
class Lagrangian:
    """The Lagrangian PINN (:mod:`pinns.lagrangian`): its two branches and the map back to the grid.

    The characteristics branch has its own depth and width (``position_width``,
    ``position_depth``; 0: the state branch's, from :class:`Network`).
    ``weight_characteristics`` weighs ``(dX/dt - a) / V`` against the state's
    residual (``V`` the largest transport speed at the initial condition).
    ``refine``: the prediction is evaluated on the case's grid in x0 refined
    this many times, then interpolated (linearly) to the Eulerian grid.
    """

    position_width: int = 0
    position_depth: int = 0
    weight_characteristics: float = 1.0
    refine: int = 4

    def __post_init__(self) -> None:
        _positive_int(self, "position_width", "position_depth", minimum=0)
        _positive_int(self, "refine")
        _number(self, "weight_characteristics")


# The general pieces, by TrainConfig field name.
_PIECES: dict[str, type] = {
    "optimiser": Optimiser, "sampling": Sampling, "weights": Weights, "network": Network,
    "marching": Marching, "run": Run,
}


def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a training run, one object per piece (see the module docstring).

    ``method`` names a method registered in the entry point group
    ``physax.methods`` (:mod:`pinns.methods`); ``method_settings`` is an instance
    of that method's settings class, or ``None`` for a method without one.
    Build one from flat names with :meth:`from_settings`.
    """

    method: str = "pinn"
    optimiser: Optimiser = Optimiser()
    sampling: Sampling = Sampling()
    weights: Weights = Weights()
    network: Network = Network()
    marching: Marching = Marching()
    run: Run = Run()
    method_settings: Any = None

    @classmethod
    def from_settings(cls, method: str = "pinn", **settings: Any) -> TrainConfig:
        """The config of ``method`` with its defaults, then ``settings`` by flat name."""
        from pinns.methods import method_spec

        spec = method_spec(method)
        base = cls(method=method, method_settings=spec.settings() if spec.settings is not None else None)
        return base.replace(**settings) if settings else base

    def keys(self) -> tuple[str, ...]:
        """The flat names of every setting of this config (its method's included)."""
        names = [name for cls in _PIECES.values() for name in _names(cls)]
        if self.method_settings is not None:
            names += _names(type(self.method_settings))
        return tuple(names)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with settings changed by flat name; an unknown name raises a one-line :class:`CaseError`."""
        unknown = sorted(set(changes) - set(self.keys()))
        if unknown:
            raise CaseError(unknown[0], f"unknown training setting for method '{self.method}'; allowed: {', '.join(self.keys())}")
        pieces: dict[str, Any] = {}
        for field, cls in _PIECES.items():
            mine = {k: v for k, v in changes.items() if k in _names(cls)}
            if mine:
                pieces[field] = dataclasses.replace(getattr(self, field), **mine)
        if self.method_settings is not None:
            mine = {k: v for k, v in changes.items() if k in _names(type(self.method_settings))}
            if mine:
                pieces["method_settings"] = dataclasses.replace(self.method_settings, **mine)
        return dataclasses.replace(self, **pieces)

    def flat(self) -> dict[str, Any]:
        """Every setting by its flat name."""
        out: dict[str, Any] = {}
        for field in _PIECES:
            out.update(dataclasses.asdict(getattr(self, field)))
        if self.method_settings is not None:
            out.update(dataclasses.asdict(self.method_settings))
        return out

    def to_dict(self) -> dict[str, Any]:
        """``{"method": ..., piece: {setting: value}}``: what metrics.json and checkpoints record."""
        out: dict[str, Any] = {"method": self.method}
        for field in _PIECES:
            out[field] = dataclasses.asdict(getattr(self, field))
        if self.method_settings is not None:
            out[type(self.method_settings).__name__.lower()] = dataclasses.asdict(self.method_settings)
        return out


# Per preset: settings for every case ("*"), per case (by name), then per (case, method).
# Each Eulerian case preset was measured with the methods' own cost; the Lagrangian ones
# were tuned on seed 100 (bench/bench_pinn_accuracy.py reports seeds 0, 1, 2).
# The convection family's budget, the same for every method: 4000 steps (10 windows x 400 Adam steps
# for the Eulerian methods; 3000 Adam + 1000 L-BFGS steps in one window for the Lagrangian one).
_MARCHING = dict(steps=400, windows=10, hard_initial=True, width=64, depth=4, n_residual=1024, n_chunks=16, decay_steps=200,
                 eval_every=400)
# Tuned on seed 100 of convection at beta = 50: lr 2e-3 diverged in the first 1000 steps (rel. L2 1.27), lr 1e-3
# gave 4.1e-2 after 1500 Adam steps and 6.1e-3 after 500 more L-BFGS steps.
_LAGRANGIAN = dict(steps=3000, lbfgs_steps=1000, windows=1, hard_initial=True, width=32, depth=3, n_residual=1024, n_initial=128,
                   n_chunks=16, learning_rate=1e-3, decay_steps=500, decay_rate=0.8, eval_every=1000, checkpoint_every=2000)
# Data-free Navier-Stokes (soft or hard boundary conditions alike), tuned on seed 100 of
# lid-driven-cavity-smooth with hard constraints: Adam alone crept (rel. L2 0.40 after 3000 steps,
# 0.23 after 8000, 266 s); 2000 Adam steps then 2000 L-BFGS steps on 4096 points gave 1.06e-2 in 271 s.
_FLOW = dict(steps=2000, lbfgs_steps=2000, width=64, depth=4, n_residual=2048, n_boundary=256, n_residual_lbfgs=4096,
             learning_rate=1e-3, decay_steps=1000, decay_rate=0.9, eval_every=1000)
PRESETS: dict[str, dict[Any, dict[str, Any]]] = {
    "cpu": {
        "*": {},
        **{name: _FLOW for name in ("lid-driven-cavity", "lid-driven-cavity-smooth", "lid-driven-cavity-start", "channel", "cylinder")},
        # Measured with `phys train burgers` (2 CPU cores, float32): rel. L2 0.119 after 6000 Adam
        # steps, 8.6e-3 after 2000 L-BFGS steps, 4.2e-3 after 3000; 118 s of training.
        "burgers": dict(
            steps=6000, lbfgs_steps=3000, width=32, depth=4, n_residual=2048, n_initial=256, n_boundary=128,
            n_residual_lbfgs=8192, learning_rate=2e-3, decay_steps=1000, decay_rate=0.7, weight_initial=10.0,
            weight_boundary=10.0, eval_every=1000,
        ),
        # Time marching over 10 windows with the IC imposed exactly (the previous window's
        # prediction, Fourier-interpolated): a small gated network per window, warm-started.
        "allen-cahn": dict(
            steps=3000, windows=10, hard_initial=True, width=64, depth=4, architecture="modified_mlp", n_modes=1,
            n_residual=1024, n_chunks=16, learning_rate=1e-3, decay_steps=1000, decay_rate=0.9, eval_every=1000,
        ),
        "convection": _MARCHING,
        "convection-diffusion": _MARCHING,
        "burgers-moving-front": _MARCHING,
        ("convection", "lagrangian"): _LAGRANGIAN,
        ("convection-diffusion", "lagrangian"): _LAGRANGIAN,
        ("burgers-moving-front", "lagrangian"): _LAGRANGIAN,
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


def check_hard_boundary(flow: bool) -> None:
    """Raise :class:`CaseError` unless the case is a wall-bounded flow, the one whose boundary a hard transform holds."""
    if not flow:
        raise CaseError("constraints", "hard boundary conditions are built for wall-bounded flows (walls, inflow-outflow, obstacles); "
                        "a periodic case takes hard_initial=true")


def check_windows(steady: bool, windows: int) -> None:
    """Raise :class:`CaseError` if a steady problem is asked to march in time: it has no time to cut into windows."""
    if steady and windows > 1:
        raise CaseError("windows", f"the case is steady (its solver stops at the steady state, solver.steady_tol > 0): "
                        f"there is no time to march through; drop windows={windows}")


def preset(name: str, case_name: str, method: str = "pinn") -> TrainConfig:
    """The preset ``name`` for the case named ``case_name`` and ``method``."""
    if name not in PRESETS:
        raise CaseError("preset", f"must be one of {', '.join(PRESETS)}, got {name!r}")
    table = PRESETS[name]
    settings = {**table["*"], **table.get(case_name, {}), **table.get((case_name, method), {})}
    return TrainConfig.from_settings(method, **settings)
