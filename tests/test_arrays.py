"""Inputs, targets and params from the command line and from files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from twonet_cli.data.targets import as_inputs, as_targets
from twonet_cli.errors import InputError
from twonet_cli.formats import arrays as inputs


def test_inline_forms() -> None:
    assert inputs.parse_inline("0.5,-1.2", "--input").tolist() == [0.5, -1.2]
    assert inputs.parse_inline("1,2;3,4", "--input").tolist() == [[1, 2], [3, 4]]
    assert inputs.parse_inline(" 1 2 ", "--input").tolist() == [1, 2]
    assert inputs.parse_inline("7", "--target").tolist() == [7.0]


@pytest.mark.parametrize(
    "text,fragment",
    [("1,abc", "'abc' is not a number"), ("", "expected numbers"), ("1,2;3", "different lengths"),
     ("1,nan", "NaN"), ("1;;2", "expected numbers")],
)
def test_inline_errors(text: str, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        inputs.parse_inline(text, "--input")


def test_files(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("a,b\n1,2\n3,4\n")
    (tmp_path / "n.csv").write_text("1,2\n3,4\n\n")
    np.save(tmp_path / "x.npy", np.array([[1, 2], [3, 4]], dtype=np.int32))
    (tmp_path / "x.json").write_text(json.dumps([[1, 2], [3, 4]]))
    for name in ("h.csv", "n.csv", "x.npy", "x.json"):
        a = inputs.load_array(str(tmp_path / name), "--input")
        assert a.tolist() == [[1, 2], [3, 4]] and a.dtype == np.float64, name


@pytest.mark.parametrize(
    "name,content,fragment",
    [
        ("r.csv", "1,2\n3\n", "data row 2 has 1 values"),
        ("e.csv", "", "no data rows"),
        ("s.csv", "1,2\n3,x\n", "'x' is not a number"),
        ("b.json", "[1, 2", "invalid JSON"),
        ("t.json", '["a"]', "expected a number"),
        ("missing.csv", None, "not found"),
    ],
)
def test_file_errors(tmp_path: Path, name: str, content: str | None, fragment: str) -> None:
    if content is not None:
        (tmp_path / name).write_text(content)
    with pytest.raises(InputError, match=fragment):
        inputs.load_array(str(tmp_path / name), "--input")


def test_npy_with_objects_or_strings_is_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(tmp_path / "s.npy", np.array(["1", "2"]))
    with pytest.raises(InputError, match="cannot read"):
        inputs.load_array(str(tmp_path / "o.npy"), "--input")
    with pytest.raises(InputError, match="expected numbers"):
        inputs.load_array(str(tmp_path / "s.npy"), "--input")


def test_batch_shapes() -> None:
    assert as_inputs(np.array([1.0, 2.0]), 2, "x").shape == (1, 2)
    assert as_inputs(np.array([1.0, 2.0, 3.0]), 1, "x").shape == (3, 1)
    with pytest.raises(InputError, match="expected 2 value"):
        as_inputs(np.array([1.0, 2.0, 3.0]), 2, "--input")


def test_targets() -> None:
    assert as_targets(np.array(2.0), 3, 1, "cross_entropy", "y").tolist() == [[0, 0, 1]]
    assert as_targets(np.array([2.0, 0.0]), 3, 2, "cross_entropy", "y").tolist() == [[0, 0, 1], [1, 0, 0]]
    assert as_targets(np.array([0.0, 1.0, 0.0]), 3, 1, "cross_entropy", "y").tolist() == [[0, 1, 0]]
    assert as_targets(np.array([0.5, 1.0]), 1, 2, "bce", "y").tolist() == [[0.5], [1.0]]
    with pytest.raises(InputError, match=r"class indices must be integers in 0\.\.2"):
        as_targets(np.array(3.0), 3, 1, "cross_entropy", "--target")
    with pytest.raises(InputError, match="class indices"):
        as_targets(np.array(1.5), 3, 1, "cross_entropy", "--target")
    with pytest.raises(InputError, match=r"bce targets must lie in \[0, 1\], got 3"):
        as_targets(np.array(3.0), 1, 1, "bce", "--target")
    with pytest.raises(InputError, match="one-hot"):
        as_targets(np.array([[0.5, 0.9, 0.0]]), 3, 1, "cross_entropy", "--target")
    with pytest.raises(InputError, match="expected 2 target"):
        as_targets(np.array([1.0]), 1, 2, "mse", "--target")


def test_params_files(tmp_path: Path) -> None:
    p = {"W1": [[1.0, 2.0]], "b1": [0.5], "W2": [[3.0]], "b2": [-1.0]}
    np.savez(tmp_path / "p.npz", **{k: np.array(v) for k, v in p.items()})
    (tmp_path / "p.json").write_text(json.dumps(p))
    (tmp_path / "p.yaml").write_text("\n".join(f"{k}: {v}" for k, v in p.items()))
    for name in ("p.npz", "p.json", "p.yaml"):
        got = inputs.load_params(str(tmp_path / name), (2, 1, 1))
        assert got.W1.tolist() == [[1.0, 2.0]] and got.b2.tolist() == [-1.0], name
    with pytest.raises(InputError, match=r"W1 has shape \(1, 2\), but the network 3 → 1 → 1 needs \(1, 3\)"):
        inputs.load_params(str(tmp_path / "p.npz"), (3, 1, 1))
    (tmp_path / "q.json").write_text(json.dumps({**p, "W3": [1]}))
    with pytest.raises(InputError, match="unexpected key"):
        inputs.load_params(str(tmp_path / "q.json"), (2, 1, 1))
    (tmp_path / "bad.npz").write_text("not a zip")
    with pytest.raises(InputError, match=r"not a readable \.npz"):
        inputs.load_params(str(tmp_path / "bad.npz"), (2, 1, 1))
    with pytest.raises(InputError, match=r"not a \.npz, \.json or \.yaml"):
        inputs.load_params(str(tmp_path / "p.txt"), (2, 1, 1))
