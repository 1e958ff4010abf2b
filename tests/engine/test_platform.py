"""Platform mechanics: arms entering mid-trial, the max_active_arms queue, concurrent
versus pooled controls under a time trend."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from platsim.engine import spec as codes
from platsim.engine.trial import Chunk, simulate_trials
from platsim.scenario.load import parse_scenario
from platsim.specs import build_trial_spec

PLATFORM = """
name: staggered
title: Staggered platform
endpoint: {kind: binary, name: DCR}
arms:
  - {id: control, control: true}
  - {id: first}
  - {id: second}
  - {id: late, opens_at: {patients: 120}}
  - {id: later, opens_at: {month: 20}}
truths:
  null: {control: {p: 0.3}, first: {p: 0.3}, second: {p: 0.3}, late: {p: 0.3}, later: {p: 0.3}}
  mixed: {control: {p: 0.3}, first: {p: 0.55}, second: {p: 0.2}, late: {p: 0.5}, later: {p: 0.3}}
accrual: {rate_per_month: 10}
designs:
  queue:
    max_patients: 400
    max_active_arms: 2
    allocation: {rule: thompson, control: {sqrt: true}, min_prob: 0.05}
    looks: {every_patients: 20}
    decisions: {efficacy: {threshold: 0.99}, futility: {threshold: 0.1}}
"""


def run_chunk(text: str, design: str, truth: str, n_sims: int, seed: int) -> Chunk:
    spec = build_trial_spec(parse_scenario(text), design, truth)
    chunk = Chunk(spec, np.random.default_rng(seed), n_sims)
    chunk.records = chunk.run()
    return chunk


@pytest.mark.parametrize("truth", ["null", "mixed"])
def test_no_patient_outside_an_arms_open_period_and_queue_respected(truth):
    # 1,500 trials, seed 3: every randomized patient of every arm entered while it was open.
    chunk = run_chunk(PLATFORM, "queue", truth, 1500, 3)
    records = chunk.records
    index = np.arange(chunk.n_patients)[None, :]
    for k in range(chunk.n_arms):
        on_arm = chunk.arm == k
        opened = records.open_n[:, k]
        never = opened < 0
        assert not on_arm[never].any()
        assert (records.status[never, k] == codes.NOT_OPENED).all()
        before = index < np.where(never, chunk.n_patients, opened)[:, None]
        assert not (on_arm & before).any()
        decided = records.decision_n[:, k] >= 0
        closed_at = np.where(decided, records.decision_n[:, k], chunk.n_patients)
        after = index >= closed_at[:, None]
        assert not (on_arm & after).any()
    # At most two experimental arms open at any patient index.
    experimental = range(1, chunk.n_arms)
    open_now = np.zeros((chunk.n_sims, chunk.n_patients), dtype=int)
    for k in experimental:
        start = np.where(records.open_n[:, k] >= 0, records.open_n[:, k], chunk.n_patients)
        end = np.where(records.decision_n[:, k] >= 0, records.decision_n[:, k], records.total_n)
        open_now += (index >= start[:, None]) & (index < end[:, None])
    assert open_now.max() <= 2
    # Queued arms do open: the late arm opens in most trials that run long enough.
    assert (records.open_n[:, 3] >= 120).mean() > 0.5
    assert (records.open_n[:, 3][records.open_n[:, 3] >= 0] >= 120).all()
    assert np.all(records.open_months[:, 4][records.open_n[:, 4] >= 0] >= 20)


TREND = """
name: trend
title: Time trend
endpoint: {kind: binary, name: response}
arms:
  - {id: control, control: true}
  - {id: early}
  - {id: late, opens_at: {patients: 150}}
truths:
  null: {control: {p: 0.2}, early: {p: 0.2}, late: {p: 0.2}}
accrual: {rate_per_month: 10}
time_trends:
  null: {per_month: 0.05}
designs:
  concurrent:
    max_patients: 300
    allocation: {rule: fixed, ratios: {control: 1, early: 1, late: 1}}
    looks: {every_patients: 50}
    decisions: {efficacy: {threshold: 0.95}}
  pooled:
    max_patients: 300
    allocation: {rule: fixed, ratios: {control: 1, early: 1, late: 1}}
    looks: {every_patients: 50}
    decisions: {efficacy: {threshold: 0.95}}
    control_comparison: pooled
"""


@pytest.mark.slow
def test_pooled_non_concurrent_controls_inflate_type_one_error_under_a_time_trend():
    # Null treatment effects, response rising by 0.05 per month on the logit scale (from
    # 0.20 at month 0 to ~0.46 at month 30). The late arm (open from patient 150) compared
    # with ALL controls (mostly earlier, lower-response patients) is declared effective far
    # more often than with concurrent controls only. 6,000 trials, seed 21; the same
    # patients under both designs (common random numbers).
    scenario = parse_scenario(TREND)
    rates = {}
    for design in ("concurrent", "pooled"):
        spec = build_trial_spec(scenario, design, "null")
        records = simulate_trials(spec, np.random.default_rng(21), 6000)
        rates[design] = (records.status[:, 2] == codes.EFFICACY).mean()
    mcse = np.sqrt(0.1 * 0.9 / 6000)
    # Direction stated: pooled inflates.
    assert rates["pooled"] > rates["concurrent"] + 10 * mcse, rates
    # Concurrent controls keep it near what the same looks give without any trend.
    no_trend = dataclasses.replace(
        build_trial_spec(scenario, "concurrent", "null"), trend_per_month=0.0
    )
    baseline = (
        simulate_trials(no_trend, np.random.default_rng(22), 6000).status[:, 2] == codes.EFFICACY
    ).mean()
    assert abs(rates["concurrent"] - baseline) < 4 * np.sqrt(2) * mcse, (rates, baseline)


@pytest.mark.slow
def test_period_adjusted_comparison_holds_type_one_error_under_a_time_trend():
    # Same trial as above with control_comparison: period_adjusted (periods bounded by arm
    # entries and exits; per-period log-odds ratios combined by inverse variance). 6,000
    # trials, seeds 21 (trend) and 22 (no trend). Direction stated: pooled inflates; the
    # period-adjusted rate stays within 5 combined MCSE of its own no-trend rate (not 2–4:
    # its normal approximation is a little less conservative at the higher response rates
    # the trend produces, 0.2 → ~0.45).
    text = TREND.replace(
        "    control_comparison: pooled\n",
        "    control_comparison: pooled\n  period:\n    max_patients: 300\n"
        "    allocation: {rule: fixed, ratios: {control: 1, early: 1, late: 1}}\n"
        "    looks: {every_patients: 50}\n    decisions: {efficacy: {threshold: 0.95}}\n"
        "    control_comparison: period_adjusted\n",
    )
    scenario = parse_scenario(text)
    spec = build_trial_spec(scenario, "period", "null")
    assert spec.period_adjusted
    trend = (
        simulate_trials(spec, np.random.default_rng(21), 6000).status[:, 2] == codes.EFFICACY
    ).mean()
    flat = dataclasses.replace(spec, trend_per_month=0.0)
    baseline = (
        simulate_trials(flat, np.random.default_rng(22), 6000).status[:, 2] == codes.EFFICACY
    ).mean()
    pooled_spec = build_trial_spec(scenario, "pooled", "null")
    pooled = (
        simulate_trials(pooled_spec, np.random.default_rng(21), 6000).status[:, 2] == codes.EFFICACY
    ).mean()
    mcse = np.sqrt(0.1 * 0.9 / 6000)
    assert pooled > trend + 10 * mcse, (pooled, trend)
    assert abs(trend - baseline) < 5 * np.sqrt(2) * mcse, (trend, baseline)
