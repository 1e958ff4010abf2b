"""The design's decision quantities, decisions and next allocation for one real trial.

numpy only. Posterior draws of each arm's decision-scale rate (response probability, or
the hazard per month of the decision piece) give P(best) and P(better than control by a
margin); the conjugate posteriors give the same quantities exactly, with the engine's own
quadrature. Decisions and allocation then go through the engine's `decide` and
`allocation_probabilities` with one row: the code path of the simulator, so a given
posterior yields the same decisions in both.

Shapes: draws are ``(n_draws, n_arms)`` (or ``(n_chains, n_draws, n_arms)``, flattened);
per-arm results are ``(n_arms,)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from platsim.engine import spec as codes
from platsim.engine.allocation import allocation_probabilities
from platsim.engine.decisions import decide
from platsim.engine.quadrature import (
    beta_p_best,
    beta_p_better,
    gamma_p_lowest,
    gamma_p_ratio_below,
)
from platsim.engine.spec import TrialSpec


@dataclass(frozen=True)
class DecisionQuantities:
    """P(best) and P(better than control) per arm, shape (n_arms,).

    `p_better_efficacy` / `p_better_futility` use the design's efficacy / futility margins
    (None when the design has no such rule or no control); NaN for arms that are not
    active experimental arms. `p_better` is the one shown (efficacy margin, else futility,
    else margin 0; None without a control).
    """

    p_best: np.ndarray
    p_better_efficacy: np.ndarray | None
    p_better_futility: np.ndarray | None
    p_better: np.ndarray | None


def _flat(draws: np.ndarray) -> np.ndarray:
    draws = np.asarray(draws, dtype=float)
    return draws.reshape(-1, draws.shape[-1])


def best_indicator(draws: np.ndarray, active: np.ndarray, lower_is_better: bool) -> np.ndarray:
    """1.0 where an arm has the best rate among the active arms in a draw (same shape)."""
    draws = np.asarray(draws, dtype=float)
    score = -draws if lower_is_better else draws
    score = np.where(active, score, -np.inf)
    best = np.argmax(score, axis=-1)
    out = np.zeros(draws.shape)
    np.put_along_axis(out, best[..., None], 1.0, axis=-1)
    return np.where(active, out, 0.0)


def better_indicator(draws: np.ndarray, control: int, margin: float, spec: TrialSpec) -> np.ndarray:
    """1.0 where an arm beats the control by `margin` in a draw (same shape as draws).

    Binary: p_k > p_c + margin (p_k < p_c − margin when lower is better). Time to event:
    hazard ratio λ_k / λ_c < 1 − margin.
    """
    draws = np.asarray(draws, dtype=float)
    ref = draws[..., control : control + 1]
    if spec.is_survival:
        better = draws < (1.0 - margin) * ref
    elif spec.higher_is_better:
        better = draws > ref + margin
    else:
        better = draws < ref - margin
    return better.astype(float)


def _versus_control(spec: TrialSpec, control: int, active: np.ndarray, compute) -> tuple:
    """Efficacy / futility / shown P(better), each (n_arms,) with NaN off the experimental arms."""
    if control < 0:
        return None, None, None
    experimental = active & (np.arange(spec.n_arms) != control)

    def masked(margin: float) -> np.ndarray:
        return np.where(experimental, compute(margin), np.nan)

    efficacy = masked(spec.efficacy_margin) if spec.efficacy_threshold is not None else None
    futility = None
    if spec.futility_threshold is not None:
        same = efficacy is not None and spec.futility_margin == spec.efficacy_margin
        futility = efficacy if same else masked(spec.futility_margin)
    shown = efficacy if efficacy is not None else futility
    if shown is None:
        shown = masked(0.0)
    return efficacy, futility, shown


def quantities_from_draws(
    spec: TrialSpec, draws: np.ndarray, active: np.ndarray, control: int
) -> DecisionQuantities:
    """Decision quantities as posterior-draw frequencies.

    Parameters
    ----------
    spec : the design.
    draws : (..., n_arms) posterior draws of each arm's rate.
    active : (n_arms,) bool, arms in the analysis (P(best) is among them).
    control : current control arm index, −1 without a control.
    """
    flat = _flat(draws)
    lower = spec.is_survival or not spec.higher_is_better
    p_best = best_indicator(flat, active, lower).mean(axis=0)
    eff, fut, shown = _versus_control(
        spec, control, active, lambda m: better_indicator(flat, control, m, spec).mean(axis=0)
    )
    return DecisionQuantities(p_best, eff, fut, shown)


def conjugate_parameters(spec: TrialSpec, successes: np.ndarray, exposure: np.ndarray):
    """Posterior parameters per arm of the engine's conjugate model.

    Binary: Beta(α + y, β + n − y) with `successes` = y and `exposure` = n observed.
    Time to event: Gamma(a₀ + events, b₀ + exposure) of the decision piece.
    """
    if spec.is_survival:
        return spec.prior_shape + successes, spec.prior_rate + exposure
    return spec.prior_alpha + successes, spec.prior_beta + (exposure - successes)


def exact_quantities(
    spec: TrialSpec,
    successes: np.ndarray,
    exposure: np.ndarray,
    active: np.ndarray,
    control: int,
) -> DecisionQuantities:
    """The engine's exact values for the conjugate model (quadrature / closed forms).

    `successes`, `exposure` per arm (n_arms,): responses and observed patients (binary), or
    events and exposure in patient-months of the decision piece (time to event).
    """
    a, b = conjugate_parameters(spec, np.asarray(successes, float), np.asarray(exposure, float))
    a, b, act = a[None, :], b[None, :], np.asarray(active, bool)[None, :]
    if spec.is_survival:
        p_best = gamma_p_lowest(a, b, act)[0]

        def better(margin: float) -> np.ndarray:
            c = max(control, 0)
            return gamma_p_ratio_below(a, b, a[:, c : c + 1], b[:, c : c + 1], 1.0 - margin)[0]
    else:
        p_best = beta_p_best(a, b, act, spec.higher_is_better)[0]

        def better(margin: float) -> np.ndarray:
            c = max(control, 0)
            return beta_p_better(
                a, b, a[:, c : c + 1], b[:, c : c + 1], margin, spec.higher_is_better
            )[0]

    p_best = np.where(active, p_best, 0.0)
    eff, fut, shown = _versus_control(spec, control, np.asarray(active, bool), better)
    return DecisionQuantities(p_best, eff, fut, shown)


@dataclass(frozen=True)
class DesignOutcome:
    """What the design's rules give at this analysis (per arm arrays (n_arms,))."""

    #: Status set now per arm (names from `platsim.engine.spec.STATUS_NAMES`; "none" = no
    #: decision).
    status: tuple[str, ...]
    still_active: np.ndarray
    #: Arms that stop enrolling (max_per_arm reached), before or at this analysis.
    capped: np.ndarray
    control: int
    stop: bool
    #: Why the trial stops (`STOP_REASONS`), None when it goes on.
    stop_reason: str | None
    #: Allocation probabilities for the next patients (None when the trial stops or at the
    #: final analysis).
    next_allocation: np.ndarray | None


def apply_design(
    spec: TrialSpec,
    quantities: DecisionQuantities,
    *,
    active: np.ndarray,
    control: int,
    n_enrolled: np.ndarray,
    is_final: bool,
) -> DesignOutcome:
    """Decisions and next allocation through the engine's own functions (one row).

    Parameters
    ----------
    active : (n_arms,) bool, arms in the analysis.
    control : control arm index now (−1 without a control).
    n_enrolled : (n_arms,) patients randomized per arm so far.
    is_final : whether this is the trial's final analysis.
    """
    row = lambda x: None if x is None else np.asarray(x, dtype=float)[None, :]  # noqa: E731
    active_row = np.asarray(active, dtype=bool)[None, :]
    n_row = np.asarray(n_enrolled, dtype=np.int64)[None, :]
    control_row = np.array([control], dtype=np.int16)
    outcome = decide(
        spec,
        active=active_row,
        control=control_row,
        p_best=row(quantities.p_best),
        p_better_efficacy=row(quantities.p_better_efficacy),
        p_better_futility=row(quantities.p_better_futility),
        n_enrolled=n_row,
        is_final=is_final,
    )
    already_capped = (
        n_row >= spec.max_per_arm if spec.max_per_arm is not None else np.zeros_like(active_row)
    )
    capped = (already_capped & active_row) | outcome.newly_capped
    stop = bool(outcome.stop[0])
    allocation = None
    new_control = int(outcome.control[0])
    if not stop and not is_final:
        enrolling = outcome.still_active & ~capped
        allocation = allocation_probabilities(
            spec,
            row(quantities.p_best),
            enrolling,
            np.array([new_control], dtype=np.int16),
            n_row.sum(axis=1),
        )[0]
    return DesignOutcome(
        status=tuple(codes.STATUS_NAMES[s] for s in outcome.new_status[0]),
        still_active=outcome.still_active[0],
        capped=capped[0],
        control=new_control,
        stop=stop,
        stop_reason=codes.STOP_REASONS[outcome.stop_reason[0]] if stop else None,
        next_allocation=allocation,
    )
