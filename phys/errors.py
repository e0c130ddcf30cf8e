"""Errors every package raises and the command line reports in one line."""

from __future__ import annotations

from typing import Any

from phys.case import CaseError

__all__ = ["CaseError", "ResumeError", "SolveError", "describe_differences", "differences"]


class SolveError(RuntimeError):
    """A solve failed: non-finite values or blow-up. The message names the step and time."""

    def __init__(self, message: str, *, step: int | None = None, time: float | None = None):
        self.step = step
        self.time = time
        super().__init__(message)


class ResumeError(ValueError):
    """``--resume`` found output it cannot continue: another case, a corrupt or stale file."""


def differences(here: Any, there: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """``(dotted path, value here, value there)`` for every leaf where two JSON-like trees differ."""
    if isinstance(here, dict) and isinstance(there, dict):
        found: list[tuple[str, Any, Any]] = []
        for key in sorted(set(here) | set(there), key=str):
            found += differences(here.get(key), there.get(key), f"{path}.{key}" if path else str(key))
        return found
    if isinstance(here, list) and isinstance(there, list) and len(here) == len(there):
        return [d for i, (a, b) in enumerate(zip(here, there)) for d in differences(a, b, f"{path}[{i}]")]
    return [] if here == there else [(path, here, there)]


def describe_differences(here: Any, there: Any, here_name: str = "here", there_name: str = "there", limit: int = 3) -> str:
    """``"time.t_end is 2.0 in the file, 3.0 here"``: what a mismatch message names (at most ``limit`` settings)."""
    found = differences(here, there)
    parts = [f"{path} is {b!r} {there_name}, {a!r} {here_name}" for path, a, b in found[:limit]]
    if len(found) > limit:
        parts.append(f"and {len(found) - limit} more")
    return "; ".join(parts) or "no setting differs"
