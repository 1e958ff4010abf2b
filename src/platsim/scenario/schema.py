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

    kind: Literal["binary"]
    name: str
    unit: str | None = None
    #: Whether a larger value of the endpoint is better. Default: true for binary
    #: endpoints (response, disease control).
    higher_is_better: StrictBool = True
    #: Months from enrolment until the patient's binary outcome is known.
    outcome_lag_months: NonNegativeFloat = defaults.OUTCOME_LAG_MONTHS


class Arm(_Frozen):
    """One treatment arm."""

    id: Identifier
    label: str | None = None
    control: StrictBool = False
    source: str | None = None

    @property
    def display_name(self) -> str:
        return self.label or self.id


class BinaryTruth(_Frozen):
    """True response probability of one arm under one state of nature."""

    p: Probability
    source: str | None = None


class Accrual(_Frozen):
    """Poisson accrual; the rate ramps up linearly from 0 over `ramp_up_months`."""

    rate_per_month: PositiveFloat
    ramp_up_months: NonNegativeFloat = defaults.RAMP_UP_MONTHS
    source: str | None = None


class BetaPrior(_Frozen):
    """Beta(alpha, beta) prior on each arm's response probability."""

    alpha: PositiveFloat = defaults.BETA_PRIOR_ALPHA
    beta: PositiveFloat = defaults.BETA_PRIOR_BETA


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


class Allocation(_Frozen):
    """Randomization rule."""

    rule: Literal["fixed", "thompson"]
    #: Fixed allocation ratios (rule fixed), also used during the burn-in (default equal).
    ratios: dict[str, PositiveFloat] | None = None
    #: Thompson temper c in P(best)^c; "n_over_2N" gives Thall–Wathen c = n / (2 N).
    power: PositiveFloat | Literal["n_over_2N"] = defaults.THOMPSON_POWER
    control: ControlShare | None = None
    min_prob: Annotated[float, Field(ge=0.0, lt=1.0)] = defaults.MIN_PROB
    max_prob: Annotated[float, Field(gt=0.0, le=1.0)] = defaults.MAX_PROB
    burn_in_patients: NonNegativeInt = defaults.BURN_IN_PATIENTS
    randomization: Literal["simple", "blocked"] = defaults.RANDOMIZATION


class Looks(_Frozen):
    """Interim analysis schedule (one of the schedule keys, or none: final analysis only)."""

    every_patients: PositiveInt | None = None
    every_outcomes: PositiveInt | None = None
    at_patients: list[PositiveInt] | None = None
    at_outcomes: list[PositiveInt] | None = None
    first_at: PositiveInt | None = None

    @model_validator(mode="after")
    def _one_schedule(self) -> Looks:
        given = [k for k in self.schedule_keys() if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give one look schedule, not {' and '.join(given)}")
        if self.first_at is not None and not given:
            raise ValueError("first_at needs every_patients or every_outcomes")
        if self.first_at is not None and given[0] not in ("every_patients", "every_outcomes"):
            raise ValueError("first_at only goes with every_patients or every_outcomes")
        for key in ("at_patients", "at_outcomes"):
            values = getattr(self, key)
            if values is not None and list(values) != sorted(set(values)):
                raise ValueError(f"{key} must be strictly increasing")
        return self

    @staticmethod
    def schedule_keys() -> tuple[str, ...]:
        return ("every_patients", "every_outcomes", "at_patients", "at_outcomes")

    @property
    def counts_outcomes(self) -> bool:
        """Whether looks are triggered by observed outcomes (else by enrolled patients)."""
        return self.every_outcomes is not None or self.at_outcomes is not None


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


class Design(_Frozen):
    """One candidate design."""

    description: str | None = None
    max_patients: PositiveInt
    prior: BetaPrior = BetaPrior()
    allocation: Allocation
    looks: Looks = Looks()
    decisions: Decisions = Decisions()


class Scenario(_Frozen):
    """A validated scenario file."""

    name: Identifier
    title: str
    description: str | None = None
    sources: list[str] = []
    endpoint: Endpoint
    arms: Annotated[list[Arm], Field(min_length=2)]
    truths: Annotated[dict[Identifier, dict[str, BinaryTruth]], Field(min_length=1)]
    accrual: Accrual
    designs: Annotated[dict[Identifier, Design], Field(min_length=1)]

    @property
    def arm_ids(self) -> list[str]:
        return [arm.id for arm in self.arms]

    @property
    def control_id(self) -> str | None:
        return next((arm.id for arm in self.arms if arm.control), None)
