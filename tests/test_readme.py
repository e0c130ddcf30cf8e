"""The README's examples run and say what they show."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = (Path(__file__).parents[1] / "README.md").read_text()


def test_python_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


def test_error_example_prints_what_the_readme_shows(tmp_path: Path) -> None:
    command, expected = re.search(r"\$ (phys run ks --set dt=-1)\n(.*)\n", README).groups()
    result = subprocess.run(
        [sys.executable, "-m", "phys.cli", *command.split()[1:]], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.strip() == expected
    assert list(tmp_path.iterdir()) == []
