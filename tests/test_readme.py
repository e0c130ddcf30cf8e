"""The README's examples run and say what they show."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from cases import REGISTRY

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


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_built_in_case_runs_through_the_installed_console_script(name: str, tmp_path: Path) -> None:
    """Issue 15: each built-in case, cut to two steps, through ``phys run`` as a user types it."""
    import h5py
    import numpy as np

    from cases import get
    from phys.io import validate

    time = get(name).time
    # A case marched to a steady state refuses a save interval shorter than float32 can judge steadiness over.
    steady = getattr(get(name).solver, "steady_tol", None) is not None
    save_dt = time.save_dt if steady else time.dt
    t_end = time.t0 + 2 * save_dt
    script = Path(sys.executable).parent / "phys"
    args = ["run", name, "--set", f"time.save_dt={save_dt!r}", "--set", f"time.t_end={t_end!r}", "--out", "c.h5"]
    result = subprocess.run([str(script), *args], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "wrote c.h5\n"
    assert validate(tmp_path / "c.h5") == []
    short = get(name).with_updates({"time.save_dt": save_dt, "time.t_end": t_end})
    with h5py.File(tmp_path / "c.h5") as f:
        assert f.attrs["case_sha256"] == short.sha256()
        np.testing.assert_allclose(f["dimensions/time"][:], time.t0 + save_dt * np.arange(3), rtol=1e-6)
