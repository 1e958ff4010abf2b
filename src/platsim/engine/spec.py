"""What the engine needs to simulate one design under one truth, as plain numbers.

`TrialSpec` is built from a validated scenario by `platsim.specs.build_trial_spec`; the
engine never sees the scenario model. Arm order is the scenario's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from platsim.scenario import defaults

#: Arm status codes in records (index into STATUS_NAMES).
STATUS_NAMES: tuple[str, ...] = (
    "none",
    "efficacy",
    "futility",
    "dropped",
    "best",
    "superseded",
    "not_opened",
)
NONE, EFFICACY, FUTILITY, DROPPED, BEST, SUPERSEDED, NOT_OPENED = range(7)

#: Trial stop reasons in records (index into STOP_REASONS).
STOP_REASONS: tuple[str, ...] = (
    "max_patients",
    "no_arms_left",
    "best_found",
    "efficacy_stop",
    "single_arm_left",
)
STOP_MAX_PATIENTS, STOP_NO_ARMS_LEFT, STOP_BEST_FOUND, STOP_EFFICACY, STOP_SINGLE_ARM = range(5)


@dataclass(frozen=True)
class TrialSpec:
    """One design under one truth (binary endpoint).

    Probabilities are of response; times are in months; counts in patients.
    """

    arm_ids: tuple[str, ...]
    #: True response probability per arm, shape (n_arms,).
    true_p: np.ndarray
    #: Index of the control arm, or None for designs without a control.
    control_index: int | None
    higher_is_better: bool
    max_patients: int
    accrual_rate_per_month: float
    ramp_up_months: float = defaults.RAMP_UP_MONTHS
    #: Months from screening to randomization: every entry time is shifted by it.
    entry_delay_months: float = 0.0
    outcome_lag_months: float = defaults.OUTCOME_LAG_MONTHS
    prior_alpha: float = defaults.BETA_PRIOR_ALPHA
    prior_beta: float = defaults.BETA_PRIOR_BETA
    #: "fixed", "thompson" or "trippa".
    allocation_rule: str = "fixed"
    #: Trippa et al. (2012) constants (a, b, c): γ(n) = a (n/N)^b, η(n) = c n/N.
    trippa_abc: tuple[float, float, float] = (
        defaults.TRIPPA_A,
        defaults.TRIPPA_B,
        defaults.TRIPPA_C,
    )
    #: Fixed / burn-in allocation ratios, shape (n_arms,), summing to 1.
    fixed_ratios: np.ndarray = field(default_factory=lambda: np.empty(0))
    #: Thompson temper c; None means Thall–Wathen c = n / (2N).
    thompson_power: float | None = defaults.THOMPSON_POWER
    #: None, "fixed", "sqrt" or "match_best".
    control_rule: str | None = None
    control_fixed_share: float = 0.0
    min_prob: float = defaults.MIN_PROB
    max_prob: float = defaults.MAX_PROB
    burn_in_patients: int = defaults.BURN_IN_PATIENTS
    #: "simple" or "blocked".
    randomization: str = defaults.RANDOMIZATION
    #: Interim look counts (patients or observed outcomes), strictly increasing, each < N.
    look_counts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    looks_count_outcomes: bool = False
    efficacy_threshold: float | None = None
    efficacy_margin: float = defaults.DECISION_MARGIN
    futility_threshold: float | None = None
    futility_margin: float = defaults.DECISION_MARGIN
    stop_for_best_threshold: float | None = None
    drop_if_p_best_below: float | None = None
    max_per_arm: int | None = None
    #: "graduate", "stop_trial" or "new_control".
    on_efficacy: str = defaults.ON_EFFICACY

    # --- time-to-event endpoints (endpoint_kind "time_to_event") ---------------------
    #: "binary" or "time_to_event".
    endpoint_kind: str = "binary"
    #: Per arm: an object with cumulative_hazard(months) and inverse(hazard)
    #: (platsim.truth.survival); event times are drawn by inverse transform.
    survival_truths: tuple = ()
    #: Per arm exponential loss to follow-up per month, shape (n_arms,); empty = none.
    dropout_per_month: np.ndarray = field(default_factory=lambda: np.empty(0))
    #: Gamma(shape, rate) prior on each arm's hazard per month.
    prior_shape: float = defaults.GAMMA_PRIOR_SHAPE
    prior_rate: float = defaults.GAMMA_PRIOR_RATE
    #: Interim looks: "patients" (look_counts), "events" (look_counts) or "months"
    #: (look_months).
    look_kind: str = "patients"
    look_months: np.ndarray = field(default_factory=lambda: np.empty(0))
    #: Count only the control arm's events for event-driven looks / end.
    events_in_control: bool = False
    #: Final analysis: follow_up_months after the last enrolment, or at end_events events, or
    #: at calendar month end_months; never after max_duration_months.
    follow_up_months: float | None = None
    end_events: int | None = None
    end_months: float | None = None
    max_duration_months: float | None = None
    #: Interior cut points (months since entry) of a piecewise-exponential analysis model
    #: (empty = exponential); decisions use the hazards of piece `decision_piece`.
    cut_points_months: np.ndarray = field(default_factory=lambda: np.empty(0))
    decision_piece: int = -1

    # --- platform mechanics -------------------------------------------------------------
    #: Per arm: the arm may open once this many patients are enrolled / this calendar month
    #: is reached (both 0 = from the start), shape (n_arms,); empty = all from the start.
    open_patients: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    open_months: np.ndarray = field(default_factory=lambda: np.empty(0))
    #: At most this many experimental arms open at once (a queue in arm order); None = all.
    max_active_arms: int | None = None
    #: Compare each arm with the controls randomized while it was open (else all controls).
    concurrent_controls: bool = True
    #: Compare each arm with the control period by period (periods bounded by arm entries
    #: and exits), combining per-period contrasts (see engine/periods.py).
    period_adjusted: bool = False
    #: Time trend of every arm's truth by calendar month of entry: logit scale for binary
    #: endpoints, log hazard for time-to-event: + per_month · t + step · 1(t ≥ step_month).
    trend_per_month: float = 0.0
    trend_step_month: float | None = None
    trend_step: float = 0.0
    #: Biomarker subgroups within the trial: prevalence per group (G,) (empty = none);
    #: `eligible` (n_arms, G) which arms a patient of each group may be randomized to;
    #: `true_p_by_group` (n_arms, G) binary truths; `survival_truths_by_group` one tuple of
    #: G truths per arm.
    subgroup_prevalence: np.ndarray = field(default_factory=lambda: np.empty(0))
    eligible: np.ndarray = field(default_factory=lambda: np.empty((0, 0), dtype=bool))
    true_p_by_group: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    survival_truths_by_group: tuple = ()

    @property
    def record_margin(self) -> float:
        """Margin of the P(better than control) kept in the records and shown: the efficacy
        rule's, else the futility rule's, else 0."""
        if self.efficacy_threshold is not None:
            return self.efficacy_margin
        if self.futility_threshold is not None:
            return self.futility_margin
        return 0.0

    @property
    def has_subgroups(self) -> bool:
        return len(self.subgroup_prevalence) > 0

    @property
    def has_time_trend(self) -> bool:
        return self.trend_per_month != 0.0 or (
            self.trend_step_month is not None and self.trend_step != 0.0
        )

    def trend_shift(self, entry_months: np.ndarray) -> np.ndarray:
        """The trend's shift (logit or log-hazard scale) for patients entering then."""
        shift = self.trend_per_month * entry_months
        if self.trend_step_month is not None:
            shift = shift + self.trend_step * (entry_months >= self.trend_step_month)
        return shift

    @property
    def staggered(self) -> bool:
        """Whether some arm opens after the start or waits in a queue."""
        late = (len(self.open_patients) and np.any(self.open_patients > 0)) or (
            len(self.open_months) and np.any(self.open_months > 0)
        )
        return bool(late) or self.max_active_arms is not None

    @property
    def is_survival(self) -> bool:
        return self.endpoint_kind == "time_to_event"

    @property
    def n_arms(self) -> int:
        return len(self.arm_ids)

    @property
    def n_looks(self) -> int:
        """Number of analyses including the final one."""
        if self.is_survival and self.look_kind == "months":
            return len(self.look_months) + 1
        return len(self.look_counts) + 1
