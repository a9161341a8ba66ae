"""Reported bugs, each held as the behaviour wanted after the fix, through the public command line only.

1. a sweep with data.test reports `test: null` for every run;
2. a CSV header that repeats a name is read by position instead of being refused;
3. a first row with a missing cell (`NA` or empty) is taken as a header and silently dropped;
4. `evaluate -y` with one-hot target columns reads column 0 only;
5. `--sweep model.f=… --sweep model.f.name=…` trains runs labelled with settings they did not use;
6. string class labels (setosa/versicolor/virginica, cat/dog) are refused;
7. a truncated `.npy` ends in a traceback.

Expected numbers are computed here from the arrays written, or taken from the same command on an
equivalent input without the defect; none is copied from the program's output.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from twonet_cli.cli import app

# --- helpers (the style of test_cli.py) -----------------------------------------------------------


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def ok(*args: str) -> Result:
    r = run(*args)
    assert r.exit_code == 0, f"exit {r.exit_code} ({r.exception!r})\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    return r


def bad(*args: str, code: int = 2, stdout_empty: bool = True) -> str:
    """Run, expect `code`, exactly one 'Error: ' line on stderr and no traceback; return that line."""
    r = run(*args)
    assert r.exit_code == code, f"exit {r.exit_code} ({r.exception!r})\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    if stdout_empty:
        assert r.stdout == "", r.stdout
    return lines[0]


def write_csv(path: Path, header: list[str] | None, rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        if header is not None:
            w.writerow(header)
        w.writerows(rows)
    return path


def table(x: np.ndarray, y: np.ndarray | list[object]) -> list[list[object]]:
    """Rows of features (written with repr: exact) and one target value each."""
    return [[repr(float(v)) for v in xi] + [yi] for xi, yi in zip(x, y, strict=True)]


def blobs(seed: int, n: int, labels: list[object], spread: float = 0.5) -> tuple[np.ndarray, list[object]]:
    """Two features, one well separated blob per label: a class task the network learns in a few epochs."""
    rng = np.random.default_rng(seed)
    centres = 4.0 * np.array([[np.cos(a), np.sin(a)] for a in 2 * np.pi * np.arange(len(labels)) / len(labels)])
    k = rng.integers(0, len(labels), size=n)
    k[: len(labels)] = np.arange(len(labels))  # every class present
    return centres[k] + spread * rng.normal(size=(n, 2)), [labels[i] for i in k]


def read_predictions(stdout: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(stdout.splitlines()))
    return rows[0], rows[1:]


def train_run(out: Path, *args: str) -> Path:
    ok("train", *args, "--out", str(out), "--quiet")
    return out


# --- 1. a sweep keeps data.test -------------------------------------------------------------------


def test_sweep_runs_report_the_test_score_of_the_single_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As a user sweeping f with a test file, each run's JSON carries the test score the same run alone gets."""
    monkeypatch.chdir(tmp_path)  # the relative --set paths
    x, y = blobs(1, 60, [0, 1], spread=1.5)
    write_csv(tmp_path / "tr.csv", ["a", "b", "y"], table(x, y))
    x, y = blobs(2, 30, [0, 1], spread=1.5)
    write_csv(tmp_path / "te.csv", ["a", "b", "y"], table(x, y))
    base = ["-c", "classification-bce", "--set", "data.source=tr.csv", "--set", "data.test=te.csv",
            "--set", "train.epochs=3", "--quiet", "--json"]
    doc = json.loads(ok("train", *base, "--sweep", "model.f=tanh,relu").stdout)
    assert len(doc["runs"]) == 2
    for r in doc["runs"]:
        alone = json.loads(ok("train", *base, *[a for o in r["overrides"] for a in ("--set", o)]).stdout)
        assert alone["test"] is not None  # the single run does score the test file
        assert r["test"] is not None, f"{r['overrides']}: test is null in the sweep"
        assert r["test"]["loss"] == pytest.approx(alone["test"]["loss"], rel=1e-12)
        assert r["test"]["metric"] == pytest.approx(alone["test"]["metric"], rel=1e-12)


# --- 2. a header that repeats a name is refused ---------------------------------------------------

REPEATED = re.compile(r"repeat|duplicat|twice|more than once", re.IGNORECASE)


@pytest.fixture
def named_run(tmp_path: Path) -> Path:
    """A classifier trained on a good file with header sepal,petal,kind."""
    x, y = blobs(3, 40, [0, 1])
    source = write_csv(tmp_path / "good.csv", ["sepal", "petal", "kind"], table(x, y))
    return train_run(tmp_path / "run", "-c", "classification-bce", "--set", f"data.source={source}",
                     "--set", "train.epochs=2")


@pytest.mark.parametrize("header,name", [(["sepal", "sepal", "kind"], "sepal"),
                                         (["sepal", "petal", "petal", "kind"], "petal")])
def test_train_refuses_a_header_with_a_repeated_name(tmp_path: Path, header: list[str], name: str) -> None:
    """As a user whose CSV header repeats a column name, training stops and names it instead of reading by position."""
    rng = np.random.default_rng(4)
    rows = [[repr(float(v)) for v in rng.normal(size=len(header) - 1)] + [i % 2] for i in range(20)]
    source = write_csv(tmp_path / "dup.csv", header, rows)
    line = bad("train", "-c", "classification-bce", "--set", f"data.source={source}", "--set", "train.epochs=2",
               "--quiet")
    assert name in line and REPEATED.search(line), line


@pytest.mark.parametrize("command", ["predict", "evaluate"])
@pytest.mark.parametrize("header,name", [
    (["sepal", "sepal", "kind"], "sepal"),                  # a feature twice, the other feature absent
    (["sepal", "petal", "petal", "kind"], "petal"),         # a feature twice: which column is 'petal'?
    (["sepal", "petal", "kind", "kind"], "kind"),           # the target twice
    (["sepal", "petal", "kind", "note", "note"], "note"),   # a column not used, twice
])
def test_predict_and_evaluate_refuse_a_header_with_a_repeated_name(named_run: Path, tmp_path: Path, command: str,
                                                                  header: list[str], name: str) -> None:
    """As a user giving a run rows whose header repeats a name, the command stops and names it."""
    rng = np.random.default_rng(5)
    rows = [[repr(float(v)) for v in rng.normal(size=len(header))] for _ in range(6)]
    for row, i in zip(rows, range(6), strict=True):
        for j, h in enumerate(header):
            if h == "kind":
                row[j] = str(i % 2)  # a valid class wherever the target sits
    x = write_csv(tmp_path / "dup.csv", header, rows)
    line = bad(command, "--run", str(named_run), "-x", str(x), stdout_empty=False)
    assert name in line and REPEATED.search(line), line


# --- 3. a first row with a missing cell is a data row, not a header -------------------------------

FIRST_ROW = re.compile(r"\brow 1\b|first row", re.IGNORECASE)
BODY = [[0.2, 0.3, 0], [-1.0, 2.0, 1], [0.5, 0.5, 0], [1.0, 1.0, 1], [-2.0, -1.0, 0]]


@pytest.mark.parametrize("missing", ["NA", ""])
def test_train_refuses_a_missing_value_on_the_first_row(tmp_path: Path, missing: str) -> None:
    """As a user training on a headerless file whose first row lacks a value, the row is refused, not dropped."""
    source = write_csv(tmp_path / "d.csv", None, [["1.5", missing, "1"], *BODY])
    line = bad("train", "-c", "classification-bce", "--set", f"data.source={source}", "--set", "train.epochs=2",
               "--quiet")
    assert FIRST_ROW.search(line), line


@pytest.fixture
def headerless_run(tmp_path: Path) -> Path:
    """A classifier trained on a headerless file of two features and a 0/1 target."""
    x, y = blobs(6, 40, [0, 1])
    source = write_csv(tmp_path / "train.csv", None, table(x, y))
    return train_run(tmp_path / "run", "-c", "classification-bce", "--set", f"data.source={source}",
                     "--set", "train.epochs=2")


@pytest.mark.parametrize("missing", ["NA", ""])
def test_predict_refuses_a_missing_value_on_the_first_row(headerless_run: Path, tmp_path: Path, missing: str) -> None:
    """As a user predicting rows whose first one lacks a value, that row is refused, not dropped."""
    x = write_csv(tmp_path / "x.csv", None, [["1.5", missing], ["0.2", "0.3"], ["-1", "2"]])
    line = bad("predict", "--run", str(headerless_run), "-x", str(x), stdout_empty=False)
    assert FIRST_ROW.search(line), line


@pytest.mark.parametrize("header", [None, ["a", "b", "y"]])
def test_first_row_kept_or_taken_as_header_correctly(headerless_run: Path, tmp_path: Path,
                                                     header: list[str] | None) -> None:
    """Guard: a numeric first row is data and a row of names is a header — training uses every data row,
    and predict answers one line per row given."""
    source = write_csv(tmp_path / "six.csv", header, [[1.5, 0.1, 1], *BODY])
    doc = json.loads(ok("train", "-c", "classification-bce", "--set", f"data.source={source}",
                        "--set", "data.val_fraction=0", "--set", "train.epochs=2", "--quiet", "--json").stdout)
    assert doc["diagnostics"]["rows"] == 6 and doc["history"][0]["samples"] == 6
    features = [[1.5, 0.1], [0.2, 0.3], [-1.0, 2.0]]
    x = write_csv(tmp_path / "x.csv", None if header is None else header[:2], features)
    columns, rows = read_predictions(ok("predict", "--run", str(headerless_run), "-x", str(x)).stdout)
    assert columns == ["y_hat", "label"] and len(rows) == len(features)


# --- 4. evaluate -y with one-hot target columns ---------------------------------------------------


def test_evaluate_one_hot_targets_equal_class_indices(tmp_path: Path) -> None:
    """As a user scoring a 3-class run with one-hot target rows, the scores equal those of the class indices
    and the accuracy of predict's labels."""
    x, y = blobs(7, 150, [0, 1, 2])
    source = write_csv(tmp_path / "train.csv", None, table(x, y))
    runs = train_run(tmp_path / "run", "-c", "multiclass", "--set", f"data.source={source}",
                     "--set", "model.hidden=8", "--set", "train.epochs=5")
    x, y = blobs(8, 60, [0, 1, 2], spread=1.5)  # overlapping a little: accuracy below 1, so column 0 alone shows
    y = np.array(y)
    features = write_csv(tmp_path / "features.csv", None, [[repr(float(v)) for v in row] for row in x])
    indices = write_csv(tmp_path / "indices.csv", None, [[int(k)] for k in y])
    onehot = write_csv(tmp_path / "onehot.csv", None, np.eye(3, dtype=int)[y].tolist())
    by_index = json.loads(ok("evaluate", "--run", str(runs), "-x", str(features), "-y", str(indices), "--json").stdout)
    by_onehot = json.loads(ok("evaluate", "--run", str(runs), "-x", str(features), "-y", str(onehot), "--json").stdout)
    columns, rows = read_predictions(ok("predict", "--run", str(runs), "-x", str(features)).stdout)
    assert columns[-1] == "label" and len(rows) == len(y)
    predicted = np.array([float(r[-1]) for r in rows])
    accuracy = float(np.mean(predicted == y))
    assert by_index["rows"] == by_onehot["rows"] == len(y)
    assert by_index["accuracy"] == pytest.approx(accuracy, abs=1e-15)
    assert by_onehot["accuracy"] == pytest.approx(accuracy, abs=1e-15)
    assert by_onehot["loss"] == pytest.approx(by_index["loss"], rel=1e-12)
    assert by_onehot["confusion_matrix"] == by_index["confusion_matrix"]


# --- 5. a sweep over a key and its own sub-key ----------------------------------------------------


@pytest.mark.parametrize("sweeps", [["model.f=tanh,relu", "model.f.name=sigmoid"],
                                    ["model.f.name=sigmoid,tanh", "model.f=relu"]])
def test_sweep_over_a_key_and_its_sub_key_is_refused(tmp_path: Path, sweeps: list[str]) -> None:
    """As a user sweeping model.f and model.f.name together, no run is trained under a label it did not use."""
    out = tmp_path / "sweep"
    line = bad("train", "-c", "classification-bce", "--set", "train.epochs=2", "--quiet", "--json",
               *[a for s in sweeps for a in ("--sweep", s)], "--out", str(out))
    assert "model.f.name" in line and re.search(r"model\.f(?!\.)", line), line
    assert not out.exists()  # refused before any run


# --- 6. string class labels -----------------------------------------------------------------------

SPECIES = ["setosa", "versicolor", "virginica"]
PETS = ["cat", "dog"]
STRING_CASES = {  # labels, config, header
    "species": (SPECIES, "multiclass", ["x1", "x2", "species"]),
    "pets": (PETS, "classification-bce", ["x1", "x2", "pet"]),
}


@pytest.mark.parametrize("case", list(STRING_CASES))
def test_string_class_labels_train_predict_evaluate(tmp_path: Path, case: str) -> None:
    """As a user whose target column holds names (iris species; cat/dog with one sigmoid output), the run trains,
    predict answers in the names, evaluate scores them, and grads/check work on the run directory."""
    labels, config, header = STRING_CASES[case]
    x, y = blobs(9, 90, labels)
    source = write_csv(tmp_path / "train.csv", header, table(x, y))
    runs = train_run(tmp_path / "run", "-c", config, "--set", f"data.source={source}",
                     "--set", "model.hidden=8", "--set", "train.epochs=20")
    prep = json.loads((runs / "preprocessing.json").read_text())
    assert sorted(prep["labels"]) == sorted(labels)

    x, truth = blobs(10, 30, labels)
    test = write_csv(tmp_path / "test.csv", header, table(x, truth))
    columns, rows = read_predictions(ok("predict", "--run", str(runs), "-x", str(test)).stdout)
    outputs = len(labels) if len(labels) > 2 else 1  # BCE: one output for two classes
    assert columns == (["y_hat"] if outputs == 1 else [f"y_hat_{i}" for i in range(outputs)]) + ["label"]
    predicted = [r[-1] for r in rows]
    assert len(predicted) == len(truth) and set(predicted) <= set(labels)
    accuracy = sum(p == t for p, t in zip(predicted, truth, strict=True)) / len(truth)
    assert accuracy > 0.8  # separable data: the labels are learned, not just echoed

    doc = json.loads(ok("evaluate", "--run", str(runs), "-x", str(test), "--json").stdout)
    assert doc["rows"] == len(truth)
    assert doc["accuracy"] == pytest.approx(accuracy, abs=1e-15)
    assert set(doc["confusion_matrix"]["labels"]) <= set(labels)

    few = write_csv(tmp_path / "rows.csv", header, table(x[:4], truth[:4]))
    grads = json.loads(ok("grads", "--run", str(runs), "-x", str(few), "--json").stdout)
    # the targets are the file's names, numbered as saved
    for sample, label in zip(grads["samples"], truth[:4], strict=True):
        k = prep["labels"].index(label)
        assert sample["y"] == ([float(k)] if outputs == 1 else np.eye(outputs)[k].tolist())
    ok("check", "--run", str(runs))
    assert json.loads(ok("check", "--run", str(runs), "-x", str(few), "--json").stdout)["passed"] is True

    unknown = write_csv(tmp_path / "unknown.csv", header, table(x[:3], [labels[0], "daisy", labels[-1]]))
    line = bad("evaluate", "--run", str(runs), "-x", str(unknown))
    assert "daisy" in line, line


# --- 7. a truncated .npy ----------------------------------------------------------------------------


@pytest.fixture
def truncated(tmp_path: Path) -> dict[str, Path]:
    """Valid .npy files (rows of two features and a 0/1 target; the features alone) and copies cut short."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(40, 2))
    files = {}
    for name, array in (("table", np.c_[x, (x[:, 0] > 0).astype(float)]), ("features", x)):
        np.save(tmp_path / f"{name}.npy", array)
        data = (tmp_path / f"{name}.npy").read_bytes()
        (tmp_path / f"{name}-cut.npy").write_bytes(data[: len(data) - 100])  # header whole, rows cut
        files[name] = tmp_path / f"{name}.npy"
        files[f"{name}-cut"] = tmp_path / f"{name}-cut.npy"
    return files


@pytest.mark.parametrize("key", ["data.source", "data.validation", "data.test"])
def test_train_refuses_a_truncated_npy_in_one_line(truncated: dict[str, Path], key: str) -> None:
    """As a user whose .npy was cut short (a copy interrupted), training says so in one line, no traceback."""
    sets = {"data.source": str(truncated["table"]), key: str(truncated["table-cut"])}
    line = bad("train", "-c", "classification-bce", "--set", "train.epochs=2", "--quiet",
               *[a for k, v in sets.items() for a in ("--set", f"{k}={v}")])
    assert "table-cut.npy" in line, line


@pytest.mark.parametrize("command,name", [("predict", "features-cut"), ("evaluate", "table-cut")])
def test_predict_and_evaluate_refuse_a_truncated_npy_in_one_line(truncated: dict[str, Path], tmp_path: Path,
                                                                  command: str, name: str) -> None:
    """As a user predicting from a truncated .npy, the command says so in one line, no traceback."""
    runs = train_run(tmp_path / "run", "-c", "classification-bce", "--set", f"data.source={truncated['table']}",
                     "--set", "train.epochs=2")
    line = bad(command, "--run", str(runs), "-x", str(truncated[name]), stdout_empty=False)
    assert f"{name}.npy" in line, line


# --- the same kinds, beyond the cases reported ---------------------------------------------------


def test_text_in_a_feature_column_names_the_row_and_cell(tmp_path: Path) -> None:
    """Text is allowed as class labels, not as a feature: the row and the cell are named."""
    data = write_csv(tmp_path / "d.csv", ["a", "b", "kind"], [["1.5", "2", "x"], ["0.5", "oops", "y"],
                                                              ["1", "1", "x"], ["2", "0", "y"]])
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"model: {{hidden: 3, f: tanh, g: softmax}}\nloss: {{name: cross_entropy}}\n"
                   f"data: {{source: {data.name}, target: kind, val_fraction: 0}}\ntrain: {{epochs: 1}}\n")
    line = bad("train", "-c", str(cfg), "--quiet")
    assert "data row 2" in line and "'oops' is not a number" in line, line


def test_an_unread_text_column_is_left_alone(tmp_path: Path) -> None:
    """A column the network does not read (a name, an id) may hold text."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 2))
    rows = [[f"item{i}", repr(float(a)), repr(float(b)), "pos" if a + b > 0 else "neg"] for i, (a, b) in enumerate(x)]
    data = write_csv(tmp_path / "d.csv", ["name", "a", "b", "sign"], rows)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"model: {{hidden: 4, f: tanh, g: sigmoid}}\nloss: {{name: bce}}\n"
                   f"data: {{source: {data.name}, features: [a, b], target: sign}}\ntrain: {{epochs: 2}}\n")
    doc = json.loads(ok("train", "-c", str(cfg), "--quiet", "--json", "--out", str(tmp_path / "run")).stdout)
    assert doc["stopped"] == "done"
    prep = json.loads((tmp_path / "run" / "preprocessing.json").read_text())
    assert prep["labels"] == ["neg", "pos"] and prep["feature_names"] == ["a", "b"]
    out = ok("predict", "--run", str(tmp_path / "run"), "-x", str(data)).stdout.splitlines()
    assert out[0] == "y_hat,label" and len(out) == 41 and {r.rsplit(",", 1)[1] for r in out[1:]} <= {"neg", "pos"}


def test_npz_string_labels_train_and_predict_in_their_names(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(60, 2))
    y = np.where(x[:, 0] > 0, "right", "left")
    np.savez(tmp_path / "d.npz", x=x, y=y)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: {hidden: 4, f: tanh, g: softmax}\nloss: {name: cross_entropy}\n"
                   "data: {source: d.npz}\ntrain: {epochs: 30, lr: 0.2}\n")
    ok("train", "-c", str(cfg), "--quiet", "--out", str(tmp_path / "run"))
    np.save(tmp_path / "x.npy", x)
    rows = ok("predict", "--run", str(tmp_path / "run"), "-x", str(tmp_path / "x.npy")).stdout.splitlines()[1:]
    labels = [r.rsplit(",", 1)[1] for r in rows]
    assert set(labels) <= {"left", "right"} and np.mean(np.array(labels) == y) > 0.8


def test_a_run_with_text_labels_refuses_a_numbers_only_npy_output(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(30, 2))
    data = write_csv(tmp_path / "d.csv", ["a", "b", "pet"],
                     [[repr(float(a)), repr(float(b)), "cat" if a > 0 else "dog"] for a, b in x])
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"model: {{hidden: 3, f: tanh, g: sigmoid}}\nloss: {{name: bce}}\n"
                   f"data: {{source: {data.name}}}\ntrain: {{epochs: 1}}\n")
    ok("train", "-c", str(cfg), "--quiet", "--out", str(tmp_path / "run"))
    line = bad("predict", "--run", str(tmp_path / "run"), "-x", str(data), "--out", str(tmp_path / "p.npy"))
    assert "text" in line and ".csv or .json" in line and not (tmp_path / "p.npy").exists()
    ok("predict", "--run", str(tmp_path / "run"), "-x", str(data), "--out", str(tmp_path / "p.json"))
    doc = json.loads((tmp_path / "p.json").read_text())
    assert doc["columns"] == ["y_hat", "label"] and {r[1] for r in doc["rows"]} <= {"cat", "dog"}


@pytest.mark.parametrize("sets,sweep", [(["model.f.name=tanh"], "model.f=relu,sigmoid"),
                                        (["model.f=tanh"], "model.f.scale=1,2")])
def test_a_swept_key_also_set_by_set_is_refused(sets: list[str], sweep: str) -> None:
    args = [a for s in sets for a in ("--set", s)]
    line = bad("train", "-c", "classification-bce", *args, "--sweep", sweep, "--quiet")
    assert "--set" in line and sweep.split("=")[0] in line, line


def test_sweep_print_config_prints_every_run_and_trains_nothing(tmp_path: Path) -> None:
    out = ok("train", "-c", "classification-bce", "--sweep", "model.f=tanh,relu", "--print-config",
             "--out", str(tmp_path / "s")).stdout
    assert out.count("# run ") == 2 and "name: tanh" in out and "name: relu" in out
    assert not (tmp_path / "s").exists()


def test_r2_has_one_definition_in_training_and_evaluate(tmp_path: Path) -> None:
    """The R² training reports on its test file equals evaluate's on the same file, and both equal
    1 − SSE/SST computed here from predict's output."""
    rng = np.random.default_rng(6)
    x = rng.uniform(-2, 2, size=(120, 2))
    y = np.sin(x[:, 0]) + 0.5 * x[:, 1]
    write_csv(tmp_path / "tr.csv", ["a", "b", "y"], [[repr(float(v)) for v in r] for r in np.c_[x[:80], y[:80]]])
    test = write_csv(tmp_path / "te.csv", ["a", "b", "y"], [[repr(float(v)) for v in r] for r in np.c_[x[80:], y[80:]]])
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: {hidden: 8, f: tanh}\nloss: {name: mse}\ndata: {source: tr.csv, test: te.csv}\n"
                   "train: {epochs: 20, lr: 0.05}\n")
    doc = json.loads(ok("train", "-c", str(cfg), "--quiet", "--json", "--out", str(tmp_path / "run")).stdout)
    scores = json.loads(ok("evaluate", "--run", str(tmp_path / "run"), "-x", str(test), "--json").stdout)
    y_hat = np.array([float(r) for r in ok("predict", "--run", str(tmp_path / "run"), "-x", str(test))
                      .stdout.splitlines()[1:]])
    truth = y[80:]
    r2 = 1 - ((truth - y_hat) ** 2).sum() / ((truth - truth.mean()) ** 2).sum()
    assert doc["test"]["metric"] == pytest.approx(r2, rel=1e-12)
    assert scores["r2"] == pytest.approx(r2, rel=1e-12)


def test_predict_into_a_pipe_closed_early_ends_quietly(tmp_path: Path) -> None:
    import subprocess
    import sys

    rows = tmp_path / "many.csv"
    rows.write_text("".join(f"{i / 1000},{i / 2000}\n" for i in range(30000)))
    p = subprocess.Popen([sys.executable, "-m", "twonet_cli", "predict", "-c", "regression", "-x", str(rows)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout is not None and p.stderr is not None
    assert p.stdout.readline().startswith(b"y_hat")
    p.stdout.close()
    err = p.stderr.read()
    p.stderr.close()
    assert p.wait(timeout=60) == 141 and err == b""
