"""Loading scenario files: shipped ones load; every bad input is reported where it is.

Each problem is checked for its line, its key path and its message (pinned with a regex),
since `platsim validate` prints exactly these as ``file:line key.path: rule; allowed ...;
got ...``.
"""

from __future__ import annotations

import copy
import re
import time
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from platsim.errors import Problem, ScenarioError
from platsim.scenario.load import load_scenario, parse_scenario
from platsim.scenario.schema import Design, Endpoint, Scenario

FILE = "demo.yaml"


def problems_of(text: str) -> list[Problem]:
    """The problems `parse_scenario` reports for `text` (it must fail)."""
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, FILE)
    problems = info.value.problems
    assert problems, "a ScenarioError must carry at least one problem"
    assert str(info.value) == "\n".join(str(p) for p in problems)
    return problems


def only_problem(text: str) -> Problem:
    problems = problems_of(text)
    assert len(problems) == 1, "\n".join(str(p) for p in problems)
    return problems[0]


def assert_problem(problem: Problem, line: int | None, key_path: str, pattern: str) -> None:
    """`problem` is at `line` / `key_path`, and its rendered text matches `pattern`."""
    assert problem.file == FILE
    assert (problem.line, problem.key_path) == (line, key_path), str(problem)
    assert re.search(pattern, str(problem)), f"{pattern!r} not in {problem}"
    where = f"{FILE}:{line} {key_path or '<top level>'}: "
    assert str(problem).startswith(where), str(problem)


# --- what must load --------------------------------------------------------------------------


def test_scenarios_are_shipped(shipped_scenario: Path) -> None:
    assert shipped_scenario.suffix == ".yaml"


def test_every_shipped_scenario_loads(shipped_scenario: Path) -> None:
    scenario = load_scenario(shipped_scenario)
    assert isinstance(scenario, Scenario)
    # `platsim run NAME` finds a shipped scenario by its file name, and `platsim scenarios`
    # lists the name inside the file: they must agree.
    assert scenario.name == shipped_scenario.stem
    trials = [(s.arms, s.truths, s.designs) for s in scenario.substudies] or [
        (scenario.arms, scenario.truths, scenario.designs)
    ]
    for arms, truths, designs in trials:
        assert len(arms) >= 2
        assert truths and designs
        for truth in truths.values():
            assert set(truth) == {arm.id for arm in arms}


def test_valid_scenario_loads(valid_text: str) -> None:
    scenario = parse_scenario(valid_text, FILE)
    assert scenario.arm_ids == ["ctrl", "exp"]
    assert scenario.control_id == "ctrl"
    assert list(scenario.designs) == ["fixed", "adaptive"]
    assert scenario.designs["fixed"].max_patients == 100
    assert scenario.designs["adaptive"].looks.at_patients == [40, 80]


def test_unquoted_null_truth_name_is_the_string_null(valid_text: str) -> None:
    assert "\n  null:\n" in valid_text  # unquoted on purpose
    scenario = parse_scenario(valid_text, FILE)
    assert list(scenario.truths) == ["reported", "null"]
    assert None not in scenario.truths
    assert scenario.truths["null"]["exp"].p == pytest.approx(0.20)


def test_quoted_and_unquoted_null_truth_names_agree(valid_text: str, replace_line) -> None:
    quoted = replace_line(valid_text, "  null:", '  "null":')
    assert parse_scenario(quoted, FILE) == parse_scenario(valid_text, FILE)


def test_scenario_is_immutable(valid_text: str) -> None:
    scenario = parse_scenario(valid_text, FILE)
    with pytest.raises(ValidationError, match="frozen"):
        scenario.name = "changed"  # type: ignore[misc]
    design = scenario.designs["fixed"]
    with pytest.raises(ValidationError, match="frozen"):
        design.max_patients = 5  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        scenario.arms[0].control = False  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        scenario.truths["reported"]["exp"].p = 0.9  # type: ignore[misc]
    assert scenario.name == "demo" and design.max_patients == 100


# --- unknown keys ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key_path", "model"),
    [
        ("title: Demo two-arm binary scenario", "colour: red", "colour", Scenario),
        ("    max_patients: 100", "    max_patient: 100", "designs.fixed.max_patient", Design),
        ("  outcome_lag_months: 1", "  units: percent", "endpoint.units", Endpoint),
    ],
    ids=["top_level", "in_designs", "in_endpoint"],
)
def test_unknown_key_lists_allowed_keys(
    valid_text: str, replace_line, line_no, old: str, new: str, key_path: str, model: type
) -> None:
    if key_path == "colour":  # keep the required title: add the unknown key next to it
        new = f"{old}\n{new}"
    if key_path == "designs.fixed.max_patient":  # max_patients is required: keep it too
        new = f"{old}\n{new}"
    text = replace_line(valid_text, old, new)
    problem = only_problem(text)
    line = line_no(text, new.splitlines()[-1])
    unknown = key_path.rsplit(".", 1)[-1]
    assert_problem(problem, line, key_path, rf": unknown key; allowed keys: .+; got '{unknown}'$")
    assert problem.allowed == "keys: " + ", ".join(model.model_fields)


def test_unknown_key_in_a_truth(valid_text: str, replace_line) -> None:
    text = replace_line(valid_text, "    exp: {p: 0.4}", "    exp: {p: 0.4, q: 0.5}")
    assert_problem(
        only_problem(text),
        14,
        "truths.reported.exp.q",
        r"unknown key; allowed keys: p, median, hazard_ratio, pieces, weibull, .*source",
    )


# --- arm ids across the file -----------------------------------------------------------------


def test_unknown_arm_id_in_truth(valid_text: str, replace_line) -> None:
    text = replace_line(valid_text, "    exp: {p: 0.4}", "    exp: {p: 0.4}\n    expt: {p: 0.4}")
    assert_problem(
        only_problem(text),
        15,
        "truths.reported.expt",
        r"unknown arm id in truth; allowed arm ids: ctrl, exp; got 'expt'$",
    )


def test_unknown_arm_id_in_allocation_ratios(valid_text: str, replace_line) -> None:
    text = replace_line(
        valid_text, "      ratios: {ctrl: 1, exp: 1}", "      ratios: {ctrl: 1, exp: 1, foo: 2}"
    )
    assert_problem(
        only_problem(text),
        25,
        "designs.fixed.allocation.ratios.foo",
        r"unknown arm id in allocation ratios; allowed arm ids: ctrl, exp; got 'foo'$",
    )


def test_truth_missing_an_arm(valid_text: str, replace_line) -> None:
    text = replace_line(valid_text, "    exp: {p: 0.4}", "")
    assert_problem(
        only_problem(text),
        12,
        "truths.reported",
        r"truth is missing arm\(s\) exp; allowed every arm needs a truth .*; got arms ctrl$",
    )


def test_duplicate_arm_ids(valid_text: str, replace_line) -> None:
    text = replace_line(
        valid_text,
        "  - {id: exp, label: Experimental}",
        "  - {id: exp, label: Experimental}\n  - {id: exp, label: Experimental again}",
    )
    assert_problem(
        only_problem(text),
        11,
        "arms[2].id",
        r"duplicate arm id \(first used by arms\[1\]\); allowed a unique id per arm; got 'exp'$",
    )


def test_two_control_arms(valid_text: str, replace_line) -> None:
    text = replace_line(
        valid_text,
        "  - {id: exp, label: Experimental}",
        "  - {id: exp, label: Experimental, control: true}",
    )
    assert_problem(
        only_problem(text),
        10,
        "arms[1].control",
        r"more than one arm has control: true; allowed at most one control arm",
    )


def test_efficacy_and_futility_without_a_control_arm(valid_text: str, replace_line) -> None:
    text = replace_line(
        valid_text,
        "  - {id: ctrl, label: Control, control: true}",
        "  - {id: ctrl, label: Control}",
    )
    text = replace_line(text, "      control: {sqrt: true}", "")  # a control share needs one too
    efficacy, futility = problems_of(text)
    assert_problem(
        efficacy,
        28,
        "designs.fixed.decisions.efficacy",
        r"efficacy is judged against a control, but no arm has control: true",
    )
    assert_problem(futility, 29, "designs.fixed.decisions.futility", r"futility is judged")


# --- values out of range ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1.2", "-0.1"])
def test_probability_outside_0_1(valid_text: str, replace_line, value: str) -> None:
    text = replace_line(valid_text, "    exp: {p: 0.4}", f"    exp: {{p: {value}}}")
    assert_problem(
        only_problem(text),
        14,
        "truths.reported.exp.p",
        rf"value out of range; allowed \[0(\.0)?, 1(\.0)?\]; got {re.escape(value)}$",
    )


@pytest.mark.parametrize("value", ["0", "1", "1.5"])
@pytest.mark.parametrize(
    ("old", "key_path"),
    [
        ("      efficacy: {threshold: 0.975}", "designs.fixed.decisions.efficacy.threshold"),
        ("      futility: {threshold: 0.1}", "designs.fixed.decisions.futility.threshold"),
        ("      stop_for_best: {threshold: 0.99}", "designs.adaptive.decisions.stop_for_best"),
    ],
    ids=["efficacy", "futility", "stop_for_best"],
)
def test_threshold_outside_open_0_1(
    valid_text: str, replace_line, line_no, old: str, key_path: str, value: str
) -> None:
    new = re.sub(r"threshold: [0-9.]+", f"threshold: {value}", old)
    text = replace_line(valid_text, old, new)
    if not key_path.endswith(".threshold"):
        key_path += ".threshold"
    assert_problem(
        only_problem(text),
        line_no(text, new),
        key_path,
        rf"value out of range; allowed \(0(\.0)?, 1(\.0)?\); got {re.escape(value)}$",
    )


# --- looks beyond the maximum sample size ----------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key_path", "got"),
    [
        (
            "    looks: {every_patients: 20, first_at: 40}",
            "    looks: {every_patients: 150, first_at: 40}",
            "designs.fixed.looks.every_patients",
            "150",
        ),
        (
            "    looks: {every_patients: 20, first_at: 40}",
            "    looks: {every_patients: 20, first_at: 100}",
            "designs.fixed.looks.first_at",
            "100",
        ),
        (
            "      at_patients: [40, 80]",
            "      at_patients: [40, 80, 130]",
            "designs.adaptive.looks.at_patients[2]",
            "130",
        ),
    ],
    ids=["every_patients", "first_at", "at_patients_item"],
)
def test_look_beyond_max_patients(
    valid_text: str, replace_line, line_no, old: str, new: str, key_path: str, got: str
) -> None:
    text = replace_line(valid_text, old, new)
    max_patients = 100 if ".fixed." in key_path else 120
    assert_problem(
        only_problem(text),
        line_no(text, new),
        key_path,
        rf"look at or beyond the maximum sample size .*; allowed 1 to {max_patients - 1} "
        rf"\(max_patients = {max_patients}\); got {got}$",
    )


# --- files that are not a scenario mapping ---------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "line", "reason"),
    [
        ("title: Demo two-arm binary scenario", "title: Demo: two arms", 2, "mapping values"),
        ("  rate_per_month: 10", "  rate_per_month: [10", 20, r"started on line 19"),
        ("  name: ORR", "\tname: ORR", 6, r"character '\\t'"),
    ],
    ids=["colon_in_plain_scalar", "unclosed_bracket", "tab_indent"],
)
def test_yaml_syntax_error_names_its_line(
    valid_text: str, replace_line, old: str, new: str, line: int, reason: str
) -> None:
    text = replace_line(valid_text, old, new)
    problem = only_problem(text)
    assert_problem(problem, line, "", rf"^{FILE}:{line} <top level>: YAML syntax error: ")
    assert re.search(reason, problem.rule), problem.rule


@pytest.mark.parametrize("text", ["", "  \n# only a comment\n\n   # another\n"])
def test_empty_file(text: str) -> None:
    assert_problem(only_problem(text), 1, "", r"the file is empty; allowed a mapping with name")


@pytest.mark.parametrize(
    ("text", "got"),
    [("- name: demo\n- title: x\n", "list"), ("just some text\n", "str"), ("42\n", "int")],
    ids=["list", "string", "number"],
)
def test_top_level_must_be_a_mapping(text: str, got: str) -> None:
    assert_problem(
        only_problem(text),
        1,
        "",
        rf"the top level must be a mapping of keys; allowed name, title, .*; got {got}$",
    )


def test_duplicate_yaml_keys(valid_text: str, replace_line) -> None:
    text = replace_line(valid_text, "title: Demo two-arm binary scenario", "title: One\ntitle: Two")
    text = replace_line(text, "      burn_in_patients: 20", "      rule: thompson")
    top, nested = problems_of(text)
    assert_problem(top, 3, "title", r"duplicate key \(YAML keeps only the last\)$")
    assert_problem(nested, 36, "designs.adaptive.allocation.rule", r"duplicate key")


# --- allowed values and types ----------------------------------------------------------------


def test_misspelled_allocation_rule_lists_allowed_values(valid_text: str, replace_line) -> None:
    text = replace_line(valid_text, "      rule: fixed", "      rule: fixd")
    assert_problem(
        only_problem(text),
        24,
        "designs.fixed.allocation.rule",
        r"not an allowed value; allowed 'fixed', 'thompson' or 'trippa'; got 'fixd'$",
    )


def test_wrong_type(valid_text: str, replace_line) -> None:
    text = replace_line(valid_text, "    max_patients: 100", '    max_patients: "many"')
    assert_problem(
        only_problem(text),
        22,
        "designs.fixed.max_patients",
        r"valid integer.*; got 'many'$",
    )


@pytest.mark.parametrize(
    ("old", "new", "key_path", "pattern"),
    [
        (
            "    max_patients: 100",
            '    max_patients: "100"',
            "designs.fixed.max_patients",
            r"valid integer; got '100'$",
        ),
        (
            "    max_patients: 100",
            "    max_patients: 100.0",
            "designs.fixed.max_patients",
            r"valid integer; got 100\.0$",
        ),
        (
            "    looks: {every_patients: 20, first_at: 40}",
            "    looks: {every_patients: 150.0, first_at: 40}",
            "designs.fixed.looks.every_patients",
            r"valid integer; got 150\.0$",
        ),
        (
            "  - {id: exp, label: Experimental}",
            "  - {id: exp, label: Experimental, control: 0}",
            "arms[1].control",
            r"valid boolean; got 0$",
        ),
    ],
    ids=["count_as_string", "count_as_float", "look_as_float", "flag_as_number"],
)
def test_counts_and_flags_are_not_coerced(
    valid_text: str, replace_line, line_no, old: str, new: str, key_path: str, pattern: str
) -> None:
    """Regression: lax coercion let `max_patients: "100"` or `every_patients: 150.0` past the
    look checks (which read the raw data), and `control: 1` counted as a control arm for
    the schema but not for the cross-checks."""
    text = replace_line(valid_text, old, new)
    assert_problem(only_problem(text), line_no(text, new), key_path, pattern)


def test_control_flag_given_as_number_does_not_count_as_control(
    valid_text: str, replace_line
) -> None:
    text = replace_line(
        valid_text,
        "  - {id: exp, label: Experimental}",
        "  - {id: exp, label: Experimental, control: 1}",
    )
    problems = problems_of(text)
    assert [(p.line, p.key_path) for p in problems] == [(10, "arms[1].control")]


# --- safety: YAML tags never build objects ---------------------------------------------------


@pytest.mark.parametrize(
    ("old", "template", "line", "key_path"),
    [
        (
            "title: Demo two-arm binary scenario",
            'title: !!python/object/apply:os.system ["touch {marker}"]',
            2,
            "title",
        ),
        (
            'sources: ["made up for tests"]',
            'sources: [!!python/object/apply:os.system ["touch {marker}"]]',
            3,
            "sources[0]",
        ),
        (
            "accrual:",
            'accrual: !!python/object/apply:subprocess.check_call [["touch", "{marker}"]]',
            18,
            "accrual",
        ),
        (
            "name: demo",
            'name: !!python/object/new:os.system ["touch {marker}"]',
            1,
            "name",
        ),
        (
            "name: demo",
            'name: demo\n? !!python/object/apply:os.system ["touch {marker}"]\n: x',
            2,
            "",
        ),
    ],
    ids=["scalar_value", "in_a_list", "mapping_value", "object_new", "as_a_key"],
)
def test_python_tags_are_refused_and_nothing_runs(
    valid_text: str,
    replace_line,
    tmp_path: Path,
    old: str,
    template: str,
    line: int,
    key_path: str,
) -> None:
    marker = tmp_path / "executed"
    new = template.replace("{marker}", str(marker))
    text = replace_line(valid_text, old, new)
    if old == "accrual:":  # the tagged sequence replaces the accrual mapping
        text = replace_line(text, "  rate_per_month: 10", "")
    problem = only_problem(text)
    assert_problem(problem, line, key_path, r"YAML tag '[^']*python/object[^']*' is not allowed")
    assert not marker.exists(), "a YAML tag executed code"


def test_python_tag_in_a_file_is_refused_and_nothing_runs(
    valid_text: str, replace_line, write_scenario, tmp_path: Path
) -> None:
    marker = tmp_path / "executed"
    text = valid_text + f'evil: !!python/object/apply:os.system ["touch {marker}"]\n'
    path = write_scenario(text)
    with pytest.raises(ScenarioError, match=r":40 evil: YAML tag .*python/object/apply:os\.system"):
        load_scenario(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        ("!!binary aGVsbG8=", r"YAML tag 'tag:yaml.org,2002:binary' is not allowed"),
        ("!!set {a, b}", r"YAML tag 'tag:yaml.org,2002:set' is not allowed"),
        ("!custom value", r"YAML tag '!custom' is not allowed"),
        ("2024-13-45", r"cannot read '2024-13-45' as a YAML timestamp: month"),
        ("!!int abc", r"cannot read 'abc' as a YAML int"),
    ],
)
def test_other_tags_and_unreadable_values_are_problems_not_crashes(
    valid_text: str, replace_line, value: str, pattern: str
) -> None:
    text = replace_line(valid_text, "title: Demo two-arm binary scenario", f"title: {value}")
    assert_problem(only_problem(text), 2, "title", pattern)


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    start = time.perf_counter()
    problem = only_problem("\n".join(lines) + "\n")
    assert time.perf_counter() - start < 5
    assert re.search(r"expands to more than \d+ values", problem.rule), str(problem)


def test_aliases_within_reason_still_work(valid_text: str, replace_line) -> None:
    text = replace_line(valid_text, "  reported:", "  reported: &reported")
    text = replace_line(text, "accrual:", "  also: *reported\naccrual:")
    scenario = parse_scenario(text, FILE)
    assert list(scenario.truths) == ["reported", "null", "also"]
    assert scenario.truths["also"] == scenario.truths["reported"]


def test_deep_nesting_is_a_problem_not_a_crash() -> None:
    problem = only_problem("name: " + "[" * 2000 + "]" * 2000 + "\n")
    assert re.search(r"nested too deeply", problem.rule), str(problem)


# --- every problem in one pass ---------------------------------------------------------------


def test_several_problems_are_all_reported_in_line_order(valid_text: str, replace_line) -> None:
    edits = [
        ("  outcome_lag_months: 1", "  outcome_lag_month: 1"),  # unknown key (schema)
        ("  - {id: exp, label: Experimental}", "  - {id: exp, label: Exp, control: true}"),
        ("    exp: {p: 0.4}", "    exp: {p: 1.2}"),  # out of range (schema)
        ("    exp: {p: 0.20}", "    exq: {p: 0.20}"),  # unknown arm + missing arm (checks)
        ("  rate_per_month: 10", "  rate_per_month: -1"),  # out of range (schema)
        ("      rule: fixed", "      rule: fixd"),  # not an allowed value (schema)
        (
            "    looks: {every_patients: 20, first_at: 40}",
            "    looks: {every_patients: 200, first_at: 40}",
        ),  # look beyond max_patients (checks)
        ("      burn_in_patients: 20", "      rule: thompson"),  # duplicate key (YAML)
    ]
    text = valid_text
    for old, new in edits:
        text = replace_line(text, old, new)
    problems = problems_of(text)
    assert [(p.line, p.key_path) for p in problems] == [
        (7, "endpoint.outcome_lag_month"),
        (10, "arms[1].control"),
        (14, "truths.reported.exp.p"),
        (15, "truths.null"),
        (17, "truths.null.exq"),
        (19, "accrual.rate_per_month"),
        (24, "designs.fixed.allocation.rule"),
        (26, "designs.fixed.looks.every_patients"),
        (35, "designs.adaptive.allocation.rule"),
    ]
    rules = [p.rule for p in problems]
    assert rules[0] == "unknown key"
    assert rules[3].startswith("truth is missing arm(s) exp")
    assert rules[8].startswith("duplicate key")
    message = str(ScenarioError(problems))
    assert len(message.splitlines()) == len(problems)


def test_file_path_is_named_in_each_problem(valid_text: str, replace_line, write_scenario) -> None:
    text = replace_line(valid_text, "    exp: {p: 0.4}", "    exp: {p: 1.2}")
    text = replace_line(text, "      rule: fixed", "      rule: fixd")
    path = write_scenario(text, "broken.yaml")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert [str(p).split(" ", 1)[0] for p in info.value.problems] == [f"{path}:14", f"{path}:24"]


def test_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError, match=r"nope\.yaml <top level>: file not found"):
        load_scenario(path)


# --- robustness: any wrong type anywhere is a problem, never a crash -------------------------


def _paths(value: object, path: tuple = ()) -> list[tuple]:
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*path, index))
    return found


def test_wrong_types_anywhere_are_problems_not_crashes(valid_text: str) -> None:
    data = yaml.safe_load(valid_text)
    data["truths"]["null"] = data["truths"].pop(None)
    replacements = [-1, 2.5, "text", [1], {"a": 1}, None, True]
    for path in _paths(data)[1:]:
        for value in replacements:
            broken = copy.deepcopy(data)
            parent = broken
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = value
            try:
                parse_scenario(yaml.safe_dump(broken, sort_keys=False), FILE)
            except ScenarioError:
                pass


# --- one clear problem per key, in the file's own words --------------------------------------


@pytest.mark.parametrize(
    ("value", "allowed"),
    [
        ("fast", "a number or 'n_over_2N'"),
        ("-1", "a number > 0.0 or 'n_over_2N'"),
        ("n_over_2n", "a number or 'n_over_2N'"),
    ],
)
def test_union_value_is_one_problem_at_its_key(
    valid_text: str, replace_line, value: str, allowed: str
) -> None:
    """Regression: `power` (a number or n_over_2N) gave two problems under pydantic's member
    tags, e.g. `allocation.power.constrained-float` and `allocation.power.literal[...]`."""
    text = replace_line(valid_text, "      burn_in_patients: 20", f"      power: {value}")
    assert_problem(
        only_problem(text),
        35,
        "designs.adaptive.allocation.power",
        rf"not an allowed value; allowed {re.escape(allowed)}; got",
    )


@pytest.mark.parametrize(
    ("old", "new", "key_path"),
    [
        (
            "      control: {sqrt: true}",
            "      control: {fixed: 1.5}",
            "designs.adaptive.allocation.control.fixed",
        ),
        (
            "      stop_for_best: {threshold: 0.99}",
            "      drop_if_p_best_below: 1.5",
            "designs.adaptive.decisions.drop_if_p_best_below",
        ),
    ],
)
def test_optional_field_states_its_whole_range(
    valid_text: str, replace_line, line_no, old: str, new: str, key_path: str
) -> None:
    text = replace_line(valid_text, old, new)
    assert_problem(
        only_problem(text), line_no(text, new), key_path, r"allowed \(0\.0, 1\.0\); got 1\.5$"
    )


def test_scalar_where_a_mapping_belongs_lists_its_keys(valid_text: str, replace_line) -> None:
    text = replace_line(valid_text, "      control: {sqrt: true}", "      control: 5")
    assert_problem(
        only_problem(text),
        34,
        "designs.adaptive.allocation.control",
        r"should be a mapping; allowed keys: fixed, sqrt, match_best; got 5$",
    )
