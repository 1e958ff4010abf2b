"""`platsim calibrate`: threshold search on common random numbers.

Seeds and trial counts are stated in each test. The exact reference is a non-adaptive
two-arm design (fixed 1:1 blocked randomization of 30 patients, one final analysis, no
outcome lag): its type I error at threshold t is Σ P(y_c) P(y_e) 1[P(p_e > p_c | y) > t]
over the 31 × 31 binomial outcome pairs, with the exact Beta–Beta P(better) below.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pytest
from scipy.special import betaln
from scipy.stats import binom
from typer.testing import CliRunner

from platsim.calibrate import (
    PARAMETERS,
    Target,
    calibrate,
    exact_steps_available,
    resolve_measure,
    shortest_decimal,
    summarise,
    write_calibrated_scenario,
)
from platsim.cli.main import app
from platsim.errors import ArgumentError
from platsim.scenario.load import load_scenario, parse_scenario
from platsim.simulate import simulate_design_truth
from platsim.specs import build_trial_spec

N_PER_ARM = 15
P_NULL = 0.3

EXACT_SCENARIO = f"""\
name: exact_two_arm
title: Two-arm fixed 1:1 design with one final analysis (exact type I error)
sources: ["tests: exact binomial reference"]
endpoint: {{kind: binary, name: ORR}}
arms:
  - {{id: ctrl, label: Control, control: true}}
  - {{id: exp, label: Experimental}}
truths:
  "null": {{ctrl: {{p: {P_NULL}}}, exp: {{p: {P_NULL}}}}}
  reported: {{ctrl: {{p: 0.3}}, exp: {{p: 0.6}}}}
accrual: {{rate_per_month: 10}}
designs:
  fixed:
    max_patients: {2 * N_PER_ARM}
    allocation: {{rule: fixed, ratios: {{ctrl: 1, exp: 1}}, randomization: blocked}}
    decisions:
      efficacy: {{threshold: 0.975}}  # P(p_exp > p_ctrl) > threshold at the final analysis
"""

ADAPTIVE_SCENARIO = """\
name: adaptive_four_arm
title: Four-arm Thompson platform with interim looks (calibration tests)
sources: ["tests"]
endpoint: {kind: binary, name: ORR, outcome_lag_months: 1}
arms:
  - {id: ctrl, label: Control, control: true}
  - {id: a, label: A}
  - {id: b, label: B}
  - {id: c, label: C}
truths:
  "null": {ctrl: {p: 0.25}, a: {p: 0.25}, b: {p: 0.25}, c: {p: 0.25}}
  reported: {ctrl: {p: 0.25}, a: {p: 0.45}, b: {p: 0.30}, c: {p: 0.35}}
accrual: {rate_per_month: 10}
designs:
  thompson:
    max_patients: 160
    allocation:
      rule: thompson
      control: {sqrt: true}
      burn_in_patients: 40
      min_prob: 0.05
    looks: {every_patients: 40, first_at: 60}
    decisions:
      efficacy: {threshold: 0.99}
      futility: {threshold: 0.05}
  best:
    max_patients: 160
    allocation: {rule: thompson, burn_in_patients: 40}
    looks: {every_patients: 40, first_at: 60}
    decisions: {stop_for_best: {threshold: 0.95}, futility: {threshold: 0.02}}
"""

NO_CONTROL_SCENARIO = """\
name: no_control
title: Three arms without a control, stop for best (adaptr-like)
sources: ["tests"]
endpoint: {kind: binary, name: mortality, higher_is_better: false}
arms:
  - {id: A, label: A}
  - {id: B, label: B}
  - {id: C, label: C}
truths:
  "null": {A: {p: 0.25}, B: {p: 0.25}, C: {p: 0.25}}
accrual: {rate_per_month: 20}
designs:
  rar:
    max_patients: 300
    allocation: {rule: thompson, power: 0.5}
    looks: {every_patients: 50, first_at: 100}
    decisions:
      stop_for_best: {threshold: 0.99}
      drop_if_p_best_below: 0.01
"""


def _write(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------- exact reference


def exact_p_better(a_e: int, b_e: int, a_c: int, b_c: int) -> float:
    """P(X_e > X_c), X ~ Beta with integer parameters (closed-form finite sum)."""
    i = np.arange(a_e)
    terms = betaln(a_c + i, b_c + b_e) - np.log(b_e + i) - betaln(1 + i, b_e) - betaln(a_c, b_c)
    return float(np.exp(terms).sum())


def exact_error_steps(n: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    """(breakpoints, error on [breakpoint_j, breakpoint_{j+1})): the exact type I error
    as a right-continuous step function of the threshold (decision: P(better) > t)."""
    q, w = [], []
    for y_c in range(n + 1):
        for y_e in range(n + 1):
            q.append(exact_p_better(1 + y_e, 1 + n - y_e, 1 + y_c, 1 + n - y_c))
            w.append(binom.pmf(y_c, n, p) * binom.pmf(y_e, n, p))
    q, w = np.array(q), np.array(w)
    # Outcome pairs with the same P(better) (e.g. mirror images) are one breakpoint.
    order = np.argsort(q)
    q, w = q[order], w[order]
    groups = np.concatenate([[0], np.cumsum(np.diff(q) > 1e-10)])
    breaks = np.array([q[groups == g][0] for g in range(groups[-1] + 1)])
    mass = np.array([w[groups == g].sum() for g in range(groups[-1] + 1)])
    # error at t in [breaks_j, breaks_{j+1}) = mass of the pairs with P(better) > breaks_j
    error = mass[::-1].cumsum()[::-1] - mass
    return breaks, error


def exact_error_at(breaks: np.ndarray, error: np.ndarray, t: float) -> float:
    j = np.searchsorted(breaks + 1e-10, t, side="right") - 1
    return float(error[j]) if j >= 0 else float(error[0] + 1)


def test_exact_p_better_matches_the_engine():
    from platsim.engine.quadrature import beta_p_better

    alpha = np.array([[4.0, 9.0]])
    beta = np.array([[13.0, 8.0]])
    engine = beta_p_better(alpha, beta, alpha[:, :1], beta[:, :1], 0.0, True)[0, 1]
    # The engine integrates numerically: agreement to ~1e-10 (breakpoints match to 1e-9).
    assert engine == pytest.approx(exact_p_better(9, 8, 4, 13), abs=1e-9)


@pytest.mark.parametrize(
    "target, clear_cut",
    [
        # Exact error 0.0571 just below the answer and 0.0436 at it: the MC error (0.0015
        # at 20,000 trials) cannot move the crossing to another step.
        (0.05, True),
        # Exact errors 0.0274 / 0.0200 / 0.0189 around 0.02: 0.0200 is within MC error of
        # the target, so the crossing may be at either of two exact steps.
        (0.02, False),
    ],
)
def test_calibration_matches_the_exact_step_function(tmp_path, target, clear_cut):
    """20,000 trials, seed 20261122: the calibrated value lies in the exact step whose
    error is the largest ≤ target (clear-cut case), or in a step whose exact error is
    within 3 MCSE of the target; the step's start is an exact breakpoint."""
    path = _write(tmp_path, EXACT_SCENARIO, "exact.yaml")
    n_trials, seed = 20_000, 20261122
    result = calibrate(
        path,
        design="fixed",
        truth="null",
        target=Target("fwer", target),
        n_trials=n_trials,
        seed=seed,
        chunk_size=20_000,
    )
    breaks, error = exact_error_steps(N_PER_ARM, P_NULL)
    assert result.exact and result.verified
    start, end = result.interval
    value = result.value
    assert start <= value < end
    # The search's step starts at an exact breakpoint (an outcome pair's P(better)).
    j = int(np.argmin(np.abs(breaks - start)))
    assert abs(breaks[j] - start) < 1e-9
    mcse = math.sqrt(target * (1 - target) / n_trials)
    # The exact answer: the first breakpoint whose step has error ≤ target.
    j_star = int(np.flatnonzero(error <= target)[0])
    if clear_cut:
        assert j == j_star
    else:
        allowed = [k for k in range(len(breaks)) if abs(error[k] - target) <= 3 * mcse]
        assert j in allowed or (j == j_star and error[j_star - 1] - target <= 3 * mcse)
    # The calibrated value lies in that same exact step (not beyond the next breakpoint).
    assert breaks[j] <= value < breaks[j + 1]
    # The achieved (simulated) rate agrees with the exact error of that step.
    assert result.achieved.rate <= target
    assert abs(result.achieved.rate - error[j]) <= 3 * result.achieved.mcse
    assert exact_error_at(breaks, error, value) == pytest.approx(error[j], abs=1e-12)


def test_search_finds_the_empirical_step_exactly(tmp_path):
    """Without interim looks every trial reaches the final analysis whatever the threshold,
    so the simulated error at t is the share of trials with P(better) > t: the calibrated
    step must start at exactly the smallest such P with share ≤ target (5,000 trials,
    seed 7)."""
    path = _write(tmp_path, EXACT_SCENARIO, "exact.yaml")
    n_trials, seed, target = 5_000, 7, 0.05
    spec = build_trial_spec(load_scenario(path), "fixed", "null")
    records = simulate_design_truth(
        spec, seed=seed, truth="null", n_trials=n_trials, chunk_size=1_000
    )
    p = np.sort(records.p_better_than_control[:, 1])
    shares = (n_trials - np.searchsorted(p, p, side="right")) / n_trials
    empirical = p[np.flatnonzero(shares <= target)[0]]
    result = calibrate(
        path,
        design="fixed",
        truth="null",
        target=Target("fwer", target),
        n_trials=n_trials,
        seed=seed,
        chunk_size=1_000,
    )
    assert result.interval[0] == empirical
    assert result.achieved.rate == float((p > empirical).mean())
    # Predicted crossings are exact here: both ends, the crossing and its neighbour, and
    # the written value.
    assert len(result.evaluations) <= 5
    # --target-alpha for the one null arm is the same rate.
    alpha = calibrate(
        path,
        design="fixed",
        truth="null",
        target=Target("alpha", target, "exp"),
        n_trials=n_trials,
        seed=seed,
        chunk_size=1_000,
    )
    assert alpha.value_text == result.value_text


def test_power_target_takes_the_strictest_threshold(tmp_path):
    """Power ≥ 0.8 under p = 0.3 vs 0.6 (4,000 trials, seed 3): the achieved power meets
    it and the next stricter step does not."""
    path = _write(tmp_path, EXACT_SCENARIO, "exact.yaml")
    result = calibrate(
        path,
        design="fixed",
        truth="reported",
        target=Target("power", 0.6),
        n_trials=4_000,
        seed=3,
    )
    assert result.exact
    assert result.achieved.rate >= 0.6 > result.neighbour.rate
    assert result.neighbour.value > result.value


# --------------------------------------------------------------------- adaptive designs


def test_adaptive_fwer_on_a_fresh_seed_is_within_two_combined_mcse(tmp_path):
    """Calibrate the efficacy threshold of a Thompson design with interim looks to FWER
    0.10 on 4,000 trials (seed 1); on 4,000 fresh trials (seed 2) the FWER is within
    2 combined MCSE (√(MCSE_calibration² + MCSE_fresh²)) of the target.

    This holds for about 95% of seed pairs, not all: with calibration seed 101 the
    calibrated value's true FWER is 0.113 (40,000 trials), 2.5 MCSE of the calibration
    trials above the target, and the check fails at 2.3 combined MCSE."""
    path = _write(tmp_path, ADAPTIVE_SCENARIO, "adaptive.yaml")
    target = 0.10
    result = calibrate(
        path,
        design="thompson",
        truth="null",
        target=Target("fwer", target),
        n_trials=4_000,
        seed=1,
        check_seed=2,
    )
    assert result.exact and result.verified
    assert result.achieved.rate <= target < result.neighbour.rate
    assert result.target_in_interval()
    check = result.check
    assert check is not None and check.seed == 2
    combined = math.sqrt(result.achieved.mcse**2 + check.mcse**2)
    assert check.combined_mcse == pytest.approx(combined)
    assert abs(check.rate - target) <= 2 * combined


@pytest.mark.parametrize(
    "design, parameter, value",
    [
        ("thompson", "efficacy.threshold", 0.97),
        ("thompson", "futility.threshold", 0.2),
        ("best", "stop_for_best.threshold", 0.9),
    ],
)
def test_records_reveal_the_exact_stretch_of_identical_trials(tmp_path, design, parameter, value):
    """The claim the search rests on (1,000 trials, seed 5): every value in the stretch a
    simulation reveals gives identical records; its revealed end gives different ones."""
    path = _write(tmp_path, ADAPTIVE_SCENARIO, "adaptive.yaml")
    spec = build_trial_spec(load_scenario(path), design, "null")
    param = PARAMETERS[parameter]
    assert exact_steps_available(spec, param)
    measure = resolve_measure(spec, Target("fwer", 0.1), "null")

    def records_at(t: float):
        candidate = replace(spec, **{param.spec_field: t})
        return candidate, simulate_design_truth(
            candidate, seed=5, truth="null", n_trials=1_000, chunk_size=500
        )

    def same(r1, r2) -> bool:
        return all(
            np.array_equal(getattr(r1, f.name), getattr(r2, f.name), equal_nan=True)
            for f in fields(r1)
        )

    candidate, base = records_at(value)
    evaluation = summarise(base, candidate, param, measure, value, exact=True, seed=5)
    if param.revealed_side == "upper":
        edge = evaluation.known_high
        inside = [value + (edge - value) * f for f in (0.01, 0.5, 0.999)]
    else:
        edge = evaluation.known_low
        inside = [value - (value - edge) * f for f in (0.01, 0.5, 0.999)]
    assert edge != value
    for t in inside:
        assert same(base, records_at(t)[1]), t
    assert not same(base, records_at(edge)[1])


def test_no_control_design_calibrates_stop_for_best(tmp_path):
    """Without a control, FWER under the global null is P(any arm declared best)
    (2,000 trials, seed 11)."""
    path = _write(tmp_path, NO_CONTROL_SCENARIO, "nocontrol.yaml")
    result = calibrate(
        path,
        design="rar",
        truth="null",
        target=Target("fwer", 0.05),
        parameter="stop_for_best.threshold",
        search_range=(0.9, 0.9999),
        n_trials=2_000,
        seed=11,
    )
    assert result.exact and result.verified
    assert result.measure.arms == (0, 1, 2)
    assert result.achieved.rate <= 0.05 < result.neighbour.rate


# --------------------------------------------------------------------- command line


def run_cli(*args: str):
    return CliRunner().invoke(app, list(args))


def test_unreachable_target_exits_2_with_the_achievable_range(tmp_path):
    """500 trials, seed 1: FWER 0.001 cannot be reached with efficacy thresholds ≤ 0.9."""
    path = _write(tmp_path, ADAPTIVE_SCENARIO, "adaptive.yaml")
    result = run_cli(
        "calibrate", str(path), "--design", "thompson", "--truth", "null",
        "--target-fwer", "0.001", "--range", "0.5,0.9", "--trials", "500", "--seed", "1",
        "--workers", "1", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.exit_code == 2
    message = result.output
    assert "unreachable with efficacy.threshold in [0.5, 0.9]" in message
    assert "Achievable FWER in that range:" in message
    assert "Traceback" not in message
    # And a target already met at the low end of the range is refused too.
    result = run_cli(
        "calibrate", str(path), "--design", "thompson", "--target-fwer", "0.99",
        "--range", "0.9,0.99", "--trials", "500", "--workers", "1",
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.exit_code == 2
    assert "already at most 0.99 at the low end" in result.output


def test_cli_writes_a_valid_scenario_with_the_calibrated_value(tmp_path):
    """2,000 trials, seed 4: the copy validates, holds the value, and differs from the
    original on that one line only."""
    path = _write(tmp_path, ADAPTIVE_SCENARIO, "adaptive.yaml")
    copy = tmp_path / "calibrated.yaml"
    result = run_cli(
        "calibrate", str(path), "--design", "thompson", "--truth", "null",
        "--target-fwer", "0.1", "--trials", "2000", "--seed", "4", "--workers", "1",
        "--write-scenario", str(copy), "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "out" / "calibration_thompson_null.json").read_text())
    value_text = saved["calibrated_value_text"]
    assert saved["achieved"]["rate"] <= 0.1
    assert saved["exact_step"] is True
    assert f"Calibrated efficacy.threshold of design thompson: {value_text}" in result.output
    assert "95% interval" in result.output
    scenario = load_scenario(copy)
    assert scenario.designs["thompson"].decisions.efficacy.threshold == float(value_text)
    before = path.read_text().splitlines()
    after = copy.read_text().splitlines()
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert len(changed) == 1
    assert after[changed[0]] == f"      efficacy: {{threshold: {value_text}}}"


def test_write_scenario_edits_only_the_named_value(tmp_path):
    text = ADAPTIVE_SCENARIO.replace(
        "    decisions: {stop_for_best: {threshold: 0.95}, futility: {threshold: 0.02}}",
        "    decisions: {stop_for_best: {threshold: 0.95}, futility: {threshold: 0.02}}  # keep",
    )
    path = _write(tmp_path, text, "adaptive.yaml")
    out = tmp_path / "copy.yaml"
    line = write_calibrated_scenario(path, out, "best", "futility.threshold", "0.035")
    new = out.read_text()
    assert new.splitlines()[line - 1] == (
        "    decisions: {stop_for_best: {threshold: 0.95}, futility: {threshold: 0.035}}  # keep"
    )
    assert new == text.replace("{threshold: 0.02}", "{threshold: 0.035}")
    with pytest.raises(ArgumentError, match="must name a new file"):
        write_calibrated_scenario(path, path, "best", "futility.threshold", "0.035")


def test_write_scenario_refuses_a_value_shared_through_an_anchor(tmp_path):
    text = (
        ADAPTIVE_SCENARIO.replace(
            "      efficacy: {threshold: 0.99}\n      futility: {threshold: 0.05}",
            "      efficacy: &eff {threshold: 0.99}\n      futility: {threshold: 0.05}",
        )
        + "  copy:\n    max_patients: 160\n    allocation: {rule: thompson}\n"
        + "    decisions: {efficacy: *eff}\n"
    )
    parse_scenario(text)  # valid
    path = _write(tmp_path, text, "anchored.yaml")
    with pytest.raises(ArgumentError, match="YAML anchor"):
        write_calibrated_scenario(
            path, tmp_path / "out.yaml", "thompson", "efficacy.threshold", "0.98"
        )
    assert not (tmp_path / "out.yaml").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--target-fwer", "0.1", "--target-alpha", "0.05"], "exactly one of --target-fwer"),
        ([], "exactly one of --target-fwer"),
        (["--target-fwer", "0.1", "--truth", "reported"], "truth 'reported' has none"),
        (["--target-fwer", "1.5"], "must be a probability in (0, 1)"),
        (["--target-fwer", "0.1", "--parameter", "stop_for_best.threshold"],
         "the design has no decisions.stop_for_best"),
        (["--target-fwer", "0.1", "--parameter", "efficacy.margin"], "--parameter must be one of"),
        (["--target-alpha", "0.1", "--arm", "zzz"], "--arm must be one of"),
        (["--target-power", "0.8", "--arm", "ctrl", "--truth", "reported"],
         "experimental arm for --target-power"),
        (["--target-fwer", "0.1", "--range", "0.9,0.5"], "--range must be two numbers"),
    ],
)  # fmt: skip
def test_bad_arguments_exit_2(tmp_path, args, message):
    path = _write(tmp_path, ADAPTIVE_SCENARIO, "adaptive.yaml")
    result = run_cli(
        "calibrate", str(path), "--design", "thompson", "--trials", "10", "--workers", "1",
        "--out", str(tmp_path / "out"), *args,
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert message in result.output


@pytest.mark.parametrize(
    "low, high, closed, expected",
    [
        (0.9433073785, 0.9493882091, (True, False), "0.944"),
        (0.94, 0.95, (True, False), "0.94"),
        (0.94, 0.95, (False, True), "0.95"),
        (0.949, 0.95, (False, False), "0.9491"),
        (0.1, 0.1, (True, True), "0.1"),
    ],
)
def test_shortest_decimal(low, high, closed, expected):
    assert shortest_decimal(low, high, *closed) == expected


def test_readme_calibrate_example_runs(tmp_path, monkeypatch):
    """The README's calibrate example exactly as written (2,000 trials, default seed)."""
    from tests.test_compare import readme_command

    monkeypatch.chdir(tmp_path)
    args = readme_command("calibrate")
    result = run_cli(*args, "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "Calibrated efficacy.threshold of design group_sequential" in result.output
    scenario = load_scenario(tmp_path / "altn_calibrated.yaml")
    saved = json.loads(
        (
            tmp_path / "results" / "altn_sarcoma_orr" / "calibration_group_sequential_null.json"
        ).read_text()
    )
    threshold = scenario.designs["group_sequential"].decisions.efficacy.threshold
    assert threshold == saved["calibrated_value"]
