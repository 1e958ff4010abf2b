"""Per-trial results of a chunk of simulated trials, as arrays.

Shapes: per trial × arm ``(n_sims, n_arms)``; per trial ``(n_sims,)``; allocation history
``(n_sims, n_looks, n_arms)`` where row 0 is the allocation before any data and row j + 1
the allocation set after analysis j (NaN once the trial has stopped); per analysis
``(n_sims, n_looks)``: patients enrolled and calendar month (−1 / NaN if not performed).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass
class TrialRecords:
    """Results of `n_sims` simulated trials of one design under one truth."""

    # per trial × arm
    status: np.ndarray  # int8 code, see spec.STATUS_NAMES
    decision_look: np.ndarray  # int16, analysis index of the decision, -1 if none
    decision_n: np.ndarray  # int32, patients enrolled in the trial at the decision, -1
    capped: np.ndarray  # bool, reached max_per_arm
    n_enrolled: np.ndarray  # int32, patients randomized to the arm
    n_observed: np.ndarray  # int32, outcomes known at the arm's last analysis
    n_responses: np.ndarray  # int32, responses among them
    post_mean: np.ndarray  # float64, posterior mean response probability
    post_lower: np.ndarray  # float64, 2.5% posterior quantile
    post_upper: np.ndarray  # float64, 97.5% posterior quantile
    p_best: np.ndarray  # float64, at the arm's last analysis (0 if not active then)
    p_better_than_control: np.ndarray  # float64, NaN for the control / no control
    diff_estimate: np.ndarray  # float64, posterior mean of p_arm - p_control
    diff_lower: np.ndarray  # float64, 95% interval (normal approximation)
    diff_upper: np.ndarray  # float64
    open_n: np.ndarray  # int32, patients enrolled in the trial when the arm opened, -1 never
    open_months: np.ndarray  # float64, calendar month the arm opened, NaN never
    # per trial
    total_n: np.ndarray  # int32, patients enrolled
    duration_months: np.ndarray  # float64, months from the start (t = 0) to the last analysis
    stop_reason: np.ndarray  # int8 code, see spec.STOP_REASONS
    n_looks_done: np.ndarray  # int16, analyses performed including the final one
    selected_arm: np.ndarray  # int16 arm index, -1 if none
    final_control: np.ndarray  # int16 arm index of the control at the end, -1 if none
    allocation_probs: np.ndarray  # float64 (n_sims, n_looks, n_arms)
    analysis_n: np.ndarray  # int32 (n_sims, n_looks), patients enrolled at analysis j, -1
    analysis_months: np.ndarray  # float64 (n_sims, n_looks), calendar time of analysis j

    #: Which kind of records (for saved chunks).
    kind = "binary"

    @property
    def n_sims(self) -> int:
        return int(self.total_n.shape[0])

    @classmethod
    def concatenate(cls, parts: list[TrialRecords]) -> TrialRecords:
        """Stack the records of consecutive chunks (in chunk order)."""
        return cls(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)}
        )


@dataclass
class SurvivalTrialRecords(TrialRecords):
    """Records of time-to-event trials.

    The shared fields take their time-to-event meaning: `n_observed` = patients randomized
    to the arm by its last analysis, `n_responses` = events observed, `post_mean/lower/upper`
    = posterior mean and 95% interval of the hazard per month (in the decision piece of a
    piecewise model), `diff_estimate/lower/upper` = posterior median and 95% interval of the
    hazard ratio against the control.
    """

    exposure_months: np.ndarray  # float64, patient-months at risk at the last analysis
    median_survival_months: np.ndarray  # float64, ln 2 / posterior median overall hazard

    kind = "time_to_event"


def records_class(kind: str) -> type[TrialRecords]:
    """The records class of an endpoint kind."""
    return SurvivalTrialRecords if kind == "time_to_event" else TrialRecords
