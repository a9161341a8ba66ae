"""The run directory: nothing of the user's is touched, --force leaves nothing of the old run, one
run at a time, signals save and exit 128 + the signal, a full disk is exit 2 with the files intact."""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from twonet_cli.cli import app

TRAIN = [sys.executable, "-m", "twonet_cli", "train", "-c", "multiclass", "-q", "--set", "train.epochs=100000",
         "--set", "train.checkpoint_seconds=0"]


def start(out: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*TRAIN, "--out", str(out), *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait_for(path: Path, proc: subprocess.Popen[str], seconds: float = 30) -> None:
    deadline = time.time() + seconds
    while not path.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert path.exists(), proc.stderr.read() if proc.stderr else ""


def test_the_users_own_hidden_files_are_never_deleted(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    mine = [".params.mine.tmp", ".config.backup.tmp", ".history.old.tmp", ".best.x.tmp", "notes.txt"]
    for name in mine:
        (out / name).write_text("mine")
    r = CliRunner().invoke(app, ["train", "-c", "classification-bce", "-q", "--out", str(out),
                                 "--set", "train.epochs=2"])
    assert r.exit_code == 0, r.stderr
    assert all((out / name).read_text() == "mine" for name in mine)


def test_force_leaves_nothing_of_the_old_run(tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert CliRunner().invoke(app, ["train", "-c", "regression", "-q", "--out", str(out),
                                    "--set", "train.epochs=2"]).exit_code == 0
    assert (out / "best.npz").exists()
    r = CliRunner().invoke(app, ["train", "-c", "regression", "-q", "--out", str(out), "--force",
                                 "--set", "train.epochs=2", "--set", "train.lr=50"])  # diverges at once: no best
    assert r.exit_code == 1, r.stderr
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["config.yaml", "history.csv",
                                                                                 "params.npz", "preprocessing.json"]
    assert len([p for p in out.iterdir() if p.name.startswith(".checkpoint-")]) == 1


def test_a_second_run_on_the_same_directory_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "o"
    first = start(out)
    try:
        wait_for(out / "params.npz", first)
        second = subprocess.run([*TRAIN, "--out", str(out), "--force"], capture_output=True, text=True, timeout=60,
                                check=False)
        assert second.returncode == 2 and "another twonet run is writing" in second.stderr, second.stderr
        assert "Traceback" not in second.stderr and second.stderr.count("\n") == 1
    finally:
        first.kill()
        first.communicate()


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_save_and_exit_like_ctrl_c(tmp_path: Path, sig: signal.Signals, code: int) -> None:
    out = tmp_path / "o"
    proc = start(out)
    wait_for(out / "history.csv", proc)
    time.sleep(0.2)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == code, stderr
    assert f"interrupted by {sig.name}" in stderr and "Traceback" not in stderr
    with np.load(out / "params.npz") as saved:
        assert set(saved.files) == {"W1", "b1", "W2", "b2"}
    epochs = len((out / "history.csv").read_text().splitlines()) - 1
    assert epochs >= 1


def test_a_double_ctrl_c_still_saves_and_says_so(tmp_path: Path) -> None:
    out = tmp_path / "o"
    proc = start(out)
    wait_for(out / "history.csv", proc)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.001)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "Interrupted" in stderr and "Traceback" not in stderr, stderr
    with np.load(out / "params.npz") as saved:
        assert set(saved.files) == {"W1", "b1", "W2", "b2"}


def test_a_full_disk_is_exit_2_with_the_files_intact(tmp_path: Path) -> None:
    out = tmp_path / "o"

    def small_files() -> None:  # in the child: files over 4 KB cannot be written (EFBIG, as a full disk)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    r = subprocess.run([sys.executable, "-m", "twonet_cli", "train", "-c", "multiclass", "-q", "--out", str(out),
                        "--set", "train.epochs=3", "--set", "model.hidden=256"], capture_output=True, text=True,
                       preexec_fn=small_files,
                       timeout=120, check=False)
    assert r.returncode == 2 and "Traceback" not in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert "cannot write" in r.stderr
    leftovers = [p.name for p in out.iterdir() if p.name.endswith(".tmp")] if out.exists() else []
    assert not leftovers
