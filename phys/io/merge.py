"""Join the files of one ensemble (per-process ranks, per-job shards) into one file.

An ensemble run records, on each file's root, which trajectories of the whole
ensemble the file holds (``ensemble_index``, one global index per stored
trajectory, and ``ensemble_size``). :func:`merge` orders the trajectories by
that index, refuses overlaps and gaps, and writes a file in the same schema
as a single run of the whole ensemble.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import h5py
import numpy as np

from phys.case import Case
from phys.fields import Fields
from phys.io._schema import SEED_DATASET, field_datasets, flag, names, open_h5, to_python, written_steps

__all__ = ["merge", "read_ensemble", "ENSEMBLE_INDEX", "ENSEMBLE_SIZE", "write_ensemble_attrs"]

# Root attributes of an ensemble file (not in The Well's schema; its readers ignore them).
ENSEMBLE_INDEX = "ensemble_index"
ENSEMBLE_SIZE = "ensemble_size"

# Host memory for one merged block of snapshots (all trajectories, k times).
_BLOCK_BYTES = 256 * 2**20


def write_ensemble_attrs(path: str | Path, index: np.ndarray, size: int) -> None:
    """Record which of the ``size`` trajectories of the ensemble the file at ``path`` holds."""
    with open_h5(path, "a") as file:
        file.attrs[ENSEMBLE_INDEX] = np.asarray(index, dtype=np.int64)
        file.attrs[ENSEMBLE_SIZE] = int(size)


class _Part:
    """One input file: its global trajectory indices and handles to read it."""

    def __init__(self, path: Path, offset: int):
        self.path = path
        with open_h5(path) as file:
            attrs = file.attrs
            if not flag(attrs, "complete", True):
                raise ValueError(f"{path}: incomplete file ({written_steps(file)} snapshots written); finish it with --resume first")
            if "case_json" not in attrs:
                raise ValueError(f"{path}: not written by physax (no case_json attribute)")
            self.case_sha256 = to_python(attrs["case_sha256"])
            self.case_json = to_python(attrs["case_json"])
            self.n_trajectories = int(attrs["n_trajectories"])
            if ENSEMBLE_INDEX in attrs:
                self.index = np.asarray(attrs[ENSEMBLE_INDEX], dtype=np.int64).reshape(-1)
                self.size: int | None = int(attrs[ENSEMBLE_SIZE])
            else:  # a plain run: its trajectories follow the previous files'
                self.index = offset + np.arange(self.n_trajectories, dtype=np.int64)
                self.size = None
            self.times = file["dimensions/time"][()]
            self.axes = names(file["dimensions"].attrs, "spatial_dims")
            self.coords = tuple(file["dimensions"][axis][()] for axis in self.axes)
            self.fields = {name: (order, dataset.shape[2:]) for name, (order, dataset) in field_datasets(file).items()}
            group = file["scalars"]
            self.scalar_names = names(group.attrs, "field_names")
            self.scalars = {name: np.asarray(group[name][()], dtype=np.float64) for name in self.scalar_names}
            self.seeds = np.asarray(group[SEED_DATASET][()], dtype=np.int64)


def _check_compatible(first: _Part, other: _Part) -> None:
    if other.case_sha256 != first.case_sha256:
        import json

        from phys.errors import describe_differences

        what = describe_differences(json.loads(first.case_json), json.loads(other.case_json), f"in {first.path}", f"in {other.path}")
        raise ValueError(f"{other.path} holds another case than {first.path} ({what}): not one ensemble")
    if other.fields != first.fields or not np.array_equal(other.times, first.times):
        raise ValueError(f"{other.path}: its fields or times differ from {first.path}'s")
    if other.size != first.size or other.scalar_names != first.scalar_names:
        raise ValueError(f"{other.path}: its ensemble size or scalars differ from {first.path}'s")


def _joined_scalar(parts: list[_Part], name: str) -> np.ndarray:
    """One value if every file has the same constant, else one value per trajectory."""
    values = [part.scalars[name] for part in parts]
    if all(v.ndim == 0 for v in values) and all(v == values[0] for v in values):
        return values[0]
    return np.concatenate([np.broadcast_to(v, (part.n_trajectories,)) for v, part in zip(values, parts)])


def _order(parts: list[_Part]) -> np.ndarray:
    """The permutation that sorts the files' trajectories by ensemble index; checks overlaps and gaps."""
    index = np.concatenate([part.index for part in parts])
    unique, counts = np.unique(index, return_counts=True)
    if np.any(counts > 1):
        raise ValueError(f"merge: trajectory {int(unique[counts > 1][0])} is in more than one input file")
    size = parts[0].size
    if size is not None and len(index) != size:
        missing = np.setdiff1d(np.arange(size), index)
        raise ValueError(
            f"merge: the files hold {len(index)} of the ensemble's {size} trajectories; "
            f"missing {', '.join(map(str, missing[:8]))}{' ...' if len(missing) > 8 else ''}"
        )
    return np.argsort(index, kind="stable")


def _checked_parts(paths: Sequence[str | Path], caller: str) -> tuple[list[_Part], np.ndarray]:
    """The input files, checked against each other, and the order that puts their trajectories in ensemble order."""
    if not paths:
        raise ValueError(f"{caller}: name at least one input file")
    parts: list[_Part] = []
    for path in map(Path, paths):
        parts.append(_Part(path, sum(part.n_trajectories for part in parts)))
    for part in parts[1:]:
        _check_compatible(parts[0], part)
    return parts, _order(parts)


def merge(paths: Sequence[str | Path], out: str | Path) -> Path:
    """Write the trajectories of ``paths`` to ``out``, ordered by their ensemble index.

    Every input must be complete and of the same case. Ensemble files must
    together hold each trajectory of their ensemble exactly once; files of
    plain runs are joined in the order given. Raises ``ValueError`` naming the
    offending file otherwise.
    """
    from phys.io.hdf5 import TrajectoryWriter

    parts, order = _checked_parts(paths, "merge")
    index = np.concatenate([part.index for part in parts])
    size = parts[0].size
    case = Case.from_json(parts[0].case_json)
    scalars = {name: _joined_scalar(parts, name) for name in parts[0].scalar_names}
    scalars = {name: (v if v.ndim == 0 else v[order]) for name, v in scalars.items()}
    seeds = np.concatenate([part.seeds for part in parts])[order]
    writer = TrajectoryWriter.create(
        out,
        case,
        tensor_order={name: order_ for name, (order_, _) in parts[0].fields.items()},
        n_trajectories=len(index),
        times=parts[0].times,
        coords=parts[0].coords,
        scalars=scalars,
        seeds=seeds,
    )
    write_ensemble_attrs(writer.tmp_path, index[order], size if size is not None else len(index))
    snapshot_bytes = 4 * sum(int(np.prod(shape)) for _, shape in parts[0].fields.values())
    block = max(1, _BLOCK_BYTES // max(1, snapshot_bytes * len(index)))
    files = [h5py.File(part.path, "r") for part in parts]
    try:
        datasets = [{name: dataset for name, (_, dataset) in field_datasets(file).items()} for file in files]
        while writer.n_written < writer.n_times:
            start, stop = writer.n_written, min(writer.n_written + block, writer.n_times)
            writer.append(
                {name: np.concatenate([d[name][:, start:stop] for d in datasets])[order] for name in parts[0].fields}
            )
    finally:
        for file in files:
            file.close()
    return writer.finalize()


def read_ensemble(paths: Sequence[str | Path]) -> Fields:
    """The trajectories of a set of rank/shard files, in ensemble order, without merging them on disk.

    The same checks as :func:`merge`; every trajectory is read into memory.
    """
    from phys.io.hdf5 import read

    parts, order = _checked_parts(paths, "read_ensemble")
    pieces = [read(part.path) for part in parts]
    first = pieces[0]
    scalars = {name: _joined_scalar(parts, name) for name in parts[0].scalar_names}
    scalars = {name: (v if v.ndim == 0 else v[order]) for name, v in scalars.items()}
    scalars[SEED_DATASET] = np.concatenate([part.seeds for part in parts])[order]
    return Fields(
        time=first.time,
        coords=first.coords,
        values={name: np.concatenate([p.values[name] for p in pieces])[order] for name in first.values},
        tensor_order=first.tensor_order,
        case=first.case,
        scalars=scalars,
        attrs=first.attrs,
    )
