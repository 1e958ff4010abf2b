"""Turn a validated scenario's design and truth into the engine's `TrialSpec`."""

from __future__ import annotations

import numpy as np

from platsim.engine.spec import TrialSpec
from platsim.errors import ArgumentError
from platsim.scenario.schema import Looks, Scenario


def look_counts(looks: Looks, max_patients: int) -> np.ndarray:
    """Interim look counts (< max_patients) of a look schedule, as int64."""
    if looks.every_patients is not None or looks.every_outcomes is not None:
        step = looks.every_patients or looks.every_outcomes
        assert step is not None
        first = looks.first_at if looks.first_at is not None else step
        counts = np.arange(first, max_patients, step, dtype=np.int64)
    elif looks.at_patients is not None or looks.at_outcomes is not None:
        counts = np.asarray(looks.at_patients or looks.at_outcomes, dtype=np.int64)
    else:
        counts = np.empty(0, dtype=np.int64)
    return counts[counts < max_patients]


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

    ratios = np.array(
        [allocation.ratios[a] if allocation.ratios else 1.0 for a in arm_ids], dtype=float
    )
    ratios /= ratios.sum()
    power = allocation.power
    control_share = allocation.control
    return TrialSpec(
        arm_ids=arm_ids,
        true_p=np.array([truth[a].p for a in arm_ids], dtype=float),
        control_index=arm_ids.index(control) if control is not None else None,
        higher_is_better=scenario.endpoint.higher_is_better,
        max_patients=design.max_patients,
        accrual_rate_per_month=scenario.accrual.rate_per_month,
        ramp_up_months=scenario.accrual.ramp_up_months,
        outcome_lag_months=scenario.endpoint.outcome_lag_months,
        prior_alpha=design.prior.alpha,
        prior_beta=design.prior.beta,
        allocation_rule=allocation.rule,
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
