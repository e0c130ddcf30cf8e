"""``phys rom``: bad input is one line, exit status 2, and nothing written."""

from __future__ import annotations

import math

import numpy as np
import pytest

from phys.case import Case
from phys.cli import main

_STILL = '''
from jaxtyping import Array, Float

import phys


class Still(phys.AbstractPDE):
    """u_t = 0: nothing to vary."""

    fields = ("u",)
    n_dims = 1

    def linear(self):
        return {"u": {}}

    def nonlinear(self, d):
        return {"u": {}}


CASE = phys.Case(
    name="still",
    pde={"name": "__main__:Still"},
    domain={"length": 1.0},
    grid={"n": 8},
    ic={"kind": "family", "name": "sine", "params": {"amplitude": 1.0, "wavenumber": 1.0}},
    time={"t_end": 0.2, "dt": 0.1},
)
'''


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("phys: error: ")
    return err


def test_phys_rom_refuses_a_case_with_nothing_to_vary(tmp_path, capsys):
    import textwrap

    source = tmp_path / "still.py"
    source.write_text(textwrap.dedent(_STILL).replace("__main__:Still", "still:Still"))
    out = tmp_path / "run"
    assert main(["rom", str(source), "--out", str(out)]) == 2
    err = _one_line_error(capsys)
    assert "nothing to vary" in err and "no parameters" in err and "--data" in err
    assert not out.exists()


def test_phys_rom_refuses_an_unknown_method(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["rom", "burgers-forced", "--method", "dmd", "--out", str(out)]) == 2
    err = _one_line_error(capsys)
    assert err == "phys: error: --method dmd: unknown ROM method; choose from phi, data, pinn"
    assert not out.exists()


def test_phys_rom_refuses_a_data_file_of_another_case(tmp_path, capsys):
    from phys.io import TrajectoryWriter

    other = Case(
        name="convection-small",
        pde={"name": "convection", "params": {"beta": 1.0}},
        domain={"length": 2 * math.pi},
        grid={"n": 16},
        ic={"kind": "family", "name": "sine", "params": {"amplitude": 1.0, "wavenumber": 1.0}},
        time={"t_end": 0.2, "dt": 0.1},
    )
    x = np.arange(16) * 2 * math.pi / 16
    writer = TrajectoryWriter.create(tmp_path / "other.h5", other, tensor_order={"u": 0}, n_trajectories=2,
                                     times=np.array([0.0, 0.1, 0.2]), coords=(x,), scalars={"beta": np.array([1.0, 2.0])})
    writer.append({"u": np.zeros((2, 3, 16))})
    data = writer.finalize()
    out = tmp_path / "run"
    assert main(["rom", "burgers-forced", "--data", str(data), "--out", str(out)]) == 2
    err = _one_line_error(capsys)
    assert "holds case 'convection-small'" in err and "not 'burgers-forced'" in err
    assert not out.exists()


def test_phys_rom_refuses_an_unknown_setting_naming_the_allowed_ones(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["rom", "burgers-forced", "--set", "gamma=2", "--out", str(out)]) == 2
    assert _one_line_error(capsys) == "phys: error: gamma: must be a number in (0, 1], got 2"
    assert not out.exists()


def test_an_ensemble_file_is_split_into_the_sets_by_its_swept_values(tmp_path):
    from phys.io import TrajectoryWriter
    from rom.config import build_config
    from rom.data import read_sets

    case = Case(
        name="convection-small",
        pde={"name": "convection", "params": {"beta": 1.0}},
        domain={"length": 2 * math.pi},
        grid={"n": 16},
        ic={"kind": "family", "name": "sine", "params": {"amplitude": 1.0, "wavenumber": 1.0}},
        time={"t_end": 0.3, "dt": 0.1},
    )
    x = np.arange(16) * 2 * math.pi / 16
    beta = np.array([2.0, 1.5, 3.0, 1.0])
    writer = TrajectoryWriter.create(tmp_path / "sweep.h5", case, tensor_order={"u": 0}, n_trajectories=4,
                                     times=np.arange(4) * 0.1, coords=(x,), scalars={"beta": beta})
    # Trajectory b holds the value b + t everywhere, so each set's rows can be told apart.
    writer.append({"u": np.arange(4.0)[:, None, None] + np.arange(4.0)[None, :, None] + np.zeros((4, 4, 16))})
    path = writer.finalize()
    config = build_config(case, "phi", {"sweep": "beta", "train_values": [1.0, 2.0], "interpolation_values": [1.5],
                                        "extrapolation_values": [3.0], "train_fraction": 0.5}, data_file=True)
    data = read_sets(case, config, path)
    assert data.parameter == "beta" and data.n_train_steps == 2
    assert data.sets["train"].params[:, 0].tolist() == [2.0, 1.0]
    assert data.sets["train"].fields[:, 0, 0, 0].tolist() == [0.0, 3.0]
    assert data.sets["interpolation"].fields[:, 0, 0, 0].tolist() == [1.0]
    assert data.sets["extrapolation"].params[:, 0].tolist() == [3.0]
    assert data.sets["train"].fields.shape == (2, 4, 1, 16)
