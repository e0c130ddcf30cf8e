"""Every scheme's run resumes after an interruption to the file an uninterrupted run writes; blow-ups name their step."""

from __future__ import annotations

import math
from pathlib import Path

import h5py
import jax
import numpy as np
import pytest

from cases import get
from phys.errors import SolveError
from solvers import simulation
from solvers.solve import run_case

SMALL = {
    "finite-difference": ("burgers", {"grid.n": 65, "time.dt": 2e-3, "time.t_end": 0.4, "time.save_dt": 0.02}),
    "projection": ("lid-driven-cavity", {"grid.n": 12, "time.dt": 0.01, "time.t_end": 1.0, "time.save_dt": 0.05, "solver.steady_tol": 0.0}),
    "ode": ("lorenz", {"time.t_end": 2.0, "time.save_dt": 0.05, "time.dt": 0.05}),
}


class _Stop(Exception):
    pass


def _stop_after(blocks: int):
    seen = []

    def on_block(written: int, total: int) -> None:
        seen.append(written)
        if len(seen) > blocks:  # the first call reports the initial snapshot
            raise _Stop

    return on_block


@pytest.mark.parametrize("method", sorted(SMALL))
def test_a_run_stopped_after_two_blocks_resumes_to_the_uninterrupted_file(tmp_path: Path, method: str) -> None:
    name, updates = SMALL[method]
    case = get(name).with_updates(updates)
    assert case.solver.method == method
    with pytest.raises(_Stop):
        run_case(case, tmp_path / "run.h5", saves_per_block=5, on_block=_stop_after(2))
    with h5py.File(tmp_path / "run.h5.tmp", "r") as f:
        assert int(f.attrs["n_steps_written"]) == 11  # the start and two blocks of 5
    run_case(case, tmp_path / "run.h5", saves_per_block=5, resume=True)
    run_case(case, tmp_path / "straight.h5", saves_per_block=5)
    with h5py.File(tmp_path / "run.h5") as a, h5py.File(tmp_path / "straight.h5") as b:
        assert a.attrs["complete"] and int(a.attrs["n_steps_written"]) == case.time.n_saves
        for group in ("t0_fields", "t1_fields"):
            for field in a[group]:
                np.testing.assert_array_equal(a[group][field][...], b[group][field][...])


def _first_bad_step(case) -> int:
    """The first step whose state is non-finite, found by stepping the scheme one step at a time."""
    sim = simulation(case, throw=False)
    scheme = sim.scheme
    step = jax.jit(lambda state: scheme.step(state))
    state = scheme.init(sim.u0)
    for index in range(1, scheme.time.n_steps + 1):
        state = step(state)
        if not bool(scheme.finite(state)):
            return index
    raise AssertionError("the case did not blow up")


BLOW_UPS = {
    # Explicit convection at CFL ~ 40 (|u| = 1000, h = 1/32, dt = 1.25e-3): the grid-scale modes grow each step.
    "finite-difference": ("burgers", {"grid.n": 65, "time.dt": 1.25e-3, "time.t_end": 0.5, "time.save_dt": 0.0125,
                                      "ic.params.amplitude": -1000.0}),
    # dt is checked against the lid speed; a divergence-free shear flow u = 1000 sin(pi y),
    # 1000 times faster than the lid, runs at CFL ~ 100.
    "projection": ("lid-driven-cavity", {"grid.n": 12, "time.dt": 0.01, "time.t_end": 2.0, "time.save_dt": 0.05, "solver.steady_tol": 0.0,
                                       "ic": {"kind": "array", "values": [
                                           [[1000.0 * math.sin(math.pi * (j + 0.5) / 12) for j in range(12)] for _ in range(12)],
                                           [[0.0] * 12 for _ in range(12)]]}}),
}


@pytest.mark.parametrize("method", sorted(BLOW_UPS))
def test_a_blow_up_names_its_first_non_finite_step_and_keeps_the_snapshots_before_it(tmp_path: Path, method: str) -> None:
    name, updates = BLOW_UPS[method]
    case = get(name).with_updates(updates)
    assert case.solver.method == method
    bad = _first_bad_step(case)
    with pytest.raises(SolveError) as info:
        run_case(case, tmp_path / "bad.h5", saves_per_block=4)
    assert info.value.step == bad
    time = case.time.t0 + bad * case.time.dt
    assert f"at step {bad} (t = {time:.6g})" in str(info.value)
    kept = 1 + (bad - 1) // case.time.save_every
    assert str(info.value).endswith(f"the {kept} snapshots before it are kept in {tmp_path / 'bad.h5.tmp'}")
    with h5py.File(tmp_path / "bad.h5.tmp") as f:
        assert int(f.attrs["n_steps_written"]) == kept
    assert not (tmp_path / "bad.h5").exists()
