"""What a run will need, estimated from its case before anything compiles: memory for its output and its state.

``phys run`` refuses a run whose estimate exceeds ``--max-memory`` (default: this
machine's memory) in one line naming the setting that dominates; the step count
is bounded by the case schema itself (:data:`phys.case.MAX_STEPS`).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

from phys.case import Case, CaseError

__all__ = ["Estimate", "check_memory", "estimate", "format_size", "machine_memory", "parse_size"]

# Copies of the state a scheme holds while it steps: ETDRK4's four stages and
# their nonlinear terms, its precomputed coefficients (one array per stage and
# mode), FFT buffers and XLA's temporaries, with the host copy of the state.
# An upper estimate, meant to refuse the absurd (``n = 1e9``), not to budget to the byte.
WORKING_COPIES = 24
_UNITS = {"": 1, "B": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40, "P": 2**50}


@dataclass(frozen=True)
class Estimate:
    """Bytes of the run's output (all saved snapshots) and of its solver state in flight."""

    output_bytes: int
    state_bytes: int

    @property
    def total(self) -> int:
        return self.output_bytes + self.state_bytes


def _values_per_point(case: Case) -> int:
    """Output numbers per grid point: scalars count 1, vectors ``n_dims``, tensors ``n_dims**2``."""
    orders = case.pde.signature.output_orders or {name: 0 for name in case.fields}
    return sum(max(1, case.n_dims) ** order for order in orders.values())


def estimate(case: Case, *, n_trajectories: int = 1, in_flight: int = 1, output_dtype: str = "float32") -> Estimate:
    """The estimate for ``n_trajectories`` written (``in_flight`` of them on the devices at a time).

    Output: saves x grid points x output values x trajectories, in ``output_dtype``
    (float32 on disk; the case's dtype for an in-memory solve). State:
    :data:`WORKING_COPIES` copies of the state fields in the case's dtype per trajectory in flight.
    """
    points = math.prod(case.grid.n)
    output = case.time.n_saves * points * _values_per_point(case) * _itemsize(output_dtype) * n_trajectories
    state = WORKING_COPIES * points * len(case.fields) * _itemsize(case.dtype) * in_flight
    return Estimate(output_bytes=output, state_bytes=state)


def _itemsize(dtype: str) -> int:
    return 8 if dtype == "float64" else 4


def check_memory(
    case: Case, limit: int, *, n_trajectories: int = 1, in_flight: int = 1, output_dtype: str = "float32", source: str = ""
) -> Estimate:
    """The estimate, or :class:`CaseError` naming the dominant setting if it exceeds ``limit`` bytes."""
    found = estimate(case, n_trajectories=n_trajectories, in_flight=in_flight, output_dtype=output_dtype)
    if found.total <= limit:
        return found
    if found.state_bytes > limit or found.state_bytes > found.output_bytes:
        field = "grid.n"
        advice = "use a coarser grid" + (" or a smaller --chunk" if in_flight > 1 else "")
    else:
        field = "time.save_dt"
        advice = "save less often (save_dt), shorten t_end, use a coarser grid" + (
            " or fewer trajectories" if n_trajectories > 1 else "")
    raise CaseError(
        field,
        f"the run needs about {format_size(found.total)} ({case.time.n_saves} saves of {math.prod(case.grid.n)} points: "
        f"{format_size(found.output_bytes)} of output, {format_size(found.state_bytes)} of solver state), above "
        f"--max-memory {format_size(limit)}{source}; {advice}, or raise --max-memory",
    )


def machine_memory() -> int:
    """Physical memory of this machine in bytes (16 GiB where the system does not say)."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 16 * 2**30


def parse_size(text: str) -> int:
    """``"16G"``, ``"512MiB"``, ``"2.5T"``, ``"1e9"`` to bytes (binary units); ``ValueError`` otherwise."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([KMGTP]?)(?:i?B)?\s*", text, flags=re.I)
    if match is None:
        raise ValueError(text)
    value = float(match.group(1)) * _UNITS[match.group(2).upper()]
    if not (math.isfinite(value) and value > 0):
        raise ValueError(text)
    return int(value)


def format_size(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.3g} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1024
    return f"{size:.3g} TiB"
