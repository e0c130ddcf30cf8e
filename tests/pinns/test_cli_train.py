"""``phys train``: its outputs, and bad settings rejected in one line before JAX is imported."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from phys.cli import main
from phys.io import read, validate

_CASE = {
    "name": "convection-small",
    "pde": {"name": "convection", "params": {"beta": 1.0}},
    "domain": {"length": 6.283185307179586},
    "grid": {"n": 32},
    "ic": {"kind": "family", "name": "sine", "params": {"amplitude": 1.0, "wavenumber": 1.0}},
    "time": {"t_end": 0.5, "dt": 0.05, "save_dt": 0.1},
}
_TINY = ["--set", "width=8", "--set", "depth=1", "--set", "n_residual=64", "--set", "n_chunks=4", "--set", "n_initial=16"]


def test_phys_train_writes_model_prediction_metrics_and_plot(tmp_path, capsys):
    case_file = tmp_path / "case.json"
    case_file.write_text(json.dumps(_CASE))
    out = tmp_path / "run"
    assert main(["train", str(case_file), "--method", "causal", "--steps", "20", *_TINY, "--out", str(out)]) == 0
    for name in ("model.eqx", "prediction.h5", "metrics.json", "training.png"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["steps"] == 20 and metrics["method"] == "causal" and metrics["config"]["network"]["width"] == 8
    assert validate(out / "prediction.h5") == []
    prediction = read(out / "prediction.h5")
    assert prediction.attrs.get("case_sha256", metrics["case_sha256"]) == metrics["case_sha256"]
    # rel_l2 is the error of the saved prediction against the exact solution sin(x - t),
    # which the spectral solver reproduces to rounding (float32 on disk).
    t, x = prediction.time, prediction.coords["x"]
    exact = np.sin(x[None, :] - t[:, None])
    error = np.linalg.norm(prediction["u"][0] - exact) / np.linalg.norm(exact)
    assert abs(error - metrics["rel_l2"]) < 1e-4 * max(1.0, metrics["rel_l2"])
    assert "rel_l2" in capsys.readouterr().out


def test_phys_train_rejects_a_bad_setting_in_one_line_without_jax(tmp_path):
    script = (
        "import sys\n"
        "from phys.cli import main\n"
        f"code = main(['train', 'burgers', '--set', 'width=-3', '--out', {str(tmp_path / 'x')!r}])\n"
        "assert 'jax' not in sys.modules, 'JAX imported before validation'\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == "phys: error: width: must be a positive integer, got -3"


def test_phys_train_names_what_it_cannot_train(tmp_path, capsys):
    assert main(["train", "ns-kolmogorov", "--out", str(tmp_path / "ns")]) == 2
    assert capsys.readouterr().err.startswith("phys: error: pde.name: PINN training of 'navier-stokes-2d' is not supported")
    assert not (tmp_path / "ns").exists()
    # An exact IC needs a periodic case; said before any reference solve or output.
    assert main(["train", "burgers", "--set", "hard_initial=true", "--out", str(tmp_path / "b")]) == 2
    assert capsys.readouterr().err.startswith("phys: error: hard_initial: needs every space axis periodic")
    assert not (tmp_path / "b").exists()
