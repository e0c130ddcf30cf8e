"""d^4/dx^4 of an MLP at 4096 points: nested forward mode (jax.jvp), Taylor mode (jax.experimental.jet), and pinns.nets' own Taylor mode.

The measurement behind pinns/residual.py's choices: the generic path (any
callable) is nested ``jax.jvp``; the package's networks propagate their own
jets (:meth:`pinns.nets.MLP.jet`). Run: .venv/bin/python bench/bench_pinn_derivatives.py
"""

from __future__ import annotations

import time

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.experimental import jet

from pinns.nets import make_network

jax.config.update("jax_enable_x64", True)


def main() -> None:
    net = make_network(jax.random.key(0), lower=(0.0, 0.0), upper=(1.0, 1.0), n_out=1, width=64, depth=4, dtype=jnp.float64)
    e = jnp.array([0.0, 1.0])
    zs = jax.random.uniform(jax.random.key(1), (4096, 2), jnp.float64)

    def nested(model, z):
        g = lambda p: model(p)[0]  # noqa: E731
        for _ in range(4):
            g = (lambda h: lambda p: jax.jvp(h, (p,), (e,))[1])(g)
        return g(z)

    def taylor(model, z):
        zero = jnp.zeros_like(e)
        return jet.jet(lambda p: model(p)[0], (z,), ((e, zero, zero, zero),))[1][3]

    def own(model, z):
        return model.jet(z, (0, 4)).directions[1][3][0]

    for name, fn in (("nested jvp", nested), ("jet", taylor), ("MLP.jet", own)):
        forward = eqx.filter_jit(lambda m: jax.vmap(lambda z: fn(m, z))(zs))
        grad = eqx.filter_jit(eqx.filter_grad(lambda m: jnp.mean(jax.vmap(lambda z: fn(m, z))(zs) ** 2)))
        for label, f, repeats in (("forward", forward, 20), ("forward + gradient", grad, 10)):
            jax.block_until_ready(f(net))
            start = time.perf_counter()
            for _ in range(repeats):
                jax.block_until_ready(f(net))
            print(f"{name:10s} {label:20s} {(time.perf_counter() - start) / repeats * 1e3:8.1f} ms")


if __name__ == "__main__":
    main()
