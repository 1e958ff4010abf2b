"""The decision rules applied at one analysis, as a pure function over arrays.

Shared by the simulation engine (thousands of trials at once) and by `platsim analyze`
(one real trial, a single row), so that a given posterior yields the same decisions in both.
Arrays are ``(n_rows, n_arms)``; the rules and their order are specified in docs/engine.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from platsim.engine import spec as codes
from platsim.engine.spec import TrialSpec


@dataclass(frozen=True)
class LookDecisions:
    """What one analysis decided, per row (trial)."""

    #: Status code set at this analysis per arm (codes.NONE where nothing was decided).
    new_status: np.ndarray
    #: Arms still in the analysis afterwards (the new control stays in).
    still_active: np.ndarray
    #: The control arm after this analysis (−1 without a control).
    control: np.ndarray
    #: Arms that reach max_per_arm enrolled patients now (stop enrolling, stay analysed).
    newly_capped: np.ndarray
    #: Whether the trial stops, and why (codes.STOP_*).
    stop: np.ndarray
    stop_reason: np.ndarray


def decide(
    spec: TrialSpec,
    *,
    active: np.ndarray,
    control: np.ndarray,
    p_best: np.ndarray,
    p_better_efficacy: np.ndarray | None,
    p_better_futility: np.ndarray | None,
    n_enrolled: np.ndarray,
    is_final: bool,
    waiting: np.ndarray | None = None,
) -> LookDecisions:
    """Apply efficacy, futility, drop, stop-for-best and cap rules (docs/engine.md).

    Parameters
    ----------
    spec : the design (thresholds, margins, on_efficacy, max_per_arm).
    active : (n_rows, n_arms) bool, arms in the analysis.
    control : (n_rows,) current control arm index, −1 without one.
    p_best : (n_rows, n_arms) P(arm is best among the active arms).
    p_better_efficacy, p_better_futility : (n_rows, n_arms) P(better than control by the
        efficacy / futility margin), NaN for the control; None when the rule is not used.
    n_enrolled : (n_rows, n_arms) patients randomized per arm.
    is_final : whether this is the final analysis (the trial stops after it).
    waiting : (n_rows,) bool, arms that have not opened yet but still may: the trial does not
        stop for lack of arms while some wait.
    """
    n_rows, n_arms = active.shape
    arm_index = np.arange(n_arms)[None, :]
    has_control = spec.control_index is not None
    is_control = arm_index == control[:, None]
    new_status = np.zeros(active.shape, dtype=np.int8)
    decided = np.zeros_like(active)
    experimental = active & ~is_control if has_control else active.copy()

    stop_efficacy = np.zeros(n_rows, dtype=bool)
    efficacy = np.zeros_like(active)
    if p_better_efficacy is not None:
        efficacy = experimental & (p_better_efficacy > spec.efficacy_threshold)
        if spec.on_efficacy == "new_control":
            switch = efficacy.any(axis=1)
            winner = np.argmax(np.where(efficacy, p_best, -1.0), axis=1)
            won = switch[:, None] & (arm_index == winner[:, None])
            old = switch[:, None] & is_control
            new_status[won] = codes.EFFICACY
            new_status[old] = codes.SUPERSEDED
            decided |= old
            control = np.where(switch, winner, control).astype(np.int16)
            # Only the new control is exempt from futility and dropping at this look.
            efficacy = won
        else:
            new_status[efficacy] = codes.EFFICACY
            decided |= efficacy
            stop_efficacy = efficacy.any(axis=1) & (spec.on_efficacy == "stop_trial")
    if p_better_futility is not None:
        futility = experimental & ~efficacy & (p_better_futility < spec.futility_threshold)
        new_status[futility] = codes.FUTILITY
        decided |= futility
    if spec.drop_if_p_best_below is not None:
        dropped = experimental & ~efficacy & ~decided & (p_best < spec.drop_if_p_best_below)
        new_status[dropped] = codes.DROPPED
        decided |= dropped
    still_active = active & ~decided
    stop_best = np.zeros(n_rows, dtype=bool)
    if spec.stop_for_best_threshold is not None:
        candidates = still_active & (p_best > spec.stop_for_best_threshold)
        stop_best = candidates.any(axis=1)
        best = np.argmax(np.where(candidates, p_best, -1.0), axis=1)
        new_status[stop_best[:, None] & (arm_index == best[:, None]) & candidates] = codes.BEST
    newly_capped = np.zeros_like(active)
    if spec.max_per_arm is not None:
        newly_capped = still_active & (n_enrolled >= spec.max_per_arm)

    someone_waits = waiting if waiting is not None else np.zeros(n_rows, dtype=bool)
    if has_control:
        single_left = np.zeros(n_rows, dtype=bool)
        none_left = ~(still_active & (arm_index != control[:, None])).any(axis=1)
        none_left &= ~someone_waits
    else:
        n_left = still_active.sum(axis=1)
        single_left = (n_left == 1) & ~stop_best & ~someone_waits
        none_left = (n_left == 0) & ~someone_waits
        new_status[single_left[:, None] & still_active] = codes.BEST

    stop = stop_efficacy | stop_best | single_left | none_left | is_final
    reason = np.full(n_rows, codes.STOP_MAX_PATIENTS, dtype=np.int8)
    reason = np.where(none_left, codes.STOP_NO_ARMS_LEFT, reason)
    reason = np.where(single_left, codes.STOP_SINGLE_ARM, reason)
    reason = np.where(stop_best, codes.STOP_BEST_FOUND, reason)
    reason = np.where(stop_efficacy, codes.STOP_EFFICACY, reason).astype(np.int8)
    return LookDecisions(new_status, still_active, control, newly_capped, stop, reason)


def arms_to_open(
    spec: TrialSpec,
    *,
    opened: np.ndarray,
    active: np.ndarray,
    control: np.ndarray,
    n_enrolled_total: np.ndarray,
    month: np.ndarray,
) -> np.ndarray:
    """Arms that open now: not yet opened, their `opens_at` condition met (patients enrolled
    and calendar month), and, for experimental arms, a free slot under `max_active_arms`
    (queue in arm order). Shared by the engine and `platsim analyze`.

    Parameters
    ----------
    opened, active : (n_rows, n_arms) bool.
    control : (n_rows,) control arm index (−1 without one).
    n_enrolled_total : (n_rows,) patients enrolled so far.
    month : (n_rows,) calendar month now.

    Returns
    -------
    (n_rows, n_arms) bool.
    """
    n_arms = opened.shape[1]
    open_patients = spec.open_patients if len(spec.open_patients) else np.zeros(n_arms)
    open_months = spec.open_months if len(spec.open_months) else np.zeros(n_arms)
    is_control = np.arange(n_arms)[None, :] == control[:, None]
    available = (
        ~opened
        & (n_enrolled_total[:, None] >= open_patients[None, :])
        & (month[:, None] >= open_months[None, :])
    )
    experimental = available & ~is_control
    if spec.max_active_arms is not None:
        n_open = (active & ~is_control).sum(axis=1)
        slots = np.maximum(spec.max_active_arms - n_open, 0)
        experimental &= np.cumsum(experimental, axis=1) <= slots[:, None]
    return experimental | (available & is_control)
