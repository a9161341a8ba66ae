"""A course of 30 students, run end to end: `assign` draws a variant per student (reproducible from
the roster and the secret, hand-workable, never degenerate), and `grade` marks 25 submissions with
planted mistakes of every kind into the expected gradebook, exactly.

The answers the submissions are built from come from tests/reference.py (the exercise's formulas
written out per sample), never from twonet; each planted mistake is made by hand here."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from tests import reference
from twonet_cli.cli import app

SECRET = "correct horse battery staple"
IDS = [f"s{k:02d}" for k in range(1, 31)]
ITEMS = ["z1", "z2", "z3", "y_hat", "loss", "dW1", "db1", "dW2", "db2"]
GRADS = ["dW1", "db1", "dW2", "db2"]
WEIGHTS = {"dW1": 2.0, "db1": 2.0}  # the rest 1 each: 11 in all


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("course")
    (root / "roster.csv").write_text("name,id\n" + "".join(f"Student {i},{i}\n" for i in IDS), encoding="utf-8")
    r = invoke("assign", str(root / "roster.csv"), "-c", "course", "--secret", SECRET, "-o", str(root / "assignment"))
    assert r.exit_code == 0, r.stderr
    return root


def key_of(course: Path, sid: str) -> dict[str, Any]:
    return json.loads((course / "assignment" / "keys" / f"{sid}.json").read_text(encoding="utf-8"))


def answers(course: Path, sid: str) -> dict[str, np.ndarray]:
    """The right answers to ``sid``'s sheet, by the reference formulas (inputs read from the key)."""
    k = key_of(course, sid)
    p = {name: np.array(v, dtype=float) for name, v in k["params"].items()}
    X = np.array([s["x"] for s in k["samples"]])
    Y = np.array([s["y"] for s in k["samples"]])
    ref = reference.backprop("relu", "identity", "mse", "mean", p["W1"], p["b1"], p["W2"], p["b2"], X, Y)
    return {"z1": ref["z1"], "z2": ref["z2"], "z3": ref["z3"], "y_hat": ref["y_hat"], "loss": np.array(ref["loss"]),
            "dW1": ref["W1"], "db1": ref["b1"], "dW2": ref["W2"], "db2": ref["b2"]}


def by_hand(a: np.ndarray) -> Any:
    """An answer as a student writes it: four significant digits, as nested lists."""
    return np.vectorize(lambda v: float(f"{v:.4g}"))(np.asarray(a, dtype=float)).tolist()


def write_json(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc), encoding="utf-8")


# Each student: how the submission is made, the items expected right, the mistake expected per wrong item
PLAN: dict[str, tuple[str, set[str], dict[str, str]]] = {
    "s01": ("honest json", set(ITEMS), {}),
    "s02": ("honest yaml", set(ITEMS), {}),
    "s03": ("honest npz", set(ITEMS), {}),
    "s04": ("honest csv folder", set(ITEMS), {}),
    "s05": ("honest grads --json document", set(ITEMS), {}),
    "s06": ("vectors as columns and (1, K) rows", set(ITEMS), {}),
    "s07": ("dW1 given transposed and named dW1.T, aliases dJdW1 … ", set(ITEMS), {}),
    "s08": ("six significant digits, then 0.04% off: within rtol", set(ITEMS), {}),
    "s09": ("×5 of the ReLU missing in dW1, db1", set(ITEMS) - {"dW1", "db1"}, {"dW1": "factor", "db1": "factor"}),
    "s10": ("all four gradients summed, not averaged (×B)", set(ITEMS) - set(GRADS), dict.fromkeys(GRADS, "factor")),
    "s11": ("dW1 transposed, not named so", set(ITEMS) - {"dW1"}, {"dW1": "transposed"}),
    "s12": ("sign of every gradient flipped", set(ITEMS) - set(GRADS), dict.fromkeys(GRADS, "sign")),
    "s13": ("one wrong entry in z1", set(ITEMS) - {"z1"}, {"z1": "entries"}),
    "s14": ("db1 of the wrong shape", set(ITEMS) - {"db1"}, {"db1": "shape"}),
    "s15": ("unreadable file", set(), dict.fromkeys(ITEMS, "unreadable")),
    "s16": ("s17's answers", set(), dict.fromkeys(ITEMS, "variant")),  # corrected below for chance agreement
    "s17": ("honest json", set(ITEMS), {}),
    "s18": ("csv folder with one unreadable item", set(ITEMS) - {"dW2"}, {"dW2": "unreadable"}),
    "s19": ("no loss", set(ITEMS) - {"loss"}, {"loss": "missing"}),
    "s20": ("the 2 of 2(ŷ − y) missing in every gradient", set(ITEMS) - set(GRADS), dict.fromkeys(GRADS, "factor")),
    "s21": ("loss summed, not averaged", set(ITEMS) - {"loss"}, {"loss": "factor"}),
    "s22": ("two submissions", set(), dict.fromkeys(ITEMS, "unreadable")),
    "s23": ("z2 given z1's value", set(ITEMS) - {"z2"}, {"z2": "swapped"}),
    "s24": ("dW2 noise", set(ITEMS) - {"dW2"}, {"dW2": "wrong"}),
    "s25": ("honest, with an extra key", set(ITEMS), {}),
}  # s26 … s30 hand nothing in


def submit(course: Path) -> Path:
    folder = course / "submissions"
    folder.mkdir(exist_ok=True)
    for sid, (how, _, _) in PLAN.items():
        a = answers(course, "s17" if sid == "s16" else sid)
        doc: dict[str, Any] = {k: by_hand(v) for k, v in a.items()}
        if how == "honest yaml":
            (folder / f"{sid}.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
        elif how == "honest npz":
            np.savez(folder / f"{sid}.npz", **{k: np.array(v) for k, v in doc.items()})
        elif how.startswith("honest csv") or how.startswith("csv folder"):
            (folder / sid).mkdir()
            for k, v in doc.items():
                np.savetxt(folder / sid / f"{k}.csv", np.atleast_2d(v), delimiter=",")
            if how.startswith("csv folder"):
                (folder / sid / "dW2.csv").write_text("0.5,abc,1\n", encoding="utf-8")
        elif how == "honest grads --json document":
            write_json(folder / f"{sid}.json", {
                "network": {}, "loss": doc["loss"], "grads": {k[1:]: doc[k] for k in GRADS},
                "samples": [{k: doc[k][i] for k in ("z1", "z2", "z3", "y_hat")} for i in range(3)]})
        else:
            write_json(folder / f"{sid}.json", plant(sid, doc, a))
    (folder / "s15.json").write_text('{"z1": [1, 2,', encoding="utf-8")
    (folder / "s22.yaml").write_text("z1: [1]\n", encoding="utf-8")
    write_json(folder / "s99.json", {"z1": [1]})  # on no roster
    return folder


def plant(sid: str, doc: dict[str, Any], a: dict[str, np.ndarray]) -> dict[str, Any]:
    """The mistake of ``sid``'s plan, made by hand on the right answers."""
    match sid:
        case "s06":
            doc["db1"] = [[v] for v in doc["db1"]]
            doc["db2"] = [doc["db2"]]
            doc["loss"] = [[doc["loss"]]]
        case "s07":
            doc["dW1.T"] = by_hand(a["dW1"].T)
            doc["dJdb1"] = doc.pop("db1")
            doc["dl_dW2"] = doc.pop("dW2")
            del doc["dW1"]
        case "s08":  # within the default rtol of 1e-3
            doc = {k: (np.vectorize(lambda v: float(f"{v:.6g}"))(a[k]) * (1 + 4e-4)).tolist() for k in ITEMS}
        case "s09":
            doc["dW1"], doc["db1"] = by_hand(a["dW1"] / 5), by_hand(a["db1"] / 5)
        case "s10":
            doc.update({k: by_hand(3 * a[k]) for k in GRADS})
        case "s11":
            doc["dW1"] = by_hand(a["dW1"].T)
        case "s12":
            doc.update({k: by_hand(-a[k]) for k in GRADS})
        case "s13":
            z1 = a["z1"].copy()
            z1[1, 2] += 1.0
            doc["z1"] = by_hand(z1)
        case "s14":
            doc["db1"] = by_hand(a["db1"][:2])
        case "s19":
            del doc["loss"]
        case "s20":
            doc.update({k: by_hand(a[k] / 2) for k in GRADS})
        case "s21":
            doc["loss"] = by_hand(3 * a["loss"])
        case "s23":
            doc["z2"] = doc["z1"]
        case "s24":
            doc["dW2"] = by_hand(a["dW2"] * np.array([[1.5, -2.0, 3.0]]) + 0.37)  # every entry off, by no one factor
        case "s25":
            doc["name"] = "Student 25"
    return doc


def expected(course: Path) -> dict[str, tuple[set[str], dict[str, str]]]:
    """Each student's items right and mistakes; s16 copied s17, so an item whose key s16 shares with
    s17 (by chance) is right. Students s26 … s30 have every item missing."""
    out = {sid: (right, dict(kinds)) for sid, (_, right, kinds) in PLAN.items()}
    mine, theirs = answers(course, "s16"), answers(course, "s17")
    shared = {k for k in ITEMS if np.allclose(theirs[k], mine[k], rtol=1e-3, atol=1e-6)}
    out["s16"] = (shared, {k: "variant" for k in ITEMS if k not in shared})
    for sid in IDS[25:]:
        out[sid] = (set(), dict.fromkeys(ITEMS, "missing"))
    return out


@pytest.fixture(scope="module")
def graded(course: Path) -> Path:
    folder = submit(course)
    weights = [f"--weight={k}={v:g}" for k, v in WEIGHTS.items()]
    r = invoke("grade", str(folder), "--keys", str(course / "assignment"), "-o", str(course / "grades"), *weights)
    assert r.exit_code == 0, r.stderr
    (course / "screen.txt").write_text(r.stdout, encoding="utf-8")
    return course / "grades"


def test_the_course_grades_to_the_expected_gradebook_exactly(course: Path, graded: Path) -> None:
    want = expected(course)
    rows = [["id", *ITEMS, "total"]]
    for sid in IDS:
        right = want[sid][0]
        points = [WEIGHTS.get(k, 1.0) if k in right else 0.0 for k in ITEMS]
        rows.append([sid, *(f"{p:g}" for p in points), f"{sum(points):g}"])
    with (graded / "gradebook.csv").open(newline="", encoding="utf-8") as fh:
        assert list(csv.reader(fh)) == rows


def test_every_planted_mistake_is_named_for_what_it_is(course: Path, graded: Path) -> None:
    want = expected(course)
    with (graded / "marks.csv").open(newline="", encoding="utf-8") as fh:
        marks = {(r["id"], r["item"]): r for r in csv.DictReader(fh)}
    for sid in IDS:
        right, kinds = want[sid]
        for item in ITEMS:
            m = marks[(sid, item)]
            assert (m["correct"] == "1") == (item in right), (sid, item, m["feedback"])
            if item not in right:
                assert m["mistake"] == kinds[item], (sid, item, m["feedback"])
    words = {("s09", "dW1"): "ReLU scale is missing", ("s10", "db2"): "summed over the batch where the loss is the "
             "mean (×3)", ("s12", "dW2"): "like all four gradients: sign flipped", ("s13", "z1"): "z1[1, 2] is",
             ("s14", "db1"): "has shape (2,), expected (3,)", ("s11", "dW1"): "(2, 3) given, (3, 2) expected",
             ("s15", "z1"): "s15.json: invalid JSON", ("s18", "dW2"): "s18/dW2.csv",
             ("s20", "dW1"): "the 2 of the MSE derivative 2(ŷ − y) is missing",
             ("s21", "loss"): "summed where the loss is the mean (of 3 terms)",
             ("s22", "loss"): "more than one submission",
             ("s23", "z2"): "you gave the value of z1", ("s26", "z1"): "no submission found"}
    for (sid, item), text in words.items():
        assert text in marks[(sid, item)]["feedback"], (sid, item, marks[(sid, item)]["feedback"])


def test_feedback_per_student_and_class_statistics(course: Path, graded: Path) -> None:
    want = expected(course)
    for sid in IDS:
        text = (graded / "feedback" / f"{sid}.md").read_text(encoding="utf-8")
        right = want[sid][0]
        total = sum(WEIGHTS.get(k, 1.0) for k in right)
        assert f"Score: {total:g} of 11." in text
        assert "s17" not in text or sid == "s17"  # a copied submission's feedback names no other student
    with (graded / "stats.csv").open(newline="", encoding="utf-8") as fh:
        stats = {r["item"]: r for r in csv.DictReader(fh)}
    for item in ITEMS:
        submitted = IDS[:25]
        correct = sum(item in want[sid][0] for sid in submitted)
        assert (int(stats[item]["correct"]), int(stats[item]["marked"])) == (correct, 25)
    assert stats["z1"]["commonest_mistake"] == "entries (1)"  # s13 (s15, s22 unreadable: not a diagnosis)
    assert stats["loss"]["commonest_mistake"] == "factor: summed where the loss is the mean (1)"
    assert stats["dW1"]["commonest_mistake"] == "factor: the ReLU scale is missing (1)"  # s09, first of five ones
    screen = (course / "screen.txt").read_text(encoding="utf-8")
    assert "s99.json" in screen and "answers s17's variant" in screen


def test_keys_are_the_reference_answers_and_check_accepts_them(course: Path) -> None:
    for sid in IDS[:5]:
        k, a = key_of(course, sid), answers(course, sid)
        np.testing.assert_allclose(np.array(k["grads"]["W1"]), a["dW1"], rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(np.array([s["z3"] for s in k["samples"]]), a["z3"], rtol=1e-13, atol=1e-13)
        assert k["loss"] == pytest.approx(float(a["loss"]), rel=1e-13)
    r = invoke("check", "-c", str(course / "assignment" / "config.yaml"), "--grads",
               str(course / "assignment" / "keys" / "s01.json"))
    assert r.exit_code == 0, r.stdout


def test_variants_are_hand_workable_and_not_degenerate(course: Path) -> None:
    seen = set()
    for sid in IDS:
        k, a = key_of(course, sid), answers(course, sid)
        numbers = [np.array(v, dtype=float) for v in k["params"].values()]
        numbers += [np.array([s["x"] for s in k["samples"]]), np.array([s["y"] for s in k["samples"]])]
        for v in numbers:
            assert np.array_equal(v, np.round(v)) and np.abs(v).max() <= 3
        assert (a["z1"] != 0).all() and (a["z1"] > 0).any()  # no ReLU input at the kink; not all dead
        assert all(np.any(a[i] != 0) for i in ITEMS)  # no item that is all zeros
        seen.add(json.dumps(k["params"]))
    assert len(seen) == len(IDS)  # every student's numbers their own


def test_the_same_roster_and_secret_give_the_same_bytes(course: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    r = invoke("assign", str(course / "roster.csv"), "-c", "course", "--secret", SECRET, "-o", str(again))
    assert r.exit_code == 0, r.stderr
    first = {p.relative_to(course / "assignment"): p.read_bytes() for p in (course / "assignment").rglob("*")
             if p.is_file()}
    assert first == {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    other = tmp_path / "other"
    assert invoke("assign", str(course / "roster.csv"), "-c", "course", "--secret", "another", "-o",
                  str(other)).exit_code == 0
    assert (other / "keys" / "s01.json").read_bytes() != (again / "keys" / "s01.json").read_bytes()
    sheet = (again / "sheets" / "s01.md").read_text(encoding="utf-8")
    assert "dW1" in sheet and '"loss": 0.0' in sheet
    key = key_of(course, "s01")
    answers_shown = [v for v in np.concatenate([np.ravel(np.array(a, dtype=float)) for a in (
        key["loss"], *key["grads"].values(), *([s[q] for s in key["samples"]] for q in ("z1", "z2", "z3")))])
        if v != round(v)]  # the sheet's own numbers are integers; a fraction in it could only be an answer
    assert answers_shown and not [v for v in answers_shown if f"{v:.4f}" in sheet]


@pytest.mark.parametrize(("args", "message"), [
    (["--secret", ""], "--secret: empty"),
    ([], "--secret: needed"),
])
def test_assign_refuses_without_a_secret(course: Path, tmp_path: Path, args: list[str], message: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWONET_SECRET", raising=False)
    r = invoke("assign", str(course / "roster.csv"), "-o", str(tmp_path / "out"), *args)
    assert r.exit_code == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("roster", "message"), [
    ("name\nAnn\n", "no id column"),
    ("id\ns01\ns01\n", "names 's01' twice"),
    ("id\n../evil\n", "cannot be an id"),
    ("id\n", "lists no students"),
    ("id,name\ns01\n", "row 2 has 1 cells"),
])
def test_a_bad_roster_is_one_line_naming_it(tmp_path: Path, roster: str, message: str) -> None:
    (tmp_path / "r.csv").write_text(roster, encoding="utf-8")
    r = invoke("assign", str(tmp_path / "r.csv"), "--secret", "s", "-o", str(tmp_path / "out"))
    assert r.exit_code == 2 and message in r.stderr, r.stderr
    assert not (tmp_path / "out").exists()


def test_an_earlier_assignment_is_replaced_only_with_force(course: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["assign", str(course / "roster.csv"), "--secret", "s", "-o", str(out)]
    assert invoke(*args).exit_code == 0
    r = invoke(*args)
    assert r.exit_code == 2 and "--force" in r.stderr
    assert invoke(*args, "--force").exit_code == 0
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine", encoding="utf-8")
    r = invoke("assign", str(course / "roster.csv"), "--secret", "s", "-o", str(mine), "--force")
    assert r.exit_code == 2 and (mine / "notes.txt").read_text(encoding="utf-8") == "mine"


@pytest.mark.parametrize(("args", "message"), [
    (["--weight", "dW9=2"], "--weight: 'dW9=2'"),
    (["--weight", "dW1=-1"], "points must be a number from 0 to 1e+06"),
    (["--weight", "dW1=1e308"], "points must be a number from 0 to 1e+06"),
    (["--weight", "dW1=nan"], "points must be a number from 0 to 1e+06"),
    (["--rtol", "inf"], "--rtol"),
])
def test_grade_refuses_bad_weights(course: Path, args: list[str], message: str) -> None:
    r = invoke("grade", str(course), "--keys", str(course / "assignment"), *args)
    assert r.exit_code == 2 and message in r.stderr


def test_grade_refuses_a_folder_that_is_not_an_assignment(course: Path, tmp_path: Path) -> None:
    r = invoke("grade", str(tmp_path), "--keys", str(tmp_path))
    assert r.exit_code == 2 and "no manifest.json" in r.stderr
    r = invoke("grade", str(tmp_path / "nowhere"), "--keys", str(course / "assignment"))
    assert r.exit_code == 2 and "not a folder" in r.stderr


def grade_one(course: Path, tmp_path: Path, name: str, content: bytes | None = None) -> dict[str, dict[str, str]]:
    """Grade a folder holding one submission for s01 (as ``name``), and return s01's marks by item."""
    folder = tmp_path / "subs"
    folder.mkdir(parents=True, exist_ok=True)
    if content is not None:
        (folder / name).write_bytes(content)
    out = tmp_path / "grades"
    r = invoke("grade", str(folder), "--keys", str(course / "assignment"), "-o", str(out))
    assert r.exit_code == 0, r.stderr
    with (out / "marks.csv").open(newline="", encoding="utf-8") as fh:
        return {row["item"]: row for row in csv.DictReader(fh) if row["id"] == "s01"}


def test_submissions_are_data_never_run(course: Path, tmp_path: Path) -> None:
    """A pickle inside an .npz and a YAML tag that would build a Python object are refused unread."""
    import io

    buffer = io.BytesIO()
    np.savez(buffer, z1=np.array([object()], dtype=object))
    marks = grade_one(course, tmp_path, "s01.npz", buffer.getvalue())
    assert marks["z1"]["mistake"] == "unreadable" and "not a readable .npz" in marks["z1"]["feedback"]
    evil = b"z1: !!python/object/apply:os.system ['touch pwned']\n"
    marks = grade_one(course, tmp_path / "b", "s01.yaml", evil)
    assert marks["z1"]["mistake"] == "unreadable"
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_a_huge_submission_is_refused_unread(course: Path, tmp_path: Path) -> None:
    marks = grade_one(course, tmp_path, "s01.json", b"[" + b"0," * 600_000 + b"0]")
    assert marks["dW1"]["mistake"] == "unreadable" and "more than the 1,000,000" in marks["dW1"]["feedback"]


def test_marking_can_fail_by_just_more_than_the_tolerance(course: Path, tmp_path: Path) -> None:
    """Just inside rtol (1e-3 by default) is right; just outside is wrong: the tolerance is what it says."""
    a = answers(course, "s01")
    inside = {k: (np.asarray(v) * (1 + 0.0009)).tolist() for k, v in a.items()}
    outside = {k: (np.asarray(v) * (1 + 0.0011)).tolist() for k, v in a.items()}
    marks = grade_one(course, tmp_path, "s01.json", json.dumps(inside).encode())
    assert all(m["correct"] == "1" for m in marks.values())
    marks = grade_one(course, tmp_path / "b", "s01.json", json.dumps(outside).encode())
    assert all(m["correct"] == "0" for m in marks.values())
    assert "×1.001 the right value, like all four gradients" in marks["dW1"]["feedback"]


@pytest.mark.parametrize("fmt", ["markdown", "latex"])
def test_sheets_and_keys_parse_as_latex_math(course: Path, tmp_path: Path, fmt: str) -> None:
    from latex2mathml.converter import convert

    from tests.test_key import formulas

    out = tmp_path / fmt
    r = invoke("assign", str(course / "roster.csv"), "-c", "course", "--secret", SECRET, "-o", str(out),
               "--format", fmt, "--values", "tenths")
    assert r.exit_code == 0, r.stderr
    ext = "md" if fmt == "markdown" else "tex"
    for name in (f"sheets/s01.{ext}", f"keys/s01.{ext}"):
        text = (out / name).read_text(encoding="utf-8")
        found = formulas(text, fmt)
        assert len(found) > 5
        for formula in found:
            convert(formula)
        if fmt == "latex":
            assert text.startswith("\\documentclass") and text.rstrip().endswith("\\end{document}")
    key = json.loads((out / "keys" / "s01.json").read_text(encoding="utf-8"))
    x = np.array([s["x"] for s in key["samples"]])
    assert np.array_equal(x * 10, np.round(x * 10)) and not np.array_equal(x, np.round(x))  # tenths


@pytest.mark.parametrize(("key", "item"), [
    ("dW1", ("dW1", False)), ("dJdW1", ("dW1", False)), ("dl_dW1", ("dW1", False)), ("grad_W1", ("dW1", False)),
    ("dW1.T", ("dW1", True)), ("dJdW2_T", ("dW2", True)), ("ŷ", ("y_hat", False)), ("y_hat", ("y_hat", False)),
    ("loss", ("loss", False)), ("W1", None), ("name", None), ("z4", None),
])
def test_the_names_students_give_items(key: str, item: tuple[str, bool] | None) -> None:
    from twonet_cli.course.submissions import item_of

    assert item_of(key) == item


def test_the_gradebooks_id_column_keeps_the_rosters_name(tmp_path: Path) -> None:
    """A roster exported from an LMS (Canvas names its column ID, Gradescope SID or Email) gives a
    gradebook whose id column has that name, so the LMS can match its rows."""
    (tmp_path / "roster.csv").write_text("Student,SID,Section\nAda,a1,B\nAlan,a2,B\n", encoding="utf-8")
    assert invoke("assign", str(tmp_path / "roster.csv"), "--secret", "s", "-c", "course",
                  "-o", str(tmp_path / "a")).exit_code == 0
    (tmp_path / "subs").mkdir()
    r = invoke("grade", str(tmp_path / "subs"), "--keys", str(tmp_path / "a"), "-o", str(tmp_path / "g"))
    assert r.exit_code == 0, r.stderr
    rows = (tmp_path / "g" / "gradebook.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("SID,z1,") and rows[1].startswith("a1,0,")


def honest(course: Path, sid: str) -> dict[str, Any]:
    return {k: by_hand(v) for k, v in answers(course, sid).items()}


@pytest.mark.parametrize("form", ["bom", "utf16", "upper", "folder_of_one", "strings", "semicolons"])
def test_the_forms_students_really_send_are_read(course: Path, tmp_path: Path, form: str) -> None:
    doc = honest(course, "s01")
    folder = tmp_path / "subs"
    folder.mkdir()
    text = json.dumps(doc)
    match form:
        case "bom":
            (folder / "s01.json").write_bytes(b"\xef\xbb\xbf" + text.encode())
        case "utf16":
            (folder / "s01.json").write_bytes(text.encode("utf-16"))
        case "upper":
            (folder / "s01.JSON").write_text(text, encoding="utf-8")
        case "folder_of_one":
            (folder / "s01").mkdir()
            (folder / "s01" / "answers.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
        case "strings":
            (folder / "s01.json").write_text(json.dumps({k: json.loads(json.dumps(v), parse_float=str) for k, v in
                                                         doc.items()}), encoding="utf-8")
        case "semicolons":
            (folder / "s01").mkdir()
            for k, v in doc.items():
                rows = np.atleast_2d(v)
                (folder / "s01" / f"{k}.csv").write_text("\n".join(";".join(map(repr, r)) for r in rows.tolist()),
                                                         encoding="utf-8")
    r = invoke("grade", str(folder), "--keys", str(course / "assignment"), "-o", str(tmp_path / "g"))
    assert r.exit_code == 0, r.stderr
    with (tmp_path / "g" / "marks.csv").open(newline="", encoding="utf-8") as fh:
        marks = [row for row in csv.DictReader(fh) if row["id"] == "s01"]
    assert all(m["correct"] == "1" for m in marks), [m["feedback"] for m in marks if m["correct"] == "0"]


def test_a_link_is_refused_never_followed(course: Path, tmp_path: Path) -> None:
    """A submission that links to the keys themselves scores nothing."""
    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "s01.json").symlink_to(course / "assignment" / "keys" / "s01.json")
    marks = grade_one(course, tmp_path, "unused", None)
    assert all(m["correct"] == "0" for m in marks.values())
    assert "is a link" in marks["z1"]["feedback"]


def test_notes_for_the_instructor_are_written_not_shown_to_the_student(course: Path, graded: Path) -> None:
    notes = (graded / "notes.csv").read_text(encoding="utf-8")
    assert "s16,answers s17's variant" in notes and "s25,ignored: name" in notes
    assert "s99.json,not on the roster: not graded" in notes


def test_force_keeps_an_assignment_made_with_another_secret_or_holding_other_files(course: Path,
                                                                                   tmp_path: Path) -> None:
    out = tmp_path / "a"
    args = ["assign", str(course / "roster.csv"), "-c", "course", "-o", str(out), "--force"]
    assert invoke(*args, "--secret", "one").exit_code == 0
    before = (out / "keys" / "s01.json").read_bytes()
    r = invoke(*args, "--secret", "two")
    assert r.exit_code == 2 and "made with another secret" in r.stderr
    assert (out / "keys" / "s01.json").read_bytes() == before
    (out / "keys" / "NOTES.md").write_text("regrade s07", encoding="utf-8")
    r = invoke(*args, "--secret", "one")
    assert r.exit_code == 2 and "holds files that are not the twonet assignment's (keys/NOTES.md)" in r.stderr
    assert (out / "keys" / "NOTES.md").read_text(encoding="utf-8") == "regrade s07"
    (out / "keys" / "NOTES.md").unlink()
    assert invoke(*args, "--secret", "one").exit_code == 0  # its own files alone: replaced


def test_a_secret_of_any_bytes_and_ids_that_differ_only_in_case(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text("email\nada@x.edu\n", encoding="utf-8")
    r = invoke("assign", str(tmp_path / "r.csv"), "-c", "course", "--secret", "caf\udce9", "-o", str(tmp_path / "a"))
    assert r.exit_code == 0, r.stderr
    (tmp_path / "r2.csv").write_text("email\nBob@x.edu\nbob@x.edu\n", encoding="utf-8")
    r = invoke("assign", str(tmp_path / "r2.csv"), "-c", "course", "--secret", "s", "-o", str(tmp_path / "b"))
    assert r.exit_code == 2 and "differ only in case" in r.stderr


def test_one_secret_gives_other_numbers_for_another_exercise(course: Path, tmp_path: Path) -> None:
    r = invoke("assign", str(course / "roster.csv"), "-c", "course", "--set", "model.f=tanh", "--secret", SECRET,
               "-o", str(tmp_path / "tanh"))
    assert r.exit_code == 0, r.stderr
    tanh = json.loads((tmp_path / "tanh" / "keys" / "s01.json").read_text(encoding="utf-8"))
    assert tanh["params"] != key_of(course, "s01")["params"]


@pytest.mark.parametrize("sets", [
    ["model.g=softmax", "loss.name=cross_entropy", "model.out_features=3"],
    ["model.g=sigmoid", "loss.name=bce", "model.out_features=2"],
])
def test_no_key_holds_a_zero_up_to_rounding(tmp_path: Path, sets: list[str]) -> None:
    """A key whose true value is 0 but reads 1e-15 would mark a wrong answer right: such draws are redrawn."""
    (tmp_path / "r.csv").write_text("id\n" + "".join(f"p{k}\n" for k in range(40)), encoding="utf-8")
    args = [x for s in sets for x in ("--set", s)]
    r = invoke("assign", str(tmp_path / "r.csv"), "-c", "course", *args, "--secret", "s", "-o", str(tmp_path / "a"))
    assert r.exit_code == 0, r.stderr
    for k in range(40):
        doc = json.loads((tmp_path / "a" / "keys" / f"p{k}.json").read_text(encoding="utf-8"))
        arrays = [np.array(v, dtype=float) for v in doc["grads"].values()]
        arrays += [np.array([s[q] for s in doc["samples"]]) for q in ("z1", "z2", "z3", "y_hat")]
        for a in arrays:
            tiny = (a != 0) & (np.abs(a) <= 1e-9 * np.abs(a).max())
            assert not tiny.any(), (k, a)


def test_grade_force_keeps_a_file_the_instructor_put_beside_the_grades(course: Path, graded: Path,
                                                                        tmp_path: Path) -> None:
    out = tmp_path / "g"
    shutil.copytree(graded, out)
    (out / "regrade-requests.txt").write_text("s07: item 3", encoding="utf-8")
    r = invoke("grade", str(course / "submissions"), "--keys", str(course / "assignment"), "-o", str(out), "--force")
    assert r.exit_code == 2 and "regrade-requests.txt" in r.stderr
    assert (out / "regrade-requests.txt").exists()


def test_a_fifo_in_a_students_folder_is_passed_over(course: Path, tmp_path: Path) -> None:
    import os

    folder = tmp_path / "subs" / "s01"
    folder.mkdir(parents=True)
    for k, v in honest(course, "s01").items():
        (folder / f"{k}.json").write_text(json.dumps(v), encoding="utf-8")
    os.mkfifo(folder / "dW9.csv")  # reading it would wait forever
    marks = grade_one(course, tmp_path, "unused", None)
    assert all(m["correct"] == "1" for m in marks.values())


def test_a_manifest_naming_a_student_twice_or_a_key_elsewhere_is_refused(course: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    shutil.copytree(course / "assignment", keys)
    manifest = json.loads((keys / "manifest.json").read_text(encoding="utf-8"))
    manifest["students"][1]["id"] = manifest["students"][0]["id"].upper()
    (keys / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    r = invoke("grade", str(tmp_path), "--keys", str(keys))
    assert r.exit_code == 2 and "lists a student twice" in r.stderr
    manifest["students"][1]["id"] = "s02"
    manifest["students"][0]["key"] = "/etc/passwd"  # read from keys/ID.json whatever the manifest says
    (keys / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert invoke("grade", str(tmp_path), "--keys", str(keys)).exit_code == 0
