"""Case schema: JSON round trip, stable hash, immutability and one-line errors naming the field."""

from __future__ import annotations

import hashlib
import json
import math

import pytest

from cases import REGISTRY, get
from phys._registry import PDES
from phys.case import Case, CaseError


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_json_round_trip_preserves_case_and_hash(name: str) -> None:
    case = get(name)
    again = Case.from_json(case.to_json())
    assert again == case
    assert again.sha256() == case.sha256()


def test_hash_is_sha256_of_sorted_compact_json() -> None:
    case = get("ks")
    canonical = json.dumps(json.loads(case.to_json()), sort_keys=True, separators=(",", ":"))
    assert case.sha256() == hashlib.sha256(canonical.encode()).hexdigest()


def test_hash_ignores_key_order_and_defaults_spelled_out() -> None:
    case = get("ks")
    data = json.loads(case.to_json())
    reordered = dict(reversed(list(data.items())))
    assert Case(**reordered).sha256() == case.sha256()
    # Leaving out a default parameter gives the same case: defaults are filled in.
    data["pde"]["params"].pop("c")
    assert Case(**data).sha256() == case.sha256()


def test_hash_changes_with_any_physical_input() -> None:
    case = get("ks")
    hashes = {
        case.sha256(),
        case.with_updates({"pde.params.a": 1.01}).sha256(),
        case.with_updates({"time.dt": 0.125}).sha256(),
        case.with_updates({"seed": 1}).sha256(),
        case.with_updates({"grid.n": 256}).sha256(),
    }
    assert len(hashes) == 5


def test_case_is_immutable() -> None:
    case = get("ks")
    with pytest.raises(Exception):
        case.seed = 3  # type: ignore[misc]


def test_scalars_broadcast_to_the_pde_dimension() -> None:
    case = get("ks").with_updates({"grid.n": 256, "domain.length": 100})
    assert case.grid.n == (256,) and case.domain.length == (100.0,)


def test_step_counts() -> None:
    time = get("ks").time
    assert (time.n_steps, time.save_every, time.n_saves) == (600, 4, 151)


KS = get("ks")
BAD_INPUTS = [
    ({"time.dt": -0.25}, "time.dt: must be positive, got -0.25"),
    ({"time.dt": 0.0}, "time.dt: must be positive, got 0.0"),
    ({"grid.n": 0}, "grid.n: must be a positive integer, got 0"),
    ({"grid.n": 12.5}, "grid.n: must be a positive integer, got 12.5"),
    ({"grid.n": "many"}, "grid.n: must be a positive integer, got 'many'"),
    ({"time.t_end": -1.0}, "time.t_end: must be after t0 = 0.0, got -1.0"),
    ({"pde.params.nu": 0.1}, "pde.params.nu: unknown parameter for PDE 'kuramoto-sivashinsky'; allowed: a, b, c"),
    ({"pde.params.a": math.nan}, "pde.params.a: must be a finite number, got nan"),
    ({"pde.name": "navier"}, f"pde.name: unknown PDE 'navier'; built in: {', '.join(sorted(PDES))}, "
     "or a class of your own as 'module:Class'"),
    (
        {"bcs": [{"kind": "robin"}]},
        "bcs[0].kind: unknown boundary condition kind 'robin'; allowed: periodic, dirichlet, neumann, wall, inflow-outflow",
    ),
    (
        {"bcs": [{"kind": "dirichlet"}]},
        "bcs[0].kind: solver 'etdrk' is spectral and needs 'periodic', got 'dirichlet'",
    ),
    ({"time.save_dt": 0.3}, "time.save_dt: must be a whole multiple of dt = 0.25, got 0.3"),
    ({"solver.order": 5}, "solver.order: must be 1, 2, 3 or 4, got 5"),
    ({"dtype": "float16"}, "dtype: must be 'float32' or 'float64', got 'float16'"),
    ({"ic.params.width": 2.0}, "ic.params.width: unknown parameter for initial condition 'kassam-trefethen'; allowed: scale"),
    ({"domain.length": -3.0}, "domain.length: must be positive and finite, got -3.0"),
]


@pytest.mark.parametrize("updates, message", BAD_INPUTS, ids=[m.split(":")[0] for _, m in BAD_INPUTS])
def test_bad_input_names_the_field(updates: dict, message: str) -> None:
    with pytest.raises(CaseError) as info:
        KS.with_updates(updates)
    assert str(info.value) == message
    assert "\n" not in str(info.value)


def test_unknown_top_level_field_is_named() -> None:
    data = json.loads(KS.to_json())
    data["viscosity"] = 1.0
    with pytest.raises(CaseError, match=r"^viscosity: unknown field$"):
        Case(**data)


def test_invalid_json_is_one_line() -> None:
    with pytest.raises(CaseError, match=r"^not valid JSON: "):
        Case.from_json("{not json")


def test_a_case_without_a_scheme_gets_one_that_fits_its_boundaries() -> None:
    from cases import get

    bounded = get("burgers").to_dict()
    del bounded["solver"]
    assert Case(**bounded).solver.method == "finite-difference"
    bounded["solver"] = {"order": 2}  # settings without a method name
    assert Case(**bounded).solver.method == "finite-difference" and Case(**bounded).solver.order == 2
    periodic = KS.to_dict()
    del periodic["solver"]
    assert Case(**periodic).solver.method == "etdrk"
    assert Case(**periodic).sha256() == KS.sha256()  # the filled-in default is what is hashed
