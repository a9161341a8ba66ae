"""`twonet grads` as a user meets it: tables, JSON, help, and bad input answered in one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from twonet_cli.cli import app

from . import reference as ref

SHIPPED = ["regression", "classification-mse", "classification-bce", "classification-relu", "multiclass",
           "saturated-start"]
HAND = {"W1": [[1.0, 0.0], [0.0, -1.0]], "b1": [0.5, 0.5], "W2": [[2.0, 3.0]], "b2": [1.0]}  # test_exercise.py


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def ok(*args: str) -> Result:
    r = run(*args)
    assert r.exit_code == 0, f"exit {r.exit_code}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    return r


def bad(*args: str, code: int = 2) -> str:
    """Run, expect `code` and exactly one line on stderr; return that line."""
    r = run(*args)
    assert r.exit_code == code, f"exit {r.exit_code}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), r.stderr
    assert "Traceback" not in r.stdout + r.stderr and r.stdout == ""
    return lines[0]


@pytest.fixture()
def hand_params(tmp_path: Path) -> str:
    path = tmp_path / "hand.json"
    path.write_text(json.dumps(HAND))
    return str(path)


@pytest.mark.parametrize("name", SHIPPED)
def test_grads_on_every_shipped_config(name: str) -> None:
    out = ok("grads", "--config", name).stdout
    for title in ("Parameters", "Forward pass", "Local Jacobians", "Backward chain", "Parameter gradients"):
        assert title in out
    for step in ("Linear₁", "z1 = W1 x + b1", "z2 =", "z3 = W2 z2 + b2", "ŷ =", "∂ℓ/∂z1", "∂ℓ/∂W1"):
        assert step in out
    assert "loss  ℓ = " in out


def test_regression_shows_the_exercise_jacobian() -> None:
    out = ok("grads", "-c", "regression", "-x", "0.5,-1.2", "-y", "0.3").stdout
    assert "Mᵢᵢ = 5·[z1ᵢ > 0]" in out and "diagonal" in out and "P = I" in out and "V = 2 (ŷ − y)ᵀ" in out
    full = ok("grads", "-c", "regression", "--full", "--max-size", "1000").stdout
    assert "[[5. 0." in full.replace("\n", " ") or "[[0. 0." in full  # full 16×16 matrices


def test_json_matches_the_hand_derivation(hand_params: str) -> None:
    """The regression example of test_exercise.py, worked on paper, through the command line."""
    args = ["-c", "regression", "--set", "model.hidden=2", "-p", hand_params, "-x", "1,2", "-y", "10", "--json"]
    doc = json.loads(ok("grads", *args).stdout)
    assert set(doc) >= {"params", "loss", "grads", "samples"}
    assert doc["loss"] == 36.0
    assert doc["grads"] == {
        "W1": [[120.0, 240.0], [0.0, 0.0]], "b1": [120.0, 0.0], "W2": [[90.0, 0.0]], "b2": [12.0]
    }
    (s,) = doc["samples"]
    assert set(s) == {"x", "y", "z1", "z2", "z3", "y_hat", "dloss_dz3", "dloss_dz2", "dloss_dz1", "jacobians"}
    assert (s["z1"], s["z2"], s["z3"], s["y_hat"]) == ([1.5, -1.5], [7.5, 0.0], [16.0], [16.0])
    assert (s["dloss_dz3"], s["dloss_dz2"], s["dloss_dz1"]) == ([12.0], [24.0, 36.0], [120.0, 0.0])
    assert s["jacobians"] == {"dz2_dz1_diagonal": [5.0, 0.0], "dyhat_dz3": [[1.0]], "dloss_dyhat": [12.0]}


@pytest.mark.parametrize("form", ["inline", "csv", "npy", "json"])
def test_batch_json_agrees_with_the_reference(tmp_path: Path, form: str) -> None:
    """A multi-class batch given four ways; every number against tests/reference.py."""
    X = np.array([[0.5, -1.2], [-0.3, 0.8], [1.5, 0.1]])
    classes = [2, 0, 1]
    if form == "inline":
        x_arg, y_arg = ";".join(",".join(str(float(v)) for v in r) for r in X), ",".join(map(str, classes))
    else:
        x_path, y_path = tmp_path / f"x.{form}", tmp_path / f"y.{form}"
        if form == "csv":
            x_path.write_text("x1,x2\n" + "\n".join(",".join(str(float(v)) for v in r) for r in X))
            y_path.write_text("\n".join(map(str, classes)))
        elif form == "npy":
            np.save(x_path, X)
            np.save(y_path, np.array(classes))
        else:
            x_path.write_text(json.dumps(X.tolist()))
            y_path.write_text(json.dumps(classes))
        x_arg, y_arg = str(x_path), str(y_path)
    doc = json.loads(ok("grads", "-c", "multiclass", "-x", x_arg, "-y", y_arg, "--json").stdout)
    p = {k: np.array(v) for k, v in doc["params"].items()}
    Y = np.eye(3)[classes]
    r = ref.backprop("tanh", "softmax", "cross_entropy", "mean", p["W1"], p["b1"], p["W2"], p["b2"], X, Y)
    np.testing.assert_allclose(doc["loss"], r["loss"], rtol=1e-13)
    for k in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(doc["grads"][k], r[k], rtol=1e-12, atol=1e-15)
    for i, s in enumerate(doc["samples"]):
        np.testing.assert_allclose(s["jacobians"]["dyhat_dz3"], r["P"][i], rtol=1e-13, atol=1e-16)
        np.testing.assert_allclose(s["dloss_dz1"], r["dz1"][i], rtol=1e-12, atol=1e-15)


def test_sample_and_precision_options() -> None:
    out = ok("grads", "-c", "multiclass", "--sample", "1", "--precision", "3").stdout
    assert "Forward pass (sample 1 of 2)" in out and "[-0.3  0.8]" in out
    assert "0.12345" not in out


def test_help_documents_exit_codes() -> None:
    assert "Exit codes" in ok("--help").stdout
    help_text = ok("grads", "--help").stdout
    for option in ("--config", "--input", "--target", "--params", "--json", "--precision", "--full", "--sample"):
        assert option in help_text
    assert "Exit codes" in help_text


def test_configs_command_lists_shipped() -> None:
    out = ok("configs").stdout
    for name in SHIPPED:
        assert name in out


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["-x", "1,2,3", "-y", "1"], "--input: expected 2 value(s) per sample"),
        (["-x", "1,abc", "-y", "1"], "--input: 'abc' is not a number"),
        (["-x", "missing.csv", "-y", "1"], "--input: file 'missing.csv' not found"),
        (["-x", "1,2"], "--target: needed with --input"),
        (["-c", "classification-bce", "-x", "1,2", "-y", "3"], "bce targets must lie in [0, 1], got 3"),
        (["-c", "multiclass", "-x", "1,2", "-y", "3"], "class indices must be integers in 0..2"),
        (["-c", "nope"], "no shipped config of that name"),
        (["--set", "model.hiden=3"], "--set model.hiden=3: model.hiden: unknown key"),
        (["-p", "missing.npz"], "--params: file 'missing.npz' not found"),
        (["--sample", "3"], "--sample: 3 is out of range for a batch of 1"),
        (["-x", "1e308,1e308", "-y", "1"], "not finite"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], fragment: str) -> None:
    assert fragment in bad("grads", *args)


def test_bad_config_file_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("model: {hidden: 3, f: {name: relu, scael: 5}}\n")
    line = bad("grads", "-c", str(path))
    assert str(path) in line and "model.f.scael" in line and "did you mean 'scale'" in line


def test_params_for_another_architecture(tmp_path: Path) -> None:
    path = tmp_path / "p.npz"
    np.savez(path, **{k: np.array(v) for k, v in HAND.items()})
    assert "needs (32, 2)" in bad("grads", "-c", "regression", "-p", str(path))


def _module(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "twonet_cli", *args], capture_output=True, text=True, check=False)


def test_python_dash_m_runs_the_cli() -> None:
    r = _module("grads", "-c", "classification-relu", "--json")
    assert r.returncode == 0, r.stderr
    doc: dict[str, Any] = json.loads(r.stdout)  # stdout holds exactly one JSON object
    assert doc["network"]["g"] == {"name": "sigmoid"}
    r = _module("grads", "-x", "1,2,3", "-y", "1")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["grads", "--foo"], "No such option: --foo"),
        (["grads", "--precision", "x"], "'--precision'"),
        (["nope"], "No such command 'nope'"),
        (["grads", "-x"], "requires an argument"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str], fragment: str) -> None:
    r = _module(*args)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("Error: ") and fragment in r.stderr, r.stderr


def test_bare_twonet_shows_help() -> None:
    r = _module()
    assert r.returncode == 0 and "Usage: twonet" in r.stdout and "grads" in r.stdout
