"""A trained run put to use: predict and evaluate with the run's own preprocessing, scores equal to
scikit-learn's (and to values worked by hand), a run directory that is self-contained and retrains
bit for bit from anywhere, sizes taken from the data, and every listed misuse a one-line exit 2."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from twonet_cli.cli import app
from twonet_cli.core.metrics import ClassScores, RegressionScores
from twonet_cli.data.sizes import load_config
from twonet_cli.data.stream import open_rows


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


def write_csv(path: Path, header: list[str] | None, rows: np.ndarray) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        if header is not None:
            w.writerow(header)
        w.writerows(rows.tolist())


def classes_data(rng: np.random.Generator, n: int, labels: tuple[float, ...], features: int = 4) -> np.ndarray:
    """Rows of features and a class value: Gaussian blobs, one per label, overlapping a little."""
    y = rng.integers(0, len(labels), size=n)
    centres = rng.normal(scale=3.0, size=(len(labels), features))
    x = centres[y] + rng.normal(size=(n, features)) * 1.5 + 100.0  # far from 0: standardisation matters
    return np.concatenate([x, np.asarray(labels)[y][:, None]], axis=1)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A user's folder: data/ with train and test CSVs (class values 1..3), cfg/ with a config that
    names the data relative to itself and gives no sizes."""
    rng = np.random.default_rng(7)
    (tmp_path / "data").mkdir()
    (tmp_path / "cfg").mkdir()
    header = ["a", "b", "c", "d", "kind"]
    write_csv(tmp_path / "data" / "train.csv", header, classes_data(rng, 240, (1, 2, 3)))
    write_csv(tmp_path / "data" / "test.csv", header, classes_data(np.random.default_rng(8), 90, (1, 2, 3)))
    (tmp_path / "cfg" / "three.yaml").write_text(
        "model: {hidden: 8, f: tanh, g: softmax}\nloss: {name: cross_entropy}\n"
        "data: {source: ../data/train.csv, standardize: true, val_fraction: 0.25}\n"
        "train: {epochs: 15, lr: 0.1, batch_size: 16}\n")
    return tmp_path


def train(project: Path, out: Path, config: str = "cfg/three.yaml", *sets: str) -> None:
    extra = [a for s in sets for a in ("--set", s)]
    code, stdout, stderr = cli("train", "-c", str(project / config), "--out", str(out), "-q", *extra)
    assert code == 0, stdout + stderr


# --- scores against values worked by hand ------------------------------------------------------


def test_class_scores_by_hand() -> None:
    """true 0 0 1 1 2, predicted 0 1 1 1 0: class 0 has tp 1 of 2 predicted, 2 true."""
    s = ClassScores(4)  # class 3 is in neither: not a row of the report
    s.add(np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 1, 0]))
    r = s.report()
    assert r["classes"].tolist() == [0, 1, 2]
    assert r["accuracy"] == 3 / 5
    assert r["precision"].tolist() == [1 / 2, 2 / 3, 0.0]
    assert r["recall"].tolist() == [1 / 2, 1.0, 0.0]
    assert r["f1"].tolist() == [2 * 1 / (2 + 2), 2 * 2 / (2 + 3), 0.0]
    assert r["support"].tolist() == [2, 2, 1]
    assert r["macro"]["recall"] == pytest.approx((1 / 2 + 1 + 0) / 3, rel=1e-15)
    assert r["weighted"]["precision"] == pytest.approx((2 * 1 / 2 + 2 * 2 / 3) / 5, rel=1e-15)
    assert r["confusion"].tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]


def test_regression_scores_by_hand_and_chunked() -> None:
    y = np.array([[1.0, 10.0], [2.0, 10.0], [3.0, 10.0], [6.0, 10.0]])
    y_hat = np.array([[1.5, 10.0], [2.0, 10.0], [2.0, 10.0], [6.0, 10.0]])
    s = RegressionScores(2)
    s.add(y_hat, y)
    r = s.report()["per_output"]
    # output 0: mean 3, SST = 4 + 1 + 0 + 9 = 14, SSE = 0.25 + 1 = 1.25; output 1 constant and exact: R² 1
    assert r["r2"].tolist() == [1 - 1.25 / 14, 1.0]
    assert r["mae"].tolist() == [1.5 / 4, 0.0]
    assert r["rmse"].tolist() == [np.sqrt(1.25 / 4), 0.0]
    chunked = RegressionScores(2)
    for i in range(4):  # one row at a time: Chan's merge gives the same sums
        chunked.add(y_hat[i:i + 1], y[i:i + 1])
    np.testing.assert_allclose(chunked.report()["per_output"]["r2"], r["r2"], rtol=1e-15)
    wrong = RegressionScores(2)
    wrong.add(y_hat + 1, y)
    assert wrong.report()["r2"] < s.report()["r2"]  # the score can fail


# --- predict and evaluate, from another folder ---------------------------------------------------


def test_predict_and_evaluate_equal_sklearn(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    run = project / "runs" / "three"
    train(project, run)
    test = str(project / "data" / "test.csv")
    code, out, err = cli("predict", "--run", str(run), "-x", test)
    assert code == 0, err
    rows = list(csv.reader(out.splitlines()))
    assert rows[0] == ["y_hat_0", "y_hat_1", "y_hat_2", "label"]
    pred = np.array(rows[1:], dtype=np.float64)
    proba, labels = pred[:, :3], pred[:, 3]
    truth = np.loadtxt(test, delimiter=",", skiprows=1)[:, 4]
    assert set(labels) <= {1.0, 2.0, 3.0} and (labels == np.array([1, 2, 3])[proba.argmax(axis=1)]).all()
    code, out, err = cli("evaluate", "--run", str(run), "-x", test, "--json")
    assert code == 0, err
    doc = json.loads(out)
    want = metrics.classification_report(truth, labels, output_dict=True)
    assert doc["rows"] == 90 and doc["accuracy"] == pytest.approx(metrics.accuracy_score(truth, labels), abs=0)
    for c in doc["classes"]:
        w = want[f"{float(c['label'])}"]
        assert (c["precision"], c["recall"], c["f1"], c["support"]) == pytest.approx(
            (w["precision"], w["recall"], w["f1-score"], w["support"]), rel=1e-15)
    for ours, theirs in (("macro_avg", "macro avg"), ("weighted_avg", "weighted avg")):
        assert [doc[ours][k] for k in ("precision", "recall", "f1")] == pytest.approx(
            [want[theirs][k] for k in ("precision", "recall", "f1-score")], rel=1e-15)
    assert doc["confusion_matrix"]["matrix"] == metrics.confusion_matrix(truth, labels).tolist()
    assert doc["log_loss"] == pytest.approx(metrics.log_loss(truth, proba, labels=[1, 2, 3]), rel=1e-12)


def test_regression_run_equals_sklearn_and_retrains_bit_identically(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Two target columns, named; standardised; the saved config retrains the same run elsewhere."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 3)) * [1, 10, 100] + 50
    y = np.stack([x[:, 0] - 0.1 * x[:, 1], np.sin(x[:, 2] / 100)], axis=1) + 0.01 * rng.normal(size=(200, 2))
    (tmp_path / "d").mkdir()
    write_csv(tmp_path / "d" / "r.csv", ["u", "v", "w", "t1", "t2"], np.concatenate([x, y], axis=1))
    (tmp_path / "r.yaml").write_text("model: {hidden: 6, f: tanh}\nloss: {name: mse, reduction: mean}\n"
                                     "data: {source: d/r.csv, target: [t1, t2], standardize: true, val_fraction: 0}\n"
                                     "train: {epochs: 20, lr: 0.05}\n")
    monkeypatch.chdir(tmp_path / "d")
    run = tmp_path / "run"
    code, _, err = cli("train", "-c", str(tmp_path / "r.yaml"), "--out", str(run), "-q")
    assert code == 0, err
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["model"]["in_features"] == 3 and saved["model"]["out_features"] == 2
    assert Path(saved["data"]["source"]).is_absolute()
    code, out, err = cli("predict", "--run", str(run), "-x", str(tmp_path / "d" / "r.csv"), "--out",
                         str(tmp_path / "p.npy"))
    assert code == 0, err
    y_hat = np.load(tmp_path / "p.npy")
    assert y_hat.shape == (200, 2)
    code, out, err = cli("evaluate", "--run", str(run), "-x", str(tmp_path / "d" / "r.csv"), "--json")
    doc = json.loads(out)
    metrics = pytest.importorskip("sklearn.metrics")
    assert doc["r2"] == pytest.approx(metrics.r2_score(y, y_hat), rel=1e-13)
    assert doc["mae"] == pytest.approx(metrics.mean_absolute_error(y, y_hat), rel=1e-13)
    assert doc["rmse"] == pytest.approx(metrics.root_mean_squared_error(y, y_hat), rel=1e-13)
    assert [o["name"] for o in doc["outputs"]] == ["t1", "t2"]
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.chdir(other)
    code, _, err = cli("train", "-c", str(run / "config.yaml"), "--out", str(tmp_path / "again"), "-q")
    assert code == 0, err
    with np.load(run / "params.npz") as a, np.load(tmp_path / "again" / "params.npz") as b:
        assert all(np.array_equal(a[k], b[k]) for k in ("W1", "b1", "W2", "b2"))


def test_standardisation_is_saved_and_applied(project: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    train(project, run)
    prep = json.loads((run / "preprocessing.json").read_text())
    table = np.loadtxt(project / "data" / "train.csv", delimiter=",", skiprows=1)
    assert prep["labels"] == [1, 2, 3] and prep["feature_names"] == ["a", "b", "c", "d"]
    mean, std = np.array(prep["standardize"]["mean"]), np.array(prep["standardize"]["std"])
    assert (np.abs(mean - 100) < 5).all() and (std > 1).all()  # from the training rows, not 0 and 1
    raw = table[0, :4]
    code, out, err = cli("grads", "--run", str(run), "-x", ",".join(map(repr, raw.tolist())), "-y", "2", "--json")
    assert code == 0, err
    by_hand = (raw - mean) / std
    assert json.loads(out)["samples"][0]["x"] == pytest.approx(by_hand.tolist(), rel=1e-15)
    code, out, _ = cli("grads", "-c", str(run / "config.yaml"), "-p", str(run / "params.npz"),
                       "-x", ",".join(map(repr, by_hand.tolist())), "-y", "1", "--json")
    assert code == 0  # the same sample without the run: class index 1 is the label 2
    row = ",".join(map(repr, raw.tolist()))
    with_run = json.loads(cli("grads", "--run", str(run), "-x", row, "-y", "2", "--json")[1])
    assert json.loads(out)["grads"] == with_run["grads"]


def test_predict_picks_columns_by_header_and_by_position(project: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    train(project, run)
    test = np.loadtxt(project / "data" / "test.csv", delimiter=",", skiprows=1)
    write_csv(tmp_path / "shuffled.csv", ["kind", "d", "c", "b", "a"], test[:, [4, 3, 2, 1, 0]])
    write_csv(tmp_path / "features.csv", None, test[:, :4])
    np.save(tmp_path / "features.npy", test[:, :4])
    outputs = []
    for name in ("shuffled.csv", "features.csv", "features.npy"):
        code, out, err = cli("predict", "--run", str(run), "-x", str(tmp_path / name))
        assert code == 0, err
        outputs.append(out)
    assert outputs[0] == outputs[1] == outputs[2]
    code, out, _ = cli("predict", "--run", str(run), "-x", ",".join(map(repr, test[0, :4].tolist())))
    one, whole = (np.array(o.splitlines()[1].split(","), dtype=float) for o in (out, outputs[0]))
    np.testing.assert_allclose(one, whole, rtol=1e-14)  # a batch of 1 and of 90: BLAS may sum in another order
    for suffix in (".csv", ".json", ".npy"):
        code, _, err = cli("predict", "--run", str(run), "-x", str(tmp_path / "features.npy"), "--out",
                           str(tmp_path / f"p{suffix}"))
        assert code == 0, err
    from_csv = np.loadtxt(tmp_path / "p.csv", delimiter=",", skiprows=1)
    assert np.array_equal(from_csv, np.load(tmp_path / "p.npy"))
    assert np.array_equal(np.array(json.loads((tmp_path / "p.json").read_text())["rows"]), from_csv)


def test_streamed_rows_equal_rows_read_whole(tmp_path: Path) -> None:
    a = np.random.default_rng(0).normal(size=(1000, 3))
    np.save(tmp_path / "a.npy", a)
    write_csv(tmp_path / "a.csv", ["x", "y", "z"], a)
    for name in ("a.npy", "a.csv"):
        chunks = [t.values for t in open_rows(str(tmp_path / name), "--input", chunk_rows=37).chunks]
        assert max(len(c) for c in chunks) == 37
        assert np.array_equal(np.concatenate(chunks), a)


def test_binary_labels_two_and_four_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    write_csv(tmp_path / "bc.csv", ["f1", "f2", "f3", "diagnosis"], classes_data(rng, 200, (2, 4), features=3))
    (tmp_path / "bc.yaml").write_text("model: {hidden: 5, f: relu, g: sigmoid}\nloss: {name: bce}\n"
                                      "data: {source: bc.csv, standardize: true}\ntrain: {epochs: 10, lr: 0.1}\n")
    train(tmp_path, tmp_path / "run", "bc.yaml")
    assert yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["model"]["out_features"] == 1
    code, out, err = cli("predict", "--run", str(tmp_path / "run"), "-x", str(tmp_path / "bc.csv"))
    assert code == 0, err
    labels = {line.rsplit(",", 1)[1] for line in out.splitlines()[1:]}
    assert labels <= {"2", "4"} and out.splitlines()[0] == "y_hat,label"
    code, out, _ = cli("evaluate", "--run", str(tmp_path / "run"), "-x", str(tmp_path / "bc.csv"), "--json")
    doc = json.loads(out)
    assert [c["label"] for c in doc["classes"]] == [2, 4] and doc["log_loss"] == pytest.approx(doc["loss"], rel=1e-15)


def test_separate_validation_and_test_files(project: Path, tmp_path: Path) -> None:
    (project / "cfg" / "files.yaml").write_text(
        "model: {hidden: 8, f: tanh, g: softmax}\nloss: {name: cross_entropy}\n"
        "data: {source: ../data/train.csv, validation: ../data/test.csv, test: ../data/test.csv, standardize: true}\n"
        "train: {epochs: 5, lr: 0.1}\n")
    code, out, err = cli("train", "-c", str(project / "cfg" / "files.yaml"), "-q", "--json", "--out",
                         str(tmp_path / "run"))
    assert code == 0, err
    doc = json.loads(out)
    assert doc["test"]["loss"] == pytest.approx(doc["val_loss"], rel=1e-12)  # the same file, the same rows
    code, out, err = cli("evaluate", "--run", str(tmp_path / "run"), "--json")  # data.test by default
    assert code == 0, err and json.loads(out)["loss"] == pytest.approx(doc["test"]["loss"], rel=1e-12)


# --- sizes from the data --------------------------------------------------------------------------


def test_sizes_are_inferred_and_a_mismatch_names_both(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    table = np.concatenate([rng.normal(size=(60, 29)), rng.integers(0, 2, size=(60, 1))], axis=1)
    write_csv(tmp_path / "wide.csv", None, table)
    base = ["--set", f"data.source={tmp_path / 'wide.csv'}", "--set", "model.g=sigmoid", "--set", "loss.name=bce"]
    code, out, err = cli("train", *base, "--print-config")
    assert code == 0, err
    assert yaml.safe_load(out)["model"]["in_features"] == 29 and yaml.safe_load(out)["model"]["out_features"] == 1
    code, out, err = cli("train", *base, "--set", "model.in_features=2", "-q")
    assert code == 2 and out == "" and "29 feature column(s)" in err and "model.in_features is 2" in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = cli("train", *base, "--set", "loss.name=cross_entropy", "--set", "model.g=softmax",
                       "--print-config")
    assert code == 0 and "out_features: 2" in cli("train", *base[:2], "--set", "model.g=softmax", "--set",
                                                  "loss.name=cross_entropy", "--print-config")[1]


def test_one_target_column_with_three_outputs_is_refused(tmp_path: Path) -> None:
    write_csv(tmp_path / "r.csv", ["a", "y"], np.random.default_rng(0).normal(size=(20, 2)))
    code, out, err = cli("train", "--set", f"data.source={tmp_path / 'r.csv'}", "--set", "model.out_features=3", "-q")
    assert code == 2 and "1 target column(s), so out_features must be 1 (got 3)" in err and out == ""


def test_relative_data_path_follows_the_config_not_the_cwd(project: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path / "data") if (tmp_path / "data").is_dir() else None
    cfg, _ = load_config(str(project / "cfg" / "three.yaml"))
    assert cfg.data.source == os.path.abspath(project / "data" / "train.csv")
    monkeypatch.chdir(project / "data")  # --set paths are the user's, relative to where they stand
    cfg, _ = load_config(str(project / "cfg" / "three.yaml"), ["data.source=test.csv"])
    assert cfg.data.source == os.path.abspath(project / "data" / "test.csv")


# --- paths checked first, logs, JSON for machines ------------------------------------------------------


@pytest.mark.parametrize("command", [
    ["train", "--plot", "{file}/x.png"],
    ["train", "--out", "{file}/run"],
    ["predict", "--out", "{file}/p.csv", "-x", "1,2"],
    ["predict", "--out", "{tmp}/p.txt", "-x", "1,2"],
])
def test_output_paths_are_checked_before_any_work(command: list[str], tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    args = [a.format(missing=tmp_path / "nope", file=tmp_path / "f", tmp=tmp_path) for a in command]
    code, out, err = cli(*args)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_a_missing_output_folder_is_made_as_train_out_makes_its_own(tmp_path: Path) -> None:
    code, _, err = cli("predict", "--out", str(tmp_path / "a" / "b" / "p.csv"), "-x", "1,2;3,4")
    assert code == 0, err
    assert (tmp_path / "a" / "b" / "p.csv").read_text().count("\n") == 3  # the header and two rows


def test_logs_off_a_terminal_are_one_line_per_epoch() -> None:
    code, _, err = cli("train", "--set", "train.epochs=3")  # CliRunner's stderr is not a terminal
    assert code == 0
    lines = err.strip().splitlines()
    assert lines[0].startswith("epoch 1/3 · train ") and lines[-1].startswith("epoch 3/3 · train ")
    assert all(" · R² " in line for line in lines)


def test_json_carries_names_not_display_strings() -> None:
    doc = json.loads(cli("grads", "-c", "regression", "--json")[1])
    assert doc["network"]["f"] == {"name": "relu", "scale": 5.0} and doc["network"]["g"] == {"name": "identity"}
    doc = json.loads(cli("train", "--set", "train.epochs=2", "-q", "--json")[1])
    assert doc["metric_name"] == "r2" and isinstance(doc["metric"], float)


def test_predict_and_evaluate_refuse_bad_input_in_one_line(project: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    train(project, run)
    write_csv(tmp_path / "unknown.csv", ["a", "b", "c", "d", "kind"], np.array([[1, 2, 3, 4, 9.0]]))
    cases = [
        ("predict", "--run", str(tmp_path / "nope"), "-x", "1,2,3,4"),
        ("predict", "--run", str(run), "-x", "1,2,3"),
        ("evaluate", "--run", str(run), "-x", str(tmp_path / "unknown.csv")),
        ("evaluate", "--run", str(run), "-x", "1,2,3,4;5,6,7,8", "-y", "1"),
        ("predict", "--run", str(run), "--best", "-c", "regression", "-x", "1,2,3,4"),
        ("evaluate", "--run", str(run)),
    ]
    for args in cases:
        code, _, err = cli(*args)
        assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, (args, err)
    assert "9 is not a class of the training data (classes: 1, 2, 3)" in cli(*cases[2])[2]


def test_a_header_missing_a_feature_is_refused_not_guessed(project: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    train(project, run)
    test = np.loadtxt(project / "data" / "test.csv", delimiter=",", skiprows=1)
    write_csv(tmp_path / "renamed.csv", ["kind", "d", "c", "b", "A"], test[:, [4, 3, 2, 1, 0]])
    for command in ("predict", "evaluate"):
        code, out, err = cli(command, "--run", str(run), "-x", str(tmp_path / "renamed.csv"))
        assert code == 2 and out == "" and "no feature column named 'a'" in err, err
    write_csv(tmp_path / "no_target.csv", ["a", "b", "c", "d"], test[:, :4])
    code, _, err = cli("evaluate", "--run", str(run), "-x", str(tmp_path / "no_target.csv"))
    assert code == 2 and "no target column named 'kind'" in err and "--target" in err
