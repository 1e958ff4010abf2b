"""Tests for platsim.results.metrics: estimation metrics against their formulas."""

from __future__ import annotations

import numpy as np

from platsim.engine.spec import TrialSpec
from platsim.engine.trial import simulate_trials
from platsim.results.metrics import operating_characteristics


def test_bias_rmse_and_coverage_of_the_difference_follow_their_formulas():
    # 400 trials, seed 3, of a fixed 1:1 two-arm design (0.20 vs 0.35, 120 patients, one
    # final analysis): the summary's bias, RMSE (with its delta-method MCSE) and coverage
    # of p_treatment − p_control, recomputed from the per-trial records.
    spec = TrialSpec(
        arm_ids=("control", "treatment"),
        true_p=np.array([0.20, 0.35]),
        control_index=0,
        higher_is_better=True,
        max_patients=120,
        accrual_rate_per_month=10.0,
        allocation_rule="fixed",
        fixed_ratios=np.array([0.5, 0.5]),
        efficacy_threshold=0.975,
    )
    records = simulate_trials(spec, np.random.default_rng(3), 400)
    rows = {
        row.metric: row
        for row in operating_characteristics(records, spec, "fixed", "truth")
        if row.arm == "treatment"
    }
    error = records.diff_estimate[:, 1] - 0.15
    squared = error**2
    rmse = np.sqrt(squared.mean())
    assert np.isclose(rows["bias_diff"].estimate, error.mean(), rtol=1e-12)
    assert np.isclose(rows["rmse_diff"].estimate, rmse, rtol=1e-12)
    se_mse = squared.std(ddof=1) / np.sqrt(squared.size)
    assert np.isclose(rows["rmse_diff"].mcse, se_mse / (2 * rmse), rtol=1e-12)
    covered = (records.diff_lower[:, 1] <= 0.15) & (0.15 <= records.diff_upper[:, 1])
    assert np.isclose(rows["coverage_diff"].estimate, covered.mean(), rtol=1e-12)
    assert 0 < rmse < 0.2  # a real spread of estimates, not a degenerate case
