"""Start-up: whole processes of `twonet grads`, `--version` and `--help` against the minimal Typer +
rich + numpy command (benchmarks/startup_peer.py), interleaved over rounds, and where the import
time of `grads` goes (`python -X importtime`).

    python benchmarks/bench_startup.py              # 20 rounds
    python benchmarks/bench_startup.py --rounds 40

twonet's modules are compiled to bytecode first (``compileall``), as ``pip install`` does for an
installed package: run from a source checkout under PYTHONDONTWRITEBYTECODE=1, Python would
otherwise compile every module from source on every start while the peer's libraries load theirs.

Prints each command's median and range over the rounds and its ratio to the peer's median; the
target is `grads` ≤ 1.1× the peer, and `--version`/`--help` without importing numpy.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

PEER = [sys.executable, str(Path(__file__).with_name("startup_peer.py")), "--rows", "3", "--cols", "2", "--seed", "0"]
COMMANDS = {
    "peer: Typer + rich + numpy, 3 options, 1 table": PEER,
    "twonet grads (shipped regression config)": [sys.executable, "-m", "twonet_cli", "grads"],
    "twonet grads --json": [sys.executable, "-m", "twonet_cli", "grads", "--json"],
    "twonet --version": [sys.executable, "-m", "twonet_cli", "--version"],
    "twonet --help": [sys.executable, "-m", "twonet_cli", "--help"],
}


def seconds(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def imports(cmd: list[str]) -> tuple[list[tuple[int, str]], bool]:
    """The ten slowest top-level imports (cumulative µs) of a command, and whether it imports numpy."""
    err = subprocess.run([cmd[0], "-X", "importtime", *cmd[1:]], capture_output=True, text=True, check=True).stderr
    rows = [line.split("|") for line in err.splitlines() if line.startswith("import time:") and "|" in line]
    parsed = [(int(r[1]), r[2].rstrip()) for r in rows if r[1].strip().isdigit()]
    top = sorted(((us, name.strip()) for us, name in parsed if not name.startswith("   ")), reverse=True)[:10]
    return top, any(name.strip() == "numpy" for _, name in parsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    package = Path(__file__).resolve().parents[1] / "twonet_cli"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)
    for cmd in COMMANDS.values():  # warm the page cache and the bytecode caches
        seconds(cmd)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.rounds):  # interleaved: the machine's drift falls on every command alike
        for name, cmd in COMMANDS.items():
            times[name].append(seconds(cmd))
    peer = statistics.median(times[next(iter(COMMANDS))])
    print(f"whole process, {args.rounds} rounds: median (range), and ratio of medians to the peer")
    for name, ts in times.items():
        print(f"  {name:<48} {statistics.median(ts) * 1e3:6.1f} ms ({min(ts) * 1e3:.1f}–{max(ts) * 1e3:.1f})"
              f"  {statistics.median(ts) / peer:.2f}×")
    for name in ("twonet --version", "twonet --help"):
        print(f"  {name} imports numpy: {imports(COMMANDS[name])[1]}")
    top, _ = imports(COMMANDS["twonet grads (shipped regression config)"])
    print("twonet grads, slowest top-level imports (cumulative):")
    for us, mod in top:
        print(f"  {us / 1e3:6.1f} ms  {mod}")


if __name__ == "__main__":
    main()
