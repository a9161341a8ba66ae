"""Training: it learns the exercise's tasks, its SGD step is torch.optim.SGD's, runs reproduce
bit for bit, and the command line saves complete runs and stops cleanly on faults."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from twonet_cli.cli import app
from twonet_cli.config import schema as config
from twonet_cli.config.schema import TrainConfig
from twonet_cli.core.losses import Loss
from twonet_cli.core.model import backward, forward, init_params
from twonet_cli.data.dataset import Split, from_arrays, from_config
from twonet_cli.data.generators import generate
from twonet_cli.data.sizes import load_config
from twonet_cli.errors import TwonetError
from twonet_cli.train.loop import Stopped, Training, learning_rate
from twonet_cli.train.sgd import SGD

# The qualities README.md promises, on the validation rows of each shipped config.
TARGETS = {
    "regression": 0.95,  # R² on the 2-D surface
    "classification-mse": 0.95,  # accuracy on xor
    "classification-bce": 0.95,  # accuracy on circles
    "classification-relu": 0.95,  # accuracy on two moons
    "multiclass": 0.90,  # accuracy on a 3-class spiral
}


def fit(name: str, sets: tuple[str, ...] = ()) -> tuple[Training, Stopped]:
    cfg, _ = load_config(name, sets)
    m = cfg.model
    split = from_config(cfg.data, m.in_features, m.out_features, cfg.loss.name)
    t = Training(cfg.net(), cfg.params(), split, cfg.train)
    records = list(t.run())
    stop = records[-1]
    assert isinstance(stop, Stopped)
    return t, stop


@pytest.mark.parametrize("name", TARGETS)
def test_shipped_configs_learn(name: str) -> None:
    t, stop = fit(name)
    assert stop.reason == "done"
    assert t.history[-1].metric is not None and t.history[-1].metric >= TARGETS[name], t.history[-1]


def test_float32_learns_too() -> None:
    t, _ = fit("multiclass", ("train.dtype=float32",))
    assert t.sgd.theta.dtype == np.float32 and t.history[-1].metric >= TARGETS["multiclass"]


def test_overfits_twenty_examples() -> None:
    rng = np.random.default_rng(0)
    d = from_arrays(rng.normal(size=(20, 2)), rng.normal(size=20), "regression", 0)
    cfg, _ = load_config("regression", ["model.hidden=128", "model.f=tanh", "loss.reduction=mean",
                                        "train.batch_size=full", "train.epochs=3000", "train.lr=0.1",
                                        "train.momentum=0.9", "train.schedule=constant"])
    t = Training(cfg.net(), cfg.params(), Split(d, np.arange(20), np.arange(0), 1, "mse"), cfg.train)
    list(t.run())
    assert t.history[-1].train_loss < 1e-8


# ---- the SGD step --------------------------------------------------------------------------

def sgd_reference(theta: dict[str, Any], grads: list[dict[str, Any]], lr: float, mu: float, wd: float,
                  nesterov: bool) -> dict[str, Any]:
    """torch.optim.SGD's documented update, written out: g ← g + λθ; b ← μb + g (b₁ = g);
    g ← g + μb if Nesterov else b; θ ← θ − ηg."""
    theta = {k: v.copy() for k, v in theta.items()}
    buf: dict[str, Any] = {}
    for g_t in grads:
        for k in theta:
            g = g_t[k] + wd * theta[k]
            if mu:
                buf[k] = g if k not in buf else mu * buf[k] + g
                g = g + mu * buf[k] if nesterov else buf[k]
            theta[k] = theta[k] - lr * g
    return theta


@pytest.mark.parametrize("mu,wd,nesterov", [(0.0, 0.0, False), (0.9, 0.0, False), (0.9, 1e-3, True),
                                            (0.0, 0.01, False)])
def test_step_is_torch_sgd(mu: float, wd: float, nesterov: bool) -> None:
    cfg, _ = load_config("multiclass")
    net = cfg.net()
    rng = np.random.default_rng(1)
    p = init_params(2, 5, 3, rng)
    batches = [(rng.normal(size=(4, 2)), np.eye(3)[rng.integers(0, 3, 4)]) for _ in range(4)]
    sgd = SGD(net, p, TrainConfig(momentum=mu, weight_decay=wd, nesterov=nesterov), 4)
    theta, grads = dict(p.items()), []
    for x, y in batches:  # each gradient at the parameters SGD has reached, from model.backward
        current = sgd.params
        grads.append(dict(backward(net, current, forward(net, current, x), y).grads.items()))
        sgd.step(x, y, 0.1)
    expected = sgd_reference(theta, grads, 0.1, mu, wd, nesterov)
    for k, v in sgd.params.items():
        np.testing.assert_allclose(v, expected[k], rtol=1e-13, atol=1e-15, err_msg=k)


def test_step_matches_torch_when_installed() -> None:
    torch = pytest.importorskip("torch")
    cfg, _ = load_config("classification-bce")
    net = cfg.net()
    rng = np.random.default_rng(2)
    p = init_params(2, 6, 1, rng)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
    opt = torch.optim.SGD(list(t.values()), lr=0.2, momentum=0.9, nesterov=True, weight_decay=1e-3)
    sgd = SGD(net, p, TrainConfig(momentum=0.9, nesterov=True, weight_decay=1e-3), 8)
    for _ in range(5):
        x, y = rng.normal(size=(8, 2)), rng.integers(0, 2, (8, 1)).astype(float)
        sgd.step(x, y, 0.2)
        opt.zero_grad()
        z3 = torch.tanh(torch.tensor(x) @ t["W1"].T + t["b1"]) @ t["W2"].T + t["b2"]
        torch.nn.functional.binary_cross_entropy(torch.sigmoid(z3), torch.tensor(y)).backward()
        opt.step()
    for k, v in sgd.params.items():
        np.testing.assert_allclose(v, t[k].detach().numpy(), rtol=1e-12, atol=1e-14, err_msg=k)


def test_schedules() -> None:
    cfg, _ = load_config("regression", ["train.schedule=step", "train.step_size=10", "train.gamma=0.5",
                                        "train.epochs=30", "train.lr=0.1"])
    t = Training(cfg.net(), cfg.params(), fit_data(cfg), cfg.train)
    assert [learning_rate(t.cfg, e) for e in (1, 10, 11, 21)] == [0.1, 0.1, 0.05, 0.025]
    cfg, _ = load_config("regression", ["train.schedule=cosine", "train.epochs=4", "train.lr=0.2"])
    t = Training(cfg.net(), cfg.params(), fit_data(cfg), cfg.train)
    assert [round(learning_rate(t.cfg, e), 12) for e in (1, 3)] == [0.2, 0.1]


def fit_data(cfg: config.Config) -> Split:
    m = cfg.model
    return from_config(cfg.data, m.in_features, m.out_features, cfg.loss.name)


def test_early_stopping_and_batch_sizes() -> None:
    t, stop = fit("classification-bce", ("train.patience=3", "train.epochs=500", "train.lr=0.5"))
    assert stop.reason == "early_stop" and len(t.history) < 500
    t, _ = fit("classification-bce", ("train.batch_size=full", "train.epochs=3"))
    assert t.history[-1].steps == 3
    t, _ = fit("classification-bce", ("train.batch_size=1", "train.epochs=1"))
    assert t.history[-1].steps == 400  # online: one step per training row


def test_divergence_stops_with_finite_params() -> None:
    t, stop = fit("regression", ("train.lr=5",))
    assert stop.reason == "diverged" and "epoch 1" in stop.message
    assert np.isfinite(t.sgd.theta).all()


def test_runs_are_bit_identical() -> None:
    a, _ = fit("multiclass", ("train.epochs=20",))
    b, _ = fit("multiclass", ("train.epochs=20",))
    assert a.sgd.theta.tobytes() == b.sgd.theta.tobytes()
    c, _ = fit("multiclass", ("train.epochs=20", "train.seed=1"))
    assert a.sgd.theta.tobytes() != c.sgd.theta.tobytes()


# ---- data ----------------------------------------------------------------------------------

def test_csv_by_column_names_npy_memory_mapped_and_npz(tmp_path: Path) -> None:
    x, labels = generate("circles", 300, 0.05, np.random.default_rng(0))
    table = np.column_stack([labels, x])  # target first
    (tmp_path / "d.csv").write_text("label,a,b\n" + "\n".join(",".join(map(repr, r)) for r in table.tolist()))
    np.save(tmp_path / "d.npy", table)
    np.savez(tmp_path / "d.npz", x=x, y=labels)
    common = ["model.hidden=16", "train.epochs=60", "train.lr=0.2", "train.momentum=0.9"]
    for src, extra in [("d.csv", ["data.features=[a, b]", "data.target=label"]),
                       ("d.npy", ["data.target=0", "data.standardize=true"]), ("d.npz", [])]:
        t, _ = fit("classification-bce", (f"data.source={tmp_path / src}", *common, *extra))
        assert t.history[-1].metric >= 0.95, src
        assert t.split.data.rows.mapped == (src == "d.npy")


@pytest.mark.parametrize("sets,fragment", [
    (("data.source=spiral", "model.out_features=1"), "spiral has 3 classes; one output fits 2 classes only"),
    (("data.source=blobs", "data.classes=4", "model.out_features=3", "model.g=softmax", "loss.name=cross_entropy"),
     "4 classes, so out_features must be 4"),
    (("data.source=sine", "model.in_features=2"), "sine has 1 feature column(s), but model.in_features is 2"),
    (("data.source=nope",), "neither a generator"),
    (("data.source=missing.csv",), "not found"),
])
def test_data_mismatches_are_named(sets: tuple[str, ...], fragment: str) -> None:
    with pytest.raises(TwonetError) as info:  # at loading (sizes are inferred from the data), or at fitting
        fit_data(load_config("classification-bce", sets)[0])
    assert fragment in str(info.value) and info.value.exit_code == 2


# ---- the command line ----------------------------------------------------------------------

def cli(*args: str) -> Any:
    return CliRunner().invoke(app, ["train", *args])


def test_cli_saves_a_complete_reproducible_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    r = cli("-c", "classification-bce", "--out", str(out), "--quiet", "--set", "train.epochs=30")
    assert r.exit_code == 0, r.stdout + r.stderr
    assert {p.name for p in out.iterdir()} == {"params.npz", "best.npz", "config.yaml", "history.csv",
                                               "preprocessing.json", "manifest.json"}  # plain files, none hidden
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["files"]) == {"params.npz", "best.npz", "config.yaml", "history.csv", "preprocessing.json"}
    assert "Training summary" in r.stdout and "Loss per epoch" in r.stdout
    history = (out / "history.csv").read_text().splitlines()
    assert history[0].startswith("epoch,steps,train_loss,val_loss,metric") and len(history) == 31
    again = tmp_path / "again"
    assert cli("-c", str(out / "config.yaml"), "--out", str(again), "-q").exit_code == 0
    with np.load(out / "params.npz") as first, np.load(again / "params.npz") as second:
        assert all(first[k].tobytes() == second[k].tobytes() for k in ("W1", "b1", "W2", "b2"))
    # the saved params feed the other commands
    for cmd in (["grads", "-c", "classification-bce"], ["check", "-c", "classification-bce"]):
        res = CliRunner().invoke(app, [*cmd, "--params", str(out / "params.npz"), "--json"])
        assert res.exit_code == 0, res.stdout + res.stderr
    # an existing run is not overwritten silently
    r = cli("-c", "classification-bce", "--out", str(out), "-q")
    assert r.exit_code == 2 and "already holds a run" in r.stderr and "--force" in r.stderr
    assert cli("-c", "classification-bce", "--out", str(out), "-q", "--force", "--set", "train.epochs=2").exit_code == 0


def test_cli_print_config_json_and_params(tmp_path: Path) -> None:
    r = cli("--print-config", "--set", "train.lr=0.5")
    assert r.exit_code == 0 and "lr: 0.5" in r.stdout and "source: surface" in r.stdout
    r = cli("-c", "multiclass", "--json", "-q", "--set", "train.epochs=5")
    doc = json.loads(r.stdout)
    assert doc["stopped"] == "done" and doc["epochs"] == 5 and doc["metric_name"] == "accuracy"
    assert len(doc["history"]) == 5 and doc["samples_per_second"] > 0
    p = init_params(2, 64, 3, np.random.default_rng(5))
    np.savez(tmp_path / "start.npz", **dict(p.items()))
    r = cli("-c", "multiclass", "--params", str(tmp_path / "start.npz"), "--print-config")
    assert f"params: {tmp_path / 'start.npz'}" in r.stdout  # the config refers to the file: no arrays in YAML
    assert repr(float(p.W1[0, 0]))[:8] not in r.stdout


def test_a_run_from_params_saves_them_as_init_npz_and_retrains_the_same(tmp_path: Path) -> None:
    p = init_params(2, 64, 3, np.random.default_rng(5))
    np.savez(tmp_path / "start.npz", **dict(p.items()))
    out = tmp_path / "run"
    r = cli("-c", "multiclass", "--params", str(tmp_path / "start.npz"), "--out", str(out), "-q",
            "--set", "train.epochs=3")
    assert r.exit_code == 0, r.stderr
    text = (out / "config.yaml").read_text()
    assert "params: init.npz" in text and len(text) < 2000  # a reference, not 200 numbers
    with np.load(out / "init.npz") as init:
        assert all(np.array_equal(init[k], a) for k, a in p.items())
    (tmp_path / "start.npz").unlink()  # the run needs nothing outside its directory
    r = cli("-c", str(out / "config.yaml"), "--out", str(tmp_path / "again"), "-q")
    assert r.exit_code == 0, r.stderr
    with np.load(out / "params.npz") as a, np.load(tmp_path / "again" / "params.npz") as b:
        assert all(np.array_equal(a[k], b[k]) for k in a.files)


def test_cli_divergence_is_exit_1_with_one_line(tmp_path: Path) -> None:
    r = cli("--set", "train.lr=5", "--out", str(tmp_path / "run"), "-q")
    assert r.exit_code == 1
    line = r.stderr.strip()
    assert line.count("\n") == 0 and "diverged" in line and "epoch 1" in line and "train.lr" in line
    with np.load(tmp_path / "run" / "params.npz") as saved:
        assert all(np.isfinite(saved[k]).all() for k in saved.files)


def test_ctrl_c_saves_and_says_so(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "twonet_cli", "train", "-c", "multiclass", "--set", "train.epochs=100000",
         "--set", "train.batch_size=1", "--out", str(out), "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.time() + 30
        while not (out / "history.csv").exists() and time.time() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.communicate()
    assert proc.returncode == 130, stderr
    assert "Interrupted" in stderr and str(out) in stderr and "Traceback" not in stderr
    with np.load(out / "params.npz") as saved:
        assert set(saved.files) == {"W1", "b1", "W2", "b2"}
    assert len((out / "history.csv").read_text().splitlines()) >= 2


def test_plot_without_matplotlib_is_a_clear_error(tmp_path: Path) -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        r = cli("-q", "--set", "train.epochs=2", "--plot", str(tmp_path / "p.png"))
        assert r.exit_code == 2 and "pip install 'twonet[plot]'" in r.stderr
        return
    r = cli("-c", "classification-bce", "-q", "--set", "train.epochs=2", "--plot", str(tmp_path / "p.png"))
    assert r.exit_code == 0 and (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"



@pytest.mark.parametrize("name", ["classification-bce", "multiclass", "regression"])
@pytest.mark.parametrize("rows", ["copied", "gathered", "scored per batch"])
def test_train_metric_is_the_steps_running_metric(name: str, rows: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With η = 1e-300 no step moves a weight (each update is below half an ulp), so the running metric
    of an epoch's steps is the starting parameters' metric over all training rows, computed here —
    whether batches are views of a shuffled copy (whose targets are then scored in place), gathered
    per step, or too many to buffer (each batch scored as it comes)."""
    from twonet_cli.data import batches
    from twonet_cli.train import loop

    if rows != "copied":
        monkeypatch.setattr(batches, "SHUFFLED_COPY_BYTES", 0)  # batches of 32 are then gathered
    if rows == "scored per batch":
        monkeypatch.setattr(loop.RunningScore, "MAX_ENTRIES", 1)
    cfg, _ = load_config(name, ["train.lr=1e-300", "train.epochs=2"])
    split = from_config(cfg.data, cfg.shape[0], cfg.shape[2], cfg.loss.name)
    t = Training(cfg.net(), cfg.params(), split, cfg.train)
    history = [r for r in t.run() if hasattr(r, "train_metric")]
    x, y = next(split.chunks(split.train))
    p = cfg.params()
    y_hat = forward(cfg.net(), p, x).y_hat
    if split.data.task == "classification":
        want = (np.mean((y_hat[:, 0] > 0.5) == (y[:, 0] > 0.5)) if y.shape[1] == 1 else
                np.mean(y_hat.argmax(axis=1) == y.argmax(axis=1)))
    else:
        want = 1 - ((y - y_hat) ** 2).sum() / ((y - y.mean(axis=0)) ** 2).sum()
    xv, yv = next(split.validation())
    c = forward(cfg.net(), p, xv)
    if split.data.task == "classification":
        val_want = (np.mean((c.y_hat[:, 0] > 0.5) == (yv[:, 0] > 0.5)) if yv.shape[1] == 1 else
                    np.mean(c.y_hat.argmax(axis=1) == yv.argmax(axis=1)))
    else:
        val_want = 1 - ((yv - c.y_hat) ** 2).sum() / ((yv - yv.mean(axis=0)) ** 2).sum()
    val_loss = float(Loss(cfg.loss.name, "mean").value(cfg.net().g, c.z3, yv, c.y_hat))
    for e in history:
        assert e.train_metric == pytest.approx(want, rel=1e-9)
        assert e.metric == pytest.approx(val_want, rel=1e-9)  # the validation rows' metric, from ŷ
        assert e.val_loss == pytest.approx(val_loss, rel=1e-12)


def test_best_npz_holds_the_best_epochs_parameters(tmp_path: Path) -> None:
    """best.npz is the parameters after the epoch of lowest validation loss: a run stopped at that
    epoch (runs are bit-identical, the schedule constant) ends with exactly them."""
    import csv

    base = ["-q", "--set", "train.schedule=constant", "--set", "train.lr=0.0002"]
    r = cli(*base, "--set", "train.epochs=30", "--out", str(tmp_path / "long"))
    assert r.exit_code == 0, r.stderr
    rows = list(csv.DictReader((tmp_path / "long" / "history.csv").read_text().splitlines()))
    best = min(rows, key=lambda row: float(row["val_loss"]))["epoch"]
    assert best != "30", "pick settings whose last epoch is not the best"
    r = cli(*base, "--set", f"train.epochs={best}", "--out", str(tmp_path / "short"))
    assert r.exit_code == 0, r.stderr
    with np.load(tmp_path / "long" / "best.npz") as got, np.load(tmp_path / "short" / "params.npz") as want:
        assert all(np.array_equal(got[k], want[k]) for k in ("W1", "b1", "W2", "b2"))


def test_fit_is_what_train_runs(tmp_path: Path) -> None:
    """The one fit(): called directly, it reaches the parameters, test score and diagnostics that
    `twonet train --json --out` reports and saves for the same config."""
    from twonet_cli.train.fit import fit

    sets = ["train.epochs=3", "data.n=120"]
    cfg, _ = load_config("classification-bce", sets)
    training, outcome = fit(cfg, tmp_path / "direct")
    r = CliRunner().invoke(app, ["train", "-c", "classification-bce", *[a for s in sets for a in ("--set", s)],
                                 "--quiet", "--json", "--out", str(tmp_path / "cli")])
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert outcome.reason == doc["stopped"] == "done"
    assert training.history[-1].train_loss == doc["train_loss"]
    d = training.final_diagnostics
    assert d is not None and d.grad_W1 == doc["diagnostics"]["grad_norm_W1"]
    for folder in ("direct", "cli"):
        with np.load(tmp_path / folder / "params.npz") as saved:
            np.testing.assert_array_equal(saved["W1"], training.current.W1)
