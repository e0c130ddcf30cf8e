"""Strict JAX settings for every test (as equinox's own suite does).

64-bit mode is on so convergence orders can be proved in float64; code under
test must still honour a case's float32 dtype explicitly, and the dtype tests
check that it does.
"""

import jax

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
