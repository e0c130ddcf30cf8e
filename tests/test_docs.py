"""Every example in the docs runs, and says what it shows (its asserts check the numbers)."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[1] / "docs"


def _blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


@pytest.mark.parametrize("name", ["python.md"])
def test_docs_examples_run_in_order(name: str) -> None:
    blocks = _blocks(DOCS / name)
    assert blocks
    # A real module, as a user's script or case file is: a PDE class defined in it
    # is found again by its import path ("module:Class").
    module = types.ModuleType(f"docs_{name.removesuffix('.md')}")
    sys.modules[module.__name__] = module
    try:
        for block in blocks:
            exec(compile(block, str(DOCS / name), "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]


@pytest.mark.parametrize("kind", ["pde", "ic"])
def test_cases_md_tables_are_the_registry(kind: str) -> None:
    from phys._registry import IC_FAMILIES, PDES
    from phys.cli import signature_table

    table = signature_table(dict(PDES) if kind == "pde" else dict(IC_FAMILIES), kind)
    assert table in (DOCS / "cases.md").read_text(), f"regenerate with: phys {'pdes' if kind == 'pde' else 'ics'} --markdown"
