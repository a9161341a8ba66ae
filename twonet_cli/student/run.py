"""Run a student's code in a child process (student/child.py) with a time and a memory limit, and
read back what it computed, case by case. An infinite loop, a crash or an exception in their code
becomes a message naming the case; twonet itself is never at risk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..check.impl import Given
from ..errors import EXIT_MISMATCH, InputError, TwonetError
from .cases import Case


@dataclass
class Outcome:
    """What the child reported: the interface it found, each case's values and errors, and why it
    stopped early (a timeout or a crash, in the case named), if it did."""

    loaded: dict[str, Any] = field(default_factory=dict)
    results: dict[int, dict[str, Any]] = field(default_factory=dict)
    stopped: str = ""
    stopped_case: int | None = None

    def given(self, case: int, group: str = "values") -> dict[str, Given | None]:
        """The arrays the code produced in one case: y_hat, J, dJdy_hat and the gradients ("grads"),
        or the gradients of the course's pipeline (group "course")."""
        values = self.results.get(case, {}).get("values", {})
        flat = {k: v for k, v in values.items() if k in ("y_hat", "J", "dJdy_hat")} if group == "values" else {}
        flat.update(values.get("grads" if group == "values" else "course") or {})
        return {k: None if v is None else Given(np.array(v["values"], dtype=np.float64).reshape(v["shape"]),
                                                bool(v["float32"])) for k, v in flat.items()}

    def cache(self, case: int) -> dict[str, np.ndarray]:
        """The numeric entries of the student's cache after forward, by name."""
        entries = self.results.get(case, {}).get("values", {}).get("cache") or {}
        return {k: np.array(v["values"], dtype=np.float64).reshape(v["shape"]) for k, v in entries.items()}

    def errors(self, case: int) -> dict[str, str]:
        """The exceptions the code raised in one case, by phase (init, forward, loss, backward)."""
        if case == self.stopped_case:
            return {"stopped": self.stopped}
        return dict(self.results.get(case, {}).get("errors", {}))


OUTPUT_LIMIT = 64 * 2**20  # bytes the code may print (and write to any file): a print in a loop ends there


class CodeFailedError(TwonetError):
    """The code hung or crashed before any case ran: the check fails (exit 1), in one line."""

    exit_code = EXIT_MISMATCH


def _limits(seconds: float, memory_mb: int) -> Any:
    """A function the child runs before it starts: its CPU time, address space and output capped."""
    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_CPU, (int(seconds) + 1, int(seconds) + 2))
        limit = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_FSIZE, (OUTPUT_LIMIT, OUTPUT_LIMIT))
    return apply


def drive(spec: str, form: str, function: str | None, cases: list[Case], timeout: float,
          memory_mb: int) -> Outcome:
    """Run the child on every case; a file that cannot be used (no such interface, torch missing, an
    import that fails) is an InputError in one line, code that hangs or crashes on import a CodeFailedError."""
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryFile() as log:
        results = Path(folder) / "results.jsonl"
        job = json.dumps({"path": spec, "form": form, "function": function, "memory": memory_mb,
                          "results": str(results), "cases": [c.job() for c in cases]})
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "twonet_cli.student.child"], stdin=subprocess.PIPE, stdout=log, stderr=log,
                start_new_session=True, preexec_fn=_limits(timeout, memory_mb) if os.name == "posix" else None,
                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        except (OSError, subprocess.SubprocessError) as e:
            raise InputError(f"--impl: cannot start a Python process to run the code in: {e}") from None
        try:
            proc.communicate(job.encode(), timeout=timeout)  # waits for the child alone, not for what it forked
            timed_out = False
        except subprocess.TimeoutExpired:
            if hasattr(os, "killpg"):
                os.killpg(proc.pid, signal.SIGKILL)  # the code's own children too (it has a session of its own)
            else:
                proc.kill()
            proc.wait()
            timed_out = True
        except BrokenPipeError:  # the code ended the process before reading its job
            proc.wait()
            timed_out = False
        log.seek(max(0, log.seek(0, os.SEEK_END) - 65536))  # the last of what it printed: enough for a traceback
        stderr = log.read().decode(errors="replace")
        lines = results.read_text(encoding="utf-8", errors="replace").splitlines() if results.exists() else []
    return _outcome(spec, lines, len(cases), timed_out, timeout, proc.returncode, memory_mb, stderr)


def _outcome(spec: str, lines: list[str], count: int, timed_out: bool, timeout: float, code: int | None,
             memory_mb: int, stderr: str) -> Outcome:
    outcome = Outcome()
    started: int | None = None
    phase = ""
    for line in lines:
        try:
            event = json.loads(line)
            kind = event["event"]
        except (ValueError, KeyError, TypeError):
            continue  # not ours: something the code wrote into the results file
        match kind:
            case "fatal":
                raise InputError(f"--impl: {spec}: {event['message']}")
            case "loaded":
                outcome.loaded = event
            case "start":
                started, phase = event["case"], ""
            case "phase":
                phase = event["phase"]
            case "result":
                outcome.results[event["case"]] = event
                started = None
            case "stop":
                outcome.stopped_case, outcome.stopped = event["case"], event["message"]
                return outcome
    why = _why_stopped(timed_out, timeout, code, memory_mb, stderr)
    if not outcome.loaded:
        if "MemoryError" in why or "map segment" in stderr:
            why += f" (importing needs more than --memory {memory_mb} MB?)"
        raise CodeFailedError(f"--impl: {spec}: {why} while importing it")
    if len(outcome.results) < count:  # stopped before the last case: where, and why
        outcome.stopped_case = started if started is not None else len(outcome.results)
        outcome.stopped = (f"{phase}: " if phase else "") + why
    return outcome


def _why_stopped(timed_out: bool, timeout: float, code: int | None, memory_mb: int, stderr: str) -> str:
    if timed_out:
        return f"did not finish within {timeout:g} s (an infinite loop?); stopped there (--timeout)"
    if code is not None and code < 0:
        sig = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        hint = {"SIGXCPU": " (the CPU time limit)",
                "SIGXFSZ": f" (it printed or wrote more than {OUTPUT_LIMIT // 2**20} MB: a print in a loop?)"}
        return f"the Python process running the code was killed by {sig}{hint.get(sig, '')}"
    last = next((line for line in reversed(stderr.strip().splitlines()) if line.strip()), "")
    if "MemoryError" in last:
        return f"the code ran out of the {memory_mb} MB memory limit (--memory)"
    return f"the code ended the Python process (exit {code}){': ' + last[:200] if last else ''}"
