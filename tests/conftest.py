"""Strict JAX settings for every test (as equinox's own suite does).

64-bit mode is on so convergence orders can be proved in float64; code under
test must still honour a case's float32 dtype explicitly, and the dtype tests
check that it does.
"""

import os
import tempfile

# One compilation cache for the whole run: the controller names it and both
# xdist workers and every `phys` subprocess a test starts inherit the
# environment, so they reuse what another compiled. A cache the user set is
# used as it is and never removed; ours goes with the run, so a later run
# starts cold, as CI does.
_OWN_CACHE = "JAX_COMPILATION_CACHE_DIR" not in os.environ and "PHYSAX_TEST_CACHE" not in os.environ
if _OWN_CACHE:
    os.environ["JAX_COMPILATION_CACHE_DIR"] = os.environ["PHYSAX_TEST_CACHE"] = os.path.join(
        tempfile.gettempdir(), f"physax-tests-pid{os.getpid()}")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")


import pytest  # noqa: E402


@pytest.fixture
def traces(monkeypatch: pytest.MonkeyPatch):
    """A function returning how often the time loop has been traced (compiled) since the fixture started.

    Counts the calls of one save interval's body while JAX traces it: a
    compiled loop that is reused calls it no more.
    """
    import solvers.rollout as rollout

    count = [0]
    original = rollout._interval

    def counting(*args, **kwargs):
        count[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(rollout, "_interval", counting)
    return lambda: count[0]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The run's compilation cache goes with it (the controller removes it, after its workers are done)."""
    if _OWN_CACHE and not hasattr(session.config, "workerinput"):
        import shutil

        shutil.rmtree(os.environ["PHYSAX_TEST_CACHE"], ignore_errors=True)
