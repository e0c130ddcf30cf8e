"""The back-end of ``phys rom`` (the ``physax.rom`` entry point ``rom``).

Importing this module does not import JAX: ``phys rom`` first calls
:func:`configure` (settings, the sets to vary and any ``--data`` file checked,
one-line errors), then :func:`run`, which writes, in ``DIR``:

- ``model.eqx``: the trained decoder and Psi (equinox serialisation; the
  config in ``metrics.json`` rebuilds its skeleton with :func:`rom.run.build`);
- ``prediction.h5``: the ROM's forecast of every test trajectory
  (interpolation, then extrapolation) on the solver's grid and saved times, our
  schema, ``/scalars/<param>`` per trajectory;
- ``metrics.json``: ``method``, ``wall_s``, ``case_sha256``, per set
  ``{"in_horizon": ..., "beyond": ...}`` normalised L2 errors, the config,
  seconds per epoch and the loss history;
- ``rom.png``: error against time per set, forecast beside the solver.

Every file is written to a temporary name and renamed when complete.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from phys.case import Case
from rom.config import METHODS, SETTINGS, RomConfig, build_config

__all__ = ["METHODS", "SETTINGS", "configure", "run"]


def configure(case: Case, *, method: str, settings: dict[str, Any], data: Path | None) -> RomConfig:
    """The run's config; ``CaseError`` naming the setting, the sets or the data file when one does not fit."""
    config = build_config(case, method, settings, data_file=data is not None)
    if data is not None:
        from rom.data import check_data_file

        check_data_file(case, data, config)
    return config


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.replace(path)


def run(case: Case, config: RomConfig, data: Path | None, out: Path) -> dict[str, Any]:
    """Train, forecast and write ``out/{model.eqx, prediction.h5, metrics.json, rom.png}``; returns the metrics."""
    import time

    import jax

    if case.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    import equinox as eqx
    import numpy as np

    from phys.io import TrajectoryWriter
    from rom.data import read_sets, solve_sets
    from rom.plot import plot_rom
    from rom.run import train_and_evaluate

    start = time.perf_counter()
    rom_data = read_sets(case, config, data) if data is not None else solve_sets(case, config)
    result = train_and_evaluate(case, config, rom_data)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "model.eqx.tmp"
    eqx.tree_serialise_leaves(tmp, result.model)
    tmp.replace(out / "model.eqx")

    tests = [name for name in ("interpolation", "extrapolation") if rom_data.sets[name].size]
    forecast = np.concatenate([result.predictions[name] for name in tests]) if tests else np.zeros((0,))
    if forecast.shape[0]:
        scalars: dict[str, Any] = {k: np.asarray(v, np.float64) for k, v in case.pde.params.items()}
        if rom_data.parameter:
            scalars[rom_data.parameter] = np.concatenate([rom_data.sets[n].params[:, 0] for n in tests])
        writer = TrajectoryWriter.create(
            out / "prediction.h5", case, tensor_order={name: 0 for name in case.fields}, n_trajectories=forecast.shape[0],
            times=rom_data.times, coords=rom_data.coords, scalars=scalars,
            seeds=np.concatenate([rom_data.sets[n].seeds for n in tests]).astype(np.int64),
        )
        writer.append({name: forecast[:, :, i] for i, name in enumerate(case.fields)})
        writer.finalize()

    wall = time.perf_counter() - start
    metrics: dict[str, Any] = {
        "method": config.method,
        "case": case.name,
        "case_sha256": case.sha256(),
        "wall_s": wall,
        "device": jax.devices()[0].device_kind,
        "epochs": config.epochs,
        "seconds_per_epoch": result.result.epoch_s,
        "compile_s": result.result.compile_s,
        "train_wall_s": result.result.wall_s,
        "n_train_steps": rom_data.n_train_steps,
        "prediction_sets": {name: rom_data.sets[name].size for name in tests},
        **result.errors,
        "initial_misfit": {name: [float(v) for v in m] for name, m in result.misfits.items()},
        "config": config.to_json(),
        "history": result.result.history,
    }
    _write_json(out / "metrics.json", metrics)
    shown = tests[-1] if tests else "train"
    trajectories = rom_data.sets[shown]
    horizon = float(rom_data.times[min(rom_data.n_train_steps, len(rom_data.times) - 1)])
    label = f"{shown} trajectory" + (f", {rom_data.parameter} = {trajectories.params[-1, 0]:.4g}" if rom_data.parameter else "")
    plot_rom(out / "rom.png", config.method, result.curves, rom_data.times, horizon,
             result.predictions[shown][-1], trajectories.fields[-1], rom_data.coords, label)
    return metrics
