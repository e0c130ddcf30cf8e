"""The ``phys`` command line.

``phys`` may import none of the other packages (DESIGN.md), so built-in cases
and the solver back-end are found through entry points (``physax.cases``,
``physax.runners``, declared in pyproject.toml). Everything up to the solve
(parsing, case lookup, overrides, validation) runs without importing JAX, so
bad input fails fast, exits with status 2 and prints exactly one line.
"""

from __future__ import annotations

import argparse
import json
import runpy
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Callable, NoReturn, Sequence

from phys._registry import PDES
from phys.case import Case, CaseError
from phys.errors import ResumeError

__all__ = ["main", "resolve_case", "parse_overrides", "ALIASES"]

EXIT_BAD_INPUT = 2
EXIT_SOLVE_FAILED = 1
EXIT_INTERRUPTED = 130

# Short names for the fields people change most; any dotted path works too.
ALIASES = {
    "n": "grid.n",
    "dt": "time.dt",
    "t0": "time.t0",
    "t_end": "time.t_end",
    "save_dt": "time.save_dt",
    "length": "domain.length",
    "origin": "domain.origin",
    "dtype": "dtype",
    "seed": "seed",
}


class UsageError(Exception):
    """Bad input on the command line: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's usage block
        raise UsageError(message)


def _builtin_cases() -> dict[str, Callable[[], Case]]:
    registry: dict[str, Callable[[], Case]] = {}
    for entry in entry_points(group="physax.cases"):
        registry.update(entry.load())
    return registry


def _runner(name: str = "etdrk") -> Callable[..., Path]:
    for entry in entry_points(group="physax.runners"):
        if entry.name == name:
            return entry.load()
    raise UsageError(f"no solver back-end '{name}' is installed (entry point group physax.runners)")


def resolve_case(spec: str) -> Case:
    """A built-in case name, a Python file defining ``CASE``, or a JSON file."""
    builtins = _builtin_cases()
    if spec in builtins:
        return builtins[spec]()
    path = Path(spec)
    if path.suffix in (".py", ".json"):
        if not path.is_file():
            raise UsageError(f"case file not found: {spec}")
        if path.suffix == ".json":
            return Case.from_json(path.read_text())
        namespace = runpy.run_path(str(path))
        case = namespace.get("CASE")
        if not isinstance(case, Case):
            raise UsageError(f"{spec} must define CASE = phys.case.Case(...)")
        return case
    raise UsageError(f"unknown case '{spec}'; built-in cases: {', '.join(sorted(builtins))} (or a .py / .json file)")


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_overrides(case: Case, items: Sequence[str]) -> dict[str, Any]:
    """``["n=256", "a=2"]`` to dotted-path updates for :meth:`Case.with_updates`."""
    parameters = PDES[case.pde.name].parameters
    # The case's scheme's settings (order, dealias, rtol, ...) by their short names.
    scheme = {name: f"solver.{name}" for name in type(case.solver).model_fields if name != "method"}
    updates: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--set {item}: expected key=value")
        if key in ALIASES:
            path = ALIASES[key]
        elif key in parameters:
            path = f"pde.params.{key}"
        elif key in scheme:
            path = scheme[key]
        elif "." in key or key in Case.model_fields:
            path = key
        else:
            allowed = ", ".join([*ALIASES, *scheme, *parameters])
            raise UsageError(f"--set {key}: unknown key; allowed: {allowed}, a top-level field such as bcs, or a dotted path such as time.dt")
        updates[path] = _parse_value(value)
    return updates


def _case_from_args(args: argparse.Namespace) -> Case:
    case = resolve_case(args.case)
    updates = parse_overrides(case, args.set or [])
    if getattr(args, "dtype", None):
        updates["dtype"] = args.dtype
    if getattr(args, "seed", None) is not None:
        updates["seed"] = args.seed
    return case.with_updates(updates) if updates else case


def _cmd_cases(args: argparse.Namespace) -> int:
    builtins = _builtin_cases()
    width = max(map(len, builtins))
    for name in sorted(builtins):
        print(f"{name:<{width}}  {builtins[name]().description}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    print(_case_from_args(args).to_json())
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    case = _case_from_args(args)
    out = Path(args.out) if args.out else Path(f"{case.name}.h5")
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: directory {out.parent} does not exist")
    if args.saves_per_block is not None and args.saves_per_block < 1:
        raise UsageError(f"--saves-per-block: must be a positive integer, got {args.saves_per_block}")
    runner = _runner()
    try:
        path = runner(
            case,
            out=out,
            resume=args.resume,
            plot=Path(args.plot) if args.plot else None,
            xdmf=args.xdmf,
            saves_per_block=args.saves_per_block,
        )
    except ResumeError as error:
        raise UsageError(str(error)) from None
    except KeyboardInterrupt:
        print(
            f"phys: interrupted; partial output kept in {out}.tmp, run again with --resume to continue",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    print(f"wrote {path}" + (f" and {args.plot}" if args.plot else ""))
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from phys.io import validate

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"file not found: {path}")
    problems = validate(path)
    if problems:
        for problem in problems:
            print(f"{path}: {problem}")
        return 1
    print(f"{path}: valid")
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from phys.io import plot_file

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"file not found: {path}")
    out = Path(args.out) if args.out else path.with_suffix(".png")
    plot_file(path, out, field=args.field)
    print(f"wrote {out}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from phys.io import write_xdmf

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"file not found: {path}")
    print(f"wrote {write_xdmf(path)}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="phys", description="physax: solve, learn and export physics cases.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sub.add_parser("cases", help="list the built-in cases").set_defaults(func=_cmd_cases)

    def case_arguments(p: argparse.ArgumentParser) -> None:
        p.add_argument("case", help="built-in case name, a .py file defining CASE, or a .json file")
        p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a field (n, dt, t_end, ...)")
        p.add_argument("--dtype", metavar="{float32,float64}")
        p.add_argument("--seed", type=int)

    show = sub.add_parser("show", help="print a case as JSON")
    case_arguments(show)
    show.set_defaults(func=_cmd_show)

    run = sub.add_parser("run", help="solve a case and write HDF5")
    case_arguments(run)
    run.add_argument("--out", help="output HDF5 file (default: CASE_NAME.h5)")
    run.add_argument("--resume", action="store_true", help="continue an interrupted run from OUT.tmp")
    run.add_argument("--plot", metavar="PNG", help="also write a picture of the solution")
    run.add_argument("--xdmf", action="store_true", help="also write an XDMF sidecar for ParaView")
    run.add_argument("--saves-per-block", type=int, help="snapshots per compiled block (write and resume unit)")
    run.set_defaults(func=_cmd_run)

    validate = sub.add_parser("validate", help="check an HDF5 output against the schema")
    validate.add_argument("file")
    validate.set_defaults(func=_cmd_validate)

    plot = sub.add_parser("plot", help="picture of an HDF5 output")
    plot.add_argument("file")
    plot.add_argument("--out", help="PNG file (default: FILE with .png)")
    plot.add_argument("--field")
    plot.set_defaults(func=_cmd_plot)

    export = sub.add_parser("export", help="write an XDMF sidecar so ParaView opens an HDF5 output")
    export.add_argument("file")
    export.set_defaults(func=_cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        return args.func(args)
    except (UsageError, CaseError) as error:
        print(f"phys: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as error:  # a failed solve is reported, not dumped as a traceback
        from phys.errors import SolveError

        if isinstance(error, SolveError):
            print(f"phys: error: {error}", file=sys.stderr)
            return EXIT_SOLVE_FAILED
        raise


if __name__ == "__main__":
    sys.exit(main())
