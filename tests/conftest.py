"""Strict JAX settings for every test (as equinox's own suite does).

64-bit mode is on so convergence orders can be proved in float64; code under
test must still honour a case's float32 dtype explicitly, and the dtype tests
check that it does.
"""

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")
