"""The built-in PDEs and initial-condition families, read from their source without importing JAX.

The case schema validates a case (unknown PDE, unknown parameter) before JAX
is imported, so that bad input fails fast and prints one line. What it needs
is written once, on the classes and functions themselves: a PDE class in
``phys/pdes/<file>.py`` declares its ``name``, ``fields``, ``n_dims`` and its
parameters with their defaults and docstrings; an initial-condition family in
``phys/initial.py`` is a function decorated ``@family(name, n_dims=...)``
whose keyword-only arguments are its parameters. This module reads those
declarations with :mod:`ast` (no import, no JAX) and derives the tables.

A user's own PDE class or IC function, named by an import path
(``"module:Class"``, see :mod:`phys._imports`), is imported instead (its
module imports JAX anyway) and described by :func:`pde_signature` and
:func:`ic_signature` from the class or function itself, through the same
:class:`Signature`. A test checks that the source reading and the imported
class say the same.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import math
import operator
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping

__all__ = ["IC_FAMILIES", "PDES", "Parameter", "Signature", "ic_signature", "pde_signature", "signature_of_class", "signature_of_family"]

_HERE = Path(__file__).parent


@dataclass(frozen=True)
class Parameter:
    """A physical parameter: default value and meaning."""

    default: float
    doc: str
    # "positive", "non-negative" (a viscosity, a diffusivity) or None: values outside are refused at validation.
    sign: str | None = None


@dataclass(frozen=True)
class Signature:
    """What the schema knows of a PDE or IC family, built in or a user's."""

    name: str  # the registered name, or the import path of a user's class or function
    target: str  # "module:attribute"
    summary: str
    parameters: Mapping[str, Parameter] = field(default_factory=dict)
    fields: tuple[str, ...] = ()
    n_dims: int | None = None  # None: any dimension
    # The scheme a case gets when it names none (``phys.case.SOLVERS``); None: by dimension and BCs.
    default_scheme: str | None = None
    # The class defines ``advection_velocity(d)``, so a case may ask for a CFL-adaptive step (``solver.cfl``).
    advection_velocity: bool = False
    # Output fields and their tensor order, as the class declares them (None: the state fields, scalars).
    output_orders: Mapping[str, int] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))

    def defaults(self) -> dict[str, float]:
        return {k: p.default for k, p in self.parameters.items()}

    def load(self) -> Any:
        from phys._imports import load_object

        return load_object(self.target)


# -- reading source ------------------------------------------------------------

_OPERATORS: dict[type, Callable[..., float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
_CONSTANTS = {"math.pi": math.pi, "math.e": math.e, "math.tau": math.tau}


def _number(node: ast.expr) -> float:
    """A numeric default written as arithmetic on literals and ``math.pi`` (``0.01 / 3.14159...``, ``8.0 / 3.0``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_number(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_number(node.left), _number(node.right))
    if ast.unparse(node) in _CONSTANTS:
        return _CONSTANTS[ast.unparse(node)]
    raise ValueError(f"not a numeric default: {ast.unparse(node)}")


def _literal(node: ast.expr | None) -> Any:
    return None if node is None else ast.literal_eval(node)


def _summary(docstring: str | None) -> str:
    """The docstring's first sentence-line, without reST markup."""
    first = (docstring or "").strip().split("\n\n")[0]
    return " ".join(first.replace("``", "").split())


def _attribute_docs(body: list[ast.stmt]) -> dict[str, str]:
    """``{attribute: docstring}`` for string literals that follow an annotated assignment (PEP 257)."""
    docs: dict[str, str] = {}
    for statement, following in zip(body, body[1:]):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[statement.target.id] = " ".join(following.value.value.split())
    return docs


def _is_classvar(annotation: ast.expr) -> bool:
    return ast.unparse(annotation).startswith(("ClassVar", "typing.ClassVar"))


_CONTRACT = ("fields", "n_dims", "name", "default_scheme", "output_orders", "auxiliary_fields", "positive", "non_negative")


def _signed(parameters: dict[str, Parameter], positive: Any, non_negative: Any) -> dict[str, Parameter]:
    """``parameters`` with the sign constraints a PDE class declares (``positive``, ``non_negative``: names)."""
    signs = {**{name: "non-negative" for name in non_negative or ()}, **{name: "positive" for name in positive or ()}}
    return {name: dataclasses.replace(p, sign=signs.get(name)) for name, p in parameters.items()}


def _pde_from_ast(node: ast.ClassDef, module: str) -> Signature | None:
    attributes: dict[str, ast.expr | None] = {}
    parameters: dict[str, Parameter] = {}
    docs = _attribute_docs(node.body)
    methods = {s.name for s in node.body if isinstance(s, ast.FunctionDef)}
    for statement in node.body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            name = statement.target.id
            if name in _CONTRACT or _is_classvar(statement.annotation):
                attributes[name] = statement.value
            elif statement.value is not None:
                parameters[name] = Parameter(_number(statement.value), docs.get(name, ""))
            else:
                raise ValueError(f"{module}:{node.name}: parameter '{name}' has no default")
        elif isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            attributes[statement.targets[0].id] = statement.value
    registered = _literal(attributes.get("name"))
    if registered is None:
        return None  # a helper class of the file, not a registered PDE
    return Signature(
        name=registered,
        target=f"{module}:{node.name}",
        summary=_summary(ast.get_docstring(node)),
        parameters=_signed(parameters, _literal(attributes.get("positive")), _literal(attributes.get("non_negative"))),
        fields=tuple(_literal(attributes["fields"])),
        n_dims=_literal(attributes.get("n_dims")),
        default_scheme=_literal(attributes.get("default_scheme")),
        advection_velocity="advection_velocity" in methods,
        output_orders=_literal(attributes.get("output_orders")),
    )


def _family_decorator(node: ast.FunctionDef) -> ast.Call | None:
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call) and ast.unparse(decorator.func) in ("family", "initial.family"):
            return decorator
    return None


def _parameter_docs(docstring: str | None) -> dict[str, str]:
    """``name: meaning`` lines of a docstring's ``Parameters:`` block."""
    docs: dict[str, str] = {}
    lines = textwrap.dedent(docstring or "").splitlines()
    if "Parameters:" not in [line.strip() for line in lines]:
        return docs
    start = [line.strip() for line in lines].index("Parameters:") + 1
    for line in lines[start:]:
        key, sep, text = line.strip().partition(":")
        if not sep or not key.isidentifier():
            if line.strip() and key in docs:  # a continuation line
                docs[key] += " " + line.strip()
            continue
        docs[key] = text.strip()
    return docs


def _family_from_ast(node: ast.FunctionDef, module: str) -> Signature | None:
    decorator = _family_decorator(node)
    if decorator is None:
        return None
    name = _literal(decorator.args[0])
    n_dims = next((_literal(k.value) for k in decorator.keywords if k.arg == "n_dims"), None)
    docs = _parameter_docs(ast.get_docstring(node))
    parameters = {}
    for argument, default in zip(node.args.kwonlyargs, node.args.kw_defaults):
        if default is None:
            raise ValueError(f"{module}:{node.name}: parameter '{argument.arg}' has no default")
        parameters[argument.arg] = Parameter(_number(default), docs.get(argument.arg, ""))
    return Signature(
        name=name, target=f"{module}:{node.name}", summary=_summary(ast.get_docstring(node)), parameters=parameters, n_dims=n_dims
    )


def _scan_pdes() -> dict[str, Signature]:
    table: dict[str, Signature] = {}
    for path in sorted((_HERE / "pdes").glob("*.py")):
        if path.stem.startswith("_"):
            continue
        module = f"phys.pdes.{path.stem}"
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef):
                signature = _pde_from_ast(node, module)
                if signature is not None:
                    table[signature.name] = signature
    return table


def _scan_families() -> dict[str, Signature]:
    table: dict[str, Signature] = {}
    for node in ast.parse((_HERE / "initial.py").read_text()).body:
        if isinstance(node, ast.FunctionDef):
            signature = _family_from_ast(node, "phys.initial")
            if signature is not None:
                table[signature.name] = signature
    return table


PDES: Mapping[str, Signature] = MappingProxyType(_scan_pdes())
IC_FAMILIES: Mapping[str, Signature] = MappingProxyType(_scan_families())


# -- a user's class or function, imported ----------------------------------------


def _source_docs(obj: Any) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(obj)))
    except (OSError, TypeError, SyntaxError):  # defined in a REPL or by exec: no source to read
        return None


def signature_of_class(cls: type, name: str | None = None) -> Signature:
    """The :class:`Signature` of an imported PDE class (checked with :func:`phys.pdes._base.check_pde_class` first)."""
    from phys._imports import object_path

    tree = _source_docs(cls)
    body = next((n.body for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == cls.__name__), []) if tree else []
    docs = _attribute_docs(body)
    parameters = {
        f.name: Parameter(float(f.default), docs.get(f.name, "")) for f in dataclasses.fields(cls)
    }
    path = object_path(cls)
    return Signature(
        name=name or path,
        target=path,
        summary=_summary(cls.__doc__),
        parameters=_signed(parameters, getattr(cls, "positive", ()), getattr(cls, "non_negative", ())),
        fields=tuple(cls.fields),
        n_dims=cls.n_dims,
        default_scheme=getattr(cls, "default_scheme", None),
        advection_velocity=cls.has_advection_velocity(),
        output_orders=dict(cls.output_orders) if cls.output_orders is not None else None,
    )


def signature_of_family(function: Callable[..., Any], name: str | None = None) -> Signature:
    """The :class:`Signature` of an imported IC function ``f(coords, lengths, key, *, p=default, ...)``."""
    from phys._imports import object_path

    parameters = {}
    docs = _parameter_docs(function.__doc__)
    positional = [
        p for p in inspect.signature(function).parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(positional) != 3:
        raise ValueError(
            f"{function.__name__}: an initial-condition family takes (coords, lengths, key, *, parameters...), "
            f"got {len(positional)} positional arguments"
        )
    for p in inspect.signature(function).parameters.values():
        if p.kind is p.KEYWORD_ONLY:
            if p.default is p.empty or isinstance(p.default, bool) or not isinstance(p.default, (int, float)):
                raise ValueError(f"{function.__name__}: parameter '{p.name}' must have a numeric default")
            parameters[p.name] = Parameter(float(p.default), docs.get(p.name, ""))
    path = object_path(function)
    return Signature(
        name=name or path,
        target=path,
        summary=_summary(function.__doc__),
        parameters=parameters,
        n_dims=getattr(function, "family_n_dims", None),
    )


@functools.lru_cache(maxsize=64)
def pde_signature(name: str) -> Signature:
    """A built-in PDE's signature by name, or a user's class's by import path; ``ValueError`` (one line) otherwise."""
    if name in PDES:
        return PDES[name]
    if ":" not in name:
        raise ValueError(
            f"unknown PDE '{name}'; built in: {', '.join(sorted(PDES))}, or a class of your own as 'module:Class'"
        )
    from phys._imports import load_object
    from phys.pdes._base import PDEContractError, check_pde_class

    cls = load_object(name, what="PDE class")
    try:
        check_pde_class(cls)
    except PDEContractError as error:
        raise ValueError(str(error)) from None
    registered = getattr(cls, "name", None)
    if registered in PDES and PDES[registered].target == name:
        return PDES[registered]
    return signature_of_class(cls, name)


@functools.lru_cache(maxsize=64)
def ic_signature(name: str) -> Signature:
    """A built-in IC family's signature by name, or a user's function's by import path."""
    if name in IC_FAMILIES:
        return IC_FAMILIES[name]
    if ":" not in name:
        raise ValueError(
            f"unknown initial-condition family '{name}'; built in: {', '.join(sorted(IC_FAMILIES))}, "
            "or a function of your own as 'module:function'"
        )
    from phys._imports import load_object

    function = load_object(name, what="initial-condition function")
    if not callable(function):
        raise ValueError(f"{name}: is not a function")
    return signature_of_family(function, name)
