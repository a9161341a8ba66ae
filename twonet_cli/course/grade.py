"""`twonet grade`: a folder of submissions marked against an assignment's keys, into a gradebook
(one column per item, weighted, and a total), feedback in words per student, and class statistics.
Submissions are read as data only; a missing or unreadable one scores 0 with its reason and never
stops the rest."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..check.marking import ITEMS, WORDS, Answer, Graded, ItemStats, Mark, Tolerance, class_stats, line_up, mark_all
from ..check.marking import unreadable as all_unreadable
from ..config.schema import Config
from ..core.activations import Array
from ..data.sizes import load_config
from ..errors import InputError, TwonetError, path_kind
from ..formats.arrays import numbers_array
from ..formats.text import read_json
from .assign import ID_PATTERN, KIND
from .submissions import Folder, Submission, document_items, read

GRADE_KIND = "twonet grades"  # what a grade folder's manifest.json says it is
MAX_POINTS = 1e6  # an item's points: a gradebook's totals stay finite


@dataclass(frozen=True)
class Course:
    """An assignment folder read back: its config and every student's key, item by item."""

    cfg: Config
    keys: dict[str, dict[str, Array]]  # by student, in the roster's order
    batch: int
    id_column: str = "id"

    @property
    def students(self) -> list[str]:
        """The roster's ids, in its order."""
        return list(self.keys)


def load_course(folder: Path) -> Course:
    """The assignment written by `twonet assign --out FOLDER`."""
    kind = path_kind(folder, "--keys")
    if kind != "dir":
        raise InputError(f"--keys: '{folder}' is not a folder (an assignment written by `twonet assign --out`)")
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise InputError(f"--keys: {folder} has no manifest.json: not an assignment written by `twonet assign`")
    manifest = read_json(manifest_path)
    if not isinstance(manifest, dict) or manifest.get("kind") != KIND:
        raise InputError(f"--keys: {manifest_path} is not an assignment's manifest")
    cfg, _ = load_config(str(folder / "config.yaml"))
    keys: dict[str, dict[str, Array]] = {}
    try:
        students = [str(s["id"]) for s in manifest["students"]]
        bad = next((sid for sid in students if not ID_PATTERN.fullmatch(sid)), None)
        if bad is not None:  # an id names files: one edited into '../x' would write outside the grades
            raise InputError(f"--keys: {manifest_path} lists {bad!r}, which cannot be an id")
        if len({sid.lower() for sid in students}) < len(students):
            raise InputError(f"--keys: {manifest_path} lists a student twice (ids are told apart ignoring case)")
        for sid in students:  # each key where assign wrote it, never a path the manifest names
            keys[sid] = key_items(read_json(folder / "keys" / f"{sid}.json"), f"{folder.name}/keys/{sid}.json")
    except (KeyError, TypeError) as e:
        raise InputError(f"--keys: {manifest_path} is damaged ({type(e).__name__}: {e})") from None
    try:
        batch = int(manifest.get("batch", 1))
    except (TypeError, ValueError):
        raise InputError(f"--keys: {manifest_path} is damaged (batch {manifest.get('batch')!r})") from None
    return Course(cfg, keys, batch, str(manifest.get("id_column", "id")))


def key_items(doc: Any, where: str) -> dict[str, Array]:
    """The items of a `grads --json` document: z1 … ŷ as (B, ·) rows, ℓ, and the four gradients."""
    items = document_items(doc) if isinstance(doc, dict) else {}
    missing = [item for item in ITEMS if item not in items]
    if missing:
        raise InputError(f"--keys: {where} is not a `twonet grads --json` key (no {', '.join(missing)})")
    return {item: numbers_array(items[item], f"{where}: {item}") for item in ITEMS}


@dataclass(frozen=True)
class Weights:
    """Points per item (1 each unless --weight says otherwise)."""

    points: dict[str, float]

    @classmethod
    def parse(cls, specs: list[str]) -> Weights:
        """From --weight ITEM=POINTS options."""
        points = dict.fromkeys(ITEMS, 1.0)
        for spec in specs:
            item, sep, value = spec.partition("=")
            if not sep or item.strip() not in points:
                raise InputError(f"--weight: {spec!r} is not ITEM=POINTS with ITEM one of {', '.join(ITEMS)}")
            try:
                w = float(value)
            except ValueError:
                w = float("nan")
            if not (0 <= w <= MAX_POINTS):
                raise InputError(f"--weight: {spec!r}: points must be a number from 0 to {MAX_POINTS:g}")
            points[item.strip()] = w
        return cls(points)

    @property
    def total(self) -> float:
        """The most points a student can have."""
        return float(sum(self.points.values()))


@dataclass(frozen=True)
class Grades:
    """The class's results, and what the grader should know beside them."""

    results: list[Graded]
    stats: list[ItemStats]
    weights: Weights
    tolerance: Tolerance
    strays: list[str]  # submissions named for no one on the roster
    id_column: str = "id"


def grade(course: Course, folder: Path, tol: Tolerance, weights: Weights) -> Grades:
    """Mark every student on the roster (a missing submission scores 0) against their own key."""
    if path_kind(folder, "SUBMISSIONS") != "dir":
        raise InputError(f"SUBMISSIONS: '{folder}' is not a folder")
    net = course.cfg.net()
    K = course.cfg.shape[2]
    try:
        listing = Folder.scan(folder)
    except OSError as e:
        raise InputError(f"SUBMISSIONS: '{folder}' cannot be read: {e.strerror or e}") from None
    results = []
    for student in course.students:
        marks, note = _marks(course, listing, student, tol, net, K)
        points = {item: weights.points[item] if m.correct else 0.0 for item, m in marks.items()}
        results.append(Graded(student, marks, points, note))
    roster = set(course.students)
    strays = sorted(p.name for sid, paths in (*listing.submissions.items(), *listing.others.items())
                    if sid not in roster for p in paths)
    return Grades(results, class_stats(results), weights, tol, strays, course.id_column)


def _marks(course: Course, listing: Folder, student: str, tol: Tolerance, net: Any, K: int
           ) -> tuple[dict[str, Mark], str]:
    paths = listing.submissions.get(student, [])
    if not paths:
        reason = f"no submission found (looked for {student}.json, .yaml, .yml, .npz or a folder {student}/)"
        others = listing.others.get(student, [])
        if others:
            reason += f"; {', '.join(p.name for p in others)} is not one of these forms"
        return {item: Mark(item, False, "missing", reason) for item in ITEMS}, ""
    if len(paths) > 1:
        return all_unreadable(f"more than one submission ({', '.join(p.name for p in paths)}): keep one"), ""
    try:
        sub = read(paths[0])
    except TwonetError as e:
        why = str(e).replace(str(paths[0].parent) + "/", "")
        return all_unreadable(why if why.startswith(paths[0].name) else f"cannot read {paths[0].name}: {why}"), ""
    except OSError as e:  # no permission to read it, and the like: this student's 0, never the class's
        return all_unreadable(f"cannot read {paths[0].name}: {e.strerror or e}"), ""
    keys = course.keys[student]
    marks = mark_all(sub.answers, keys, tol, net, course.batch, K)
    for item, why in sub.problems.items():
        marks[item] = Mark(item, False, "unreadable", f"{WORDS[item]}: {why}")
    other = _other_variant(sub, student, course, tol)
    note = ""
    if other is not None:
        note = f"answers {other}'s variant"
        for item, m in marks.items():
            if not m.correct and item in sub.answers:
                marks[item] = Mark(item, False, "variant", f"{WORDS[item]}: these are the answers to another "
                                   "student's numbers, not to the numbers on your sheet")
    if sub.ignored:
        note = "; ".join(filter(None, [note, f"ignored: {', '.join(sub.ignored[:5])}"]))
    return marks, note


def _right(answers: dict[str, Answer], keys: dict[str, Array], tol: Tolerance) -> int:
    """How many items are correct against these keys."""
    count = 0
    for item, a in answers.items():
        lined = line_up(a, keys[item])
        count += lined is not None and tol.all_close(lined, keys[item])
    return count


def _other_variant(sub: Submission, student: str, course: Course, tol: Tolerance) -> str | None:
    """The student whose variant the submission answers, where it answers another's better than its own."""
    own = _right(sub.answers, course.keys[student], tol)
    if own * 2 >= len(sub.answers):  # mostly right for their own numbers: not another's answers
        return None
    best, who = own, None
    for other in course.students:
        if other != student:
            n = _right(sub.answers, course.keys[other], tol)
            if n > best:
                best, who = n, other
    return who if who is not None and best >= max(2, len(sub.answers) // 2) else None


def _csv(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()


def points_text(v: float) -> str:
    """Points as a gradebook writes them: 1, 0.5."""
    return f"{v:g}"


def cell(text: str) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula (a file named '=cmd|…')."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def files(g: Grades) -> dict[str, bytes]:
    """The grade folder: gradebook.csv, marks.csv, stats.csv, notes.csv, feedback/ID.md and manifest.json."""
    gradebook = [[g.id_column, *ITEMS, "total"]] + [
        [r.student, *(points_text(r.points[i]) for i in ITEMS), points_text(r.total)] for r in g.results]
    marks = [[g.id_column, "item", "points", "correct", "mistake", "feedback"]] + [
        [r.student, item, points_text(r.points[item]), int(m.correct), "" if m.correct else m.kind, m.feedback]
        for r in g.results for item, m in r.marks.items()]
    stats = [["item", "correct", "marked", "share_correct", "commonest_mistake"]] + [
        [s.item, s.correct, s.marked, f"{s.share:.4f}", s.commonest] for s in g.stats]
    notes = [[g.id_column, "note"]] + [[r.student, cell(r.note)] for r in g.results if r.note] + [
        [cell(name), "not on the roster: not graded"] for name in g.strays]
    out = {"gradebook.csv": _csv(gradebook), "marks.csv": _csv(marks), "stats.csv": _csv(stats),
           "notes.csv": _csv(notes)}
    for r in g.results:
        out[f"feedback/{r.student}.md"] = feedback(r, g).encode()
    manifest = {"kind": GRADE_KIND, "rtol": g.tolerance.rtol, "atol": g.tolerance.atol, "weights": g.weights.points,
                "students": len(g.results), "strays": g.strays, "files": sorted(out)}
    out["manifest.json"] = (json.dumps(manifest, indent=1, ensure_ascii=False) + "\n").encode()
    return out


def feedback(r: Graded, g: Grades) -> str:
    """A student's feedback in Markdown: the score, and each item's verdict in words."""
    lines = [f"# Feedback for {r.student}", "",
             f"Score: {points_text(r.total)} of {points_text(g.weights.total)}. An entry counts as right when it is "
             f"within {g.tolerance.atol:g} + {g.tolerance.rtol:g}·|answer| of the answer.", "",
             "| item | points | verdict |", "|---|---|---|"]
    for item, m in r.marks.items():
        text = m.feedback.replace("|", "\\|")
        lines.append(f"| {WORDS[item]} | {points_text(r.points[item])} of {points_text(g.weights.points[item])} | "
                     f"{text} |")
    return "\n".join(lines) + "\n"


def check_out(out: Path, submissions: Path, keys: Path) -> None:
    """The grades go to a folder of their own, never into what they are read from."""
    if out.resolve() in (submissions.resolve(), keys.resolve()):
        raise InputError(f"--out: '{out}' is an input folder; write the grades to a folder of their own")


def write(g: Grades, out: Path, force: bool) -> None:
    """The grade folder (see ``files``), written whole or not at all."""
    from ..formats.write import write_folder

    write_folder(out, files(g), "--out", force, GRADE_KIND)

