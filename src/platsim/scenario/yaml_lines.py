"""Safe YAML loading that remembers the line of every key and item.

Only plain data is built (mappings, sequences, scalars via ``yaml.SafeLoader``), never
Python objects. Alongside the data we return ``lines``: a dict from key paths (tuples of
mapping keys and sequence indices) to 1-based line numbers, so that validation errors can
name the line a user has to edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]


@dataclass
class LoadedYaml:
    """Plain data from a YAML document plus the line number of every key path."""

    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    duplicate_keys: list[tuple[KeyPath, int]] = field(default_factory=list)

    def line_of(self, path: KeyPath) -> int | None:
        """Line of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)


class YamlSyntaxError(Exception):
    """YAML could not be parsed; carries the 1-based line and the parser's reason."""

    def __init__(self, line: int | None, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(reason)


def load_yaml_with_lines(text: str) -> LoadedYaml:
    """Parse ``text`` safely and record the line of every key path.

    Raises
    ------
    YamlSyntaxError
        When the text is not valid YAML (or uses tags that would build objects).
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise YamlSyntaxError(line, reason or "invalid YAML") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(None, str(exc)) from None
    result = LoadedYaml(data=None)
    if node is None:
        return result
    result.lines[()] = node.start_mark.line + 1
    result.data = _build(node, (), result)
    return result


def _build(node: yaml.Node, path: KeyPath, out: LoadedYaml) -> Any:
    if isinstance(node, yaml.MappingNode):
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            # Keys are kept as written: `null:` names the null truth, not None.
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else _scalar(key_node)
            child = (*path, key)
            if key in mapping:
                out.duplicate_keys.append((child, key_node.start_mark.line + 1))
            out.lines[child] = key_node.start_mark.line + 1
            mapping[key] = _build(value_node, child, out)
        return mapping
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item_node in enumerate(node.value):
            child = (*path, index)
            out.lines[child] = item_node.start_mark.line + 1
            items.append(_build(item_node, child, out))
        return items
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        # A complex key (mapping or sequence used as a key): keep it printable.
        return f"<{node.id} key>"
    constructor = yaml.SafeLoader(node.value)
    try:
        return constructor.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        raise YamlSyntaxError(node.start_mark.line + 1, str(exc.problem)) from None
    finally:
        constructor.dispose()
