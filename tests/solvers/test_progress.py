"""``phys run``'s progress: blocks sized by their work on a CPU, and a bar whose rate leaves the compile out."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from tqdm import tqdm

import solvers.driver as driver
from cases import get
from solvers.driver import default_saves_per_block
from solvers.run import _progress
from solvers.scheme import scheme_for
from solvers.solve import run_case

BURGERS = get("burgers").with_updates({"grid.n": 65, "time.dt": 2e-3, "time.t_end": 0.4, "time.save_dt": 0.02})


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _bar(clock: _Clock) -> tqdm:
    bar = tqdm(desc="ks", unit="snapshot", file=io.StringIO(), disable=False, leave=False)
    bar._time = clock  # tqdm reads every time through this attribute
    return bar


def test_the_bar_says_compiling_until_the_first_block_is_in_and_leaves_that_block_out_of_the_rate() -> None:
    clock = _Clock()
    with _bar(clock) as bar:
        on_block = _progress(bar, "ks")
        on_block(1, 101)  # the initial snapshot, before anything is compiled
        assert bar.desc == "ks (compiling): " and bar.total == 101  # tqdm adds the colon
        clock.now += 30.0  # 28 s compiling and 2 s running the first block of 41 saves
        on_block(42, 101)
        assert bar.desc == "ks: " and bar.initial == 42 and bar.format_dict["elapsed"] == 0
        clock.now += 2.0
        on_block(83, 101)
        # 41 saves in the 2 s since the first block: 20.5 per second, 18 left, under a second.
        # With the compile counted it would be 82 saves in 32 s, 2.56 per second, 7 s left.
        assert "83/101" in str(bar) and "20.50snapshot/s" in str(bar) and "<00:00," in str(bar)


def test_a_run_reports_the_initial_snapshot_then_every_block(tmp_path: Path) -> None:
    clock = _Clock()
    seen = []
    with _bar(clock) as bar:
        progress = _progress(bar, "burgers")

        def on_block(written: int, total: int) -> None:
            seen.append(written)
            progress(written, total)

        run_case(BURGERS, tmp_path / "run.h5", saves_per_block=5, on_block=on_block)
        assert seen == [1, 6, 11, 16, 21]
        assert (bar.n, bar.total, bar.initial) == (21, 21, 6)


def test_cpu_blocks_hold_about_two_to_the_25_point_steps_and_small_grids_2048_steps() -> None:
    big = scheme_for(get("ns-decaying").with_updates({"grid.n": 256, "time.t_end": 50.0}))
    assert big.time.save_every == 50
    # 2^25 / 256^2 = 512 steps: 11 saves of 50 steps; 2048 steps (41 saves) elsewhere.
    assert default_saves_per_block(big) == 11
    assert default_saves_per_block(big, platform="gpu") == 41
    assert default_saves_per_block(big, rows=8) == 2  # 64 steps: ceil(64 / 50)
    small = scheme_for(get("ks").with_updates({"grid.n": 64, "time.t_end": 1000.0}))
    assert default_saves_per_block(small) == default_saves_per_block(small, platform="gpu")
    assert default_saves_per_block(small) * small.time.save_every == driver._STEPS_PER_BLOCK == 2048


def test_the_run_cuts_its_blocks_by_the_cpu_work_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scheme = scheme_for(BURGERS)
    points = len(scheme.coords()[0])
    assert scheme.time.save_every == 10 and scheme.time.n_saves == 21
    monkeypatch.setattr(driver, "_CPU_POINT_STEPS_PER_BLOCK", 40 * points)  # 40 steps: blocks of 4 saves
    seen = []
    run_case(BURGERS, tmp_path / "run.h5", on_block=lambda written, total: seen.append(written))
    assert seen == [1, 5, 9, 13, 17, 21]
