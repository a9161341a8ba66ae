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
    assert sorted(p.name for p in out.iterdir()) == ["config.yaml", "history.csv", "manifest.json", "params.npz",
                                                     "preprocessing.json"]  # plain files, none hidden


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


# --- plain files, on every platform ----------------------------------------------------------------


def train_into(out: Path, *extra: str, code: int = 0) -> str:
    r = CliRunner().invoke(app, ["train", "-c", "classification-bce", "-q", "--set", "train.epochs=3", "--out",
                                 str(out), *extra])
    assert r.exit_code == code, r.stderr
    return r.stderr


def predict(run: Path) -> list[str]:
    r = CliRunner().invoke(app, ["predict", "--run", str(run), "-x", "0.5,-1.2;0.1,0.2"])
    assert r.exit_code == 0, r.stderr
    return r.stdout.splitlines()


def test_a_run_is_plain_files_that_copy_as_they_are(tmp_path: Path) -> None:
    import shutil

    out = tmp_path / "run"
    train_into(out)
    names = sorted(p.name for p in out.iterdir())
    assert names == ["best.npz", "config.yaml", "history.csv", "manifest.json", "params.npz", "preprocessing.json"]
    assert all(p.is_file() and not p.is_symlink() for p in out.iterdir())
    want = predict(out)
    copied = tmp_path / "copy"  # cp -r run/* copy/: the visible files are the whole run
    copied.mkdir()
    for p in out.iterdir():
        shutil.copy(p, copied / p.name)
    assert predict(copied) == want
    train_into(copied, "--force", "--set", "train.epochs=4")  # retrained in place: plain files again
    assert sorted(p.name for p in copied.iterdir()) == names


def test_force_never_replaces_a_users_own_file(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "config.yaml").write_text("my own notes\n")
    err = train_into(out, "--force", code=2)
    assert "no twonet run" in err and "config.yaml" in err
    assert (out / "config.yaml").read_text() == "my own notes\n" and sorted(p.name for p in out.iterdir()) == [
        "config.yaml"]


def test_a_file_changed_since_the_run_is_named_and_manifest_removal_accepts_it(tmp_path: Path) -> None:
    out = tmp_path / "run"
    train_into(out)
    with np.load(out / "params.npz") as p:
        arrays = {k: p[k] * 2 for k in p.files}
    np.savez(out / "params.npz", **arrays)
    r = CliRunner().invoke(app, ["predict", "--run", str(out), "-x", "0.5,-1.2"])
    assert r.exit_code == 2 and "params.npz" in r.stderr and "manifest.json" in r.stderr, r.stderr
    (out / "manifest.json").unlink()
    predict(out)


def test_a_run_killed_between_its_commit_and_its_renames_reads_whole(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """After manifest.json names checkpoint N, its files may still wait under their aside names: the
    reader finishes the renames, and every file read is checkpoint N's."""
    import hashlib
    import json
    import os

    from twonet_cli.core.model import init_params
    from twonet_cli.train import runs

    out = tmp_path / "run"
    rng = np.random.default_rng(0)
    first, second = init_params(2, 3, 1, rng), init_params(2, 3, 1, rng)
    d = runs.RunDir(out)
    d.save(first, None, "model: {hidden: 3}\n", [])
    calls = {"n": 0}
    real = os.replace

    def killed_after_one(src: object, dst: object) -> None:
        calls["n"] += 1
        if calls["n"] > 2:  # the manifest's own rename and one file's, then the process dies
            raise KeyboardInterrupt
        real(src, dst)

    monkeypatch.setattr(runs.os, "replace", killed_after_one)
    with pytest.raises(KeyboardInterrupt):
        d.save(second, None, "model: {hidden: 3}\n", [])
    monkeypatch.setattr(runs.os, "replace", real)
    d.close()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["checkpoint"] == 2 and any(p.name.endswith(".ckpt-2") for p in out.iterdir())
    runs.settle(out)
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == entry["sha256"]
    with np.load(out / "params.npz") as p:
        np.testing.assert_array_equal(p["W1"], second.W1)


def test_a_lock_left_by_a_killed_run_is_taken_over(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True).stdout.strip()
    (out / ".twonet.lock").write_text(f"{gone}\n")
    train_into(out)
    assert not (out / ".twonet.lock").exists()


def test_runs_work_on_a_platform_without_symlinks_or_fcntl(tmp_path: Path) -> None:
    """As on Windows for an ordinary user: no fcntl module, and os.symlink refused."""
    code = (
        "import os, sys\n"
        "sys.modules['fcntl'] = None\n"
        "def no_links(*a, **k):\n"
        "    raise OSError(1, 'symbolic links are not available')\n"
        "os.symlink = no_links\n"
        "from twonet_cli.cli import run\n"
        "sys.argv = ['twonet'] + sys.argv[1:]\n"
        "run()\n"
    )
    base = [sys.executable, "-c", code]
    out = tmp_path / "run"
    r = subprocess.run([*base, "train", "-c", "classification-bce", "-q", "--set", "train.epochs=3", "--out", str(out)],
                       capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([*base, "train", "-c", "classification-bce", "-q", "--set", "train.epochs=2", "--out", str(out),
                        "--force"], capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([*base, "predict", "--run", str(out), "-x", "0.5,-1.2"], capture_output=True, text=True,
                       timeout=120, check=False)
    assert r.returncode == 0 and r.stdout.startswith("y_hat"), r.stderr
