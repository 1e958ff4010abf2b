"""Period-adjusted comparisons with the control (platforms whose arms enter and leave).

Periods are bounded by arm entries and exits (the patient index at which an arm opened, or
at which it was decided). Arm k is compared with the control within each period in which
both have observed patients, and the per-period contrasts are combined with inverse-variance
weights (Bofill Roig et al. 2022 adjust for period in a regression; stratifying by period
is the same idea without a model fit): log-odds ratios for binary endpoints, log hazard
ratios for time-to-event ones, with 0.5 added to every count. The combined estimate is
treated as normal, so P(better than control) = Φ(estimate / se): a large-sample
approximation, unlike the exact concurrent and pooled comparisons.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def patient_periods(open_n: np.ndarray, close_n: np.ndarray, n_patients: int) -> np.ndarray:
    """Period index of every patient, (n_sims, n_patients).

    `open_n`, `close_n`: (n_sims, n_arms) patient index at which each arm opened / closed
    (−1 or ≥ n_patients for none). A new period starts at each such index.
    """
    bounds = np.concatenate([open_n, close_n], axis=1)
    bounds = np.where((bounds > 0) & (bounds < n_patients), bounds, n_patients)
    bounds.sort(axis=1)
    index = np.arange(n_patients)
    # Period = number of boundaries at or before the patient (duplicates count once).
    unique_step = np.concatenate(
        [np.ones((bounds.shape[0], 1), dtype=bool), np.diff(bounds, axis=1) > 0], axis=1
    )
    weights = (unique_step & (bounds < n_patients)).astype(np.int16)
    return (
        ((index[None, :, None] >= bounds[:, None, :]) * weights[:, None, :])
        .sum(axis=2)
        .astype(np.int16)
    )


def period_counts(
    period: np.ndarray, arm: np.ndarray, mask: np.ndarray, values: np.ndarray, n_arms: int
) -> np.ndarray:
    """Sum of `values` per trial, arm and period over masked patients, (n_sims, n_arms, P)."""
    n_sims = period.shape[0]
    n_periods = int(period.max()) + 1 if period.size else 1
    keep = mask & (arm >= 0)
    cell = ((np.arange(n_sims)[:, None] * n_arms + arm) * n_periods + period)[keep]
    sums = np.bincount(cell, weights=values[keep], minlength=n_sims * n_arms * n_periods)
    return sums.reshape(n_sims, n_arms, n_periods)


def combine(contrast: np.ndarray, variance: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """P(combined contrast > 0) from per-period contrasts (…, P), inverse-variance weights."""
    weight = np.where(usable, 1.0 / variance, 0.0)
    total = weight.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        estimate = (weight * np.where(usable, contrast, 0.0)).sum(axis=-1) / total
        z = estimate * np.sqrt(total)
    return np.where(total > 0, special.ndtr(z), 0.5)


def log_odds_contrast(y_arm, n_arm, y_control, n_control):
    """Per-period log-odds ratio (arm vs control) and its variance, 0.5 added to counts."""
    a, b = y_arm + 0.5, n_arm - y_arm + 0.5
    c, d = y_control + 0.5, n_control - y_control + 0.5
    return np.log(a / b) - np.log(c / d), 1 / a + 1 / b + 1 / c + 1 / d


def log_hazard_contrast(events_arm, exposure_arm, events_control, exposure_control):
    """Per-period log hazard ratio (control vs arm: positive = arm better) and variance."""
    a, c = events_arm + 0.5, events_control + 0.5
    with np.errstate(divide="ignore", invalid="ignore"):
        contrast = np.log(c / exposure_control) - np.log(a / exposure_arm)
    return contrast, 1 / a + 1 / c
