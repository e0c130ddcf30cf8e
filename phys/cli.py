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
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Callable, NoReturn, Sequence

from phys._imports import ImportPathError, load_case_module, searching
from phys._registry import IC_FAMILIES, PDES, Parameter, Signature
from phys.case import Case, CaseError
from phys.errors import ResumeError

__all__ = ["main", "resolve_case", "parse_overrides", "parse_sweep", "signature_table", "ALIASES"]

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
            # A user's PDE or IC recorded as "module:Class" may live next to the JSON file.
            with searching(path.resolve().parent):
                return Case.from_json(path.read_text())
        try:
            module = load_case_module(path)
        except ImportPathError as error:
            raise UsageError(str(error)) from None
        case = getattr(module, "CASE", None)
        if not isinstance(case, Case):
            raise UsageError(f"{spec} must define CASE = phys.Case(...)")
        return case
    raise UsageError(f"unknown case '{spec}'; built-in cases: {', '.join(sorted(builtins))} (or a .py / .json file)")


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_overrides(case: Case, items: Sequence[str], also_allowed: str = "") -> dict[str, Any]:
    """``["n=256", "a=2"]`` to dotted-path updates for :meth:`Case.with_updates`.

    ``also_allowed`` names other keys the command takes (the training settings
    of ``phys train``), for the message about an unknown key.
    """
    parameters = case.pde.signature.parameters
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
            raise UsageError(
                f"--set {key}: unknown key; allowed: {also_allowed}{'; case keys: ' if also_allowed else ''}{allowed}, "
                "a top-level field such as bcs, or a dotted path such as time.dt"
            )
        updates[path] = _parse_value(value)
    return updates


def _case_from_args(args: argparse.Namespace, also_allowed: str = "") -> Case:
    case = resolve_case(args.case)
    updates = parse_overrides(case, args.set or [], also_allowed)
    case, updates = _built_with_parameters(args.case, case, updates)
    if getattr(args, "dtype", None):
        updates["dtype"] = args.dtype
    if getattr(args, "seed", None) is not None:
        updates["seed"] = args.seed
    return case.with_updates(updates) if updates else case


def _built_with_parameters(spec: str, case: Case, updates: dict[str, Any]) -> tuple[Case, dict[str, Any]]:
    """A built-in case rebuilt from the PDE parameters its builder takes (``--set re=1000``), and the other updates.

    A builder such as ``lid_driven_cavity(re=100.0)`` derives its grid and
    step from the parameter, so ``--set re=1000`` gets the resolution meant
    for it; ``--set n=...`` or ``dt=...`` still override what it chose.
    """
    import inspect

    builder = _builtin_cases().get(spec)
    if builder is None:
        return case, updates
    taken = {
        name: updates[f"pde.params.{name}"]
        for name, parameter in inspect.signature(builder).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY or parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        if f"pde.params.{name}" in updates
    }
    if not taken:
        return case, updates
    for name, value in taken.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CaseError(f"pde.params.{name}", f"must be a number, got {value!r}")
    rest = {path: value for path, value in updates.items() if path.removeprefix("pde.params.") not in taken}
    return builder(**{name: float(value) for name, value in taken.items()}), rest


def _cmd_cases(args: argparse.Namespace) -> int:
    builtins = _builtin_cases()
    width = max(map(len, builtins))
    for name in sorted(builtins):
        print(f"{name:<{width}}  {builtins[name]().description}")
    return 0


def _print_signatures(signatures: dict[str, Signature], extra: Callable[[Signature], str]) -> None:
    for name in sorted(signatures):
        signature = signatures[name]
        print(f"{name}: {signature.summary}{extra(signature)}")
        for parameter, info in signature.parameters.items():
            print(f"    {parameter} = {info.default:g}    {info.doc}{_sign_note(info, ascii=True)}")


_SIGN_NOTES = {"positive": "> 0", "non-negative": "≥ 0"}


def _sign_note(parameter: Parameter, *, ascii: bool = False) -> str:
    """`` (≥ 0)`` for a parameter a case may not set below zero, `` (> 0)`` for one it may not set to zero or below.

    ``ascii`` spells ≥ as >= for a terminal, whose encoding may lack it.
    """
    if parameter.sign is None:
        return ""
    note = _SIGN_NOTES[parameter.sign]
    return f" ({note.replace('≥', '>=') if ascii else note})"


def signature_table(signatures: dict[str, Signature], kind: str) -> str:
    """A Markdown table of built-in PDEs (``kind="pde"``) or IC families: what ``docs/cases.md`` shows."""
    if kind == "pde":
        parameters = "parameters (defaults; a value outside a sign, (> 0) or (≥ 0), is refused)"
        lines = [f"| name | equation | fields | dimension | {parameters} |", "|---|---|---|---|---|"]
    else:
        lines = ["| name | what | dimension | parameters (defaults) |", "|---|---|---|---|"]
    def cell(text: str) -> str:
        return text.replace("|", "\\|")  # a literal bar, not a column

    for name in sorted(signatures):
        s = signatures[name]
        parameters = "; ".join(
            f"`{p}` = {info.default:g}{_sign_note(info)}: {cell(info.doc)}" for p, info in s.parameters.items()
        ) or "none"
        dimension = "no space" if s.n_dims == 0 else f"{s.n_dims}D" if s.n_dims else "any"
        if kind == "pde":
            lines.append(f"| `{name}` | {cell(s.summary)} | {', '.join(s.fields)} | {dimension} | {parameters} |")
        else:
            lines.append(f"| `{name}` | {cell(s.summary)} | {dimension} | {parameters} |")
    return "\n".join(lines)


def _cmd_pdes(args: argparse.Namespace) -> int:
    if args.markdown:
        print(signature_table(dict(PDES), "pde"))
        return 0

    def extra(signature: Signature) -> str:
        space = "no space" if signature.n_dims == 0 else f"{signature.n_dims}D" if signature.n_dims else "any dimension"
        return f" [fields {', '.join(signature.fields)}; {space}]"

    _print_signatures(dict(PDES), extra)
    return 0


def _cmd_ics(args: argparse.Namespace) -> int:
    if args.markdown:
        print(signature_table(dict(IC_FAMILIES), "ic"))
        return 0
    _print_signatures(dict(IC_FAMILIES), lambda s: f" [{s.n_dims}D only]" if s.n_dims else "")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    print(_case_from_args(args).to_json())
    return 0


def parse_sweep(case: Case, item: str) -> tuple[str, tuple[float, ...]]:
    """``"a=1,2,4"`` or ``"a=0.5:2:4"`` (linear) or ``"a=0.1:10:3:log"`` to ``("a", values)``.

    The key is a PDE parameter by its ``--set`` short name (or ``pde.params.NAME``);
    every value is checked against the case, so a bad one fails before JAX is imported.
    """
    key, sep, text = item.partition("=")
    key = key.strip().removeprefix("pde.params.")
    parameters = case.pde.signature.parameters
    if not sep or not key or not text:
        raise UsageError(f"--sweep {item}: expected key=v1,v2,... or key=start:stop:num[:log]")
    if key not in parameters:
        raise UsageError(f"--sweep {key}: not a parameter of PDE '{case.pde.name}'; allowed: {', '.join(parameters)}")
    try:
        if ":" in text:
            parts = text.split(":")
            log = len(parts) == 4 and parts[3] == "log"
            if len(parts) not in (3, 4) or (len(parts) == 4 and not log):
                raise ValueError
            start, stop, count = float(parts[0]), float(parts[1]), int(parts[2])
            if count < 1 or (log and (start <= 0 or stop <= 0)):
                raise ValueError
            values = _spaced(start, stop, count, log)
        else:
            values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise UsageError(
            f"--sweep {item}: expected key=v1,v2,... or key=start:stop:num[:log] "
            "(num a positive integer, log with positive ends)"
        ) from None
    for value in values:
        case.with_updates({f"pde.params.{key}": value})  # CaseError names the field
    return key, values


def _spaced(start: float, stop: float, count: int, log: bool) -> tuple[float, ...]:
    """``count`` values from ``start`` to ``stop`` (both included), evenly or geometrically spaced."""
    import math

    if count == 1:
        return (start,)
    if log:
        ratio = math.log(stop / start) / (count - 1)
        return tuple(start * math.exp(ratio * i) if i < count - 1 else stop for i in range(count))
    return tuple(start + (stop - start) * i / (count - 1) if i < count - 1 else stop for i in range(count))


def _ensemble_from_args(case: Case, args: argparse.Namespace) -> dict[str, Any] | None:
    """The runner's ``ensemble`` options, or None for a plain single run."""
    sweep: dict[str, tuple[float, ...]] = {}
    for item in args.sweep or []:
        key, values = parse_sweep(case, item)
        if key in sweep:
            raise UsageError(f"--sweep {key}: given twice")
        sweep[key] = values
    if args.batch is not None and args.batch < 1:
        raise UsageError(f"--batch: must be a positive integer, got {args.batch}")
    if args.chunk is not None and args.chunk < 1:
        raise UsageError(f"--chunk: must be a positive integer, got {args.chunk}")
    shard = None
    if args.shard is not None:
        index, sep, count = args.shard.partition("/")
        if not (sep and index.isdigit() and count.isdigit() and 0 <= int(index) < int(count)):
            raise UsageError(f"--shard {args.shard}: expected i/N with 0 <= i < N")
        shard = (int(index), int(count))
    explicit = (args.coordinator, args.num_processes, args.process_id)
    if any(v is not None for v in explicit) and not args.distributed:
        raise UsageError("--coordinator, --num-processes and --process-id need --distributed")
    if not (sweep or args.batch is not None or args.chunk is not None or shard or args.distributed):
        return None
    size = (args.batch or 1) * _product(len(v) for v in sweep.values())
    if shard is not None and shard[1] > size:
        raise UsageError(f"--shard {args.shard}: {shard[1]} shards for an ensemble of {size} trajectories")
    distributed = None
    if args.distributed:
        distributed = {
            "coordinator_address": args.coordinator,
            "num_processes": args.num_processes,
            "process_id": args.process_id,
        }
    return {"batch": args.batch, "sweep": sweep, "chunk": args.chunk, "shard": shard, "distributed": distributed}


def _product(values: Any) -> int:
    result = 1
    for value in values:
        result *= value
    return result


def _with_initial_file(case: Case, args: argparse.Namespace) -> Case:
    """``--ic FILE [--ic-time T] [--ic-trajectory I]``: start from a snapshot of the case's state fields in FILE.

    With ``--ic-time T`` the clock starts at T: ``t0 = T`` and, unless ``--set``
    gives them, ``t_end`` keeps the case's span (``T + t_end - t0``).
    """
    if args.ic is None:
        for option, value in (("--ic-time", args.ic_time), ("--ic-trajectory", args.ic_trajectory)):
            if value is not None:
                raise UsageError(f"{option}: needs --ic FILE.h5")
        return case
    if not Path(args.ic).is_file():
        raise UsageError(f"--ic {args.ic}: file not found")
    ic: dict[str, Any] = {"kind": "file", "path": args.ic}
    n_trajectories = _trajectories_in(Path(args.ic))
    if args.ic_trajectory is not None:
        if not 0 <= args.ic_trajectory < n_trajectories:
            raise UsageError(f"--ic-trajectory {args.ic_trajectory}: {args.ic} holds trajectories 0 to {n_trajectories - 1}")
        ic["trajectory"] = args.ic_trajectory
    elif n_trajectories > 1:
        raise UsageError(f"--ic {args.ic}: holds {n_trajectories} trajectories; choose one with --ic-trajectory I (0 to {n_trajectories - 1})")
    updates: dict[str, Any] = {"ic": ic}
    if args.ic_time is not None:
        ic["time"] = args.ic_time
        given = {parse_key(item) for item in args.set or []}
        if "time.t0" not in given:
            updates["time.t0"] = args.ic_time
            if "time.t_end" not in given:
                updates["time.t_end"] = args.ic_time + (case.time.t_end - case.time.t0)
    return case.with_updates(updates)


def parse_key(item: str) -> str:
    """The dotted path a ``--set KEY=VALUE`` item names (its alias resolved)."""
    key = item.partition("=")[0].strip()
    return ALIASES.get(key, key)


def _trajectories_in(path: Path) -> int:
    """How many trajectories an HDF5 file of our schema (or The Well's) holds; 1 if it does not say."""
    from phys.io._schema import field_datasets, open_h5

    try:
        with open_h5(path) as file:
            if "n_trajectories" in file.attrs:
                return int(file.attrs["n_trajectories"])
            fields = field_datasets(file)
            return int(next(iter(fields.values()))[1].shape[0]) if fields else 1
    except ValueError as error:
        raise UsageError(f"--ic {path}: {error}") from None


def _writable(directory: Path) -> bool:
    return os.access(directory, os.W_OK | os.X_OK)


def _output_file(text: str, option: str, example: str) -> Path:
    """``--out FILE`` checked before any work: a file name in an existing, writable directory."""
    out = Path(text)
    if out.is_dir() or text.endswith(("/", os.sep)) or out.name in ("", ".", ".."):
        raise UsageError(f"{option} {text}: is a directory; name a file in it, such as {out / example}")
    if not out.parent.is_dir():
        raise UsageError(f"{option} {out}: directory {out.parent} does not exist")
    if not _writable(out.parent):
        raise UsageError(f"{option} {out}: directory {out.parent} is not writable")
    return out


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _picture_file(text: str, option: str) -> Path:
    """``--plot``/``--out`` of a picture: a format matplotlib writes, in a directory that exists or can be made."""
    from matplotlib.backend_bases import FigureCanvasBase  # no JAX; says which formats savefig writes

    path = Path(text)
    formats = FigureCanvasBase.get_supported_filetypes()
    if path.suffix.lower().lstrip(".") not in formats:
        raise UsageError(
            f"{option} {text}: unknown picture format '{path.suffix or '(none)'}'; use one of "
            + ", ".join(f".{ext}" for ext in sorted(formats))
        )
    if path.is_dir():
        raise UsageError(f"{option} {text}: is a directory")
    ancestor = _nearest_existing(path.parent)
    if not ancestor.is_dir() or not _writable(ancestor):
        raise UsageError(f"{option} {text}: cannot create it, {ancestor} is not a writable directory")
    return path


def _check_distributed(args: argparse.Namespace) -> None:
    """``--distributed`` needs a coordinator: the three flags, or SLURM's or Open MPI's variables (as JAX reads them)."""
    if not args.distributed:
        return
    explicit = (args.coordinator, args.num_processes, args.process_id)
    if all(v is not None for v in explicit):
        if args.num_processes < 1 or not 0 <= args.process_id < args.num_processes:
            raise UsageError(f"--process-id {args.process_id}: must be in [0, --num-processes {args.num_processes})")
        return
    slurm = all(name in os.environ for name in ("SLURM_JOB_ID", "SLURM_STEP_NODELIST", "SLURM_NTASKS", "SLURM_PROCID", "SLURM_LOCALID"))
    if any(v is not None for v in explicit) or not (slurm or "OMPI_MCA_orte_hnp_uri" in os.environ):
        raise UsageError(
            "--distributed: no coordinator; run under SLURM (srun) or Open MPI (mpirun), "
            "or give all of --coordinator HOST:PORT --num-processes N --process-id I"
        )


def _max_memory(args: argparse.Namespace) -> tuple[int, str]:
    from phys.resources import machine_memory, parse_size

    if args.max_memory is None:
        return machine_memory(), " (this machine's memory)"
    try:
        return parse_size(args.max_memory), ""
    except ValueError:
        raise UsageError(f"--max-memory {args.max_memory}: expected a size such as 16G, 512M or 2T") from None


def _cmd_run(args: argparse.Namespace) -> int:
    from phys.resources import check_memory

    case = _with_initial_file(_case_from_args(args), args)
    if args.xdmf and case.n_dims == 0:
        raise UsageError(f"--xdmf: case '{case.name}' has no space, and XDMF describes fields on a grid")
    out = _output_file(args.out or f"{case.name}.h5", "--out", f"{case.name}.h5")
    if args.plot:
        _picture_file(args.plot, "--plot")
    if args.saves_per_block is not None and args.saves_per_block < 1:
        raise UsageError(f"--saves-per-block: must be a positive integer, got {args.saves_per_block}")
    _check_distributed(args)
    ensemble = _ensemble_from_args(case, args)
    limit, source = _max_memory(args)
    n_here, in_flight = _trajectories_here(ensemble, args)
    check_memory(case, limit, n_trajectories=n_here, in_flight=in_flight, source=source)
    runner = _runner()
    try:
        path = runner(
            case,
            out=out,
            resume=args.resume,
            plot=Path(args.plot) if args.plot else None,
            xdmf=args.xdmf,
            saves_per_block=args.saves_per_block,
            **({"ensemble": ensemble} if ensemble is not None else {}),
        )
    except ResumeError as error:
        raise UsageError(str(error)) from None
    except KeyboardInterrupt:
        # Shards and ranks write OUT.shard<i>.h5 / OUT.rank<p>.h5 (solvers/run.py).
        split = ensemble is not None and (ensemble["shard"] is not None or ensemble["distributed"] is not None)
        partial = out.with_name(f"{out.stem}.*{out.suffix}.tmp") if split else Path(f"{out}.tmp")
        print(
            f"phys: interrupted; partial output kept in {partial}, run again with --resume to continue",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    print(f"wrote {path}" + (f" and {args.plot}" if args.plot else ""))
    return 0


def _trajectories_here(ensemble: dict[str, Any] | None, args: argparse.Namespace) -> tuple[int, int]:
    """Trajectories this process writes and those on its devices at a time (the memory estimate's counts)."""
    if ensemble is None:
        return 1, 1
    size = (args.batch or 1) * _product(len(v) for v in ensemble["sweep"].values())
    if ensemble["shard"] is not None:
        size = -(-size // ensemble["shard"][1])
    if args.num_processes:
        size = -(-size // args.num_processes)
    return size, min(size, args.chunk or size)


def _cmd_merge(args: argparse.Namespace) -> int:
    from phys.io.merge import merge

    for name in args.files:
        if not Path(name).is_file():
            raise UsageError(f"file not found: {name}")
    out = _output_file(args.out, "--out", "merged.h5")
    try:
        path = merge(args.files, out)
    except ValueError as error:
        raise UsageError(str(error)) from None
    print(f"wrote {path}")
    return 0


def _trainer(name: str = "pinn") -> Any:
    """The training back-end module (``configure``, ``run``, ``settings(method)``); importing it imports no JAX."""
    for entry in entry_points(group="physax.trainers"):
        if entry.name == name:
            return entry.load()
    raise UsageError(f"no training back-end '{name}' is installed (entry point group physax.trainers)")


def _methods() -> list[str]:
    """The training methods registered in the entry point group ``physax.methods`` (plug-ins included)."""
    return sorted({entry.name for entry in entry_points(group="physax.methods")})


def _cmd_train(args: argparse.Namespace) -> int:
    trainer = _trainer()
    # --set items naming a training setting of the method go to the trainer, the rest to the case.
    names = trainer.settings(args.method)
    settings: dict[str, Any] = {}
    case_items = []
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if sep and key.strip() in names:
            settings[key.strip()] = _parse_value(value)
        else:
            case_items.append(item)
    args.set = case_items
    if args.constraints is not None:
        settings["constraints"] = args.constraints
    case = _case_from_args(args, also_allowed=f"training settings ({args.method}): {', '.join(names)}")
    if args.steps is not None and args.steps < 0:
        raise UsageError(f"--steps: must be a non-negative integer, got {args.steps}")
    config = trainer.configure(case, method=args.method, preset_name=args.preset, steps=args.steps, settings=settings)
    out = Path(args.out)
    # A directory, made with its parents if missing (as --plot makes its folder).
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a directory")
    ancestor = _nearest_existing(out)
    if not ancestor.is_dir() or not _writable(ancestor):
        raise UsageError(f"--out {out}: cannot create it, {ancestor} is not a writable directory")
    from phys.resources import check_memory

    limit, source = _max_memory(args)
    check_memory(case, limit, output_dtype=case.dtype, source=source)  # the reference solve is held in memory
    try:
        init_from = None
        if args.init_from is not None:
            init_from = Path(args.init_from)
            if not (init_from / "model.eqx").is_file():
                raise UsageError(f"--init-from {init_from}: no model.eqx there (the --out DIR of an earlier phys train)")
        metrics = trainer.run(case, config, out, resume=args.resume, **({"init_from": init_from} if init_from else {}))
    except KeyboardInterrupt:
        print(f"phys: interrupted; the last checkpoint is in {out}, run again with --resume to continue", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"wrote {out}: rel_l2 = {metrics['rel_l2']:.3e} after {metrics['steps']} steps in {metrics['wall_s']:.1f} s")
    return 0


def _backend(group: str, name: str, what: str) -> Any:
    """The back-end module an installed package registers as entry point ``name`` of ``group``.

    Back-ends (discovery, ROMs) live outside ``phys`` so that imports keep
    their direction; importing one imports no JAX.
    """
    for entry in entry_points(group=group):
        if entry.name == name:
            return entry.load()
    raise UsageError(f"no {what} back-end is installed (entry point group {group})")


def _split_settings(args: argparse.Namespace, known: Any) -> dict[str, Any]:
    """Take the ``--set KEY=VALUE`` items whose key is a back-end setting out of ``args.set``; the rest stay for the case."""
    settings: dict[str, Any] = {}
    case_items = []
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if sep and key.strip() in known:
            settings[key.strip()] = _parse_value(value)
        else:
            case_items.append(item)
    args.set = case_items
    return settings


def _cmd_discover(args: argparse.Namespace) -> int:
    backend = _backend("physax.discovery", "discover", "discovery")
    settings = _split_settings(args, backend.SETTINGS)
    case = _case_from_args(args)
    for option, name in (("derivatives", "derivatives"), ("degree", "degree"), ("route", "route"), ("n_data", "n_data"),
                         ("n_points", "n_points"), ("noise", "noise")):
        value = getattr(args, option)
        if value is not None:
            settings[name] = value
    config = backend.configure(case, hidden=args.hidden, extra=args.extra or [], settings=settings)
    data = Path(args.data)
    if not data.is_file():
        raise UsageError(f"--data {data}: file not found")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a directory")
    metrics = backend.run(case, config, data, out)
    terms = "; ".join(f"{field}: " + (" + ".join(f"{e['coefficient']:.4g} {e['term']}" for e in entries) or "0")
                      for field, entries in metrics["formula"].items())
    print(f"wrote {out}: {terms}; re-solved rel. L2 {metrics['resolve_rel_l2']:.3e} in {metrics['wall_s']:.0f} s")
    for weak in metrics["weak_terms"]:
        print(f"phys: warning: {weak['field']}: {weak['term']} is weakly supported by the data: dropping it raises the "
              f"{config.criterion.upper()} by only {weak['evidence']:.2g} (below {metrics['strong_evidence']:g}, 'strong' evidence)", file=sys.stderr)
    return 0


def _cmd_rom(args: argparse.Namespace) -> int:
    backend = _backend("physax.rom", "rom", "reduced-order-model")
    if args.method not in backend.METHODS:
        raise UsageError(f"--method {args.method}: unknown ROM method; choose from {', '.join(backend.METHODS)}")
    settings = _split_settings(args, backend.SETTINGS)
    case = _case_from_args(args, also_allowed=f"ROM settings: {', '.join(backend.SETTINGS)}")
    data = Path(args.data) if args.data else None
    if data is not None and not data.is_file():
        raise UsageError(f"--data {data}: file not found")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a directory")
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: directory {out.parent} does not exist")
    config = backend.configure(case, method=args.method, settings=settings, data=data)
    metrics = backend.run(case, config, data, out)
    parts = []
    for name in ("train", "interpolation", "extrapolation"):
        errors = metrics.get(name) or {}
        if errors.get("in_horizon") is not None:
            beyond = errors.get("beyond")
            parts.append(f"{name} {errors['in_horizon']:.3g} / {beyond:.3g}" if beyond is not None else f"{name} {errors['in_horizon']:.3g}")
    print(f"wrote {out}: {metrics['method']} error in horizon / beyond: {'; '.join(parts)} in {metrics['wall_s']:.0f} s")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from phys.io import validate

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"file not found: {path}")
    problems = validate(path)
    if problems:
        for problem in problems:
            print(f"{path}: {problem}", file=sys.stderr)
        return 1
    print(f"{path}: valid")
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from phys.io import plot_file

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"file not found: {path}")
    out = _picture_file(args.out, "--out") if args.out else path.with_suffix(".png")
    try:
        plot_file(path, out, field=args.field)
    except ValueError as error:  # not HDF5, truncated, an unknown field: one line
        raise UsageError(str(error)) from None
    except KeyError as error:  # HDF5, but not our schema (a foreign file)
        raise UsageError(f"{path}: not a file of physax's schema ({error.args[0] if error.args else error}); "
                         f"phys validate {path} lists what is missing") from None
    print(f"wrote {out}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from phys.io import write_xdmf
    from phys.io.well import DEFAULT_SPLIT, export_well, parse_split

    for name in args.files:
        if not Path(name).is_file():
            raise UsageError(f"file not found: {name}")
    try:
        if args.well is None:
            if args.name is not None or args.split is not None:
                raise UsageError("--name and --split go with --well ROOT")
            for name in args.files:  # each sidecar is complete before the next file is looked at
                print(f"wrote {write_xdmf(name)}")
            return 0
        if not args.name:
            raise UsageError("--well needs --name NAME, the dataset's folder under ROOT")
        split = parse_split(args.split) if args.split is not None else DEFAULT_SPLIT
        result = export_well(args.files, args.well, args.name, split)
    except ValueError as error:  # a file or split the export cannot take: one line, not a traceback
        raise UsageError(str(error)) from None
    counts = ", ".join(f"{name} {n} ({len(result.files[name])} files)" for name, n in result.trajectories.items())
    print(f"wrote {result.path}: trajectories per split: {counts}; stats.yaml from train")
    if result.n_spatial_dims == 0:
        print("note: these fields have no space axes; load them with WellDataset(..., return_grid=False)")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="phys", description="physax: solve, learn and export physics cases.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sub.add_parser("cases", help="list the built-in cases").set_defaults(func=_cmd_cases)
    for name, func, what in (("pdes", _cmd_pdes, "PDEs"), ("ics", _cmd_ics, "initial-condition families")):
        listing = sub.add_parser(name, help=f"list the built-in {what} with their parameters and defaults")
        listing.add_argument("--markdown", action="store_true", help="as a Markdown table (docs/cases.md)")
        listing.set_defaults(func=func)

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
    run.add_argument("--ic", metavar="FILE.h5", help="start from the last snapshot of the state fields in FILE.h5")
    run.add_argument("--ic-time", type=float, metavar="T",
                     help="with --ic: the snapshot saved at time T instead; the run starts at t0 = T")
    run.add_argument("--ic-trajectory", type=int, metavar="I", help="with --ic: trajectory I of a file holding several")
    run.add_argument("--max-memory", metavar="SIZE",
                     help="refuse runs estimated above SIZE (output + solver state; default: this machine's memory)")
    ensemble = run.add_argument_group("ensembles (see docs/slurm.md)")
    ensemble.add_argument("--batch", type=int, metavar="B", help="B trajectories, seeds bits(fold_in(key(SEED), i))")
    ensemble.add_argument("--sweep", action="append", metavar="KEY=VALUES",
                          help="vary a PDE parameter: a=1,2,4 or a=start:stop:num[:log]; outer product with --batch")
    ensemble.add_argument("--chunk", type=int, metavar="K", help="solve K trajectories at a time (device memory)")
    ensemble.add_argument("--shard", metavar="i/N", help="run the i-th of N slices of the ensemble (job arrays)")
    ensemble.add_argument("--distributed", action="store_true",
                          help="jax.distributed over processes (SLURM/Open MPI detected); writes OUT.rank<i>.h5")
    ensemble.add_argument("--coordinator", metavar="HOST:PORT", help="with --distributed: the coordinator's address")
    ensemble.add_argument("--num-processes", type=int, help="with --distributed: number of processes")
    ensemble.add_argument("--process-id", type=int, help="with --distributed: this process's rank")
    run.set_defaults(func=_cmd_run)

    merge = sub.add_parser("merge", help="join the per-rank / per-shard files of an ensemble into one")
    merge.add_argument("files", nargs="+")
    merge.add_argument("--out", required=True, help="merged HDF5 file")
    merge.set_defaults(func=_cmd_merge)

    train_help = (
        "train a PINN on a case and compare it with the solver's solution; writes DIR/model.eqx, "
        "DIR/prediction.h5, DIR/metrics.json and DIR/training.png. Training settings (width, depth, "
        "lbfgs_steps, n_residual, n_chunks, learning_rate, ...) are set with --set like case fields. "
        "The methods are those registered in the entry point group physax.methods (plug-ins included). "
        "Patent notice: --method causal is the causal training of Wang, Sankaran & Perdikaris (2022), "
        "protected by a patent of the University of Pennsylvania; its authors state it cannot be used "
        "for commercial purposes."
    )
    train = sub.add_parser("train", help="train a PINN on a case (plain, causal, Lagrangian, or a plug-in's method)", description=train_help)
    case_arguments(train)
    methods = _methods()
    train.add_argument("--method", default="pinn", choices=methods,
                       help=f"one of {', '.join(methods)} (causal: patented, research use only; see above)")
    train.add_argument("--steps", type=int, help="Adam steps (default: the preset's)")
    train.add_argument("--init-from", metavar="DIR",
                       help="start from the weights of an earlier run's DIR/model.eqx, same network settings (a Reynolds "
                            "number ramp: train at re=100, then --set re=400 --init-from that run)")
    train.add_argument("--constraints", choices=("soft", "hard"),
                       help="a wall-bounded flow's boundary conditions as loss terms (soft, the default) or built into "
                            "the network's output from the geometry's distance functions (hard)")
    train.add_argument("--preset", default="cpu", choices=("cpu", "paper"),
                       help="cpu: minutes on a CPU; paper: the published configuration, for GPUs")
    train.add_argument("--out", required=True, metavar="DIR", help="output directory")
    train.add_argument("--resume", action="store_true", help="continue from DIR's checkpoint (--steps N extends it)")
    train.add_argument("--max-memory", metavar="SIZE", help="refuse a reference solve estimated above SIZE")
    train.set_defaults(func=_cmd_train)

    discover = sub.add_parser(
        "discover",
        help="discover hidden terms of a case's PDE from measurements, as a formula",
        description="A network for the missing terms of the case's PDE is fitted to the measurements, then turned into "
        "a formula by sparse regression, refined and checked by re-solving. Settings (steps, width, depth, "
        "learning_rate, refine_steps, criterion, ridge, seed, ...) are set with --set like case fields.",
    )
    case_arguments(discover)
    discover.add_argument("--data", required=True, metavar="FILE.h5", help="measurements: an HDF5 file of our schema")
    discover.add_argument("--hidden", required=True, metavar="FIELD[,FIELD...]", help="fields whose right-hand side misses terms")
    discover.add_argument("--derivatives", type=int, metavar="K", help="space derivatives up to order K among the inputs")
    discover.add_argument("--degree", type=int, metavar="D", help="highest degree of the candidate monomials")
    discover.add_argument("--extra", action="append", metavar="NAME=EXPR", help="an extra candidate function, e.g. sin_u=sin(u)")
    discover.add_argument("--route", metavar="{solver,pinn}", help="fit the network inside the solver or a PINN")
    discover.add_argument("--n-data", type=int, metavar="N", help="use N evenly spaced measured times")
    discover.add_argument("--n-points", type=int, metavar="P", help="use P evenly spaced grid points (PDEs)")
    discover.add_argument("--noise", type=float, metavar="SIGMA", help="add Gaussian noise, SIGMA x each field's mean |value|")
    discover.add_argument("--out", required=True, metavar="DIR", help="output directory")
    discover.set_defaults(func=_cmd_discover)

    rom = sub.add_parser(
        "rom",
        help="train a reduced-order model (Phi-ROM, data-only or PINN-ROM) on an ensemble of a case",
        description="A latent model (auto-decoder, sine-MLP neural field, latent ODE) is trained on the first part of "
        "an ensemble of the case's solver (solved here, or --data FILE written by phys run CASE --sweep ...) and "
        "forecasts unseen parameters beyond the training horizon. Writes DIR/model.eqx, DIR/prediction.h5, "
        "DIR/metrics.json and DIR/rom.png. Settings (latent_dim, epochs, gamma, loss_lambda, warmup_epochs, sweep, "
        "train_values, ...) are set with --set like case fields; see docs/rom.md.",
    )
    case_arguments(rom)
    rom.add_argument("--method", default="phi", metavar="{phi,data,pinn}",
                     help="phi: Phi-ROM (the solver's tendency); data: data-only; pinn: PINN-ROM (autodiff residual)")
    rom.add_argument("--data", metavar="FILE.h5", help="the ensemble to learn from (default: solve it)")
    rom.add_argument("--out", required=True, metavar="DIR", help="output directory")
    rom.set_defaults(func=_cmd_rom)

    validate = sub.add_parser("validate", help="check an HDF5 output against the schema")
    validate.add_argument("file")
    validate.set_defaults(func=_cmd_validate)

    plot = sub.add_parser("plot", help="picture of an HDF5 output")
    plot.add_argument("file")
    plot.add_argument("--out", help="PNG file (default: FILE with .png)")
    plot.add_argument("--field")
    plot.set_defaults(func=_cmd_plot)

    export = sub.add_parser(
        "export",
        help="write XDMF sidecars so ParaView opens HDF5 outputs, or The Well's dataset layout (--well)",
        description="Without --well: FILE.xdmf next to each FILE, for ParaView's XDMF readers. With --well ROOT "
        "--name NAME: ROOT/NAME/data/{train,valid,test}/*.h5 and ROOT/NAME/stats.yaml for the_well.data.WellDataset; "
        "the trajectories of the FILEs, in the order given, are cut into consecutive runs by the split's fractions "
        "(docs/readers.md).",
    )
    export.add_argument("files", nargs="+", metavar="FILE")
    export.add_argument("--well", metavar="ROOT", help="write The Well's layout under ROOT (a new ROOT/NAME)")
    export.add_argument("--name", help="with --well: the dataset's folder name under ROOT")
    export.add_argument("--split", metavar="train=F,valid=F,test=F",
                        help="with --well: fractions of the trajectories per split (default train=0.8,valid=0.1,test=0.1)")
    export.set_defaults(func=_cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        return args.func(args)
    except (UsageError, CaseError) as error:
        print(f"phys: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # `phys pdes | head`: the reader left; nothing more to say
        sys.stderr.close()
        return 0
    except Exception as error:  # a failed solve is reported, not dumped as a traceback
        from phys.errors import SolveError

        if isinstance(error, SolveError):
            print(f"phys: error: {error}", file=sys.stderr)
            return EXIT_SOLVE_FAILED
        raise


if __name__ == "__main__":
    sys.exit(main())
