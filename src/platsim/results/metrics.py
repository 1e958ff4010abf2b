"""Operating characteristics with Monte Carlo standard errors, as one long table.

Each row is ``(design, truth, arm, metric, estimate, mcse)``; ``arm`` is empty for
trial-level metrics. Reports, summaries and calibration read only this table and the
per-trial records. The MCSE of a probability estimate p over n trials is √(p(1−p)/n); of a
mean, the sample standard deviation over √n; quantiles carry no MCSE (NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from platsim.engine import spec as codes
from platsim.engine.records import TrialRecords
from platsim.engine.spec import TrialSpec


@dataclass(frozen=True)
class MetricRow:
    design: str
    truth: str
    arm: str
    metric: str
    estimate: float
    mcse: float


def _proportion(flags: np.ndarray) -> tuple[float, float]:
    n = flags.size
    p = float(flags.mean()) if n else float("nan")
    return p, float(np.sqrt(p * (1.0 - p) / n)) if n else float("nan")


def _mean(values: np.ndarray) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    n = values.size
    if n == 0:
        return float("nan"), float("nan")
    sd = float(values.std(ddof=1)) if n > 1 else float("nan")
    return float(values.mean()), sd / np.sqrt(n)


def _rmse(error: np.ndarray) -> tuple[float, float]:
    """Root mean squared error and its MCSE by the delta method, se(mse) / (2 rmse)."""
    rmse = float(np.sqrt(np.mean(error**2)))
    se_mse = (
        float(np.std(error**2, ddof=1) / np.sqrt(error.size)) if error.size > 1 else float("nan")
    )
    return rmse, se_mse / (2 * rmse) if rmse > 0 else float("nan")


def _quantile(values: np.ndarray, q: float) -> tuple[float, float]:
    return float(np.quantile(values, q)), float("nan")


#: Months at which time-to-event truths are compared (to find nulls and hazard ratios).
COMPARISON_MONTHS = np.linspace(0.25, 120.0, 480)


def true_hazard_ratios(spec: TrialSpec) -> np.ndarray:
    """Each arm's true hazard ratio against the control when hazards are proportional
    (cumulative hazards in a constant ratio over 0–120 months), else NaN; (n_arms,)."""
    ratios = np.full(spec.n_arms, np.nan)
    if not spec.is_survival or spec.control_index is None:
        return ratios
    control = spec.survival_truths[spec.control_index].cumulative_hazard(COMPARISON_MONTHS)
    for k, truth in enumerate(spec.survival_truths):
        ratio = truth.cumulative_hazard(COMPARISON_MONTHS) / control
        if np.all(np.isfinite(ratio)) and np.ptp(ratio) <= 1e-9 * ratio.mean():
            ratios[k] = ratio.mean()
    return ratios


def null_arms(spec: TrialSpec) -> np.ndarray:
    """Experimental arms whose truth is not better than the control's (for FWER), (n_arms,).

    Binary: p_arm ≤ p_control (≥ when lower is better). Time-to-event: the arm's cumulative
    hazard is nowhere below the control's over 0–120 months (no benefit at any time).
    """
    if spec.control_index is None:
        return np.zeros(spec.n_arms, dtype=bool)
    if spec.is_survival:
        control = spec.survival_truths[spec.control_index].cumulative_hazard(COMPARISON_MONTHS)
        not_better = np.array(
            [
                np.all(t.cumulative_hazard(COMPARISON_MONTHS) >= control * (1 - 1e-9))
                for t in spec.survival_truths
            ]
        )
    else:
        p_control = spec.true_p[spec.control_index]
        if spec.higher_is_better:
            not_better = spec.true_p <= p_control + 1e-12
        else:
            not_better = spec.true_p >= p_control - 1e-12
    not_better[spec.control_index] = False
    return not_better


def truly_best_arms(spec: TrialSpec) -> np.ndarray:
    """Arms whose truth is the best (ties all count), (n_arms,).

    Binary: the best response probability. Time-to-event: the longest true median survival
    (the lowest cumulative hazard at that median when medians tie or are infinite).
    """
    if spec.is_survival:
        from platsim.truth.survival import median_months

        medians = np.array([median_months(t) for t in spec.survival_truths])
        horizon = np.nanmax(np.where(np.isfinite(medians), medians, np.nan))
        horizon = horizon if np.isfinite(horizon) else 60.0
        at_horizon = np.array(
            [float(t.cumulative_hazard(np.asarray(horizon))) for t in spec.survival_truths]
        )
        best_median = np.isclose(medians, medians.max(), rtol=1e-9, atol=0) | (
            np.isinf(medians) & np.isinf(medians.max())
        )
        lowest = np.isclose(at_horizon, at_horizon[best_median].min(), rtol=1e-9, atol=0)
        return best_median & lowest
    target = spec.true_p.max() if spec.higher_is_better else spec.true_p.min()
    return np.isclose(spec.true_p, target, rtol=0.0, atol=1e-12)


def trial_indicators(records: TrialRecords, spec: TrialSpec) -> dict[str, np.ndarray]:
    """Per-trial 0/1 outcomes whose means are the trial-level metrics, (n_sims,) bool each.

    ``fwer``: some arm not truly better than the control declared effective (absent when
    every experimental arm is truly better); ``p_any_efficacy``: some experimental arm
    declared effective; ``p_select_best``: the selected arm is a truly best one (no
    selection when no experimental arm beats the control); ``p_no_selection``.
    """
    efficacy = records.status == codes.EFFICACY
    control = spec.control_index
    experimental = np.ones(spec.n_arms, dtype=bool)
    if control is not None:
        experimental[control] = False
    nulls = null_arms(spec)
    selected = records.selected_arm
    indicators = {"p_any_efficacy": efficacy[:, experimental].any(axis=1)}
    if nulls.any():
        indicators["fwer"] = efficacy[:, nulls].any(axis=1)
    if control is not None and nulls[experimental].all():
        # No experimental arm beats the control: the right selection is none.
        indicators["p_select_best"] = selected < 0
    else:
        best = truly_best_arms(spec)
        indicators["p_select_best"] = (selected >= 0) & best[np.maximum(selected, 0)]
    indicators["p_no_selection"] = selected < 0
    return indicators


def operating_characteristics(
    records: TrialRecords, spec: TrialSpec, design: str, truth: str
) -> list[MetricRow]:
    """Every operating characteristic of one design under one truth."""
    rows: list[MetricRow] = []

    def add(arm: str, metric: str, value: tuple[float, float]) -> None:
        rows.append(MetricRow(design, truth, arm, metric, value[0], value[1]))

    status = records.status
    control = spec.control_index
    true_hrs = true_hazard_ratios(spec)
    for k, arm in enumerate(spec.arm_ids):
        add(arm, "p_efficacy", _proportion(status[:, k] == codes.EFFICACY))
        add(arm, "p_futility", _proportion(status[:, k] == codes.FUTILITY))
        add(arm, "p_dropped", _proportion(status[:, k] == codes.DROPPED))
        add(arm, "p_declared_best", _proportion(status[:, k] == codes.BEST))
        add(arm, "p_capped", _proportion(records.capped[:, k]))
        add(arm, "p_selected", _proportion(records.selected_arm == k))
        n_arm = records.n_enrolled[:, k].astype(float)
        add(arm, "mean_n", _mean(n_arm))
        add(arm, "median_n", _quantile(n_arm, 0.5))
        add(arm, "q10_n", _quantile(n_arm, 0.1))
        add(arm, "q90_n", _quantile(n_arm, 0.9))
        add(arm, "mean_share", _mean(n_arm / np.maximum(records.total_n, 1)))
        if spec.is_survival:
            add(arm, "mean_hazard_per_month", _mean(records.post_mean[:, k]))
            if control is not None and k != control:
                add(arm, "median_hr_estimate", _quantile(records.diff_estimate[:, k], 0.5))
            add(arm, "mean_events", _mean(records.n_responses[:, k].astype(float)))
            exposure = getattr(records, "exposure_months", None)
            if exposure is not None:
                add(arm, "mean_exposure_months", _mean(exposure[:, k]))
            if control is not None and k != control:
                rows.extend(_log_hr_rows(records, k, true_hrs[k], design, truth, arm))
        else:
            add(arm, "mean_estimate", _mean(records.post_mean[:, k]))
        if not spec.is_survival and control is not None and k != control:
            true_diff = spec.true_p[k] - spec.true_p[control]
            diff = records.diff_estimate[:, k]
            has = np.isfinite(diff)
            if has.any():
                error = diff[has] - true_diff
                add(arm, "bias_diff", _mean(error))
                add(arm, "rmse_diff", _rmse(error))
                covered = (records.diff_lower[has, k] <= true_diff) & (
                    true_diff <= records.diff_upper[has, k]
                )
                add(arm, "coverage_diff", _proportion(covered))

    indicators = trial_indicators(records, spec)
    for metric in ("fwer", "p_any_efficacy", "p_select_best", "p_no_selection"):
        flags = indicators.get(metric)
        add("", metric, _proportion(flags) if flags is not None else (float("nan"), float("nan")))
    if spec.is_survival:
        add("", "mean_events", _mean(records.n_responses.sum(axis=1).astype(float)))
    total_n = records.total_n.astype(float)
    add("", "mean_n", _mean(total_n))
    add("", "median_n", _quantile(total_n, 0.5))
    add("", "q10_n", _quantile(total_n, 0.1))
    add("", "q90_n", _quantile(total_n, 0.9))
    duration = records.duration_months
    add("", "mean_duration_months", _mean(duration))
    add("", "median_duration_months", _quantile(duration, 0.5))
    add("", "q10_duration_months", _quantile(duration, 0.1))
    add("", "q90_duration_months", _quantile(duration, 0.9))
    add("", "mean_looks", _mean(records.n_looks_done.astype(float)))
    for code, reason in enumerate(codes.STOP_REASONS):
        add("", f"p_stop_{reason}", _proportion(records.stop_reason == code))
    return rows


def _log_hr_rows(
    records: TrialRecords, k: int, true_hr: float, design: str, truth: str, arm: str
) -> list[MetricRow]:
    """Bias and RMSE of the log posterior-median HR and coverage of its 95% interval.

    Only where the truth has proportional hazards (a single true HR); else nothing.
    """
    if not np.isfinite(true_hr):
        return []
    estimate = records.diff_estimate[:, k]
    has = np.isfinite(estimate) & (estimate > 0)
    if not has.any():
        return []
    error = np.log(estimate[has]) - np.log(true_hr)
    covered = (records.diff_lower[has, k] <= true_hr) & (true_hr <= records.diff_upper[has, k])
    rows = [
        MetricRow(design, truth, arm, "bias_log_hr", *_mean(error)),
        MetricRow(design, truth, arm, "rmse_log_hr", *_rmse(error)),
        MetricRow(design, truth, arm, "coverage_hr", *_proportion(covered)),
    ]
    return rows
