"""The vanishing-gradient lesson as the README states it: every console block of the saturated start
is what its command prints (all but the times), and the numbers say what the text says."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from twonet_cli.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```console\n\$ (twonet train -c saturated-start[^\n]*)\n(.*?)```", README, re.S)
TIME = re.compile(r"\d+\.\d\d s")


def run(*args: str) -> str:
    r = CliRunner().invoke(app, list(args))
    assert r.exit_code == 0, r.stderr
    return r.stdout


def lines(text: str) -> list[str]:
    return [TIME.sub("… s", line.rstrip()) for line in text.splitlines() if line.strip() != "…"]


@pytest.mark.parametrize("command,shown", BLOCKS, ids=[c for c, _ in BLOCKS])
def test_the_readme_shows_what_its_command_prints(command: str, shown: str) -> None:
    printed = lines(run(*shlex.split(command)[1:]))
    want = lines(shown)
    start = printed.index(want[0]) if want[0] in printed else -1
    assert start >= 0 and printed[start:start + len(want)] == want, "\n".join(printed)


def test_there_are_three_such_blocks() -> None:
    assert len(BLOCKS) == 3


def test_saturated_sigma_and_tanh_let_less_through_and_their_w1_learns_less() -> None:
    """The claims of the text, from the runs themselves: from the saturated start σ and tanh let far
    less of ∂ℓ/∂z2 through than ReLU and their W1 moves about half as far; from a small start tanh
    and ReLU let through alike and every W1 moves more than its own size."""
    def diagnostics(*sets: str) -> dict[str, dict]:
        doc = json.loads(run("train", "-c", "saturated-start", *sets, "--sweep", "model.f=sigmoid,tanh,relu",
                             "--quiet", "--json"))
        return {r["overrides"][0].split("=")[1]: {**r["diagnostics"], "best": r["best_val_loss"]} for r in doc["runs"]}

    hot = diagnostics()
    assert hot["sigmoid"]["kept"] < 0.05 < hot["tanh"]["kept"] < 0.25 < hot["relu"]["kept"]
    assert hot["relu"]["moved_W1"] > 1.5 * max(hot["sigmoid"]["moved_W1"], hot["tanh"]["moved_W1"])
    assert hot["relu"]["best"] < min(hot["sigmoid"]["best"], hot["tanh"]["best"])
    assert any("vanishing gradients" in h for h in hot["sigmoid"]["hints"])
    assert not any("vanishing gradients" in h for h in hot["relu"]["hints"])
    calm = diagnostics("--set", "model.init.std=1")
    assert calm["tanh"]["kept"] > 0.4 and calm["relu"]["kept"] > 0.4
    assert all(d["moved_W1"] > 1 for d in calm.values())
    assert not any("vanishing" in h for d in calm.values() for h in d["hints"])


def test_summary_sweep_table_and_history_are_one_number(tmp_path: Path) -> None:
    """The same quantity, from the same rows, everywhere: each run's --json summary, its row of
    sweep.csv (the sweep table's data) and the last row of its history.csv."""
    import csv

    doc = json.loads(run("train", "-c", "saturated-start", "--set", "train.epochs=4", "--sweep",
                         "model.f=sigmoid,relu", "--quiet", "--json", "--out", str(tmp_path / "s")))
    with (tmp_path / "s" / "sweep.csv").open() as fh:
        table = list(csv.DictReader(fh))
    for r, row in zip(doc["runs"], table, strict=True):
        d = r["diagnostics"]
        with (Path(r["out"]) / "history.csv").open() as fh:
            last = list(csv.DictReader(fh))[-1]
        for summary, in_table, in_history in ((d["kept"], row["kept"], last["kept"]),
                                              (d["flat_fraction"], row["flat_fraction"], last["flat"]),
                                              (d["moved_W1"], row["moved_W1"], last["moved_1"]),
                                              (d["moved_W2"], row["moved_W2"], last["moved_2"])):
            assert summary == float(in_table) == float(in_history)
        assert d["rows"] == 256  # and they say which rows: the table's caption and the summary's title
