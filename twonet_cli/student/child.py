"""The child process of `twonet check --impl`: it imports the student's file and drives it, case by
case, and writes what their code computed as one JSON line per event to the descriptor it is
given. It runs under the time and memory limits the parent set, and imports nothing of twonet's:
whatever the student's code does, the parent is not touched.

Events: {"event": "loaded", "torch": bool, "form": …}, then per case {"event": "start", "case": i},
{"event": "phase", "phase": …} as each call into their code begins, and {"event": "result",
"case": i, "values": {…}, "errors": {phase: message}}; {"event": "stop", …} when the code ran out of
memory (every later case would too); or {"event": "fatal", "message": …} when the file cannot be
used at all.
"""

from __future__ import annotations

import errno
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
    hint = " (it printed past the output limit: a print in a loop?)" if getattr(e, "errno", None) == errno.EFBIG \
        else ""
    return f"{type(e).__name__}{': ' + text if text else ''}{at}{hint}"


def load(spec: str) -> tuple[ModuleType, str]:
    """The student's module: a .py file's path, or an importable module's name; and its file."""
    if spec.endswith(".py") or os.path.sep in spec:
        path = os.path.abspath(spec)
        sys.path.insert(0, os.path.dirname(path))  # their own helper modules beside it
        loader = importlib.util.spec_from_file_location(Path(path).stem, path)
        if loader is None or loader.loader is None:
            raise FatalError(f"{spec}: cannot be imported as a Python module")
        module = importlib.util.module_from_spec(loader)
        sys.modules[loader.name] = module
        run_import(lambda: loader.loader.exec_module(module), path)
    else:
        sys.path.insert(0, os.getcwd())
        holder: list[ModuleType] = []
        run_import(lambda: holder.append(importlib.import_module(spec)), spec)
        module = holder[0]
        path = os.path.abspath(getattr(module, "__file__", "") or spec)
    if "torch" in sys.modules:  # the code imported torch: its tensors are made in float64 from here on
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


def to_user(a: list[Any] | float, tensors: bool, single: bool = False) -> Any:
    """A value as the student's code takes it: a tensor or an array, float64 (float32 if ``single``)."""
    array = np.array(a, dtype=np.float32 if single else np.float64)
    return TORCH.tensor(array) if tensors else array


def as_numpy(v: Any) -> Any:
    """A tensor or array-like as a float64 array, or None where it holds no numbers."""
    if v is None:
        return None
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


def out_of_memory(e: BaseException) -> bool:
    """numpy's MemoryError, or torch's allocator failing under the limit."""
    return isinstance(e, MemoryError) or (isinstance(e, RuntimeError) and "can't allocate memory" in str(e))


def zero(grads: Any) -> bool:
    """Every gradient the net holds is zero (what clear_grad_and_cache must leave)."""
    return all(a is not None and not np.any(a) for a in (as_numpy(v) for v in dict(grads).values()))


def drive_skeleton(module: ModuleType, path: str, case: dict[str, Any],
                   emit: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The course's pipeline (their loss feeding their backward), then, on a new MLP, their backward
    fed the exact ∂J/∂ŷ. Torch code that casts to float32 itself is driven in float32 throughout."""
    values, errors = _drive(module, path, case, emit, single=False)
    dtype_clash = any(("dtype" in e) or ("Float" in e and "Double" in e) for e in errors.values())
    if TORCH is not None and dtype_clash:
        TORCH.set_default_dtype(TORCH.float32)
        try:
            values, errors = _drive(module, path, case, emit, single=True)
        finally:
            TORCH.set_default_dtype(TORCH.float64)
    return values, errors


def _drive(module: ModuleType, path: str, case: dict[str, Any], emit: Any,
           single: bool) -> tuple[dict[str, Any], dict[str, str]]:
    n, m, K = case["n"], case["m"], case["K"]
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    loss_fn = getattr(module, f"{case['loss']}_loss", None)
    if loss_fn is None:
        return values, {"skipped": f"no {case['loss']}_loss"}

    def phase(name: str, action: Any) -> Any:
        emit({"event": "phase", "phase": name})
        try:
            return action()
        except Exception as e:
            if out_of_memory(e):
                raise OutOfMemoryError(f"{name}: {where(e, path)}") from None
            errors[name] = where(e, path)
            return None

    def fresh() -> Any:
        net = phase("__init__", lambda: module.MLP(n, m, case["f"], m, K, case["g"]))
        if net is None:
            return None
        parameters, grads = getattr(net, "parameters", None), getattr(net, "grads", None)
        if not (isinstance(parameters, dict) and isinstance(grads, dict)):
            errors["__init__"] = ("MLP has no `parameters` and `grads` dicts (W1, b1, W2, b2 and dJdW1 … dJdb2, as "
                                  "the skeleton's __init__ makes them)")
            return None
        tensors = TORCH is not None and isinstance(parameters.get("W1"), TORCH.Tensor)
        for k in PARAMS:
            parameters[k] = to_user(case["params"][k], tensors, single)
        for k in list(grads):  # zeros of their shapes in our precision: `+=` keeps it
            grads[k] = to_user(np.zeros(np.shape(as_numpy(grads[k]))).tolist(), tensors, single)
        return net, tensors

    made = fresh()
    if made is None:
        return values, errors
    net, tensors = made
    x, y = to_user(case["x"], tensors, single), to_user(case["y"], tensors, single)
    phase("clear_grad_and_cache", net.clear_grad_and_cache)
    y_hat = phase("forward", lambda: net.forward(x))
    if "forward" not in errors and y_hat is None:
        errors["forward"] = "forward returned None (it must return ŷ)"
    if "forward" in errors:
        return values, errors
    values["y_hat"] = from_user(y_hat)
    cache = getattr(net, "cache", None)
    values["cache"] = {str(k): v for k, v in ((k, from_user(c)) for k, c in cache.items()) if v is not None} \
        if isinstance(cache, dict) else {}
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
                phase("clear_grad_and_cache", net.clear_grad_and_cache)
                if "clear_grad_and_cache" not in errors and not zero(getattr(net, "grads", {})):
                    values["notes"] = ["clear_grad_and_cache leaves the gradients as they were (each backward then "
                                       "adds to the last one's)"]
            errors.pop("backward", None)  # judged below, on the exact ∂J/∂ŷ and a new MLP
    made = fresh()  # a new MLP: a clear that does not clear is named above, not taken for a factor 2 below
    if made is None:
        return values, errors
    net, _ = made
    phase("clear_grad_and_cache", net.clear_grad_and_cache)
    phase("forward", lambda: net.forward(x))
    if "forward" in errors:
        return values, errors
    phase("backward", lambda: net.backward(to_user(case["dJdy"], tensors, single)))
    if "backward" not in errors:
        values["grads"] = {k: from_user(net.grads.get(k)) for k in GRADS}
    return values, errors


def drive_function(fn: Any, path: str, case: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A plain function grads(params, x, y) -> {W1, b1, W2, b2}."""
    params = {k: np.array(case["params"][k], dtype=np.float64) for k in PARAMS}
    try:
        out = fn(params, np.array(case["x"], dtype=np.float64), np.array(case["y"], dtype=np.float64))
    except Exception as e:
        if out_of_memory(e):
            raise OutOfMemoryError(f"grads: {where(e, path)}") from None
        return {}, {"grads": where(e, path)}
    if not isinstance(out, dict):
        return {}, {"grads": f"returned {type(out).__name__}, not a mapping of W1, b1, W2, b2"}
    names = {k: next((n for n in (k, f"dJd{k}", f"d{k}") if n in out), None) for k in PARAMS}
    missing = [k for k, n in names.items() if n is None]
    if missing:
        return {}, {"grads": f"returned no {', '.join(missing)} (keys: {', '.join(map(str, list(out)[:6]))})"}
    return {"grads": {f"dJd{k}": from_user(out[n]) for k, n in names.items()}}, {}


def interface(module: ModuleType, form: str, function: str | None) -> dict[str, Any]:
    """What the file offers: the skeleton (MLP, mse_loss, bce_loss) or the named function."""
    if form == "function":
        fn = getattr(module, function or "", None)
        if isinstance(fn, type):
            raise FatalError(f"{function} is a class: --impl FILE.py checks the skeleton's MLP, FILE.py:NAME a "
                             "function grads(params, x, y)")
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
    """Read the job from stdin, drive the code case by case, and report each event in the results file."""
    job = json.loads(sys.stdin.read())
    out = open(job["results"], "w", encoding="utf-8")  # noqa: SIM115 (open for the whole run)

    def emit(event: dict[str, Any]) -> None:
        out.write(json.dumps(event) + "\n")
        out.flush()

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
