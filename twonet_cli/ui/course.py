"""The grader's screen: one row per student (each item right, or its mistake), and per item the
share of the class that got it right and the commonest mistake."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table

from ..check.marking import ITEMS, WORDS, Graded, ItemStats
from ..console import shown

# One mark per kind of verdict, so that a class fits a terminal's width; LEGEND says what each means
SIGNS = {"correct": "✓", "missing": "·", "unreadable": "?", "shape": "shp", "transposed": "ᵀ", "swapped": "swp",
         "sign": "±", "factor": "×c", "entries": "few", "wrong": "✗", "variant": "var"}
LEGEND = ("✓ right  · missing  ? unreadable  shp wrong shape  ᵀ transposed  swp another item's value  ± sign  "
          "×c off by a factor  few a few entries wrong  ✗ wrong  var another student's variant")
HEAD = {**WORDS, **{f"d{p}": f"∂{p}" for p in ("W1", "b1", "W2", "b2")}}


def gradebook_table(results: list[Graded], total: float, id_column: str = "id") -> Table:
    """✓ or the kind of mistake per item, the total, and a note for the grader."""
    t = Table(shown(id_column), *(HEAD[i] for i in ITEMS), f"/{total:g}", "note", title="Grades", title_justify="left",
              caption=LEGEND, caption_justify="left")
    t.columns[0].overflow = "fold"  # an id is never cut: two long emails could look alike
    for r in results:
        cells = [f"[green]{SIGNS[m.kind]}[/green]" if m.correct else f"[red]{SIGNS[m.kind]}[/red]"
                 for m in r.marks.values()]
        t.add_row(shown(r.student), *cells, f"{r.total:g}", shown(r.note))
    return t


def stats_table(stats: list[ItemStats]) -> Table:
    """Per item: right / marked, and the commonest mistake (with how many made it)."""
    t = Table("item", "right", "share", "commonest mistake", title="Class", title_justify="left")
    for s in stats:
        t.add_row(WORDS[s.item], f"{s.correct}/{s.marked}", f"{s.share:.0%}", s.commonest)
    return t


def grades_report(results: list[Graded], stats: list[ItemStats], total: float, strays: list[str],
                  id_column: str = "id") -> Group:
    """The grades, the class's statistics, and the submissions no one on the roster owns."""
    parts: list[Table | str] = [gradebook_table(results, total, id_column), stats_table(stats)]
    if strays:
        parts.append(f"Not on the roster, not graded: {shown(', '.join(strays))}")
    return Group(*parts)
