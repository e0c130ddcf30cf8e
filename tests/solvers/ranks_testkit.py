"""Helpers for the tests that run `phys` as several processes (ranks) on one machine."""

from __future__ import annotations

import socket
import subprocess


def free_port() -> int:
    """A TCP port nobody listens on now, for the ranks' coordinator."""
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def finish(ranks: list[subprocess.Popen], hang: str, timeout: float = 180) -> list[tuple[int, str, str]]:
    """``(returncode, stdout, stderr)`` of every rank; if one outlives ``timeout``, kill them all and fail with ``hang``.

    A rank that waits forever for another is the failure these tests look for, so it must end the test.
    """
    results = []
    for process in ranks:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for other in ranks:
                other.kill()
            raise AssertionError(hang) from None
        results.append((process.returncode, stdout, stderr))
    return results
