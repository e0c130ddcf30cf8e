"""physax's shared vocabulary: the case schema, PDE definitions, fields and I/O.

Importing ``phys`` does not import JAX; ``phys.AbstractPDE`` (the base class
of every PDE, a user's own included) imports it on first use.
"""

from __future__ import annotations

from typing import Any

from phys.case import Case, CaseError
from phys.errors import ResumeError, SolveError
from phys.fields import Fields

__all__ = ["AbstractPDE", "Case", "CaseError", "Derivatives", "Fields", "ResumeError", "SolveError"]


def __getattr__(name: str) -> Any:
    if name in ("AbstractPDE", "Derivatives"):
        from phys.pdes import _base

        return getattr(_base, name)
    raise AttributeError(f"module 'phys' has no attribute {name!r}")
