"""Biomarker subgroups within one trial: eligibility, prevalences, per-subgroup truths."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from platsim.engine import spec as codes
from platsim.engine.survival_trial import SurvivalChunk
from platsim.engine.trial import Chunk
from platsim.errors import ScenarioError
from platsim.scenario.load import parse_scenario
from platsim.specs import build_trial_spec

UMBRELLA = """
name: umbrella
title: Biomarker umbrella with a shared control
endpoint: {kind: binary, name: response}
subgroups:
  - {id: fgfr, prevalence: 0.15}
  - {id: met, prevalence: 0.10}
  - {id: other, prevalence: 0.75}
arms:
  - {id: docetaxel, control: true}
  - {id: fgfr_drug, eligible: [fgfr]}
  - {id: met_drug, eligible: [met]}
  - {id: io_combo, eligible: [other]}
truths:
  null:
    docetaxel: {p: 0.15}
    fgfr_drug: {p: 0.15}
    met_drug: {p: 0.15}
    io_combo: {p: 0.15}
  matched:
    docetaxel: {p: 0.15, by_subgroup: {fgfr: {p: 0.05}}}
    fgfr_drug: {p: 0.15, by_subgroup: {fgfr: {p: 0.45}}}
    met_drug: {p: 0.15}
    io_combo: {p: 0.15}
accrual: {rate_per_month: 20}
designs:
  thompson:
    max_patients: 600
    allocation: {rule: thompson, control: {sqrt: true}, min_prob: 0.05}
    looks: {every_patients: 100}
    decisions: {efficacy: {threshold: 0.99}, futility: {threshold: 0.05}}
"""


def run(truth: str, n_sims: int, seed: int, text: str = UMBRELLA, chunk_class=Chunk):
    spec = build_trial_spec(parse_scenario(text), "thompson", truth)
    chunk = chunk_class(spec, np.random.default_rng(seed), n_sims)
    chunk.records = chunk.run()
    return chunk


def test_patients_only_go_to_arms_eligible_for_their_subgroup_and_groups_follow_prevalence():
    # 1,000 trials, seed 5.
    chunk = run("matched", 1000, 5)
    enrolled = chunk.arm >= 0
    groups = chunk.group[enrolled]
    arms = chunk.arm[enrolled]
    eligible = chunk.spec.eligible  # (arms, groups)
    assert eligible[arms, groups].all()
    # Subgroup shares of all simulated patients within 4 binomial SE of the prevalences.
    every = chunk.group.ravel()
    for g, prevalence in enumerate(chunk.spec.subgroup_prevalence):
        share = (every == g).mean()
        assert abs(share - prevalence) < 4 * np.sqrt(prevalence * (1 - prevalence) / every.size)
    # Patients of the "other" group only ever get docetaxel or io_combo.
    other = chunk.arm[enrolled][groups == 2]
    assert set(np.unique(other)) <= {0, 3}


def test_a_truth_that_differs_by_subgroup_is_used_per_patient():
    # 600 trials, seed 6: response of fgfr patients on fgfr_drug ≈ 0.45, on docetaxel ≈ 0.05,
    # of other patients on docetaxel ≈ 0.15 (within 4 binomial SE).
    chunk = run("matched", 600, 6)
    enrolled = chunk.arm >= 0
    for arm, group, p in ((1, 0, 0.45), (0, 0, 0.05), (0, 2, 0.15)):
        who = enrolled & (chunk.arm == arm) & (chunk.group == group)
        rate = chunk.responded[who].mean()
        assert abs(rate - p) < 4 * np.sqrt(p * (1 - p) / who.sum()), (arm, group, rate)


@pytest.mark.slow
def test_each_arm_is_compared_with_the_controls_of_its_subgroups():
    # Under `matched`, the FGFR drug (0.45) beats docetaxel in FGFR patients (0.05) by far
    # more than it would against all controls (0.15 mostly): it must be declared effective
    # in nearly every trial, and the null arms rarely. 1,000 trials, seed 7.
    chunk = run("matched", 1000, 7)
    efficacy = chunk.records.status == codes.EFFICACY
    assert efficacy[:, 1].mean() > 0.95
    assert efficacy[:, 2].mean() < 0.1 and efficacy[:, 3].mean() < 0.1
    # The recorded difference is against FGFR controls: about 0.45 − 0.05.
    diff = chunk.records.diff_estimate[:, 1]
    assert abs(np.nanmean(diff) - 0.40) < 0.05


def test_survival_subgroups_draw_event_times_from_the_subgroup_truth():
    text = UMBRELLA.replace(
        "endpoint: {kind: binary, name: response}",
        "endpoint: {kind: time_to_event, name: OS, unit: months}",
    )
    text = text.replace(
        """  null:
    docetaxel: {p: 0.15}
    fgfr_drug: {p: 0.15}
    met_drug: {p: 0.15}
    io_combo: {p: 0.15}
  matched:
    docetaxel: {p: 0.15, by_subgroup: {fgfr: {p: 0.05}}}
    fgfr_drug: {p: 0.15, by_subgroup: {fgfr: {p: 0.45}}}
    met_drug: {p: 0.15}
    io_combo: {p: 0.15}""",
        """  matched:
    docetaxel: {median: 10, by_subgroup: {fgfr: {median: 6}}}
    fgfr_drug: {hazard_ratio: 1.0, by_subgroup: {fgfr: {hazard_ratio: 0.5}}}
    met_drug: {hazard_ratio: 1.0}
    io_combo: {hazard_ratio: 1.0}""",
    ).replace("    decisions:", "    follow_up_months: 6\n    decisions:")
    chunk = run("matched", 300, 8, text, SurvivalChunk)
    enrolled = chunk.arm >= 0
    # 300 trials, seed 8: median event time of FGFR patients on the FGFR drug ≈ 12 months
    # (HR 0.5 against a median of 6); of other patients on docetaxel ≈ 10.
    for arm, group, median in ((1, 0, 12.0), (0, 2, 10.0)):
        who = enrolled & (chunk.arm == arm) & (chunk.group == group)
        times = chunk.event_time[who]
        sd = median / np.sqrt(np.log(2) ** 2 * who.sum())  # exponential median's sd
        assert abs(np.median(times) - median) < 4 * sd, (arm, group, np.median(times))


def test_subgroup_problems_are_reported():
    bad = (
        UMBRELLA.replace("prevalence: 0.75", "prevalence: 0.5")
        .replace("eligible: [met]", "eligible: [mett]")
        .replace(
            "  - {id: docetaxel, control: true}",
            "  - {id: docetaxel, control: true, eligible: [other]}",
        )
    )
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(bad, "umbrella.yaml")
    text = "\n".join(str(p) for p in caught.value.problems)
    assert "prevalences must add up to 1" in text
    assert "unknown subgroup; allowed subgroup ids: fgfr, met, other; got 'mett'" in text
    assert "the control arm must be open to every subgroup" in text


class _OnePatientBlocks(SurvivalChunk):
    def _first_block(self, count: int) -> int:
        return 1


class _EveryoneAtOnce(SurvivalChunk):
    def _first_block(self, count: int) -> int:
        return self.n_patients


@pytest.mark.parametrize("looks", ["{every_events: 60}", "{every_events: 25, events_in: control}"])
def test_event_look_times_do_not_depend_on_how_many_patients_are_assigned_ahead(looks):
    # The engine assigns tentative arms only to a prefix of the patients still to come
    # (docs/engine.md); blocks of 1 patient (many extensions) and assigning everyone at once
    # (the plain rule) must give identical trials. 200 trials, seed 12; subgroups, dropout,
    # a time trend and control-only event counts are the cases where this could go wrong.
    text = (
        UMBRELLA.replace(
            "endpoint: {kind: binary, name: response}",
            "endpoint: {kind: time_to_event, name: OS, unit: months}",
        )
        .replace(
            UMBRELLA.split("truths:\n")[1].split("accrual:")[0],
            "  matched:\n"
            "    docetaxel: {median: 10, by_subgroup: {fgfr: {median: 6}}}\n"
            "    fgfr_drug: {hazard_ratio: 1.0, by_subgroup: {fgfr: {hazard_ratio: 0.5}}}\n"
            "    met_drug: {hazard_ratio: 0.8}\n"
            "    io_combo: {hazard_ratio: 0.7}\n",
        )
        .replace("looks: {every_patients: 100}", f"looks: {looks}")
        .replace("    decisions:", "    follow_up_months: 6\n    decisions:")
    )
    spec = dataclasses.replace(
        build_trial_spec(parse_scenario(text), "thompson", "matched"),
        dropout_per_month=np.array([0.02, 0.01, 0.03, 0.0]),
        trend_per_month=0.02,
    )
    runs = [
        chunk_class(spec, np.random.default_rng(12), 200).run()
        for chunk_class in (SurvivalChunk, _OnePatientBlocks, _EveryoneAtOnce)
    ]
    assert runs[0].n_looks_done.mean() > 3  # event-driven looks did happen
    for other in runs[1:]:
        for field in dataclasses.fields(other):
            np.testing.assert_array_equal(
                getattr(runs[0], field.name), getattr(other, field.name), err_msg=field.name
            )
