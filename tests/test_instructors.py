"""README's "Instructors" section, run as written on the shipped example class (examples/course/):
every command succeeds, the grades shown are the grades printed, and each planted mistake of the
example submissions is named for what it is."""

from __future__ import annotations

import csv
import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from twonet_cli.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("## Instructors"):README.index("## Configs")]


def commands() -> tuple[dict[str, str], list[list[str]]]:
    """(the environment the block exports, its twonet commands)."""
    block = re.search(r"```sh\n(.*?)```", SECTION, re.S)
    assert block is not None
    env, cmds = {}, []
    for line in block.group(1).splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["export"]:
            name, _, value = words[1].partition("=")
            env[name] = value
        elif words[:1] == ["twonet"]:
            cmds.append(words[1:])
    return env, cmds


@pytest.fixture()
def classroom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "100")
    env, _ = commands()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def test_the_instructors_commands_run_and_show_what_they_print(classroom: Path) -> None:
    _, cmds = commands()
    assert [c[0] for c in cmds] == ["assign", "check", "grade"]  # check exits 0 only when the key passes
    outputs = []
    for c in cmds:
        r = CliRunner().invoke(app, c)
        assert r.exit_code == 0, f"twonet {' '.join(c)}: {r.stdout}{r.stderr}"
        outputs.append(r.stdout)
    shown = re.search(r"```console\n\$ (twonet[^\n]*)\n(.*?)```", SECTION, re.S)
    assert shown is not None and shlex.split(shown.group(1))[1:] == cmds[2]
    assert [line.rstrip() for line in outputs[2].rstrip().splitlines()] == shown.group(2).rstrip().splitlines()


def test_the_example_class_is_marked_for_its_planted_mistakes(classroom: Path) -> None:
    for c in commands()[1]:
        assert CliRunner().invoke(app, c).exit_code == 0
    with (classroom / "grades" / "marks.csv").open(newline="", encoding="utf-8") as fh:
        wrong = {(r["id"], r["item"]): (r["mistake"], r["feedback"]) for r in csv.DictReader(fh) if r["correct"] == "0"}
    assert not [k for k in wrong if k[0] == "ada"]  # right throughout
    assert {k[1] for k in wrong if k[0] == "alan"} == {"dW1", "db1"}  # the ×5 of the ReLU left out
    assert "the ReLU scale is missing" in wrong[("alan", "dW1")][1]
    assert {k[1]: v[0] for k, v in wrong.items() if k[0] == "grace"} == {"dW1": "transposed"}  # not named dW1.T
    assert {v[0] for k, v in wrong.items() if k[0] == "edsger"} == {"variant"}  # a copy of ada's answers
    assert {k[1] for k in wrong if k[0] == "barbara"} == {"loss", "dW1", "db1", "dW2", "db2"}  # summed, not averaged
    assert "summed over the batch where the loss is the mean (×3)" in wrong[("barbara", "dW2")][1]
    assert {v[0] for k, v in wrong.items() if k[0] == "donald"} == {"missing"}
    with (classroom / "grades" / "gradebook.csv").open(newline="", encoding="utf-8") as fh:
        totals = {r["id"]: r["total"] for r in csv.DictReader(fh)}
    assert totals == {"ada": "9", "alan": "7", "grace": "8", "edsger": "0", "barbara": "4", "donald": "0"}
    assert "ada" not in (classroom / "grades" / "feedback" / "edsger.md").read_text(encoding="utf-8")
