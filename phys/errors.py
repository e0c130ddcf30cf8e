"""Errors every package raises and the command line reports in one line."""

from __future__ import annotations

from phys.case import CaseError

__all__ = ["CaseError", "ResumeError", "SolveError"]


class SolveError(RuntimeError):
    """A solve failed: non-finite values or blow-up. The message names the step and time."""

    def __init__(self, message: str, *, step: int | None = None, time: float | None = None):
        self.step = step
        self.time = time
        super().__init__(message)


class ResumeError(ValueError):
    """``--resume`` found output it cannot continue: another case, a corrupt or stale file."""
