"""Import paths for the user's own classes and functions: ``"module:attribute"``.

A case that holds a user's PDE class or initial-condition function records it
in JSON by import path, so that ``phys run case.json`` imports it again and
the case's hash covers it. A class defined in a case file ``my_case.py``
(``phys run my_case.py``) lives in the module ``my_case``: the case file is
imported under its own name (:func:`load_case_module`), and
:func:`load_object` finds ``my_case`` later on ``sys.path`` or, failing that,
as ``my_case.py`` in the working directory or in a directory the caller names
(the folder of a JSON case file).
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator, Sequence

__all__ = ["ImportPathError", "load_case_module", "load_object", "object_path", "searching"]

# Folders where ``module.py`` is looked for while a JSON case file is read (its own folder).
_SEARCH: contextvars.ContextVar[tuple[Path, ...]] = contextvars.ContextVar("physax_import_search", default=())


@contextlib.contextmanager
def searching(*folders: Path) -> Iterator[None]:
    """Within the block, :func:`load_object` also looks for ``module.py`` in ``folders``."""
    token = _SEARCH.set(_SEARCH.get() + tuple(Path(f) for f in folders))
    try:
        yield
    finally:
        _SEARCH.reset(token)


class ImportPathError(ValueError):
    """An import path that does not lead to an object; ``str`` is one line."""


def object_path(obj: Any) -> str:
    """``"module:qualname"`` of a class or function defined at the top level of an importable module."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not module or not qualname or "<locals>" in qualname:
        raise ImportPathError(
            f"{getattr(obj, '__name__', obj)!s}: must be defined at the top level of a module or case file "
            "(it is recorded in the case's JSON by import path)"
        )
    # A class of a script or notebook is "__main__:Name": it resolves in the
    # process that defined it, and load_object says why it does not elsewhere.
    return f"{module}:{qualname}"


def load_case_module(path: str | Path) -> ModuleType:
    """Import the case file ``path`` as the module named after its file (``my_case.py`` -> ``my_case``)."""
    path = Path(path).resolve()
    name = path.stem
    if not name.isidentifier():
        raise ImportPathError(f"{path.name}: a case file's name must be a Python identifier (it becomes the module name)")
    loaded = sys.modules.get(name)
    if loaded is not None:
        if getattr(loaded, "__file__", None) and Path(loaded.__file__).resolve() == path:
            return loaded
        raise ImportPathError(f"{path.name}: its module name '{name}' is already taken by {loaded!r}; rename the file")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _module(name: str, search: Sequence[Path]) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name.split(".")[0] and error.name != name:
            raise ImportPathError(f"cannot import module '{name}': {error}") from None
    if "." not in name:
        for folder in (*search, *_SEARCH.get(), Path.cwd()):
            candidate = Path(folder) / f"{name}.py"
            if candidate.is_file():
                return load_case_module(candidate)
    raise ImportPathError(f"cannot import module '{name}' (not on sys.path, nor {name}.py in the working directory)")


def load_object(path: str, *, what: str = "object", search: Sequence[Path] = ()) -> Any:
    """The object at ``"module:qualname"``; :class:`ImportPathError` in one line if there is none.

    ``search``: more folders in which to look for ``module.py`` when
    ``module`` cannot be imported (the folder of the JSON file being read).
    """
    module_name, sep, qualname = path.partition(":")
    if not sep or not module_name or not qualname:
        raise ImportPathError(f"'{path}': a {what} is named by an import path 'module:name'")
    try:
        obj: Any = _module(module_name, search)
    except ImportPathError as error:
        raise ImportPathError(f"{what} '{path}': {error}") from None
    except Exception as error:  # the module itself fails on import
        raise ImportPathError(f"{what} '{path}': importing '{module_name}' fails: {type(error).__name__}: {error}") from None
    for part in qualname.split("."):
        if not hasattr(obj, part):
            if module_name == "__main__":
                raise ImportPathError(
                    f"{what} '{path}' was defined in a script or notebook, which this process cannot import; "
                    "put it in a module or a case file (phys run my_case.py)"
                )
            raise ImportPathError(f"{what} '{path}': module '{module_name}' has no attribute '{qualname}'")
        obj = getattr(obj, part)
    return obj
