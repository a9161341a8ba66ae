"""The child process of `twonet check --impl`: it imports the student's file and drives it, case by
case, and writes what their code computed as one JSON line per event to the descriptor it is
given. It runs under the time and memory limits the parent set, and imports nothing of twonet's:
whatever the student's code does, the parent is not touched.

Events: {"event": "loaded", "torch": bool, "form": …}, then per case {"event": "start", "case": i}
and {"event": "result", "case": i, "values": {…}, "errors": {phase: message}}; or
{"event": "fatal", "message": …} when the file cannot be used at all.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

GRADS = ("dJdW1", "dJdb1", "dJdW2", "dJdb2")
PARAMS = ("W1", "b1", "W2", "b2")


class FatalError(Exception):
    """The file cannot be driven at all: the message says why, in one line."""


class OutOfMemoryError(Exception):
    """The code asked for more memory than the limit: the run stops (every later case would too)."""




def where(e: BaseException, path: str) -> str:
    """An exception in one line, with the line of the student's file it came from."""
    frames = [f for f in traceback.extract_tb(e.__traceback__) if os.path.abspath(f.filename) == path]
    at = f" ({Path(path).name}, line {frames[-1].lineno}, in {frames[-1].name})" if frames else ""
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}{': ' + text if text else ''}{at}"


def load(spec: str) -> tuple[ModuleType, str]:
    """The student's module: a .py file's path, or an importable module's name; and its file."""
    if spec.endswith(".py") or os.path.sep in spec:
        path = os.path.abspath(spec)
        sys.path.insert(0, os.path.dirname(path))  # their own helper modules beside it
        source = Path(path).read_text(encoding="utf-8", errors="replace")
        if "torch" in source:
            use_torch()
        loader = importlib.util.spec_from_file_location(Path(path).stem, path)
        if loader is None or loader.loader is None:
            raise FatalError(f"{spec}: cannot be imported as a Python module")
        module = importlib.util.module_from_spec(loader)
        sys.modules[loader.name] = module
        run_import(lambda: loader.loader.exec_module(module), path)
        return module, path
    sys.path.insert(0, os.getcwd())
    holder: list[ModuleType] = []
    run_import(lambda: holder.append(importlib.import_module(spec)), spec)
    module = holder[0]
    path = os.path.abspath(getattr(module, "__file__", "") or spec)
    if "torch" in Path(path).read_text(encoding="utf-8", errors="replace") if os.path.isfile(path) else False:
        use_torch()
    return module, path


def run_import(action: Any, path: str) -> None:
    """Run an import; whatever goes wrong becomes a FatalError in one line."""
    try:
        action()
    except ModuleNotFoundError as e:
        if e.name == "torch":
            raise FatalError("the code imports torch, which is not installed here: pip install torch, or write it with "
                        "numpy") from None
        raise FatalError(f"importing it failed: {where(e, path)}") from None
    except SyntaxError as e:
        raise FatalError(f"it does not parse: {e.msg} (line {e.lineno})") from None
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt):
            raise
        raise FatalError(f"importing it failed: {where(e, path)}") from None


TORCH: Any = None


def use_torch() -> None:
    """Tensors in float64 by default (the skeleton's torch.randn/zeros would be float32)."""
    global TORCH
    try:
        import torch
    except ModuleNotFoundError:
        raise FatalError("the code imports torch, which is not installed here: pip install torch, or write it with "
                    "numpy") from None
    torch.set_default_dtype(torch.float64)
    TORCH = torch


def to_user(a: list[Any] | float, tensors: bool) -> Any:
    """A value as the student's code takes it: a float64 tensor or a float64 array."""
    array = np.array(a, dtype=np.float64)
    return TORCH.tensor(array, dtype=TORCH.float64) if tensors else array


def as_numpy(v: Any) -> Any:
    """A tensor or array-like as a float64 array, or None where it holds no numbers."""
    if hasattr(v, "detach"):
        v = v.detach().cpu().numpy()
    try:
        return np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError, RuntimeError):
        return None


def from_user(v: Any) -> Any:
    """A value the student's code returned, as JSON: shape, values (flat) and whether it was float32;
    None where it is not numbers."""
    a = as_numpy(v)
    if a is None:
        return None
    return {"shape": list(a.shape), "values": a.reshape(-1).tolist(),
            "float32": str(getattr(v, "dtype", "")) in ("float32", "torch.float32")}


def drive_skeleton(module: ModuleType, path: str, case: dict[str, Any],
                   emit: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The course's pipeline (their loss feeding their backward), then their backward fed the exact ∂J/∂ŷ."""
    n, m, K = case["n"], case["m"], case["K"]
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    try:
        net = module.MLP(n, m, case["f"], m, K, case["g"])
    except Exception as e:
        errors["init"] = where(e, path)
        return values, errors
    tensors = TORCH is not None and isinstance(net.parameters.get("W1"), TORCH.Tensor)
    for k in PARAMS:
        net.parameters[k] = to_user(case["params"][k], tensors)
    for k in list(getattr(net, "grads", {})):  # float64 zeros of their shapes: a `+=` into them stays float64
        shape = np.shape(as_numpy(net.grads[k]))
        net.grads[k] = to_user(np.zeros(shape).tolist(), tensors)
    loss_fn = getattr(module, f"{case['loss']}_loss", None)
    if loss_fn is None:
        return values, {"skipped": f"no {case['loss']}_loss"}
    x, y = to_user(case["x"], tensors), to_user(case["y"], tensors)

    def phase(name: str, action: Any) -> Any:
        emit({"event": "phase", "phase": name})
        try:
            return action()
        except MemoryError as e:
            raise OutOfMemoryError(f"{name}: {where(e, path)}") from None
        except Exception as e:
            errors[name] = where(e, path)
            return None

    phase("clear", net.clear_grad_and_cache)
    y_hat = phase("forward", lambda: net.forward(x))
    if "forward" in errors:
        return values, errors
    values["y_hat"] = from_user(y_hat)
    values["cache"] = {str(k): from_user(v) for k, v in getattr(net, "cache", {}).items()
                       if from_user(v) is not None}
    out = phase("loss", lambda: loss_fn(y, y_hat))
    if out is not None:
        try:
            J, dJdy_hat = out
        except (TypeError, ValueError):
            errors["loss"] = f"{case['loss']}_loss returned {type(out).__name__}, not (J, dJdy_hat)"
        else:
            values["J"], values["dJdy_hat"] = from_user(J), from_user(dJdy_hat)
            phase("backward", lambda: net.backward(dJdy_hat))
            if "backward" not in errors:
                values["course"] = {k: from_user(net.grads.get(k)) for k in GRADS}
            errors.pop("backward", None)  # judged below, on the exact ∂J/∂ŷ
    phase("clear", net.clear_grad_and_cache)
    phase("forward", lambda: net.forward(x))
    if "forward" in errors:
        return values, errors
    exact = to_user(case["dJdy"], tensors)
    phase("backward", lambda: net.backward(exact))
    if "backward" not in errors:
        values["grads"] = {k: from_user(net.grads.get(k)) for k in GRADS}
    return values, errors


def drive_function(fn: Any, path: str, case: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A plain function grads(params, x, y) -> {W1, b1, W2, b2}."""
    params = {k: np.array(case["params"][k], dtype=np.float64) for k in PARAMS}
    try:
        out = fn(params, np.array(case["x"], dtype=np.float64), np.array(case["y"], dtype=np.float64))
    except MemoryError as e:
        raise OutOfMemoryError(f"grads: {where(e, path)}") from None
    except Exception as e:
        return {}, {"grads": where(e, path)}
    if not isinstance(out, dict):
        return {}, {"grads": f"returned {type(out).__name__}, not a mapping of W1, b1, W2, b2"}
    return {"grads": {f"dJd{k}": from_user(out[k]) if k in out else None for k in PARAMS}}, {}


def interface(module: ModuleType, form: str, function: str | None) -> dict[str, Any]:
    """What the file offers: the skeleton (MLP, mse_loss, bce_loss) or the named function."""
    if form == "function":
        fn = getattr(module, function or "", None)
        if not callable(fn):
            found = sorted(k for k, v in vars(module).items() if callable(v) and not k.startswith("_"))[:8]
            raise FatalError(f"it has no function {function!r} (it has: {', '.join(found) or 'none'})")
        return {"form": "function"}
    cls = getattr(module, "MLP", None)
    missing = [] if cls is not None else ["class MLP"]
    missing += [f"MLP.{k}" for k in ("forward", "backward", "clear_grad_and_cache") if cls is not None
                and not callable(getattr(cls, k, None))]
    losses = [k for k in ("mse", "bce") if callable(getattr(module, f"{k}_loss", None))]
    if not losses:
        missing.append("mse_loss or bce_loss")
    if missing:
        raise FatalError(f"it is not the skeleton: missing {', '.join(missing)}")
    return {"form": "skeleton", "losses": losses}


def main() -> None:
    """Read the job from stdin, drive the code case by case, and report each event on stdout."""
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")  # the results, on what was stdout
    os.dup2(2, 1)  # their prints go to stderr, never into the results
    sys.stdout = sys.stderr

    def emit(event: dict[str, Any]) -> None:
        out.write(json.dumps(event) + "\n")
        out.flush()

    job = json.loads(sys.stdin.read())
    try:
        module, path = load(job["path"])
        emit({"event": "loaded", "torch": TORCH is not None, **interface(module, job["form"], job.get("function"))})
    except FatalError as e:
        emit({"event": "fatal", "message": str(e)})
        return
    fn = getattr(module, job.get("function") or "", None)
    for i, case in enumerate(job["cases"]):
        emit({"event": "start", "case": i})
        try:
            values, errors = (drive_function(fn, path, case) if job["form"] == "function" else
                              drive_skeleton(module, path, case, emit))
        except OutOfMemoryError as e:
            emit({"event": "stop", "case": i, "message": f"{e}: past the memory limit of {job['memory']} MB "
                                                         "(--memory)"})
            return
        emit({"event": "result", "case": i, "values": values, "errors": errors})


if __name__ == "__main__":
    main()
