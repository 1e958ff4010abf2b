"""Safe YAML loading that remembers the line of every key and item.

Only plain data is built (mappings, sequences, scalars via ``yaml.SafeLoader``), never
Python objects: a tag that is not one of YAML's plain-data tags (``!!python/...``, ``!foo``,
``!!set``, ``!!binary``, ...) is refused, on scalars, keys, mappings and sequences alike.
Documents that nest too deeply, or expand (through aliases) to more than `MAX_NODES`
values, are refused too. Alongside the data we return ``lines``: a dict from key paths
(tuples of mapping keys and sequence indices) to 1-based line numbers, so that validation
errors can name the line a user has to edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]

#: Largest number of nodes a scenario document may expand to (aliases included); the
#: shipped scenarios have a few hundred. Guards against "billion laughs" alias bombs.
MAX_NODES = 100_000

_PLAIN_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
_PLAIN_SCALAR_TAGS = {
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")
}
#: What YAML 1.1 resolves a plain `=` and `<<` to; platsim reads them as the strings they are.
_AS_STRING_TAGS = {"tag:yaml.org,2002:value", "tag:yaml.org,2002:merge"}


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
    """YAML could not be read as plain data; carries the 1-based line, the key path where
    known (``()`` otherwise) and the reason (a whole message, e.g. "YAML syntax error: ...")."""

    def __init__(self, line: int | None, reason: str, path: KeyPath = ()) -> None:
        self.line = line
        self.reason = reason
        self.path = path
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
        context = str(exc.context) if exc.context else ""
        if context and exc.context_mark is not None and exc.context_mark.line + 1 != line:
            # e.g. an unclosed bracket: the parser notices on a later line.
            context += f" (started on line {exc.context_mark.line + 1})"
        reason = " ".join(part for part in (context, str(exc.problem or "")) if part)
        raise YamlSyntaxError(line, f"YAML syntax error: {reason or 'invalid YAML'}") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(None, f"YAML syntax error: {exc}") from None
    except RecursionError:
        raise YamlSyntaxError(None, "the document is nested too deeply") from None
    result = LoadedYaml(data=None)
    if node is None:
        return result
    result.lines[()] = node.start_mark.line + 1
    try:
        result.data = _build(node, (), result, [0])
    except RecursionError:
        raise YamlSyntaxError(None, "the document is nested too deeply") from None
    return result


#: Deepest nesting a scenario may have (real files need fewer than 10 levels). Checked
#: explicitly: relying on RecursionError depends on the interpreter's recursion limit, which
#: other libraries (pytensor) raise.
MAX_DEPTH = 64


def _build(node: yaml.Node, path: KeyPath, out: LoadedYaml, count: list[int]) -> Any:
    if len(path) > MAX_DEPTH:
        raise YamlSyntaxError(None, "the document is nested too deeply")
    count[0] += 1
    if count[0] > MAX_NODES:
        raise YamlSyntaxError(
            node.start_mark.line + 1,
            f"the document expands to more than {MAX_NODES} values (through aliases?)",
            path,
        )
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        if node.tag not in _PLAIN_COLLECTION_TAGS:
            raise _tag_refused(node, path)
    if isinstance(node, yaml.MappingNode):
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            # Keys are kept as written: `null:` names the null truth, not None.
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.tag not in _PLAIN_SCALAR_TAGS | _AS_STRING_TAGS:
                    raise _tag_refused(key_node, path)
                key = key_node.value
            else:  # a mapping or sequence used as a key: never valid, but keep it printable
                if key_node.tag not in _PLAIN_COLLECTION_TAGS:
                    raise _tag_refused(key_node, path)
                key = f"<{key_node.id} key>"
            child = (*path, key)
            if key in mapping:
                out.duplicate_keys.append((child, key_node.start_mark.line + 1))
            out.lines[child] = key_node.start_mark.line + 1
            mapping[key] = _build(value_node, child, out, count)
        return mapping
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item_node in enumerate(node.value):
            child = (*path, index)
            out.lines[child] = item_node.start_mark.line + 1
            items.append(_build(item_node, child, out, count))
        return items
    return _scalar(node, path)


def _tag_refused(node: yaml.Node, path: KeyPath) -> YamlSyntaxError:
    return YamlSyntaxError(
        node.start_mark.line + 1,
        f"YAML tag {node.tag!r} is not allowed (scenario files hold plain data only)",
        path,
    )


def _scalar(node: yaml.Node, path: KeyPath) -> Any:
    if node.tag in _AS_STRING_TAGS:
        return node.value
    if node.tag not in _PLAIN_SCALAR_TAGS:
        raise _tag_refused(node, path)
    constructor = yaml.SafeLoader(node.value)
    try:
        return constructor.construct_object(node, deep=True)
    except Exception as exc:  # e.g. `2024-13-45` looks like a date but is not one
        tag = str(node.tag).rsplit(":", 1)[-1]
        raise YamlSyntaxError(
            node.start_mark.line + 1, f"cannot read {node.value!r} as a YAML {tag}: {exc}", path
        ) from None
    finally:
        constructor.dispose()
