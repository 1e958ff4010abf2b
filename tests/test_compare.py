"""`platsim compare`: common random numbers, paired differences and their MCSEs, outputs.

Seeds and trial counts are stated in each test.
"""

from __future__ import annotations

import base64
import csv
import math
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from platsim.cli.main import app
from platsim.compare import (
    ARM_METRICS,
    TRIAL_METRICS,
    compare_records,
    per_trial_values,
    run_comparison,
)
from platsim.compare.render import CSV_COLUMNS, read_comparison_csv
from platsim.results.metrics import operating_characteristics
from platsim.scenario.load import load_scenario
from platsim.simulate import simulate_design_truth
from platsim.specs import build_trial_spec

REPO = Path(__file__).resolve().parents[1]

SCENARIO = """\
name: compare_demo
title: Three-arm binary platform for comparison tests
sources: ["tests"]
endpoint: {kind: binary, name: ORR, outcome_lag_months: 1}
arms:
  - {id: ctrl, label: Control, control: true}
  - {id: a, label: A}
  - {id: b, label: B}
truths:
  reported: {ctrl: {p: 0.2}, a: {p: 0.4}, b: {p: 0.25}}
  "null": {ctrl: {p: 0.2}, a: {p: 0.2}, b: {p: 0.2}}
accrual: {rate_per_month: 10}
designs:
  fixed:
    max_patients: 150
    allocation: {rule: fixed, ratios: {ctrl: 1, a: 1, b: 1}}
    looks: {every_patients: 30, first_at: 60}
    decisions:
      efficacy: {threshold: 0.975}
      futility: {threshold: 0.05}
  fixed_copy:                 # identical to fixed under another name
    max_patients: 150
    allocation: {rule: fixed, ratios: {ctrl: 1, a: 1, b: 1}}
    looks: {every_patients: 30, first_at: 60}
    decisions:
      efficacy: {threshold: 0.975}
      futility: {threshold: 0.05}
  fixed_980:                  # fixed with efficacy threshold 0.98
    max_patients: 150
    allocation: {rule: fixed, ratios: {ctrl: 1, a: 1, b: 1}}
    looks: {every_patients: 30, first_at: 60}
    decisions:
      efficacy: {threshold: 0.98}
      futility: {threshold: 0.05}
  thompson:
    max_patients: 180
    allocation: {rule: thompson, control: {sqrt: true}, burn_in_patients: 30}
    looks: {every_patients: 30, first_at: 60}
    decisions:
      efficacy: {threshold: 0.975}
      futility: {threshold: 0.05}
  thompson_copy:
    max_patients: 180
    allocation: {rule: thompson, control: {sqrt: true}, burn_in_patients: 30}
    looks: {every_patients: 30, first_at: 60}
    decisions:
      efficacy: {threshold: 0.975}
      futility: {threshold: 0.05}
"""


@pytest.fixture
def scenario_path(tmp_path: Path) -> Path:
    path = tmp_path / "compare_demo.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def run_cli(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("design, copy", [("fixed", "fixed_copy"), ("thompson", "thompson_copy")])
def test_a_design_against_its_copy_differs_by_exactly_zero(scenario_path, design, copy):
    """2,000 trials, seed 11: same trials for every design of a truth, so an identical
    design under another name has differences and paired MCSEs of exactly 0 (while the
    unpaired MCSE is not 0)."""
    result = run_comparison(
        scenario_path, designs=[design, copy], n_trials=2_000, seed=11, chunk_size=500
    )
    rows = [row for row in result.rows if row.design == copy]
    assert {row.truth for row in rows} == {"reported", "null"}
    # Per truth every trial-level metric (fwer only under null) and every arm metric.
    assert len(rows) == 2 * (len(TRIAL_METRICS) + 3 * len(ARM_METRICS)) - 1
    for row in rows:
        assert row.reference == design
        assert row.difference == 0.0, row
        assert row.mcse_paired == 0.0, row
    assert any(row.mcse_unpaired > 0 for row in rows)
    reference_rows = [row for row in result.rows if row.design == design]
    assert all(math.isnan(row.difference) for row in reference_rows)


def test_paired_mcse_is_smaller_for_nearby_thresholds(scenario_path):
    """Efficacy thresholds 0.975 vs 0.98 in the same design (4,000 trials, seed 3):
    decisions agree on most trials, so the paired MCSE of each efficacy probability is
    well below the unpaired one (and equals sd(per-trial differences)/√n)."""
    result = run_comparison(
        scenario_path,
        designs=["fixed", "fixed_980"],
        truths=["reported"],
        n_trials=4_000,
        seed=3,
        chunk_size=1_000,
    )
    rows = {(r.metric, r.arm): r for r in result.rows if r.design == "fixed_980"}
    for key in [("p_any_efficacy", ""), ("p_efficacy", "a"), ("p_select_best", "")]:
        row = rows[key]
        assert row.mcse_paired > 0
        assert row.mcse_paired < 0.5 * row.mcse_unpaired, row
        # A stricter threshold declares fewer arms effective.
    assert rows[("p_any_efficacy", "")].difference < 0
    # Recompute one paired MCSE from the records.
    scenario = load_scenario(scenario_path)
    per_design = {}
    for design in ("fixed", "fixed_980"):
        spec = build_trial_spec(scenario, design, "reported")
        records = simulate_design_truth(
            spec, seed=3, truth="reported", n_trials=4_000, chunk_size=1_000
        )
        per_design[design] = per_trial_values(records, spec)
    d = per_design["fixed_980"][("a", "p_efficacy")] - per_design["fixed"][("a", "p_efficacy")]
    row = rows[("p_efficacy", "a")]
    assert row.difference == pytest.approx(d.mean(), abs=1e-15)
    assert row.mcse_paired == pytest.approx(d.std() / math.sqrt(d.size), rel=1e-12)


@pytest.mark.parametrize(
    "shipped, design",
    [(None, "thompson"), ("lungmap_s1800a", "adaptive_thall_wathen")],
)
def test_per_trial_values_average_to_the_reported_metrics(scenario_path, shipped, design):
    """1,000 trials (binary) / 300 (time-to-event, shipped S1800A-like scenario), seed 5:
    the per-trial values behind the paired differences average to exactly the estimates
    `operating_characteristics` reports (summary.csv's numbers)."""
    path = scenario_path if shipped is None else REPO / "scenarios" / f"{shipped}.yaml"
    scenario = load_scenario(path)
    n_trials = 1_000 if shipped is None else 300
    for truth in scenario.truths:
        spec = build_trial_spec(scenario, design, truth)
        records = simulate_design_truth(
            spec, seed=5, truth=truth, n_trials=n_trials, chunk_size=500
        )
        rows = operating_characteristics(records, spec, design, truth)
        metrics = {(r.arm, r.metric): r for r in rows}
        values = per_trial_values(records, spec)
        for key, x in values.items():
            assert np.nanmean(x) == pytest.approx(metrics[key].estimate, rel=1e-12, abs=1e-15), (
                truth,
                key,
            )
        assert (("", "fwer") in values) == math.isfinite(metrics[("", "fwer")].estimate)


def test_compare_records_refuses_different_trial_counts(scenario_path):
    scenario = load_scenario(scenario_path)
    specs, records, metrics = {}, {}, {}
    for design, n in (("fixed", 200), ("fixed_copy", 300)):
        specs[design] = build_trial_spec(scenario, design, "null")
        records[design] = simulate_design_truth(
            specs[design], seed=1, truth="null", n_trials=n, chunk_size=100
        )
        metrics[design] = operating_characteristics(records[design], specs[design], design, "null")
    with pytest.raises(ValueError, match="same number of trials"):
        compare_records("null", records, specs, metrics, "fixed")


def test_cli_writes_csv_markdown_and_self_contained_html(scenario_path, tmp_path):
    """500 trials, seed 2, designs given both ways, thompson as the reference."""
    out = tmp_path / "out"
    result = run_cli(
        "compare", str(scenario_path), "--designs", "fixed,fixed_980", "--design", "thompson",
        "--truths", "reported,null", "--reference", "thompson", "--trials", "500",
        "--seed", "2", "--workers", "1", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Δ vs thompson" in result.output
    assert "unpaired MCSE" in result.output
    with open(out / "comparison.csv", newline="") as stream:
        reader = csv.DictReader(stream)
        assert tuple(reader.fieldnames) == CSV_COLUMNS
        table = list(reader)
    assert {r["design"] for r in table} == {"fixed", "fixed_980", "thompson"}
    assert {r["truth"] for r in table} == {"reported", "null"}
    assert {r["reference"] for r in table} == {"thompson"}
    rows = read_comparison_csv(out / "comparison.csv")
    fwer = [r for r in rows if r.metric == "fwer"]
    assert fwer and {r.truth for r in fwer} == {"null"}
    for row in rows:
        if row.design != "thompson":
            assert math.isfinite(row.difference) and row.mcse_unpaired >= 0
    # Markdown: tables per truth and the two figures beside it.
    markdown = (out / "comparison.md").read_text()
    for name in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "## Truth: reported" in markdown and "## Truth: null" in markdown
    assert "MCSE paired" in markdown and "MCSE unpaired" in markdown
    # HTML: self-contained (no URLs), both figures embedded as valid PNG.
    html = (out / "comparison.html").read_text()
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html, flags=re.I)
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 2
    for data in images:
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(re.findall(r"<img ", html)) == 2
    assert "<h2>Truth: null</h2>" in html


@pytest.mark.parametrize(
    "args, message",
    [
        (["--design", "fixed", "--design", "nope"], "design must be one of"),
        (["--design", "fixed"], "compare needs at least two designs"),
        (["--designs", "fixed,fixed"], "must be listed once"),
        (["--designs", "fixed,thompson", "--reference", "fixed_980"], "reference must be one of"),
        (["--designs", "fixed,thompson", "--truth", "pessimistic"], "truth must be one of"),
        (["--designs", "fixed,thompson", "--trials", "0"], "--trials must be a positive"),
    ],
)  # fmt: skip
def test_bad_arguments_exit_2(scenario_path, tmp_path, args, message):
    result = run_cli("compare", str(scenario_path), *args, "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def readme_command(verb: str) -> list[str]:
    """The README's `platsim <verb>` example, as arguments."""
    text = (REPO / "README.md").read_text()
    lines = [
        line.strip()
        for line in text.splitlines()
        if line.strip().startswith(f".venv/bin/platsim {verb} ")
    ]
    assert len(lines) == 1, lines
    return lines[0].split()[1:]


def test_readme_compare_example_runs(tmp_path, monkeypatch):
    """The README's compare example exactly as written (2,000 trials, default seed)."""
    monkeypatch.chdir(tmp_path)
    args = readme_command("compare")
    result = run_cli(*args, "--workers", "1")
    assert result.exit_code == 0, result.output
    out = tmp_path / "results" / "altn_sarcoma_orr"
    for name in ("comparison.csv", "comparison.md", "comparison.html"):
        assert (out / name).stat().st_size > 0
