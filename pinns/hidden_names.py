"""Names of a hidden term's inputs: the fields and their space derivatives (no JAX)."""

from __future__ import annotations

__all__ = ["input_names"]

_AXES = "xyz"


def input_names(fields: tuple[str, ...], n_dims: int, derivatives: int) -> tuple[str, ...]:
    """The hidden term's inputs: each field, then its pure space derivatives up to ``derivatives`` (``u_x``, ``u_xx``, ...)."""
    names = []
    for field in fields:
        names.append(field)
        for axis in range(n_dims):
            names += [f"{field}_{_AXES[axis] * k}" for k in range(1, derivatives + 1)]
    return tuple(names)
