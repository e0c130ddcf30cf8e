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


def test_quick_start_runs_through_the_installed_console_script(tmp_path: Path) -> None:
    from phys.io import read, validate
    from solvers import solve
    from cases import get

    line = re.search(r"&& \.venv/bin/(phys run [^\n]*)\n", README).group(1)
    assert line == "phys run ks --out ks.h5 --plot ks.png"
    script = Path(sys.executable).parent / "phys"
    result = subprocess.run([str(script), *line.split()[1:]], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "wrote ks.h5 and ks.png\n"
    assert validate(tmp_path / "ks.h5") == [] and (tmp_path / "ks.png").stat().st_size > 1000
    # The file is the solve of the built-in case (float32 on disk).
    import numpy as np

    np.testing.assert_allclose(read(tmp_path / "ks.h5")["u"], solve(get("ks"))["u"], rtol=0, atol=1e-5)
