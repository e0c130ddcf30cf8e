"""The PINN back-end of ``phys train`` (registered as the ``physax.trainers`` entry point ``pinn``).

Importing this module does not import JAX: ``phys train`` first calls
:func:`configure` (settings validated, one-line errors), then :func:`run`.

Outputs in ``DIR``: ``model.eqx`` (the trained network, equinox
serialisation; ``metrics.json`` holds the config that rebuilds its skeleton),
``prediction.h5`` (the network on the solver's grid and saved times, our HDF5
schema, fields named as the solver names them), ``metrics.json`` (``rel_l2``
against the solver's solution over all saved times, ``steps``, ``wall_s``,
``method``, ``case_sha256``, the config and the history) and ``training.png``.
Checkpoints go to ``DIR/checkpoint.eqx``; ``--resume`` continues from them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from phys.case import Case, CaseError
from phys.boundary import is_flow, is_steady
from pinns.config import PRESETS, TrainConfig, check_hard_boundary, check_windows, preset
from pinns.methods import method_spec, registered

__all__ = ["PRESETS", "settings", "methods", "check_supported", "configure", "run"]


def methods() -> dict[str, str]:
    """The registered methods (entry point group ``physax.methods``) and their one-line summaries."""
    return {name: spec.summary for name, spec in sorted(registered().items())}


def settings(method: str) -> tuple[str, ...]:
    """The training settings ``--set`` accepts with ``method``, by name (the rest of ``--set`` goes to the case)."""
    return TrainConfig.from_settings(method).keys()

# What pinns.train handles now: space-time PDEs of the form u_t = L u + N(u)
# whose fluxes are pointwise, with these boundary kinds.
_BOUNDARY_KINDS = ("periodic", "dirichlet", "neumann", "wall", "inflow-outflow")
_UNSUPPORTED_PDES = {
    "navier-stokes-2d": "its vorticity form needs an inverse Laplacian, which autodiff at points cannot give",
}


def check_supported(case: Case) -> None:
    """Raise :class:`CaseError` naming the field if the PINN trainer cannot train ``case``."""
    if case.pde.name in _UNSUPPORTED_PDES:
        raise CaseError("pde.name", f"PINN training of '{case.pde.name}' is not supported: {_UNSUPPORTED_PDES[case.pde.name]}")
    if case.n_dims == 0:
        raise CaseError("pde.name", f"'{case.pde.name}' has no space axis; PINN training needs a PDE in space and time")
    for axis, bc in enumerate(case.bcs):
        if bc.kind not in _BOUNDARY_KINDS:
            raise CaseError(f"bcs[{axis}].kind", f"PINN training supports {', '.join(_BOUNDARY_KINDS)}, got '{bc.kind}'")


def configure(case: Case, *, method: str, preset_name: str, steps: int | None, settings: dict[str, Any]) -> TrainConfig:
    """The run's config: the preset for ``case``, then ``steps`` and ``settings``; raises :class:`CaseError`."""
    spec = method_spec(method)
    check_supported(case)
    config = preset(preset_name, case.name, method)
    changes = dict(settings)
    if steps is not None:
        changes["steps"] = steps
    config = config.replace(**changes) if changes else config
    if config.sampling.data_file and not Path(config.sampling.data_file).is_file():
        raise CaseError("data_file", f"no such file: {config.sampling.data_file}")
    if config.marching.constraints == "hard":
        check_hard_boundary(is_flow(case))  # here too, so the error comes before the reference solve
    check_windows(is_steady(case), config.marching.windows)
    if config.marching.hard_initial and any(bc.kind != "periodic" for bc in case.bcs):
        # Checked here too, so the error comes before the reference solve.
        raise CaseError("hard_initial", "needs every space axis periodic (the IC is imposed through its Fourier interpolant)")
    spec.check(case, config)
    return config


def run(case: Case, config: TrainConfig, out: Path, *, resume: bool = False, init_from: Path | None = None) -> dict[str, Any]:
    """Train, then write ``out/{model.eqx, prediction.h5, metrics.json, training.png}``; returns the metrics."""
    import jax

    if case.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    import equinox as eqx
    import numpy as np

    from phys.io import TrajectoryWriter
    from pinns.plot import plot_training
    from pinns.checkpoint import CheckpointError
    from pinns.metrics import named_outputs, training_reference
    from pinns.train import train
    from solvers.solve import solve

    initial = None
    if init_from is not None:
        from pinns.train import load_model

        try:  # before the solve and before anything is written
            initial = load_model(case, config, init_from / "model.eqx")
        except CheckpointError as error:
            raise CaseError("init_from", str(error)) from None
    out.mkdir(parents=True, exist_ok=True)
    reference = solve(case)
    try:
        result = train(case, config, reference=reference, checkpoint_dir=out, resume=resume, initial=initial)
    except CheckpointError as error:
        raise CaseError("resume", str(error)) from None
    eqx.tree_serialise_leaves(out / "model.eqx", result.model)

    assert result.prediction is not None and result.times is not None
    pde = case.pde.build(case.dtype)
    columns = tuple(case.fields) + tuple(type(pde).auxiliary_fields)[: result.prediction.shape[-1] - len(case.fields)]
    arrays = named_outputs(pde, columns, result.prediction)
    writer = TrajectoryWriter.create(
        out / "prediction.h5",
        case,
        tensor_order={name: int(value.ndim == result.prediction.ndim) for name, value in arrays.items()},
        n_trajectories=1,
        times=result.times,
        coords=tuple(reference.coords.values()),
    )
    writer.append({name: value[None] for name, value in arrays.items()})
    writer.finalize()

    metrics = {
        "rel_l2": result.rel_l2,
        "steps": result.steps,
        "wall_s": result.wall_s,
        "method": config.method,
        "case": case.name,
        "case_sha256": case.sha256(),
        "device": jax.devices()[0].device_kind,
        "config": config.to_dict(),
        "history": result.history,
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    scored = training_reference(reference, pde, columns, steady=len(result.times) < len(reference.time))
    reference_values = np.stack([scored[name][0] for name in case.fields], axis=-1)
    plot_training(out / "training.png", result.history, result.prediction[..., : len(case.fields)], reference_values, scored, case.fields[0])
    return metrics
