"""The course's commands as whole processes, each against what its users run without twonet,
interleaved over rounds:

- `twonet check --impl` on a correct torch mlp.py (38 cases, each compared exactly and diagnosed)
  against the course's own autograd test over the same 38 cases (benchmarks/peers/course_autograd_test.py);
- `twonet grade` of a 30-student class (gradebook, marks, statistics, feedback per student) against
  an instructor's numpy.isclose script that writes the gradebook alone (benchmarks/peers/grade_script.py);
- `twonet assign` of the 30 students (variants, sheets, keys, answer keys), on its own.

    python benchmarks/bench_course.py              # 5 rounds
    python benchmarks/bench_course.py --rounds 10

Prints each command's median and range over the rounds, and the ratio of medians to its peer.
Needs torch for the first pair (skipped without it).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TWONET = [sys.executable, "-m", "twonet_cli"]


def seconds(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0


def course(folder: Path) -> None:
    """A class of 30 with honest JSON submissions (every item from the key, to four digits)."""
    (folder / "roster.csv").write_text("id\n" + "".join(f"s{k:02d}\n" for k in range(1, 31)), encoding="utf-8")
    subprocess.run([*TWONET, "assign", str(folder / "roster.csv"), "-c", "course", "--secret", "bench",
                    "-o", str(folder / "assignment")], check=True, stdout=subprocess.DEVNULL)
    (folder / "submissions").mkdir()
    for k in range(1, 31):
        doc = json.loads((folder / "assignment" / "keys" / f"s{k:02d}.json").read_text(encoding="utf-8"))
        answers = {i: [s[i] for s in doc["samples"]] for i in ("z1", "z2", "z3", "y_hat")}
        answers.update({"loss": doc["loss"], **{f"d{p}": v for p, v in doc["grads"].items()}})
        (folder / "submissions" / f"s{k:02d}.json").write_text(json.dumps(answers), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    try:
        course(tmp)
        pairs: dict[str, tuple[list[str], list[str] | None]] = {}
        impl = str(ROOT / "tests" / "impls" / "correct_torch.py")
        if importlib.util.find_spec("torch") is not None:
            pairs["check --impl (torch mlp.py, 38 cases)"] = (
                [*TWONET, "check", "--impl", impl],
                [sys.executable, str(ROOT / "benchmarks" / "peers" / "course_autograd_test.py"), impl])
        pairs["grade (30 students, all outputs)"] = (
            [*TWONET, "grade", str(tmp / "submissions"), "--keys", str(tmp / "assignment"), "-o", str(tmp / "g"),
             "--force"],
            [sys.executable, str(ROOT / "benchmarks" / "peers" / "grade_script.py"), str(tmp / "roster.csv"),
             str(tmp / "assignment"), str(tmp / "submissions"), str(tmp / "peer.csv")])
        pairs["assign (30 students)"] = (
            [*TWONET, "assign", str(tmp / "roster.csv"), "-c", "course", "--secret", "bench", "-o", str(tmp / "a2"),
             "--force"], None)
        times: dict[str, list[float]] = {}
        for ours, peer in pairs.values():  # warm both
            seconds(ours)
            if peer:
                seconds(peer)
        for _ in range(args.rounds):
            for name, (ours, peer) in pairs.items():
                times.setdefault(f"twonet {name}", []).append(seconds(ours))
                if peer:
                    times.setdefault(f"peer   {name}", []).append(seconds(peer))
        print(f"whole process, {args.rounds} rounds: median (range); ratio of medians twonet ÷ peer")
        for name, ts in times.items():
            line = f"  {name:<48} {statistics.median(ts):6.2f} s ({min(ts):.2f}–{max(ts):.2f})"
            peer_ts = times.get(name.replace("twonet ", "peer   "))
            if name.startswith("twonet") and peer_ts:
                line += f"  {statistics.median(ts) / statistics.median(peer_ts):.2f}×"
            print(line)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
