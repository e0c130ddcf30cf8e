"""Methods come from entry points: a plug-in's method appears in `phys train --method` without touching phys/."""

from __future__ import annotations

import json
import textwrap

import pytest

from phys.cli import main

_PLUGIN = '''
"""A plug-in method for the test: the plain PINN with its residual reduced by the worst time chunk."""
import jax.numpy as jnp

from pinns.methods import MethodSpec


def _build(config):
    from pinns.method import EulerianPINN
    from pinns.reducers import AbstractReducer

    class WorstChunk(AbstractReducer):
        def init(self, dtype):
            return jnp.ones((), dtype)

        def __call__(self, squared, state):
            losses = jnp.mean(squared, axis=1)
            return jnp.max(losses), losses / jnp.max(losses)

    return EulerianPINN.from_config(config, WorstChunk())


WORST = MethodSpec("worst-chunk", "plain PINN, residual reduced by its worst time chunk", _build)
'''

_CASE = {
    "name": "convection-small",
    "pde": {"name": "convection", "params": {"beta": 1.0}},
    "domain": {"length": 6.283185307179586},
    "grid": {"n": 16},
    "ic": {"kind": "family", "name": "sine"},
    "time": {"t_end": 0.5, "dt": 0.05, "save_dt": 0.1},
}


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """A package with a dist-info declaring a physax.methods entry point, put on sys.path."""
    (tmp_path / "physax_test_plugin.py").write_text(textwrap.dedent(_PLUGIN))
    info = tmp_path / "physax_test_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: physax-test-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[physax.methods]\nworst-chunk = physax_test_plugin:WORST\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_a_method_registered_by_a_plugin_appears_in_phys_train_and_trains(plugin, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "worst-chunk" in capsys.readouterr().out
    case_file = tmp_path / "case.json"
    case_file.write_text(json.dumps(_CASE))
    tiny = ["--set", "width=8", "--set", "depth=1", "--set", "n_residual=32", "--set", "n_chunks=4", "--set", "n_initial=16",
            "--set", "eval_every=4"]
    out = tmp_path / "run"
    assert main(["train", str(case_file), "--method", "worst-chunk", "--steps", "4", *tiny, "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["method"] == "worst-chunk"
    # The plug-in's reducer reached the loss: it reports each chunk's loss over the worst one, so the worst is 1.
    assert max(metrics["history"][-1]["causal_weights"]) == pytest.approx(1.0)


def test_an_unregistered_method_and_an_unknown_setting_are_refused_in_one_line(tmp_path, capsys):
    assert main(["train", "burgers", "--method", "worst-chunk", "--out", str(tmp_path / "x")]) == 2
    assert "invalid choice: 'worst-chunk'" in capsys.readouterr().err
    assert main(["train", "burgers", "--set", "widht=8", "--out", str(tmp_path / "x")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("phys: error: --set widht: unknown key; allowed: training settings (pinn): steps, lbfgs_steps")
    assert "width" in error and "; case keys: n, dt" in error and "nu" in error
    assert len(error.splitlines()) == 1 and not (tmp_path / "x").exists()
