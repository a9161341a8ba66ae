"""Answer keys (`grads --format markdown|latex`): every formula parses as LaTeX math, the numbers
are those of `grads --json`, the Jacobians are stated as the exercise states them, and the LaTeX
output is a whole document."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from latex2mathml.converter import convert
from typer.testing import CliRunner

from twonet_cli.cli import app

SHIPPED = ["regression", "classification-mse", "classification-bce", "classification-relu", "multiclass"]


def key(*args: str) -> str:
    r = CliRunner().invoke(app, ["grads", *args])
    assert r.exit_code == 0, r.stderr
    return r.stdout


def formulas(text: str, fmt: str) -> list[str]:
    display = r"\$\$(.+?)\$\$" if fmt == "markdown" else r"\\\[(.+?)\\\]"
    found = re.findall(display, text, re.S)
    rest = re.sub(display, "", text, flags=re.S)
    return found + re.findall(r"(?<!\\)\$(.+?)(?<!\\)\$", rest, re.S)


def numbers(block: str) -> np.ndarray:
    """The entries of a bmatrix as printed: 0.1234, −5, 6.7 × 10^{-5}."""
    cells = [c.strip() for row in block.split(r"\\") for c in row.split("&")]
    values = []
    for c in cells:
        m = re.fullmatch(r"(-?[\d.]+) \\times 10\^\{(-?\d+)\}", c)
        values.append(float(m[1]) * 10.0 ** int(m[2]) if m else float(c))
    return np.array(values)


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("fmt", ["markdown", "latex"])
def test_every_formula_parses_as_latex_math(name: str, fmt: str) -> None:
    text = key("-c", name, "--format", fmt, "--precision", "4")
    found = formulas(text, fmt)
    assert len(found) > 15
    for formula in found:
        assert formula.count("{") == formula.count("}"), formula
        convert(formula)  # raises on malformed math: double subscripts, a missing argument, …
    for part in ("(a) One iteration of SGD", "(b) The modules", "(c) The four gradients", "(d) The local Jacobians"):
        assert part in text


def test_the_latex_key_is_a_whole_document() -> None:
    text = key("-c", "multiclass", "--format", "latex")
    assert text.startswith("\\documentclass{article}") and "\\usepackage{amsmath}" in text
    assert "\\begin{document}" in text and text.rstrip().endswith("\\end{document}")
    assert "cross\\_entropy" in text  # prose is escaped for LaTeX


@pytest.mark.parametrize("name", SHIPPED)
def test_the_keys_numbers_are_grads_json(name: str) -> None:
    doc = json.loads(key("-c", name, "--json"))
    text = key("-c", name, "--format", "markdown", "--precision", "10")
    for param, sym in (("W1", "W^{(1)}"), ("b1", "b^{(1)}"), ("W2", "W^{(2)}"), ("b2", "b^{(2)}")):
        pattern = (r"\\frac\{\\partial \\ell\}\{\\partial " + re.escape(sym) +
                   r"\} = .*? = \\begin\{bmatrix\} (.*?) \\end\{bmatrix\}")
        block = re.search(pattern, text)
        assert block is not None, param
        want = np.asarray(doc["grads"][param], dtype=float).reshape(-1)
        np.testing.assert_allclose(numbers(block[1]), want, rtol=1e-9, atol=0.6e-10)
    assert f"\\ell = {doc['loss']:.10f}" in text


def test_the_jacobians_are_stated_as_the_exercise_states_them() -> None:
    reg = key("-c", "regression", "--format", "markdown")
    assert "diagonal matrix with $M_{ii} = 5$ where $(z_1)_i > 0$, else $0$" in reg
    assert "the $1 \\times 1$ identity matrix $I$" in reg and "V = 2(\\hat y - y)^\\top" in reg
    bce = key("-c", "classification-bce", "--format", "markdown")
    assert "M_{ii} = 1 - (z_2)_i^2" in bce and "P_{ii} = (\\hat y)_i(1 - (\\hat y)_i)" in bce
    assert "\\frac{1}{1}" not in bce and "\\frac{1 - y_i}{1 - \\hat y_i}" in bce
    soft = key("-c", "multiclass", "--format", "markdown")
    assert "\\mathrm{diag}(\\hat y) - \\hat y\\,\\hat y^\\top" in soft


def test_the_update_uses_lr_and_a_batch_sums_its_samples() -> None:
    text = key("-c", "multiclass", "-x", "0.1,0.2;0.3,-0.4", "-y", "2;0", "--lr", "0.5", "--format", "markdown")
    assert "\\eta = 0.5" in text and "(sample 2 of 2)" in text and "\\sum_{\\text{samples}}" in text
