"""Calibrate a decision threshold to a target FWER, per-arm type I error or power.

Every candidate value is simulated with the same seed and chunk size (common random
numbers), so the simulated rate is a deterministic step function of the threshold and a
bracketing search converges to one of its steps. Each candidate is simulated honestly (the
adaptive path of a trial can change with the threshold); what makes the search short is
what a simulation's own records reveal:

- **Exact steps.** For ``efficacy.threshold`` (arms graduate or stop the trial), a
  simulation at t computes P(better than control) at every look; the values above t are
  exactly those of the arms declared effective, which the records keep. So every trial
  would run identically for any threshold in [t, U), U the smallest recorded P(better) of
  an arm declared effective. Likewise for ``stop_for_best.threshold`` with the P(best) of
  arms declared best, and, mirrored, for ``futility.threshold``: the trials are identical
  for any value in (L, t], L the largest recorded P(better) of an arm stopped for futility.
  The search ends when the last value on one side of the target and the first value on
  the other are adjacent steps: the answer is then the exact step of the simulated rate,
  not a value within a tolerance. (With ``on_efficacy: new_control``, or different
  efficacy and futility margins, the records do not hold every crossing value; the search
  then bisects to a tolerance instead.)
- **Predicted crossings.** From the same records, each trial's decision flips at a known
  threshold if its path stayed the same (exactly so for designs without interim looks);
  the value where these predicted flips meet the target is the next candidate, verified by
  re-simulation. Bisection on the logit scale takes over whenever the bracket did not
  halve in two steps, so the search never does worse than bisection.

The simulated rate falls as any of these thresholds rises (a stricter efficacy or
stop-for-best rule declares fewer winners; a higher futility threshold drops more arms).
Error targets ("rate ≤ target") take the least strict value that meets them, power
targets ("rate ≥ target") the strictest. An arm counts as declared a winner when its
status is ``efficacy`` or ``best``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Literal

import numpy as np
import yaml

from platsim.engine import spec as codes
from platsim.engine.records import TrialRecords
from platsim.engine.spec import TrialSpec
from platsim.errors import ArgumentError, UserInputError
from platsim.executors import ChunkExecutor, make_executor
from platsim.provenance import run_metadata
from platsim.results.metrics import COMPARISON_MONTHS, null_arms, trial_indicators
from platsim.scenario import defaults
from platsim.scenario.load import load_scenario, parse_scenario
from platsim.scenario.schema import Scenario
from platsim.scenario.yaml_lines import load_yaml_with_lines
from platsim.simulate import simulate_design_truth, write_atomically
from platsim.specs import build_trial_spec

#: Months at which two time-to-event truths are compared (as results.metrics does).

#: z for two-sided 95% intervals.
Z95 = 1.959963984540054

TargetKind = Literal["fwer", "alpha", "power"]


class CalibrationUnreachable(UserInputError):
    """The target rate is not attained anywhere in the parameter's range (exit 2)."""


@dataclass(frozen=True)
class Parameter:
    """A threshold that can be calibrated."""

    name: str
    #: The `TrialSpec` field it sets.
    spec_field: str
    #: Its key path under the design in the scenario file.
    yaml_path: tuple[str, ...]
    default_range: tuple[float, float]
    #: Which end of a simulated value's constant stretch the records reveal: "upper"
    #: ([t, U) for rules that fire when a probability exceeds t) or "lower" ((L, t] for
    #: rules that fire when it falls below t).
    revealed_side: Literal["upper", "lower"]

    @property
    def rule(self) -> str:
        return self.yaml_path[1]


PARAMETERS: dict[str, Parameter] = {
    p.name: p
    for p in (
        Parameter(
            "efficacy.threshold",
            "efficacy_threshold",
            ("decisions", "efficacy", "threshold"),
            (0.5, 0.9999),
            "upper",
        ),
        Parameter(
            "futility.threshold",
            "futility_threshold",
            ("decisions", "futility", "threshold"),
            (0.001, 0.5),
            "lower",
        ),
        Parameter(
            "stop_for_best.threshold",
            "stop_for_best_threshold",
            ("decisions", "stop_for_best", "threshold"),
            (0.5, 0.9999),
            "upper",
        ),
    )
}


@dataclass(frozen=True)
class Target:
    """What to calibrate to: ``fwer`` or ``alpha`` (rate ≤ value) or ``power`` (≥ value)."""

    kind: TargetKind
    value: float
    arm: str | None = None

    @property
    def is_error(self) -> bool:
        return self.kind != "power"

    def meets(self, rate: float) -> bool:
        return rate <= self.value if self.is_error else rate >= self.value


@dataclass(frozen=True)
class Measure:
    """How the calibrated rate is read from records: which arms, combined how."""

    #: Arm indices whose winner declarations count.
    arms: tuple[int, ...]
    #: "any": P(any of the arms declared a winner); "max": the largest per-arm rate.
    combine: Literal["any", "max"]
    #: What the rate is, in words (for output).
    description: str
    #: Short name: "FWER", "type I error of arm X", "power", ...
    label: str


@dataclass
class Evaluation:
    """One simulated candidate value."""

    value: float
    rate: float
    mcse: float
    #: Per-arm P(declared a winner) for the measured arms.
    arm_rates: dict[str, float]
    #: Thresholds over which every simulated trial is known to run identically:
    #: [known_low, known_high) for "upper" parameters, (known_low, known_high] for "lower".
    known_low: float
    known_high: float
    #: `platsim run`'s fwer (efficacy declarations of null arms only), NaN without null arms.
    run_fwer: float
    n_trials: int
    seed: int
    #: Per trial × measured arm: the threshold above which its winner declaration would
    #: vanish if the trial's path stayed the same (+inf: not governed; −inf: no winner).
    flip_values: np.ndarray | None = field(default=None, repr=False)

    def summary(self) -> dict[str, object]:
        return {
            "value": self.value,
            "rate": self.rate,
            "mcse": self.mcse,
            "arm_rates": self.arm_rates,
            "identical_trials_for_values": [self.known_low, self.known_high],
            "run_fwer": None if math.isnan(self.run_fwer) else self.run_fwer,
            "n_trials": self.n_trials,
            "seed": self.seed,
        }


@dataclass
class Check:
    """The calibrated value simulated on a fresh seed."""

    seed: int
    n_trials: int
    rate: float
    mcse: float
    #: √(MCSE on the calibration trials² + MCSE on the fresh trials²).
    combined_mcse: float

    #: The rate on the calibration trials at the same value.
    calibration_rate: float = math.nan

    def within(self, reference: float, k: float = 2.0) -> bool:
        """Whether |fresh rate − reference| ≤ k combined MCSE."""
        return abs(self.rate - reference) <= k * self.combined_mcse


@dataclass
class CalibrationResult:
    scenario: str
    scenario_file: str
    design: str
    truth: str
    parameter: str
    target: Target
    measure: Measure
    search_range: tuple[float, float]
    original_value: float | None
    #: The calibrated value, as written to a scenario file.
    value_text: str
    #: Every value in this interval gives the same simulated trials as `value`.
    interval: tuple[float, float]
    interval_closed: tuple[bool, bool]
    #: True when the interval is an exact step of the simulated rate (see module doc).
    exact: bool
    achieved: Evaluation
    #: The neighbouring step on the other side of the target.
    neighbour: Evaluation
    evaluations: list[Evaluation]
    #: Whether re-simulating at `value` gave exactly the rate of the search's evaluation.
    verified: bool
    check: Check | None = None
    meta: dict[str, object] = field(default_factory=dict)

    @property
    def value(self) -> float:
        return float(self.value_text)

    def interval_95(self) -> tuple[float, float]:
        """Wilson 95% interval of the achieved rate (Monte Carlo error only)."""
        return wilson_interval(self.achieved.rate, self.achieved.n_trials)

    def target_in_interval(self) -> bool:
        low, high = self.interval_95()
        return low <= self.target.value <= high

    def to_dict(self) -> dict[str, object]:
        low, high = self.interval_95()
        return {
            **self.meta,
            "design": self.design,
            "truth": self.truth,
            "parameter": self.parameter,
            "target": asdict(self.target),
            "measure": self.measure.description,
            "range": list(self.search_range),
            "original_value": self.original_value,
            "calibrated_value": self.value,
            "calibrated_value_text": self.value_text,
            "identical_trials_for_values": {
                "low": self.interval[0],
                "high": self.interval[1],
                "closed": list(self.interval_closed),
            },
            "exact_step": self.exact,
            "achieved": self.achieved.summary(),
            "achieved_95_interval": [low, high],
            "target_in_95_interval": self.target_in_interval(),
            "neighbouring_step": self.neighbour.summary(),
            "verified_by_resimulation": self.verified,
            "fresh_seed_check": None
            if self.check is None
            else {
                **asdict(self.check),
                "target_within_2_combined_mcse": self.check.within(self.target.value),
                "calibration_rate_within_2_combined_mcse": self.check.within(
                    self.check.calibration_rate
                ),
            },
            "evaluations": [e.summary() for e in self.evaluations],
        }


# ------------------------------------------------------------------------- helpers


def wilson_interval(p: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion p estimated from n trials."""
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def _logit(x: float) -> float:
    return math.log(x) - math.log1p(-x)


def _expit(y: float) -> float:
    return 1.0 / (1.0 + math.exp(-y))


def shortest_decimal(low: float, high: float, low_closed: bool, high_closed: bool) -> str:
    """The decimal with the fewest digits in the interval (as text), e.g. '0.9871'.

    Any value of the interval gives the same simulated trials, so the shortest is chosen:
    it reads well in a protocol and survives a round trip through the scenario file.
    """
    if high < low or (high == low and not (low_closed and high_closed)):
        raise ValueError(f"empty interval ({low}, {high})")
    for digits in range(1, 17):
        quantum = Decimal(1).scaleb(-digits)
        candidate = Decimal(low).quantize(quantum, rounding=ROUND_CEILING)
        if not low_closed and float(candidate) <= low:
            candidate += quantum
        value = float(candidate)
        above = value >= low if low_closed else value > low
        below = value <= high if high_closed else value < high
        if above and below:
            return format(candidate.normalize(), "f")
    return repr(low if low_closed else high)


def _truths_equal(spec: TrialSpec, a: int, b: int) -> bool:
    if spec.is_survival:
        ha = spec.survival_truths[a].cumulative_hazard(COMPARISON_MONTHS)
        hb = spec.survival_truths[b].cumulative_hazard(COMPARISON_MONTHS)
        return bool(np.allclose(ha, hb, rtol=1e-9, atol=0))
    return bool(np.isclose(spec.true_p[a], spec.true_p[b], rtol=0.0, atol=1e-12))


def truly_better_arms(spec: TrialSpec) -> np.ndarray:
    """Experimental arms truly better than the control, (n_arms,) bool: those that are not
    `null_arms` (the FWER's arms) in `platsim.results.metrics`."""
    if spec.control_index is None:
        return np.zeros(spec.n_arms, dtype=bool)
    better = ~null_arms(spec)
    better[spec.control_index] = False
    return better


def replace_arm(target: Target, arm: str) -> Target:
    return Target(target.kind, target.value, arm)


def resolve_measure(spec: TrialSpec, target: Target, truth: str) -> Measure:
    """Which arms the target's rate is about, under this truth (errors name the fix)."""
    arm_ids = spec.arm_ids
    control = spec.control_index
    if control is not None:
        nulls = np.flatnonzero(null_arms(spec))
        null_text = "experimental arms not better than the control"
    elif all(_truths_equal(spec, 0, k) for k in range(spec.n_arms)):
        nulls = np.arange(spec.n_arms)
        null_text = "arms, all equal under this truth (no control)"
    else:
        nulls = np.empty(0, dtype=int)
        null_text = ""
    names = [arm_ids[k] for k in nulls]
    if target.arm is not None and target.arm not in arm_ids:
        raise ArgumentError(f"--arm must be one of {', '.join(arm_ids)}; got {target.arm!r}.")
    if target.kind in ("fwer", "alpha"):
        if nulls.size == 0:
            raise ArgumentError(
                f"--target-{target.kind} needs a truth under which some experimental arm is "
                f"not better than the control (or, without a control, all arms are equal); "
                f"truth "
                f"{truth!r} has none. Use --truth null (or the scenario's null truth), or "
                "--target-power for a truth with effects."
            )
        if target.kind == "fwer":
            return Measure(
                tuple(int(k) for k in nulls),
                "any",
                f"FWER: P(any of {', '.join(names)} declared effective or best) under "
                f"truth {truth!r} ({null_text})",
                "FWER",
            )
        if target.arm is not None:
            k = arm_ids.index(target.arm)
            if k not in nulls:
                raise ArgumentError(
                    f"--arm must name an arm not better than the control under truth {truth!r} for "
                    f"--target-alpha ({', '.join(names)}); got {target.arm!r}."
                )
            return Measure(
                (k,),
                "any",
                f"type I error of {target.arm}: P({target.arm} declared effective or best) "
                f"under truth {truth!r}",
                f"type I error ({target.arm})",
            )
        if nulls.size == 1:
            return resolve_measure(spec, replace_arm(target, arm_ids[int(nulls[0])]), truth)
        return Measure(
            tuple(int(k) for k in nulls),
            "max",
            f"largest per-arm type I error among {', '.join(names)}: max over these arms of "
            f"P(arm declared effective or best) under truth {truth!r}",
            "max per-arm type I error",
        )
    if target.arm is not None:
        k = arm_ids.index(target.arm)
        if control is not None and k == control:
            raise ArgumentError(
                f"--arm must be an experimental arm for --target-power; got the control "
                f"{target.arm!r}."
            )
        return Measure(
            (k,),
            "any",
            f"power of {target.arm}: P({target.arm} declared effective or best) under truth "
            f"{truth!r}",
            f"power ({target.arm})",
        )
    better = np.flatnonzero(truly_better_arms(spec))
    if better.size == 0:
        raise ArgumentError(
            f"--target-power needs an experimental arm better than the control under truth "
            f"{truth!r}, or --arm naming the arm; truth {truth!r} has none."
        )
    better_names = ", ".join(arm_ids[k] for k in better)
    return Measure(
        tuple(int(k) for k in better),
        "any",
        f"power: P(any of {better_names} (better than the control) declared effective or "
        f"best) under truth {truth!r}",
        "power",
    )


def exact_steps_available(spec: TrialSpec, parameter: Parameter) -> bool:
    """Whether the records reveal every crossing value (see the module docstring)."""
    if parameter.name == "efficacy.threshold":
        return spec.on_efficacy in ("graduate", "stop_trial")
    if parameter.name == "futility.threshold":
        return spec.efficacy_threshold is None or spec.futility_margin == spec.efficacy_margin
    return True


def summarise(
    records: TrialRecords,
    spec: TrialSpec,
    parameter: Parameter,
    measure: Measure,
    value: float,
    *,
    exact: bool,
    seed: int,
) -> Evaluation:
    """The rate, its MCSE, the known-constant stretch and the flip values of one run."""
    status = records.status
    n = records.n_sims
    arms = list(measure.arms)
    winners = np.isin(status[:, arms], (codes.EFFICACY, codes.BEST))
    arm_rates = winners.mean(axis=0)
    if measure.combine == "any":
        rate = float(winners.any(axis=1).mean())
    else:
        rate = float(arm_rates.max())
    mcse = math.sqrt(rate * (1 - rate) / n)
    fwer = trial_indicators(records, spec).get("fwer")
    run_fwer = float(fwer.mean()) if fwer is not None else math.nan
    if parameter.name == "efficacy.threshold":
        governed, probability = codes.EFFICACY, records.p_better_than_control
    elif parameter.name == "stop_for_best.threshold":
        governed, probability = codes.BEST, records.p_best
    else:
        governed, probability = codes.FUTILITY, records.p_better_than_control
    known_low = known_high = value
    flip = None
    if parameter.revealed_side == "upper":
        crossed = (status == governed) & (probability > value)
        if exact:
            known_high = float(probability[crossed].min()) if crossed.any() else 1.0
        sub_crossed = crossed[:, arms]
        flip = np.where(
            sub_crossed, probability[:, arms], np.where(winners, np.inf, -np.inf)
        ).astype(float)
    elif exact:
        crossed = (status == governed) & (probability < value)
        known_low = float(probability[crossed].max()) if crossed.any() else 0.0
    return Evaluation(
        value=value,
        rate=rate,
        mcse=mcse,
        arm_rates={spec.arm_ids[k]: float(r) for k, r in zip(arms, arm_rates, strict=True)},
        known_low=known_low,
        known_high=known_high,
        run_fwer=run_fwer,
        n_trials=n,
        seed=seed,
        flip_values=flip,
    )


def predicted_crossing(
    evaluation: Evaluation, upper_bound: float, target: Target, combine: str
) -> tuple[float | None, float | None]:
    """(b, a): the smallest value in (value, upper_bound] at which the predicted rate is on
    the far side of the target, and the largest predicted step start below it (or None).

    The prediction assumes every trial keeps its path: a declaration governed by the
    parameter vanishes once the threshold reaches the probability that triggered it.
    """
    flips = evaluation.flip_values
    if flips is None or flips.size == 0:
        return None, None
    finite = flips[np.isfinite(flips)]
    candidates = np.unique(finite[(finite > evaluation.value) & (finite <= upper_bound)])
    if candidates.size == 0:
        return None, None
    n = flips.shape[0]
    if combine == "any":
        per_trial = np.sort(flips.max(axis=1))
        counts = n - np.searchsorted(per_trial, candidates, side="right")
        rates = counts / n
    else:
        columns = np.sort(flips, axis=0)
        counts = np.stack(
            [
                n - np.searchsorted(columns[:, j], candidates, side="right")
                for j in range(flips.shape[1])
            ]
        )
        rates = counts.max(axis=0) / n
    far = rates <= target.value if target.is_error else rates < target.value
    hits = np.flatnonzero(far)
    if hits.size == 0:
        return None, None
    i = int(hits[0])
    return float(candidates[i]), (float(candidates[i - 1]) if i > 0 else None)


# ------------------------------------------------------------------------- search


def search(
    evaluate: Callable[[float], Evaluation],
    parameter: Parameter,
    target: Target,
    measure: Measure,
    low: float,
    high: float,
    *,
    exact: bool,
    logit_tolerance: float = 1e-4,
    max_evaluations: int = 60,
) -> tuple[Evaluation, Evaluation, bool, list[Evaluation]]:
    """Bracket the target between adjacent steps of the simulated rate.

    Returns ``(lo, hi, exact, evaluations)``: the last evaluation below the crossing (rate
    on the target's "strict" side: above an error target, at least a power target) and the
    first above it, whether they are adjacent exact steps, and every evaluation in order.

    Raises
    ------
    CalibrationUnreachable
        When both ends of the range are on the same side of the target.
    """
    history: list[Evaluation] = []

    def run(value: float) -> Evaluation:
        result = evaluate(value)
        history.append(result)
        return result

    # "far" = the side of larger threshold values: rate ≤ target (error) / < target (power).
    def far(e: Evaluation) -> bool:
        return e.rate <= target.value if target.is_error else e.rate < target.value

    lo, hi = run(low), run(high)
    if far(lo) or not far(hi):
        raise _unreachable(parameter, target, measure, lo, hi)
    widths = [_logit(hi.value) - _logit(lo.value)]
    upper = parameter.revealed_side == "upper"
    while True:
        if exact and (
            (upper and lo.known_high >= hi.value) or (not upper and hi.known_low <= lo.value)
        ):
            return lo, hi, True, history
        # Exact mode runs until the steps are adjacent (each step at least halves the
        # bracket, and there are finitely many steps); the tolerance is for the other mode.
        if (not exact and widths[-1] <= logit_tolerance) or len(history) >= max_evaluations:
            return lo, hi, False, history
        mid = _expit((_logit(lo.value) + _logit(hi.value)) / 2)
        candidate = mid
        force_bisection = len(widths) >= 3 and widths[-1] > 0.5 * widths[-3]
        if upper and not force_bisection:
            b, a = predicted_crossing(lo, hi.value, target, measure.combine)
            if b is not None and b < hi.value:
                candidate = b
            elif b is not None and a is not None:  # predicted: hi is the first far step
                candidate = a
        if exact and upper:
            candidate = max(candidate, lo.known_high)
        elif exact:
            candidate = min(candidate, hi.known_low)
        if not lo.value < candidate < hi.value:
            candidate = mid
        if not lo.value < candidate < hi.value:
            return lo, hi, False, history  # floating-point resolution reached
        evaluation = run(candidate)
        if far(evaluation):
            hi = evaluation
        else:
            lo = evaluation
        widths.append(_logit(hi.value) - _logit(lo.value))


def _unreachable(
    parameter: Parameter, target: Target, measure: Measure, lo: Evaluation, hi: Evaluation
) -> CalibrationUnreachable:
    rates = sorted((lo.rate, hi.rate))
    relation = "at most" if target.is_error else "at least"
    if target.is_error:
        problem = (
            f"the {measure.label} is already {relation} {target.value:g} at the low end"
            if lo.rate <= target.value
            else f"the {measure.label} stays above {target.value:g} even at the high end"
        )
    else:
        problem = (
            f"the {measure.label} stays below {target.value:g} even at the low end"
            if lo.rate < target.value
            else f"the {measure.label} is still {relation} {target.value:g} at the high end"
        )
    return CalibrationUnreachable(
        f"target {measure.label} {'≤' if target.is_error else '≥'} {target.value:g} is "
        f"unreachable with {parameter.name} in [{lo.value:g}, {hi.value:g}]: {problem}. "
        f"Achievable {measure.label} in that range: {rates[0]:.4f} (at "
        f"{parameter.name} = {hi.value:g}) to {rates[1]:.4f} (at {lo.value:g}), from "
        f"{lo.n_trials} simulated trials (seed {lo.seed}). Choose a target in that range "
        f"or widen --range (within (0, 1))."
    )


# ------------------------------------------------------------------------- driver


def parse_range(text: str) -> tuple[float, float]:
    """'LO,HI' → (LO, HI) with 0 < LO < HI < 1."""
    parts = [part.strip() for part in text.split(",")]
    try:
        low, high = (float(part) for part in parts)
    except ValueError:
        raise ArgumentError(
            f"--range must be two numbers LO,HI with 0 < LO < HI < 1; got {text!r}."
        ) from None
    if not 0.0 < low < high < 1.0:
        raise ArgumentError(
            f"--range must be two numbers LO,HI with 0 < LO < HI < 1; got {text!r}."
        )
    return low, high


def calibrate(
    scenario_path: Path,
    *,
    design: str,
    truth: str,
    target: Target,
    parameter: str = "efficacy.threshold",
    search_range: tuple[float, float] | None = None,
    n_trials: int = defaults.N_TRIALS,
    seed: int = defaults.SEED,
    chunk_size: int = defaults.CHUNK_SIZE,
    check_seed: int | None = None,
    workers: int = 1,
    dask: str | None = None,
    on_evaluation: Callable[[Evaluation], None] | None = None,
) -> CalibrationResult:
    """Find the value of `parameter` in `design` that meets `target` under `truth`.

    Every candidate is simulated with `n_trials` trials from `seed` (common random
    numbers). With `check_seed`, the calibrated value is also simulated on fresh trials.
    """
    if parameter not in PARAMETERS:
        raise ArgumentError(
            f"--parameter must be one of {', '.join(PARAMETERS)}; got {parameter!r}."
        )
    param = PARAMETERS[parameter]
    if not 0.0 < target.value < 1.0:
        raise ArgumentError(
            f"--target-{target.kind} must be a probability in (0, 1); got {target.value}."
        )
    if n_trials <= 0:
        raise ArgumentError(f"--trials must be a positive integer; got {n_trials}.")
    scenario = load_scenario(scenario_path)
    spec = build_trial_spec(scenario, design, truth)
    original = getattr(spec, param.spec_field)
    if original is None:
        present = [p.name for p in PARAMETERS.values() if getattr(spec, p.spec_field) is not None]
        raise ArgumentError(
            f"--parameter must name a rule design {design!r} has "
            f"({', '.join(present) or 'it has none of ' + ', '.join(PARAMETERS)}); got "
            f"{parameter!r}: the design has no decisions.{param.rule}."
        )
    low, high = search_range if search_range is not None else param.default_range
    measure = resolve_measure(spec, target, truth)
    exact = exact_steps_available(spec, param)
    executor = make_executor(workers, dask)
    try:

        def evaluate(value: float, run_seed: int = seed) -> Evaluation:
            return _simulate(
                spec,
                param,
                measure,
                value,
                exact,
                run_seed,
                truth,
                n_trials,
                chunk_size,
                executor,
                on_evaluation,
            )

        lo, hi, exact_found, history = search(
            evaluate, param, target, measure, low, high, exact=exact
        )
        achieved, neighbour = (hi, lo) if target.is_error else (lo, hi)
        interval, closed = _answer_interval(param, target, lo, hi, exact_found)
        # Stay within the searched range (its ends were simulated, so they are closed).
        if interval[0] < low:
            interval, closed = (low, interval[1]), (True, closed[1])
        if interval[1] > high:
            interval, closed = (interval[0], high), (closed[0], True)
        value_text = shortest_decimal(*interval, *closed)
        verified = True
        if float(value_text) != achieved.value:
            # Simulate the value actually written: the same trials, if the step is exact.
            again = evaluate(float(value_text))
            history.append(again)
            verified = again.rate == achieved.rate and again.arm_rates == achieved.arm_rates
            achieved = again
        elif not exact_found:
            # Within the final bracket, prefer a short decimal when it meets the target too.
            short = _short_inside_bracket(lo, hi, target)
            if short is not None:
                again = evaluate(float(short))
                history.append(again)
                if target.meets(again.rate) == target.meets(achieved.rate):
                    value_text, achieved = short, again
        check = None
        if check_seed is not None:
            fresh = evaluate(float(value_text), check_seed)
            check = Check(
                seed=check_seed,
                n_trials=n_trials,
                rate=fresh.rate,
                mcse=fresh.mcse,
                combined_mcse=math.sqrt(achieved.mcse**2 + fresh.mcse**2),
                calibration_rate=achieved.rate,
            )
    finally:
        executor.close()
    meta = run_metadata(
        scenario, scenario_path, n_trials=n_trials, seed=seed, chunk_size=chunk_size
    )
    return CalibrationResult(
        scenario=scenario.name,
        scenario_file=str(scenario_path),
        design=design,
        truth=truth,
        parameter=param.name,
        target=target,
        measure=measure,
        search_range=(low, high),
        original_value=original,
        value_text=value_text,
        interval=interval,
        interval_closed=closed,
        exact=exact_found,
        achieved=achieved,
        neighbour=neighbour,
        evaluations=history,
        verified=verified,
        check=check,
        meta=meta,
    )


def _simulate(
    spec: TrialSpec,
    param: Parameter,
    measure: Measure,
    value: float,
    exact: bool,
    seed: int,
    truth: str,
    n_trials: int,
    chunk_size: int,
    executor: ChunkExecutor,
    on_evaluation: Callable[[Evaluation], None] | None,
) -> Evaluation:
    candidate = replace(spec, **{param.spec_field: value})
    records = simulate_design_truth(
        candidate,
        seed=seed,
        truth=truth,
        n_trials=n_trials,
        chunk_size=chunk_size,
        executor=executor,
    )
    evaluation = summarise(records, candidate, param, measure, value, exact=exact, seed=seed)
    if on_evaluation is not None:
        on_evaluation(evaluation)
    return evaluation


def _short_inside_bracket(lo: Evaluation, hi: Evaluation, target: Target) -> str | None:
    """A shorter decimal strictly between the bracket's ends on the answer's side, if any."""
    if target.is_error:
        text = shortest_decimal(lo.value, hi.value, False, True)
    else:
        text = shortest_decimal(lo.value, hi.value, True, False)
    answer = hi.value if target.is_error else lo.value
    return None if float(text) == answer else text


def _answer_interval(
    param: Parameter, target: Target, lo: Evaluation, hi: Evaluation, exact: bool
) -> tuple[tuple[float, float], tuple[bool, bool]]:
    """The values giving the same trials as the answer (see `search`)."""
    upper = param.revealed_side == "upper"
    if not exact:
        value = hi.value if target.is_error else lo.value
        return (value, value), (True, True)
    if target.is_error:  # the answer is hi's step
        if upper:
            return (hi.value, hi.known_high), (True, False)
        return (lo.value, hi.value), (False, True)
    if upper:  # power: the answer is lo's step
        return (lo.value, hi.value), (True, False)
    return (lo.known_low, lo.value), (False, True)


# ------------------------------------------------------------------------- scenario copy


def _value_span(text: str, key_path: tuple[str, ...]) -> tuple[int, int, int]:
    """(start index, end index, 1-based line) of the scalar at `key_path` in YAML `text`."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    for key in key_path:
        if not isinstance(node, yaml.MappingNode):
            raise ArgumentError(f"cannot find {'.'.join(key_path)} in the scenario file.")
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                node = value_node
                break
        else:
            raise ArgumentError(f"cannot find {'.'.join(key_path)} in the scenario file.")
    if not isinstance(node, yaml.ScalarNode):
        raise ArgumentError(f"{'.'.join(key_path)} in the scenario file is not a number.")
    return node.start_mark.index, node.end_mark.index, node.start_mark.line + 1


def _keep_comment_column(rest: str, growth: int) -> str:
    """`rest` (the text after the edited value) with the spaces before a trailing comment on
    the same line adjusted by −`growth`, so aligned comments stay aligned (≥ 2 spaces)."""
    line_end = rest.find("\n")
    line, after = (rest, "") if line_end < 0 else (rest[:line_end], rest[line_end:])
    match = re.search(r"( {2,})#", line)
    if match is None or growth == 0:
        return rest
    spaces = max(2, len(match.group(1)) - growth)
    return line[: match.start(1)] + " " * spaces + line[match.end(1) :] + after


def write_calibrated_scenario(
    source: Path, out: Path, design: str, parameter: str, value_text: str
) -> int:
    """Copy the scenario file to `out` with `parameter` of `design` set to `value_text`.

    Only the value's characters change; every other byte (comments, layout) is kept. The
    copy is validated, and refused if the edit changed anything but this one value (e.g.
    the value sits in a YAML anchor shared with other designs). Returns the edited line.
    """
    param = PARAMETERS[parameter]
    if Path(out).resolve() == Path(source).resolve():
        raise ArgumentError(
            f"--write-scenario must name a new file, not the input {source}; got {out}."
        )
    text = Path(source).read_text(encoding="utf-8")
    key_path = ("designs", design, *param.yaml_path)
    loaded = load_yaml_with_lines(text)
    line = loaded.lines.get(key_path)
    start, end, value_line = _value_span(text, key_path)
    if line is None or value_line != line:
        raise ArgumentError(
            f"{source}: designs.{design}.{'.'.join(param.yaml_path)} is not written on its "
            "own key's line (an alias or a multi-line value); edit the file by hand."
        )
    new_text = (
        text[:start]
        + value_text
        + _keep_comment_column(text[end:], len(value_text) - (end - start))
    )
    original = parse_scenario(text, str(source))
    edited = parse_scenario(new_text, str(out))
    _check_only_value_changed(original, edited, design, param, float(value_text), source)
    write_atomically(Path(out), lambda tmp: tmp.write_text(new_text, encoding="utf-8"))
    return line


def _check_only_value_changed(
    original: Scenario,
    edited: Scenario,
    design: str,
    param: Parameter,
    value: float,
    source: Path,
) -> None:
    rule = param.rule
    new_rule = getattr(edited.designs[design].decisions, rule)
    changed = [
        name
        for name in original.designs
        if name != design and original.designs[name] != edited.designs[name]
    ]
    expected_design = original.designs[design].model_copy(
        update={
            "decisions": original.designs[design].decisions.model_copy(
                update={
                    rule: getattr(original.designs[design].decisions, rule).model_copy(
                        update={"threshold": value}
                    )
                }
            )
        }
    )
    if (
        new_rule is None
        or new_rule.threshold != value
        or changed
        or edited.designs[design] != expected_design
        or edited.model_dump(exclude={"designs"}) != original.model_dump(exclude={"designs"})
    ):
        also = f" (it also changed design(s) {', '.join(changed)})" if changed else ""
        raise ArgumentError(
            f"{source}: setting designs.{design}.decisions.{rule}.threshold in place did not "
            f"give exactly that change{also}; the value is probably shared through a YAML "
            "anchor. Edit the file by hand."
        )


def describe_result(result: CalibrationResult) -> list[str]:
    """The result in sentences (printed by the CLI, kept in calibration.json's reader)."""
    target = result.target
    achieved = result.achieved
    neighbour = result.neighbour
    low, high = result.interval_95()
    relation = "≤" if target.is_error else "≥"
    label = result.measure.label
    a, b = result.interval
    left = "[" if result.interval_closed[0] else "("
    right = "]" if result.interval_closed[1] else ")"
    lines = [
        f"Calibrated {result.parameter} of design {result.design}: {result.value_text} "
        f"(was {result.original_value:g}), for {label} {relation} {target.value:g} under "
        f"truth {result.truth}.",
        f"Measured: {result.measure.description}.",
        f"Achieved {label}: {achieved.rate:.4f} (MCSE {achieved.mcse:.4f}; 95% interval "
        f"{low:.4f} to {high:.4f}; {achieved.n_trials} trials, seed {achieved.seed}).",
    ]
    if result.target_in_interval():
        lines.append(
            f"The target {target.value:g} lies inside this 95% interval: the calibrated design "
            "meets it within Monte Carlo error."
        )
    else:
        lines.append(
            f"The target {target.value:g} lies outside this 95% interval: at this step the "
            f"simulated {label} jumps from {neighbour.rate:.4f} to {achieved.rate:.4f}, so no "
            f"{result.parameter} gets closer to the target (with few patients the error "
            "rate is a coarse step function of the threshold)."
        )
    if result.exact:
        lines.append(
            f"Every {result.parameter} in {left}{a:.10g}, {b:.10g}{right} gives exactly these "
            f"simulated trials; the neighbouring step (at {neighbour.value:.10g}) gives "
            f"{neighbour.rate:.4f}, on the other side of the target."
        )
    else:
        lines.append(
            "Bisection to a tolerance (this design's records do not reveal every crossing "
            f"value); the neighbouring value {neighbour.value:.10g} gives {neighbour.rate:.4f}."
        )
    combined = math.sqrt(2.0) * achieved.mcse
    side = "meets" if target.is_error else "reaches"
    lines.append(
        f"The value was chosen on these trials (so it {side} the target on them by "
        f"construction); on fresh trials expect {achieved.rate:.4f} ± {2 * combined:.4f} "
        "(2 combined MCSE)."
        + ("" if result.check is not None else " Check with --check-seed SEED.")
    )
    if result.check is not None:
        check = result.check

        def verdict(reference: float) -> str:
            distance = abs(check.rate - reference)
            return f"{distance:.4f} ({'within' if check.within(reference) else 'NOT within'}"

        lines.append(
            f"Fresh seed {check.seed} ({check.n_trials} new trials): {label} {check.rate:.4f} "
            f"(MCSE {check.mcse:.4f}). Distance to the target {target.value:g}: "
            f"{verdict(target.value)} 2 combined MCSE = {2 * check.combined_mcse:.4f}); to the "
            f"rate on the calibration trials: {verdict(check.calibration_rate)})."
        )
    if label == "FWER" and not math.isnan(achieved.run_fwer) and achieved.run_fwer != achieved.rate:
        lines.append(
            f"Note: `platsim run` reports fwer = {achieved.run_fwer:.4f} for this design "
            "(efficacy declarations only; here arms are also declared best)."
        )
    if not result.verified:
        lines.append(
            "Warning: re-simulating at the written value did not reproduce the search's "
            "trials exactly; the achieved rate above is the re-simulated one."
        )
    return lines
