"""Turn a validated scenario's design and truth into the engine's `TrialSpec`."""

from __future__ import annotations

import numpy as np

from platsim.engine.spec import TrialSpec
from platsim.errors import ArgumentError
from platsim.scenario import defaults
from platsim.scenario.schema import ArmTruth, Design, Looks, Scenario
from platsim.truth import survival


def look_counts(looks: Looks, max_patients: int) -> np.ndarray:
    """Interim look counts (< max_patients) of a look schedule, as int64."""
    if looks.every_patients or looks.every_outcomes or looks.every_events:
        step = looks.every_patients or looks.every_outcomes or looks.every_events
        assert step is not None
        first = looks.first_at if looks.first_at is not None else step
        counts = np.arange(first, max_patients, step, dtype=np.int64)
    elif looks.at_patients or looks.at_outcomes or looks.at_events:
        counts = np.asarray(
            looks.at_patients or looks.at_outcomes or looks.at_events, dtype=np.int64
        )
    else:
        counts = np.empty(0, dtype=np.int64)
    if looks.counts_events:
        return counts[counts <= max_patients]
    return counts[counts < max_patients]


def survival_truth(
    truth: ArmTruth, control_truth: survival.CumulativeHazard | None
) -> survival.CumulativeHazard:
    """The cumulative hazard of one arm's time-to-event truth (months)."""
    if truth.median is not None:
        exponential = survival.Exponential.from_median(truth.median)
        if truth.cure_fraction is not None:
            return survival.CureFraction(truth.cure_fraction, exponential)
        return exponential
    if truth.pieces is not None:
        return survival.PiecewiseConstant(
            tuple(float(start) for start, _, _ in truth.pieces),
            tuple(float(rate) for _, _, rate in truth.pieces),
        )
    if truth.weibull is not None:
        if truth.weibull.scale is not None:
            return survival.Weibull(truth.weibull.shape, truth.weibull.scale)
        assert truth.weibull.median is not None
        return survival.Weibull.from_median(truth.weibull.shape, truth.weibull.median)
    assert truth.hazard_ratio is not None and control_truth is not None
    if truth.delay_months is not None:
        return survival.DelayedEffect(control_truth, truth.delay_months, truth.hazard_ratio)
    return survival.ProportionalHazards(control_truth, truth.hazard_ratio)


def arm_survival_truths(scenario: Scenario, truth_name: str) -> dict[str, object]:
    """arm id → the arm's survival truth (cumulative hazard) under `truth_name`; arms given
    by a hazard ratio are relative to the control's truth."""
    truth = scenario.truths[truth_name]
    control = scenario.control_id
    control_truth = survival_truth(truth[control], None) if control is not None else None
    return {
        arm: control_truth if arm == control else survival_truth(truth[arm], control_truth)
        for arm in scenario.arm_ids
    }


def _survival_fields(scenario: Scenario, design: Design, truth_name: str) -> dict:
    truth = scenario.truths[truth_name]
    truths = tuple(arm_survival_truths(scenario, truth_name).values())
    default_dropout = scenario.endpoint.dropout_per_month
    looks = design.looks
    if looks.counts_events:
        kind = "events"
    elif looks.at_months is not None:
        kind = "months"
    else:
        kind = "patients"
    end = design.end
    return {
        "endpoint_kind": "time_to_event",
        "higher_is_better": False,
        "true_p": np.full(len(truths), np.nan),
        "survival_truths": truths,
        "dropout_per_month": np.array(
            [
                truth[arm].dropout_per_month
                if truth[arm].dropout_per_month is not None
                else default_dropout
                for arm in scenario.arm_ids
            ],
            dtype=float,
        ),
        "prior_shape": design.prior.shape,
        "prior_rate": design.prior.rate,
        "look_kind": kind,
        "look_months": np.asarray(looks.at_months or [], dtype=float),
        "events_in_control": looks.events_in == "control",
        "follow_up_months": design.follow_up_months,
        "end_events": end.events if end is not None else None,
        "end_months": end.months if end is not None else None,
        "max_duration_months": design.max_duration_months,
        "cut_points_months": np.asarray(design.analysis.cut_points_months or [], dtype=float),
        "decision_piece": design.analysis.decision_piece,
        "outcome_lag_months": 0.0,
    }


def _subgroup_fields(scenario: Scenario, truth_name: str) -> dict:
    if not scenario.subgroups or scenario.is_master_protocol:
        return {}
    group_ids = [group.id for group in scenario.subgroups]
    truth = scenario.truths[truth_name]
    arms = scenario.arms
    eligible = np.array(
        [[arm.eligible is None or g in arm.eligible for g in group_ids] for arm in arms]
    )

    def arm_truth(arm_id: str, group: str) -> ArmTruth:
        overrides = truth[arm_id].by_subgroup or {}
        return overrides.get(group, truth[arm_id])

    fields: dict = {
        "subgroup_prevalence": np.array([group.prevalence for group in scenario.subgroups]),
        "eligible": eligible,
    }
    if scenario.endpoint.is_survival:
        control = scenario.control_id
        by_group = []
        for arm in arms:
            per_group = []
            for g in group_ids:
                control_truth = survival_truth(arm_truth(control, g), None) if control else None
                own = arm_truth(arm.id, g)
                per_group.append(
                    control_truth if arm.id == control else survival_truth(own, control_truth)
                )
            by_group.append(tuple(per_group))
        fields["survival_truths_by_group"] = tuple(by_group)
    else:
        fields["true_p_by_group"] = np.array(
            [[arm_truth(arm.id, g).p for g in group_ids] for arm in arms], dtype=float
        )
    return fields


def _platform_fields(scenario: Scenario, design: Design, truth_name: str) -> dict:
    opens = [arm.opens_at for arm in scenario.arms]
    trend = scenario.time_trends.get(truth_name)
    return {
        **_subgroup_fields(scenario, truth_name),
        "open_patients": np.array(
            [o.patients if o is not None and o.patients is not None else 0 for o in opens],
            dtype=np.int64,
        ),
        "open_months": np.array(
            [o.month if o is not None and o.month is not None else 0.0 for o in opens]
        ),
        "max_active_arms": design.max_active_arms,
        "concurrent_controls": design.control_comparison == "concurrent",
        "period_adjusted": design.control_comparison == "period_adjusted",
        "trend_per_month": trend.per_month if trend is not None else 0.0,
        "trend_step_month": trend.step_at_month if trend is not None else None,
        "trend_step": trend.step if trend is not None else 0.0,
    }


def build_trial_spec(scenario: Scenario, design_name: str, truth_name: str) -> TrialSpec:
    """The engine's view of `design_name` under `truth_name`."""
    if design_name not in scenario.designs:
        raise ArgumentError(
            f"design must be one of {', '.join(scenario.designs)}; got {design_name!r}."
        )
    if truth_name not in scenario.truths:
        raise ArgumentError(
            f"truth must be one of {', '.join(scenario.truths)}; got {truth_name!r}."
        )
    design = scenario.designs[design_name]
    truth = scenario.truths[truth_name]
    arm_ids = tuple(scenario.arm_ids)
    control = scenario.control_id
    allocation = design.allocation
    decisions = design.decisions

    survival_fields = (
        _survival_fields(scenario, design, truth_name) if scenario.endpoint.is_survival else {}
    )
    ratios = np.array(
        [allocation.ratios[a] if allocation.ratios else 1.0 for a in arm_ids], dtype=float
    )
    ratios /= ratios.sum()
    power = allocation.power
    control_share = allocation.control
    fields = dict(
        arm_ids=arm_ids,
        true_p=np.array([truth[a].p if truth[a].p is not None else np.nan for a in arm_ids]),
        control_index=arm_ids.index(control) if control is not None else None,
        higher_is_better=scenario.endpoint.higher_is_better,
        max_patients=design.max_patients,
        accrual_rate_per_month=scenario.accrual.rate_per_month,
        ramp_up_months=scenario.accrual.ramp_up_months,
        entry_delay_months=scenario.accrual.delay_months,
        outcome_lag_months=scenario.endpoint.outcome_lag_months,
        prior_alpha=design.prior.alpha,
        prior_beta=design.prior.beta,
        allocation_rule=allocation.rule,
        trippa_abc=(
            (allocation.trippa.a, allocation.trippa.b, allocation.trippa.c)
            if allocation.trippa is not None
            else (defaults.TRIPPA_A, defaults.TRIPPA_B, defaults.TRIPPA_C)
        ),
        fixed_ratios=ratios,
        thompson_power=None if power == "n_over_2N" else float(power),
        control_rule=control_share.rule if control_share is not None else None,
        control_fixed_share=(control_share.fixed or 0.0) if control_share is not None else 0.0,
        min_prob=allocation.min_prob,
        max_prob=allocation.max_prob,
        burn_in_patients=allocation.burn_in_patients,
        randomization=allocation.randomization,
        look_counts=look_counts(design.looks, design.max_patients),
        looks_count_outcomes=design.looks.counts_outcomes,
        efficacy_threshold=decisions.efficacy.threshold if decisions.efficacy else None,
        efficacy_margin=decisions.efficacy.margin if decisions.efficacy else 0.0,
        futility_threshold=decisions.futility.threshold if decisions.futility else None,
        futility_margin=decisions.futility.margin if decisions.futility else 0.0,
        stop_for_best_threshold=(
            decisions.stop_for_best.threshold if decisions.stop_for_best else None
        ),
        drop_if_p_best_below=decisions.drop_if_p_best_below,
        max_per_arm=decisions.max_per_arm,
        on_efficacy=decisions.on_efficacy,
    )
    fields.update(survival_fields)
    fields.update(_platform_fields(scenario, design, truth_name))
    return TrialSpec(**fields)
