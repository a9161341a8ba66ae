"""Edges found by an adversarial pass over predict, evaluate, sweeps and inputs: each answered in one
line, or done right, never a traceback or a silently wrong result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from twonet_cli.cli import app


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def one_error(*args: str) -> str:
    r = run(*args)
    assert r.exit_code == 2, f"exit {r.exit_code}\n{r.stdout}\n{r.stderr}"
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in r.stderr, r.stderr
    return lines[0]


def test_a_sweep_value_with_spaces_runs_and_is_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    r = run("train", "-c", "classification-bce", "--set", "train.epochs=2", "--quiet",
            "--sweep", "model.f={name: relu, scale: 5},tanh", "--out", "sweep")
    assert r.exit_code == 0, r.stderr
    assert "Sweep" in r.stdout and "f=tanh" in r.stdout
    rows = Path("sweep/sweep.csv").read_text().splitlines()
    assert '"f={name: relu, scale: 5}"' in rows[1] and "f=tanh" in rows[2]


def test_a_huge_sweep_is_counted_before_it_is_built() -> None:
    values = ",".join(str(i / 1000) for i in range(1, 1001))
    t0 = time.perf_counter()
    momenta = ",".join(str(i / 2000) for i in range(1, 1001))
    line = one_error("train", "--sweep", f"train.lr={values}", "--sweep", f"train.momentum={momenta}")
    assert "1,000,000 combinations" in line and time.perf_counter() - t0 < 30  # no billion lists: counted


@pytest.mark.parametrize("spec", ["data.txt", "/dev/stdin", "rows.tsv"])
def test_an_input_of_another_kind_names_the_accepted_forms(spec: str) -> None:
    for command in (["grads", "-y", "1"], ["predict"]):
        line = one_error(*command, "-x", spec)
        assert ".csv, .npy or .json" in line and "inline numbers" in line, line


def test_a_params_file_that_is_not_numpys_says_so(tmp_path: Path) -> None:
    fake = tmp_path / "params.npz"
    fake.write_text("root:x:0:0:root:/root:/bin/bash\n")
    line = one_error("grads", "--params", str(fake))
    assert "not a NumPy file" in line and "pickle" not in line


def test_yaml_1_1_exponents_and_merge_keys_in_a_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: &m {hidden: 4, f: tanh}\n"
                   "train: {lr: 1e-4, epochs: 2}\n")
    out = run("train", "-c", str(cfg), "--print-config")
    assert out.exit_code == 0, out.stderr
    assert "lr: 0.0001" in out.stdout
    merged = tmp_path / "m.yaml"
    merged.write_text("model:\n  <<: {hidden: 4, f: tanh}\n  hidden: 6\ntrain: {epochs: 2}\n")
    doc = run("train", "-c", str(merged), "--print-config")
    assert doc.exit_code == 0, doc.stderr
    assert "hidden: 6" in doc.stdout and "name: tanh" in doc.stdout  # merged, and a key given here wins
    twice = tmp_path / "t.yaml"
    twice.write_text("model:\n  hidden: 4\n  hidden: 6\n")
    assert "duplicate key 'hidden'" in one_error("train", "-c", str(twice), "--print-config")


def test_text_from_files_reaches_the_terminal_escaped(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text('description: "\\e[31mR [b]m[/b]"\n'
                   "model: {in_features: 2, out_features: 1}\nexample: {x: [0.5, -1.2], y: [0.3]}\n")
    out = run("grads", "-c", str(cfg)).stdout
    assert "\x1b" not in out and "\\x1b[31mR [b]m[/b]" in out


def test_predict_to_stdout_says_how_many_rows_came_before_a_bad_one(tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("".join(f"{i},{i}\n" for i in range(20000)) + "1,oops\n")
    r = run("predict", "-c", "regression", "-x", str(rows))
    assert r.exit_code == 2 and "'oops' is not a number" in r.stderr
    written = len(r.stdout.splitlines()) - 1  # below the header
    assert written > 0 and f"{written:,} prediction row(s) were written to stdout" in r.stderr


def test_predict_out_stopped_by_sigterm_or_sighup_leaves_no_temporary_file(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.random.default_rng(0).normal(size=(3_000_000, 2)))
    for sig in (signal.SIGTERM, signal.SIGHUP):
        out = tmp_path / f"p{int(sig)}.csv"
        p = subprocess.Popen([sys.executable, "-m", "twonet_cli", "predict", "-c", "regression", "-x",
                              str(tmp_path / "x.npy"), "--out", str(out)], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not any(f.name.startswith(f".{out.name}.") for f in tmp_path.iterdir()):
            assert p.poll() is None and time.monotonic() < deadline, "predict ended before writing"
            time.sleep(0.01)
        p.send_signal(sig)
        assert p.wait(timeout=60) == 128 + sig
        assert p.stderr is not None
        p.stderr.close()
        left = [f.name for f in tmp_path.iterdir() if f.name not in ("x.npy",)]
        assert left == [], left
    assert os.path.exists(tmp_path / "x.npy")


def test_every_sweep_run_is_checked_before_the_first_trains(tmp_path: Path) -> None:
    out = tmp_path / "s"
    line = one_error("train", "-c", "classification-bce", "--set", "train.epochs=2", "--quiet",
                     "--sweep", "model.in_features=2,3", "--out", str(out))
    assert "model.in_features=3" in line and "in_features" in line and not out.exists()
    start = tmp_path / "start.npz"
    rng = np.random.default_rng(0)
    np.savez(start, W1=rng.normal(size=(8, 2)), b1=np.zeros(8), W2=rng.normal(size=(1, 8)), b2=np.zeros(1))
    line = one_error("train", "-c", "classification-bce", "--params", str(start), "--quiet",
                     "--sweep", "model.hidden=8,4", "--out", str(out))
    assert "W1" in line and not out.exists()


def test_a_sweep_over_an_earlier_one_is_refused_before_run_1_and_force_clears_it(tmp_path: Path) -> None:
    out = tmp_path / "s"
    base = ["train", "-c", "classification-bce", "--set", "train.epochs=2", "--quiet", "--out", str(out)]
    assert run(*base, "--sweep", "model.f=tanh,relu,sigmoid").exit_code == 0
    (out / "sweep.csv").unlink()  # an earlier sweep's run folders, without its table
    before = {p.name: (p / "params.npz").stat().st_mtime_ns for p in out.iterdir()}
    line = one_error(*base, "--sweep", "model.f=tanh,relu")
    assert "01-f=tanh" in line and "already holds a run" in line
    assert {p.name: (p / "params.npz").stat().st_mtime_ns for p in out.iterdir()} == before  # nothing trained
    (out / "03-f=sigmoid" / "notes.txt").write_text("mine")
    r = run(*base, "--sweep", "model.f=tanh,relu", "--force")
    assert r.exit_code == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["01-f=tanh", "02-f=relu", "03-f=sigmoid", "sweep.csv"]
    assert sorted(p.name for p in (out / "03-f=sigmoid").iterdir()) == ["notes.txt"]  # the user's file stays


@pytest.mark.parametrize("edit", [
    lambda p: p.update(features=[0, 7]), lambda p: p.update(features=[-1, 0]), lambda p: p.update(target=[0]),
    lambda p: p.update(names=["a"]), lambda p: p.update(names=["a", "a", "b"]), lambda p: p.update(labels=[1, 0]),
    lambda p: p.update(labels=[0, 0]), lambda p: p.update(labels=list(range(1001))), lambda p: p.update(labels=[0]),
    lambda p: p.update(columns="3"), lambda p: p.update(features=[[0], 1]), lambda p: p.update(task="clustering"),
    lambda p: p.update(standardize={"mean": [0.0], "std": [1.0, 1.0]}),
], ids=["index beyond", "index -1", "target is a feature", "names short", "names twice", "labels unsorted",
        "labels twice", "too many labels", "fewer labels than outputs", "columns text", "nested", "task",
        "standardize"])
def test_a_hand_edited_preprocessing_record_is_refused_in_one_line(tmp_path: Path, edit: object) -> None:
    import json

    out = tmp_path / "run"
    assert run("train", "-c", "classification-bce", "--set", "train.epochs=1", "-q", "--out", str(out)).exit_code == 0
    (out / "manifest.json").unlink()  # the files used as they are: only the record's own checks stand
    record = json.loads((out / "preprocessing.json").read_text())
    record["names"] = ["x1", "x2", "y"]
    edit(record)  # type: ignore[operator]
    (out / "preprocessing.json").write_text(json.dumps(record))
    line = one_error("predict", "--run", str(out), "-x", "0.5,-1.2")
    assert "preprocessing.json" in line, line


def test_a_huge_preprocessing_record_is_refused_without_reading_it(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert run("train", "-c", "classification-bce", "--set", "train.epochs=1", "-q", "--out", str(out)).exit_code == 0
    (out / "manifest.json").unlink()
    with (out / "preprocessing.json").open("w") as fh:
        fh.write('{"pad": "' + "x" * 9_000_000 + '"}')
    assert "MB" in one_error("predict", "--run", str(out), "-x", "0.5,-1.2")


def test_sixty_classes_give_a_readable_report_and_picture(tmp_path: Path) -> None:
    out = tmp_path / "run"
    r = run("train", "-c", "multiclass", "--set", "data.classes=60", "--set", "data.n=3000", "--set", "train.epochs=2",
            "-q", "--out", str(out), "--plot", str(tmp_path / "p.png"))  # warnings are errors here: none
    assert r.exit_code == 0, r.stderr
    rng = np.random.default_rng(1)
    np.savetxt(tmp_path / "x.csv", rng.normal(size=(500, 2)) * 0.5, delimiter=",")
    np.savetxt(tmp_path / "y.csv", rng.integers(0, 60, size=(500, 1)), delimiter=",", fmt="%d")
    report = run("evaluate", "--run", str(out), "-x", str(tmp_path / "x.csv"), "-y", str(tmp_path / "y.csv"))
    assert report.exit_code == 0, report.stderr
    assert "Most common mistakes (60" in report.stdout and "the 30 largest of 60" in report.stdout
    assert len(report.stdout.splitlines()) < 70  # not a wall of 60 × 60 cells


def test_predict_quotes_a_header_name_with_a_comma(tmp_path: Path) -> None:
    import csv

    rng = np.random.default_rng(2)
    x = rng.normal(size=(40, 2))
    with (tmp_path / "d.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["a", "b", "t,1", "u"])
        w.writerows(np.c_[x, x.sum(axis=1), x[:, 0]].tolist())
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: {hidden: 4, f: tanh}\nloss: {name: mse}\ndata: {source: d.csv, target: ['t,1', u]}\n"
                   "train: {epochs: 2}\n")
    assert run("train", "-c", str(cfg), "-q", "--out", str(tmp_path / "run")).exit_code == 0
    out = run("predict", "--run", str(tmp_path / "run"), "-x", str(tmp_path / "d.csv")).stdout
    rows = list(csv.reader(out.splitlines()))
    assert rows[0] == ["y_hat_t,1", "y_hat_u"] and all(len(r) == 2 for r in rows)


def test_grads_of_a_run_takes_one_hot_target_rows(tmp_path: Path) -> None:
    import json

    out = tmp_path / "run"
    assert run("train", "-c", "multiclass", "--set", "train.epochs=1", "-q", "--out", str(out)).exit_code == 0
    onehot = run("grads", "--run", str(out), "-x", "0.1,0.2;0.3,-0.1", "-y", "0,0,1;1,0,0", "--json")
    labels = run("grads", "--run", str(out), "-x", "0.1,0.2;0.3,-0.1", "-y", "2;0", "--json")
    assert onehot.exit_code == 0 and labels.exit_code == 0, onehot.stderr + labels.stderr
    assert json.loads(onehot.stdout)["grads"] == json.loads(labels.stdout)["grads"]


# --- found by a new user's review ----------------------------------------------------------------


def test_force_never_removes_a_run_another_process_is_writing(tmp_path: Path) -> None:
    out = tmp_path / "s"
    assert run("train", "-c", "classification-bce", "--set", "train.epochs=1", "-q", "--out", str(out),
               "--sweep", "model.f=tanh,relu").exit_code == 0
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / "01-f=tanh" / ".twonet.lock").write_text(f"{writer.pid}\n")  # as a live run holds it
        line = one_error("train", "-c", "classification-bce", "--set", "train.epochs=1", "-q", "--out", str(out),
                         "--sweep", "train.lr=0.1,0.2", "--force")
        assert "another twonet run is writing" in line and ".twonet.lock" in line
        assert (out / "01-f=tanh" / "params.npz").exists()
    finally:
        writer.kill()
        writer.wait()


def test_a_lock_file_twonet_did_not_write_is_taken_over_once_old(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / ".twonet.lock").write_text("garbage")
    os.utime(out / ".twonet.lock", (time.time() - 60, time.time() - 60))
    assert run("train", "-c", "classification-bce", "--set", "train.epochs=1", "-q", "--out", str(out)).exit_code == 0


def test_a_feature_column_named_twice_is_refused_at_train(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20)))
    line = one_error("train", "-c", "classification-bce", "--set", f"data.source={data}",
                     "--set", "data.features=[a,a]", "--set", "data.target=y", "-q")
    assert "named twice" in line


def test_missing_cells_matter_only_in_the_columns_read(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("id,a,b,y\n" + "".join(f"{'' if i == 3 else i},{i / 10},{(i % 3) / 3},{i % 2}\n"
                                           for i in range(30)))
    out = tmp_path / "run"
    assert run("train", "-c", "classification-bce", "--set", f"data.source={data}", "--set", "data.features=[a,b]",
               "--set", "data.target=y", "--set", "train.epochs=1", "-q", "--out", str(out)).exit_code == 0
    new = tmp_path / "new.csv"
    new.write_text("id,a,b,y\n,0.1,0.2,\nx7,0.3,0.4,\n")  # no id, no label yet: the usual new rows
    r = run("predict", "--run", str(out), "-x", str(new))
    assert r.exit_code == 0 and len(r.stdout.splitlines()) == 3, r.stderr
    new.write_text("id,a,b,y\n1,0.1,,0\n")
    line = one_error("predict", "--run", str(out), "-x", str(new))
    assert "data row 1 has a missing value ('') in column 'b'" in line


def test_a_dead_relu_network_is_not_told_to_try_relu(tmp_path: Path) -> None:
    import json

    rng = np.random.default_rng(0)
    start = tmp_path / "dead.npz"
    np.savez(start, W1=rng.normal(size=(8, 2)), b1=np.full(8, -100.0), W2=rng.normal(size=(1, 8)), b2=np.zeros(1))
    r = run("train", "-c", "classification-relu", "--set", "model.hidden=8", "--params", str(start),
            "--set", "train.epochs=2", "-q", "--json")
    assert r.exit_code == 0, r.stderr
    hints = json.loads(r.stdout)["diagnostics"]["hints"]
    vanishing = next(h for h in hints if "vanishing gradients" in h)
    assert "leaky_relu" in vanishing and "try f = relu" not in vanishing


def test_sweep_messages_name_the_sweep_and_a_lone_users_file_is_never_forced(tmp_path: Path) -> None:
    line = one_error("train", "--sweep", "model.hidden=4,100000")
    assert line.startswith("Error: --sweep model.hidden=100000"), line
    line = one_error("train", "--sweep", "train.lr=[0.1,0.2]")
    assert "--sweep" in line and "--set" not in line, line
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "history.csv").write_text("my notes\n")
    for extra in ((), ("--force",)):
        assert "no twonet run" in one_error("train", "-q", "--out", str(mine), *extra)
    assert (mine / "history.csv").read_text() == "my notes\n"


def test_an_undefined_diagnostic_is_an_empty_cell_not_nan(tmp_path: Path) -> None:
    start = tmp_path / "w2zero.npz"
    rng = np.random.default_rng(0)
    np.savez(start, W1=rng.normal(size=(8, 2)), b1=np.zeros(8), W2=np.zeros((1, 8)), b2=np.zeros(1))
    out = tmp_path / "run"
    assert run("train", "-c", "classification-bce", "--params", str(start), "--set", "train.epochs=2", "-q", "--out",
               str(out)).exit_code == 0
    history = (out / "history.csv").read_text()
    assert "nan" not in history.lower()


def test_predict_writes_nothing_when_the_input_holds_no_rows(tmp_path: Path) -> None:
    empty = tmp_path / "e.csv"
    empty.write_text("x1,x2\n")
    r = run("predict", "-c", "classification-bce", "-x", str(empty))
    assert r.exit_code == 2 and r.stdout == "" and "no data rows" in r.stderr


def test_a_sweep_into_a_single_runs_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert run("train", "-c", "classification-bce", "--set", "train.epochs=1", "-q", "--out", str(out)).exit_code == 0
    line = one_error("train", "-c", "classification-bce", "--set", "train.epochs=1", "-q", "--out", str(out),
                     "--sweep", "model.f=tanh,relu")
    assert "holds a single run" in line


def test_the_sweep_table_keeps_every_number_whole_at_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    r = run("train", "-c", "saturated-start", "--set", "train.epochs=2", "--quiet",
            "--sweep", "model.init.seed=0,1", "--sweep", "train.lr=0.01,0.1")
    assert r.exit_code == 0, r.stderr
    assert "…" not in r.stdout and "lr=0.01" in r.stdout and "lr=0.1" in r.stdout
    assert "seed=0" in r.stdout and max(len(line) for line in r.stdout.splitlines()) <= 80


def test_two_swept_keys_with_one_last_part_are_told_apart(tmp_path: Path) -> None:
    out = tmp_path / "s"
    r = run("train", "-c", "saturated-start", "--set", "train.epochs=1", "--quiet",
            "--sweep", "model.init.seed=0,1", "--sweep", "train.seed=0,1", "--out", str(out))
    assert r.exit_code == 0, r.stderr
    assert sorted(p.name for p in out.iterdir())[:2] == ["01-init.seed=0_train.seed=0", "02-init.seed=0_train.seed=1"]


def test_text_labels_are_targets_inline_in_json_and_in_npy(tmp_path: Path) -> None:
    import json

    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 2))
    with (tmp_path / "d.csv").open("w") as fh:
        fh.write("a,b,pet\n" + "".join(f"{float(a)!r},{float(b)!r},{'cat' if a > 0 else 'dog'}\n" for a, b in x))
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: {hidden: 4, f: tanh, g: sigmoid}\nloss: {name: bce}\ndata: {source: d.csv}\n"
                   "train: {epochs: 3}\n")
    out = tmp_path / "run"
    assert run("train", "-c", str(cfg), "-q", "--out", str(out)).exit_code == 0
    inline = run("grads", "--run", str(out), "-x", "0.5,-1.2;-0.3,0.2", "-y", "cat;dog", "--json")
    (tmp_path / "two.json").write_text('["cat", "dog"]')
    from_file = run("grads", "--run", str(out), "-x", "0.5,-1.2;-0.3,0.2", "-y", str(tmp_path / "two.json"), "--json")
    assert inline.exit_code == 0 and from_file.exit_code == 0, inline.stderr + from_file.stderr
    doc = json.loads(inline.stdout)
    assert doc["grads"] == json.loads(from_file.stdout)["grads"]
    assert [s["y"] for s in doc["samples"]] == [[0.0], [1.0]]  # cat is class 0, dog class 1 (sorted)
    assert run("check", "--run", str(out), "-x", "0.5,-1.2", "-y", "dog").exit_code == 0
    (tmp_path / "x.json").write_text(json.dumps(x[:5].tolist()))
    (tmp_path / "y.json").write_text(json.dumps(["cat" if a > 0 else "dog" for a in x[:5, 0]]))
    np.save(tmp_path / "y.npy", np.array(["cat" if a > 0 else "dog" for a in x[:5, 0]]))
    for y in ("y.json", "y.npy"):
        r = run("evaluate", "--run", str(out), "-x", str(tmp_path / "x.json"), "-y", str(tmp_path / y), "--json")
        assert r.exit_code == 0 and json.loads(r.stdout)["rows"] == 5, r.stderr
    assert "bird is not a class" in one_error("grads", "--run", str(out), "-x", "0.5,-1.2", "-y", "bird")


def test_npz_labels_with_a_gap_and_object_arrays_are_named(tmp_path: Path) -> None:
    x = np.random.default_rng(0).normal(size=(6, 2))
    np.savez(tmp_path / "gap.npz", x=x, y=np.array(["cat", "", "dog", "cat", "dog", "cat"]))
    np.savez(tmp_path / "obj.npz", x=x, y=np.array([1, "a", None, 2, 3, 4], dtype=object))
    cfg = tmp_path / "c.yaml"
    for name, words in (("gap.npz", "y[1] is a missing value"), ("obj.npz", "Python objects")):
        cfg.write_text(f"model: {{hidden: 3, f: tanh, g: softmax}}\nloss: {{name: cross_entropy}}\n"
                       f"data: {{source: {name}}}\ntrain: {{epochs: 1}}\n")
        assert words in one_error("train", "-c", str(cfg), "-q")
