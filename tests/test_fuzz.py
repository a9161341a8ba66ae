"""Thousands of bad inputs, generated: every one must end with exit code 2 and one readable line
on stderr naming the file, key or option — never a traceback, never output, never a partial file.

Categories: configs (malformed YAML, wrong types at every key, unknown and missing keys, bad
sizes and names, impossible combinations, object-building YAML tags), inputs, targets and params
(lengths, shapes, non-numbers, NaN/Inf, empty and ragged files, wrong dtypes, keys and object
arrays, BCE targets outside [0, 1], class indices ≥ K, another architecture's params), and
`--set` overrides (unknown paths, bad values, missing `=`). Examples are drawn by the hypothesis
profile (conftest.py): derandomized in CI; run longer with
`python -m pytest tests/test_fuzz.py --hypothesis-profile thorough`. Sizes stay small: a network
that fits the machine is the fuzz tests' business, not one the schema allows but memory does not.
"""

from __future__ import annotations

import dataclasses
import json
import string
import tempfile
import typing
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from twonet_cli.cli import app
from twonet_cli.config import files as config_files
from twonet_cli.config import schema as config
from twonet_cli.config.fields import Range, field_type, hints

FUZZ = settings()  # the loaded profile's examples, seed and deadline (conftest.py)
runner = CliRunner()

# every dotted key of the config schema, and a value of the wrong kind for it
LEAVES: list[str] = []


def _walk(cls: type, prefix: str) -> None:
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        tp = hints(cls)[f.name]
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        inner = args[0] if typing.get_origin(tp) in (typing.Union, __import__("types").UnionType) and args else tp
        if dataclasses.is_dataclass(inner) and f.name != "params":
            _walk(typing.cast(type, inner), f"{prefix}{f.name}.")
        else:
            LEAVES.append(f"{prefix}{f.name}")


_walk(config.Config, "")

junk = st.one_of(
    st.text(string.printable, max_size=12),
    st.integers(-3, 64),  # sizes, seeds and counts, 0 and negatives included (each key's limit: below)
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(st.integers(-3, 3), max_size=3),
    st.dictionaries(st.sampled_from(["a", "name", "x"]), st.integers(), max_size=2),
)


def accepted_grads(stdout: str) -> None:
    """What `grads --json` printed for an input it accepted: one JSON document, every number finite,
    shapes that fit the network it names, and z1 = W1 x + b1, z3 = W2 z2 + b2 recomputed here."""
    doc = json.loads(stdout)
    net = doc["network"]
    n, m, K = net["in_features"], net["hidden"], net["out_features"]
    p = {k: np.asarray(v, dtype=np.float64) for k, v in doc["params"].items()}
    shapes = {"W1": (m, n), "b1": (m,), "W2": (K, m), "b2": (K,)}
    assert {k: a.shape for k, a in p.items()} == shapes
    assert {k: np.shape(v) for k, v in doc["grads"].items()} == shapes
    assert all(np.isfinite(np.asarray(v, dtype=np.float64)).all() for v in doc["grads"].values())
    assert isinstance(doc["loss"], float) and 0 <= doc["loss"] < float("inf")  # every loss here is ≥ 0
    assert doc["samples"]
    for s in doc["samples"]:
        x, z2 = np.asarray(s["x"]), np.asarray(s["z2"])
        for got, want in ((s["z1"], p["W1"] @ x + p["b1"]), (s["z3"], p["W2"] @ z2 + p["b2"])):
            scale = 1e-12 * (1 + np.abs(want).max())
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=scale)
        assert np.shape(s["y_hat"]) == np.shape(s["y"]) == (K,)


def one_error_line(result: Any, *, allow_ok: bool = False) -> str:
    """The result is exit 2 with exactly one stderr line starting 'Error:' and empty stdout; or,
    with ``allow_ok``, exit 0 with a `grads --json` document that passes ``accepted_grads``."""
    text = result.stdout + result.stderr
    assert "Traceback" not in text, text
    if allow_ok and result.exit_code == 0:
        accepted_grads(result.stdout)
        return ""
    assert result.exit_code == 2, f"exit {result.exit_code}: {text}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert result.stdout == "", result.stdout
    return lines[0]


def base_config() -> dict[str, Any]:
    return typing.cast(dict[str, Any], yaml.safe_load(Path(config_files.resolve("classification-bce")).read_text()))


def set_key(raw: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = raw
    for p in parents:
        if not isinstance(node.get(p), dict):
            node[p] = {} if not isinstance(node.get(p), str) else {"name": node[p]}
        node = node[p]
    node[leaf] = value


def grads_with(tmp_path: Path, key: str, value: Any) -> tuple[str, Path]:
    """(the error line or "", the config file) of `grads --json` on the base config with key = value."""
    raw = base_config()
    set_key(raw, key, value)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(raw))
    return one_error_line(runner.invoke(app, ["grads", "--json", "-c", str(path)]), allow_ok=True), path


@FUZZ
@given(key=st.sampled_from(LEAVES), value=junk)
def test_config_values_of_every_kind_at_every_key(tmp_path: Path, key: str, value: Any) -> None:
    line, path = grads_with(tmp_path, key, value)
    if line:
        assert str(path) in line or "example" in line or "--target" in line, line


@FUZZ
@given(path=st.lists(st.sampled_from(["model", "loss", "train", "data", "hiden", "f", "x", "name", "zz"]),
                     min_size=1, max_size=3), value=junk)
def test_unknown_and_misplaced_keys(tmp_path: Path, path: list[str], value: Any) -> None:
    raw = base_config()
    dotted = ".".join(path)
    if dotted in LEAVES or any(leaf.startswith(dotted + ".") for leaf in LEAVES):
        return
    set_key(raw, dotted, value)
    file = tmp_path / "c.yaml"
    file.write_text(yaml.safe_dump(raw))
    line = one_error_line(runner.invoke(app, ["grads", "-c", str(file)]))
    assert str(file) in line


@FUZZ
@given(text=st.text(string.printable + "ŷσ→", max_size=60))
def test_arbitrary_yaml_text(tmp_path: Path, text: str) -> None:
    file = tmp_path / "c.yaml"
    file.write_text(text)
    line = one_error_line(runner.invoke(app, ["grads", "--json", "-c", str(file)]), allow_ok=True)
    if line:
        assert str(file) in line


@pytest.mark.parametrize("text", [
    "!!python/object/apply:os.system ['echo pwned']\n",
    "model: !!python/object:collections.OrderedDict {}\n",
    "model: {hidden: !!python/name:os.getcwd}\n",
    "model: {in_features: 0}\n", "model: {hidden: -3}\n", "model: {out_features: 2.5}\n",
    "model: {f: swish}\n", "loss: {name: hinge}\n", "model: {g: identity}\nloss: {name: bce}\n",
    "model: {f: softmax}\n", "model: {g: softmax, out_features: 1}\nloss: {name: cross_entropy}\n",
    "model: {g: tanh, out_features: 3}\nloss: {name: cross_entropy}\n", "model:\n  - 1\n  - 2\n",
    "example: {x: [1, 2]}\nexample: {x: [3]}\n", "example: {y: [1]}\n", "{", "model: {hidden: [\n",
])
def test_hand_picked_bad_configs(tmp_path: Path, text: str) -> None:
    file = tmp_path / "c.yaml"
    file.write_text(text)
    assert str(file) in one_error_line(runner.invoke(app, ["grads", "-c", str(file)]))
    assert not (Path.cwd() / "pwned").exists()


numbers = st.floats(-1e3, 1e3, allow_nan=False)
inline = st.one_of(
    st.lists(st.one_of(numbers.map(repr), st.sampled_from(["nan", "inf", "-inf", "x", "", "1e999", "0x1"])),
             min_size=0, max_size=4).map(",".join),
    st.text(string.printable, max_size=20),
)


@FUZZ
@given(x=inline, y=inline)
def test_inline_inputs_and_targets(x: str, y: str) -> None:
    if x.startswith("-") or y.startswith("-"):  # an option-like value is a usage matter, tested elsewhere
        x, y = " " + x, " " + y
    one_error_line(runner.invoke(app, ["grads", "--json", "-c", "classification-bce", "-x", x, "-y", y]),
                   allow_ok=True)


@FUZZ
@given(rows=st.lists(st.lists(st.one_of(numbers.map(repr), st.sampled_from(["nan", "a", ""])), max_size=4),
                     max_size=4),
       header=st.booleans(), target=st.sampled_from(["1", "3", "0.5", "-1", "2;0"]))
def test_csv_inputs(tmp_path: Path, rows: list[list[str]], header: bool, target: str) -> None:
    file = tmp_path / "x.csv"
    file.write_text(("a,b\n" if header else "") + "\n".join(",".join(r) for r in rows))
    for cfg in ("classification-bce", "multiclass"):
        one_error_line(runner.invoke(app, ["grads", "--json", "-c", cfg, "-x", str(file), "-y", target]),
                       allow_ok=True)


ARRAYS = st.sampled_from([
    np.array([[1.0, 2.0]]), np.zeros((0, 2)), np.ones((2, 3)), np.array([1, 2], dtype=np.int8),
    np.array([[np.nan, 1.0]]), np.array([[np.inf, 1.0]]), np.array(["1", "2"]), np.array([True, False]),
    np.array([[1.0, 2.0]], dtype=np.complex128), np.ones((2, 2, 2)), np.array(3.0),
    np.array([{"a": 1}], dtype=object),
])


@FUZZ
@given(x=ARRAYS, y=ARRAYS, kind=st.sampled_from(["npy", "json"]))
def test_array_files(tmp_path: Path, x: Any, y: Any, kind: str) -> None:
    paths = []
    for name, a in (("x", x), ("y", y)):
        file = tmp_path / f"{name}.{kind}"
        if kind == "npy":
            np.save(file, a, allow_pickle=True)
        else:
            file.write_text(json.dumps(a.tolist(), default=str))
        paths.append(str(file))
    one_error_line(runner.invoke(app, ["grads", "--json", "-c", "classification-bce", "-x", paths[0], "-y", paths[1]]),
                   allow_ok=True)


PARAM_KEYS = st.sets(st.sampled_from(["W1", "b1", "W2", "b2", "W3", "w1"]), max_size=5)


@FUZZ
@given(keys=PARAM_KEYS, hidden=st.integers(1, 10), kind=st.sampled_from(["npz", "json", "yaml"]),
       spoil=st.sampled_from(["none", "nan", "text", "object", "ragged"]))
def test_params_files(tmp_path: Path, keys: set[str], hidden: int, kind: str, spoil: str) -> None:
    shapes = {"W1": (hidden, 2), "b1": (hidden,), "W2": (1, hidden), "b2": (1,), "W3": (2,), "w1": (1,)}
    arrays: dict[str, Any] = {k: np.ones(shapes[k]) for k in keys}
    if spoil != "none" and "W1" in arrays:
        arrays["W1"] = {"nan": np.full(shapes["W1"], np.nan), "text": np.array(["a"]),
                        "object": np.array([None, 1], dtype=object), "ragged": [[1.0], [1.0, 2.0]]}[spoil]
    file = tmp_path / f"p.{kind}"
    if kind == "npz":
        np.savez(file, **{k: np.asarray(v, dtype=object) if spoil == "ragged" and k == "W1" else v
                          for k, v in arrays.items()})
    else:
        plain = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in arrays.items()}
        text = json.dumps(plain, default=str) if kind == "json" else yaml.safe_dump(plain)
        file.write_text(text.replace("NaN", ".nan") if kind == "yaml" else text)
    line = one_error_line(runner.invoke(app, ["grads", "--json", "-c", "classification-bce", "--set", "model.hidden=3",
                                              "-p", str(file)]), allow_ok=True)
    if line:
        assert str(file) in line or "--params" in line


@FUZZ
@given(key=st.one_of(st.sampled_from(LEAVES), st.text(string.ascii_lowercase + "._", max_size=15)),
       eq=st.sampled_from(["=", "", ":", "=="]), value=st.one_of(junk.map(str), st.sampled_from(["[", "{a", "!!x"])))
def test_set_overrides(key: str, eq: str, value: str) -> None:
    args = ["grads", "--json", "-c", "classification-bce", "--set", f"{key}{eq}{value}"]
    line = one_error_line(runner.invoke(app, args),
                          allow_ok=True)
    if line:
        assert "--set" in line or "example" in line or "--target" in line, line


small = st.one_of(st.integers(-3, 40), st.floats(-2, 2), st.sampled_from(["full", "x", "[0, 9]", "[]", "null",
                                                                         "moons", "spiral", "nope.csv", "1e9"]))


@FUZZ
@given(sets=st.lists(st.tuples(st.sampled_from(["data.source", "data.target", "data.features", "data.n",
                                                "data.val_fraction", "train.batch_size", "data.classes",
                                                "model.out_features", "train.lr", "train.momentum"]),
                               small.map(str)), min_size=1, max_size=2))
def test_train_rejects_bad_settings_without_writing(tmp_path: Path, sets: list[tuple[str, str]]) -> None:
    out = Path(tempfile.mkdtemp(dir=tmp_path)) / "run"  # hypothesis reuses tmp_path across examples
    args = ["train", "-c", "classification-bce", "-q", "--out", str(out), "--set", "train.epochs=1"]
    for key, value in sets:
        args += ["--set", f"{key}={value}"]
    result = runner.invoke(app, args)
    if result.exit_code in (0, 1):  # a valid combination trained (or diverged): a complete run
        assert {p.name for p in out.iterdir()} >= {"params.npz", "config.yaml", "history.csv"}
        return
    one_error_line(result)
    assert not out.exists() or not any(out.iterdir())


def test_usage_errors_are_one_line() -> None:
    import subprocess
    import sys

    for args in (["grads", "--nope"], ["train", "--out"], ["check", "--dtype", "float16"], ["grads", "--sample", "x"]):
        r = subprocess.run([sys.executable, "-m", "twonet_cli", *args], capture_output=True, text=True, check=False)
        assert r.returncode == 2 and r.stdout == "" and r.stderr.count("\n") == 1, (args, r.stderr)


def test_the_accepted_output_check_can_fail() -> None:
    """accepted_grads passes twonet's real output and refuses it once z1 or a gradient's shape is off."""
    good = runner.invoke(app, ["grads", "--json", "-c", "classification-bce"]).stdout
    accepted_grads(good)
    doc = json.loads(good)
    doc["samples"][0]["z1"][0] += 1e-6
    with pytest.raises(AssertionError):
        accepted_grads(json.dumps(doc))
    doc = json.loads(good)
    doc["grads"]["W1"] = doc["grads"]["W1"][:-1]
    with pytest.raises(AssertionError):
        accepted_grads(json.dumps(doc))


def _int_limit(dotted: str) -> int | None:
    """The upper bound the schema sets on an integer key, or None."""
    tp = field_type(config.Config, dotted)
    stack = [tp]
    while stack:
        t = stack.pop()
        if typing.get_origin(t) is typing.Annotated:
            base, *marks = typing.get_args(t)
            if base is int:
                return next((int(m.high) for m in marks if isinstance(m, Range) and m.high is not None), None)
        stack.extend(typing.get_args(t))
    return None


BOUNDED = [(key, limit) for key in LEAVES if (limit := _int_limit(key)) is not None]


@pytest.mark.parametrize("key,limit", BOUNDED, ids=[k for k, _ in BOUNDED])
def test_every_integer_key_stops_at_its_limit(tmp_path: Path, key: str, limit: int) -> None:
    """One past the schema's limit is refused naming the key; the limit itself is not refused for size."""
    for value, refused in ((limit + 1, True), (limit, False)):
        line, _ = grads_with(tmp_path, key, value)
        if refused:
            assert f"{key}: must be ≤" in line, line
        else:
            assert "must be ≤" not in line, line


def test_sizes_beyond_memory_are_refused_before_any_work() -> None:
    big = runner.invoke(app, ["grads", "-c", "classification-bce", "--set", "model.in_features=60000",
                              "--set", "model.hidden=60000"])
    line = one_error_line(big)
    assert "more than the 50,000,000 twonet holds" in line and "GB as float64" in line
    assert "too large for float64" in one_error_line(
        runner.invoke(app, ["grads", "-c", "classification-bce", "--set", "model.f.scale=1" + "0" * 400]))


CELLS = st.one_of(st.floats(allow_nan=False, allow_infinity=False).map(repr), st.integers(-10**6, 10**6).map(str),
                  st.sampled_from([" 1.5 ", '"2"', "1_0", "nan", "-inf", "", "x", "1e400"]))


@FUZZ
@given(rows=st.lists(st.lists(CELLS, min_size=1, max_size=3), max_size=5), header=st.booleans(),
       blank=st.sampled_from(["", "\n", "\n   \n"]), bom=st.booleans())
def test_csv_fast_reader_reads_what_the_careful_one_reads(tmp_path_factory: pytest.TempPathFactory,
                                                          rows: list[list[str]], header: bool, blank: str,
                                                          bom: bool) -> None:
    """numpy's parser (the fast path) and the cell-by-cell reader give the same header and table for
    every file the fast path accepts; every other file goes to the careful reader and its message."""
    from twonet_cli.errors import InputError
    from twonet_cli.formats import table

    file = tmp_path_factory.mktemp("csv") / "x.csv"
    body = blank.join("\n".join(",".join(r) for r in rows[i:i + 2]) + "\n" for i in range(0, len(rows), 2))
    file.write_text(("\ufeff" if bom else "") + ("a,b,c\n" if header else "") + body, encoding="utf-8")
    try:
        head = table.header_of(table.first_row(file), str(file))
    except InputError:  # no rows at all: both readers say so
        return
    fast = table._loadtxt(file, head is not None)
    if fast is None:  # refused: read_csv is the careful reader alone (its messages: test_csv_inputs)
        return
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(table, "_loadtxt", lambda path, skip: None)
        careful = table.read_csv(file)
    assert careful[0] == head and careful[1].text == {}
    np.testing.assert_array_equal(fast, careful[1].values)


def test_csv_fast_reader_takes_a_plain_file(tmp_path: Path) -> None:
    from twonet_cli.formats import table

    file = tmp_path / "x.csv"
    file.write_text("\ufeffa, b\n1.5,-2\n\n3e-3, 4\n", encoding="utf-8")
    assert table.header_of(table.first_row(file), "x") == ["a", "b"]
    fast = table._loadtxt(file, True)
    assert fast is not None
    np.testing.assert_array_equal(fast, [[1.5, -2.0], [3e-3, 4.0]])
    file.write_text("1,2\n3,x\n")
    assert table._loadtxt(file, False) is None  # the careful reader names the row
