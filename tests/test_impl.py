"""`twonet check --impl`: a student's own backprop code, run in a child process and checked on every
case. Each planted implementation under tests/impls/ holds one classic mistake, and is diagnosed
for what it is; the correct ones pass every case; a hang, a memory hog, a crash and a missing
torch are one clear message, never a hung or crashed twonet."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from twonet_cli.cli import app

IMPLS = Path(__file__).resolve().parent / "impls"


def check(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, ["check", *args], env={"COLUMNS": "400", **(env or {})})
    return r.exit_code, r.stdout, r.stderr


def findings(out: str) -> dict[str, tuple[str, str, str]]:
    """The Findings table: quantity → (exact n/m, first wrong case, what is wrong)."""
    rows = {}
    section = out[out.index("Findings"):]
    for line in section.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if len(cells) == 4 and "/" in cells[1]:
            rows[cells[0]] = (cells[1], cells[2], cells[3])
    return rows


@pytest.mark.parametrize("name", ["correct", "prints", "float32"])
def test_a_correct_skeleton_passes_every_case(name: str) -> None:
    code, out, err = check("--impl", str(IMPLS / f"{name}.py"))
    assert code == 0, out + err
    assert "PASSED" in out and "on 38 cases" in out
    assert all(row[0] == "38/38" for row in findings(out).values())
    assert ("float32" in out) == (name == "float32")


def test_a_correct_torch_skeleton_passes_every_case() -> None:
    pytest.importorskip("torch")
    code, out, err = check("--impl", str(IMPLS / "correct_torch.py"))
    assert code == 0 and "torch tensors" in out, out + err


# planted file → {quantity: (what its first mistake says, the case that first shows it, or None for any)}
PLANTED = {
    "relu_derivative_at_zero": {"∂J/∂W1": ("[z ≥ 0]: the ReLU's derivative at 0 taken as 1", "at 0"),
                                "∂J/∂W2": ("∂ŷ/∂z3 are [z ≥ 0]", "at 0")},
    "relu_derivative_wrong_side": {"∂J/∂b1": ("[z < 0]: the ReLU's derivative on the wrong side of 0", None)},
    "sigmoid_prime_as_sigmoid": {"∂J/∂W1": ("σ(z): σ′ written as σ", None)},
    "mse_summed": {"J": ("summed where the loss is the mean (of 50 terms)", "2→20→5 B=10"),
                   "∂J/∂ŷ": ("summed over the batch where the loss is the mean (×50)", None)},
    "mse_over_batch_only": {"∂J/∂ŷ": ("divided by B only, not B·K (×K = 5)", None)},
    "mse_without_two": {"∂J/∂ŷ": ("the 2 of the MSE derivative 2(ŷ − y) is missing", None)},
    "mse_sign_flipped": {"∂J/∂ŷ": ("sign flipped: ŷ − y written as y − ŷ", None)},
    "dW1_transposed": {"∂J/∂W1": ("transposed: (2, 20) given, (20, 2) expected", None)},
    "bias_averaged": {"∂J/∂b1": ("averaged over the batch (÷B = 10)", None)},
    "bce_one_term": {"∂J/∂ŷ": ("entries wrong", "bce")},
    "db2_sign": {"∂J/∂b2": ("sign flipped in ∂ℓ/∂b2 alone", None)},
    "first_entry_wrong": {"∂J/∂b2": ("1 of 5 entries wrong: db2[0]", None)},
    "weight_decay_left_in": {"∂J/∂W1": ("close, not right", None)},
    "raises": {"∂J/∂W1": ("KeyError: 'nonexistent' (raises.py, line", None)},
}


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_each_planted_mistake_is_diagnosed(name: str) -> None:
    code, out, err = check("--impl", str(IMPLS / f"{name}.py"))
    assert code == 1, out + err
    assert "FAILED" in out
    rows = findings(out)
    for quantity, (words, case) in PLANTED[name].items():
        _, first, what = rows[quantity]
        assert words in what, (quantity, what)
        assert first.startswith("case ")
        if case is not None:
            number = int(first.split()[1])
            line = next(line for line in out.splitlines() if line.startswith(f"│ {number} "))
            assert case in line, line
    untouched = {"mse_summed": "∂J/∂W1", "dW1_transposed": "∂J/∂b1", "db2_sign": "∂J/∂W1", "raises": "ŷ = forward(x)"}
    if name in untouched:  # a mistake in one place is not blamed on another
        assert rows[untouched[name]][0] == "38/38"


def test_the_courses_criterion_is_shown_and_its_luck_named() -> None:
    _, out, _ = check("--impl", str(IMPLS / "weight_decay_left_in.py"))
    assert "passes in 38 of 38 cases; twonet's exact check in 0" in out
    assert "passes by luck" in out
    _, out, _ = check("--impl", str(IMPLS / "correct.py"))
    assert "by luck" not in out


def test_a_function_is_checked_with_the_configs_network() -> None:
    code, out, err = check("--impl", f"{IMPLS / 'grads_function.py'}:grads", "-c", "regression")
    assert code == 0, out + err
    code, out, _ = check("--impl", f"{IMPLS / 'grads_missing_scale.py'}:grads", "-c", "regression")
    assert code == 1 and "the ReLU scale is missing: ∂z2/∂z1 = 5·[z1 > 0]" in findings(out)["∂J/∂W1"][2]
    assert findings(out)["∂J/∂W2"][0] == "4/4"
    code, out, _ = check("--impl", f"{IMPLS / 'grads_function.py'}:grads", "-c", "classification-bce")
    assert code == 1  # setup 1's gradients are not setup 3's: the check can fail


def test_an_infinite_loop_is_stopped_and_named() -> None:
    code, out, err = check("--impl", str(IMPLS / "infinite_loop.py"), "--timeout", "5")
    assert code == 1, out + err
    assert "Stopped at case 1: backward: did not finish within 5 s" in out


@pytest.mark.skipif(sys.platform != "linux", reason="the address-space limit (RLIMIT_AS) is Linux's")
def test_a_memory_hog_is_stopped_at_the_limit() -> None:
    code, out, err = check("--impl", str(IMPLS / "memory_hog.py"), "--memory", "1024")
    assert code == 1, out + err
    assert "past the memory limit of 1024 MB" in out


def test_torch_missing_is_one_line() -> None:
    code, out, err = check("--impl", str(IMPLS / "correct_torch.py"), env={"PYTHONPATH": str(IMPLS / "no_torch")})
    assert code == 2 and out == ""
    assert "imports torch, which is not installed here" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(("spec", "message"), [
    ("not_the_skeleton.py", "it is not the skeleton: missing class MLP"),
    ("nowhere.py", "not found"),
    ("correct.txt", "neither a .py file"),
    ("grads_function.py:not_there", "it has no function 'not_there'"),
    ("grads_function.py:1x", "is not a function's name"),
])
def test_a_file_that_cannot_be_driven_is_one_line(spec: str, message: str) -> None:
    code, _, err = check("--impl", spec if spec.startswith("correct.txt") else str(IMPLS / spec))
    assert code == 2 and message in err and "Traceback" not in err, err


def test_a_file_that_fails_at_import_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "mlp.py").write_text("import numpy as np\nx = 1 / 0\n", encoding="utf-8")
    code, _, err = check("--impl", str(tmp_path / "mlp.py"))
    assert code == 2 and "ZeroDivisionError: division by zero (mlp.py, line 2, in <module>)" in err
    (tmp_path / "mlp.py").write_text("def broken(:\n", encoding="utf-8")
    code, _, err = check("--impl", str(tmp_path / "mlp.py"))
    assert code == 2 and "does not parse" in err


def test_impl_refuses_options_of_another_check() -> None:
    code, _, err = check("--impl", str(IMPLS / "correct.py"), "--grads", "g.json")
    assert code == 2 and "cannot be combined" in err


def test_the_students_file_runs_beside_its_own_modules(tmp_path: Path) -> None:
    """A helper module next to mlp.py is importable, as when the student runs it themselves."""
    shutil.copy(IMPLS / "correct.py", tmp_path / "helpers.py")
    (tmp_path / "mlp.py").write_text("from helpers import MLP, mse_loss, bce_loss  # noqa: F401\n", encoding="utf-8")
    code, out, err = check("--impl", str(tmp_path / "mlp.py"))
    assert code == 0, out + err


def test_the_readme_shows_what_check_impl_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    import re
    import shlex

    readme = (IMPLS.parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Checking your own code"):readme.index("## Instructors")]
    block = re.search(r"```console\n\$ (twonet[^\n]*)\n(.*?)```", section, re.S)
    assert block is not None
    monkeypatch.chdir(IMPLS.parents[1])
    r = CliRunner().invoke(app, shlex.split(block.group(1))[1:], env={"COLUMNS": "100"})
    assert r.exit_code == 1
    assert [line.rstrip() for line in r.stdout.rstrip().splitlines()] == block.group(2).rstrip().splitlines()


MORE = {  # from a reviewer's list of what students really write
    "bce_gradient_of_z3": ("∂J/∂ŷ", "∂J/∂ŷ is ∂J/∂z3 = ∂J/∂ŷ · g′(z3)"),
    "g_derivative_from_f": ("∂J/∂W2", "the hidden layer's derivative"),
    "relu_derivative_half_at_zero": ("∂J/∂W1", "the ReLU's derivative at 0 taken as ½"),
    "forward_returns_none": ("ŷ = forward(x)", "forward returned None"),
    "print_loop": ("∂J/∂W1", "a print in a loop?"),
}


@pytest.mark.parametrize("name", sorted(MORE))
def test_more_mistakes_students_make_are_named(name: str) -> None:
    code, out, err = check("--impl", str(IMPLS / f"{name}.py"))
    assert code == 1, out + err
    quantity, words = MORE[name]
    assert words in findings(out)[quantity][2]


def test_a_clear_that_does_not_clear_is_named_not_taken_for_a_factor_two() -> None:
    code, out, _ = check("--impl", str(IMPLS / "clear_does_not_clear.py"))
    assert code == 1
    assert "clear_grad_and_cache leaves the gradients as they were" in out
    assert all(row[0] == "38/38" for row in findings(out).values())  # each backward, on a new MLP, is right
    assert "MSE derivative is doubled" not in out


def test_a_bias_gradient_kept_as_a_row_passes_as_the_courses_test_does() -> None:
    code, out, err = check("--impl", str(IMPLS / "bias_keepdims.py"))
    assert code == 0, out + err


def test_torch_code_that_casts_to_float32_is_driven_in_float32() -> None:
    pytest.importorskip("torch")
    code, out, err = check("--impl", str(IMPLS / "torch_float32.py"))
    assert code == 0 and "to float32's precision" in out, out + err


def test_code_that_ends_the_process_on_import_fails_in_one_line() -> None:
    code, out, err = check("--impl", str(IMPLS / "exits_at_import.py"))
    assert code == 1 and out == ""
    assert "ended the Python process (exit 0) while importing it" in err


def test_a_path_may_hold_a_colon(tmp_path: Path) -> None:
    folder = tmp_path / "a:b"
    folder.mkdir()
    shutil.copy(IMPLS / "correct.py", folder / "mlp.py")
    code, out, err = check("--impl", str(folder / "mlp.py"))
    assert code == 0, out + err
    code, _, err = check("--impl", ":grads")
    assert code == 2 and "names no file or module" in err


def test_the_skeleton_refuses_a_config_it_would_not_use() -> None:
    code, _, err = check("--impl", str(IMPLS / "correct.py"), "-c", "multiclass")
    assert code == 2 and "--config and --set choose the network of a FILE.py:FUNCTION only" in err


def test_a_class_named_as_a_function_is_one_line() -> None:
    code, _, err = check("--impl", f"{IMPLS / 'correct.py'}:MLP")
    assert code == 2 and "MLP is a class" in err


def test_the_courses_test_broadcasts_a_bias_row_as_the_course_does() -> None:
    _, out, _ = check("--impl", str(IMPLS / "bias_keepdims.py"))
    assert "passes in 38 of 38 cases; twonet's exact check in 38" in out
