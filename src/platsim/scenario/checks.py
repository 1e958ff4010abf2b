"""Checks that relate one part of a scenario file to another.

They run on the raw (parsed YAML) data, independently of the structural validation, so that
`platsim validate` lists every problem in one pass. Each check skips what is structurally
broken: the structural validator reports that part.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from platsim.scenario.yaml_lines import KeyPath


@dataclass(frozen=True)
class RawProblem:
    """A problem located by key path (the loader adds the file and line)."""

    path: KeyPath
    rule: str
    allowed: str | None = None
    got: str | None = None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _listing(ids: list[str]) -> str:
    return ", ".join(ids) if ids else "(none)"


def arm_ids(data: dict[str, Any]) -> list[str]:
    """Arm ids in file order (ignoring malformed entries)."""
    arms = data.get("arms")
    if not isinstance(arms, list):
        return []
    ids = [arm["id"] for arm in arms if isinstance(arm, dict) and isinstance(arm.get("id"), str)]
    return list(dict.fromkeys(ids))


def cross_checks(data: dict[str, Any]) -> Iterator[RawProblem]:
    """Yield every cross-reference problem in a parsed scenario mapping."""
    substudies = data.get("substudies")
    if isinstance(substudies, list) and substudies:
        yield from _check_master(data, substudies)
        return
    yield from _check_trial(data)


def _check_master(data: dict[str, Any], substudies: list[Any]) -> Iterator[RawProblem]:
    groups = data.get("subgroups") if isinstance(data.get("subgroups"), list) else []
    group_ids = [g.get("id") for g in groups if isinstance(g, dict)]
    for index, group_id in enumerate(group_ids):
        if group_id in group_ids[:index]:
            yield RawProblem(
                ("subgroups", index, "id"), "duplicate subgroup id", None, repr(group_id)
            )
    total = sum(
        g.get("prevalence", 0)
        for g in groups
        if isinstance(g, dict) and isinstance(g.get("prevalence"), int | float)
    )
    if total > 1.0 + 1e-9:
        yield RawProblem(
            ("subgroups",), "prevalences add up to more than 1", "a sum ≤ 1", f"{total:g}"
        )
    non_match = [
        i
        for i, sub in enumerate(substudies)
        if isinstance(sub, dict) and sub.get("non_match") is True
    ]
    for index in non_match[1:]:
        yield RawProblem(
            ("substudies", index, "non_match"), "more than one non-match sub-study", "one"
        )
    for index, sub in enumerate(substudies):
        if not isinstance(sub, dict):
            continue
        path = ("substudies", index)
        wanted = sub.get("subgroups")
        if sub.get("non_match") is True and wanted:
            yield RawProblem(
                (*path, "subgroups"),
                "a non-match sub-study takes the patients no other sub-study enrols",
                "remove subgroups",
            )
        if sub.get("non_match") is not True and not wanted:
            yield RawProblem(
                path,
                "a sub-study needs subgroups (or non_match: true)",
                f"subgroup ids: {_listing([str(g) for g in group_ids])}",
            )
        for j, group in enumerate(wanted if isinstance(wanted, list) else []):
            earlier = [
                i
                for i, other in enumerate(substudies[:index])
                if isinstance(other, dict)
                and isinstance(other.get("subgroups"), list)
                and group in other["subgroups"]
            ]
            if earlier:
                yield RawProblem(
                    (*path, "subgroups", j),
                    f"subgroup already enrolled by substudies[{earlier[0]}]",
                    "each subgroup in one sub-study",
                    repr(group),
                )
            if group not in group_ids:
                yield RawProblem(
                    (*path, "subgroups", j),
                    "unknown subgroup",
                    f"subgroup ids: {_listing([str(g) for g in group_ids])}",
                    repr(group),
                )
        # A sub-study's `subgroups` routes patients to it; within it there are none.
        trial = {key: value for key, value in sub.items() if key != "subgroups"}
        trial["endpoint"] = data.get("endpoint")
        for problem in _check_trial(trial):
            if problem.path[:1] == ("endpoint",):
                continue
            yield RawProblem((*path, *problem.path), problem.rule, problem.allowed, problem.got)


def _check_trial_subgroups(data: dict[str, Any]) -> Iterator[RawProblem]:
    groups = data.get("subgroups") if isinstance(data.get("subgroups"), list) else []
    group_ids = [g.get("id") for g in groups if isinstance(g, dict)]
    arms = data.get("arms") if isinstance(data.get("arms"), list) else []
    uses = any(isinstance(arm, dict) and "eligible" in arm for arm in arms)
    if not groups:
        if uses:
            yield RawProblem(
                ("subgroups",),
                "arms list eligible subgroups, but none are declared",
                "subgroups: [{id, prevalence}, ...]",
            )
        return
    total = sum(
        g.get("prevalence", 0)
        for g in groups
        if isinstance(g, dict) and isinstance(g.get("prevalence"), int | float)
    )
    if abs(total - 1.0) > 1e-6:
        yield RawProblem(
            ("subgroups",),
            "within one trial the subgroup prevalences must add up to 1",
            "a sum of 1",
            f"{total:g}",
        )
    for index, arm in enumerate(arms):
        if not isinstance(arm, dict) or not isinstance(arm.get("eligible"), list):
            continue
        for j, group in enumerate(arm["eligible"]):
            if group not in group_ids:
                yield RawProblem(
                    ("arms", index, "eligible", j),
                    "unknown subgroup",
                    f"subgroup ids: {_listing([str(g) for g in group_ids])}",
                    repr(group),
                )
        if arm.get("control") is True and set(arm["eligible"]) != set(group_ids):
            yield RawProblem(
                ("arms", index, "eligible"),
                "the control arm must be open to every subgroup (every patient needs an arm)",
                "omit eligible on the control arm",
            )
    randomization = [
        (name, _mapping(d.get("allocation")).get("randomization"))
        for name, d in _mapping(data.get("designs")).items()
        if isinstance(d, dict)
    ]
    for name, value in randomization:
        if value == "blocked":
            yield RawProblem(
                ("designs", name, "allocation", "randomization"),
                "blocked randomization is not available with subgroups",
                "simple",
                repr(value),
            )
    for truth_name, per_arm in _mapping(data.get("truths")).items():
        for arm_id, truth in _mapping(per_arm).items():
            for group in _mapping(_mapping(truth).get("by_subgroup")):
                if group not in group_ids:
                    yield RawProblem(
                        ("truths", truth_name, arm_id, "by_subgroup", group),
                        "unknown subgroup",
                        f"subgroup ids: {_listing([str(g) for g in group_ids])}",
                        repr(group),
                    )


def _check_trial(data: dict[str, Any]) -> Iterator[RawProblem]:
    yield from _check_trial_subgroups(data)
    yield from _check_arms(data)
    ids = arm_ids(data)
    arms = data.get("arms")
    controls = [
        arm.get("id")
        for arm in (arms if isinstance(arms, list) else [])
        if isinstance(arm, dict) and arm.get("control") is True
    ]
    yield from _check_truths(data, ids)
    truths = _mapping(data.get("truths"))
    for name in _mapping(data.get("time_trends")):
        if name not in truths:
            yield RawProblem(
                ("time_trends", name),
                "time trend for an unknown truth",
                f"truth names: {_listing([str(t) for t in truths])}",
                repr(name),
            )
    for index, arm in enumerate(arms if isinstance(arms, list) else []):
        if isinstance(arm, dict) and arm.get("control") is True and "opens_at" in arm:
            yield RawProblem(
                ("arms", index, "opens_at"),
                "the control arm is open from the start",
                "remove opens_at from the control arm",
            )
    endpoint = _mapping(data.get("endpoint"))
    kind = endpoint.get("kind")
    if kind in ("binary", "time_to_event"):
        yield from _check_endpoint_kind(data, kind, controls[0] if controls else None)
    for name, design in _mapping(data.get("designs")).items():
        if isinstance(design, dict):
            yield from _check_design(("designs", name), design, ids, has_control=bool(controls))
            if kind in ("binary", "time_to_event"):
                yield from _check_design_kind(("designs", name), design, kind)


_SURVIVAL_TRUTH_KEYS = (
    "median",
    "hazard_ratio",
    "pieces",
    "weibull",
    "cure_fraction",
    "delay_months",
    "dropout_per_month",
)


def _check_endpoint_kind(
    data: dict[str, Any], kind: str, control: str | None
) -> Iterator[RawProblem]:
    endpoint = _mapping(data.get("endpoint"))
    survival = kind == "time_to_event"
    wrong_endpoint_keys = (
        ("higher_is_better", "outcome_lag_months") if survival else ("dropout_per_month",)
    )
    for key in wrong_endpoint_keys:
        if key in endpoint:
            yield RawProblem(
                ("endpoint", key),
                f"{key} does not apply to a {kind} endpoint"
                + (" (a lower hazard is always better)" if key == "higher_is_better" else ""),
                "remove it",
            )
    truths = _mapping(data.get("truths"))
    for truth_name, per_arm in truths.items():
        for arm_id, truth in _mapping(per_arm).items():
            if not isinstance(truth, dict):
                continue
            path = ("truths", truth_name, arm_id)
            if survival and "p" in truth:
                yield RawProblem(
                    (*path, "p"),
                    "p is a binary truth, but the endpoint is time_to_event",
                    "median, hazard_ratio, pieces, weibull (+ cure_fraction, delay_months)",
                )
            if not survival:
                for key in _SURVIVAL_TRUTH_KEYS:
                    if key in truth:
                        yield RawProblem(
                            (*path, key),
                            f"{key} is a time-to-event truth, but the endpoint is binary",
                            "p (response probability)",
                        )
            if survival and "hazard_ratio" in truth:
                control_truth = _mapping(_mapping(per_arm).get(control)) if control else {}
                if control is None:
                    yield RawProblem(
                        (*path, "hazard_ratio"),
                        "hazard_ratio is relative to the control arm, but no arm has control: true",
                        "median, pieces or weibull",
                    )
                elif arm_id == control or "hazard_ratio" in control_truth:
                    yield RawProblem(
                        (*path, "hazard_ratio"),
                        "the control arm's truth must be absolute (not a hazard_ratio)",
                        "median, pieces or weibull for the control arm",
                    )


def _check_design_kind(path: KeyPath, design: dict[str, Any], kind: str) -> Iterator[RawProblem]:
    survival = kind == "time_to_event"
    looks = _mapping(design.get("looks"))
    prior = _mapping(design.get("prior"))
    analysis = design.get("analysis")
    only_binary = {"looks": ("every_outcomes", "at_outcomes"), "prior": ("alpha", "beta")}
    only_survival = {
        "looks": ("every_events", "at_events", "at_months", "events_in"),
        "prior": ("shape", "rate"),
    }
    wrong = only_binary if survival else only_survival
    for section, keys in wrong.items():
        present = looks if section == "looks" else prior
        for key in keys:
            if key in present:
                yield RawProblem(
                    (*path, section, key),
                    f"{key} does not apply to a {kind} endpoint",
                    ", ".join((only_survival if survival else only_binary)[section]),
                )
    for key in ("follow_up_months", "end", "max_duration_months", "analysis"):
        if not survival and key in design and (key != "analysis" or analysis is not None):
            yield RawProblem(
                (*path, key), f"{key} only applies to time_to_event endpoints", "remove it"
            )
    if survival and "follow_up_months" not in design and "end" not in design:
        yield RawProblem(
            path,
            "a time-to-event design needs follow_up_months (after the last enrolment) or end",
            "follow_up_months: 12, or end: {events: 100} or end: {months: 48}",
        )
    randomization = _mapping(design.get("allocation")).get("randomization")
    if (
        survival
        and randomization == "blocked"
        and ("every_events" in looks or "at_events" in looks)
    ):
        yield RawProblem(
            (*path, "allocation", "randomization"),
            "blocked randomization needs block sizes known in advance; event-driven looks "
            "do not give them",
            "simple, or looks by patients or months",
            repr(randomization),
        )


def _check_arms(data: dict[str, Any]) -> Iterator[RawProblem]:
    arms = data.get("arms")
    if not isinstance(arms, list):
        return
    seen: dict[str, int] = {}
    controls: list[int] = []
    for index, arm in enumerate(arms):
        if not isinstance(arm, dict):
            continue
        arm_id = arm.get("id")
        if isinstance(arm_id, str):
            if arm_id in seen:
                yield RawProblem(
                    ("arms", index, "id"),
                    f"duplicate arm id (first used by arms[{seen[arm_id]}])",
                    "a unique id per arm",
                    repr(arm_id),
                )
            else:
                seen[arm_id] = index
        if arm.get("control") is True:
            controls.append(index)
    for index in controls[1:]:
        yield RawProblem(
            ("arms", index, "control"),
            "more than one arm has control: true",
            "at most one control arm",
            f"arms {controls}",
        )


def _check_truths(data: dict[str, Any], ids: list[str]) -> Iterator[RawProblem]:
    truths = data.get("truths")
    if not isinstance(truths, dict):
        return
    for truth_name, per_arm in truths.items():
        if not isinstance(per_arm, dict):
            continue
        for arm_id in per_arm:
            if arm_id not in ids:
                yield RawProblem(
                    ("truths", truth_name, arm_id),
                    "unknown arm id in truth",
                    f"arm ids: {_listing(ids)}",
                    repr(arm_id),
                )
        missing = [arm_id for arm_id in ids if arm_id not in per_arm]
        if missing:
            yield RawProblem(
                ("truths", truth_name),
                f"truth is missing arm(s) {', '.join(missing)}",
                "every arm needs a truth under every named truth",
                f"arms {_listing([str(k) for k in per_arm])}",
            )


def _check_design(
    path: KeyPath, design: dict[str, Any], ids: list[str], *, has_control: bool
) -> Iterator[RawProblem]:
    max_patients = design.get("max_patients")
    max_patients = max_patients if _is_int(max_patients) and max_patients > 0 else None
    allocation = _mapping(design.get("allocation"))
    decisions = _mapping(design.get("decisions"))
    looks = _mapping(design.get("looks"))

    ratios = allocation.get("ratios")
    if isinstance(ratios, dict):
        for arm_id in ratios:
            if arm_id not in ids:
                yield RawProblem(
                    (*path, "allocation", "ratios", arm_id),
                    "unknown arm id in allocation ratios",
                    f"arm ids: {_listing(ids)}",
                    repr(arm_id),
                )
        missing = [arm_id for arm_id in ids if arm_id not in ratios]
        if missing:
            yield RawProblem(
                (*path, "allocation", "ratios"),
                f"allocation ratios are missing arm(s) {', '.join(missing)}",
                "a ratio for every arm",
                f"ratios for {_listing([str(k) for k in ratios])}",
            )
    elif allocation.get("rule") == "fixed":
        yield RawProblem(
            (*path, "allocation"),
            "rule fixed needs ratios",
            "ratios: {arm_id: weight, ...} for every arm",
            "no ratios",
        )

    if allocation.get("rule") == "trippa" and not has_control:
        yield RawProblem(
            (*path, "allocation", "rule"),
            "trippa allocation compares each arm with a control, but no arm has control: true",
            "fixed, thompson",
            repr("trippa"),
        )
    if "trippa" in allocation and allocation.get("rule") != "trippa":
        yield RawProblem(
            (*path, "allocation", "trippa"),
            "trippa parameters need rule: trippa",
            "rule: trippa",
            repr(allocation.get("rule")),
        )
    if "control" in allocation and allocation.get("rule") != "thompson":
        yield RawProblem(
            (*path, "allocation", "control"),
            "a control share only applies to Thompson allocation (trippa sets its own)",
            "rule: thompson",
            repr(allocation.get("rule")),
        )
    if "control" in allocation and not has_control:
        yield RawProblem(
            (*path, "allocation", "control"),
            "a control share needs an arm with control: true",
            "remove allocation.control or mark a control arm",
        )
    min_prob, max_prob = allocation.get("min_prob"), allocation.get("max_prob")
    if isinstance(min_prob, int | float) and isinstance(max_prob, int | float):
        if min_prob > max_prob:
            yield RawProblem(
                (*path, "allocation", "min_prob"),
                "min_prob is larger than max_prob",
                f"min_prob <= max_prob = {max_prob}",
                repr(min_prob),
            )
    if isinstance(min_prob, int | float) and ids and min_prob * len(ids) > 1:
        yield RawProblem(
            (*path, "allocation", "min_prob"),
            "min_prob times the number of arms exceeds 1",
            f"min_prob <= 1/{len(ids)}",
            repr(min_prob),
        )
    burn_in = allocation.get("burn_in_patients")
    if _is_int(burn_in) and max_patients is not None and burn_in > max_patients:
        yield RawProblem(
            (*path, "allocation", "burn_in_patients"),
            "burn-in is longer than the maximum sample size",
            f"0 to max_patients = {max_patients}",
            repr(burn_in),
        )

    for rule in ("efficacy", "futility"):
        if rule in decisions and decisions[rule] is not None and not has_control:
            yield RawProblem(
                (*path, "decisions", rule),
                f"{rule} is judged against a control, but no arm has control: true",
                "stop_for_best / drop_if_p_best_below for designs without a control",
            )
    on_efficacy = decisions.get("on_efficacy")
    if on_efficacy == "new_control" and not has_control:
        yield RawProblem(
            (*path, "decisions", "on_efficacy"),
            "new_control needs an arm with control: true",
            "graduate, stop_trial",
            repr(on_efficacy),
        )
    if design.get("control_comparison") == "period_adjusted":
        for rule in ("efficacy", "futility"):
            margin = _mapping(decisions.get(rule)).get("margin")
            if isinstance(margin, int | float) and margin != 0:
                yield RawProblem(
                    (*path, "decisions", rule, "margin"),
                    "a period-adjusted comparison supports margin 0 only",
                    "0, or control_comparison: concurrent",
                    repr(margin),
                )
    max_per_arm = decisions.get("max_per_arm")
    if _is_int(max_per_arm) and max_patients is not None and max_per_arm > max_patients:
        yield RawProblem(
            (*path, "decisions", "max_per_arm"),
            "max_per_arm is larger than the trial's max_patients",
            f"1 to {max_patients}",
            repr(max_per_arm),
        )

    if max_patients is not None:
        yield from _check_looks((*path, "looks"), looks, max_patients)


def _check_looks(path: KeyPath, looks: dict[str, Any], max_patients: int) -> Iterator[RawProblem]:
    count_keys = ["every_patients", "every_outcomes"]
    if "every_events" not in looks:
        count_keys.append("first_at")  # events may exceed patients only with recurrent events
    for key in count_keys:
        value = looks.get(key)
        if _is_int(value) and value >= max_patients:
            yield RawProblem(
                (*path, key),
                "look at or beyond the maximum sample size (the final analysis is there)",
                f"1 to {max_patients - 1} (max_patients = {max_patients})",
                repr(value),
            )
    for key in ("at_patients", "at_outcomes", "at_events", "every_events"):
        values = looks.get(key)
        if key == "every_events" and _is_int(values):
            values = [values]
        if isinstance(values, list):
            for index, value in enumerate(values):
                if _is_int(value) and value >= max_patients:
                    yield RawProblem(
                        (*path, key) if key == "every_events" else (*path, key, index),
                        "look at or beyond the maximum sample size (the final analysis is there)",
                        f"1 to {max_patients - 1} (max_patients = {max_patients})",
                        repr(value),
                    )
