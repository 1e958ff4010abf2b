"""Accrual: Poisson entry times with a linear ramp-up."""

from __future__ import annotations

import numpy as np

from platsim.engine.accrual import entry_times_months


def test_constant_rate_counts_are_poisson():
    # 4000 trials, seed 1: patients entered by month 10 at 6/month ~ Poisson(60).
    rng = np.random.default_rng(1)
    entries = entry_times_months(np.cumsum(rng.standard_exponential((4000, 200)), axis=1), 6.0)
    counts = (entries <= 10.0).sum(axis=1)
    assert abs(counts.mean() - 60) < 4 * np.sqrt(60 / 4000)
    assert abs(counts.var() - 60) < 0.15 * 60


def test_ramp_up_expected_counts():
    # Rate ramps 0 → 6/month over 4 months: Λ(2) = 6·4/2·(2/4)² = 3, Λ(10) = 12 + 36 = 48.
    rng = np.random.default_rng(2)
    entries = entry_times_months(
        np.cumsum(rng.standard_exponential((4000, 200)), axis=1), 6.0, ramp_up_months=4.0
    )
    for month, expected in ((2.0, 3.0), (10.0, 48.0)):
        counts = (entries <= month).sum(axis=1)
        assert abs(counts.mean() - expected) < 4 * np.sqrt(expected / 4000)
