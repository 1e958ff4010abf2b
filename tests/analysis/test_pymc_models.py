"""PyMC fits: MCMC vs the engine's exact values, decisions through the engine's code,
hierarchical shrinkage and coverage, ArviZ diagnostics and their warnings, the README
command. Every fit states its draws, chains and seed; NUTS runs on one core.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from platsim.analysis.diagnostics import diagnose
from platsim.analysis.interim import SamplerSettings, analyze_trial
from platsim.analysis.models import ModelChoice
from platsim.analysis.quantities import apply_design
from platsim.engine import spec as codes
from platsim.engine.quadrature import (
    beta_p_best,
    beta_p_better,
    gamma_p_lowest,
    gamma_p_ratio_below,
)
from platsim.scenario.load import load_scenario
from platsim.specs import build_trial_spec

from .helpers import (
    BINARY_HEADER,
    BINARY_MIXED,
    BINARY_SMALL,
    NO_CONTROL_SCENARIO,
    REPO,
    SUBGROUP_HEADER,
    SURVIVAL_HEADER,
    SURVIVAL_MIXED,
    TWO_ARM_SCENARIO,
    binary_rows,
    invoke,
    platform_look,
    subgroup_rows,
    survival_rows,
    write_csv,
)

pytestmark = pytest.mark.pymc

#: Agreement runs: 4 chains × 10,000 draws (1,000 tuning), seed 1 — MCSE of a probability
#: at most ~0.0025, so 0.01 is at least 4 MCSE.
AGREEMENT_ARGS = ("--draws", 10_000, "--tune", 1000, "--chains", 4, "--cores", 1, "--seed", 1)
TOLERANCE = 0.01


def _exact_binary(counts, spec):
    n = np.array([counts[a][0] for a in spec.arm_ids], float)
    y = np.array([counts[a][1] for a in spec.arm_ids], float)
    a, b = spec.prior_alpha + y, spec.prior_beta + n - y
    active = np.ones((1, len(n)), bool)
    p_best = beta_p_best(a[None], b[None], active)[0]
    p_better = beta_p_better(a, b, a[0], b[0], 0.0)
    return p_best, p_better


def _exact_survival(counts, spec, piece_months):
    """Gamma posteriors of the decision piece [piece_months, ∞) (0: whole follow-up)."""
    events, exposure = [], []
    for arm in spec.arm_ids:
        n, d, months = counts[arm]
        # Every patient of an arm is followed `months`; events happen at that time.
        in_piece = max(months - piece_months, 0.0)
        events.append(d if months >= piece_months else 0)
        exposure.append(n * in_piece)
    a = spec.prior_shape + np.array(events, float)
    b = spec.prior_rate + np.array(exposure, float)
    active = np.ones((1, len(a)), bool)
    return a, b, gamma_p_lowest(a[None], b[None], active)[0]


class _Given:
    """Exact probabilities as a source for `apply_design` (every arm active)."""

    def __init__(self, p_best, p_better_by_margin):
        self.best, self.better = np.asarray(p_best), p_better_by_margin

    def p_best(self, active):
        assert active.all()
        return self.best

    def p_better(self, margin):
        return np.asarray(self.better[margin])


def _check_decisions(result_json, spec, exact_best, exact_eff, exact_fut):
    """The printed decisions / allocation are `decide` / `allocation_probabilities` on the
    exact probabilities (MCMC agrees, so the same code gives the same answer)."""
    arms = spec.arm_ids
    everyone = np.ones(len(arms), bool)
    outcome = apply_design(
        spec,
        _Given(exact_best, {spec.efficacy_margin: exact_eff, spec.futility_margin: exact_fut}),
        active=everyone,
        opened=everyone,
        control=spec.control_index,
        n_enrolled=np.array([result_json["arms"][a]["n_enrolled"] for a in arms]),
        month=0.0,
        is_final=False,
    )
    assert [result_json["arms"][a]["decision"] for a in arms] == list(outcome.status)
    got = np.array([result_json["next_allocation"][a] for a in arms])
    np.testing.assert_allclose(got, outcome.next_allocation, atol=TOLERANCE)
    assert result_json["exact_agrees"] is True
    return outcome


@pytest.mark.parametrize("counts", [BINARY_MIXED, BINARY_SMALL], ids=["mixed", "small"])
def test_beta_binomial_mcmc_agrees_with_exact_values(runner, tmp_path, binary_scenario, counts):
    data = write_csv(tmp_path / "d.csv", BINARY_HEADER, binary_rows(counts))
    out = tmp_path / "out"
    result = invoke(
        runner,
        "analyze",
        data,
        "-s",
        binary_scenario,
        "-d",
        "thompson",
        "--out",
        out,
        *AGREEMENT_ARGS,
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "analysis.json").read_text())
    spec = build_trial_spec(load_scenario(binary_scenario), "thompson", "reported")
    p_best, p_better = _exact_binary(counts, spec)
    for k, arm in enumerate(spec.arm_ids):
        entry = report["arms"][arm]
        assert entry["p_best"] == pytest.approx(p_best[k], abs=TOLERANCE), arm
        assert entry["mcse_p_best"] < TOLERANCE / 4
        if k != spec.control_index:
            assert entry["p_better"] == pytest.approx(p_better[k], abs=TOLERANCE), arm
            assert entry["mcse_p_better"] < TOLERANCE / 4
            assert entry["exact"]["p_better_efficacy"] == pytest.approx(p_better[k], abs=1e-9)
    eff = np.where(np.arange(spec.n_arms) == spec.control_index, np.nan, p_better)
    outcome = _check_decisions(report, spec, p_best, eff, eff)
    assert report["diagnostics"]["ok"], report["warnings"]
    if counts is BINARY_MIXED:
        assert outcome.status[spec.arm_ids.index("weak")] == "futility"
        # The terminal table shows the same decisions.
        assert re.search(r"weak\s.*futility", result.stdout)


@pytest.mark.parametrize("design", ["exponential", "piecewise"])
def test_gamma_exponential_mcmc_agrees_with_exact_values(
    runner, tmp_path, survival_scenario, design
):
    data = write_csv(tmp_path / "s.csv", SURVIVAL_HEADER, survival_rows(SURVIVAL_MIXED))
    out = tmp_path / "out"
    result = invoke(
        runner,
        "analyze",
        data,
        "-s",
        survival_scenario,
        "-d",
        design,
        "--out",
        out,
        *AGREEMENT_ARGS,
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "analysis.json").read_text())
    spec = build_trial_spec(load_scenario(survival_scenario), design, "reported")
    cut = float(spec.cut_points_months[-1]) if len(spec.cut_points_months) else 0.0
    a, b, p_best = _exact_survival(SURVIVAL_MIXED, spec, cut)
    c = spec.control_index
    p_eff = gamma_p_ratio_below(a, b, a[c], b[c], 1.0 - spec.efficacy_margin)
    p_fut = gamma_p_ratio_below(a, b, a[c], b[c], 1.0 - spec.futility_margin)
    for k, arm in enumerate(spec.arm_ids):
        entry = report["arms"][arm]
        assert entry["p_best"] == pytest.approx(p_best[k], abs=TOLERANCE), arm
        if k != c:
            assert entry["p_better_efficacy"] == pytest.approx(p_eff[k], abs=TOLERANCE), arm
            assert entry["p_better_futility"] == pytest.approx(p_fut[k], abs=TOLERANCE), arm
    mask = np.arange(spec.n_arms) == c
    _check_decisions(
        report, spec, p_best, np.where(mask, np.nan, p_eff), np.where(mask, np.nan, p_fut)
    )
    assert report["diagnostics"]["ok"], report["warnings"]
    assert report["model"]["decision_piece"] == -1


# --- hierarchical model ----------------------------------------------------------------------

#: Hierarchical fits: 2 chains × 1,000 draws (1,000 tuning), seeds stated per test.
HIER = SamplerSettings(draws=1000, tune=1000, chains=2, cores=1, seed=11)


@pytest.fixture
def two_arm_scenario(tmp_path):
    path = tmp_path / "two_arm.yaml"
    path.write_text(TWO_ARM_SCENARIO)
    return path


def test_hierarchical_model_shrinks_subgroup_effects_toward_each_other(tmp_path, two_arm_scenario):
    """Observed subgroup effects −0.10, +0.05, +0.15, +0.30 (control 30% everywhere,
    100 patients per arm and subgroup): partial pooling pulls them together."""
    exp_responses = {"a": 20, "b": 35, "c": 45, "d": 60}
    counts = {}
    for group, y in exp_responses.items():
        counts[("ctrl", group)] = (100, 30)
        counts[("exp", group)] = (100, y)
    data = write_csv(tmp_path / "h.csv", SUBGROUP_HEADER, subgroup_rows(counts))
    result = analyze_trial(
        data, two_arm_scenario, "fixed", choice=ModelChoice("hierarchical"), sampler=HIER
    )
    groups = result.data.subgroup_ids
    hierarchical = np.array(
        [result.subgroup_effect_summary(1, g).estimate for g in range(len(groups))]
    )
    # Separate fits: the conjugate Beta(1, 1)–Binomial model on each subgroup alone.
    separate = np.array([(1 + y) / 102 - 31 / 102 for y in exp_responses.values()])
    assert list(groups) == ["a", "b", "c", "d"]
    assert np.argsort(hierarchical).tolist() == [0, 1, 2, 3]  # order kept
    assert hierarchical.std() < 0.8 * separate.std()
    spread_h = np.abs(hierarchical - hierarchical.mean())
    spread_s = np.abs(separate - separate.mean())
    assert np.all(spread_h[[0, 3]] < spread_s[[0, 3]])  # the extremes move in
    assert result.diagnostics.max_r_hat < 1.05


def test_hierarchical_model_covers_the_truth_in_most_replicates(tmp_path, two_arm_scenario):
    """10 simulated trials (3 subgroups, 40 patients per arm and subgroup, true response
    0.30 on control and 0.40 / 0.45 / 0.50 on the experimental arm): the 90% intervals of
    the subgroup differences cover the truth in at least 70% of the 30 intervals.
    Seed 2026 for the data; NUTS 2 chains × 400 draws (400 tuning), seed 7."""
    truth_ctrl = 0.30
    truth_exp = {"g1": 0.40, "g2": 0.45, "g3": 0.50}
    rng = np.random.default_rng(2026)
    sampler = SamplerSettings(draws=400, tune=400, chains=2, cores=1, seed=7)
    covered = total = 0
    for replicate in range(10):
        counts = {}
        for group, p in truth_exp.items():
            counts[("ctrl", group)] = (40, int(rng.binomial(40, truth_ctrl)))
            counts[("exp", group)] = (40, int(rng.binomial(40, p)))
        data = write_csv(tmp_path / f"r{replicate}.csv", SUBGROUP_HEADER, subgroup_rows(counts))
        result = analyze_trial(
            data, two_arm_scenario, "fixed", choice=ModelChoice("hierarchical"), sampler=sampler
        )
        draws = result.rate_by_subgroup_draws
        for g, group in enumerate(result.data.subgroup_ids):
            diff = (draws[..., 1, g] - draws[..., 0, g]).ravel()
            lo, hi = np.quantile(diff, [0.05, 0.95])
            covered += bool(lo <= truth_exp[group] - truth_ctrl <= hi)
            total += 1
    assert total == 30
    assert covered >= 21, f"{covered}/30 intervals cover the truth"


def test_regression_models_with_time_trends_and_survival_subgroups(
    runner, tmp_path, survival_scenario, two_arm_scenario
):
    """Logistic with a linear trend; hierarchical survival with a time machine: they run,
    name their terms, and report per-subgroup effects. 2 chains × 300 draws, seed 3."""
    rng = np.random.default_rng(9)
    rows = [
        [
            f"p{i}",
            ["ctrl", "exp"][i % 2],
            ["x", "y"][i % 3 % 2],
            f"{i * 0.05:.2f}",
            int(rng.random() < 0.3 + 0.1 * (i % 2)),
        ]
        for i in range(200)
    ]
    data = write_csv(tmp_path / "t.csv", SUBGROUP_HEADER, rows)
    out = tmp_path / "out_logistic"
    result = invoke(
        runner,
        "analyze",
        data,
        "-s",
        two_arm_scenario,
        "-d",
        "fixed",
        "--model",
        "logistic",
        "--time-trend",
        "linear",
        "--draws",
        300,
        "--tune",
        300,
        "--chains",
        2,
        "--seed",
        3,
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "analysis.json").read_text())
    assert report["model"]["time_trend"] == "linear"
    assert any(p["name"] == "trend_per_year" for p in report["diagnostics"]["parameters"])

    surv_rows = [
        [
            f"s{i}",
            ["ctrl", "small", "empty", "mid"][i % 4],
            ["x", "y"][i % 5 % 2],
            f"{i * 0.1:.1f}",
            f"{rng.exponential(8):.2f}",
            int(rng.random() < 0.7),
        ]
        for i in range(160)
    ]
    surv = write_csv(
        tmp_path / "s.csv", ("id", "arm", "subgroup", "enrolled", "time", "event"), surv_rows
    )
    out = tmp_path / "out_surv"
    result = invoke(
        runner,
        "analyze",
        surv,
        "-s",
        survival_scenario,
        "-d",
        "piecewise",
        "--model",
        "hierarchical",
        "--time-trend",
        "time_machine",
        "--period-months",
        4,
        "--as-of",
        14,
        "--draws",
        300,
        "--tune",
        300,
        "--chains",
        2,
        "--seed",
        3,
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "analysis.json").read_text())
    assert report["data"]["as_of_month"] == 14
    names = {p["name"].split("[")[0] for p in report["diagnostics"]["parameters"]}
    assert {"baseline", "effect", "tau", "z", "time_machine_sd", "rate"} <= names
    mid = report["arms"]["mid"]
    assert set(mid["subgroups"]) == {"x", "y"}
    assert mid["effect_vs_control"]["lower"] < mid["effect_vs_control"]["upper"]
    html = (out / "interim_report.html").read_text()
    assert html.count("data:image/png;base64,") == 2


def test_design_without_control_runs(runner, tmp_path):
    """No control: no P(better), no forest plot; P(best) drives dropping and allocation.
    2 chains × 500 draws, seed 2."""
    scenario = tmp_path / "nc.yaml"
    scenario.write_text(NO_CONTROL_SCENARIO)
    counts = {"a": (30, 2), "b": (30, 12), "c": (30, 15)}
    data = write_csv(tmp_path / "nc.csv", BINARY_HEADER, binary_rows(counts))
    out = tmp_path / "out"
    result = invoke(
        runner,
        "analyze",
        data,
        "-s",
        scenario,
        "-d",
        "pick_best",
        "--draws",
        500,
        "--chains",
        2,
        "--seed",
        2,
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "analysis.json").read_text())
    assert report["analysis"]["control"] is None
    assert report["arms"]["a"]["decision"] == "dropped"
    assert report["arms"]["b"]["p_better"] is None
    assert report["next_allocation"]["a"] == 0.0
    assert not (out / "forest.png").exists()
    assert (out / "interim_report.html").read_text().count("data:image/png;base64,") == 1


# --- diagnostics -----------------------------------------------------------------------------


def test_poorly_identified_model_triggers_the_warnings():
    """y ~ N(a + b, 1): a and b are perfectly collinear (only a + b is identified). With
    NUTS trees capped at depth 4 the chains cannot cover the a − b ridge: R-hat and ESS
    fail. The same data with `a` alone pass. 2 chains × 1,000 draws (500 tuning), seed 1."""
    import pymc as pm

    y = np.random.default_rng(0).normal(1.0, 1.0, 10)
    found = {}
    for collinear in (True, False):
        with pm.Model():
            a = pm.Normal("a", 0.0, 100.0)
            b = pm.Normal("b", 0.0, 100.0) if collinear else 0.0
            pm.Normal("y", a + b, 1.0, observed=y)
            idata = pm.sample(
                draws=1000,
                tune=500,
                chains=2,
                cores=1,
                random_seed=1,
                max_treedepth=4,
                progressbar=False,
                compute_convergence_checks=False,
            )
        found[collinear] = diagnose(idata)
    bad, good = found[True], found[False]
    assert bad.max_r_hat > 1.01 and bad.min_ess_bulk < 400
    assert any(w.startswith("R-hat above 1.01") for w in bad.warnings)
    assert any(w.startswith("bulk ESS below 400") for w in bad.warnings)
    assert good.ok, good.warnings


def test_cli_reports_diagnostics_and_warns_on_a_short_single_chain(runner, tmp_path):
    data = REPO / "examples" / "pioneer_interim.csv"
    out = tmp_path / "out"
    result = invoke(
        runner,
        "analyze",
        data,
        "-s",
        REPO / "scenarios/pioneer_dcr.yaml",
        "-d",
        "thompson",
        "--chains",
        1,
        "--draws",
        60,
        "--tune",
        60,
        "--seed",
        5,
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    assert "warning: R-hat needs at least 2 chains" in result.stderr
    assert "warning: bulk ESS below 400" in result.stderr
    report = json.loads((out / "analysis.json").read_text())
    d = report["diagnostics"]
    assert d["ok"] is False and d["min_ess_bulk"] < 400 and d["n_divergent"] >= 0
    assert {p["name"] for p in d["parameters"]} >= {"p[docetaxel]", "rate[docetaxel]"}
    assert "Max R-hat" in result.stdout
    md = (out / "interim_report.md").read_text()
    assert "## Warnings" in md and "R-hat needs at least 2 chains" in md


# --- the README's example ----------------------------------------------------------------------


def readme_analyze_commands() -> list[list[str]]:
    """The `platsim analyze` commands of the README's "Interim analysis" section."""
    text = (REPO / "README.md").read_text()
    section = text.split("## Interim analysis of a real trial", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("#")[0].strip()
            if " analyze " in f" {line} ":
                words = line.split()
                commands.append(words[words.index("analyze") :])
    assert commands, "no platsim analyze command in the README section"
    return commands


def test_readme_example_runs_on_the_shipped_dataset(runner, tmp_path, monkeypatch):
    args = readme_analyze_commands()[0]
    monkeypatch.chdir(REPO)
    out = tmp_path / "out"
    result = invoke(runner, *args, "--out", out)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "analysis.json").read_text())
    assert report["scenario"] == "pioneer_dcr"
    assert report["data"]["file"].endswith("examples/pioneer_interim.csv")
    assert report["arms"]["durva_combo_b"]["decision"] == "futility"
    assert report["diagnostics"]["ok"], report["warnings"]
    assert report["exact_agrees"] is True
    assert "futility" in result.stdout
    for name in ("interim_report.md", "interim_report.html", "forest.png", "densities.png"):
        assert (out / name).stat().st_size > 0


def test_readme_option_examples_run(runner, tmp_path, monkeypatch):
    """The README's other analyze commands, with fewer draws (2 chains × 200, seed 4)."""
    monkeypatch.chdir(REPO)
    for i, args in enumerate(readme_analyze_commands()[1:]):
        out = tmp_path / f"out{i}"
        result = invoke(
            runner,
            *args,
            "--draws",
            200,
            "--tune",
            200,
            "--chains",
            2,
            "--seed",
            4,
            "--out",
            out,
        )
        assert result.exit_code == 0, (args, result.output)
        assert (out / "analysis.json").exists()


def test_same_seed_same_analysis_and_sampler_failure_exits_2(runner, tmp_path, monkeypatch):
    """Two runs with seed 8 (2 chains × 200 draws) write identical analysis.json; a NUTS
    failure is a one-line error with what to try, exit 2."""
    import pymc as pm

    data = REPO / "examples" / "pioneer_interim.csv"
    scenario = REPO / "scenarios" / "pioneer_dcr.yaml"
    args = (
        "analyze",
        data,
        "-s",
        scenario,
        "-d",
        "fixed_equal",
        "--draws",
        200,
        "--tune",
        200,
        "--chains",
        2,
        "--seed",
        8,
    )
    texts = []
    for run in range(2):
        out = tmp_path / f"out{run}"
        assert invoke(runner, *args, "--out", out).exit_code == 0
        texts.append((out / "analysis.json").read_text())
    assert texts[0] == texts[1]

    def fail(*_, **__):
        raise pm.exceptions.SamplingError("Initial evaluation of model at starting point failed!")

    monkeypatch.setattr(pm, "sample", fail)
    result = invoke(runner, *args, "--out", tmp_path / "out_fail")
    assert result.exit_code == 2
    assert "error: NUTS could not sample the Beta(1, 1)–Binomial per arm" in result.stderr
    assert "Try another --seed" in result.stderr


def test_platform_look_through_the_cli_with_concurrent_controls(runner, tmp_path):
    """The pioneer_platform Trippa trial cut at its look at 200 patients (see
    test_quantities): MCMC on the conjugate model, with its own concurrent-control
    parameters for the late arms, gives the engine's decisions, the arm opening now and the
    engine's allocation within 0.01. 4 chains × 5,000 draws, seed 6."""
    case = platform_look(tmp_path)
    spec, records, chunk, look = case["spec"], case["records"], case["chunk"], case["look"]
    out = tmp_path / "out"
    args = [
        "analyze",
        case["data"],
        "-s",
        case["scenario"],
        "-d",
        "trippa",
        "--as-of",
        case["as_of"],
        "--draws",
        5000,
        "--chains",
        4,
        "--seed",
        6,
        "--out",
        out,
    ]
    for item in case["opened"]:
        args += ["--opened", item]
    result = invoke(runner, *args)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "analysis.json").read_text())
    decided = records.decision_look[0] == look
    for k, arm in enumerate(spec.arm_ids):
        entry = report["arms"][arm]
        expected = (
            "opens"
            if records.open_n[0, k] == case["n_look"]
            else (codes.STATUS_NAMES[records.status[0, k]] if decided[k] else "none")
        )
        assert entry["decision"] == expected, arm
    assert report["arms"]["durva_combo_c"]["decision"] == "futility"
    assert report["arms"]["durva_combo_c"]["compared_with"]["controls"] == "concurrent"
    assert report["arms"]["durva_combo_c"]["p_better"] == pytest.approx(
        records.p_better_than_control[0, 3], abs=TOLERANCE
    )
    got = np.array([report["next_allocation"][a] for a in spec.arm_ids])
    np.testing.assert_allclose(got, chunk.allocation_history[0, look + 1], atol=TOLERANCE)
    assert report["exact_agrees"] is True
    names = {p["name"].split("[")[0] for p in report["diagnostics"]["parameters"]}
    assert "concurrent_control_p" in names
    assert "opens now" in result.stdout


def test_master_protocol_substudy(runner, tmp_path):
    """--substudy picks a Lung-MAP sub-study; its data may hold only its subgroups.
    The valid run: 2 chains × 300 draws, seed 2."""
    master = REPO / "scenarios" / "lungmap_master.yaml"
    header = ("id", "arm", "subgroup", "enrolled", "time", "event")
    rows = [
        [
            f"p{i}",
            ["soc", "pembro_ramu"][i % 2],
            ["none", "other"][i % 3 % 2],
            i * 0.2,
            4.0 + i % 7,
            i % 3 == 0,
        ]
        for i in range(60)
    ]
    rows = [[*r[:5], int(r[5])] for r in rows]
    data = write_csv(tmp_path / "s1800a.csv", header, rows)
    result = invoke(runner, "analyze", data, "-s", master, "-d", "thompson")
    assert result.exit_code == 2
    assert "substudy must be one of fgfr_substudy, met_substudy, s1800a" in result.stderr
    bad = write_csv(tmp_path / "bad.csv", header, [*rows[:3], ["x", "soc", "fgfr", 1, 2, 1]])
    result = invoke(runner, "analyze", bad, "-s", master, "-d", "thompson", "--substudy", "s1800a")
    assert result.exit_code == 2
    assert (
        f"{bad}:5 subgroup: subgroup enrolled by sub-study fgfr_substudy, not s1800a"
        in result.stderr
    )
    result = invoke(
        runner, "analyze", bad, "-s", master, "-d", "fixed_1to1", "--substudy", "met_substudy"
    )
    assert result.exit_code == 2
    assert f"{bad}:2 arm: unknown arm: not an arm of design fixed_1to1" in result.stderr
    assert "subgroup: not a subgroup of sub-study met_substudy; allowed met" in result.stderr
    out = tmp_path / "out"
    result = invoke(
        runner,
        "analyze",
        data,
        "-s",
        master,
        "-d",
        "thompson",
        "--substudy",
        "s1800a",
        "--draws",
        300,
        "--tune",
        300,
        "--chains",
        2,
        "--seed",
        2,
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "analysis.json").read_text())
    assert report["substudy"] == "s1800a" and report["trial"]["n_enrolled"] == 60
