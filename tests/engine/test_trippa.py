"""Trippa et al. (2012) allocation against hand-computed values."""

from __future__ import annotations

import numpy as np

from platsim.engine.allocation import trippa_weights


def test_control_gets_one_over_k_plus_one_when_level_with_the_best_enrolled_arm():
    # Control (arm 0) has as many patients as the best-enrolled experimental arm.
    p_better = np.array([[np.nan, 0.9, 0.5, 0.2]])
    n = np.array([[30, 30, 20, 10]])
    enrolling = np.ones((1, 4), dtype=bool)
    probs = trippa_weights(p_better, n, enrolling, np.array([0]), np.array([0.5]), 10, 0.75, 0.25)
    assert np.isclose(probs[0, 0], 1 / 4)
    # Experimental arms: p^γ with γ = 10·0.5^0.75, normalised, times 3/4.
    gamma = 10 * 0.5**0.75
    w = np.array([0.9, 0.5, 0.2]) ** gamma
    np.testing.assert_allclose(probs[0, 1:], 0.75 * w / w.sum())


def test_control_catches_up_when_behind():
    # max n_k − n_0 = 10, η = 0.25·0.5 = 0.125: w_0 = (1/3)·exp(1.25).
    p_better = np.array([[np.nan, 0.6, 0.6, 0.6]])
    n = np.array([[20, 30, 30, 30]])
    probs = trippa_weights(
        p_better, n, np.ones((1, 4), dtype=bool), np.array([0]), np.array([0.5]), 10, 0.75, 0.25
    )
    w0 = np.exp(0.125 * 10) / 3
    np.testing.assert_allclose(probs[0, 0], w0 / (1 + w0))
    np.testing.assert_allclose(probs[0, 1:], (1 / 3) / (1 + w0))


def test_closed_arms_get_nothing_and_gamma_zero_is_equal():
    p_better = np.array([[np.nan, 0.99, 0.01, 0.5]])
    n = np.array([[0, 0, 0, 0]])
    enrolling = np.array([[True, True, False, True]])
    probs = trippa_weights(p_better, n, enrolling, np.array([0]), np.array([0.0]), 10, 0.75, 0.25)
    # n = 0: γ = 0 ⇒ equal experimental weights; control level ⇒ 1/(K+1) with K = 2.
    np.testing.assert_allclose(probs[0], [1 / 3, 1 / 3, 0.0, 1 / 3])
