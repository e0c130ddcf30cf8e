"""A PDE written once, in a user's case file: solved spectrally and by finite differences, and a PINN residual.

The equation is defined here, not in the package: viscous Burgers written
from scratch as ``phys.AbstractPDE``, with its initial condition as a
function in the same file. Its exact solution (Cole-Hopf with
``phi = a + exp(-nu pi^2 t) cos(pi x)``)::

    u = 2 nu pi exp(-nu pi^2 t) sin(pi x) / (a + exp(-nu pi^2 t) cos(pi x))

is 2-periodic and vanishes at x = 0 and 1, so it is the solution on the
periodic [0, 2) and with zero Dirichlet ends on [0, 1] alike.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from phys.case import Case, CaseError
from phys.cli import main

NU, A = 0.1, 2.0

PDE_SOURCE = '''
from jaxtyping import Array, Float
import jax.numpy as jnp

import phys


class ViscousBurgers(phys.AbstractPDE):
    """u_t + u u_x = nu u_xx, written by a user."""

    nu: Float[Array, ""] = 0.1
    """viscosity"""

    fields = ("u",)
    n_dims = 1

    def linear(self):
        return {"u": {(2,): self.nu}}

    def nonlinear(self, d):
        return {"u": {(1,): -0.5 * d("u") ** 2}}


def cole_hopf(coords, lengths, key, *, nu=0.1, a=2.0):
    """The Cole-Hopf solution at t = 0.

    Parameters:
        nu: viscosity
        a: constant of the potential (> 1)
    """
    (x,) = coords
    return 2 * nu * jnp.pi * jnp.sin(jnp.pi * x) / (a + jnp.cos(jnp.pi * x))
'''


def exact(x: np.ndarray, t: float, nu: float = NU, a: float = A) -> np.ndarray:
    decay = np.exp(-nu * math.pi**2 * t)
    return 2 * nu * math.pi * decay * np.sin(math.pi * x) / (a + decay * np.cos(math.pi * x))


def _case_file(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text(PDE_SOURCE + textwrap.dedent(body))
    return path


PERIODIC = """
CASE = phys.Case(
    name="user-burgers-periodic",
    pde=ViscousBurgers(nu=0.1),
    domain={"length": 2.0},
    grid={"n": 64},
    ic={"kind": "family", "name": cole_hopf, "params": {"nu": 0.1, "a": 2.0}},
    time={"t_end": 1.0, "dt": 0.01, "save_dt": 0.25},
    dtype="float64",
)
"""

DIRICHLET = """
CASE = phys.Case(
    name="user-burgers-dirichlet",
    pde=ViscousBurgers(nu=0.1),
    domain={"length": 1.0},
    grid={"n": {n}},
    bcs={"kind": "dirichlet", "lower": 0.0, "upper": 0.0},
    ic={"kind": "family", "name": cole_hopf, "params": {"nu": 0.1, "a": 2.0}},
    time={"t_end": 1.0, "dt": 0.002, "save_dt": 0.25},
    dtype="float64",
)
"""


def _solve_file(path: Path, tmp_path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    out = tmp_path / f"{path.stem}.h5"
    assert main(["run", str(path), "--out", str(out)]) == 0
    with h5py.File(out) as file:
        return file["dimensions/time"][()], file["dimensions/x"][()], file["t0_fields/u"][0]


def test_user_pde_solved_spectrally_matches_its_exact_solution(tmp_path: Path) -> None:
    times, x, u = _solve_file(_case_file(tmp_path, "user_periodic", PERIODIC), tmp_path)
    assert times.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    errors = [np.max(np.abs(u[i] - exact(x.astype(np.float64), t))) / np.max(np.abs(exact(x, t))) for i, t in enumerate(times)]
    # The file is float32: the solve's own error (spectral, ETDRK4) is far below it.
    assert max(errors) < 1e-6, errors
    assert max(errors[1:]) > 0  # the field changed and was compared


def test_user_pde_by_finite_differences_converges_at_second_order(tmp_path: Path) -> None:
    errors = []
    for n in (33, 65):
        path = _case_file(tmp_path, f"user_dirichlet_{n}", DIRICHLET.replace("{n}", str(n)))
        times, x, u = _solve_file(path, tmp_path)
        errors.append(np.max(np.abs(u[-1] - exact(x.astype(np.float64), 1.0))))
    # Measured: 1.07e-4 and 2.69e-5 (order 2.00).
    slope = math.log(errors[0] / errors[1]) / math.log(2)
    assert errors[1] < 4e-5 and 1.8 < slope < 2.2, (errors, slope)


def test_user_pde_pinn_residual_vanishes_at_the_exact_solution(tmp_path: Path) -> None:
    from phys._imports import load_case_module
    from pinns.residual import residuals

    module = load_case_module(_case_file(tmp_path, "user_residual", PERIODIC))
    pde = module.CASE.pde.build("float64")

    def u(z: jax.Array) -> jax.Array:
        t, x = z[0], z[1]
        decay = jnp.exp(-NU * jnp.pi**2 * t)
        return (2 * NU * jnp.pi * decay * jnp.sin(jnp.pi * x) / (A + decay * jnp.cos(jnp.pi * x)))[None]

    points = jax.random.uniform(jax.random.key(0), (64, 2), jnp.float64) * jnp.asarray([[1.0, 2.0]])
    r = residuals(pde, u, points)
    wrong = residuals(type(pde)(nu=1.05 * NU), u, points)
    assert float(jnp.max(jnp.abs(r))) < 1e-13
    assert float(jnp.max(jnp.abs(wrong))) > 1e-3


def test_user_case_json_round_trip_records_the_class_by_import_path(tmp_path: Path, capsys) -> None:
    path = _case_file(tmp_path, "user_json", PERIODIC)
    assert main(["show", str(path)]) == 0
    text = capsys.readouterr().out
    data = json.loads(text)
    assert data["pde"] == {"name": "user_json:ViscousBurgers", "params": {"nu": 0.1}}
    assert data["ic"]["name"] == "user_json:cole_hopf"
    saved = tmp_path / "saved.json"
    saved.write_text(text)
    from phys._imports import load_case_module

    original = load_case_module(path).CASE
    again = Case.from_json(text)
    assert again == original and again.sha256() == original.sha256()
    # Another process, in another folder, finds the class next to the JSON file.
    other = tmp_path / "elsewhere"
    other.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "phys.cli", "run", str(saved), "--out", "copy.h5"], cwd=other, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    with h5py.File(other / "copy.h5") as file:
        assert file.attrs["case_sha256"] == original.sha256()


BROKEN = {
    "no_fields": (
        "class Broken(phys.AbstractPDE):\n    nu: Float[Array, ''] = 1.0\n    n_dims = 1\n"
        "    def linear(self): return {'u': {(2,): self.nu}}\n    def nonlinear(self, d): return {}\n",
        "Broken: class attribute 'fields' is missing",
    ),
    "unknown_field": (
        "class Broken(phys.AbstractPDE):\n    nu: Float[Array, ''] = 1.0\n    fields = ('u',)\n    n_dims = 1\n"
        "    def linear(self): return {'w': {(2,): self.nu}}\n    def nonlinear(self, d): return {}\n",
        "Broken: linear() returns a term for 'w', which is not one of fields ('u',)",
    ),
    "not_multi_index": (
        "class Broken(phys.AbstractPDE):\n    nu: Float[Array, ''] = 1.0\n    fields = ('u',)\n    n_dims = 1\n"
        "    def linear(self): return {'u': {'xx': self.nu}}\n    def nonlinear(self, d): return {}\n",
        "Broken: linear()['u'] has key 'xx', which is not a multi-index",
    ),
    "not_an_array": (
        "class Broken(phys.AbstractPDE):\n    mode: str = 'fast'\n    fields = ('u',)\n    n_dims = 1\n"
        "    def linear(self): return {'u': {(2,): 1.0}}\n    def nonlinear(self, d): return {}\n",
        "Broken: parameter 'mode' is annotated str, not an array",
    ),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_a_pde_that_breaks_the_contract_is_one_line_exit_2_nothing_written(kind: str, tmp_path: Path, capsys) -> None:
    source, expected = BROKEN[kind]
    path = tmp_path / f"broken_{kind}.py"
    path.write_text(
        "from jaxtyping import Array, Float\nimport phys\n\n" + source
        + "\nCASE = phys.Case(name='broken', pde=Broken(), domain={'length': 1.0}, grid={'n': 16},"
        " ic={'kind': 'family', 'name': 'sine'}, time={'t_end': 0.1, 'dt': 0.01})\n"
    )
    out = tmp_path / "out.h5"
    assert main(["run", str(path), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("phys: error: pde: ") and expected in error, error
    assert error.count("\n") == 1
    assert not out.exists() and not Path(f"{out}.tmp").exists()


def test_an_unimportable_class_in_a_json_case_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    case = {
        "name": "lost", "pde": {"name": "no_such_module:Heat", "params": {}}, "domain": {"length": [1.0]},
        "grid": {"n": [16]}, "ic": {"kind": "family", "name": "sine"}, "time": {"t_end": 0.1, "dt": 0.01},
    }
    path = tmp_path / "lost.json"
    path.write_text(json.dumps(case))
    assert main(["run", str(path), "--out", str(tmp_path / "x.h5")]) == 2
    error = capsys.readouterr().err
    assert error == (
        "phys: error: pde.name: PDE class 'no_such_module:Heat': cannot import module 'no_such_module' "
        "(not on sys.path, nor no_such_module.py in the working directory)\n"
    )
    assert list(tmp_path.iterdir()) == [path]
    with pytest.raises(CaseError, match=r"^pde\.name: PDE class 'phys:NoSuchClass': module 'phys' has no attribute 'NoSuchClass'$"):
        Case.from_json(json.dumps({**case, "pde": {"name": "phys:NoSuchClass"}}))
