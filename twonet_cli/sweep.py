"""`twonet train --sweep key=v1,v2`: every combination of the swept values, each trained from the
same config (so the same data and seeds) exactly as a single run with those `--set` overrides:
by the one ``fit`` (runner.train_run), so a sweep's run reports what the run alone would."""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
import sys
from pathlib import Path

from .config.files import parse_override
from .console import err_console, shown
from .errors import ConfigError
from .train.runs import FILES, check_run_dir, is_run, remove_run


def _split_values(text: str) -> list[str]:
    """'a,b,[1, 2]' → ['a', 'b', '[1, 2]']: commas inside brackets or braces do not split."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch in "[{"
        depth -= ch in "]}"
        if ch == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return [v.strip() for v in out]


MAX_RUNS = 1000  # combinations one sweep may train
RUN_FOLDER = re.compile(r"\d{2,}-.*")  # a sweep's run folder: run_name's


def _overlap(a: str, b: str) -> bool:
    """True when setting key ``a`` and key ``b`` touch the same value (one is, or holds, the other)."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def combinations(specs: list[str], fixed: list[str] | tuple[str, ...] = ()) -> list[list[str]]:
    """The `--set` overrides of every run: the product of each `--sweep key=v1,v2,...`, in order.
    A key swept twice, or swept and also set by ``fixed`` (--set), or inside another swept key
    (model.f and model.f.name), is refused: the later would silently override the earlier."""
    axes = []
    keys: list[str] = []
    set_keys = [o.partition("=")[0].strip() for o in fixed]
    for spec in specs:
        key, eq, values = spec.partition("=")
        key = key.strip()
        if not eq or not key or not values.strip():
            raise ConfigError(f"--sweep {spec}: expected key.path=value1,value2, e.g. --sweep model.f=tanh,relu")
        for other in keys:
            if _overlap(key, other):
                raise ConfigError(f"--sweep {spec}: {key} is swept twice" if key == other else
                                  f"--sweep {spec}: {key} and {other} are both swept, and one holds the other")
        for other in set_keys:
            if _overlap(key, other):
                raise ConfigError(f"--sweep {spec}: {key} is also set by --set {other}; sweep it or set it, not both")
        keys.append(key)
        options = _split_values(values)
        if any(not v for v in options):
            raise ConfigError(f"--sweep {spec}: an empty value")
        for v in options:
            try:  # an unknown key or bad YAML is refused now, before any run, naming the sweep
                parse_override(f"{key}={v}")
            except ConfigError as e:
                raise ConfigError(str(e).replace(f"--set {key}={v}", f"--sweep {spec}", 1)) from None
        axes.append([f"{key}={v}" for v in options])
        count = math.prod(len(a) for a in axes)  # counted before any is built
        if count > MAX_RUNS:
            raise ConfigError(f"--sweep: {count:,} combinations are more than the {MAX_RUNS:,} one sweep may train")
    return [list(c) for c in itertools.product(*axes)]


def settings(overrides: list[str]) -> str:
    """A run's swept settings, each key by its last part unless two swept keys share it ('f=relu
    lr=0.1'; 'init.seed=0 train.seed=1')."""
    keys = [o.partition("=")[0].strip() for o in overrides]

    def short(key: str) -> str:
        parts = key.split(".")
        for k in range(1, len(parts) + 1):
            label = ".".join(parts[-k:])
            if sum(other == label or other.endswith("." + label) for other in keys) == 1:
                return label
        return key

    return " ".join(f"{short(k)}={o.partition('=')[2].strip()}" for k, o in zip(keys, overrides, strict=True))


def run_name(index: int, overrides: list[str]) -> str:
    """The folder of run ``index`` in a sweep's --out: '03-f=relu_lr=0.1'."""
    return f"{index:02d}-" + re.sub(r"[^A-Za-z0-9_.=+-]", "_", settings(overrides).replace(" ", "_"))[:100]


def sweep(config_: str | None, set_: list[str], specs: list[str], out: Path | None, force: bool,
          params: str | None, json_: bool, quiet: bool, plot: Path | None, print_config: bool = False) -> int:
    """`train --sweep`: every run's config checked first, then the runs one after another (each by
    ``runner.train_run``, one progress line each), then the comparison; the exit code of the worst run."""
    from rich.console import Console

    from . import load, runner
    from .config.files import config_name
    from .data.sizes import Opened
    from .formats.write import atomic_write
    from .ui import jsondoc
    from .ui.train import sweep_row, sweep_table

    runner.check_plot(plot)
    runs = combinations(specs, set_)
    opened = Opened()
    loaded = []
    for o in runs:
        try:
            loaded.append(load.training_config(config_, [*set_, *o], params, opened))
        except ConfigError as e:  # a swept value the config refuses: named as the sweep's
            raise ConfigError(re.sub(r"^--set (\S+=)", r"--sweep \1", str(e))) from None
    for overrides, (cfg, _) in zip(runs, loaded, strict=True):  # every run checked before the first trains
        try:
            opened.check_fit(cfg)
        except ConfigError as e:
            raise ConfigError(f"--sweep {' '.join(overrides)}: {e}") from None
    if out is not None:
        for i, overrides in enumerate(runs, start=1):
            check_run_dir(out / run_name(i, overrides), force)
    if print_config:
        sys.stdout.write("".join(f"# run {i}: {' '.join(o)}\n{cfg.to_yaml()}---\n"
                                 for i, (o, (cfg, _)) in enumerate(zip(runs, loaded, strict=True), start=1)))
        return 0
    _prepare_out(out, force, [run_name(i, o) for i, o in enumerate(runs, start=1)])
    rows, docs, curves, code = [], [], [], 0
    for i, (overrides, (cfg, _)) in enumerate(zip(runs, loaded, strict=True), start=1):
        where = out / run_name(i, overrides) if out is not None else None
        if not quiet:
            err_console.print(f"run {i}/{len(runs)}: {shown(' '.join(overrides))}", highlight=False)
        training, outcome = runner.train_run(cfg, where, force, quiet, opened.get(cfg))
        rows.append(sweep_row(i, overrides, settings(overrides), training, outcome))
        curves.append((" ".join(overrides), training.history))
        docs.append({"run": i, "overrides": overrides, "out": str(where) if where else None,
                     **jsondoc.train_json(training, outcome, where)})
        code = max(code, runner.training_exit(outcome))
        if outcome.reason == "interrupted":
            break
    if out is not None:
        atomic_write(out / "sweep.csv", _csv(rows))
    if plot is not None:
        from .ui.plots import sweep_figure

        base = config_name(loaded[0][1]) + (f" + {' '.join(set_)}" if set_ else "")
        title = f"{base}: sweep of {' × '.join(specs)} ({len(curves)} runs, the same data and seed)"
        runner.write_plot(plot, sweep_figure(title, curves, training.split.data.task))
    if json_:
        sys.stdout.write(jsondoc.dumps({"sweep": list(specs), "runs": docs}))
    else:
        console = Console(highlight=False)
        console.print(sweep_table(rows, console.width))
    return code


def _prepare_out(out: Path | None, force: bool, names: list[str]) -> None:
    """The sweep's --out folder, made now; one that holds a sweep already needs --force, which
    removes the earlier sweep's runs that this one does not write again (twonet's files only)."""
    if out is None:
        return
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out: '{out}' exists and is not a directory")
    if is_run(out) or any((out / name).exists() for name in FILES):
        raise ConfigError(f"--out: '{out}' holds a single run; a sweep needs a folder of its own (its runs go in "
                          "subfolders)")
    if (out / "sweep.csv").exists() and not force:
        raise ConfigError(f"--out: '{out}' already holds a sweep (sweep.csv); choose another directory "
                          "or pass --force")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"--out: cannot use '{out}': {e.strerror or e}") from None
    if force:
        for old in out.iterdir():
            if old.is_dir() and RUN_FOLDER.fullmatch(old.name) and old.name not in names:
                remove_run(old)


def _csv(rows: list[dict[str, object]]) -> bytes:
    """The comparison as the bytes of sweep.csv: a header, then one row per run."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(rows[0].keys())
    w.writerows([list(r.values()) for r in rows])
    return buf.getvalue().encode()
