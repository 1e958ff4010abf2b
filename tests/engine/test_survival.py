"""The time-to-event engine against its contract (docs/engine.md, "Time-to-event trials").

Three kinds of checks:
- exact: trials recomputed here from the same random numbers (the documented protocol:
  child streams for entry gaps, event Exp(1), allocation uniforms and dropout Exp(1),
  drawn patient-major), for fixed 1:1 simple
  randomization, where every patient's arm is known in advance (allocation_u ≥ 1/2 ⇒
  treatment), so the analysis times, events, exposures and posteriors follow directly
  from the contract;
- statistical: expected events and exposure by a calendar time under Poisson accrual, the
  power of a fixed event-driven design (Schoenfeld), the type I error under HR 1, and a
  delayed effect analysed with and without a cut point. Each states its seed and number of
  trials; tolerances are 4 Monte Carlo standard errors (MCSE) plus, where the reference is
  itself an approximation, a stated allowance;
- the closed-form P(HR < bound) for zero-event arms against draws.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from scipy import optimize, special, stats

from platsim.engine import spec as codes
from platsim.engine.accrual import entry_times_months
from platsim.engine.quadrature import gamma_p_ratio_below
from platsim.engine.spec import TrialSpec
from platsim.engine.survival_data import (
    calendar_time_of_event,
    events_and_exposure,
    follow_up,
    observable_event_month,
)
from platsim.engine.trial import simulate_trials
from platsim.truth import survival as sv

LN2 = np.log(2.0)
CONTROL = sv.Exponential.from_median(12.0)


def tte_spec(**overrides) -> TrialSpec:
    """A 1:1 two-arm time-to-event design (fixed allocation, simple randomization)."""
    base = dict(
        arm_ids=("control", "treatment"),
        true_p=np.full(2, np.nan),
        control_index=0,
        higher_is_better=False,
        max_patients=200,
        accrual_rate_per_month=20.0,
        allocation_rule="fixed",
        fixed_ratios=np.array([0.5, 0.5]),
        randomization="simple",
        efficacy_threshold=0.975,
        endpoint_kind="time_to_event",
        survival_truths=(CONTROL, sv.ProportionalHazards(CONTROL, 0.7)),
        dropout_per_month=np.zeros(2),
        prior_shape=0.001,
        prior_rate=0.001,
        follow_up_months=6.0,
    )
    base.update(overrides)
    return TrialSpec(**base)


def efficacy_rate(records) -> np.ndarray:
    return records.status[:, 1] == codes.EFFICACY


# ---------------------------------------------------------------------------------------------
# The contract recomputed from the same random numbers
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Patients:
    entry: np.ndarray  # calendar months
    arm: np.ndarray  # 0 control, 1 treatment
    event_time: np.ndarray  # months after entry (∞: never)
    dropout_time: np.ndarray  # months after entry (∞: never)

    @property
    def event_calendar(self) -> np.ndarray:
        """Calendar month of each patient's observable event (∞ if dropout comes first)."""
        return np.where(self.event_time <= self.dropout_time, self.entry + self.event_time, np.inf)


def protocol_patients(spec: TrialSpec, seed: int, n_sims: int) -> Patients:
    """The patients of `n_sims` trials of a fixed 1:1 simple-randomization design."""
    assert spec.allocation_rule == "fixed" and spec.randomization == "simple"
    assert np.allclose(spec.fixed_ratios, 0.5) and spec.ramp_up_months == 0.0
    # Five child generators, in this order: entry_gaps, outcome, allocation, dropout, ties;
    # per-patient arrays drawn patient-major, (N, n_sims), then transposed.
    entry_gaps, outcome, allocation, dropout, _ = np.random.default_rng(seed).spawn(5)
    shape = (spec.max_patients, n_sims)
    gaps = entry_gaps.standard_exponential(shape).T
    event_e = outcome.standard_exponential(shape).T
    dropout_e = dropout.standard_exponential(shape).T
    allocation_u = allocation.random(shape).T
    entry = np.cumsum(gaps, axis=1) / spec.accrual_rate_per_month
    arm = (allocation_u >= 0.5).astype(int)
    control, treatment = spec.survival_truths
    event_time = np.where(arm == 0, control.inverse(event_e), treatment.inverse(event_e))
    rate = spec.dropout_per_month[arm]
    with np.errstate(divide="ignore"):
        dropout_time = np.where(rate > 0, dropout_e / rate, np.inf)
    return Patients(entry, arm, event_time, dropout_time)


def kth_smallest(values: np.ndarray, k: int) -> np.ndarray:
    return np.sort(values, axis=1)[:, k - 1]


def contract_final_time(spec: TrialSpec, p: Patients) -> np.ndarray:
    """τ of a design without interim looks (enrolment always runs to N)."""
    last_entry = p.entry[:, -1]
    if spec.end_months is not None:
        tau = np.full(last_entry.shape, float(spec.end_months))
    elif spec.end_events is not None:
        tau = kth_smallest(p.event_calendar, spec.end_events)
    else:
        tau = last_entry + spec.follow_up_months
    if spec.max_duration_months is not None:
        tau = np.minimum(tau, spec.max_duration_months)
    return tau


def contract_analysis(p: Patients, tau: np.ndarray, cuts=()) -> dict[str, np.ndarray]:
    """What is observed at calendar time τ: per arm (and piece) events and exposure.

    A patient enrolled by τ (entry ≤ τ) is followed for min(T, D, τ − entry) months and has
    an event iff T ≤ D and the event's calendar time entry + T is ≤ τ.
    """
    enrolled = p.entry <= tau[:, None]
    had_event = enrolled & (p.event_calendar <= tau[:, None])
    followed = np.minimum(np.minimum(p.event_time, p.dropout_time), tau[:, None] - p.entry)
    followed = np.where(enrolled, followed, 0.0)
    edges = np.concatenate([[0.0], np.asarray(cuts, dtype=float), [np.inf]])
    out = {
        "enrolled": enrolled.sum(axis=1),
        "n": np.stack([(enrolled & (p.arm == k)).sum(axis=1) for k in (0, 1)], axis=1),
        "events": np.stack([(had_event & (p.arm == k)).sum(axis=1) for k in (0, 1)], axis=1),
        "exposure": np.stack(
            [np.where(p.arm == k, followed, 0.0).sum(axis=1) for k in (0, 1)], axis=1
        ),
    }
    piece_events, piece_exposure = [], []
    for lo, hi in itertools.pairwise(edges):
        in_piece = np.clip(followed - lo, 0.0, hi - lo)
        event_here = had_event & (followed >= lo) & (followed < hi)
        piece_events.append(
            np.stack([(event_here & (p.arm == k)).sum(axis=1) for k in (0, 1)], axis=1)
        )
        piece_exposure.append(
            np.stack([np.where(p.arm == k, in_piece, 0.0).sum(axis=1) for k in (0, 1)], axis=1)
        )
    out["piece_events"] = np.stack(piece_events, axis=2)
    out["piece_exposure"] = np.stack(piece_exposure, axis=2)
    return out


def assert_records_follow_contract(spec: TrialSpec, records, p: Patients, tau) -> None:
    obs = contract_analysis(p, tau, spec.cut_points_months)
    np.testing.assert_allclose(records.duration_months, tau, rtol=1e-12)
    np.testing.assert_array_equal(records.total_n, obs["enrolled"])
    np.testing.assert_array_equal(records.n_observed, obs["n"])
    np.testing.assert_array_equal(records.n_enrolled, obs["n"])
    np.testing.assert_array_equal(records.n_responses, obs["events"])
    np.testing.assert_allclose(records.exposure_months, obs["exposure"], rtol=1e-9)
    # Posterior of the decision piece: Gamma(a0 + events, b0 + exposure).
    piece = spec.decision_piece % (len(spec.cut_points_months) + 1)
    a = spec.prior_shape + obs["piece_events"][:, :, piece]
    b = spec.prior_rate + obs["piece_exposure"][:, :, piece]
    np.testing.assert_allclose(records.post_mean, a / b, rtol=1e-9)
    np.testing.assert_allclose(
        records.post_lower, stats.gamma.ppf(0.025, a, scale=1 / b), rtol=1e-7
    )
    # P(HR < 1) = P(Beta(a_k, a_c) < b_k / (b_k + b_c)).
    p_better = stats.beta.cdf(b[:, 1] / (b[:, 0] + b[:, 1]), a[:, 1], a[:, 0])
    np.testing.assert_allclose(records.p_better_than_control[:, 1], p_better, atol=1e-9)
    assert np.isnan(records.p_better_than_control[:, 0]).all()
    clear = np.abs(p_better - spec.efficacy_threshold) > 1e-7
    np.testing.assert_array_equal(
        efficacy_rate(records)[clear], (p_better > spec.efficacy_threshold)[clear]
    )
    # Posterior median HR: (a_k b_c) / (b_k a_c) · median of F(2 a_k, 2 a_c).
    hr_median = a[:, 1] * b[:, 0] / (b[:, 1] * a[:, 0]) * stats.f.median(2 * a[:, 1], 2 * a[:, 0])
    np.testing.assert_allclose(records.diff_estimate[:, 1], hr_median, rtol=1e-7)
    # ln 2 / posterior median of the overall hazard (all pieces).
    a_all = spec.prior_shape + obs["events"]
    b_all = spec.prior_rate + obs["exposure"]
    np.testing.assert_allclose(
        records.median_survival_months, LN2 / stats.gamma.median(a_all, scale=1 / b_all), rtol=1e-7
    )


CONTRACT_CASES = {
    # Final analysis 6 months after the last entry; dropout on both arms.
    "follow_up": dict(follow_up_months=6.0, dropout_per_month=np.array([0.02, 0.05])),
    # Calendar end before enrolment is complete (200 patients at 20 / month ≈ 10 months).
    "end_months": dict(
        follow_up_months=None,
        end_months=8.0,
        survival_truths=(
            sv.Weibull.from_median(1.4, 10.0),
            sv.ProportionalHazards(sv.Weibull.from_median(1.4, 10.0), 0.6),
        ),
    ),
    # 12 months of follow-up capped by a 14-month maximum duration.
    "max_duration": dict(follow_up_months=12.0, max_duration_months=14.0),
    # Piecewise analysis model, decisions on the middle piece; delayed effect with dropout.
    "piecewise_model": dict(
        follow_up_months=4.0,
        survival_truths=(CONTROL, sv.DelayedEffect(CONTROL, 3.0, 0.5)),
        dropout_per_month=np.array([0.0, 0.03]),
        cut_points_months=np.array([3.0, 6.0]),
        decision_piece=1,
    ),
    # Cure fraction: T = ∞ for some patients.
    "cure_fraction": dict(
        follow_up_months=10.0,
        survival_truths=(
            sv.CureFraction(0.3, sv.Exponential.from_median(6.0)),
            sv.CureFraction(0.5, sv.Exponential.from_median(6.0)),
        ),
    ),
}


@pytest.mark.parametrize(
    "case",
    [
        *CONTRACT_CASES,
        "end_events",
    ],
)
def test_records_follow_the_contract_trial_by_trial(case):
    # 2,000 trials, seed 17, recomputed here from the same random numbers.
    overrides = CONTRACT_CASES.get(case, dict(follow_up_months=None, end_events=120))
    spec = tte_spec(**overrides)
    records = simulate_trials(spec, np.random.default_rng(17), 2000)
    patients = protocol_patients(spec, 17, 2000)
    tau = contract_final_time(spec, patients)
    assert (records.n_looks_done == 1).all()
    assert_records_follow_contract(spec, records, patients, tau)
    if spec.max_duration_months is not None:
        assert (records.duration_months <= spec.max_duration_months).all()
        assert (records.duration_months == spec.max_duration_months).mean() > 0.99
    if spec.end_months is not None:
        assert (records.duration_months == spec.end_months).all()
        assert (records.total_n < spec.max_patients).mean() > 0.9  # enrolment cut short


def test_end_events_final_analysis_time():
    # 2,000 trials, seed 17: the final analysis is at the calendar time of the 120th
    # observable event, and every patient who entered by then is enrolled.
    spec = tte_spec(follow_up_months=None, end_events=120)
    records = simulate_trials(spec, np.random.default_rng(17), 2000)
    patients = protocol_patients(spec, 17, 2000)
    tau = kth_smallest(patients.event_calendar, 120)
    np.testing.assert_array_equal(records.duration_months, tau)
    np.testing.assert_array_equal(records.total_n, (patients.entry <= tau[:, None]).sum(axis=1))


def test_end_events_never_reached_falls_back_to_last_observable_event():
    # Cure fraction 0.9 on both arms, 40 patients, end at 30 events (never reached): the
    # contract's fallback is the calendar time of the last observable event. Patients enter
    # within ~2 months and events (uncured median 12) come much later, so here the last
    # event is after the last entry.
    cure = sv.CureFraction(0.9, CONTROL)
    spec = tte_spec(
        max_patients=40, follow_up_months=None, end_events=30, survival_truths=(cure, cure)
    )
    records = simulate_trials(spec, np.random.default_rng(5), 500)
    patients = protocol_patients(spec, 5, 500)
    calendar = np.where(np.isfinite(patients.event_calendar), patients.event_calendar, -np.inf)
    last_event = calendar.max(axis=1)
    checkable = np.isfinite(last_event) & (last_event > patients.entry[:, -1])
    assert checkable.mean() > 0.9
    np.testing.assert_array_equal(records.duration_months[checkable], last_event[checkable])
    assert np.isfinite(records.exposure_months).all()


# ---------------------------------------------------------------------------------------------
# Looks
# ---------------------------------------------------------------------------------------------


def assert_analyses_at(records, times: np.ndarray, p: Patients) -> None:
    """Analysis j of each trial (j < n_looks_done) is at times[:, j], with the patients who
    entered by then enrolled; later analyses are not performed."""
    performed = np.arange(times.shape[1])[None, :] < records.n_looks_done[:, None]
    np.testing.assert_array_equal(records.analysis_months[performed], times[performed])
    entered = (p.entry[:, None, :] <= times[:, :, None]).sum(axis=2)
    np.testing.assert_array_equal(records.analysis_n[performed], entered[performed])
    assert np.isnan(records.analysis_months[~performed]).all()
    assert (records.analysis_n[~performed] == -1).all()


def _event_look_design(events_in_control: bool) -> tuple[TrialSpec, np.ndarray]:
    if events_in_control:
        counts = np.array([20, 40])
        extra = dict(events_in_control=True, follow_up_months=6.0)
    else:
        counts = np.array([30, 60, 90])
        extra = dict(follow_up_months=None, end_events=120)
    spec = tte_spec(
        look_kind="events",
        look_counts=counts,
        survival_truths=(CONTROL, sv.ProportionalHazards(CONTROL, 0.6)),
        efficacy_threshold=0.99,
        futility_threshold=0.3,
        **extra,
    )
    return spec, counts


def _event_look_times(spec: TrialSpec, counts, p: Patients) -> tuple[np.ndarray, np.ndarray]:
    """Times of the analyses each trial would do (interim looks before τ, then τ)."""
    calendar = p.event_calendar
    if spec.events_in_control:
        calendar = np.where(p.arm == 0, calendar, np.inf)
    interim = np.stack([kth_smallest(calendar, int(c)) for c in counts], axis=1)
    if spec.end_events is not None:
        tau = kth_smallest(calendar, spec.end_events)
    else:
        tau = p.entry[:, -1] + spec.follow_up_months
    happens = np.isfinite(interim) & (interim < tau[:, None])
    # The looks that happen are a prefix (counts increase), and the final analysis follows.
    assert (np.diff(happens.astype(int), axis=1) <= 0).all()
    n_interim = happens.sum(axis=1)
    times = np.concatenate([interim, tau[:, None]], axis=1)
    times[np.arange(times.shape[0]), n_interim] = tau
    return times, n_interim


@pytest.mark.parametrize("events_in_control", [False, True])
def test_event_driven_looks_happen_at_the_event_times(events_in_control):
    # 2,000 trials, seed 23, recomputed here: each trial's last analysis (its duration) is
    # at the calendar time of its count's event (all arms, or the control only); the
    # patients enrolled then are those who entered by that time.
    spec, counts = _event_look_design(events_in_control)
    records = simulate_trials(spec, np.random.default_rng(23), 2000)
    patients = protocol_patients(spec, 23, 2000)
    times, n_interim = _event_look_times(spec, counts, patients)
    last = records.n_looks_done.astype(int) - 1
    assert (last <= n_interim).all()
    rows = np.arange(last.size)
    np.testing.assert_array_equal(records.duration_months, times[rows, last])
    assert_analyses_at(records, times, patients)
    enrolled = (patients.entry <= records.duration_months[:, None]).sum(axis=1)
    np.testing.assert_array_equal(records.total_n, enrolled)
    decided = records.decision_look[:, 1] >= 0
    np.testing.assert_array_equal(records.decision_look[decided, 1], last[decided])
    np.testing.assert_array_equal(records.decision_n[decided, 1], enrolled[decided])
    # The test has teeth: trials stop at every interim look.
    stopped_interim = last < np.minimum(n_interim, len(counts))
    for j in range(len(counts)):
        assert (stopped_interim & (last == j)).sum() > 50


@pytest.mark.parametrize("events_in_control", [False, True])
def test_event_driven_looks_count_exactly_their_events(events_in_control):
    # 2,000 trials, seed 23: at an analysis triggered by the D-th event, the records show
    # exactly D events (summed over arms; the control's with events_in: control).
    spec, counts = _event_look_design(events_in_control)
    records = simulate_trials(spec, np.random.default_rng(23), 2000)
    patients = protocol_patients(spec, 23, 2000)
    _, n_interim = _event_look_times(spec, counts, patients)
    last = records.n_looks_done.astype(int) - 1
    if events_in_control:
        at_look = last < n_interim
        observed = records.n_responses[at_look, 0]
        expected = counts[last[at_look]]
    else:
        observed = records.n_responses.sum(axis=1)
        expected = np.append(counts, spec.end_events)[last]
    np.testing.assert_array_equal(observed, expected)


def test_month_looks_happen_at_those_months():
    # 2,000 trials, seed 29: looks at months 6, 12, 18, final 12 months after the last entry
    # (≈ month 32); a trial stopped at a look lasts exactly that many months and has
    # enrolled everyone who entered by then.
    months = np.array([6.0, 12.0, 18.0])
    spec = tte_spec(
        max_patients=200,
        accrual_rate_per_month=10.0,
        look_kind="months",
        look_months=months,
        follow_up_months=12.0,
        survival_truths=(CONTROL, sv.ProportionalHazards(CONTROL, 0.6)),
        efficacy_threshold=0.95,
        futility_threshold=0.3,
    )
    records = simulate_trials(spec, np.random.default_rng(29), 2000)
    patients = protocol_patients(spec, 29, 2000)
    tau = patients.entry[:, -1] + 12.0
    times = np.column_stack([np.broadcast_to(months, (tau.size, 3)), tau])
    last = records.n_looks_done.astype(int) - 1
    np.testing.assert_array_equal(records.duration_months, times[np.arange(tau.size), last])
    assert_analyses_at(records, times, patients)
    enrolled = (patients.entry <= records.duration_months[:, None]).sum(axis=1)
    np.testing.assert_array_equal(records.total_n, enrolled)
    for j in range(3):
        assert (last == j).sum() > 50
    # What is recorded at a month look is what the contract observes then.
    at_look = last < 3
    obs = contract_analysis(patients, records.duration_months)
    np.testing.assert_array_equal(records.n_responses[at_look], obs["events"][at_look])
    np.testing.assert_allclose(
        records.exposure_months[at_look], obs["exposure"][at_look], rtol=1e-9
    )


def test_same_seed_same_records():
    # Thompson allocation with event-driven looks (tentative assignment of later patients),
    # dropout and a cure fraction.
    cure = sv.CureFraction(0.2, CONTROL)
    spec = TrialSpec(
        arm_ids=("control", "a", "b"),
        true_p=np.full(3, np.nan),
        control_index=0,
        higher_is_better=False,
        max_patients=150,
        accrual_rate_per_month=15.0,
        allocation_rule="thompson",
        fixed_ratios=np.full(3, 1 / 3),
        control_rule="sqrt",
        randomization="simple",
        look_counts=np.array([30, 60]),
        efficacy_threshold=0.99,
        futility_threshold=0.1,
        endpoint_kind="time_to_event",
        survival_truths=(cure, sv.ProportionalHazards(cure, 0.8), sv.Weibull(1.2, 15.0)),
        dropout_per_month=np.array([0.01, 0.02, 0.0]),
        look_kind="events",
        follow_up_months=6.0,
    )
    first = simulate_trials(spec, np.random.default_rng(41), 400)
    second = simulate_trials(spec, np.random.default_rng(41), 400)
    other = simulate_trials(spec, np.random.default_rng(42), 400)
    for field in dataclasses.fields(first):
        np.testing.assert_array_equal(getattr(first, field.name), getattr(second, field.name))
    assert not np.array_equal(first.duration_months, other.duration_months)


def test_follow_up_final_analysis_mean_duration():
    # 4,000 trials, seed 37, no looks, 6 months of follow-up: the duration is the N-th
    # entry (a Gamma(N) / R time: mean N / R, sd √N / R) plus 6; its mean is within 4 MCSE.
    n_sims, n, rate = 4000, 200, 20.0
    spec = tte_spec(max_patients=n, accrual_rate_per_month=rate, follow_up_months=6.0)
    records = simulate_trials(spec, np.random.default_rng(37), n_sims)
    assert (records.duration_months >= 6.0).all()
    assert (records.total_n == n).all()
    mcse = np.sqrt(n) / rate / np.sqrt(n_sims)
    assert abs(records.duration_months.mean() - (n / rate + 6.0)) < 4 * mcse


# ---------------------------------------------------------------------------------------------
# Expected events and exposure by a calendar time
# ---------------------------------------------------------------------------------------------


def _expected_events_exposure(rate: float, hazard: float, dropout: float, t: float):
    """Poisson entries at `rate` on [0, t], exponential event and dropout times.

    E[exposure] = rate ∫₀ᵗ E[min(T, D, t − s)] ds = rate g(μ) / μ, μ = λ + r,
    g(μ) = t − (1 − e^{−μ t}) / μ; E[events] = λ E[exposure] (= rate g(λ) / λ · λ without
    dropout: rate (t − (1 − e^{−λ t}) / λ)).
    """
    mu = hazard + dropout
    g = t - (1 - np.exp(-mu * t)) / mu
    return rate * hazard * g / mu, rate * g / mu


def test_expected_events_and_exposure_by_calendar_time():
    # survival_data directly: 20,000 trials, seed 43, entries at 10 / month (400 patients,
    # far more than the ~240 entering by month 24), exponential median 12, dropout 0.02.
    # Events, exposure and P(100th event by month 24) within 4 MCSE of their expectations.
    n_sims, n, rate, t = 20_000, 400, 10.0, 24.0
    lam, r = LN2 / 12.0, 0.02
    rng = np.random.default_rng(43)
    entry = entry_times_months(np.cumsum(rng.standard_exponential((n_sims, n)), axis=1), rate)
    event_time = CONTROL.inverse(rng.standard_exponential((n_sims, n)))
    dropout_time = rng.standard_exponential((n_sims, n)) / r
    enrolled = entry <= t
    assert enrolled[:, -1].sum() == 0
    look = np.full(n_sims, t)
    event_month = observable_event_month(entry, event_time, dropout_time)
    observed, had_event = follow_up(entry, event_time, dropout_time, event_month, enrolled, look)
    assert (observed <= np.clip(t - entry, 0, None) + 1e-12).all()  # never beyond the look
    assert (observed[~enrolled] == 0).all() and not had_event[~enrolled].any()
    arm = np.where(enrolled, 0, -1)
    events, exposure = events_and_exposure(arm, observed, had_event, 1)
    np.testing.assert_allclose(exposure[:, 0], observed.sum(axis=1), rtol=1e-12)
    expected_events, expected_exposure = _expected_events_exposure(rate, lam, r, t)
    for value, expected in ((events[:, 0], expected_events), (exposure[:, 0], expected_exposure)):
        mcse = value.std(ddof=1) / np.sqrt(n_sims)
        assert abs(value.mean() - expected) < 4 * mcse, (value.mean(), expected, mcse)
    # Pieces [0, 6), [6, 12), [12, ∞) add up to the totals.
    piece_events, piece_exposure = events_and_exposure(
        arm, observed, had_event, 1, np.array([6.0, 12.0])
    )
    np.testing.assert_array_equal(piece_events.sum(axis=2), events)
    np.testing.assert_allclose(piece_exposure.sum(axis=2), exposure, rtol=1e-12)
    # Observed events form a thinned Poisson process: the count by t is Poisson, so the
    # 100th event comes by month t with probability P(Poisson(expected) ≥ 100).
    hundredth = calendar_time_of_event(event_month, 100)
    p_by_t = stats.poisson.sf(99, expected_events)
    mcse = np.sqrt(p_by_t * (1 - p_by_t) / n_sims)
    assert abs((hundredth <= t).mean() - p_by_t) < 4 * mcse
    np.testing.assert_array_equal(hundredth <= t, events[:, 0] >= 100)


@pytest.mark.parametrize("with_dropout", [True, False])
def test_follow_up_is_the_plain_rule(with_dropout):
    # 2,000 trials × 300 patients, seed 53, some patients not enrolled, looks at months
    # 5–30 (ties at the look included: one event is put exactly on its trial's look).
    n_sims, n = 2_000, 300
    rng = np.random.default_rng(53)
    entry = entry_times_months(np.cumsum(rng.standard_exponential((n_sims, n)), axis=1), 12.0)
    event_time = CONTROL.inverse(rng.standard_exponential((n_sims, n)))
    dropout_time = (
        rng.standard_exponential((n_sims, n)) / 0.03
        if with_dropout
        else np.full((n_sims, n), np.inf)
    )
    look = rng.uniform(5.0, 30.0, n_sims)
    event_time[:, 0] = look - entry[:, 0]
    enrolled = np.arange(n)[None, :] < rng.integers(1, n + 1, n_sims)[:, None]
    dropout = dropout_time if with_dropout else None
    got = follow_up(
        entry,
        event_time,
        dropout,
        observable_event_month(entry, event_time, dropout),
        enrolled,
        look,
    )
    # The rule written plainly: the event counts if it comes no later than dropout and, on
    # the calendar scale, by the look; else follow-up ends at dropout or the look.
    window = np.clip(look[:, None] - entry, 0.0, None)
    censor = np.minimum(dropout_time, window)
    had_event = enrolled & (event_time <= dropout_time) & (entry + event_time <= look[:, None])
    observed = np.where(enrolled, np.where(had_event, event_time, censor), 0.0)
    np.testing.assert_array_equal(got[1], had_event)
    np.testing.assert_array_equal(got[0], observed)
    assert had_event.any() and (~had_event & enrolled).any()


@pytest.mark.slow
def test_engine_month_look_sees_the_expected_events_and_exposure():
    # The engine: 10,000 trials, seed 47, one look at month 24 where every trial stops
    # (futility threshold 2 ⇒ the treatment is always dropped), 10 patients / month shared
    # 1:1 (Poisson 5 / month per arm), 400 patients (never all enrolled by month 24).
    # Control: median 12, no dropout; treatment: HR 0.6, dropout 0.03 / month.
    n_sims, rate, t = 10_000, 10.0, 24.0
    spec = tte_spec(
        max_patients=400,
        accrual_rate_per_month=rate,
        look_kind="months",
        look_months=np.array([t]),
        follow_up_months=12.0,
        efficacy_threshold=None,
        futility_threshold=2.0,
        survival_truths=(CONTROL, sv.ProportionalHazards(CONTROL, 0.6)),
        dropout_per_month=np.array([0.0, 0.03]),
    )
    records = simulate_trials(spec, np.random.default_rng(47), n_sims)
    assert (records.duration_months == t).all()
    assert (records.status[:, 1] == codes.FUTILITY).all()
    lam = LN2 / 12.0
    for k, (hazard, r) in enumerate(((lam, 0.0), (0.6 * lam, 0.03))):
        expected_events, expected_exposure = _expected_events_exposure(rate / 2, hazard, r, t)
        for value, expected in (
            (records.n_responses[:, k], expected_events),
            (records.exposure_months[:, k], expected_exposure),
            (records.n_observed[:, k], rate / 2 * t),
        ):
            mcse = value.std(ddof=1) / np.sqrt(n_sims)
            assert abs(value.mean() - expected) < 4 * mcse, (k, value.mean(), expected, mcse)


# ---------------------------------------------------------------------------------------------
# Power of a fixed event-driven design
# ---------------------------------------------------------------------------------------------


def _expected_events_split(hazards, n: int, rate: float, d: int) -> tuple[float, float]:
    """Expected events per arm when the d-th event comes (1:1, n patients entering uniformly
    over [0, A = n / rate], exponential times, no dropout); approximates τ by the time t at
    which the expected total is d: E d_k(t) = (n/2) (1 − e^{−λ t} (e^{λ A} − 1) / (λ A))."""
    accrual = n / rate

    def events(lam, t):
        return n / 2 * (1 - np.exp(-lam * t) * np.expm1(lam * accrual) / (lam * accrual))

    t = optimize.brentq(lambda t: sum(events(h, t) for h in hazards) - d, accrual, 1e4)
    return events(hazards[0], t), events(hazards[1], t)


@pytest.mark.slow
@pytest.mark.parametrize("hazard_ratio", [0.69, 1.0])
def test_fixed_event_driven_power(hazard_ratio):
    # 20,000 trials, seed 2024: 1:1, 300 patients at 40 / month (enrolment ends at ≈ 7.5
    # months, before the ≈ 12-month analysis), one analysis at D = 100 events, efficacy iff
    # P(HR < 1) > u = 0.975, control median 12, exponential truths (the model is right).
    n_sims, d, u = 20_000, 100, 0.975
    spec = tte_spec(
        max_patients=300,
        accrual_rate_per_month=40.0,
        follow_up_months=None,
        end_events=d,
        survival_truths=(CONTROL, sv.ProportionalHazards(CONTROL, hazard_ratio)),
    )
    records = simulate_trials(spec, np.random.default_rng(2024), n_sims)
    power = efficacy_rate(records).mean()
    z_u = stats.norm.ppf(u)
    if hazard_ratio == 1.0:
        # Vague Gamma(0.001, 0.001) prior: P(HR < 1 | data) is close to the one-sided
        # p-value, so the rate is 1 − u (MCSE 0.0011).
        mcse = np.sqrt(u * (1 - u) / n_sims)
        assert abs(power - (1 - u)) < 4 * mcse, (power, mcse)
        return
    mcse = np.sqrt(power * (1 - power) / n_sims)  # ≈ 0.0035
    # Schoenfeld: Φ(√(D/4) |log HR| − z_u) ≈ 0.458. It assumes an even split of the events
    # (here ≈ 57 : 43, which inflates the variance of log HR by ≈ 2%) and a log-rank test;
    # both shift the power by about 0.01, hence the allowance 0.03 on top of 4 MCSE.
    schoenfeld = stats.norm.cdf(np.sqrt(d / 4) * abs(np.log(hazard_ratio)) - z_u)
    assert abs(power - schoenfeld) < 0.03 + 4 * mcse, (power, schoenfeld, mcse)
    # Exponential model with the expected split: var(log HR) ≈ 1/d_c + 1/d_k ≈ 0.0409 ⇒
    # power ≈ 0.450. What is left is the normal approximation of the Gamma posterior and the
    # randomness of the split (O(1/d) with ~50 events per arm): allowance 0.015.
    d_c, d_k = _expected_events_split((LN2 / 12, hazard_ratio * LN2 / 12), 300, 40.0, d)
    wald = stats.norm.cdf(abs(np.log(hazard_ratio)) / np.sqrt(1 / d_c + 1 / d_k) - z_u)
    assert abs(power - wald) < 0.015 + 4 * mcse, (power, wald, mcse)
    # The control has more events, as it should.
    assert records.n_responses[:, 0].mean() > records.n_responses[:, 1].mean()


def test_piecewise_model_has_more_power_under_a_delayed_effect():
    # 4,000 trials, seed 53, the same patients under both analysis models (same seed, same
    # fixed allocation, same end at 100 events): HR 1 for 4 months, then 0.5; control median
    # 12; 300 patients at 50 / month. The exponential model averages the early HR of 1 in;
    # the piecewise model with a cut at 4 months decides on the late piece. The paired
    # difference in P(efficacy) exceeds 3 paired MCSE (observed ≈ 0.29, MCSE ≈ 0.008).
    n_sims = 4000
    common = dict(
        max_patients=300,
        accrual_rate_per_month=50.0,
        follow_up_months=None,
        end_events=100,
        survival_truths=(CONTROL, sv.DelayedEffect(CONTROL, 4.0, 0.5)),
    )
    exponential = simulate_trials(tte_spec(**common), np.random.default_rng(53), n_sims)
    piecewise = simulate_trials(
        tte_spec(cut_points_months=np.array([4.0]), **common), np.random.default_rng(53), n_sims
    )
    np.testing.assert_array_equal(exponential.duration_months, piecewise.duration_months)
    np.testing.assert_array_equal(exponential.n_responses, piecewise.n_responses)
    diff = efficacy_rate(piecewise).astype(float) - efficacy_rate(exponential)
    mcse = diff.std(ddof=1) / np.sqrt(n_sims)
    assert diff.mean() > 3 * mcse, (diff.mean(), mcse)


# ---------------------------------------------------------------------------------------------
# P(HR < bound) with zero-event arms
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "a_ref", "b_ref", "bound"),
    [
        (20.001, 200.0, 0.001, 150.0, 1.0),  # zero-event control with exposure
        (0.001, 100.0, 0.001, 120.0, 1.0),  # both arms without events
        (0.001, 0.001, 0.001, 0.001, 0.8),  # both at the prior (no exposure)
        (3.001, 40.0, 0.001, 0.001, 1.2),  # zero-event control without exposure
    ],
)
def test_gamma_p_ratio_below_with_zero_event_reference(a, b, a_ref, b_ref, bound):
    # tests/engine/test_quadrature.py checks a zero-event arm against an arm with events;
    # here the reference (control) arm has no events. 10^6 draws, seed 59, within 2e-3
    # (> 4 binomial sd). Gamma(0.001) draws underflow to 0 half the time, so they are drawn
    # on the log scale: log G(a) = log G(a + 1) + log(U) / a.
    rng = np.random.default_rng(59)
    n = 1_000_000

    def log_rate(shape, rate):
        return (
            np.log(rng.standard_gamma(shape + 1.0, n)) + np.log(rng.random(n)) / shape
        ) - np.log(rate)

    draws = np.mean(log_rate(a, b) - log_rate(a_ref, b_ref) < np.log(bound))
    got = float(gamma_p_ratio_below(a, b, a_ref, b_ref, bound))
    exact = special.betainc(a, a_ref, bound * b / (bound * b + b_ref))
    assert abs(got - exact) < 1e-9
    assert abs(got - draws) < 2e-3, (got, draws)
