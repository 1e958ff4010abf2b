"""The scenario file's typed, immutable model (pydantic).

Structure only: each model checks its own fields. Checks that relate one part of the file
to another (arm ids used in truths and ratios, looks beyond the maximum sample size, ...)
live in `checks.py`, so that every problem is reported in one pass even when the
structure is broken elsewhere. Defaults come from `defaults.py`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_validator,
)

from platsim.scenario import defaults

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=64)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
OpenUnitInterval = Annotated[float, Field(gt=0.0, lt=1.0)]
PositiveFloat = Annotated[float, Field(gt=0.0)]
NonNegativeFloat = Annotated[float, Field(ge=0.0)]
# Counts and flags are strict: YAML already gives ints and booleans, and the cross-reference
# checks (checks.py) read the raw data, so a lax "100", 100.0 or `control: 1` accepted here
# would slip past them (a look at 150.0 patients beyond max_patients: "100" was accepted).
PositiveInt = Annotated[StrictInt, Field(gt=0)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Endpoint(_Frozen):
    """What is measured on each patient."""

    kind: Literal["binary", "time_to_event"]
    name: str
    unit: str | None = None
    #: Binary endpoints: whether a larger response probability is better (default true).
    #: Time-to-event endpoints: a lower hazard is always better; the key does not apply.
    higher_is_better: StrictBool = True
    #: Binary endpoints: months from enrolment until the patient's outcome is known.
    outcome_lag_months: NonNegativeFloat = defaults.OUTCOME_LAG_MONTHS
    #: Time-to-event endpoints: exponential loss to follow-up, per month (0 = none); a
    #: truth may override it per arm.
    dropout_per_month: NonNegativeFloat = defaults.DROPOUT_PER_MONTH

    @property
    def is_survival(self) -> bool:
        return self.kind == "time_to_event"


class OpensAt(_Frozen):
    """When an arm may open: after this many enrolled patients, or at this calendar month.

    Arms open at the first analysis at which the condition holds (and a slot is free under
    `max_active_arms`), so looks should be frequent enough for the timing wanted.
    """

    patients: NonNegativeInt | None = None
    month: NonNegativeFloat | None = None

    @model_validator(mode="after")
    def _one(self) -> OpensAt:
        if (self.patients is None) == (self.month is None):
            raise ValueError("give exactly one of patients or month")
        return self


class Arm(_Frozen):
    """One treatment arm."""

    id: Identifier
    label: str | None = None
    control: StrictBool = False
    source: str | None = None
    opens_at: OpensAt | None = None
    #: Biomarker subgroups whose patients may be randomized to this arm (default: all).
    eligible: list[str] | None = None

    @property
    def display_name(self) -> str:
        return self.label or self.id


class WeibullTruth(_Frozen):
    """Weibull event times: cumulative hazard (t / scale)^shape, or given by its median."""

    shape: PositiveFloat
    scale: PositiveFloat | None = None
    median: PositiveFloat | None = None

    @model_validator(mode="after")
    def _scale_or_median(self) -> WeibullTruth:
        if (self.scale is None) == (self.median is None):
            raise ValueError("give exactly one of scale or median (months)")
        return self


class ArmTruth(_Frozen):
    """The truth of one arm under one state of nature.

    Binary endpoints: ``p``. Time-to-event endpoints, one form: ``median`` (exponential,
    months), optionally with ``cure_fraction``; ``hazard_ratio`` relative to the control
    arm's truth, optionally with ``delay_months`` (HR 1 before); ``pieces`` (piecewise
    constant hazard per month: [start, end, hazard] rows from month 0 to .inf); ``weibull``.
    """

    p: Probability | None = None
    median: PositiveFloat | None = None
    hazard_ratio: PositiveFloat | None = None
    pieces: list[tuple[NonNegativeFloat, PositiveFloat, NonNegativeFloat]] | None = None
    weibull: WeibullTruth | None = None
    cure_fraction: OpenUnitInterval | None = None
    delay_months: PositiveFloat | None = None
    dropout_per_month: NonNegativeFloat | None = None
    source: str | None = None
    #: The truth in particular biomarker subgroups (default: the arm's truth above).
    by_subgroup: dict[str, ArmTruth] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> ArmTruth:
        forms = [
            k
            for k in ("p", "median", "hazard_ratio", "pieces", "weibull")
            if getattr(self, k) is not None
        ]
        if len(forms) != 1:
            raise ValueError(
                "give exactly one of p (binary), median, hazard_ratio, pieces or weibull"
                + (f", not {' and '.join(forms)}" if forms else "")
            )
        if self.cure_fraction is not None and self.median is None:
            raise ValueError("cure_fraction goes with median (of the uncured patients)")
        if self.delay_months is not None and self.hazard_ratio is None:
            raise ValueError("delay_months goes with hazard_ratio (the HR after the delay)")
        if self.pieces is not None:
            expected_start = 0.0
            for start, end, _ in self.pieces:
                if start != expected_start or end <= start:
                    raise ValueError(
                        "pieces must run contiguously from month 0: [0, a, h1], [a, b, h2], ..."
                    )
                expected_start = end
            if expected_start != float("inf"):
                raise ValueError("the last piece must end at .inf")
        return self


class Accrual(_Frozen):
    """Poisson accrual; the rate ramps up linearly from 0 over `ramp_up_months`."""

    rate_per_month: PositiveFloat
    ramp_up_months: NonNegativeFloat = defaults.RAMP_UP_MONTHS
    #: Months from screening to randomization (every entry is that much later).
    delay_months: NonNegativeFloat = 0.0
    source: str | None = None


class Prior(_Frozen):
    """Conjugate prior of each arm.

    Binary: Beta(alpha, beta) on the response probability. Time-to-event: Gamma(shape,
    rate) on the hazard per month (rate in patient-months).
    """

    alpha: PositiveFloat = defaults.BETA_PRIOR_ALPHA
    beta: PositiveFloat = defaults.BETA_PRIOR_BETA
    shape: PositiveFloat = defaults.GAMMA_PRIOR_SHAPE
    rate: PositiveFloat = defaults.GAMMA_PRIOR_RATE


class ControlShare(_Frozen):
    """How the control arm's allocation is set in adaptive designs (exactly one key)."""

    fixed: OpenUnitInterval | None = None
    sqrt: StrictBool | None = None
    match_best: StrictBool | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ControlShare:
        chosen = [
            k for k in ("fixed", "sqrt", "match_best") if getattr(self, k) not in (None, False)
        ]
        if len(chosen) != 1:
            raise ValueError(
                "give exactly one control rule: {fixed: share}, {sqrt: true} or {match_best: true}"
            )
        return self

    @property
    def rule(self) -> str:
        if self.fixed is not None:
            return "fixed"
        return "sqrt" if self.sqrt else "match_best"


class TrippaParameters(_Frozen):
    """Trippa et al. (2012): γ(n) = a (n/N)^b tempers P(better than control); the control's
    weight exp(max n_k − n_0)^η with η(n) = c n/N keeps it level with the best-enrolled arm.
    Defaults a = 10, b = 0.75 (public implementations) and c = 0.25 (as in the Trippa rule of
    the R package BayesianPlatformDesignTimeTrend)."""

    a: PositiveFloat = defaults.TRIPPA_A
    b: PositiveFloat = defaults.TRIPPA_B
    c: NonNegativeFloat = defaults.TRIPPA_C


class Allocation(_Frozen):
    """Randomization rule."""

    rule: Literal["fixed", "thompson", "trippa"]
    #: Fixed allocation ratios (rule fixed), also used during the burn-in (default equal).
    ratios: dict[str, PositiveFloat] | None = None
    #: Thompson temper c in P(best)^c; "n_over_2N" gives Thall–Wathen c = n / (2 N).
    power: PositiveFloat | Literal["n_over_2N"] = defaults.THOMPSON_POWER
    control: ControlShare | None = None
    trippa: TrippaParameters | None = None
    min_prob: Annotated[float, Field(ge=0.0, lt=1.0)] = defaults.MIN_PROB
    max_prob: Annotated[float, Field(gt=0.0, le=1.0)] = defaults.MAX_PROB
    burn_in_patients: NonNegativeInt = defaults.BURN_IN_PATIENTS
    randomization: Literal["simple", "blocked"] = defaults.RANDOMIZATION


class Looks(_Frozen):
    """Interim analysis schedule (one of the schedule keys, or none: final analysis only)."""

    every_patients: PositiveInt | None = None
    every_outcomes: PositiveInt | None = None
    every_events: PositiveInt | None = None
    at_patients: list[PositiveInt] | None = None
    at_outcomes: list[PositiveInt] | None = None
    at_events: list[PositiveInt] | None = None
    at_months: list[PositiveFloat] | None = None
    first_at: PositiveInt | None = None
    #: Time-to-event: count events in every arm (all) or in the control arm only.
    events_in: Literal["all", "control"] = "all"

    @model_validator(mode="after")
    def _one_schedule(self) -> Looks:
        given = [k for k in self.schedule_keys() if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give one look schedule, not {' and '.join(given)}")
        if self.first_at is not None and not given:
            raise ValueError("first_at needs every_patients, every_outcomes or every_events")
        if self.first_at is not None and not given[0].startswith("every_"):
            raise ValueError(
                "first_at only goes with every_patients, every_outcomes or every_events"
            )
        for key in ("at_patients", "at_outcomes", "at_events", "at_months"):
            values = getattr(self, key)
            if values is not None and list(values) != sorted(set(values)):
                raise ValueError(f"{key} must be strictly increasing")
        return self

    @staticmethod
    def schedule_keys() -> tuple[str, ...]:
        return (
            "every_patients",
            "every_outcomes",
            "every_events",
            "at_patients",
            "at_outcomes",
            "at_events",
            "at_months",
        )

    @property
    def counts_outcomes(self) -> bool:
        """Whether looks are triggered by observed outcomes (else by enrolled patients)."""
        return self.every_outcomes is not None or self.at_outcomes is not None

    @property
    def counts_events(self) -> bool:
        return self.every_events is not None or self.at_events is not None


class VersusControl(_Frozen):
    """A threshold on P(arm better than control by `margin`)."""

    threshold: OpenUnitInterval
    margin: Annotated[float, Field(gt=-1.0, lt=1.0)] = defaults.DECISION_MARGIN


class BestThreshold(_Frozen):
    """A threshold on P(arm is best among the active arms)."""

    threshold: OpenUnitInterval


class Decisions(_Frozen):
    """Rules applied at every look and at the final analysis."""

    efficacy: VersusControl | None = None
    futility: VersusControl | None = None
    stop_for_best: BestThreshold | None = None
    drop_if_p_best_below: OpenUnitInterval | None = None
    max_per_arm: PositiveInt | None = None
    on_efficacy: Literal["graduate", "stop_trial", "new_control"] = defaults.ON_EFFICACY


class TrialEnd(_Frozen):
    """Time-to-event: when the final analysis happens (one key)."""

    events: PositiveInt | None = None
    months: PositiveFloat | None = None

    @model_validator(mode="after")
    def _one(self) -> TrialEnd:
        if (self.events is None) == (self.months is None):
            raise ValueError("give exactly one of events or months")
        return self


class AnalysisModel(_Frozen):
    """Time-to-event analysis model.

    ``exponential``: one hazard per arm. ``piecewise``: one hazard per arm and piece
    ([0, c1), [c1, c2), ..., months since entry); decisions and allocation use the hazard
    ratio of piece ``decision_piece`` (default the last: the effect after the cut points,
    so that a delayed effect is not averaged away).
    """

    model: Literal["exponential", "piecewise"] = "exponential"
    cut_points_months: list[PositiveFloat] | None = None
    decision_piece: StrictInt = -1

    @model_validator(mode="after")
    def _cuts(self) -> AnalysisModel:
        cuts = self.cut_points_months
        if self.model == "piecewise":
            if not cuts:
                raise ValueError("a piecewise model needs cut_points_months")
            if list(cuts) != sorted(set(cuts)):
                raise ValueError("cut_points_months must be strictly increasing")
            n_pieces = len(cuts) + 1
            if not -n_pieces <= self.decision_piece < n_pieces:
                raise ValueError(f"decision_piece must index one of the {n_pieces} pieces")
        elif cuts:
            raise ValueError("cut_points_months needs model: piecewise")
        return self


class Design(_Frozen):
    """One candidate design."""

    description: str | None = None
    max_patients: PositiveInt
    prior: Prior = Prior()
    allocation: Allocation
    looks: Looks = Looks()
    decisions: Decisions = Decisions()
    #: Time-to-event: minimum follow-up after the last enrolment before the final analysis.
    follow_up_months: NonNegativeFloat | None = None
    #: Time-to-event: the final analysis at a number of events or a calendar month instead.
    end: TrialEnd | None = None
    #: Time-to-event: the trial ends (final analysis) at this calendar month at the latest.
    max_duration_months: PositiveFloat | None = None
    analysis: AnalysisModel = AnalysisModel()
    #: At most this many experimental arms open at once; the others wait in arm order.
    max_active_arms: PositiveInt | None = None
    #: Each arm against the controls randomized while it was open (concurrent), or all.
    control_comparison: Literal["concurrent", "pooled", "period_adjusted"] = "concurrent"


class TimeTrend(_Frozen):
    """A drift of every arm's truth with the calendar month of entry (same for all arms):
    logit scale for binary endpoints, log hazard for time-to-event ones."""

    per_month: float = 0.0
    step_at_month: NonNegativeFloat | None = None
    step: float = 0.0


class Subgroup(_Frozen):
    """A biomarker group of the screened population (master protocols)."""

    id: Identifier
    prevalence: Annotated[float, Field(gt=0.0, lt=1.0)]
    label: str | None = None
    source: str | None = None


class Screening(_Frozen):
    """The screening funnel of a master protocol (S1400: 53% of assigned never registered)."""

    never_register_share: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    #: Months from screening to registration (S1400: 0.9 at progression, 3.5 pre-screened).
    delay_months: NonNegativeFloat = 0.0
    source: str | None = None


class Substudy(_Frozen):
    """One sub-study of a master protocol: its own arms, truths and designs (its own
    control, looks and decisions), fed by the patients of its subgroups."""

    id: Identifier
    title: str | None = None
    description: str | None = None
    #: The biomarker subgroups it enrols; `non_match: true` instead takes every screened
    #: patient whose subgroup no other sub-study enrols.
    subgroups: list[str] | None = None
    non_match: StrictBool = False
    arms: Annotated[list[Arm], Field(min_length=2)]
    truths: Annotated[dict[Identifier, dict[str, ArmTruth]], Field(min_length=1)]
    designs: Annotated[dict[Identifier, Design], Field(min_length=1)]
    time_trends: dict[str, TimeTrend] = {}


class Scenario(_Frozen):
    """A validated scenario file: one trial, or a master protocol of sub-studies."""

    name: Identifier
    title: str
    description: str | None = None
    sources: list[str] = []
    endpoint: Endpoint
    arms: list[Arm] = []
    truths: dict[Identifier, dict[str, ArmTruth]] = {}
    #: Patients per month (screened patients in a master protocol).
    accrual: Accrual
    designs: dict[Identifier, Design] = {}
    #: Time trends by truth name (the truth's arms drift together).
    time_trends: dict[str, TimeTrend] = {}
    subgroups: list[Subgroup] = []
    screening: Screening | None = None
    substudies: list[Substudy] = []

    @model_validator(mode="after")
    def _trial_or_master(self) -> Scenario:
        if self.substudies:
            if self.arms or self.truths or self.designs:
                raise ValueError(
                    "a master protocol gives arms, truths and designs inside each sub-study"
                )
        else:
            if len(self.arms) < 2 or not self.truths or not self.designs:
                raise ValueError("a scenario needs arms (at least 2), truths and designs")
        return self

    @property
    def is_master_protocol(self) -> bool:
        return bool(self.substudies)

    @property
    def arm_ids(self) -> list[str]:
        return [arm.id for arm in self.arms]

    @property
    def control_id(self) -> str | None:
        return next((arm.id for arm in self.arms if arm.control), None)
