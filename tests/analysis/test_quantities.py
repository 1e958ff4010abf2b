"""Same numbers and same code path as the engine, without PyMC.

The shipped example is one engine trial cut at its first interim look: its data, analysed
with the exact conjugate values and `apply_design`, must give what the engine decided and
allocated at that look. The golden file is regenerated from its committed recipe.
"""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

from platsim.analysis.data import InterimData
from platsim.analysis.evidence import cells, evidence
from platsim.analysis.interim import prepare_analysis
from platsim.analysis.quantities import (
    DrawSource,
    ExactSource,
    apply_design,
    best_indicator,
    conjugate_parameters,
    decision_quantities,
)
from platsim.engine import spec as codes
from platsim.engine.survival_data import events_and_exposure
from platsim.scenario.load import load_scenario
from platsim.specs import build_trial_spec

from .helpers import NO_CONTROL_SCENARIO, REPO, SURVIVAL_SCENARIO, platform_look


def _example_module():
    path = REPO / "examples" / "make_pioneer_interim.py"
    spec = importlib.util.spec_from_file_location("make_pioneer_interim", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_pioneer_interim"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    module = _example_module()
    out = tmp_path_factory.mktemp("example") / "pioneer_interim.csv"
    info = module.make(out)
    return module, out, info


def test_shipped_dataset_is_reproduced_by_its_recipe(example):
    _, out, _ = example
    assert out.read_bytes() == (REPO / "examples" / "pioneer_interim.csv").read_bytes()


def test_example_cut_gives_the_engines_decisions_and_allocation(example):
    module, out, info = example
    prep = prepare_analysis(out, REPO / module.SCENARIO, module.DESIGN)
    spec, ev = prep.spec, prep.evidence
    outcome = prep.exact_outcome()
    exact = outcome.quantities
    successes, trials = ev.per_arm()
    records, chunk = info["records"], info["chunk"]
    # Arms the engine decided at its first look (analysis 0): same status, same numbers.
    decided = records.decision_look[0] == 0
    assert decided.any()
    for k in np.flatnonzero(decided):
        assert outcome.status[k] == codes.STATUS_NAMES[records.status[0, k]]
        assert exact.p_better[k] == pytest.approx(records.p_better_than_control[0, k], abs=1e-12)
        assert exact.p_best[k] == pytest.approx(records.p_best[0, k], abs=1e-12)
        assert trials[k] == records.n_observed[0, k]
        assert successes[k] == records.n_responses[0, k]
    for k in np.flatnonzero(~decided):
        assert outcome.status[k] == "none"
    np.testing.assert_array_equal(
        ev.n_enrolled, np.bincount(chunk.arm[0, : module.LOOK_PATIENTS], minlength=spec.n_arms)
    )
    # The allocation the engine used after that look.
    np.testing.assert_allclose(outcome.next_allocation, chunk.allocation_history[0, 1], atol=1e-12)
    assert not outcome.stop


def test_platform_look_gives_the_engines_decisions_openings_and_trippa_allocation(tmp_path):
    """scenarios/pioneer_platform.yaml, design trippa (concurrent controls, max 3 active
    arms, durva_combo_c opens after 100 patients, durva_combo_d from month 18), seed 1: at
    the look at 200 patients the engine drops durva_combo_c for futility (compared with the
    controls randomized since it opened at 120 patients) and opens durva_combo_d in the freed
    slot. The data cut at that look, analysed with --opened for durva_combo_c, gives the
    same decisions, opening and Trippa allocation."""
    case = platform_look(tmp_path)
    spec, chunk, records = case["spec"], case["chunk"], case["records"]
    look, n_look, opened = case["look"], case["n_look"], case["opened"]
    assert n_look == 200
    assert [item.split("=")[0] for item in opened] == ["durva_combo_c"]
    prep = prepare_analysis(
        case["data"], case["scenario"], "trippa", as_of=case["as_of"], opened=opened
    )
    outcome = prep.exact_outcome()
    decided_now = records.decision_look[0] == look
    for k in range(spec.n_arms):
        expected = codes.STATUS_NAMES[records.status[0, k]] if decided_now[k] else "none"
        assert outcome.status[k] == expected, spec.arm_ids[k]
    assert outcome.status[3] == "futility"
    np.testing.assert_array_equal(outcome.opens_now, records.open_n[0] == n_look)
    assert outcome.opens_now.tolist() == [False, False, False, False, True]
    # durva_combo_c was compared with its concurrent controls, as in the engine's records.
    assert prep.references.restricted.tolist() == [False, False, False, True, True]
    assert outcome.quantities.p_better[3] == pytest.approx(
        records.p_better_than_control[0, 3], abs=1e-12
    )
    np.testing.assert_allclose(
        outcome.next_allocation, chunk.allocation_history[0, look + 1], atol=1e-12
    )


def test_draw_frequencies_match_exact_values_with_many_independent_draws():
    """The draw-based code path, fed exact posterior draws, gives the exact values."""
    spec = build_trial_spec(
        load_scenario(REPO / "scenarios/pioneer_dcr.yaml"), "thompson", "reported"
    )
    successes = np.array([5.0, 8.0, 1.0, 5.0])
    trials = np.array([8.0, 18.0, 7.0, 9.0])
    active = np.ones(4, dtype=bool)
    a, b = conjugate_parameters(spec, successes, trials)
    exact = decision_quantities(spec, ExactSource(spec, a, b, None, None, 0), active, 0)
    rng = np.random.default_rng(3)
    draws = rng.beta(a, b, size=(400_000, 4))
    mc = decision_quantities(spec, DrawSource(spec, draws, None, 0), active, 0)
    np.testing.assert_allclose(mc.p_best, exact.p_best, atol=0.004)
    np.testing.assert_allclose(mc.p_better[1:], exact.p_better[1:], atol=0.004)
    assert np.isnan(mc.p_better[0]) and np.isnan(exact.p_better[0])


def test_inactive_arms_are_never_best():
    draws = np.array([[0.1, 0.9, 0.5], [0.2, 0.8, 0.9]])
    best = best_indicator(draws, np.array([True, False, True]), lower_is_better=False)
    np.testing.assert_array_equal(best, [[0, 0, 1], [0, 0, 1]])


class _Fixed:
    """A source with given probabilities."""

    def __init__(self, p_best, p_better):
        self._best, self._better = np.asarray(p_best), np.asarray(p_better)

    def p_best(self, active):
        return np.where(active, self._best, 0.0)

    def p_better(self, margin):
        return self._better


def test_apply_design_is_decide_and_allocation_on_one_row():
    """A futile arm is dropped, the trial goes on, the allocation excludes the arm."""
    spec = build_trial_spec(
        load_scenario(REPO / "scenarios/pioneer_dcr.yaml"), "thompson", "reported"
    )
    source = _Fixed([0.3, 0.5, 0.01, 0.19], [np.nan, 0.7, 0.02, 0.4])
    kwargs = dict(
        active=np.ones(4, bool),
        opened=np.ones(4, bool),
        control=0,
        n_enrolled=np.array([40, 40, 40, 40]),
        month=10.0,
    )
    out = apply_design(spec, source, is_final=False, **kwargs)
    assert out.status == ("none", "none", "futility", "none")
    assert out.next_allocation[2] == 0.0 and out.next_allocation.sum() == pytest.approx(1.0)
    final = apply_design(spec, source, is_final=True, **kwargs)
    assert final.stop and final.stop_reason == "max_patients" and final.next_allocation is None


def test_piecewise_evidence_matches_the_engine(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SURVIVAL_SCENARIO)
    spec = build_trial_spec(load_scenario(path), "piecewise", "reported")
    rng = np.random.default_rng(5)
    n = 300
    arm = rng.integers(0, spec.n_arms, n)
    follow = rng.exponential(4.0, n)
    event = rng.random(n) < 0.6
    interim = InterimData(
        as_of_month=20.0,
        arm=arm,
        subgroup=np.zeros(n, dtype=np.int64),
        enrolled_month=rng.uniform(0, 10, n),
        n_enrolled=np.bincount(arm, minlength=4),
        observed=np.ones(n, bool),
        responded=event,
        follow_up_months=follow,
        event=event,
    )
    ev = evidence(spec, interim, 1)
    events, exposure = events_and_exposure(
        arm[None], follow[None], event[None], spec.n_arms, spec.cut_points_months
    )
    np.testing.assert_allclose(ev.successes[:, 0, :], events[0])
    np.testing.assert_allclose(ev.trials[:, 0, :], exposure[0])
    assert ev.decision_piece == 1
    c = cells(spec, interim, "none", 6.0)
    assert c.successes.sum() == event.sum()
    assert c.trials.sum() == pytest.approx(follow.sum())
    by_period = cells(spec, interim, "period", 2.0)
    assert by_period.trials.sum() == pytest.approx(follow.sum())
    assert set(np.unique(by_period.time_month)) <= set(range(5))


def test_designs_without_control_drop_and_allocate(tmp_path):
    path = tmp_path / "nc.yaml"
    path.write_text(NO_CONTROL_SCENARIO)
    spec = build_trial_spec(load_scenario(path), "pick_best", "reported")
    successes, trials = np.array([2.0, 12.0, 15.0]), np.array([30.0, 30.0, 30.0])
    active = np.ones(3, dtype=bool)
    a, b = conjugate_parameters(spec, successes, trials)
    source = ExactSource(spec, a, b, None, None, -1)
    out = apply_design(
        spec,
        source,
        active=active,
        opened=active,
        control=-1,
        n_enrolled=np.array([30] * 3),
        month=3.0,
        is_final=False,
    )
    exact = out.quantities
    assert exact.p_better is None and exact.p_better_efficacy is None
    assert exact.p_best.sum() == pytest.approx(1.0, abs=1e-6)
    assert out.status[0] == "dropped" and out.control == -1 and not out.stop
    expected = exact.p_best[1:] ** 0.5 / (exact.p_best[1:] ** 0.5).sum()
    np.testing.assert_allclose(out.next_allocation, [0.0, *expected])
    rng = np.random.default_rng(1)
    draws = rng.beta(a, b, size=(200_000, 3))
    mc = decision_quantities(spec, DrawSource(spec, draws, None, -1), active, -1)
    assert mc.p_better is None
    np.testing.assert_allclose(mc.p_best, exact.p_best, atol=0.005)
