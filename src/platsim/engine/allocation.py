"""Allocation probabilities for the next patients, vectorized over trials.

All functions take and return arrays shaped ``(n_sims, n_arms)``; arms that are not
enrolling get probability 0 and every row with an enrolling arm sums to 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from platsim.engine.spec import TrialSpec


def _normalise(weights: np.ndarray) -> np.ndarray:
    totals = weights.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, weights / totals, 0.0)


def fixed_allocation(ratios: np.ndarray, enrolling: np.ndarray) -> np.ndarray:
    """Fixed ratios (n_arms,) restricted to the enrolling arms and renormalised."""
    return _normalise(np.where(enrolling, ratios[None, :], 0.0))


def thompson_weights(p_best: np.ndarray, power: np.ndarray | float, enrolling: np.ndarray):
    """P(best)^c over the enrolling arms, normalised; equal when every weight is 0.

    `power` is a scalar or an (n_sims, 1) array (Thall–Wathen c = n / 2N).
    """
    with np.errstate(divide="ignore"):
        weights = np.where(enrolling, np.power(p_best, power), 0.0)
    all_zero = weights.sum(axis=1, keepdims=True) <= 0
    weights = np.where(all_zero & enrolling, 1.0, weights)
    return _normalise(weights)


def apply_control_share(
    experimental_probs: np.ndarray,
    control_index: np.ndarray,
    enrolling: np.ndarray,
    rule: str,
    fixed_share: float = 0.0,
) -> np.ndarray:
    """Give the control arm its share and the experimental arms the rest.

    Parameters
    ----------
    experimental_probs : (n_sims, n_arms) weights of the experimental arms (the control's
        entry is ignored), each row normalised over the experimental arms.
    control_index : (n_sims,) current control arm per trial.
    enrolling : (n_sims, n_arms) bool.
    rule : "fixed" (control gets `fixed_share`), "sqrt" (control : each experimental arm =
        √K : 1, K enrolling experimental arms) or "match_best" (control gets the largest
        experimental share, then everything is renormalised, as adaptr's "match").
    """
    n_sims, n_arms = experimental_probs.shape
    rows = np.arange(n_sims)
    is_control = np.arange(n_arms)[None, :] == control_index[:, None]
    experimental = enrolling & ~is_control
    exp_probs = _normalise(np.where(experimental, experimental_probs, 0.0))
    control_enrolling = enrolling[rows, control_index]
    n_experimental = experimental.sum(axis=1)
    if rule == "fixed":
        control_share = np.full(n_sims, fixed_share)
    elif rule == "sqrt":
        root = np.sqrt(n_experimental)
        with np.errstate(invalid="ignore", divide="ignore"):
            control_share = np.where(n_experimental > 0, root / (root + n_experimental), 1.0)
    elif rule == "match_best":
        best = exp_probs.max(axis=1)
        control_share = np.where(n_experimental > 0, best / (1.0 + best), 1.0)
    else:
        raise ValueError(f"control rule must be fixed, sqrt or match_best; got {rule!r}.")
    control_share = np.where(control_enrolling, control_share, 0.0)
    control_share = np.where(n_experimental == 0, control_enrolling.astype(float), control_share)
    probs = exp_probs * (1.0 - control_share)[:, None]
    probs[rows, control_index] = control_share
    return probs


def clamp_probabilities(
    probs: np.ndarray, clampable: np.ndarray, min_prob: float, max_prob: float
) -> np.ndarray:
    """Clamp clampable arms to [min_prob, max_prob], renormalising the unclamped rest.

    Repeats until no clampable arm is out of range (at most n_arms rounds). Arms that are
    not clampable (not enrolling, or a control with a fixed share) keep their probability.
    """
    if min_prob <= 0.0 and max_prob >= 1.0:
        return probs
    probs = probs.copy()
    fixed_mass = np.where(clampable, 0.0, probs).sum(axis=1, keepdims=True)
    pinned = np.zeros_like(clampable)
    for _ in range(probs.shape[1]):
        low = clampable & ~pinned & (probs < min_prob)
        high = clampable & ~pinned & (probs > max_prob)
        if not (low.any() or high.any()):
            break
        probs = np.where(low, min_prob, np.where(high, max_prob, probs))
        pinned |= low | high
        free = clampable & ~pinned
        pinned_mass = np.where(pinned, probs, 0.0).sum(axis=1, keepdims=True)
        remaining = np.clip(1.0 - fixed_mass - pinned_mass, 0.0, None)
        free_mass = np.where(free, probs, 0.0).sum(axis=1, keepdims=True)
        n_free = free.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            rescaled = np.where(
                free_mass > 0, probs * remaining / free_mass, remaining / np.maximum(n_free, 1)
            )
        probs = np.where(free, rescaled, probs)
    # Infeasible clamps (e.g. too few arms left for max_prob) fall back to renormalising.
    return _normalise(probs)


def trippa_weights(
    p_better: np.ndarray,
    n_enrolled: np.ndarray,
    enrolling: np.ndarray,
    control: np.ndarray,
    information: np.ndarray,
    a: float,
    b: float,
    c: float,
) -> np.ndarray:
    """Trippa et al. (2012) allocation with the control matched to the best-enrolled arm.

    Experimental arms: w_k = p_k^γ, γ = a·(n/N)^b, normalised over the enrolling experimental
    arms; control: w_0 = (1/K)·exp(max_k n_k − n_0)^η, η = c·n/N (K enrolling experimental
    arms); then all renormalised. When n_0 = max n_k the control gets 1/(K + 1).

    Parameters
    ----------
    p_better : (n_rows, n_arms) P(arm better than control) (NaN for the control).
    n_enrolled : (n_rows, n_arms) patients randomized per arm so far.
    enrolling : (n_rows, n_arms) bool.
    control : (n_rows,) control arm index.
    information : (n_rows,) n / N, the share of the maximum sample size enrolled.
    """
    n_rows, n_arms = enrolling.shape
    rows = np.arange(n_rows)
    is_control = np.arange(n_arms)[None, :] == control[:, None]
    experimental = enrolling & ~is_control
    gamma = (a * information**b)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        weights = np.where(experimental, np.power(np.nan_to_num(p_better), gamma), 0.0)
    all_zero = weights.sum(axis=1, keepdims=True) <= 0
    weights = _normalise(np.where(all_zero & experimental, 1.0, weights))
    n_experimental = experimental.sum(axis=1)
    best_enrolled = np.where(experimental, n_enrolled, 0).max(axis=1)
    eta = c * information
    gap = best_enrolled - n_enrolled[rows, control]
    with np.errstate(divide="ignore", over="ignore"):
        control_weight = np.exp(eta * gap) / np.maximum(n_experimental, 1)
    control_weight = np.where(enrolling[rows, control], control_weight, 0.0)
    control_weight = np.where(n_experimental == 0, enrolling[rows, control] * 1.0, control_weight)
    weights[rows, control] = control_weight
    return _normalise(weights)


def allocation_probabilities(
    spec: TrialSpec,
    p_best: np.ndarray,
    enrolling: np.ndarray,
    control: np.ndarray,
    n_enrolled_total: np.ndarray,
    p_better: np.ndarray | None = None,
    n_enrolled: np.ndarray | None = None,
) -> np.ndarray:
    """The design's allocation for the next patients (docs/engine.md, "Allocation").

    Parameters
    ----------
    spec : the design.
    p_best : (n_rows, n_arms) P(best) among the active arms.
    enrolling : (n_rows, n_arms) bool, arms that may receive patients.
    control : (n_rows,) current control arm index (−1 without one).
    n_enrolled_total : (n_rows,) patients enrolled in the trial so far (burn-in, and
        c = n / 2N for Thall–Wathen).
    p_better, n_enrolled : (n_rows, n_arms) P(better than control, margin 0) and patients
        per arm; needed by the Trippa rule only.
    """
    in_burn_in = n_enrolled_total < spec.burn_in_patients
    fixed = fixed_allocation(spec.fixed_ratios, enrolling)
    if spec.allocation_rule == "fixed":
        return fixed
    if spec.allocation_rule == "trippa":
        if p_better is None or n_enrolled is None:
            raise ValueError("trippa allocation needs p_better and n_enrolled per arm.")
        information = n_enrolled_total / spec.max_patients
        probs = trippa_weights(
            p_better, n_enrolled, enrolling, control, information, *spec.trippa_abc
        )
        clampable = enrolling.copy()
        probs = clamp_probabilities(probs, clampable, spec.min_prob, spec.max_prob)
        return np.where(in_burn_in[:, None], fixed, probs)
    if spec.thompson_power is None:
        power: np.ndarray | float = (n_enrolled_total / (2.0 * spec.max_patients))[:, None]
    else:
        power = spec.thompson_power
    probs = thompson_weights(p_best, power, enrolling)
    clampable = enrolling.copy()
    if spec.control_rule is not None:
        probs = apply_control_share(
            probs, control, enrolling, spec.control_rule, spec.control_fixed_share
        )
        if spec.control_rule == "fixed":
            clampable &= np.arange(enrolling.shape[1])[None, :] != control[:, None]
    probs = clamp_probabilities(probs, clampable, spec.min_prob, spec.max_prob)
    return np.where(in_burn_in[:, None], fixed, probs)
