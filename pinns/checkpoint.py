"""Checkpoints: a pytree of arrays (equinox serialisation) beside a JSON record, each written then renamed.

``save_checkpoint(directory, tree, info)`` writes ``checkpoint.eqx`` and
``checkpoint.json``; ``load_checkpoint(directory, like, identity)`` reads them
back into the shapes ``like(info)`` gives, after checking that every entry of
``identity`` (the case's hash, the config) matches what was saved, so a run
never continues another run's state. Used by :func:`pinns.train.train`; a
reduced-order model's training can save its own trees the same way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import equinox as eqx

from phys.errors import describe_differences

__all__ = ["CHECKPOINT", "CHECKPOINT_INFO", "CheckpointError", "read_info", "save_checkpoint", "load_checkpoint"]

CHECKPOINT = "checkpoint.eqx"
CHECKPOINT_INFO = "checkpoint.json"


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed: it belongs to another case or config."""


def save_checkpoint(directory: Path, tree: Any, info: dict[str, Any]) -> None:
    """``tree`` to ``directory/checkpoint.eqx`` and ``info`` (JSON) to ``checkpoint.json``, each atomically."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / (CHECKPOINT + ".tmp")
    eqx.tree_serialise_leaves(tmp, tree)
    tmp.replace(directory / CHECKPOINT)
    record = directory / (CHECKPOINT_INFO + ".tmp")
    record.write_text(json.dumps(info))
    record.replace(directory / CHECKPOINT_INFO)


def load_checkpoint(directory: Path, like: Callable[[dict[str, Any]], Any], identity: dict[str, Any]) -> tuple[Any, dict[str, Any]] | None:
    """``(tree, info)``, or ``None`` if there is none; :class:`CheckpointError` if it is another run's."""
    directory = Path(directory)
    if not (directory / CHECKPOINT).exists() or not (directory / CHECKPOINT_INFO).exists():
        return None
    info = json.loads((directory / CHECKPOINT_INFO).read_text())
    for key, value in identity.items():
        if info.get(key) != value:
            what = describe_differences(value, info.get(key), "here", "in the checkpoint") if isinstance(value, dict) else ""
            raise CheckpointError(
                f"{directory / CHECKPOINT} was written by another run ({key} differs{': ' + what if what else ''}); "
                "use another directory"
            )
    return eqx.tree_deserialise_leaves(directory / CHECKPOINT, like(info)), info


def read_info(directory: Path) -> dict[str, Any] | None:
    """The JSON record of ``directory``'s checkpoint, or None if there is none."""
    path = Path(directory) / CHECKPOINT_INFO
    if not path.exists() or not (Path(directory) / CHECKPOINT).exists():
        return None
    return json.loads(path.read_text())
