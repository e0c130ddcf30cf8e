"""Built-in PDEs, one file each. ``load(name)`` imports a PDE class by its registered name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from phys._registry import PDES

if TYPE_CHECKING:
    from phys.pdes._base import AbstractPDE

__all__ = ["PDES", "load"]


def load(name: str) -> type["AbstractPDE"]:
    """The PDE class registered as ``name`` (imports JAX)."""
    return PDES[name].load()
