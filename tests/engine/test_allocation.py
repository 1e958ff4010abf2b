"""Allocation rules against hand-computed values."""

from __future__ import annotations

import numpy as np

from platsim.engine.allocation import (
    apply_control_share,
    clamp_probabilities,
    fixed_allocation,
    thompson_weights,
)


def test_fixed_allocation_renormalises_over_enrolling_arms():
    ratios = np.array([2.0, 1.0, 1.0]) / 4
    enrolling = np.array([[True, True, True], [True, False, True]])
    np.testing.assert_allclose(
        fixed_allocation(ratios, enrolling), [[0.5, 0.25, 0.25], [2 / 3, 0, 1 / 3]]
    )


def test_thompson_weights_power_and_zero_rows():
    p_best = np.array([[0.64, 0.36, 0.0], [0.0, 0.0, 0.0]])
    enrolling = np.array([[True, True, True], [True, True, False]])
    probs = thompson_weights(p_best, 0.5, enrolling)
    np.testing.assert_allclose(probs[0], [0.8 / 1.4, 0.6 / 1.4, 0.0])
    np.testing.assert_allclose(probs[1], [0.5, 0.5, 0.0])  # all zero ⇒ equal


def test_control_shares():
    weights = np.array([[0.0, 0.5, 0.3, 0.2]])
    enrolling = np.ones((1, 4), dtype=bool)
    control = np.array([0])
    fixed = apply_control_share(weights, control, enrolling, "fixed", 0.25)
    np.testing.assert_allclose(fixed, [[0.25, 0.375, 0.225, 0.15]])
    root = apply_control_share(weights, control, enrolling, "sqrt")
    share = np.sqrt(3) / (np.sqrt(3) + 3)
    np.testing.assert_allclose(root, [[share, *(np.array([0.5, 0.3, 0.2]) * (1 - share))]])
    assert np.isclose(root[0, 0] / root[0, 1:].mean(), np.sqrt(3) * 1.0 / 1.0 * (1 / 1))
    match = apply_control_share(weights, control, enrolling, "match_best")
    np.testing.assert_allclose(match, [[0.5, 0.5, 0.3, 0.2]] / np.float64(1.5))


def test_clamping_pins_and_renormalises():
    probs = np.array([[0.02, 0.08, 0.9]])
    clamped = clamp_probabilities(probs, np.ones((1, 3), dtype=bool), 0.1, 0.75)
    # 0.02 → 0.1 and 0.08 → 0.1 pinned; 0.9 → 0.75 then 1 − 0.2 = 0.8 > 0.75 stays pinned:
    # the infeasible remainder is renormalised over the row.
    np.testing.assert_allclose(clamped.sum(), 1.0)
    assert clamped[0, 2] <= 0.8 + 1e-12
    feasible = clamp_probabilities(
        np.array([[0.01, 0.19, 0.8]]), np.ones((1, 3), dtype=bool), 0.05, 0.9
    )
    np.testing.assert_allclose(feasible, [[0.05, 0.19 * 0.95 / 0.99, 0.8 * 0.95 / 0.99]])
