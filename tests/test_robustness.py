"""Numbers that overflow the naive formulas, and processes that are killed: nothing is lost,
nothing is printed as a result full of NaN. (pytest runs with warnings as errors.)"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from twonet_cli.core.activations import ELEMENTWISE, Activation
from twonet_cli.core.jacobians import jacobians
from twonet_cli.core.losses import Loss
from twonet_cli.core.model import Net, backward, forward, init_params, loss
from twonet_cli.data.sizes import load_config
from twonet_cli.train.runs import settle

from . import reference as ref

COMBOS = [(f, g, lo) for f in ELEMENTWISE for g, lo in ref.OUTPUTS]


@pytest.mark.parametrize("f,g,lo", COMBOS, ids=["-".join(c) for c in COMBOS])
@pytest.mark.parametrize("scale", [1e6, -1e6])
def test_inputs_of_a_million_give_finite_results(f: str, g: str, lo: str, scale: float) -> None:
    """x = ±1e6 drives z1 and z3 far into saturation for every f, g and loss."""
    rng = np.random.default_rng(0)
    net = Net(Activation(f, scale=5.0), Activation(g), Loss(lo, "mean"))  # type: ignore[arg-type]
    p = init_params(3, 4, 3, rng)
    x = scale * np.sign(rng.normal(size=(5, 3)))
    y = np.eye(3)[rng.integers(0, 3, 5)] if lo != "mse" else rng.normal(size=(5, 3))
    c = forward(net, p, x)
    assert np.isfinite(loss(net, c, y))
    b = backward(net, p, c, y)
    assert all(np.isfinite(a).all() for _, a in b.grads.items())
    j = jacobians(net, c, y)
    assert np.isfinite(j.dz2_dz1).all() and np.isfinite(j.dyhat_dz3).all() and np.isfinite(j.dloss_dyhat).all()


def test_grads_command_on_huge_inputs_is_finite_or_refused(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from twonet_cli.cli import app

    r = CliRunner().invoke(app, ["grads", "-c", "multiclass", "-x", "1e6,-1e6", "-y", "1", "--json"])
    assert r.exit_code == 0 and "NaN" not in r.stdout and "Infinity" not in r.stdout
    # 5·ReLU and an identity output keep 1e300 as it is: ℓ = (ŷ − y)² overflows
    r = CliRunner().invoke(app, ["grads", "-c", "regression", "-x", "1e300,-1e300", "-y", "1"])
    assert r.exit_code == 2 and "not finite" in r.stderr and r.stdout == ""


def check_run_dir(out: Path, shape: tuple[int, int, int]) -> None:
    """Every file a run leaves is complete: loadable, the right keys and shapes, whole rows."""
    n, m, K = shape
    want = {"W1": (m, n), "b1": (m,), "W2": (K, m), "b2": (K,)}
    for name in ("params.npz", "best.npz"):
        if (out / name).exists():
            with np.load(out / name) as z:
                assert {k: z[k].shape for k in z.files} == want, name
                assert all(np.isfinite(z[k]).all() for k in z.files)
    if (out / "config.yaml").exists():
        load_config(str(out / "config.yaml"))
        assert yaml.safe_load((out / "config.yaml").read_text())["train"]["epochs"] == 100000
    if (out / "history.csv").exists():
        rows = list(csv.reader((out / "history.csv").read_text().splitlines()))
        assert rows[0][:3] == ["epoch", "steps", "train_loss"]
        assert all(len(r) == len(rows[0]) for r in rows)
        assert [int(r[0]) for r in rows[1:]] == list(range(1, len(rows)))  # whole epochs, in order
    files = ("params.npz", "best.npz", "config.yaml", "history.csv", "preprocessing.json", "manifest.json")
    # the files agree with each other: once settled, each is the one checkpoint manifest.json names
    settle(out, wait=0)
    manifest = json.loads((out / "manifest.json").read_text())
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == entry["sha256"], name
    leftovers = [p.name for p in out.iterdir() if p.name not in files]
    assert all(p.startswith(".") and (p.endswith(".tmp") or ".ckpt-" in p or p == ".twonet.lock")
               for p in leftovers), leftovers


def test_sigkill_at_random_moments_never_leaves_a_truncated_file(tmp_path: Path) -> None:
    """Kill `twonet train --out DIR` twelve times, at random moments, while it checkpoints every epoch:
    every file left is complete, and the four always belong to one checkpoint."""
    out = tmp_path / "run"
    rnd = random.Random(0)
    cmd = [sys.executable, "-m", "twonet_cli", "train", "-c", "multiclass", "-q", "--out", str(out), "--force",
           "--set", "train.epochs=100000", "--set", "train.checkpoint_seconds=0"]
    kills = 0
    for _ in range(12):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while not (out / "params.npz").exists() and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(rnd.uniform(0.0, 0.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
        check_run_dir(out, (2, 64, 3))
    assert kills == 12
    # a killed run leaves complete files that the other commands read
    r = subprocess.run([sys.executable, "-m", "twonet_cli", "check", "-c", "multiclass", "--params",
                        str(out / "params.npz")], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr


def test_writes_only_where_asked(tmp_path: Path) -> None:
    """A run writes its --out directory (and --plot file) and nothing else in the working directory."""
    work = tmp_path / "work"
    work.mkdir()
    for args in (["train", "-q", "--set", "train.epochs=2", "--out", "run"], ["check"], ["grads"],
                 ["train", "-q", "--set", "train.lr=100", "--out", "diverged"]):
        subprocess.run([sys.executable, "-m", "twonet_cli", *args], cwd=work, capture_output=True, check=False)
    assert sorted(p.name for p in work.iterdir()) == ["diverged", "run"]
    assert sorted(p.name for p in (work / "run").iterdir()) == [
        "best.npz", "config.yaml", "history.csv", "manifest.json", "params.npz", "preprocessing.json"]
