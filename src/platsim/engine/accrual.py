"""Patient entry times from a Poisson accrual process with an optional linear ramp-up."""

from __future__ import annotations

import numpy as np


def entry_times_months(
    cumulative_gaps: np.ndarray, rate_per_month: float, ramp_up_months: float = 0.0
) -> np.ndarray:
    """Entry times (months) from cumulative standard-exponential gaps.

    The accrual rate ramps linearly from 0 to `rate_per_month` over `ramp_up_months`, then
    stays constant: Λ(t) = R t² / (2 r) for t < r, R r / 2 + R (t − r) after. Patient i
    enters at Λ⁻¹(S_i), S_i the i-th cumulative gap, which makes the entries a Poisson
    process with that intensity.

    Parameters
    ----------
    cumulative_gaps : (n_sims, n_patients) array, increasing along the last axis.
    rate_per_month : full accrual rate R (patients per month).
    ramp_up_months : ramp-up duration r (months); 0 for none.
    """
    if ramp_up_months <= 0.0:
        return cumulative_gaps / rate_per_month
    ramp_mass = rate_per_month * ramp_up_months / 2.0
    during_ramp = np.sqrt(2.0 * cumulative_gaps * ramp_up_months / rate_per_month)
    after_ramp = ramp_up_months + (cumulative_gaps - ramp_mass) / rate_per_month
    return np.where(cumulative_gaps < ramp_mass, during_ramp, after_ramp)
