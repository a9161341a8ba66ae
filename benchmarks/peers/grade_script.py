"""Peer of `twonet grade`: the script an instructor writes without it — for each student on the
roster, load their JSON answers and their key, mark each item right with numpy.isclose (the rule
PrairieLearn uses, rtol 1e-2), and write a gradebook CSV. No diagnosis, no other forms.

    python benchmarks/peers/grade_script.py ROSTER.csv KEYS_DIR SUBMISSIONS_DIR OUT.csv
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np

ITEMS = ["z1", "z2", "z3", "y_hat", "loss", "dW1", "db1", "dW2", "db2"]


def key_items(doc: dict) -> dict:
    out = {k: np.array([s[k] for s in doc["samples"]]) for k in ("z1", "z2", "z3", "y_hat")}
    out["loss"] = np.array(doc["loss"])
    out.update({f"d{k}": np.array(v) for k, v in doc["grads"].items()})
    return out


def main() -> None:
    roster, keys, submissions, out = map(Path, sys.argv[1:5])
    with roster.open(newline="") as fh:
        ids = [row["id"] for row in csv.DictReader(fh)]
    rows = [["id", *ITEMS, "total"]]
    for sid in ids:
        key = key_items(json.loads((keys / "keys" / f"{sid}.json").read_text()))
        path = submissions / f"{sid}.json"
        answers = json.loads(path.read_text()) if path.exists() else {}
        points = []
        for item in ITEMS:
            try:
                given = np.array(answers[item], dtype=float).reshape(key[item].shape)
                points.append(int(np.isclose(given, key[item], rtol=1e-2, atol=1e-6).all()))
            except (KeyError, ValueError, TypeError):
                points.append(0)
        rows.append([sid, *points, sum(points)])
    with out.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)


if __name__ == "__main__":
    main()
