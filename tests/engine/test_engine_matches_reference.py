"""The vectorized engine gives the same trials as the per-trial reference implementation.

Both follow docs/engine.md, including its random-number protocol, so for the same generator
state they must produce identical records trial by trial (floats to 1e-9), for every
feature of the contract: fixed and Thompson allocation, control rules, clamps, burn-in,
blocked randomization, ramp-up, outcome lag and outcome-based looks, graduation, trial
stop, new control, best-arm designs without a control, and capping.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from platsim.engine.trial import simulate_trials
from tests.engine.test_reference_engine import make_spec, multi_arm_spec
from tests.reference_engine import simulate_trials_reference

DESIGNS = {
    "fixed_two_arm": lambda: make_spec(efficacy_threshold=0.9),
    "blocked_unequal": lambda: make_spec(
        true_p=(0.3, 0.3, 0.3),
        max_patients=43,
        fixed_ratios=np.array([0.5, 0.25, 0.25]),
        randomization="blocked",
        look_counts=np.array([7, 20]),
    ),
    "thompson_graduate": lambda: multi_arm_spec(min_prob=0.05),
    "thompson_stop_trial": lambda: multi_arm_spec(on_efficacy="stop_trial"),
    "new_control": lambda: multi_arm_spec(
        true_p=(0.2, 0.45, 0.25, 0.3),
        on_efficacy="new_control",
        futility_threshold=None,
        efficacy_threshold=0.95,
    ),
    "outcome_looks_with_lag": lambda: multi_arm_spec(
        look_counts=np.array([40, 80, 120]),
        looks_count_outcomes=True,
        outcome_lag_months=3.0,
        accrual_rate_per_month=10.0,
    ),
    "best_arm_no_control": lambda: make_spec(
        true_p=(0.25, 0.20, 0.30),
        control_index=None,
        higher_is_better=False,
        max_patients=600,
        accrual_rate_per_month=50.0,
        allocation_rule="thompson",
        thompson_power=0.5,
        look_counts=np.arange(150, 600, 50),
        stop_for_best_threshold=0.99,
        drop_if_p_best_below=0.01,
    ),
    "capped_arms": lambda: make_spec(
        true_p=(0.3, 0.3),
        control_index=None,
        max_patients=100,
        max_per_arm=30,
        look_counts=np.arange(10, 100, 10),
    ),
    "sqrt_control_blocked_ramp_burn_in": lambda: multi_arm_spec(
        control_rule="sqrt",
        randomization="blocked",
        ramp_up_months=3.0,
        outcome_lag_months=1.0,
        burn_in_patients=40,
    ),
    "match_best_clamped": lambda: multi_arm_spec(
        control_rule="match_best", max_prob=0.5, min_prob=0.1
    ),
    "fixed_control_share_margins": lambda: multi_arm_spec(
        control_rule="fixed",
        control_fixed_share=0.3,
        max_prob=0.4,
        min_prob=0.1,
        futility_margin=0.05,
        efficacy_margin=0.02,
    ),
}


@pytest.mark.parametrize("name", list(DESIGNS))
def test_engine_and_reference_give_identical_trials(name):
    # 150 trials, seed 1 (the reference is slow: one trial at a time).
    spec = DESIGNS[name]()
    engine = simulate_trials(spec, np.random.default_rng(1), 150)
    reference = simulate_trials_reference(spec, np.random.default_rng(1), 150)
    for field in dataclasses.fields(engine):
        ours, theirs = getattr(engine, field.name), getattr(reference, field.name)
        assert ours.shape == theirs.shape, field.name
        if ours.dtype.kind == "f":
            np.testing.assert_allclose(
                ours, theirs, atol=1e-9, rtol=1e-7, equal_nan=True, err_msg=field.name
            )
        else:
            np.testing.assert_array_equal(ours, theirs, err_msg=field.name)
