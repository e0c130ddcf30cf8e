"""The trajectories a ROM trains and is tested on: our own solver's ensemble, solved here or read from a file.

Sets: ``train`` (the model is fitted to their first ``n_train_steps`` saved
snapshots), ``interpolation`` and ``extrapolation`` (parameter values inside
and outside the training range, or unseen seeds), each over every saved
time. With ``config.sweep`` a set is the trajectories of its parameter values
(:class:`solvers.Ensemble` sweeps, one compiled solve for all three); with
none, ``train`` and ``interpolation`` are random starts of different seeds.

A file given by ``--data`` is an HDF5 ensemble of our schema of the same
case (``phys run CASE --sweep mu=...``: ``/scalars/<param>`` per trajectory);
its trajectories are assigned to the sets by their swept value, or in order
when nothing is swept. :func:`check_data_file` (h5py only, no JAX) rejects
another case's file before anything is computed or written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from phys.case import Case, CaseError
from rom.config import RomConfig

__all__ = ["RomData", "TrajectorySet", "check_data_file", "n_train_steps", "read_sets", "solve_sets"]

SET_NAMES = ("train", "interpolation", "extrapolation")


@dataclass(frozen=True)
class TrajectorySet:
    """``fields[b, t, f, *n]``: trajectory ``b`` of the set at saved time ``t``; ``params[b]``: its swept value(s)."""

    fields: np.ndarray
    params: np.ndarray  # [b, p], p = 1 with a sweep, else 0
    seeds: np.ndarray

    @property
    def size(self) -> int:
        return self.fields.shape[0]


@dataclass(frozen=True)
class RomData:
    sets: dict[str, TrajectorySet]
    times: np.ndarray
    coords: tuple[np.ndarray, ...]
    parameter: str  # the swept PDE parameter, '' for none
    n_train_steps: int


def n_train_steps(n_saves: int, fraction: float) -> int:
    """Saved snapshots trained on, from the first: ``floor(fraction n_saves)``, at least 2."""
    return max(2, min(n_saves, math.floor(fraction * n_saves + 1e-9)))


def _stack(case: Case, values: dict[str, np.ndarray]) -> np.ndarray:
    missing = [name for name in case.fields if name not in values]
    if missing:
        raise CaseError("data", f"the ensemble has no field '{missing[0]}'; it has {', '.join(values)}")
    return np.stack([np.asarray(values[name]) for name in case.fields], axis=2)


def solve_sets(case: Case, config: RomConfig) -> RomData:
    """Solve the three sets of ``config`` with the case's scheme (``solvers.solve_ensemble``)."""
    from solvers.ensemble import Ensemble
    from solvers.scheme import scheme_for
    from solvers.solve import solve_ensemble

    scheme = scheme_for(case)
    times, coords = scheme.time.save_times(), scheme.coords()
    sets: dict[str, TrajectorySet] = {}
    if config.sweep:
        groups = {"train": config.train_values, "interpolation": config.interpolation_values,
                  "extrapolation": config.extrapolation_values}
        values = tuple(v for group in groups.values() for v in group)
        out = _stack(case, solve_ensemble(case, Ensemble(sweep={config.sweep: values})))
        first = 0
        for name, group in groups.items():
            rows = slice(first, first + len(group))
            sets[name] = TrajectorySet(out[rows], np.asarray(group, np.float64)[:, None], np.full(len(group), case.seed))
            first += len(group)
    else:
        for name, seed_case, count in (("train", case, config.n_train_seeds),
                                       ("interpolation", case.with_updates({"seed": case.seed + 1}), config.n_test_seeds)):
            ensemble = Ensemble(batch=count)
            fields = _stack(case, solve_ensemble(seed_case, ensemble)) if count else _empty(case, times, coords)
            sets[name] = TrajectorySet(fields, np.zeros((count, 0)), ensemble.seeds(seed_case) if count else np.zeros(0, np.int64))
        sets["extrapolation"] = TrajectorySet(_empty(case, times, coords), np.zeros((0, 0)), np.zeros(0, np.int64))
    return RomData(sets, np.asarray(times), tuple(coords), config.sweep, n_train_steps(len(times), config.train_fraction))


def _empty(case: Case, times: np.ndarray, coords: tuple[np.ndarray, ...]) -> np.ndarray:
    return np.zeros((0, len(times), len(case.fields), *(len(c) for c in coords)), np.float32)


def check_data_file(case: Case, path: Path, config: RomConfig) -> None:
    """``CaseError`` (one line) unless ``path`` is a complete ensemble of ``case`` holding ``config.sweep`` per trajectory."""
    import h5py

    try:
        with h5py.File(path, "r") as file:
            attrs = dict(file.attrs)
            scalars = list(file["scalars"]) if "scalars" in file else []
    except OSError:
        raise CaseError("data", f"{path}: not an HDF5 file") from None
    digest = attrs.get("case_sha256")
    digest = digest.decode() if isinstance(digest, bytes) else digest
    if digest is None:
        raise CaseError("data", f"{path}: no case_sha256 attribute; give an ensemble written by phys run {case.name} --sweep ...")
    if str(digest) != case.sha256():
        stored = attrs.get("case_json")
        other = Case.from_json(stored.decode() if isinstance(stored, bytes) else stored).name if stored is not None else "?"
        raise CaseError(
            "data",
            f"{path} holds case '{other}' (sha256 {str(digest)[:12]}), not '{case.name}' (sha256 {case.sha256()[:12]}) "
            f"with these settings; write it with phys run {case.name} --sweep ...",
        )
    complete = attrs.get("complete", True)
    if not bool(complete):
        raise CaseError("data", f"{path}: incomplete file (an interrupted run); finish it with phys run ... --resume")
    if config.sweep and config.sweep not in scalars:
        raise CaseError("data", f"{path} has no /scalars/{config.sweep}; sweep it with phys run {case.name} --sweep {config.sweep}=...")


def _matching(values: np.ndarray, wanted: tuple[float, ...]) -> np.ndarray:
    # Values are float32 on disk.
    return np.asarray([any(math.isclose(float(v), w, rel_tol=1e-5, abs_tol=1e-12) for w in wanted) for v in values])


def read_sets(case: Case, config: RomConfig, path: Path) -> RomData:
    """The sets of ``config`` from the ensemble file ``path`` (checked by :func:`check_data_file`)."""
    from phys.io import read

    check_data_file(case, path, config)
    data = read(path)
    fields = _stack(case, data.values)
    seeds = np.asarray(data.scalars.get("seed", np.full(fields.shape[0], case.seed))).reshape(-1)
    times, coords = np.asarray(data.time), tuple(np.asarray(c) for c in data.coords.values())
    sets: dict[str, TrajectorySet] = {}
    if config.sweep:
        swept = np.broadcast_to(np.asarray(data.scalars[config.sweep], np.float64), (fields.shape[0],))
        for name, wanted in (("train", config.train_values), ("interpolation", config.interpolation_values),
                             ("extrapolation", config.extrapolation_values)):
            rows = _matching(swept, wanted)
            sets[name] = TrajectorySet(fields[rows], swept[rows][:, None], seeds[rows])
        if sets["train"].size < 2:
            raise CaseError("train_values", f"{path}: fewer than two trajectories with {config.sweep} in {list(config.train_values)}")
    else:
        count = fields.shape[0]
        n_train = config.n_train_seeds or count - max(1, count // 3)
        n_test = config.n_test_seeds or count - n_train
        if n_train < 1 or n_train + n_test > count:
            raise CaseError("n_train_seeds", f"{path} holds {count} trajectories, not {n_train} to train and {n_test} to test")
        for name, rows in (("train", slice(0, n_train)), ("interpolation", slice(n_train, n_train + n_test)), ("extrapolation", slice(0, 0))):
            sets[name] = TrajectorySet(fields[rows], np.zeros((len(range(count)[rows]), 0)), seeds[rows])
    return RomData(sets, times, coords, config.sweep, n_train_steps(len(times), config.train_fraction))
