"""(Not named the_well.py: a script of that name would shadow the package it imports.)

Load `phys export --well` datasets with the real `the-well` package and compare every value with h5py's.

Run it with a Python that has the-well and a CPU torch, apart from the project's venv (docs/readers.md)::

    python3 -m venv /tmp/venv-well
    /tmp/venv-well/bin/pip install /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl
    /tmp/venv-well/bin/pip install the-well==1.2.0      # torch is already there: no CUDA build pulled
    /tmp/venv-well/bin/python checks/the_well_check.py [--phys .venv/bin/phys] [--out DIR]

It solves small cases with ``phys run`` (1D, 2D with a vector field, walls, an ensemble, three
single-trajectory files, an ODE), exports each with ``phys export --well``, and loads every split
with ``the_well.data.WellDataset`` in full-trajectory mode: raw, with ``ZScoreNormalization`` and
``RMSNormalization`` (against stats.yaml), and with ``use_normalization=True`` alone. It also
checks the grid, the boundary-condition codes and the calls that fail. One table row per check;
exit 1 if a value differs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

import h5py
import numpy as np
import torch
import yaml
from the_well.data import WellDataset
from the_well.data.normalization import RMSNormalization, ZScoreNormalization

# name: ([phys run arguments per input file], export --split or None)
DATASETS: dict[str, tuple[list[list[str]], str | None]] = {
    "ks": ([["ks", "--set", "t_end=5"]], "train=1"),
    "ks_ensemble": ([["ks-random", "--batch", "5", "--set", "t_end=2"]], "train=0.6,valid=0.2,test=0.2"),
    "ks_files": ([["ks-random", "--seed", str(seed), "--set", "t_end=2"] for seed in (1, 2, 3)],
                 "train=0.34,valid=0.33,test=0.33"),
    "ns": ([["ns-decaying", "--set", "t_end=1", "--set", "n=[32,24]"]], "train=1"),
    "cavity": ([["lid-driven-cavity", "--set", "t_end=2", "--set", "n=[16,12]"]], "train=1"),
    "lorenz": ([["lorenz", "--set", "t_end=1"]], "train=1"),
}
MIN_STD = 1e-4  # the-well's min_denom: standard deviations are clipped to it


def _channels(path: Path) -> tuple[list[np.ndarray], list[tuple[str, int]]]:
    """Per trajectory ``[T, *n, C]`` as WellDataset flattens fields (t0, t1, t2; components C-ordered), and field names."""
    with h5py.File(path) as file:
        n_trajectories = int(file.attrs["n_trajectories"])
        columns: list[list[np.ndarray]] = [[] for _ in range(n_trajectories)]
        fields: list[tuple[str, int]] = []
        for order, group in enumerate(("t0_fields", "t1_fields", "t2_fields")):
            for name in file[group].attrs["field_names"]:
                values = file[group][name][()]
                fields.append((str(name), order))
                for b in range(n_trajectories):
                    columns[b].append(values[b].reshape(*values.shape[1 : values.ndim - order], -1))
    return [np.concatenate(c, axis=-1) for c in columns], fields


def _normalizer(stats: dict[str, Any], fields: list[tuple[str, int]], kind: str) -> Callable[[np.ndarray], np.ndarray]:
    """What the-well's ZScore / RMS normalization should give, from stats.yaml, per channel."""
    def flat(statistic: str) -> np.ndarray:
        return np.concatenate([np.ravel(stats[statistic][name]) for name, _ in fields])

    if kind == "zscore":
        mean, scale = flat("mean"), np.maximum(flat("std"), MIN_STD)
        return lambda x: (x - mean) / scale
    rms = np.maximum(flat("rms"), MIN_STD)
    return lambda x: x / rms


def _load(root: Path, split: str, **kwargs: Any) -> WellDataset:
    return WellDataset(path=str(root), well_split_name=split, n_steps_input=1, full_trajectory_mode=True,
                       max_rollout_steps=10**6, **kwargs)


def _compare(dataset: WellDataset, expected: list[np.ndarray], transform: Callable[[np.ndarray], np.ndarray],
             exact: bool) -> str:
    if len(dataset) != len(expected):
        return f"FAIL: {len(dataset)} samples, expected {len(expected)} trajectories"
    worst = 0.0
    for index, want in enumerate(expected):
        sample = dataset[index]
        got = torch.cat([sample["input_fields"], sample["output_fields"]]).numpy()
        want = transform(want.astype(np.float64))
        if got.shape != want.shape:
            return f"FAIL: trajectory {index}: shape {got.shape}, expected {want.shape}"
        if exact and not np.array_equal(got, want):
            return f"FAIL: trajectory {index}: values differ from h5py's"
        worst = max(worst, float(np.max(np.abs(got - want) / (1 + np.abs(want)))))
    if worst > 1e-5:
        return f"FAIL: values differ by up to {worst:.1e} (relative)"
    detail = "equal to h5py's" if exact else f"match, max rel. difference {worst:.1e}"
    return f"ok: {len(expected)} trajectories x {expected[0].shape} values {detail}"


def _windows(root: Path, split: str, expected: list[np.ndarray], grid: dict[str, bool]) -> str:
    """WellDataset's default samples: every (trajectory, t) gives input t and output t + 1."""
    dataset = WellDataset(path=str(root), well_split_name=split, **grid)
    windows = [(b, t) for b, values in enumerate(expected) for t in range(len(values) - 1)]
    if len(dataset) != len(windows):
        return f"FAIL: {len(dataset)} samples, expected {len(windows)}"
    for index, (b, t) in enumerate(windows):
        sample = dataset[index]
        if not (np.array_equal(sample["input_fields"].numpy(), expected[b][t : t + 1])
                and np.array_equal(sample["output_fields"].numpy(), expected[b][t + 1 : t + 2])):
            return f"FAIL: sample {index} (trajectory {b}, t {t}) differs from h5py's"
    return f"ok: {len(windows)} samples, each input and output equal to h5py's"


def _attempt(call: Callable[[], Any]) -> str:
    try:
        call()
    except Exception as error:  # the point is to record what the-well raises
        return f"{type(error).__name__}: {str(error).splitlines()[0][:110]}"
    return "loads"


def _check(name: str, root: Path, rows: list[tuple[str, str, str]]) -> None:
    stats = yaml.safe_load((root / "stats.yaml").read_text())
    with h5py.File(sorted((root / "data" / "train").glob("*.h5"))[0]) as file:
        axes = [str(a) for a in file["dimensions"].attrs["spatial_dims"]]
        coords = [file["dimensions"][a][()] for a in axes]
        bc_types = sorted({str(file["boundary_conditions"][g].attrs["bc_type"]) for g in file["boundary_conditions"]})
    grid = {"return_grid": bool(axes)}
    for split in ("train", "valid", "test"):
        paths = sorted((root / "data" / split).glob("*.h5"))
        if not paths:
            rows.append((name, f"{split}: WellDataset(path=...)", f"empty split: {_attempt(lambda: _load(root, split))}"))
            continue
        expected, fields = [], []
        for path in paths:
            trajectories, fields = _channels(path)
            expected += trajectories
        label = f"{split} ({len(paths)} files)"
        rows.append((name, f"{label}: raw", _compare(_load(root, split, **grid), expected, lambda x: x, True)))
        for kind, normalization in (("zscore", ZScoreNormalization), ("rms", RMSNormalization)):
            dataset = _load(root, split, use_normalization=True, normalization_type=normalization, **grid)
            rows.append((name, f"{label}: {normalization.__name__}",
                         _compare(dataset, expected, _normalizer(stats, fields, kind), False)))
        rows.append((name, f"{label}: default windows (1 in, 1 out)", _windows(root, split, expected, grid)))
        alone = _compare(_load(root, split, use_normalization=True, **grid), expected, lambda x: x, True)
        rows.append((name, f"{label}: use_normalization=True alone", alone.replace("ok:", "raw values, not normalized:")))
    if axes:
        sample = _load(root, "train")[0]
        mesh = np.stack(np.meshgrid(*coords, indexing="ij"), -1)
        same = np.array_equal(sample["space_grid"].numpy(), mesh)
        codes = sample["boundary_conditions"].tolist()
        rows.append((name, "space_grid, boundary_conditions",
                     f"{'ok' if same else 'FAIL'}: grid {'equals' if same else 'differs from'} the file's coordinates; "
                     f"bc_type {bc_types} -> codes {codes}"))
    else:
        rows.append((name, "train: return_grid=True (default)", _attempt(lambda: _load(root, "train")[0])))
    rows.append((name, "WellDataset(well_base_path=ROOT, well_dataset_name=NAME)",
                 _attempt(lambda: WellDataset(well_base_path=str(root.parent), well_dataset_name=name,
                                              well_split_name="train"))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phys", default=str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "phys"))
    parser.add_argument("--out", type=Path, help="folder for runs and datasets (default: a new temporary one)")
    args = parser.parse_args()
    out = (args.out or Path(tempfile.mkdtemp(prefix="the_well_"))).resolve()
    (out / "runs").mkdir(parents=True, exist_ok=True)
    from importlib.metadata import version

    print(f"the-well {version('the_well')}, torch {torch.__version__}; runs in {out}\n")
    rows: list[tuple[str, str, str]] = []
    for name, (runs, split) in DATASETS.items():
        files = []
        for index, run in enumerate(runs):
            files.append(str(out / "runs" / f"{name}_{index}.h5"))
            subprocess.run([args.phys, "run", *run, "--out", files[-1]], check=True, capture_output=True)
        export = [args.phys, "export", *files, "--well", str(out / "well"), "--name", name]
        done = subprocess.run(export + (["--split", split] if split else []), check=True, capture_output=True, text=True)
        rows.append((name, "phys export --well" + (f" --split {split}" if split else ""), done.stdout.strip().replace("\n", "; ")))
        _check(name, out / "well" / name, rows)
    print("| dataset | load | result |\n| --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(cell.replace("|", "/") for cell in row) + " |")
    return 1 if any(result.startswith("FAIL") for _, _, result in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
