"""One small exception family. The CLI turns each into one line on stderr and an exit code."""

from __future__ import annotations

import errno
import os
from pathlib import Path

# Exit codes, documented in README.md and `twonet --help`.
EXIT_OK = 0
EXIT_MISMATCH = 1  # a check found a mismatch, or training diverged
EXIT_BAD_INPUT = 2  # usage, config, data or shape error
EXIT_BROKEN_PIPE = 141  # stdout closed by its reader (`twonet predict ... | head`): 128 + SIGPIPE, no message
EXIT_INTERRUPTED = 130  # Ctrl-C, after saving what was reached (the shell's 128 + SIGINT); SIGTERM 143, SIGHUP 129


class TwonetError(Exception):
    """Base of every error twonet reports to a user; the message is one line."""

    exit_code = EXIT_BAD_INPUT


class ConfigError(TwonetError):
    """A config file or override is malformed: message names the file and the dotted key."""


class InputError(TwonetError):
    """An input, target or params file (or inline value) is unreadable or has the wrong shape."""


class ShapeError(InputError):
    """Arrays do not fit the network's architecture."""


class OutputError(TwonetError):
    """A result cannot be written (disk full, no permission): nothing half-written is left."""


class Interrupted(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP during a run: stop, save what was reached, exit 128 + the signal."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class MissingExtraError(TwonetError):
    """An option needs an optional dependency that is not installed (e.g. --plot needs matplotlib)."""


def printable(text: str) -> str:
    """Text from a file or an argument, safe to show on a terminal: control characters (escape
    sequences among them) written as Python escapes (\\x1b), never sent raw."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def path_kind(path: Path, where: str) -> str:
    """'file', 'dir', 'missing' or 'other' for ``path``; an impossible path (a name too long, a
    component that is a file) is an InputError naming ``where``, not an OSError."""
    if "\x00" in str(path):
        raise InputError(f"{where}: a path cannot contain a NUL character")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "missing"
    except OSError as e:
        if e.errno == errno.ENOTDIR:
            return "missing"
        why = "the path is too long" if e.errno == errno.ENAMETOOLONG else (e.strerror or str(e))
        raise InputError(f"{where}: cannot use '{str(path)[:60]}{'…' if len(str(path)) > 60 else ''}': {why}") from None
    import stat

    return "file" if stat.S_ISREG(mode) else "dir" if stat.S_ISDIR(mode) else "other"
