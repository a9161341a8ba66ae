"""`twonet train --sweep`: every combination, each bit-identical to the same run trained alone,
a comparison on stdout, one folder per run and sweep.csv with --out, and bad sweeps refused first."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from twonet_cli.cli import app


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, ["train", "-q", *args])
    return r.exit_code, r.stdout, r.stderr


def test_sweep_runs_equal_single_runs(tmp_path: Path) -> None:
    base = ["-c", "classification-bce", "--set", "train.epochs=5", "--set", "model.init.scheme=normal",
            "--set", "model.init.std=5"]
    code, out, err = cli(*base, "--sweep", "model.f=sigmoid,tanh,relu", "--sweep", "train.lr=0.05,0.5",
                         "--out", str(tmp_path / "sweep"), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert [r["overrides"] for r in doc["runs"]][:2] == [["model.f=sigmoid", "train.lr=0.05"],
                                                         ["model.f=sigmoid", "train.lr=0.5"]]
    assert len(doc["runs"]) == 6 and all(r["stopped"] == "done" for r in doc["runs"])
    with (tmp_path / "sweep" / "sweep.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6 and rows[4]["overrides"] == "model.f=relu train.lr=0.05"
    assert rows[0]["kept"] != "" and rows[0]["dead_fraction"] == "" and rows[4]["dead_fraction"] != ""
    code, _, err = cli(*base, "--set", "model.f=relu", "--set", "train.lr=0.05", "--out", str(tmp_path / "alone"))
    assert code == 0, err
    run5 = Path(doc["runs"][4]["out"])
    with np.load(run5 / "params.npz") as a, np.load(tmp_path / "alone" / "params.npz") as b:
        assert all(np.array_equal(a[k], b[k]) for k in a.files)  # bit for bit


def test_the_vanishing_gradient_difference_shows_in_the_sweep(tmp_path: Path) -> None:
    code, out, err = cli("-c", "classification-bce", "--set", "train.epochs=3", "--set", "model.init.scheme=normal",
                         "--set", "model.init.std=20", "--sweep", "model.f=sigmoid,tanh,relu", "--json")
    assert code == 0, err
    runs = {r["overrides"][0]: r["diagnostics"] for r in json.loads(out)["runs"]}
    kept = {f: runs[f"model.f={f}"]["kept"] for f in ("sigmoid", "tanh", "relu")}
    assert kept["sigmoid"] < kept["tanh"] < kept["relu"]  # saturated σ and tanh let less through than ReLU
    assert runs["model.f=sigmoid"]["flat_fraction"] >= 0.5 and runs["model.f=tanh"]["flat_fraction"] >= 0.5
    assert any("vanishing gradients" in h for h in runs["model.f=sigmoid"]["hints"])
    assert not any("vanishing gradients" in h for h in runs["model.f=relu"]["hints"])


def test_bad_sweeps_are_refused_before_any_run(tmp_path: Path) -> None:
    for args in (["--sweep", "model.nope=1,2"], ["--sweep", "train.lr"], ["--sweep", "train.lr=0.1,"],
                 ["--sweep", "train.lr=1,2", "--sweep", "train.lr=3"], ["--sweep", "train.lr=-1,0.1"],
                 ["--sweep", "train.lr=0.1,0.2", "--plot", str(tmp_path / "x.gif")]):
        code, out, err = cli(*args, "--out", str(tmp_path / "s"))
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err, (args, err)
        assert not (tmp_path / "s").exists()
