"""The README's walk-through of a trained run, on the shipped example (examples/iris.*): each of its
commands runs as written, and the output it shows is the output those commands print."""

from __future__ import annotations

import csv
import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from twonet_cli.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("## Using a trained run"):README.index("### JSON documents")]


def commands() -> list[list[str]]:
    block = re.search(r"```sh\n(.*?)```", SECTION, re.S)
    assert block is not None
    return [shlex.split(line, comments=True)[1:] for line in block.group(1).splitlines() if line.startswith("twonet")]


def shown() -> tuple[list[str], list[str]]:
    """(the command, its output lines) of the README's console block."""
    block = re.search(r"```console\n\$ (twonet[^\n]*)\n(.*?)```", SECTION, re.S)
    assert block is not None
    return shlex.split(block.group(1))[1:], [line.rstrip() for line in block.group(2).splitlines()]


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding the shipped example, as the repository does, with the two files the last
    command names (the test rows' features, and their species apart)."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    with (ROOT / "examples" / "iris_test.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    with (tmp_path / "features.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows(r[:4] for r in rows)
    with (tmp_path / "species.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows(r[4:] for r in rows)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(args: list[str]) -> str:
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, f"twonet {' '.join(args)}: exit {r.exit_code}\n{r.stdout}\n{r.stderr}"
    return r.stdout


def test_the_readme_commands_run_on_the_shipped_example(project: Path) -> None:
    cmds = commands()
    assert [c[0] for c in cmds] == ["train", "predict", "predict", "evaluate", "evaluate"]
    outputs = [run(c) for c in cmds]
    truth = [r["species"] for r in csv.DictReader((project / "examples" / "iris_test.csv").read_text().splitlines())]
    predicted = list(csv.DictReader(outputs[1].splitlines()))
    written = list(csv.DictReader((project / "pred.csv").read_text().splitlines()))
    assert [r["label"] for r in predicted] == [r["label"] for r in written]
    accuracy = sum(p["label"] == t for p, t in zip(predicted, truth, strict=True)) / len(truth)
    assert accuracy >= 0.9 and set(truth) == {"setosa", "versicolor", "virginica"}
    scores = json.loads(outputs[4])
    assert scores["accuracy"] == pytest.approx(accuracy, abs=1e-12)  # features and species apart: the same rows
    assert [c["label"] for c in scores["classes"]] == ["setosa", "versicolor", "virginica"]


def test_the_readme_output_is_what_its_command_prints(project: Path) -> None:
    run(commands()[0])  # the training run the shown command reads
    args, lines = shown()
    printed = [line.rstrip() for line in run(args).splitlines()]
    assert printed[:len(lines)] == lines
