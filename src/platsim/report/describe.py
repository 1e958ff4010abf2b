"""The scenario in plain English: endpoint, arms, truths, accrual and each design's rules.

Every function here reads only the validated `Scenario` model and returns plain text
(the templates escape it), so the report states exactly what was simulated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from platsim.scenario import defaults
from platsim.scenario.schema import ArmTruth, Design, Scenario
from platsim.specs import arm_survival_truths, look_counts
from platsim.truth.survival import median_months


def number(value: float, digits: int = 3) -> str:
    """A number with up to `digits` significant decimals and no trailing zeros (12, 0.975)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if math.isinf(value):
        return "∞"
    if float(value).is_integer():
        return f"{int(value):,}"
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text


def percent(value: float) -> str:
    """A probability as a percentage (0.25 → '25%', 0.029 → '2.9%')."""
    return f"{number(100 * value, 1)}%"


def join_words(items: Sequence[str], last: str = "and") -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


def count_list(counts: Sequence[float], limit: int = 8) -> str:
    """'80, 120 and 160' or, for long lists, '80, 120, 160, …, 360' (first three and last)."""
    values = [number(float(c)) for c in counts]
    if len(values) > limit:
        return ", ".join([*values[:3], "…", values[-1]])
    return join_words(values)


# ---------------------------------------------------------------------------- endpoint


def describe_endpoint(scenario: Scenario) -> str:
    """One sentence on what is measured on each patient."""
    endpoint = scenario.endpoint
    if endpoint.is_survival:
        text = (
            f"{endpoint.name}: time to event in {endpoint.unit or 'months'}; a lower hazard is "
            "better"
        )
        if endpoint.dropout_per_month > 0:
            text += (
                f"; loss to follow-up {percent(endpoint.dropout_per_month)} of patients per "
                "month (exponential)"
            )
        return text + "."
    direction = "higher" if endpoint.higher_is_better else "lower"
    text = f"{endpoint.name}: binary (response) endpoint; a {direction} probability is better"
    if endpoint.outcome_lag_months > 0:
        text += (
            f"; each patient's outcome is known {number(endpoint.outcome_lag_months)} months "
            "after enrolment"
        )
    else:
        text += "; outcomes are known at enrolment"
    return text + "."


def describe_accrual(scenario: Scenario) -> str:
    """One sentence on accrual."""
    accrual = scenario.accrual
    text = f"Poisson accrual of {number(accrual.rate_per_month)} patients per month"
    if accrual.ramp_up_months > 0:
        text += (
            f", ramping up linearly from 0 over the first {number(accrual.ramp_up_months)} months"
        )
    delay = getattr(accrual, "delay_months", 0.0) or 0.0
    if delay > 0:
        text += f"; each patient is randomized {number(delay)} months after screening"
    return text + "."


def describe_arm_role(scenario: Scenario, arm_id: str) -> str:
    """'control', 'experimental', or 'experimental, opens at 100 patients enrolled'."""
    arm = next(a for a in scenario.arms if a.id == arm_id)
    role = "control" if arm.control else "experimental"
    eligible = getattr(arm, "eligible", None)
    if eligible:
        role += f"; subgroup{'s' if len(eligible) > 1 else ''} {join_words(list(eligible))} only"
    opens = getattr(arm, "opens_at", None)
    if opens is not None:
        if getattr(opens, "patients", None) is not None:
            role += (
                f"; opens at the first analysis with at least {opens.patients:,} patients enrolled"
            )
        elif getattr(opens, "month", None) is not None:
            role += f"; opens at the first analysis from month {number(opens.month)}"
    return role


def describe_time_trend(scenario: Scenario, truth_name: str) -> str | None:
    """The calendar-time drift of a truth, in words (None if there is none)."""
    trend = getattr(scenario, "time_trends", {}).get(truth_name)
    if trend is None:
        return None
    scale = "hazard (log scale)" if scenario.endpoint.is_survival else "response (logit scale)"
    parts = []
    if trend.per_month:
        parts.append(f"{number(trend.per_month, 4)} per month of entry")
    if trend.step and trend.step_at_month is not None:
        parts.append(f"a step of {number(trend.step, 4)} from month {number(trend.step_at_month)}")
    if not parts:
        return None
    return (
        f"Time trend: every arm's {scale} drifts by {join_words(parts)} (the values above are "
        "at month 0)."
    )


# ---------------------------------------------------------------------------- truths


def truth_value_heading(scenario: Scenario) -> str:
    """The heading of the true-value column: what the values are."""
    if scenario.endpoint.is_survival:
        return f"true {scenario.endpoint.name} distribution"
    return f"true probability of {scenario.endpoint.name}"


def describe_arm_truth(scenario: Scenario, truth_name: str, arm_id: str) -> str:
    """One arm's truth under one state of nature, e.g. 'exponential, median 14.5 months'."""
    truth = scenario.truths[truth_name][arm_id]
    text = percent(truth.p) if truth.p is not None else _survival_text(scenario, truth_name, arm_id)
    if truth.dropout_per_month is not None:
        text += f"; loss to follow-up {percent(truth.dropout_per_month)} per month"
    by_subgroup = getattr(truth, "by_subgroup", None) or {}
    for group, group_truth in by_subgroup.items():
        value = percent(group_truth.p) if group_truth.p is not None else _survival_form(group_truth)
        text += f"; in subgroup {group}: {value}"
    return text


def _survival_text(scenario: Scenario, truth_name: str, arm_id: str) -> str:
    """The survival form, and the implied median when the form does not state it."""
    truth = scenario.truths[truth_name][arm_id]
    text = _survival_form(truth)
    try:
        median = median_months(arm_survival_truths(scenario, truth_name)[arm_id])
        if truth.median is None and math.isfinite(median):
            text += f"; median {number(median, 1)} months"
    except (AssertionError, KeyError, ValueError, ZeroDivisionError):
        pass
    return text


def describe_subgroups(scenario: Scenario) -> str | None:
    """The biomarker subgroups of a trial's population, or None."""
    groups = getattr(scenario, "subgroups", None) or []
    if not groups:
        return None
    parts = [
        f"{g.id} {percent(g.prevalence)}" + (f" ({g.label})" if g.label else "") for g in groups
    ]
    return (
        f"Biomarker subgroups of the enrolled population: {join_words(parts)}; each patient is "
        "randomized only among the open arms eligible for their subgroup."
    )


def _survival_form(truth: ArmTruth) -> str:
    if truth.median is not None:
        if truth.cure_fraction is not None:
            return (
                f"cure fraction {percent(truth.cure_fraction)}, the others exponential with "
                f"median {number(truth.median)} months"
            )
        return f"exponential, median {number(truth.median)} months"
    if truth.hazard_ratio is not None:
        if truth.delay_months is not None:
            return (
                f"hazard ratio 1 vs control for the first {number(truth.delay_months)} months, "
                f"then {number(truth.hazard_ratio)}"
            )
        return f"hazard ratio {number(truth.hazard_ratio)} vs control (proportional hazards)"
    if truth.pieces is not None:
        parts = []
        for start, end, rate in truth.pieces:
            span = (
                f"from month {number(start)}"
                if math.isinf(end)
                else f"months {number(start)}–{number(end)}"
            )
            parts.append(f"{number(rate, 4)}/month {span}")
        return "piecewise-constant hazard: " + "; ".join(parts)
    if truth.weibull is not None:
        weibull = truth.weibull
        size = (
            f"scale {number(weibull.scale)} months"
            if weibull.scale is not None
            else f"median {number(weibull.median)} months"
        )
        return f"Weibull, shape {number(weibull.shape)}, {size}"
    return "unspecified"


# ---------------------------------------------------------------------------- designs


def _better_than_control(scenario: Scenario, margin: float) -> str:
    """What 'better than control by margin' means for this endpoint."""
    if scenario.endpoint.is_survival:
        bound = number(1 - margin) if margin else "1"
        return f"P(HR < {bound})"
    if scenario.endpoint.higher_is_better:
        plus = f" + {number(margin)}" if margin else ""
        return f"P(p_arm > p_control{plus})"
    minus = f" − {number(margin)}" if margin else ""
    return f"P(p_arm < p_control{minus})"


def _ratio_text(scenario: Scenario, ratios: dict[str, float] | None) -> str:
    arms = scenario.arm_ids
    values = [ratios[arm] if ratios and arm in ratios else 1.0 for arm in arms]
    return f"{':'.join(number(v) for v in values)} ({' : '.join(arms)})"


def _allocation_sentences(scenario: Scenario, design: Design) -> list[str]:
    allocation = design.allocation
    sentences: list[str] = []
    randomization = (
        "blocked randomization (the numbers per arm between two analyses follow the "
        "allocation exactly, in random order)"
        if allocation.randomization == "blocked"
        else "simple randomization (each patient drawn independently)"
    )
    if allocation.rule == "fixed":
        text = f"Fixed allocation {_ratio_text(scenario, allocation.ratios)}, {randomization}"
        if len(scenario.arms) > 2:
            text += "; arms that leave the trial are removed and the others keep their ratios"
        sentences.append(text + ".")
        return sentences
    if allocation.rule == "thompson":
        power = allocation.power
        temper = (
            f"c = n / (2N) (Thall–Wathen: n patients enrolled so far, N = {design.max_patients:,})"
            if power == "n_over_2N"
            else f"c = {number(float(power))}"
        )
        text = (
            "Response-adaptive randomization (Thompson sampling): each enrolling arm's weight is "
            f"P(arm is best)^c with {temper}, recomputed at every analysis"
        )
    else:  # trippa
        params = getattr(allocation, "trippa", None)
        a, b, c = (
            (params.a, params.b, params.c)
            if params is not None
            else (defaults.TRIPPA_A, defaults.TRIPPA_B, defaults.TRIPPA_C)
        )
        text = (
            "Response-adaptive randomization (Trippa et al. 2012): experimental arms weighted by "
            f"P(better than control)^γ with γ(n) = {number(a)} (n/N)^{number(b)}, the control "
            f"kept level with the best-enrolled arm through η(n) = {number(c)} n/N, recomputed at "
            "every analysis"
        )
    control = allocation.control
    if control is not None:
        rule = control.rule
        if rule == "fixed":
            text += (
                f"; the control keeps a fixed {percent(control.fixed)} of allocation and the "
                "experimental arms share the rest in proportion to their weights"
            )
        elif rule == "sqrt":
            text += (
                "; the control gets √K : 1 against each experimental arm (K enrolling "
                "experimental arms), the experimental arms share the rest by weight"
            )
        else:
            text += "; the control is matched to the largest experimental share"
    sentences.append(text + f"; {randomization}.")
    clamps = []
    if allocation.min_prob > 0:
        clamps.append(f"at least {percent(allocation.min_prob)}")
    if allocation.max_prob < 1:
        clamps.append(f"at most {percent(allocation.max_prob)}")
    if clamps:
        sentences.append(
            f"Every enrolling arm gets {join_words(clamps)} of allocation (the rest renormalised)."
        )
    if allocation.burn_in_patients:
        sentences.append(
            f"The first {allocation.burn_in_patients:,} patients are randomized "
            f"{_ratio_text(scenario, allocation.ratios)} before adaptation starts."
        )
    return sentences


def _look_sentences(scenario: Scenario, design: Design) -> list[str]:
    looks = design.looks
    counts = look_counts(looks, design.max_patients)
    if looks.at_months:
        return [f"Interim analyses at calendar months {count_list(looks.at_months)}."]
    if not len(counts):
        return ["No interim analysis: one final analysis only."]
    if looks.counts_events:
        where = " in the control arm" if looks.events_in == "control" else ""
        unit = f"events{where}"
        note = " (each only if it comes before the final analysis)"
    elif looks.counts_outcomes:
        unit = "patients with an observed outcome"
        note = ""
    else:
        unit = "patients enrolled"
        note = ""
    step = looks.every_patients or looks.every_outcomes or looks.every_events
    if step is not None and len(counts) > 2:
        return [f"Interim analyses every {step:,} {unit}, at {count_list(counts)}{note}."]
    return [f"Interim analyses at {count_list(counts)} {unit}{note}."]


def _final_sentence(scenario: Scenario, design: Design) -> str:
    endpoint = scenario.endpoint
    if not endpoint.is_survival:
        lag = endpoint.outcome_lag_months
        if lag <= 0:
            return "The final analysis is at the last enrolment (outcomes are known at once)."
        return (
            "The final analysis happens when every enrolled patient's outcome is known, "
            f"{number(lag)} months after the last enrolment."
        )
    end = design.end
    if end is not None and end.months is not None:
        text = f"The final analysis is at calendar month {number(end.months)}"
    elif end is not None and end.events is not None:
        text = f"The final analysis is at {end.events:,} events"
        if design.follow_up_months is not None:
            text += (
                f" (or {number(design.follow_up_months)} months after the last enrolment if "
                "that many events never happen)"
            )
    else:
        follow = design.follow_up_months or 0.0
        text = (
            f"The final analysis is {number(follow)} months after the last enrolment"
            if follow
            else "The final analysis is at the last enrolment"
        )
    if design.max_duration_months is not None:
        text += f", at calendar month {number(design.max_duration_months)} at the latest"
    return text + "."


def _model_sentence(scenario: Scenario, design: Design) -> str:
    prior = design.prior
    if not scenario.endpoint.is_survival:
        return (
            f"Beta({number(prior.alpha)}, {number(prior.beta)}) prior on each arm's response "
            "probability (Beta–binomial posterior)."
        )
    text = (
        f"Gamma({number(prior.shape)}, {number(prior.rate)}) prior on each arm's hazard per month "
        "(Gamma–exponential posterior from events and patient-months at risk)"
    )
    analysis = design.analysis
    if analysis.model == "piecewise" and analysis.cut_points_months:
        n_pieces = len(analysis.cut_points_months) + 1
        piece = analysis.decision_piece % n_pieces
        text += (
            f"; piecewise-exponential model with cut point{'s' if n_pieces > 2 else ''} at "
            f"month{'s' if n_pieces > 2 else ''} {count_list(analysis.cut_points_months)} "
            "after entry, decisions and allocation "
            f"on the hazards of piece {piece + 1} of {n_pieces}"
        )
    return text + "."


def _decision_sentences(scenario: Scenario, design: Design) -> list[str]:
    decisions = design.decisions
    sentences: list[str] = []
    if decisions.efficacy is not None:
        outcome = {
            "graduate": "the arm graduates (leaves the trial for efficacy; the trial goes on)",
            "stop_trial": "the trial stops for efficacy",
            "new_control": "the arm becomes the new control",
        }[decisions.on_efficacy]
        sentences.append(
            f"Efficacy: an experimental arm with "
            f"{_better_than_control(scenario, decisions.efficacy.margin)} > "
            f"{number(decisions.efficacy.threshold)}; {outcome}."
        )
    if decisions.futility is not None:
        sentences.append(
            f"Futility: an experimental arm with "
            f"{_better_than_control(scenario, decisions.futility.margin)} < "
            f"{number(decisions.futility.threshold)} is dropped."
        )
    if decisions.drop_if_p_best_below is not None:
        sentences.append(
            f"An arm (other than the control) with P(best) < "
            f"{number(decisions.drop_if_p_best_below)} is dropped."
        )
    if decisions.stop_for_best is not None:
        sentences.append(
            f"If an arm's P(best) > {number(decisions.stop_for_best.threshold)} the trial stops "
            "with that arm as the winner."
        )
    if decisions.max_per_arm is not None:
        sentences.append(
            f"An arm stops enrolling at {decisions.max_per_arm:,} patients (it stays in the "
            "analysis)."
        )
    if not sentences:
        sentences.append("No decision rules: every arm runs to the final analysis.")
    elif _has_interims(design):
        sentences.append("The rules apply at every interim analysis and at the final analysis.")
    return sentences


def _has_interims(design: Design) -> bool:
    return bool(design.looks.at_months) or bool(len(look_counts(design.looks, design.max_patients)))


def describe_design(scenario: Scenario, design_name: str) -> list[str]:
    """A design's rules in plain English, one sentence per item.

    Covers the maximum sample size, allocation, analysis model, interim and final analyses,
    and decision rules, from the validated scenario model.
    """
    design = scenario.designs[design_name]
    sentences = [f"Up to {design.max_patients:,} patients."]
    max_active = getattr(design, "max_active_arms", None)
    if max_active is not None:
        sentences.append(
            f"At most {max_active} experimental arms are open at the same time; the others wait "
            "in arm order."
        )
    staggered = max_active is not None or any(
        getattr(arm, "opens_at", None) is not None for arm in scenario.arms
    )
    comparison = getattr(design, "control_comparison", None)
    if staggered and scenario.control_id is not None and comparison is not None:
        sentences.append(
            "Each arm is compared with the controls randomized while it was open (concurrent "
            "controls)."
            if comparison == "concurrent"
            else "Each arm is compared with every control patient, including those randomized "
            "before it opened (pooled, partly non-concurrent controls)."
        )
    sentences += _allocation_sentences(scenario, design)
    sentences.append(_model_sentence(scenario, design))
    sentences += _look_sentences(scenario, design)
    sentences.append(_final_sentence(scenario, design))
    sentences += _decision_sentences(scenario, design)
    return sentences
