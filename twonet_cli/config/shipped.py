"""The shipped configs' texts, parsed beforehand, so that `twonet grads` and `twonet train` on a
shipped config start without importing YAML (whose import costs more than loading the config).

``shipped_configs.json`` maps the exact text of each file in configs/ to what the YAML loader reads
from it. Any other text — a user's config, or a shipped one edited — is read by the YAML loader.
tests/test_config.py checks the file against configs/; after editing a shipped config, regenerate
it with ``python -m twonet_cli.config.shipped``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).with_name("shipped_configs.json")


def shipped_dir() -> Path:
    """The shipped configs: inside the installed wheel, or the repository's top-level configs/."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "configs"  # where the wheel puts them
    return packaged if packaged.is_dir() else package.parent / "configs"


def shipped_configs() -> dict[str, Path]:
    """Shipped config names and their files."""
    return {p.stem: p for p in sorted(shipped_dir().glob("*.yaml"))}


def parsed(text: str) -> Any:
    """What the YAML loader reads from ``text`` (a fresh copy) if it is a shipped config's text, else None."""
    try:
        snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # no snapshot (or a damaged one): the YAML loader reads every file
        return None
    return snapshot.get(text) if isinstance(snapshot, dict) else None


def snapshot(texts: list[str]) -> str:
    """The snapshot file's contents for these config texts, each parsed by the YAML loader; a parse
    that JSON cannot hold as it is (a key that is not a string, say) is refused."""
    from ..formats.text import MAX_ALIASES, MAX_DEPTH
    from ..formats.yaml_text import parse

    parses = {t: parse(t, "shipped config", MAX_DEPTH, MAX_ALIASES) for t in texts}
    out = json.dumps(parses, indent=1, ensure_ascii=False) + "\n"
    if json.loads(out) != parses:
        raise ValueError("a shipped config holds what JSON cannot keep (a key that is not a string)")
    return out


def main() -> None:
    """Rewrite the snapshot from the shipped configs."""
    texts = [p.read_text(encoding="utf-8") for p in shipped_configs().values()]
    SNAPSHOT.write_text(snapshot(texts), encoding="utf-8")
    print(f"{SNAPSHOT.name}: {len(texts)} shipped configs")


if __name__ == "__main__":
    main()
