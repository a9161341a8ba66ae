"""Training diagnostics, recomputed independently from a run's saved parameters and data: the share
of ∂ℓ/∂z2 that f lets through, f′(z1) ≈ 0, how far W1 and W2 moved, dead ReLU units, gradient
norms; their hints; their columns in history.csv."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from twonet_cli.cli import app


def train(tmp_path: Path, *sets: str, config: str = "regression") -> dict:
    args = ["train", "-q", "--json", "-c", config, "--out", str(tmp_path / "run"), "--set", "data.val_fraction=0",
            *[a for s in sets for a in ("--set", s)]]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def table(tmp_path: Path, source: str, rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A regression table with two features, written where data.source points."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 2))
    y = np.sin(x[:, 0]) + x[:, 1] ** 2
    np.savetxt(tmp_path / source, np.column_stack([x, y]), delimiter=",")
    return x, y[:, None]


def test_relu_run_diagnostics_equal_an_independent_recomputation(tmp_path: Path) -> None:
    """Every number of the summary, recomputed by hand from the saved parameters, the starting ones
    and the probe rows (DIAGNOSTIC_ROWS training rows spread evenly over them)."""
    from twonet_cli.train.loop import DIAGNOSTIC_ROWS

    x, y = table(tmp_path, "r.csv", 300)
    rng = np.random.default_rng(9)
    start = {"W1": rng.normal(size=(40, 2)), "b1": rng.normal(size=40) * 0.1, "W2": rng.normal(size=(1, 40)) * 0.1,
             "b2": np.zeros(1)}
    np.savez(tmp_path / "start.npz", **start)
    doc = train(tmp_path, f"data.source={tmp_path / 'r.csv'}", "model.hidden=40", "train.epochs=30", "train.lr=0.05",
                "loss.reduction=mean", "model.f=relu", f"model.params={tmp_path / 'start.npz'}")
    with np.load(tmp_path / "run" / "params.npz") as p:
        W1, b1, W2, b2 = p["W1"], p["b1"], p["W2"], p["b2"]
    rows = np.linspace(0, len(x) - 1, min(DIAGNOSTIC_ROWS, len(x))).astype(int)  # val_fraction 0: all rows train
    x, y = x[rows], y[rows]
    z1 = x @ W1.T + b1  # by hand: 5·ReLU is the regression config's f, relu with scale 1 here
    z2 = np.maximum(z1, 0)
    z3 = z2 @ W2.T + b2
    dz3 = 2 * (z3 - y) / y.size
    dW2 = dz3.T @ z2
    dz2 = dz3 @ W2
    dz1 = dz2 * (z1 > 0)
    dW1 = dz1.T @ x
    d = doc["diagnostics"]
    assert d["rows"] == len(rows) == 256
    assert d["grad_norm_W1"] == pytest.approx(np.linalg.norm(dW1), rel=1e-10)
    assert d["grad_norm_W2"] == pytest.approx(np.linalg.norm(dW2), rel=1e-10)
    assert d["kept"] == pytest.approx(np.linalg.norm(dz1) / np.linalg.norm(dz2), rel=1e-10)
    assert d["flat_fraction"] == np.mean(~(z1 > 0))  # ReLU's f′ is 0 or 1: ≈ 0 where z1 ≤ 0
    assert d["dead_fraction"] == np.mean(~(z1 > 0).any(axis=0))
    assert d["moved_W1"] == pytest.approx(np.linalg.norm(W1 - start["W1"]) / np.linalg.norm(start["W1"]), rel=1e-12)
    assert d["moved_W2"] == pytest.approx(np.linalg.norm(W2 - start["W2"]) / np.linalg.norm(start["W2"]), rel=1e-12)
    with (tmp_path / "run" / "history.csv").open() as fh:
        last = list(csv.DictReader(fh))[-1]  # one definition: the summary is history.csv's last row
    assert float(last["kept"]) == d["kept"] and float(last["moved_1"]) == d["moved_W1"]


def test_saturating_tanh_init_is_named_vanishing(tmp_path: Path) -> None:
    """A tanh started deep in saturation lets little gradient through, and the hint says so with the
    numbers it measured; started small, the same network gives no such hint."""
    doc = train(tmp_path, "model.f=tanh", "model.init.scheme=normal", "model.init.std=200", "train.epochs=3")
    d = doc["diagnostics"]
    assert d["kept"] < 0.05 and d["flat_fraction"] >= 0.5 and d["dead_fraction"] is None
    hint = next(h for h in d["hints"] if "vanishing gradients" in h)
    assert f"{d['kept']:.2%}" in hint and f"{d['flat_fraction']:.0%}" in hint and "W1 moved" in hint
    (tmp_path / "small").mkdir()
    calm = train(tmp_path / "small", "model.f=tanh", "model.init.scheme=normal", "model.init.std=0.5",
                 "train.epochs=3")["diagnostics"]
    assert calm["kept"] > 0.3 and not any("vanishing" in h for h in calm["hints"])


def test_history_has_diagnostic_columns(tmp_path: Path) -> None:
    train(tmp_path, "train.epochs=4")
    with (tmp_path / "run" / "history.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4 and rows[0]["grad_W1"] and rows[-1]["grad_W1"]  # sampled epochs between: first, last always
    for r in (r for r in rows if r["grad_W1"]):
        assert float(r["grad_W1"]) > 0 and float(r["grad_W2"]) > 0
        assert 0 < float(r["kept"]) <= 5 + 1e-12  # at most f's largest slope: 5·ReLU here
        assert 0 <= float(r["flat"]) <= 1 and 0 <= float(r["dead"]) <= 1
        assert 0 < float(r["update_1"]) < 1
    assert all(r["moved_1"] and r["moved_2"] for r in rows)  # measured every epoch (no rows needed)


def test_a_huge_lr_is_named_in_the_hints(tmp_path: Path) -> None:
    doc = train(tmp_path, "train.epochs=2", "train.lr=3", "train.momentum=0", config="classification-bce")
    d = doc["diagnostics"]
    assert d["update_ratio_layer1"] > 1e-2 and any("lr may be too high" in h for h in d["hints"]), d
    calm = train(tmp_path / "calm" if (tmp_path / "calm").mkdir() is None else tmp_path, "train.epochs=2",
                 config="classification-bce")["diagnostics"]
    assert not any("lr may be too high" in h for h in calm["hints"]), calm


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_update_ratio_is_the_steps_change_over_the_weights(momentum: float) -> None:
    """‖Δθ‖/‖θ‖ per layer, from θ before and after one step (θ after it below the bar)."""
    from twonet_cli.config.schema import TrainConfig
    from twonet_cli.core.activations import Activation
    from twonet_cli.core.losses import Loss
    from twonet_cli.core.model import Net, init_params
    from twonet_cli.train.sgd import SGD

    rng = np.random.default_rng(3)
    net = Net(Activation("tanh"), Activation("identity"), Loss("mse", "mean"))
    sgd = SGD(net, init_params(3, 5, 2, rng), TrainConfig(lr=0.1, momentum=momentum), 8)
    assert sgd.update_ratios() is None  # no step yet
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    for _ in range(3):
        before = sgd.params
        sgd.step(x, y, 0.1)
    after = sgd.params
    for got, names in zip(sgd.update_ratios(), (("W1", "b1"), ("W2", "b2")), strict=True):
        delta = np.sqrt(sum(np.sum((getattr(after, k) - getattr(before, k)) ** 2) for k in names))
        weights = np.sqrt(sum(np.sum(getattr(after, k) ** 2) for k in names))
        assert got == pytest.approx(delta / weights, rel=1e-9)
