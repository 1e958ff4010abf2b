"""Self-checks of the per-trial reference engine (tests/reference_engine.py).

The reference is what the fast engine is held to, so it is checked here against things
that do not depend on either implementation: exact binomial sums with a closed-form
P(p_1 > p_0), the allocation ratios, the accrual process, the look schedule and the
document's hand-computable rules.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, special, stats

from platsim.engine.draws import chunk_streams, patient_exponentials, patient_uniforms

_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

import reference_engine as ref  # noqa: E402
from platsim.engine import spec as codes  # noqa: E402
from platsim.engine.records import TrialRecords  # noqa: E402
from platsim.engine.spec import TrialSpec  # noqa: E402


def make_spec(**overrides) -> TrialSpec:
    """A 2-arm (control + 1) fixed 1:1 design without looks; override anything."""
    n_arms = len(overrides.get("true_p", (0.3, 0.5)))
    base = dict(
        arm_ids=tuple(f"arm{k}" for k in range(n_arms)),
        true_p=np.array([0.3, 0.5]),
        control_index=0,
        higher_is_better=True,
        max_patients=40,
        accrual_rate_per_month=5.0,
        fixed_ratios=np.full(n_arms, 1.0 / n_arms),
    )
    base.update(overrides)
    base["true_p"] = np.asarray(base["true_p"], dtype=float)
    if "arm_ids" not in overrides:
        base["arm_ids"] = tuple(f"arm{k}" for k in range(len(base["true_p"])))
    return TrialSpec(**base)


def traces(spec: TrialSpec, n_sims: int, seed: int) -> list[ref.TrialTrace]:
    return list(ref.iter_traces(spec, np.random.default_rng(seed), n_sims))


def p_better_closed_form(a1: float, b1: float, a0: float, b0: float) -> float:
    """P(X1 > X0) for X1 ~ Beta(a1, b1), X0 ~ Beta(a0, b0), integer a1 (exact finite sum)."""
    i = np.arange(int(a1))
    terms = (
        special.betaln(a0 + i, b0 + b1)
        - np.log(b1 + i)
        - special.betaln(1 + i, b1)
        - special.betaln(a0, b0)
    )
    return float(np.exp(terms).sum())


def within_mcse(estimate: float, exact: float, n: int, k: float = 4.0) -> bool:
    mcse = math.sqrt(max(exact * (1.0 - exact), 1e-12) / n)
    return abs(estimate - exact) <= k * mcse


# ---------------------------------------------------------------------------------------
# Random-number protocol
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("randomization", ["simple", "blocked"])
def test_draws_exactly_the_documented_arrays(randomization):
    # The chunk generator is used only to spawn the per-kind streams (docs/engine.md).
    spec = make_spec(
        randomization=randomization,
        look_counts=np.array([10, 20, 30]),
        efficacy_threshold=0.95,
    )
    n_sims = 7
    used = np.random.default_rng(123)
    ref.simulate_trials_reference(spec, used, n_sims)
    fresh = np.random.default_rng(123)
    fresh.spawn(6)
    assert used.bit_generator.state == fresh.bit_generator.state
    assert used.bit_generator.seed_seq.n_children_spawned == 6


def draws(spec, n_sims, seed):
    streams = chunk_streams(np.random.default_rng(seed))
    n = spec.max_patients
    return (
        patient_exponentials(streams["entry_gaps"], n_sims, n),
        patient_uniforms(streams["outcome"], n_sims, n),
        patient_uniforms(streams["allocation"], n_sims, n),
    )


def test_patient_draws_do_not_depend_on_the_maximum_sample_size():
    small, large = make_spec(max_patients=40), make_spec(max_patients=90)
    for a, b in zip(draws(small, 6, 3), draws(large, 6, 3), strict=True):
        np.testing.assert_array_equal(a, b[:, :40])


def test_trials_depend_only_on_their_rows_of_the_chunk():
    spec = make_spec(look_counts=np.array([10, 20, 30]), efficacy_threshold=0.9)
    gaps, outcome_u, allocation_u = draws(spec, 3, 5)
    whole = traces(spec, 3, seed=5)
    alone = ref.simulate_trial(spec, gaps[2], outcome_u[2], allocation_u[2])
    assert alone.arm == whole[2].arm
    assert alone.status == whole[2].status
    # Common random numbers: patient i responds iff outcome_u[i] < p of its arm.
    for i, k in enumerate(alone.arm[: alone.total_n]):
        assert alone.responds[i] == (outcome_u[2, i] < spec.true_p[k])


# ---------------------------------------------------------------------------------------
# Decisions against exact binomial sums
# ---------------------------------------------------------------------------------------


def exact_p_efficacy(p0, p1, n0, n1, threshold, a=1.0, b=1.0) -> float:
    """Σ over (y0, y1) of Binom(y0; n0, p0) Binom(y1; n1, p1) 1[P(p1 > p0 | y) > threshold]."""
    total = 0.0
    for y0 in range(n0 + 1):
        for y1 in range(n1 + 1):
            p = p_better_closed_form(a + y1, b + n1 - y1, a + y0, b + n0 - y0)
            if p > threshold:
                total += stats.binom.pmf(y0, n0, p0) * stats.binom.pmf(y1, n1, p1)
    return total


def test_p_efficacy_blocked_1_to_1_matches_exact_binomial_sum():
    # Blocked 1:1 without looks: exactly N/2 per arm, so the exact answer is a double sum.
    spec = make_spec(max_patients=40, randomization="blocked", efficacy_threshold=0.9)
    n_sims = 4000
    rec = ref.simulate_trials_reference(spec, np.random.default_rng(2024), n_sims)
    assert (rec.n_enrolled == 20).all()
    estimate = float((rec.status[:, 1] == codes.EFFICACY).mean())
    exact = exact_p_efficacy(0.3, 0.5, 20, 20, 0.9)
    assert 0.2 < exact < 0.8  # a discriminating operating point
    assert within_mcse(estimate, exact, n_sims), (estimate, exact)


def test_p_efficacy_simple_randomization_matches_exact_sum_over_arm_sizes():
    # Simple 1:1: the arm size is Binomial(N, 1/2) (arm 1 iff allocation_u >= 1/2).
    n_max = 24
    spec = make_spec(max_patients=n_max, true_p=(0.2, 0.5), efficacy_threshold=0.95)
    n_sims = 4000
    rec = ref.simulate_trials_reference(spec, np.random.default_rng(7), n_sims)
    exact = 0.0
    for n1 in range(n_max + 1):
        exact += stats.binom.pmf(n1, n_max, 0.5) * exact_p_efficacy(0.2, 0.5, n_max - n1, n1, 0.95)
    estimate = float((rec.status[:, 1] == codes.EFFICACY).mean())
    assert within_mcse(estimate, exact, n_sims), (estimate, exact)


def test_each_efficacy_decision_matches_closed_form_probability():
    spec = make_spec(max_patients=40, efficacy_threshold=0.9)
    rec = ref.simulate_trials_reference(spec, np.random.default_rng(11), 300)
    for s in range(rec.n_sims):
        n0, n1 = rec.n_observed[s]
        y0, y1 = rec.n_responses[s]
        exact = p_better_closed_form(1 + y1, 1 + n1 - y1, 1 + y0, 1 + n0 - y0)
        assert rec.p_better_than_control[s, 1] == pytest.approx(exact, abs=1e-7)
        assert (rec.status[s, 1] == codes.EFFICACY) == (exact > 0.9)
        assert rec.status[s, 0] == codes.NONE
        assert math.isnan(rec.p_better_than_control[s, 0])


def test_p_best_two_arms_is_p_better_and_lower_is_better_flips_it():
    alpha, beta = [3.0, 7.0], [9.0, 6.0]
    higher = ref.p_best(alpha, beta, [True, True], True)
    lower = ref.p_best(alpha, beta, [True, True], False)
    exact = p_better_closed_form(7, 6, 3, 9)  # P(p_1 > p_0)
    assert higher[1] == pytest.approx(exact, abs=1e-5)
    assert higher.sum() == pytest.approx(1.0, abs=1e-7)
    assert lower[0] == pytest.approx(exact, abs=1e-5)
    only = ref.p_best(alpha, beta, [False, True], True)
    assert only[0] == 0.0 and only[1] == pytest.approx(1.0, abs=1e-9)


# ---------------------------------------------------------------------------------------
# Allocation and randomization
# ---------------------------------------------------------------------------------------


def test_simple_randomization_follows_fixed_ratios():
    ratios = np.array([0.5, 0.3, 0.2])
    spec = make_spec(true_p=(0.3, 0.3, 0.3), max_patients=100, fixed_ratios=ratios)
    n_sims = 400
    rec = ref.simulate_trials_reference(spec, np.random.default_rng(3), n_sims)
    assert (rec.n_enrolled.sum(axis=1) == 100).all()
    share = rec.n_enrolled.mean(axis=0) / 100
    mcse = np.sqrt(ratios * (1 - ratios) / (100 * n_sims))
    assert np.all(np.abs(share - ratios) <= 4 * mcse), share
    np.testing.assert_allclose(rec.allocation_probs[:, 0], np.tile(ratios, (n_sims, 1)))


def test_blocked_randomization_gives_largest_remainder_counts_per_block():
    ratios = np.array([0.5, 0.25, 0.25])
    spec = make_spec(
        true_p=(0.3, 0.3, 0.3),
        max_patients=43,
        fixed_ratios=ratios,
        randomization="blocked",
        look_counts=np.array([7, 20]),
    )
    # Blocks of 7, 13 and 23 patients: 3.5/1.75/1.75 -> 3,1,1 + extras to arms 1, 2;
    # 6.5/3.25/3.25 -> 6,3,3 + the extra to arm 0; 11.5/5.75/5.75 -> 11,5,5 + arms 1, 2.
    expected = [[3, 2, 2], [7, 3, 3], [11, 6, 6]]
    for t in traces(spec, 20, seed=9):
        bounds = [*t.block_starts[1:], t.total_n]
        for j, (start, stop) in enumerate(zip(t.block_starts, bounds, strict=True)):
            counts = np.bincount(t.arm[start:stop], minlength=3).tolist()
            assert counts == expected[j]


def test_block_counts_and_ties():
    assert ref.block_counts(7, [0.5, 0.25, 0.25], [0.1, 0.2, 0.3]) == [3, 2, 2]
    # Three equal remainders, one extra: the largest tie_u wins.
    assert ref.block_counts(4, [1 / 3, 1 / 3, 1 / 3], [0.2, 0.9, 0.5]) == [1, 2, 1]
    assert ref.block_counts(5, [1 / 3, 1 / 3, 1 / 3], [0.2, 0.9, 0.5]) == [1, 2, 2]
    assert ref.block_counts(3, [0.0, 1.0, 0.0], [0.9, 0.1, 0.9]) == [0, 3, 0]


def test_simple_arm_is_searchsorted_right_and_clipped():
    pi = [0.25, 0.0, 0.75, 0.0]
    assert ref.simple_arm(pi, 0.0) == 0
    assert ref.simple_arm(pi, 0.2499) == 0
    assert ref.simple_arm(pi, 0.25) == 2  # side="right": the boundary goes up
    assert ref.simple_arm(pi, 0.999999) == 2
    assert ref.simple_arm([0.1, 0.2, 0.3, 0.4 - 1e-12], 1.0 - 1e-13) == 3  # clipped


def test_clamp_known_answers():
    # Max then min binds: 0.7 -> 0.6, rest 0.4 shared 2:1 -> 0.267, 0.133 -> 0.15, 0.25.
    out = ref.clamp([0.7, 0.2, 0.1], [True, True, True], 0.15, 0.6)
    np.testing.assert_allclose(out, [0.6, 0.25, 0.15])
    # A non-clampable control with a fixed share keeps it.
    out = ref.clamp([0.4, 0.55, 0.05], [False, True, True], 0.1, 1.0)
    np.testing.assert_allclose(out, [0.4, 0.5, 0.1])
    # No bounds: unchanged.
    assert ref.clamp([0.9, 0.1], [True, True], 0.0, 1.0) == [0.9, 0.1]


def test_thompson_allocation_is_p_best_to_the_power_n_over_2N():
    spec = make_spec(
        true_p=(0.2, 0.3, 0.5),
        control_index=None,
        max_patients=90,
        allocation_rule="thompson",
        thompson_power=None,
        look_counts=np.array([30, 60]),
    )
    for t in traces(spec, 5, seed=4):
        np.testing.assert_allclose(t.allocation[0], [1 / 3, 1 / 3, 1 / 3])  # c = 0
        for j, a in enumerate(t.analyses[:-1]):
            c = a.enrolled / (2 * spec.max_patients)
            weights = np.array(a.p_best) ** c
            np.testing.assert_allclose(t.allocation[j + 1], weights / weights.sum())


@pytest.mark.parametrize(
    ("rule", "control_share"),
    [("fixed", 0.4), ("sqrt", math.sqrt(3) / (math.sqrt(3) + 3)), ("match_best", None)],
)
def test_control_share_rules(rule, control_share):
    spec = make_spec(
        true_p=(0.3, 0.3, 0.4, 0.5),
        max_patients=80,
        allocation_rule="thompson",
        thompson_power=1.0,
        control_rule=rule,
        control_fixed_share=0.4,
        look_counts=np.array([40]),
    )
    t = traces(spec, 1, seed=8)[0]
    a = t.analyses[0]
    pi = t.allocation[1]
    w = np.array(a.p_best[1:])
    if rule == "match_best":
        q = w / w.sum()
        expected = np.concatenate([[q.max()], q]) / (1 + q.max())
    else:
        expected = np.concatenate([[control_share], (1 - control_share) * w / w.sum()])
    np.testing.assert_allclose(pi, expected)


def test_burn_in_uses_fixed_ratios_then_thompson():
    spec = make_spec(
        true_p=(0.2, 0.6),
        control_index=None,
        max_patients=60,
        allocation_rule="thompson",
        thompson_power=1.0,
        fixed_ratios=np.array([0.75, 0.25]),
        burn_in_patients=25,
        look_counts=np.array([20, 40]),
    )
    t = traces(spec, 1, seed=1)[0]
    np.testing.assert_allclose(t.allocation[0], [0.75, 0.25])
    np.testing.assert_allclose(t.allocation[1], [0.75, 0.25])  # 20 < 25 enrolled
    p = np.array(t.analyses[1].p_best)
    np.testing.assert_allclose(t.allocation[2], p / p.sum())


# ---------------------------------------------------------------------------------------
# Accrual
# ---------------------------------------------------------------------------------------


def test_entry_times_have_mean_gap_one_over_rate():
    spec = make_spec(max_patients=50, accrual_rate_per_month=4.0)
    n_sims = 2000
    rec = ref.simulate_trials_reference(spec, np.random.default_rng(6), n_sims)
    # No looks, no lag: the final analysis is at entry_{N-1} ~ Gamma(N, 1) / R.
    mean, sd = 50 / 4.0, math.sqrt(50) / 4.0
    assert abs(rec.duration_months.mean() - mean) <= 4 * sd / math.sqrt(n_sims)
    gaps = np.concatenate([np.diff([0.0, *t.entry]) for t in traces(spec, 200, seed=6)])
    assert abs(gaps.mean() - 0.25) <= 4 * 0.25 / math.sqrt(gaps.size)
    assert (gaps > 0).all()


def test_ramp_up_inverts_the_cumulative_intensity():
    rate, ramp = 6.0, 4.0
    s = np.cumsum(np.random.default_rng(0).standard_exponential(100))
    times = np.array(ref.entry_times(np.diff(s, prepend=0.0), rate, ramp))

    def cumulative_intensity(t):
        return rate * t * t / (2 * ramp) if t < ramp else rate * ramp / 2 + rate * (t - ramp)

    np.testing.assert_allclose([cumulative_intensity(t) for t in times], s, rtol=1e-12)
    # Expected duration E[Λ⁻¹(S_{N-1})], S_{N-1} ~ Gamma(N), against the simulation.
    n_max = 30
    spec = make_spec(
        max_patients=n_max,
        accrual_rate_per_month=rate,
        ramp_up_months=ramp,
        outcome_lag_months=1.5,
    )
    rec = ref.simulate_trials_reference(spec, np.random.default_rng(10), 1500)

    def inverse(x):
        return math.sqrt(2 * ramp * x / rate) if x < rate * ramp / 2 else x / rate + ramp / 2

    moments = [
        integrate.quad(lambda x, p=p: inverse(x) ** p * stats.gamma.pdf(x, n_max), 0, np.inf)[0]
        for p in (1, 2)
    ]
    sd = math.sqrt(moments[1] - moments[0] ** 2)
    expected = moments[0] + 1.5  # the final analysis waits for the lag
    assert abs(rec.duration_months.mean() - expected) <= 4 * sd / math.sqrt(1500)


# ---------------------------------------------------------------------------------------
# Looks, stopping and who gets randomized where
# ---------------------------------------------------------------------------------------


def multi_arm_spec(**overrides) -> TrialSpec:
    base = dict(
        true_p=(0.2, 0.2, 0.35, 0.5),
        max_patients=200,
        allocation_rule="thompson",
        thompson_power=None,
        look_counts=np.arange(25, 200, 25),
        efficacy_threshold=0.97,
        futility_threshold=0.05,
        on_efficacy="graduate",
    )
    base.update(overrides)
    return make_spec(**base)


def test_patient_looks_stop_at_look_counts():
    spec = multi_arm_spec(on_efficacy="stop_trial")
    counts = [*spec.look_counts.tolist(), spec.max_patients]
    ts = traces(spec, 150, seed=12)
    rec = ref.records_from_traces(spec, ts)
    assert set(rec.total_n.tolist()) <= set(counts)
    assert (rec.stop_reason != codes.STOP_MAX_PATIENTS).any()  # some trials stop early
    for s, t in enumerate(ts):
        done = rec.n_looks_done[s]
        assert rec.total_n[s] == counts[done - 1]
        assert rec.duration_months[s] == t.entry[rec.total_n[s] - 1]  # no lag
        for k in range(spec.n_arms):
            if rec.decision_look[s, k] >= 0:
                assert rec.decision_n[s, k] == counts[rec.decision_look[s, k]]
        if rec.stop_reason[s] == codes.STOP_EFFICACY:
            assert (rec.status[s] == codes.EFFICACY).any()
        # Allocation rows exist up to the last look done, NaN afterwards.
        rows = rec.allocation_probs[s]
        assert np.allclose(rows[:done].sum(axis=1), 1.0)
        assert np.isnan(rows[done:]).all()


def test_outcome_looks_happen_when_the_count_of_outcomes_is_known():
    spec = multi_arm_spec(
        look_counts=np.array([40, 80, 120]),
        looks_count_outcomes=True,
        outcome_lag_months=3.0,
        accrual_rate_per_month=10.0,
    )
    for t in traces(spec, 40, seed=13):
        for j, a in enumerate(t.analyses):
            if a.final:
                assert a.observed == a.enrolled == t.total_n
                assert a.time == t.entry[t.total_n - 1] + 3.0
                continue
            c = spec.look_counts[j]
            assert a.time == t.entry[c - 1] + 3.0
            assert a.observed == c
            assert a.enrolled == sum(1 for e in t.entry if e <= a.time)
            assert sum(a.n_observed) == c


def test_no_patient_is_randomized_to_an_arm_after_its_decision():
    spec = multi_arm_spec(min_prob=0.05)
    ts = traces(spec, 150, seed=14)
    rec = ref.records_from_traces(spec, ts)
    decided = 0
    for s, t in enumerate(ts):
        for k in range(spec.n_arms):
            look = rec.decision_look[s, k]
            if look < 0:
                continue
            decided += 1
            later = t.arm[rec.decision_n[s, k] : t.total_n]
            assert k not in later
            assert (rec.allocation_probs[s, look + 1 : rec.n_looks_done[s], k] == 0).all()
        # Every patient's arm had positive probability in its block.
        bounds = [*t.block_starts[1:], t.total_n]
        for j, (start, stop) in enumerate(zip(t.block_starts, bounds, strict=True)):
            for i in range(start, stop):
                assert t.allocation[j][t.arm[i]] > 0
    assert decided > 50
    assert (rec.status == codes.FUTILITY).any() and (rec.status == codes.EFFICACY).any()


def test_max_per_arm_caps_at_looks_and_ends_enrolment():
    spec = make_spec(
        true_p=(0.3, 0.3),
        control_index=None,
        max_patients=100,
        max_per_arm=30,
        look_counts=np.arange(10, 100, 10),
    )
    ts = traces(spec, 50, seed=15)
    rec = ref.records_from_traces(spec, ts)
    assert rec.capped.all()
    for s, t in enumerate(ts):
        # Enrolment ends at the first look where both arms have >= 30 patients.
        first = next(
            a for a in t.analyses if all(t.arm[: a.enrolled].count(k) >= 30 for k in (0, 1))
        )
        assert rec.total_n[s] == first.enrolled
        assert rec.stop_reason[s] == codes.STOP_MAX_PATIENTS
        assert t.analyses[-1].final and t.analyses[-1].enrolled == first.enrolled
        assert (rec.status[s] == codes.NONE).all()


def test_stop_for_best_and_drop_in_a_design_without_control():
    spec = make_spec(
        true_p=(0.25, 0.20, 0.30),
        control_index=None,
        higher_is_better=False,
        max_patients=600,
        accrual_rate_per_month=50.0,
        allocation_rule="thompson",
        thompson_power=0.5,
        look_counts=np.arange(150, 600, 50),
        stop_for_best_threshold=0.99,
        drop_if_p_best_below=0.01,
    )
    rec = ref.simulate_trials_reference(spec, np.random.default_rng(16), 60)
    for s in range(rec.n_sims):
        reason = rec.stop_reason[s]
        n_best = int((rec.status[s] == codes.BEST).sum())
        if reason in (codes.STOP_BEST_FOUND, codes.STOP_SINGLE_ARM):
            assert n_best == 1
            assert rec.selected_arm[s] == int(np.argmax(rec.status[s] == codes.BEST))
        else:
            assert reason == codes.STOP_MAX_PATIENTS and n_best == 0
        assert set(rec.status[s].tolist()) <= {codes.NONE, codes.DROPPED, codes.BEST}
        for k in np.flatnonzero(rec.status[s] == codes.DROPPED):
            assert rec.p_best[s, k] < 0.01
        if reason == codes.STOP_BEST_FOUND:
            assert rec.p_best[s].max() > 0.99
    # Lower is better: arm 1 (p = 0.20) is the usual winner, arm 2 (p = 0.30) never wins.
    selected = np.bincount(rec.selected_arm[rec.selected_arm >= 0], minlength=3)
    assert selected[1] >= 10 and selected[1] > 3 * selected[0] and selected[2] == 0
    assert np.isnan(rec.p_better_than_control).all() and np.isnan(rec.diff_estimate).all()


def test_new_control_supersedes_the_old_control():
    spec = multi_arm_spec(
        true_p=(0.2, 0.45, 0.25, 0.3),
        on_efficacy="new_control",
        futility_threshold=None,
        efficacy_threshold=0.95,
    )
    rec = ref.simulate_trials_reference(spec, np.random.default_rng(17), 60)
    switched = rec.final_control != 0
    assert switched.any()
    for s in np.flatnonzero(switched):
        assert rec.status[s, 0] == codes.SUPERSEDED
        assert rec.status[s, rec.final_control[s]] == codes.EFFICACY
        assert rec.selected_arm[s] == rec.final_control[s]
    assert (rec.status[~switched, 0] == codes.NONE).all()
    assert (rec.final_control[~switched] == 0).all()


def test_posterior_summaries_and_record_layout():
    spec = multi_arm_spec(outcome_lag_months=2.0)
    rec = ref.simulate_trials_reference(spec, np.random.default_rng(18), 30)
    assert isinstance(rec, TrialRecords)
    a = 1.0 + rec.n_responses
    b = 1.0 + rec.n_observed - rec.n_responses
    np.testing.assert_allclose(rec.post_mean, a / (a + b))
    np.testing.assert_allclose(rec.post_lower, stats.beta.ppf(0.025, a, b))
    np.testing.assert_allclose(rec.post_upper, stats.beta.ppf(0.975, a, b))
    assert (rec.n_observed <= rec.n_enrolled).all()
    assert (rec.n_enrolled.sum(axis=1) == rec.total_n).all()
    # Experimental arms never analysed together with a different control here, so the
    # difference is against arm 0 at the arm's last analysis.
    assert np.isnan(rec.diff_estimate[:, 0]).all()
    half = (rec.diff_upper - rec.diff_lower)[:, 1:] / 2
    np.testing.assert_allclose(rec.diff_estimate[:, 1:] - rec.diff_lower[:, 1:], half)
    assert (rec.diff_lower[:, 1:] < rec.diff_estimate[:, 1:]).all()
    assert rec.status.dtype == np.int8 and rec.decision_look.dtype == np.int16
    assert rec.allocation_probs.shape == (30, spec.n_looks, spec.n_arms)
    assert rec.selected_arm.dtype == np.int16 and rec.total_n.dtype == np.int32
