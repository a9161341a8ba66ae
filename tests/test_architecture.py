"""The package's structure is the one README.md's "Architecture" section draws: imports flow one way
down its layers, no module imports itself in a circle, and every home the section names exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "twonet_cli"
README = PACKAGE.parent / "README.md"

# README's layers, bottom (0) to top; a module may import from its own layer or any below it
LAYERS = {
    "core": 0, "errors": 0, "options": 0,
    "formats": 1, "check": 1, "console": 1,
    "config": 2,
    "data": 3,
    "train": 4, "inference": 4, "student": 4,
    "ui": 5,
    "load": 6, "runner": 6, "sweep": 6, "course": 6,
    "cli": 7,
    "__main__": 8, "__init__": 0,
}


def modules() -> dict[str, Path]:
    return {".".join(p.relative_to(PACKAGE).with_suffix("").parts): p for p in PACKAGE.rglob("*.py")}


def imports(name: str, path: Path) -> set[str]:
    """The twonet modules ``name`` imports, anywhere in it (inside functions too), resolved."""
    package = name.split(".")[:-1]  # the package a relative import starts from
    known = modules()
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom) or node.level == 0:
            continue
        base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
        stem = [*base, *(node.module.split(".") if node.module else [])]
        for alias in node.names:
            full = ".".join([*stem, alias.name])
            target = full if full in known else ".".join(stem)
            if target in known or f"{target}.__init__" in known:
                out.add(target if target in known else f"{target}.__init__")
    out.discard(name)
    return out


def layer(module: str) -> int:
    return LAYERS[module.split(".")[0]]


def test_every_module_has_a_layer() -> None:
    assert {m.split(".")[0] for m in modules()} <= set(LAYERS)


def graph() -> dict[str, set[str]]:
    return {m: imports(m, p) for m, p in modules().items()}


def upward(g: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports from a higher layer than the importer's."""
    return sorted((m, t) for m, targets in g.items() for t in targets if layer(t) > layer(m))


def circle(g: dict[str, set[str]]) -> list[str] | None:
    """One import circle, as the modules along it, or None."""
    state: dict[str, int] = {}

    def visit(m: str, trail: list[str]) -> list[str] | None:
        state[m] = 1
        for t in sorted(g.get(m, ())):
            if state.get(t) == 1:
                return [*trail[trail.index(t):], t]
            if t not in state and (found := visit(t, [*trail, t])):
                return found
        state[m] = 2
        return None

    for m in sorted(g):
        if m not in state and (found := visit(m, [m])):
            return found
    return None


def test_imports_flow_down_the_layers() -> None:
    assert upward(graph()) == []


def test_no_import_circle() -> None:
    assert circle(graph()) is None


def test_the_rules_catch_a_planted_upward_import_and_circle() -> None:
    g = graph()
    g["core.model"] = g["core.model"] | {"cli"}
    assert upward(g) == [("core.model", "cli")]
    g = graph()
    g["core.losses"] = g["core.losses"] | {"core.model"}  # model imports losses already
    assert circle(g) is not None and "core.model" in circle(g)  # type: ignore[operator]
    assert imports("core.model", PACKAGE / "core" / "model.py") >= {"core.losses", "core.activations"}


def test_every_home_the_readme_names_exists() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Architecture"):]
    paths = set(re.findall(r"`((?:core|check|formats|config|data|train|ui|course|student)/\w+\.py|\w+\.py)`", section))
    assert len(paths) > 20, "the section names the modules"
    missing = [p for p in paths if not (PACKAGE / p).is_file() and p not in ("README.md", "CONTRIBUTING.md")]
    assert missing == []
