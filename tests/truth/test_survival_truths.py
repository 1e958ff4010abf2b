"""Time-to-event truths (platsim.truth.survival) against their closed forms.

Event times are drawn as the engine draws them, T = H⁻¹(E) with E ~ Exp(1), and compared
with closed forms written out here (not taken from the module): the median (sample median,
or a Kaplan–Meier median under censoring computed below), P(T = ∞), and S(t) at fixed
months. Tolerances are 4 standard errors of the statistic at the stated sample size:
- sample median of n draws: asymptotic sd 1 / (2 f(m) √n) = 1 / (h(m) √n), since the
  density at the median is f(m) = h(m) S(m) = h(m) / 2;
- Kaplan–Meier median under independent censoring with survival G: sd √(I / n) / h(m) with
  I = ∫₀^m h(u) / (S(u) G(u)) du (Greenwood variance of Ŝ(m), S(m) = 1/2, delta method);
- proportions: binomial sd √(p (1 − p) / n).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from scipy import integrate

from platsim.truth import survival as sv

LN2 = np.log(2.0)
N_DRAWS = 40_000
MONTHS = np.array([0.5, 1.0, 3.0, 6.0, 12.0, 24.0, 48.0])


@dataclass(frozen=True)
class Case:
    truth: sv.CumulativeHazard
    #: Stated median (months; ∞ when S never reaches 1/2).
    median: float
    #: Hazard per month at the median (for the sampling sd of the median).
    hazard_at_median: float
    #: Closed-form survival function.
    survival: Callable[[np.ndarray], np.ndarray]
    #: P(T = ∞).
    p_never: float = 0.0
    #: Open intervals of zero hazard (no event time may fall inside).
    flat: tuple[tuple[float, float], ...] = ()


def _weibull_scale(shape: float, median: float) -> float:
    return median / LN2 ** (1.0 / shape)


def _cases() -> dict[str, Case]:
    lam12 = LN2 / 12.0
    cases: dict[str, Case] = {}

    # Exponential, median form (median 9) and rate form (0.1 per month: median ln 2 / 0.1).
    cases["exponential_median"] = Case(
        sv.Exponential.from_median(9.0), 9.0, LN2 / 9.0, lambda t: np.exp(-LN2 * t / 9.0)
    )
    cases["exponential_rate"] = Case(
        sv.Exponential(0.1), LN2 / 0.1, 0.1, lambda t: np.exp(-0.1 * t)
    )

    # Weibull, scale form: H = (t / 10)^1.5, median 10 (ln 2)^(1/1.5).
    k, s = 1.5, 10.0
    cases["weibull_scale"] = Case(
        sv.Weibull(k, s),
        s * LN2 ** (1 / k),
        k / s * LN2 ** ((k - 1) / k),
        lambda t: np.exp(-((t / 10.0) ** 1.5)),
    )
    # Weibull, median form: S = exp(−ln 2 (t / 15)^0.7), so S(15) = 1/2 and
    # h(15) = 0.7 ln 2 / 15.
    cases["weibull_median"] = Case(
        sv.Weibull.from_median(0.7, 15.0),
        15.0,
        0.7 * LN2 / 15.0,
        lambda t: np.exp(-LN2 * (t / 15.0) ** 0.7),
    )

    # Piecewise with a zero-hazard piece in the middle: H(3) = H(6) = 0.3, then 0.05 per
    # month, so the median is 6 + (ln 2 − 0.3) / 0.05 and no event falls in (3, 6).
    def piecewise_gap(t):
        t = np.asarray(t, dtype=float)
        h = np.where(t < 3, 0.1 * t, np.where(t < 6, 0.3, 0.3 + 0.05 * (t - 6)))
        return np.exp(-h)

    cases["piecewise_zero_piece"] = Case(
        sv.PiecewiseConstant((0.0, 3.0, 6.0), (0.1, 0.0, 0.05)),
        6.0 + (LN2 - 0.3) / 0.05,
        0.05,
        piecewise_gap,
        flat=((3.0, 6.0),),
    )
    # Piecewise with the median in the first piece (H(2) = 1 > ln 2): median ln 2 / 0.5.
    cases["piecewise_first_piece"] = Case(
        sv.PiecewiseConstant((0.0, 2.0), (0.5, 0.1)),
        LN2 / 0.5,
        0.5,
        lambda t: np.exp(-np.where(t < 2, 0.5 * t, 1.0 + 0.1 * (t - 2))),
    )
    # Piecewise whose last piece has zero hazard: H(∞) = 0.48 < ln 2, so the median is ∞
    # and P(T = ∞) = e^{−0.48}.
    cases["piecewise_zero_tail"] = Case(
        sv.PiecewiseConstant((0.0, 6.0), (0.08, 0.0)),
        np.inf,
        np.nan,
        lambda t: np.exp(-0.08 * np.minimum(t, 6.0)),
        p_never=float(np.exp(-0.48)),
        flat=((6.0, np.inf),),
    )

    # Cure fraction c = 0.25, uncured median 8: c + (1 − c) e^{−λ m} = 1/2 gives
    # e^{−λ m} = 1/3, m = 8 ln 3 / ln 2; the density there is (1 − c) λ / 3 = λ / 4, i.e.
    # h(m) = f(m) / S(m) = λ / 2.
    lam8 = LN2 / 8.0
    cases["cure_fraction"] = Case(
        sv.CureFraction(0.25, sv.Exponential.from_median(8.0)),
        8.0 * np.log(3.0) / LN2,
        lam8 / 2.0,
        lambda t: 0.25 + 0.75 * np.exp(-lam8 * t),
        p_never=0.25,
    )

    # Hazard ratio 0.7 on a Weibull(1.5) control with median 12: S = S0^0.7, so
    # (m / s)^1.5 = ln 2 / 0.7; h(m) = 0.7 h0(m).
    k, s = 1.5, _weibull_scale(1.5, 12.0)
    m_ph = s * (LN2 / 0.7) ** (1 / k)
    cases["hazard_ratio"] = Case(
        sv.ProportionalHazards(sv.Weibull.from_median(1.5, 12.0), 0.7),
        m_ph,
        0.7 * k / s * (m_ph / s) ** (k - 1),
        lambda t: np.exp(-0.7 * (t / s) ** 1.5),
    )

    # Delayed effect: control exponential median 12, HR 1 until month 4, then 0.5:
    # H(t) = 4λ + 0.5 λ (t − 4) = ln 2 at t = 4 + 2 (12 − 4) = 20.
    cases["delayed_effect"] = Case(
        sv.DelayedEffect(sv.Exponential.from_median(12.0), 4.0, 0.5),
        20.0,
        0.5 * lam12,
        lambda t: np.exp(-np.where(t <= 4, lam12 * t, 4 * lam12 + 0.5 * lam12 * (t - 4))),
    )
    # A delay longer than the median: the median is the control's.
    cases["delayed_after_median"] = Case(
        sv.DelayedEffect(sv.Exponential.from_median(12.0), 15.0, 0.5),
        12.0,
        lam12,
        lambda t: np.exp(-np.where(t <= 15, lam12 * t, 15 * lam12 + 0.5 * lam12 * (t - 15))),
    )
    # Delayed effect on a Weibull(1.3, scale 10) control, delay 3, HR 0.6:
    # (m / 10)^1.3 = H0(3) + (ln 2 − H0(3)) / 0.6.
    h0_3 = 0.3**1.3
    m_de = 10.0 * (h0_3 + (LN2 - h0_3) / 0.6) ** (1 / 1.3)
    cases["delayed_weibull"] = Case(
        sv.DelayedEffect(sv.Weibull(1.3, 10.0), 3.0, 0.6),
        m_de,
        0.6 * 1.3 / 10.0 * (m_de / 10.0) ** 0.3,
        lambda t: np.exp(-np.where(t <= 3, (t / 10) ** 1.3, h0_3 + 0.6 * ((t / 10) ** 1.3 - h0_3))),
    )
    return cases


CASES = _cases()


def _draws(case: Case, seed: int) -> np.ndarray:
    e = np.random.default_rng(seed).standard_exponential(N_DRAWS)
    return sv.event_times_months(case.truth, e)


@pytest.mark.parametrize("name", list(CASES))
def test_sample_median_matches_stated_median(name):
    # 40,000 draws, seed 2024: the sample median is within 4 asymptotic sd of the median.
    case = CASES[name]
    times = _draws(case, 2024)
    assert sv.median_months(case.truth) == pytest.approx(case.median, rel=1e-12)
    sample_median = np.median(times)
    if np.isinf(case.median):
        assert np.isinf(sample_median)
        return
    sd = 1.0 / (case.hazard_at_median * np.sqrt(N_DRAWS))
    assert abs(sample_median - case.median) < 4 * sd, (sample_median, case.median, sd)


@pytest.mark.parametrize("name", list(CASES))
def test_never_and_flat_pieces(name):
    # 40,000 draws, seed 7: P(T = ∞) within 4 binomial sd of the stated value (exactly 0 when
    # the truth has no cure); no finite event time inside a zero-hazard piece.
    case = CASES[name]
    times = _draws(case, 7)
    assert not np.isnan(times).any()
    assert (times >= 0).all()
    never = np.isinf(times).mean()
    if case.p_never == 0.0:
        assert never == 0.0
    else:
        sd = np.sqrt(case.p_never * (1 - case.p_never) / N_DRAWS)
        assert abs(never - case.p_never) < 4 * sd, (never, case.p_never, sd)
    for lo, hi in case.flat:
        assert not ((times > lo) & (times < hi)).any()


@pytest.mark.parametrize("name", list(CASES))
def test_survival_at_fixed_months(name):
    # 40,000 draws, seed 99: the proportion surviving past each month is within 4 binomial
    # sd of S(t); survival_function agrees with the closed form.
    case = CASES[name]
    times = _draws(case, 99)
    expected = case.survival(MONTHS)
    np.testing.assert_allclose(sv.survival_function(case.truth, MONTHS), expected, rtol=1e-12)
    empirical = (times[:, None] > MONTHS[None, :]).mean(axis=0)
    sd = np.sqrt(expected * (1 - expected) / N_DRAWS)
    assert (np.abs(empirical - expected) < 4 * sd).all(), (empirical, expected, sd)


@pytest.mark.parametrize("name", list(CASES))
def test_cumulative_hazard_inverse_round_trips(name):
    case = CASES[name]
    truth = case.truth
    h_max = -np.log(case.p_never) if case.p_never > 0 else np.inf
    x = np.concatenate([[0.0], np.geomspace(1e-6, 20.0, 200)])
    inside = x < h_max
    # H(H⁻¹(x)) = x where H reaches x; H⁻¹(x) = ∞ (no event) beyond H(∞).
    np.testing.assert_allclose(
        truth.cumulative_hazard(truth.inverse(x[inside])), x[inside], rtol=1e-10, atol=1e-13
    )
    assert np.isinf(truth.inverse(x[~inside])).all()
    # H⁻¹(H(t)) = t off the zero-hazard pieces (where H is not invertible).
    t = np.concatenate([[0.0], np.geomspace(1e-4, 200.0, 300)])
    off_flat = np.ones(t.shape, dtype=bool)
    for lo, hi in case.flat:
        off_flat &= ~((t > lo) & (t <= hi))
    np.testing.assert_allclose(
        truth.inverse(truth.cumulative_hazard(t[off_flat])), t[off_flat], rtol=1e-9, atol=1e-12
    )
    # Survival is decreasing in t.
    assert (np.diff(sv.survival_function(truth, t)) <= 1e-15).all()


def _kaplan_meier_median(time: np.ndarray, event: np.ndarray) -> float:
    """Smallest observed time at which the Kaplan–Meier estimate falls to 1/2 or below."""
    order = np.argsort(time, kind="stable")
    time, event = time[order], event[order]
    at_risk = time.size - np.arange(time.size)
    km = np.cumprod(1.0 - event / at_risk)
    below = np.flatnonzero(km <= 0.5)
    return float(time[below[0]]) if below.size else np.inf


def test_kaplan_meier_median_under_censoring():
    # Weibull(shape 1.5, median 12) event times, independent exponential censoring at
    # 0.04 per month (about 30% censored before the median); 20,000 patients, seed 31: the
    # KM median is within 4 asymptotic sd (Greenwood + delta method) of 12.
    n, mu = 20_000, 0.04
    truth = sv.Weibull.from_median(1.5, 12.0)
    rng = np.random.default_rng(31)
    event_time = truth.inverse(rng.standard_exponential(n))
    censor_time = rng.exponential(1.0 / mu, n)
    time = np.minimum(event_time, censor_time)
    event = (event_time <= censor_time).astype(float)
    assert 0.2 < 1 - event.mean() < 0.6  # censoring does matter

    s = _weibull_scale(1.5, 12.0)

    def hazard(u):
        return 1.5 / s * (u / s) ** 0.5

    # I = ∫₀^m h(u) / (S(u) G(u)) du, S(u) = exp(−(u/s)^1.5), G(u) = exp(−μ u).
    integral, _ = integrate.quad(lambda u: hazard(u) * np.exp((u / s) ** 1.5 + mu * u), 0, 12.0)
    sd = np.sqrt(integral / n) / hazard(12.0)
    km_median = _kaplan_meier_median(time, event)
    assert abs(km_median - 12.0) < 4 * sd, (km_median, sd)
    # The naive median of the censored times is badly biased: the KM correction matters.
    assert np.median(time) < 12.0 - 10 * sd


# Scenario forms (as in the YAML file) of some of the cases above, with the control's form
# for the relative ones.
SCENARIO_FORMS = {
    "exponential_median": ({"median": 9.0}, None),
    "weibull_scale": ({"weibull": {"shape": 1.5, "scale": 10.0}}, None),
    "weibull_median": ({"weibull": {"shape": 0.7, "median": 15.0}}, None),
    "piecewise_zero_piece": (
        {"pieces": [[0, 3, 0.1], [3, 6, 0.0], [6, float("inf"), 0.05]]},
        None,
    ),
    "piecewise_zero_tail": ({"pieces": [[0, 6, 0.08], [6, float("inf"), 0.0]]}, None),
    "cure_fraction": ({"cure_fraction": 0.25, "median": 8.0}, None),
    "hazard_ratio": ({"hazard_ratio": 0.7}, {"weibull": {"shape": 1.5, "median": 12.0}}),
    "delayed_effect": ({"hazard_ratio": 0.5, "delay_months": 4.0}, {"median": 12.0}),
}


@pytest.mark.parametrize("name", list(SCENARIO_FORMS))
def test_scenario_forms_build_the_stated_truths(name):
    from platsim.scenario.schema import ArmTruth
    from platsim.specs import survival_truth

    form, control_form = SCENARIO_FORMS[name]
    control = survival_truth(ArmTruth(**control_form), None) if control_form else None
    truth = survival_truth(ArmTruth(**form), control)
    case = CASES[name]
    t = np.concatenate([MONTHS, np.geomspace(0.01, 300.0, 50)])
    np.testing.assert_allclose(sv.survival_function(truth, t), case.survival(t), rtol=1e-12)
    assert sv.median_months(truth) == pytest.approx(case.median, rel=1e-12)
