"""The vectorized engine against exact values and its own contract (docs/engine.md)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import special, stats

from platsim.engine import spec as codes
from platsim.engine.spec import TrialSpec
from platsim.engine.trial import simulate_trials


def two_arm_spec(**overrides) -> TrialSpec:
    base = dict(
        arm_ids=("control", "treatment"),
        true_p=np.array([0.20, 0.20]),
        control_index=0,
        higher_is_better=True,
        max_patients=100,
        accrual_rate_per_month=10.0,
        allocation_rule="fixed",
        fixed_ratios=np.array([0.5, 0.5]),
        randomization="blocked",
        efficacy_threshold=0.975,
    )
    base.update(overrides)
    return TrialSpec(**base)


def exact_p_b_beats_a(alpha_a, beta_a, alpha_b, beta_b) -> np.ndarray:
    """P(p_B > p_A) for Beta posteriors with integer alpha_b (Evan Miller's closed form).

    Σ_{i=0}^{α_B−1} B(α_A+i, β_A+β_B) / ((β_B+i) B(1+i, β_B) B(α_A, β_A)), in logs.
    """
    alpha_a, beta_a, alpha_b, beta_b = np.broadcast_arrays(alpha_a, beta_a, alpha_b, beta_b)
    out = np.zeros(alpha_a.shape)
    for index in np.ndindex(alpha_a.shape):
        i = np.arange(int(alpha_b[index]))
        terms = (
            special.betaln(alpha_a[index] + i, beta_a[index] + beta_b[index])
            - np.log(beta_b[index] + i)
            - special.betaln(1 + i, beta_b[index])
            - special.betaln(alpha_a[index], beta_a[index])
        )
        out[index] = np.exp(terms).sum()
    return out


def exact_power_fixed_two_arm(n_per_arm: int, p_control: float, p_treatment: float, u: float):
    """P(declare efficacy) of a one-analysis 1:1 design: sum over binomial outcome pairs."""
    y = np.arange(n_per_arm + 1)
    y_c, y_t = np.meshgrid(y, y, indexing="ij")
    p_better = exact_p_b_beats_a(1 + y_c, 1 + n_per_arm - y_c, 1 + y_t, 1 + n_per_arm - y_t)
    weight = np.outer(
        stats.binom.pmf(y, n_per_arm, p_control), stats.binom.pmf(y, n_per_arm, p_treatment)
    )
    return float(weight[p_better > u].sum())


@pytest.mark.slow
@pytest.mark.parametrize(("p_control", "p_treatment"), [(0.20, 0.20), (0.20, 0.40)])
def test_fixed_two_arm_power_matches_exact_binomial_sum(p_control, p_treatment):
    # 20,000 trials, seed 11: the simulated P(efficacy) is within 4 MCSE of the exact sum.
    n_trials = 20_000
    spec = two_arm_spec(true_p=np.array([p_control, p_treatment]))
    records = simulate_trials(spec, np.random.default_rng(11), n_trials)
    assert (records.n_enrolled == 50).all()  # blocked 1:1 in one block
    simulated = (records.status[:, 1] == codes.EFFICACY).mean()
    exact = exact_power_fixed_two_arm(50, p_control, p_treatment, 0.975)
    mcse = np.sqrt(exact * (1 - exact) / n_trials)
    assert abs(simulated - exact) < 4 * mcse, (simulated, exact, mcse)


def test_same_seed_same_records_and_global_state_untouched():
    spec = two_arm_spec(
        randomization="simple",
        allocation_rule="thompson",
        look_counts=np.array([30, 60]),
        futility_threshold=0.05,
    )
    np.random.seed(123)  # noqa: NPY002 — the legacy global state must stay untouched
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    first = simulate_trials(spec, np.random.default_rng(5), 300)
    second = simulate_trials(spec, np.random.default_rng(5), 300)
    other = simulate_trials(spec, np.random.default_rng(6), 300)
    for field in dataclasses.fields(first):
        np.testing.assert_array_equal(getattr(first, field.name), getattr(second, field.name))
    assert not np.array_equal(first.n_enrolled, other.n_enrolled)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_decisions_happen_only_at_look_counts_or_the_end():
    looks = np.array([20, 40, 60, 80])
    spec = two_arm_spec(
        true_p=np.array([0.2, 0.5]),
        randomization="simple",
        look_counts=looks,
        futility_threshold=0.05,
    )
    records = simulate_trials(spec, np.random.default_rng(3), 2000)
    decided = records.decision_look >= 0
    allowed = np.append(looks, spec.max_patients)
    assert np.isin(records.decision_n[decided], allowed).all()
    np.testing.assert_array_equal(
        records.decision_n[decided], allowed[records.decision_look[decided]]
    )
    # A trial's size is the enrolment at its stopping look.
    stopped_early = records.total_n < spec.max_patients
    assert stopped_early.any()
    assert np.isin(records.total_n[stopped_early], looks).all()


def test_outcome_lag_delays_looks_and_overruns_enrolment():
    # Looks every 20 outcomes with a 3-month lag at 10 patients/month: about 30 more
    # patients are enrolled than observed at each look.
    spec = two_arm_spec(
        randomization="simple",
        look_counts=np.array([20, 40]),
        outcome_lag_months=3.0,
        looks_count_outcomes=True,
        true_p=np.array([0.2, 0.9]),
        efficacy_threshold=0.9,
    )
    records = simulate_trials(spec, np.random.default_rng(4), 4000)
    first_look = records.decision_look == 0
    assert first_look.any()
    overrun = records.decision_n[first_look] - 20
    # Poisson(rate × lag) = Poisson(30) patients arrive during the lag.
    assert abs(overrun.mean() - 30) < 4 * np.sqrt(30 / overrun.size)
    observed = records.n_observed.sum(axis=1)[first_look.any(axis=1)]
    assert (observed == 20).all()


def test_no_control_best_arm_design_declares_a_single_winner():
    spec = TrialSpec(
        arm_ids=("a", "b", "c"),
        true_p=np.array([0.25, 0.20, 0.30]),
        control_index=None,
        higher_is_better=False,
        max_patients=600,
        accrual_rate_per_month=20.0,
        allocation_rule="thompson",
        fixed_ratios=np.full(3, 1 / 3),
        thompson_power=0.5,
        look_counts=np.arange(100, 600, 100),
        stop_for_best_threshold=0.99,
        drop_if_p_best_below=0.01,
    )
    records = simulate_trials(spec, np.random.default_rng(8), 2000)
    n_best = (records.status == codes.BEST).sum(axis=1)
    assert (n_best <= 1).all()
    winners = n_best == 1
    np.testing.assert_array_equal(
        records.selected_arm[winners], np.argmax(records.status[winners] == codes.BEST, axis=1)
    )
    # Arm b (lowest event rate) is selected most often.
    assert np.bincount(records.selected_arm[winners], minlength=3).argmax() == 1
    assert (records.status == codes.EFFICACY).sum() == 0


def test_allocation_history_rows_sum_to_one_until_stop():
    spec = two_arm_spec(
        randomization="simple",
        allocation_rule="thompson",
        look_counts=np.array([25, 50, 75]),
        futility_threshold=0.05,
    )
    records = simulate_trials(spec, np.random.default_rng(9), 500)
    history = records.allocation_probs
    assert history.shape == (500, 4, 2)
    done = np.isfinite(history).all(axis=2)
    np.testing.assert_allclose(history[done].sum(axis=1), 1.0, atol=1e-12)
    assert done[:, 0].all()


def testcount_sorted_at_most_is_the_plain_count():
    # 500 sorted rows of widths 1–40 with ties (integer grid), values below, inside and
    # above each row's range: the binary search gives (row <= value).sum() exactly.
    from platsim.engine.trial import count_sorted_at_most

    rng = np.random.default_rng(61)
    for width in (1, 2, 7, 40):
        rows = np.sort(rng.integers(0, 12, (500, width)).astype(float), axis=1)
        value = rng.integers(-2, 15, 500).astype(float)
        expected = (rows <= value[:, None]).sum(axis=1)
        np.testing.assert_array_equal(count_sorted_at_most(rows, value), expected)


def test_record_margin_is_the_efficacy_margin_else_the_futility_margin_else_zero():
    spec = two_arm_spec(
        efficacy_threshold=0.99, efficacy_margin=0.1, futility_threshold=0.05, futility_margin=0.05
    )
    assert spec.record_margin == 0.1
    assert dataclasses.replace(spec, efficacy_threshold=None).record_margin == 0.05
    neither = dataclasses.replace(spec, efficacy_threshold=None, futility_threshold=None)
    assert neither.record_margin == 0.0
