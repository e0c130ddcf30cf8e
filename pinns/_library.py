"""The candidate library of sparse regression: named sympy terms of the inputs, evaluated to columns.

A term is a sympy expression of the input symbols; its name in every output is
sympy's ``str`` of the expression (``"predator*prey"``, ``"u**2"``,
``"sin(u)"``), so ``sympy.sympify(name)`` gives the term back and a formula
written to JSON can be read without this module. Note that sympy orders the
factors of a product alphabetically: the monomial built from ``prey`` and
``predator`` is named ``"predator*prey"``.

Public through :mod:`pinns.sparse_regression`; this module is private.
"""

from __future__ import annotations

import dataclasses
import itertools
import keyword
from collections.abc import Mapping, Sequence
from typing import Union

import numpy as np
import sympy
from numpy.typing import ArrayLike

# Samples are either one 1-D array per input name or one [n, inputs] array
# whose last axis follows the library's input order.
Samples = Union[Mapping[str, ArrayLike], ArrayLike]


@dataclasses.dataclass(frozen=True)
class Library:
    """Candidate terms of a sparse model: sympy expressions of the named inputs.

    Attributes:
        inputs: the input names, in the order of the columns of an array of samples.
        names: one label per term: sympy's ``str`` for a monomial, the user's key
            for a named extra function (``"sin_u"``).
        expressions: the terms as sympy expressions of ``sympy.Symbol(input)``.

    ``terms`` (sympy's ``str`` of each expression) is what formulas and messages
    name. Build with :func:`polynomial_library`, or directly from expressions.
    """

    inputs: tuple[str, ...]
    names: tuple[str, ...]
    expressions: tuple[sympy.Expr, ...]

    def __post_init__(self) -> None:
        _check_input_names(self.inputs)
        if len(self.expressions) == 0:
            raise ValueError("candidate library is empty: give degree >= 1, constant=True or extra functions")
        if len(self.names) != len(self.expressions):
            raise ValueError(f"library: {len(self.names)} names for {len(self.expressions)} expressions")
        known = set(self.symbols)
        for name, expression in zip(self.names, self.expressions):
            unknown = sorted(str(s) for s in expression.free_symbols if s not in known)
            if unknown:
                raise ValueError(
                    f"library term {name!r} uses {', '.join(unknown)}, which is not among the inputs {list(self.inputs)}"
                )
        seen: dict[str, str] = {}
        for name, term in zip(self.names, self.terms):
            if term in seen:
                raise ValueError(f"library terms {seen[term]!r} and {name!r} are the same expression {term}")
            seen[term] = name

    @property
    def symbols(self) -> tuple[sympy.Symbol, ...]:
        """The sympy symbols of the inputs, in input order."""
        return tuple(sympy.Symbol(name) for name in self.inputs)

    @property
    def terms(self) -> tuple[str, ...]:
        """Sympy's string form of each term: the names formulas are written with."""
        return tuple(str(expression) for expression in self.expressions)

    def __len__(self) -> int:
        return len(self.expressions)

    def evaluate(self, samples: Samples) -> np.ndarray:
        """The library's columns at the samples: a float64 ``[n, terms]`` matrix.

        ``samples`` is a mapping from each input name to a 1-D array (extra keys
        are ignored), or an ``[n, inputs]`` array in input order. Samples of
        unequal length, missing inputs and non-finite values raise ``ValueError``,
        as does a term that is not finite at the samples (``log`` of a negative).
        """
        columns = sample_columns(self.inputs, samples)
        n = columns[0].shape[0]
        # One lambdified function per term: a constant term comes back as a
        # Python number and is broadcast to the sample count here.
        out = np.empty((n, len(self)), dtype=np.float64)
        for j, (term, expression) in enumerate(zip(self.terms, self.expressions)):
            function = sympy.lambdify(self.symbols, expression, modules="numpy")
            with np.errstate(all="ignore"):
                values = np.asarray(function(*columns), dtype=np.float64)
            out[:, j] = np.broadcast_to(values, (n,))
            bad = int(np.count_nonzero(~np.isfinite(out[:, j])))
            if bad:
                raise ValueError(f"library term {term} is not finite at {bad} of {n} samples")
        return out

    def to_json(self) -> dict:
        """The library as plain JSON: inputs, and each term's name and sympy string."""
        return {
            "inputs": list(self.inputs),
            "terms": [{"name": name, "term": term} for name, term in zip(self.names, self.terms)],
        }


def polynomial_library(
    inputs: Sequence[str],
    degree: int,
    *,
    constant: bool = True,
    extra: Mapping[str, sympy.Expr | str] | None = None,
) -> Library:
    """All monomials of ``inputs`` up to total ``degree``, then the ``extra`` functions.

    Monomials come by degree (the constant ``1`` first when ``constant``), and
    within a degree in the order of ``itertools.combinations_with_replacement``
    over the inputs (``u**2, u*v, v**2``), so the column order is reproducible.
    ``extra`` maps a label to a sympy expression or a string that sympy parses
    (``{"sin_u": "sin(u)"}``); strings are parsed with the input names as symbols,
    so an input named like a sympy function (``"gamma"``) stays a symbol.
    """
    if isinstance(inputs, str):
        raise TypeError(f"inputs must be a sequence of names, got the string {inputs!r}")
    inputs = tuple(inputs)
    _check_input_names(inputs)
    if isinstance(degree, bool) or not isinstance(degree, int) or degree < 0:
        raise ValueError(f"degree must be an integer >= 0, got {degree!r}")
    symbols = [sympy.Symbol(name) for name in inputs]
    expressions: list[sympy.Expr] = []
    for d in range(0 if constant else 1, degree + 1):
        for combination in itertools.combinations_with_replacement(range(len(symbols)), d):
            expressions.append(sympy.Mul(*(symbols[i] for i in combination)))
    names = [str(e) for e in expressions]
    local = {name: symbol for name, symbol in zip(inputs, symbols)}
    for label, function in (extra or {}).items():
        if isinstance(function, str):
            try:
                function = sympy.sympify(function, locals=local)
            except (sympy.SympifyError, SyntaxError, TypeError) as error:
                raise ValueError(f"extra function {label!r}: sympy cannot parse {function!r}") from error
        function = sympy.sympify(function)
        # A user's sympy.Symbol("u", positive=True) is another symbol than the
        # plain input u: match inputs by name so the term depends on the input.
        function = function.subs({s: local[s.name] for s in function.free_symbols if s.name in local})
        names.append(str(label))
        expressions.append(function)
    return Library(inputs=inputs, names=tuple(names), expressions=tuple(expressions))


def sample_columns(inputs: tuple[str, ...], samples: Samples) -> list[np.ndarray]:
    """The samples as one float64 1-D array per input, checked: equal lengths, all finite."""
    if isinstance(samples, Mapping):
        missing = [name for name in inputs if name not in samples]
        if missing:
            raise ValueError(f"samples lack the input(s) {', '.join(missing)}; they have {sorted(samples)}")
        columns = {name: np.asarray(samples[name], dtype=np.float64) for name in inputs}
        for name, column in columns.items():
            if column.ndim != 1:
                raise ValueError(f"samples: {name!r} must be 1-D, got shape {column.shape}")
    else:
        array = np.asarray(samples, dtype=np.float64)
        if array.ndim != 2 or array.shape[1] != len(inputs):
            raise ValueError(f"samples must be an [n, {len(inputs)}] array for inputs {list(inputs)}, got shape {array.shape}")
        columns = {name: array[:, i] for i, name in enumerate(inputs)}
    lengths = {name: column.shape[0] for name, column in columns.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name!r} has {count}" for name, count in lengths.items())
        raise ValueError(f"samples have unequal lengths: {listed}")
    if next(iter(lengths.values())) == 0:
        raise ValueError("samples are empty")
    for name, column in columns.items():
        check_finite(f"samples: {name!r}", column)
    return list(columns.values())


def check_finite(what: str, values: np.ndarray) -> None:
    """Raise a one-line ``ValueError`` naming ``what`` if ``values`` holds a NaN or an infinity."""
    nan = int(np.count_nonzero(np.isnan(values)))
    inf = int(np.count_nonzero(np.isinf(values)))
    if nan or inf:
        parts = [f"{nan} NaN" if nan else "", f"{inf} infinite" if inf else ""]
        raise ValueError(f"{what} holds {' and '.join(p for p in parts if p)} value(s) of {values.size}")


def _check_input_names(inputs: tuple[str, ...]) -> None:
    # lambdify writes the names into Python source, so each must be an identifier.
    if len(inputs) == 0:
        raise ValueError("library has no inputs")
    for name in inputs:
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"input name {name!r} is not a Python identifier")
    if len(set(inputs)) != len(inputs):
        raise ValueError(f"input names repeat: {list(inputs)}")
