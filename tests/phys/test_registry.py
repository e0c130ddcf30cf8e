"""The built-in tables are derived from the classes and functions themselves, and every PDE file is registered."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import phys.pdes
from phys._registry import IC_FAMILIES, PDES, signature_of_class, signature_of_family
from phys.pdes._base import AbstractPDE, check_pde_class


def test_every_pde_file_is_registered() -> None:
    folder = Path(phys.pdes.__file__).parent
    files = {p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")}
    registered = {signature.target.split(":")[0].rsplit(".", 1)[1] for signature in PDES.values()}
    assert files == registered


@pytest.mark.parametrize("name", sorted(PDES))
def test_source_reading_agrees_with_the_imported_class(name: str) -> None:
    # The registry reads the files with ast (no JAX); the imported class must say the same.
    signature = PDES[name]
    cls = signature.load()
    assert issubclass(cls, AbstractPDE) and cls.name == name
    check_pde_class(cls)
    imported = signature_of_class(cls, name)
    assert imported == signature
    assert all(parameter.doc for parameter in signature.parameters.values()), "every parameter documents its meaning"


@pytest.mark.parametrize("name", sorted(IC_FAMILIES))
def test_family_reading_agrees_with_the_imported_function(name: str) -> None:
    signature = IC_FAMILIES[name]
    function = signature.load()
    assert function.family_name == name
    assert signature_of_family(function, name) == signature
    assert all(parameter.doc for parameter in signature.parameters.values())


def test_validating_a_built_in_case_imports_no_jax() -> None:
    import subprocess

    code = "import sys; from cases import get; get('ns-decaying').with_updates({'pde.params.nu': 0.01}); print('jax' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
