"""The solver back-end of ``phys run`` (registered as the ``physax.runners`` entry point)."""

from __future__ import annotations

from pathlib import Path

from phys.case import Case

__all__ = ["run_from_cli"]


def run_from_cli(
    case: Case,
    *,
    out: Path,
    resume: bool = False,
    plot: Path | None = None,
    xdmf: bool = False,
    saves_per_block: int | None = None,
) -> Path:
    """Solve ``case`` to ``out`` with a progress bar (shown on a terminal only), then plot."""
    import jax
    from tqdm import tqdm

    # 64-bit mode is process-wide in JAX: the command line owns the process,
    # so it may switch it on; library calls leave it to the user.
    if case.dtype == "float64":
        jax.config.update("jax_enable_x64", True)

    from phys.io import plot_file, write_xdmf
    from solvers.solve import run_case

    with tqdm(desc=case.name, unit="snapshot", disable=None, leave=False) as bar:

        def on_block(written: int, total: int) -> None:
            bar.total = total
            bar.n = written
            bar.refresh()

        path = run_case(case, out, resume=resume, saves_per_block=saves_per_block, on_block=on_block)
    if xdmf:
        write_xdmf(path)
    if plot is not None:
        plot_file(path, plot)
    return path
