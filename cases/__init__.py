"""Ready-made cases, one file per family, registered by name.

``REGISTRY[name]()`` builds a fresh, validated :class:`phys.case.Case`.
Importing this package does not import JAX.
"""

from __future__ import annotations

from typing import Callable

from phys.case import Case

from cases.ks import ks, ks_random

__all__ = ["REGISTRY", "get"]

REGISTRY: dict[str, Callable[[], Case]] = {
    "ks": ks,
    "ks-random": ks_random,
}


def get(name: str) -> Case:
    return REGISTRY[name]()
