"""YAML text read safely: ``yaml.SafeLoader`` refusing duplicate keys, non-scalar keys and unbounded
aliases, every failure one ConfigError line. Imported only when a text is not a shipped config's
(text.parse_yaml), since importing YAML costs more than the rest of loading a config.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..errors import ConfigError


def parse(text: str, where: str, max_depth: int, max_aliases: int) -> Any:
    """``text`` as ``yaml.safe_load`` reads it, with at most ``max_aliases`` aliases; errors name ``where``."""
    try:
        loader = _UniqueKeyLoader(text)  # reading the text may already fail (a control character)
        loader.max_aliases = max_aliases
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except RecursionError:
        raise ConfigError(f"{where}: nested more than {max_depth} levels deep") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"{where}: invalid YAML{at}: {problem}") from None


class _UniqueKeyLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses a key given twice in one mapping (SafeLoader keeps the last),
    and more than ``max_aliases`` aliases (each may stand for a whole tree of others); merge keys
    (``<<: *defaults``) work as in SafeLoader."""

    aliases = 0
    max_aliases = 64

    def compose_node(self, parent: Any, index: Any) -> Any:
        """As SafeLoader's, counting aliases."""
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > self.max_aliases:
                raise yaml.composer.ComposerError(None, None, f"more than {self.max_aliases} aliases (*name): "
                                                  "refused, as their expansion can be unbounded")
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """As SafeLoader's, refusing a key that is not a scalar or is given twice."""
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *defaults`: merged by SafeLoader; keys given
                continue  # here override the merged ones, as YAML says
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, (str, int, float, bool)) and key is not None:  # `? [a, b]`: a list as a key
                raise yaml.constructor.ConstructorError(
                    None, None, f"a key must be a name, got a {type(key).__name__}", key_node.start_mark)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)
