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


def test_cases_md_marks_every_sign_constraint_of_the_pde_classes(capsys: pytest.CaptureFixture[str]) -> None:
    from phys._registry import PDES
    from phys.cli import main, signature_table

    table = signature_table(dict(PDES), "pde")
    rows = {line.split(" | ")[0].strip("| `"): line for line in table.splitlines()[2:]}
    marked = 0
    for name, signature in PDES.items():
        for parameter, info in signature.parameters.items():
            note = {"positive": " (> 0)", "non-negative": " (≥ 0)", None: ""}[info.sign]
            assert f"`{parameter}` = {info.default:g}{note}:" in rows[name], (name, parameter)
            marked += bool(note)
    # navier-stokes-vp's re; nu of burgers, convection-diffusion, navier-stokes-2d; d, D (x2) and drag.
    assert marked == 8
    assert main(["pdes"]) == 0  # the plain listing says it too, in ASCII
    listing = capsys.readouterr().out
    assert "    re = 100    Reynolds number U L / nu (kinematic viscosity is 1/re) (> 0)\n" in listing
    assert "    drag = 0    linear (Rayleigh) drag coefficient (>= 0)\n" in listing
