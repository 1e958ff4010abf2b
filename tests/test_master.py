"""Master protocols: sub-study accrual shares, the non-match sub-study, screening funnel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from platsim.engine.trial import Chunk
from platsim.errors import ScenarioError
from platsim.master import non_match_share, substudy_plans
from platsim.scenario.load import load_scenario, parse_scenario
from platsim.specs import build_trial_spec

REPO = Path(__file__).resolve().parents[1]


def test_substudy_shares_follow_prevalences_and_the_funnel():
    scenario = load_scenario(REPO / "scenarios" / "lungmap_master.yaml")
    plans = {plan.substudy.id: plan for plan in substudy_plans(scenario)}
    registered = 1 - scenario.screening.never_register_share
    prevalence = {g.id: g.prevalence for g in scenario.subgroups}
    assert plans["fgfr_substudy"].share_of_screened == pytest.approx(
        prevalence["fgfr"] * registered
    )
    assert plans["met_substudy"].share_of_screened == pytest.approx(prevalence["met"] * registered)
    # The non-match sub-study takes exactly the patients no biomarker sub-study enrols.
    assert non_match_share(scenario) == pytest.approx(1 - prevalence["fgfr"] - prevalence["met"])
    total = sum(plan.share_of_screened for plan in plans.values())
    assert total == pytest.approx(registered)
    for plan in plans.values():
        rate = plan.scenario.accrual.rate_per_month
        assert rate == pytest.approx(scenario.accrual.rate_per_month * plan.share_of_screened)
        assert plan.scenario.accrual.delay_months == pytest.approx(0.9)


def test_substudy_enrolment_rate_and_screening_delay_in_simulated_trials():
    # 2,000 trials, seed 4: entry times of the FGFR sub-study are a Poisson process at
    # 60 × 0.10 × 0.47 = 2.82 patients/month (after the 3-month ramp-up), delayed 0.9 months.
    scenario = load_scenario(REPO / "scenarios" / "lungmap_master.yaml")
    plan = next(p for p in substudy_plans(scenario) if p.substudy.id == "fgfr_substudy")
    spec = build_trial_spec(plan.scenario, "fixed_1to1", "null")
    chunk = Chunk(spec, np.random.default_rng(4), 2000)
    entry = chunk.entry
    assert entry.min() >= 0.9
    # Patients entering in months [10, 30): Poisson(2.82 × 20).
    counts = ((entry >= 10.9) & (entry < 30.9)).sum(axis=1)
    expected = 2.82 * 20
    assert abs(counts.mean() - expected) < 4 * np.sqrt(expected / counts.size)


def test_master_protocol_problems_are_reported():
    text = (REPO / "scenarios" / "lungmap_master.yaml").read_text()
    bad = text.replace("subgroups: [met]", "subgroups: [fgfr]").replace(
        "prevalence: 0.06", "prevalence: 0.95"
    )
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(bad, "master.yaml")
    messages = [str(p) for p in caught.value.problems]
    assert any("subgroup already enrolled by substudies[0]" in m for m in messages), messages
    assert any("prevalences add up to more than 1" in m for m in messages), messages
