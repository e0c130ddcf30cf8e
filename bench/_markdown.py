"""The one writer of BENCHMARKS.md sections, shared by the bench scripts.

Each script owns the text between ``<!-- NAME:start -->`` and
``<!-- NAME:end -->``; a re-run replaces it and leaves the rest of the file,
hand-written notes included, as it was.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def markers(name: str) -> tuple[str, str]:
    """The start and end markers of section ``name``."""
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def write_section(name: str, section: str, path: Path = ROOT / "BENCHMARKS.md") -> None:
    """Put ``section`` (which begins and ends with the markers) in place of the old one, or append it."""
    start, end = markers(name)
    text = path.read_text() if path.exists() else "# Benchmarks\n\nMeasured by the scripts in `bench/`.\n"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)
