"""Period-adjusted comparisons: periods, per-period contrasts, their combination."""

from __future__ import annotations

import numpy as np
from scipy import stats

from platsim.engine.periods import (
    combine,
    log_odds_contrast,
    patient_periods,
    period_counts,
)


def test_periods_are_bounded_by_arm_entries_and_exits():
    # Arms open at 0, 0 and 5; arm 1 closes at 8; one arm never opens (−1).
    periods = patient_periods(np.array([[0, 0, 5, -1]]), np.array([[-1, 8, -1, -1]]), 12)
    np.testing.assert_array_equal(periods[0], [0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2])
    # Coinciding boundaries make one period, not two.
    same = patient_periods(np.array([[0, 4]]), np.array([[4, -1]]), 6)
    np.testing.assert_array_equal(same[0], [0, 0, 0, 0, 1, 1])


def test_counts_per_arm_and_period():
    period = np.array([[0, 0, 1, 1, 1]])
    arm = np.array([[0, 1, 0, 1, 1]])
    counts = period_counts(period, arm, np.ones((1, 5), dtype=bool), np.ones((1, 5)), 2)
    np.testing.assert_array_equal(counts[0], [[1, 1], [1, 2]])


def test_inverse_variance_combination_by_hand():
    # Two periods with log-odds ratios d = (0.5, 1.0) and variances (0.25, 1.0):
    # estimate = (0.5/0.25 + 1/1) / (1/0.25 + 1) = 3/5, se = 1/√5.
    p = combine(np.array([0.5, 1.0]), np.array([0.25, 1.0]), np.array([True, True]))
    assert np.isclose(p, stats.norm.cdf(0.6 * np.sqrt(5)))
    # A period without both arms does not count.
    q = combine(np.array([0.5, 9.0]), np.array([0.25, 1.0]), np.array([True, False]))
    assert np.isclose(q, stats.norm.cdf(0.5 / 0.5))
    contrast, variance = log_odds_contrast(3.0, 10.0, 1.0, 10.0)
    assert np.isclose(contrast, np.log(3.5 / 7.5) - np.log(1.5 / 9.5))
    assert np.isclose(variance, 1 / 3.5 + 1 / 7.5 + 1 / 1.5 + 1 / 9.5)
