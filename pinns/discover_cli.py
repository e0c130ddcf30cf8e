"""The back-end of ``phys discover`` (the ``physax.discovery`` entry point ``discover``).

Importing this module does not import JAX: ``phys discover`` first calls
:func:`configure` (settings, hidden fields and the library checked, one-line
errors), then :func:`run`, which checks the data file against the case
before anything is written.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from phys.case import Case, CaseError
from pinns.discovery_config import SETTINGS, DiscoveryConfig

__all__ = ["SETTINGS", "configure", "run"]


def configure(case: Case, *, hidden: str, extra: list[str], settings: dict[str, Any]) -> DiscoveryConfig:
    """The run's settings; ``CaseError`` naming the field when one does not fit the case."""
    names = tuple(name.strip() for name in hidden.split(",") if name.strip())
    unknown = [name for name in names if name not in case.fields]
    if unknown:
        raise CaseError("hidden", f"'{unknown[0]}' is not a field of PDE '{case.pde.name}'; it has {', '.join(case.fields)}")
    pairs = []
    for item in extra:
        key, sep, expression = item.partition("=")
        if not sep or not key.strip() or not expression.strip():
            raise CaseError("extra", f"expected NAME=EXPRESSION (e.g. sin_u=sin(u)), got {item!r}")
        pairs.append((key.strip(), expression.strip()))
    unknown_settings = sorted(set(settings) - set(SETTINGS))
    if unknown_settings:
        raise CaseError(unknown_settings[0], f"unknown discovery setting; allowed: {', '.join(SETTINGS)}")
    try:
        config = DiscoveryConfig(hidden=names, extra=tuple(pairs), **settings)
    except TypeError as error:
        raise CaseError("set", str(error)) from None
    _check_library(case, config)
    return config


def _check_library(case: Case, config: DiscoveryConfig) -> None:
    from pinns._library import polynomial_library
    from pinns.hidden_names import input_names

    try:
        polynomial_library(input_names(case.fields, case.n_dims, config.derivatives), config.degree,
                           constant=config.constant, extra=dict(config.extra) or None)
    except ValueError as error:
        raise CaseError("degree", str(error)) from None


def run(case: Case, config: DiscoveryConfig, data: Path, out: Path) -> dict[str, Any]:
    import jax

    if case.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    from pinns.discovery import discover

    return discover(case, data, config, out)


def describe(config: DiscoveryConfig) -> dict[str, Any]:
    return dataclasses.asdict(config)
