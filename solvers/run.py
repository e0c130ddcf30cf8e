"""The solver back-end of ``phys run`` (registered as the ``physax.runners`` entry point)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from phys.case import Case

__all__ = ["run_from_cli", "run_ensemble_from_cli", "output_path"]


def run_from_cli(
    case: Case,
    *,
    out: Path,
    resume: bool = False,
    plot: Path | None = None,
    xdmf: bool = False,
    saves_per_block: int | None = None,
    ensemble: dict[str, Any] | None = None,
) -> Path:
    """Solve ``case`` to ``out`` with a progress bar (shown on a terminal only), then plot.

    ``ensemble`` (from ``--batch``, ``--sweep``, ``--chunk``, ``--shard``,
    ``--distributed``) makes it an ensemble run: see :func:`run_ensemble_from_cli`.
    """
    import jax
    from tqdm import tqdm

    # 64-bit mode is process-wide in JAX: the command line owns the process,
    # so it may switch it on; library calls leave it to the user.
    if case.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    if ensemble is not None:
        return run_ensemble_from_cli(case, out=out, resume=resume, plot=plot, xdmf=xdmf,
                                     saves_per_block=saves_per_block, **ensemble)

    from phys.io import plot_file, write_xdmf
    from solvers.solve import run_case

    with tqdm(desc=case.name, unit="snapshot", disable=None, leave=False) as bar:
        path = run_case(case, out, resume=resume, saves_per_block=saves_per_block, on_block=_progress(bar, case.name))
    if xdmf:
        write_xdmf(path)
    if plot is not None:
        plot_file(path, plot)
    return path


def _progress(bar: Any, name: str) -> Callable[[int, int], None]:
    """The driver's ``on_block`` for a tqdm bar: "compiling" until the first block is in, then rate and ETA.

    The first block's time includes compiling the loop, so the rate is
    measured from its end: the first ETA is the run's, not the compiler's
    (and none is shown until a second block is in). The bar moves once per
    block; :func:`solvers.driver.default_saves_per_block` sizes blocks to a
    few seconds on a CPU.
    """
    calls = [0]

    def on_block(written: int, total: int) -> None:
        calls[0] += 1
        if bar.disable:  # not a terminal: no bar to draw
            return
        bar.total = total
        if calls[0] <= 2:
            bar.set_description(f"{name} (compiling)" if calls[0] == 1 else name, refresh=False)
            # tqdm's rate is (n - initial) / (now - start_t), on its own clock.
            bar.start_t = bar._time()
            bar.initial = written
            bar.last_print_n = written
        bar.n = written
        bar.refresh()

    return on_block


def output_path(out: Path, shard: tuple[int, int] | None, rank: int | None) -> Path:
    """``run.h5`` -> ``run.shard3.h5`` (``--shard 3/N``) -> ``run.shard3.rank0.h5`` (``--distributed``)."""
    suffix = (f".shard{shard[0]}" if shard is not None else "") + (f".rank{rank}" if rank is not None else "")
    return out.with_name(out.stem + suffix + out.suffix)


def run_ensemble_from_cli(
    case: Case,
    *,
    out: Path,
    resume: bool = False,
    plot: Path | None = None,
    xdmf: bool = False,
    saves_per_block: int | None = None,
    batch: int | None = None,
    sweep: dict[str, tuple[float, ...]] | None = None,
    chunk: int | None = None,
    shard: tuple[int, int] | None = None,
    distributed: dict[str, Any] | None = None,
) -> Path:
    """``phys run CASE --batch/--sweep/--chunk/--shard/--distributed``: this process's file."""
    import jax
    from tqdm import tqdm

    rank = None
    if distributed is not None:
        # CPU processes need a collectives implementation to share the bad-step
        # vector; GPUs and TPUs ignore this setting.
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize(**{k: v for k, v in distributed.items() if v is not None})
        rank = jax.process_index()

    from phys.io import plot_file, write_xdmf
    from solvers.ensemble import Ensemble
    from solvers.solve import run_ensemble

    target = output_path(out, shard, rank)
    with tqdm(desc=case.name, unit="snapshot", disable=None, leave=False) as bar:
        path = run_ensemble(case, Ensemble(batch=batch, sweep=sweep or {}), target, resume=resume, chunk=chunk,
                            shard=shard, saves_per_block=saves_per_block, on_block=_progress(bar, case.name))
    if xdmf:
        write_xdmf(path)
    if plot is not None and rank in (None, 0):  # one picture, not one per process
        plot_file(path, plot)
    return path
