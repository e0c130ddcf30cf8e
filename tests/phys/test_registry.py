"""Every PDE file and IC family is registered, and the registry agrees with the code."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

import equinox as eqx
import pytest

import phys.pdes
from phys._registry import IC_FAMILIES, PDES
from phys.pdes._base import AbstractPDE


def test_every_pde_file_is_registered() -> None:
    folder = Path(phys.pdes.__file__).parent
    files = {p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")}
    registered = {signature.target.split(":")[0].rsplit(".", 1)[1] for signature in PDES.values()}
    assert files == registered


@pytest.mark.parametrize("name", sorted(PDES))
def test_pde_class_declares_the_registered_parameters(name: str) -> None:
    signature = PDES[name]
    cls = signature.load()
    assert issubclass(cls, AbstractPDE)
    names = [f.name for f in dataclasses.fields(cls)]
    assert names == list(signature.parameters)
    assert cls.fields == signature.fields
    assert cls.n_dims == signature.n_dims
    assert isinstance(cls(**{k: 1.0 for k in names}), eqx.Module)


@pytest.mark.parametrize("name", sorted(IC_FAMILIES))
def test_ic_family_takes_the_registered_parameters(name: str) -> None:
    function = IC_FAMILIES[name].load()
    keyword_only = [
        p.name for p in inspect.signature(function).parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    assert keyword_only == list(IC_FAMILIES[name].parameters)
