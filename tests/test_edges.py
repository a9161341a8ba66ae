"""Odd but possible inputs, each a clear one-line error (exit 2) or the right result — never a
traceback, never a file of the user's deleted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from twonet_cli.cli import app

runner = CliRunner()


def one_line(result: Any) -> str:
    text = result.stdout + result.stderr
    assert "Traceback" not in text, text
    assert result.exit_code == 2, f"exit {result.exit_code}: {text}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def test_a_long_inline_input_is_read_as_numbers_not_as_a_file_name() -> None:
    rows = ";".join(["0.123456,-1.234567"] * 14)  # 265 characters: longer than a file name may be
    r = runner.invoke(app, ["grads", "-c", "classification-bce", "-x", rows, "-y", ",".join(["1"] * 14), "--json"])
    assert r.exit_code == 0, r.stderr
    assert len(json.loads(r.stdout)["samples"]) == 14


@pytest.mark.parametrize("option", ["--params", "--input", "--config"])
def test_a_path_longer_than_the_system_allows_is_one_line(option: str) -> None:
    long = "d" * 300 + ".json"
    args = ["grads", "-c", "classification-bce", option, long] + (["-y", "1"] if option == "--input" else [])
    assert "too long" in one_line(runner.invoke(app, args))


def test_empty_fields_are_refused() -> None:
    assert "empty" in one_line(runner.invoke(app, ["grads", "-c", "classification-bce", "-x", "1,,2", "-y", "1"]))


def test_a_csv_with_a_byte_order_mark_keeps_its_first_row(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes("\ufeff0.5,-1\n1,2\n".encode())
    r = runner.invoke(app, ["grads", "-c", "classification-bce", "-x", str(path), "-y", "1,0", "--json"])
    assert r.exit_code == 0, r.stderr
    assert [s["x"] for s in json.loads(r.stdout)["samples"]] == [[0.5, -1.0], [1.0, 2.0]]


def test_unreadable_and_directory_paths_are_one_line(tmp_path: Path) -> None:
    for args in (["grads", "-c", "classification-bce", "--params", str(tmp_path) + "/"],
                 ["grads", "-c", "classification-bce", "-x", str(tmp_path / "d.csv"), "-y", "1"]):
        (tmp_path / "d.csv").mkdir(exist_ok=True)
        one_line(runner.invoke(app, args))
    locked = tmp_path / "p.json"
    locked.write_text("{}")
    locked.chmod(0)
    if os.access(locked, os.R_OK):  # root reads anything: nothing to test
        return
    one_line(runner.invoke(app, ["grads", "-c", "classification-bce", "--params", str(locked)]))


@pytest.mark.parametrize("text", ["[" * 2000 + "]" * 2000, "a: " + "{b: " * 1200 + "1" + "}" * 1200])
def test_deeply_nested_files_are_one_line(tmp_path: Path, text: str) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    assert "nested" in one_line(runner.invoke(app, ["grads", "-c", str(cfg)]))
    js = tmp_path / "p.json"
    js.write_text(text if text.startswith("[") else '{"W1": ' + "[" * 500 + "]" * 500 + "}")
    assert "nested" in one_line(runner.invoke(app, ["grads", "-c", "classification-bce", "--params", str(js)]))


def test_a_billion_laughs_is_refused_at_once(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    cfg = tmp_path / "bomb.yaml"
    cfg.write_text("example:\n  x: *a9\n" if False else "\n".join(lines) + "\nexample: {x: *a9}\n")
    assert "aliases" in one_line(runner.invoke(app, ["grads", "-c", str(cfg)]))


def test_broken_array_files_are_one_line(tmp_path: Path) -> None:
    np.save(tmp_path / "t.npy", np.ones((50, 2)))
    (tmp_path / "trunc.npy").write_bytes((tmp_path / "t.npy").read_bytes()[:200])
    (tmp_path / "fake.npz").write_bytes((tmp_path / "t.npy").read_bytes())
    (tmp_path / "big.csv").write_text("1," + "2" * 200_000 + "\n")
    for args in (["-x", str(tmp_path / "trunc.npy"), "-y", "1"], ["--params", str(tmp_path / "fake.npz")],
                 ["-x", str(tmp_path / "big.csv"), "-y", "1"]):
        one_line(runner.invoke(app, ["grads", "-c", "classification-bce", *args]))


def test_nan_in_npy_training_data_is_refused_with_the_row(tmp_path: Path) -> None:
    table = np.random.default_rng(0).normal(size=(40, 3))
    table[:, 2] = table[:, 2] > 0
    table[17, 0] = np.nan
    np.save(tmp_path / "d.npy", table)
    line = one_line(runner.invoke(app, ["train", "-c", "classification-bce", "-q", "--set",
                                        f"data.source={tmp_path / 'd.npy'}"]))
    assert "row 17" in line and "NaN" in line


def test_the_divergence_hint_is_accepted_verbatim(tmp_path: Path) -> None:
    r = runner.invoke(app, ["train", "-c", "regression", "-q", "--set", "train.lr=50"])
    assert r.exit_code == 1
    hint = r.stderr.split("e.g. ")[1].split(")")[0]  # --set train.lr=…
    key, value = hint.removeprefix("--set ").split("=")
    r2 = runner.invoke(app, ["train", "-c", "regression", "--print-config", "--set", f"{key}={value}"])
    assert r2.exit_code == 0, r2.stderr
    assert yaml.safe_load(r2.stdout)["train"]["lr"] == pytest.approx(float(value))


@pytest.mark.parametrize("x", ["1e200,1e200", "1e300,-1e300", "1e308,1e308"])
def test_grads_and_check_agree_on_huge_inputs(x: str) -> None:
    """Both give a finite, strict-JSON answer, or both refuse in one line (never NaN in a result)."""
    results = [runner.invoke(app, [cmd, "-c", "classification-bce", "-x", x, "-y", "0", "--json"])
               for cmd in ("grads", "check")]
    codes = [r.exit_code for r in results]
    assert codes in ([0, 0], [2, 2]), codes
    for r in results:
        if r.exit_code == 2:
            assert "not finite" in one_line(r)
        else:
            json.loads(r.stdout, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))


def test_train_json_is_strict(tmp_path: Path) -> None:
    r = runner.invoke(app, ["train", "-c", "regression", "-q", "--json", "--set", "train.lr=1e6"])
    assert "NaN" not in r.stdout and "Infinity" not in r.stdout
    json.loads(r.stdout, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))


@pytest.mark.parametrize("env", [{"COLUMNS": "0"}, {"PYTHONIOENCODING": "ascii"}])
def test_odd_terminals_still_print(env: dict[str, str]) -> None:
    r = subprocess.run([sys.executable, "-m", "twonet_cli", "grads"], capture_output=True, text=True,
                       env={**os.environ, **env}, check=False)
    assert r.returncode == 0 and "Traceback" not in r.stderr and r.stdout, r.stderr


def test_stdout_to_a_full_device_is_one_line() -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    with open("/dev/full", "w") as full:
        r = subprocess.run([sys.executable, "-m", "twonet_cli", "grads"], stdout=full, stderr=subprocess.PIPE,
                           text=True, check=False)
    assert r.returncode == 2 and "Traceback" not in r.stderr and r.stderr.count("\n") == 1, r.stderr


def test_every_json_document_is_strict() -> None:
    """One rule for non-finite numbers, whatever the document: null, and a "non_finite" list."""
    from hypothesis import given
    from hypothesis import strategies as st

    from twonet_cli.ui.jsondoc import dumps

    leaves = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.text(max_size=3),
                       st.none())
    docs = st.dictionaries(st.text(max_size=3), st.recursive(leaves, lambda c: st.lists(c, max_size=3)
                                                            | st.dictionaries(st.text(max_size=3), c, max_size=3),
                                                            max_leaves=10), max_size=4)

    @given(doc=docs)
    def strict(doc: dict[str, Any]) -> None:
        text = dumps(doc)
        back = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
        def non_finite(v: Any) -> int:
            if isinstance(v, float):
                return int(not np.isfinite(v))
            items = v.values() if isinstance(v, dict) else v if isinstance(v, list) else []
            return sum(non_finite(i) for i in items)

        assert back.get("non_finite", {}).get("count", 0) == non_finite(doc)

    strict()


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PATHS = st.one_of(
    st.integers(1, 600).map(lambda n: "p" * n + ".json"),  # names up to twice the system's limit
    st.integers(1, 40).map(lambda n: "/".join(["d"] * n) + "/x.csv"),  # folders that do not exist
    st.sampled_from(["/", "/dev/null", "/proc", ".", "..", "/etc/passwd.json", "x.npz", "\x00.json"]),
)
MAGNITUDES = st.one_of(st.floats(allow_nan=False, allow_infinity=False).map(repr),
                       st.integers(-400, 400).map(lambda e: f"1e{e}"), st.integers(0, 500).map(lambda k: "9" * k))


@settings(max_examples=25)
@given(path=PATHS, option=st.sampled_from(["--params", "--input", "--grads", "--config"]))
def test_any_path_is_a_result_or_one_line(path: str, option: str) -> None:
    cmd = "check" if option == "--grads" else "grads"
    args = [cmd, *(["-c", "classification-bce"] if option != "--config" else []), option, path]
    if option == "--input":
        args += ["-y", "1"]
    r = runner.invoke(app, args)
    assert "Traceback" not in r.stdout + r.stderr
    if r.exit_code != 0:
        one_line(r)


@settings(max_examples=25)
@given(values=st.lists(MAGNITUDES, min_size=2, max_size=2), depth=st.integers(1, 3000))
def test_any_magnitude_or_depth_is_a_result_or_one_line(tmp_path_factory: Any, values: list[str], depth: int) -> None:
    r = runner.invoke(app, ["grads", "-c", "classification-bce", "-x", ",".join(values), "-y", "1", "--json"])
    if r.exit_code == 0:
        json.loads(r.stdout, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    else:
        one_line(r)
    path = tmp_path_factory.mktemp("deep") / "c.yaml"
    path.write_text("example: {x: " + "[" * depth + "1, 2" + "]" * depth + "}\n")
    r = runner.invoke(app, ["grads", "-c", str(path)])
    if r.exit_code != 0:
        one_line(r)
