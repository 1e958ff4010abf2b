"""Read a scenario file into a validated `Scenario`, or report every problem at once."""

from __future__ import annotations

import hashlib
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from platsim.errors import Problem, ScenarioError
from platsim.scenario.checks import RawProblem, cross_checks
from platsim.scenario.schema import Scenario
from platsim.scenario.yaml_lines import KeyPath, LoadedYaml, YamlSyntaxError, load_yaml_with_lines


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate the scenario file at `path`.

    Raises
    ------
    ScenarioError
        With every problem found (file, line, key path, rule, allowed values, what was given).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([Problem(str(path), None, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(str(path), None, "", f"cannot read file: {exc}")]) from None
    return parse_scenario(text, str(path))


def scenario_file_hash(path: str | Path) -> str:
    """SHA-256 of the scenario file's bytes (recorded with results)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def parse_scenario(text: str, file: str = "<scenario>") -> Scenario:
    """Validate scenario YAML `text`; `file` is the name used in error messages."""
    try:
        loaded = load_yaml_with_lines(text)
    except YamlSyntaxError as exc:
        raise ScenarioError([Problem(file, exc.line, _dotted(exc.path), exc.reason)]) from None
    if loaded.data is None:
        raise ScenarioError(
            [Problem(file, 1, "", "the file is empty", "a mapping with name, title, endpoint, ...")]
        )
    if not isinstance(loaded.data, dict):
        raise ScenarioError(
            [
                Problem(
                    file,
                    loaded.line_of(()),
                    "",
                    "the top level must be a mapping of keys",
                    "name, title, sources, endpoint, arms, truths, accrual, designs",
                    type(loaded.data).__name__,
                )
            ]
        )

    problems: list[Problem] = []
    for dup_path, line in loaded.duplicate_keys:
        problems.append(
            Problem(file, line, _dotted(dup_path), "duplicate key (YAML keeps only the last)")
        )
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(loaded.data)
    except ValidationError as exc:
        problems.extend(_translate(exc, loaded, file))
    for raw in cross_checks(loaded.data):
        problems.append(_locate(raw, loaded, file))

    if problems:
        raise ScenarioError(_sorted_unique(problems))
    assert scenario is not None
    return scenario


def _locate(raw: RawProblem, loaded: LoadedYaml, file: str) -> Problem:
    return Problem(
        file, loaded.line_of(raw.path), _dotted(raw.path), raw.rule, raw.allowed, raw.got
    )


def _sorted_unique(problems: list[Problem]) -> list[Problem]:
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: p.line if p.line is not None else 0)


def _dotted(path: KeyPath) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}

#: How a union member's type error reads in "allowed a or b" (see `_merge_union_errors`).
_MEMBER_KINDS = {
    "float_parsing": "a number",
    "float_type": "a number",
    "int_parsing": "an integer",
    "int_type": "an integer",
    "string_type": "text",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
}


def _translate(exc: ValidationError, loaded: LoadedYaml, file: str) -> list[Problem]:
    problems = []
    # Errors from the members of a union (e.g. `power: 2` or `power: n_over_2N`): pydantic
    # reports one per member, under a made-up key ("constrained-float"); we report one.
    union_errors: dict[KeyPath, list[dict[str, Any]]] = {}
    for error in exc.errors(include_url=False):
        loc, through_union = _strip_union_tags(
            tuple(part for part in error["loc"] if part != "[key]")
        )
        if through_union:
            union_errors.setdefault(loc, []).append(error)
            continue
        is_key_error = "[key]" in error["loc"]
        kind = error["type"]
        ctx = error.get("ctx") or {}
        given = error.get("input")
        allowed: str | None = None
        got: str | None = _show(given)
        if kind == "missing":
            rule, got = "required key is missing", None
            fields = _model_fields_at(loc[:-1])
            allowed = f"keys: {', '.join(fields)}" if fields else None
        elif kind == "extra_forbidden":
            rule = "unknown key"
            fields = _model_fields_at(loc[:-1])
            allowed = f"keys: {', '.join(fields)}" if fields else None
            got = _show(loc[-1])
        elif kind == "literal_error":
            rule = "not an allowed value"
            allowed = str(ctx.get("expected", ""))
        elif kind in _RANGE_ERRORS:
            rule = "value out of range"
            allowed = _range_text(loc, kind, ctx)
        elif kind == "string_pattern_mismatch":
            rule = "not a valid identifier" + (" (as a key)" if is_key_error else "")
            allowed = "a letter followed by letters, digits or _"
        elif kind == "too_short":
            rule = "too few entries"
            allowed = f"at least {ctx.get('min_length')}"
            got = f"{ctx.get('actual_length')}"
        elif kind == "value_error":
            rule = str(ctx.get("error", error["msg"]))
        elif kind in {"model_type", "model_attributes_type"} and _model_fields_at(loc):
            rule = "should be a mapping"
            allowed = f"keys: {', '.join(_model_fields_at(loc))}"
        else:
            rule = _lower_first(error["msg"])
        problems.append(Problem(file, loaded.line_of(loc), _dotted(loc), rule, allowed, got))
    for loc, errors in union_errors.items():
        problems.append(_merge_union_errors(loc, errors, loaded, file))
    return problems


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _merge_union_errors(
    loc: KeyPath, errors: list[dict[str, Any]], loaded: LoadedYaml, file: str
) -> Problem:
    """One problem for a value that matched none of a union's members."""
    forms: list[str] = []
    for error in errors:
        kind, ctx = error["type"], error.get("ctx") or {}
        if kind == "literal_error":
            form = str(ctx.get("expected", ""))
        elif kind in _RANGE_ERRORS:
            form = "a number " + _range_text((), kind, ctx)
        else:
            form = _MEMBER_KINDS.get(kind, _lower_first(error["msg"]))
        if form not in forms:
            forms.append(form)
    given = errors[0].get("input")
    return Problem(
        file,
        loaded.line_of(loc),
        _dotted(loc),
        "not an allowed value",
        " or ".join(forms),
        _show(given),
    )


def _strip_union_tags(loc: tuple[Any, ...]) -> tuple[KeyPath, bool]:
    """`loc` without the member tags pydantic inserts for unions, and whether it had any."""
    current: Any = Scenario
    cleaned: list[Any] = []
    stripped = False
    for part in loc:
        if current is None:
            cleaned.append(part)
            continue
        annotation = current.annotation if hasattr(current, "annotation") else current
        found = _descend(annotation, part)
        members = [m for m in _unwrap_models(annotation) if m is not type(None)]
        if found is None and isinstance(part, str) and len(members) > 1:
            stripped = True  # a member tag such as "constrained-float": not a key
            continue
        cleaned.append(part)
        current = found
    return tuple(cleaned), stripped


def _range_text(loc: tuple[Any, ...], kind: str, ctx: dict[str, Any]) -> str:
    bounds = {
        "greater_than": f"> {ctx.get('gt')}",
        "greater_than_equal": f">= {ctx.get('ge')}",
        "less_than": f"< {ctx.get('lt')}",
        "less_than_equal": f"<= {ctx.get('le')}",
    }[kind]
    field = _field_constraints(loc)
    return field or bounds


def _field_constraints(loc: tuple[Any, ...]) -> str | None:
    """Describe the full allowed range of the field at `loc`, e.g. 'between 0 and 1'."""
    info = _field_info_at(loc)
    if info is None:
        return None
    low = high = None
    low_open = high_open = False
    for meta in _constraints(info):
        for attr, is_open in (("gt", True), ("ge", False)):
            if getattr(meta, attr, None) is not None:
                low, low_open = getattr(meta, attr), is_open
        for attr, is_open in (("lt", True), ("le", False)):
            if getattr(meta, attr, None) is not None:
                high, high_open = getattr(meta, attr), is_open
    if low is not None and high is not None:
        return f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high}"
    return None


def _constraints(info: Any) -> list[Any]:
    """Constraint metadata of a field, including that of `Annotated[...] | None` members."""
    found = list(info.metadata)
    for member in typing.get_args(info.annotation):
        if typing.get_origin(member) is typing.Annotated:
            for meta in typing.get_args(member)[1:]:
                found.extend(getattr(meta, "metadata", [meta]))
    return found


def _unwrap_models(annotation: Any) -> list[Any]:
    """Model classes and containers reachable through Optional/Union/Annotated."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap_models(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        found = []
        for arg in typing.get_args(annotation):
            found.extend(_unwrap_models(arg))
        return found
    return [annotation]


def _descend(annotation: Any, part: Any) -> Any:
    for candidate in _unwrap_models(annotation):
        origin = typing.get_origin(candidate)
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            field = candidate.model_fields.get(str(part))
            if field is not None:
                return field
        elif origin is dict and not isinstance(part, int):
            return typing.get_args(candidate)[1]
        elif origin is list and isinstance(part, int):
            return typing.get_args(candidate)[0]
    return None


def _walk(loc: tuple[Any, ...]) -> Any:
    current: Any = Scenario
    for part in loc:
        annotation = current.annotation if hasattr(current, "annotation") else current
        current = _descend(annotation, part)
        if current is None:
            return None
    return current


def _field_info_at(loc: tuple[Any, ...]) -> Any:
    found = _walk(tuple(part for part in loc if part != "[key]"))
    return found if hasattr(found, "metadata") and hasattr(found, "annotation") else None


def _model_fields_at(loc: tuple[Any, ...]) -> list[str]:
    found = Scenario if not loc else _walk(loc)
    if found is None:
        return []
    annotation = found.annotation if hasattr(found, "annotation") else found
    for candidate in _unwrap_models(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return list(candidate.model_fields)
    return []
