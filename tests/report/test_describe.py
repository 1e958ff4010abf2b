"""Designs, truths and accrual described in plain English from the scenario model."""

from __future__ import annotations

from platsim.report.describe import (
    describe_accrual,
    describe_arm_role,
    describe_arm_truth,
    describe_design,
    describe_endpoint,
    describe_subgroups,
    truth_value_heading,
)
from platsim.scenario.load import parse_scenario
from tests.report.conftest import INLINE_SURVIVAL


def test_fixed_design_with_looks_in_words(valid_text):
    scenario = parse_scenario(valid_text)
    rules = describe_design(scenario, "fixed")
    assert rules[0] == "Up to 100 patients."
    assert "Fixed allocation 1:1 (ctrl : exp), simple randomization" in rules[1]
    assert "Beta(1, 1) prior" in rules[2]
    assert "Interim analyses every 20 patients enrolled, at 40, 60 and 80." in rules
    assert (
        "The final analysis happens when every enrolled patient's outcome is known, 1 months "
        "after the last enrolment." in rules
    )
    assert (
        "Efficacy: an experimental arm with P(p_arm > p_control) > 0.975; the arm graduates "
        "(leaves the trial for efficacy; the trial goes on)." in rules
    )
    assert "Futility: an experimental arm with P(p_arm > p_control) < 0.1 is dropped." in rules
    assert rules[-1] == "The rules apply at every interim analysis and at the final analysis."


def test_adaptive_design_in_words(valid_text):
    scenario = parse_scenario(valid_text)
    rules = " ".join(describe_design(scenario, "adaptive"))
    assert "Thompson sampling" in rules and "P(arm is best)^c with c = 1" in rules
    assert "√K : 1" in rules
    assert "The first 20 patients are randomized 1:1 (ctrl : exp)" in rules
    assert "Interim analyses at 40 and 80 patients enrolled." in rules
    assert "If an arm's P(best) > 0.99 the trial stops with that arm as the winner." in rules


def test_survival_design_truths_and_endpoint_in_words():
    scenario = parse_scenario(INLINE_SURVIVAL)
    fixed = describe_design(scenario, "fixed")
    assert "No interim analysis: one final analysis only." in fixed
    assert "The final analysis is 12 months after the last enrolment." in fixed
    assert "Efficacy: an experimental arm with P(HR < 1) > 0.9; the trial stops for efficacy." in (
        fixed
    )
    adaptive = " ".join(describe_design(scenario, "adaptive"))
    assert "c = n / (2N) (Thall–Wathen" in adaptive and "N = 136" in adaptive
    assert "at least 20% and at most 80%" in adaptive
    assert "Interim analyses every 30 events, at 30, 60, 90 and 120" in adaptive
    group = " ".join(describe_design(scenario, "group_sequential"))
    assert "Interim analyses at 35 and 70 events" in group
    assert describe_arm_truth(scenario, "reported", "soc") == "exponential, median 11.6 months"
    assert describe_arm_truth(scenario, "reported", "exp") == (
        "hazard ratio 0.69 vs control (proportional hazards); median 16.8 months"
    )
    assert describe_arm_truth(scenario, "delayed", "exp").startswith(
        "hazard ratio 1 vs control for the first 3 months, then 0.69"
    )
    assert describe_endpoint(scenario).startswith("OS: time to event in months")
    assert "0.5% of patients per month" in describe_endpoint(scenario)
    assert describe_accrual(scenario) == (
        "Poisson accrual of 6 patients per month, ramping up linearly from 0 over the first 3 "
        "months."
    )


def test_binary_truth_in_words(valid_text):
    scenario = parse_scenario(valid_text)
    assert describe_arm_truth(scenario, "reported", "exp") == "40%"
    assert truth_value_heading(scenario) == "true probability of ORR"


SUBGROUPS = """\
name: subgroups
title: Subgroups
endpoint: {kind: binary, name: response}
subgroups:
  - {id: fgfr, prevalence: 0.15}
  - {id: other, prevalence: 0.85}
arms:
  - {id: docetaxel, control: true}
  - {id: fgfr_drug, eligible: [fgfr]}
truths:
  reported:
    docetaxel: {p: 0.15, by_subgroup: {fgfr: {p: 0.05}}}
    fgfr_drug: {p: 0.3}
accrual: {rate_per_month: 10}
designs:
  fixed:
    max_patients: 100
    allocation: {rule: fixed, ratios: {docetaxel: 1, fgfr_drug: 1}}
"""


def test_subgroups_in_words():
    scenario = parse_scenario(SUBGROUPS)
    assert describe_arm_role(scenario, "fgfr_drug") == "experimental; subgroup fgfr only"
    assert describe_arm_truth(scenario, "reported", "docetaxel") == "15%; in subgroup fgfr: 5%"
    assert describe_subgroups(scenario).startswith(
        "Biomarker subgroups of the enrolled population: fgfr 15% and other 85%"
    )
