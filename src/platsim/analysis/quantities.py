"""The design's decision quantities, decisions and next allocation for one real trial.

numpy only. A *source* gives P(best) among a set of active arms and P(better than control
by a margin) per arm: `DrawSource` counts them in posterior draws (any model), and
`ExactSource` computes them with the engine's own quadrature and closed forms (the
conjugate model). `apply_design` then runs the engine's `decide` and
`allocation_probabilities` on one row — the simulator's code path, so a given posterior
yields the same decisions in both — and, in a platform with staggered entry, opens the arms
whose `opens_at` condition holds now, as the engine does after an analysis.

Each experimental arm is compared with a *reference*: the control's rate, or — concurrent
controls in a staggered platform — the rate of the control patients randomized since the
arm opened (its own posterior).

Shapes: draws ``(n_draws, n_arms)`` (or ``(n_chains, n_draws, n_arms)``); per-arm results
``(n_arms,)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from platsim.engine import spec as codes
from platsim.engine.allocation import allocation_probabilities
from platsim.engine.decisions import arms_to_open, decide
from platsim.engine.quadrature import (
    beta_p_best,
    beta_p_better,
    gamma_p_lowest,
    gamma_p_ratio_below,
)
from platsim.engine.spec import TrialSpec


def _lower_is_better(spec: TrialSpec) -> bool:
    return spec.is_survival or not spec.higher_is_better


def best_indicator(draws: np.ndarray, active: np.ndarray, lower_is_better: bool) -> np.ndarray:
    """1.0 where an arm has the best rate among the active arms in a draw (same shape)."""
    draws = np.asarray(draws, dtype=float)
    score = np.where(active, -draws if lower_is_better else draws, -np.inf)
    out = np.zeros(draws.shape)
    np.put_along_axis(out, np.argmax(score, axis=-1)[..., None], 1.0, axis=-1)
    return np.where(active, out, 0.0)


def better_indicator(
    draws: np.ndarray, reference: np.ndarray, margin: float, spec: TrialSpec
) -> np.ndarray:
    """1.0 where an arm beats its reference (control) by `margin` in a draw.

    Binary: p_k > p_ref + margin (p_k < p_ref − margin when lower is better). Time to event:
    hazard ratio λ_k / λ_ref < 1 − margin. `reference` broadcasts against `draws`.
    """
    draws = np.asarray(draws, dtype=float)
    reference = np.asarray(reference, dtype=float)
    if spec.is_survival:
        better = draws < (1.0 - margin) * reference
    elif spec.higher_is_better:
        better = draws > reference + margin
    else:
        better = draws < reference - margin
    return better.astype(float)


class DrawSource:
    """Decision quantities as frequencies in posterior draws.

    Parameters
    ----------
    rate : (..., n_arms) draws of each arm's rate.
    reference : (..., n_arms) draws of the control rate each arm is compared with (None:
        the control arm's own draws).
    control : control arm index, −1 without a control.
    """

    def __init__(self, spec: TrialSpec, rate, reference, control: int) -> None:
        self.spec, self.control = spec, control
        self.rate = np.asarray(rate, dtype=float)
        if reference is None and control >= 0:
            reference = self.rate[..., control : control + 1]
        self.reference = None if reference is None else np.asarray(reference, dtype=float)

    def p_best(self, active: np.ndarray) -> np.ndarray:
        flat = self.rate.reshape(-1, self.rate.shape[-1])
        return best_indicator(flat, active, _lower_is_better(self.spec)).mean(axis=0)

    def p_better(self, margin: float) -> np.ndarray:
        """(n_arms,), NaN for the control (all NaN without a control)."""
        n_arms = self.rate.shape[-1]
        if self.control < 0 or self.reference is None:
            return np.full(n_arms, np.nan)
        hits = better_indicator(self.rate, self.reference, margin, self.spec)
        p = hits.reshape(-1, n_arms).mean(axis=0)
        p[self.control] = np.nan
        return p


class ExactSource:
    """The engine's exact values for the conjugate model.

    `a`, `b`: each arm's posterior (Beta(α, β), or Gamma(shape, rate) of the decision
    piece's hazard), (n_arms,); `ref_a`, `ref_b`: the posterior of the control rate each arm
    is compared with (None: the control arm's own).
    """

    def __init__(self, spec: TrialSpec, a, b, ref_a, ref_b, control: int) -> None:
        self.spec, self.control = spec, control
        self.a, self.b = np.asarray(a, float), np.asarray(b, float)
        if ref_a is None and control >= 0:
            ref_a = np.full(self.a.shape, self.a[control])
            ref_b = np.full(self.b.shape, self.b[control])
        self.ref_a = None if ref_a is None else np.asarray(ref_a, float)
        self.ref_b = None if ref_b is None else np.asarray(ref_b, float)

    def p_best(self, active: np.ndarray) -> np.ndarray:
        act = np.asarray(active, bool)[None, :]
        if self.spec.is_survival:
            p = gamma_p_lowest(self.a[None], self.b[None], act)[0]
        else:
            p = beta_p_best(self.a[None], self.b[None], act, self.spec.higher_is_better)[0]
        return np.where(active, p, 0.0)

    def p_better(self, margin: float) -> np.ndarray:
        if self.control < 0 or self.ref_a is None:
            return np.full(self.a.shape, np.nan)
        if self.spec.is_survival:
            p = gamma_p_ratio_below(self.a, self.b, self.ref_a, self.ref_b, 1.0 - margin)
        else:
            p = beta_p_better(
                self.a, self.b, self.ref_a, self.ref_b, margin, self.spec.higher_is_better
            )
        p = np.array(p, dtype=float)
        p[self.control] = np.nan
        return p


def conjugate_parameters(spec: TrialSpec, successes, trials) -> tuple[np.ndarray, np.ndarray]:
    """Posterior parameters of the engine's conjugate model from counts.

    Binary: Beta(α + y, β + n − y) (`successes` y, `trials` n observed). Time to event:
    Gamma(a₀ + events, b₀ + exposure) of the decision piece.
    """
    successes, trials = np.asarray(successes, float), np.asarray(trials, float)
    if spec.is_survival:
        return spec.prior_shape + successes, spec.prior_rate + trials
    return spec.prior_alpha + successes, spec.prior_beta + (trials - successes)


@dataclass(frozen=True)
class DecisionQuantities:
    """P(best) and P(better than control) per arm, shape (n_arms,).

    `p_better_efficacy` / `p_better_futility` use the design's efficacy / futility margins
    (None when the design has no such rule or no control); NaN off the active experimental
    arms. `p_better` is the one shown (efficacy margin, else futility, else margin 0; None
    without a control).
    """

    p_best: np.ndarray
    p_better_efficacy: np.ndarray | None
    p_better_futility: np.ndarray | None
    p_better: np.ndarray | None


def decision_quantities(spec: TrialSpec, source, active: np.ndarray, control: int):
    """P(best) among `active` and P(better than control) by the design's margins."""
    active = np.asarray(active, dtype=bool)
    p_best = source.p_best(active)
    if control < 0:
        return DecisionQuantities(p_best, None, None, None)
    experimental = active & (np.arange(spec.n_arms) != control)

    def masked(margin: float) -> np.ndarray:
        return np.where(experimental, source.p_better(margin), np.nan)

    efficacy = masked(spec.efficacy_margin) if spec.efficacy_threshold is not None else None
    futility = None
    if spec.futility_threshold is not None:
        same = efficacy is not None and spec.futility_margin == spec.efficacy_margin
        futility = efficacy if same else masked(spec.futility_margin)
    shown = efficacy if efficacy is not None else futility
    if shown is None:
        shown = masked(0.0)
    return DecisionQuantities(p_best, efficacy, futility, shown)


def arms_opening(
    spec: TrialSpec,
    *,
    opened: np.ndarray,
    active: np.ndarray,
    control: int,
    n_enrolled_total: int,
    month: float,
) -> np.ndarray:
    """Arms whose `opens_at` condition holds now and that get a slot (the engine's
    `arms_to_open`, on one trial).

    Not yet opened, at least `open_patients` enrolled and at least `open_months` reached;
    experimental arms only while fewer than `max_active_arms` experimental arms are active,
    in arm order. (n_arms,) bool.
    """
    return arms_to_open(
        spec,
        opened=opened[None, :],
        active=active[None, :],
        control=np.array([control]),
        n_enrolled_total=np.array([n_enrolled_total]),
        month=np.array([float(month)]),
    )[0]


def initially_open(spec: TrialSpec, control: int) -> np.ndarray:
    """The arms open at the start of the trial (before any patient)."""
    none = np.zeros(spec.n_arms, dtype=bool)
    return arms_opening(
        spec, opened=none, active=none, control=control, n_enrolled_total=0, month=0.0
    )


@dataclass(frozen=True)
class DesignOutcome:
    """What the design's rules give at this analysis (per arm arrays (n_arms,))."""

    quantities: DecisionQuantities
    #: Status set now per arm (`platsim.engine.spec.STATUS_NAMES`; "none" = no decision).
    status: tuple[str, ...]
    still_active: np.ndarray
    #: Arms that stop enrolling (max_per_arm reached), before or at this analysis.
    capped: np.ndarray
    #: Arms that open after this analysis (staggered platforms).
    opens_now: np.ndarray
    control: int
    stop: bool
    #: Why the trial stops (`STOP_REASONS`), None when it goes on.
    stop_reason: str | None
    #: Allocation for the next patients (None when the trial stops or at the final analysis).
    next_allocation: np.ndarray | None


def apply_design(
    spec: TrialSpec,
    source,
    *,
    active: np.ndarray,
    opened: np.ndarray,
    control: int,
    n_enrolled: np.ndarray,
    month: float,
    is_final: bool,
) -> DesignOutcome:
    """Decisions and next allocation through the engine's own functions (one row).

    Parameters
    ----------
    source : `DrawSource` or `ExactSource`.
    active : (n_arms,) bool, arms in the analysis.
    opened : (n_arms,) bool, arms that have opened (closed or not); the others may still
        open (staggered platforms), so the trial does not stop for lack of arms.
    control : control arm index now (−1 without a control).
    n_enrolled : (n_arms,) patients randomized per arm so far.
    month : the analysis time (months since month 0), for `opens_at: {month: M}`.
    is_final : whether this is the trial's final analysis.
    """
    active = np.asarray(active, dtype=bool)
    opened = np.asarray(opened, dtype=bool)
    quantities = decision_quantities(spec, source, active, control)

    def row(x):
        return None if x is None else np.asarray(x, dtype=float)[None, :]

    n_row = np.asarray(n_enrolled, dtype=np.int64)[None, :]
    outcome = decide(
        spec,
        active=active[None, :],
        control=np.array([control], dtype=np.int16),
        p_best=row(quantities.p_best),
        p_better_efficacy=row(quantities.p_better_efficacy),
        p_better_futility=row(quantities.p_better_futility),
        n_enrolled=n_row,
        is_final=is_final,
        waiting=np.array([bool((~opened).any())]),
    )
    capped = np.zeros(spec.n_arms, dtype=bool)
    if spec.max_per_arm is not None:
        capped = (n_row[0] >= spec.max_per_arm) & (active | outcome.still_active[0])
    capped |= outcome.newly_capped[0]
    stop = bool(outcome.stop[0])
    new_control = int(outcome.control[0])
    still_active = outcome.still_active[0]
    opens_now = np.zeros(spec.n_arms, dtype=bool)
    allocation = allocation_p_best = None
    if not stop and not is_final:
        n_total = int(n_row.sum())
        allocation_p_best = quantities.p_best
        if spec.staggered:
            opens_now = arms_opening(
                spec,
                opened=opened,
                active=still_active,
                control=new_control,
                n_enrolled_total=n_total,
                month=month,
            )
            if opens_now.any():
                still_active = still_active | opens_now
                allocation_p_best = source.p_best(still_active)
        p_better_zero = None
        if spec.allocation_rule == "trippa":
            p_better_zero = row(source.p_better(0.0))
        allocation = allocation_probabilities(
            spec,
            row(allocation_p_best),
            (still_active & ~capped)[None, :],
            np.array([new_control], dtype=np.int16),
            np.array([n_total]),
            p_better=p_better_zero,
            n_enrolled=n_row,
        )[0]
    return DesignOutcome(
        quantities=quantities,
        status=tuple(codes.STATUS_NAMES[s] for s in outcome.new_status[0]),
        still_active=still_active,
        capped=capped,
        opens_now=opens_now,
        control=new_control,
        stop=stop,
        stop_reason=codes.STOP_REASONS[outcome.stop_reason[0]] if stop else None,
        next_allocation=allocation,
    )
