"""Timing and machine description shared by the bench scripts.

A timed call is run once cold (compile + run: its time, minus the warm
median, is reported as the compile time), then ``repeats`` times warm;
every result is waited for with ``jax.block_until_ready``.
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import jax


@dataclass(frozen=True)
class Timing:
    """Warm median, its spread ((max - min) / median) and the cold first call, in seconds."""

    median: float
    spread: float
    first: float

    @property
    def compile(self) -> float:
        return max(0.0, self.first - self.median)


def timed(fn: Callable[[], Any], repeats: int) -> Timing:
    """``fn()`` once cold, then ``repeats`` times warm."""
    start = time.perf_counter()
    jax.block_until_ready(fn())
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return Timing(median, (max(times) - min(times)) / median if median > 0 else 0.0, first)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_line() -> str:
    """Date, devices, CPU, load: the first line of every generated section."""
    devices = jax.devices()
    gpu = any(d.platform == "gpu" for d in devices)
    return (
        f"- Date: {datetime.date.today().isoformat()}; device: `{devices}`{'' if gpu else ' (no GPU lent)'}; "
        f"CPU: {cpu_model()}, `os.cpu_count()` = {os.cpu_count()}, shared; load average {os.getloadavg()[0]:.1f} at the end"
    )


def versions(**packages: Any) -> str:
    import jaxlib

    extra = "".join(f", {name} {getattr(module, '__version__', '?')}" for name, module in packages.items())
    return f"- Versions: python {platform.python_version()}, jax {jax.__version__}, jaxlib {jaxlib.__version__}{extra}"
