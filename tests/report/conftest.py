"""Small runs whose reports the tests inspect (simulated once per test session)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from platsim.cli.main import app

REPO = Path(__file__).resolve().parents[2]
BINARY_SCENARIO = REPO / "scenarios" / "altn_sarcoma_orr.yaml"
SURVIVAL_SCENARIO = REPO / "scenarios" / "lungmap_s1800a.yaml"

# Used when the shipped S1800A-like scenario is not there: two arms, OS, three designs
# (fixed single analysis, event-driven group sequential, Thall–Wathen), three truths
# including a delayed effect (no single true hazard ratio).
INLINE_SURVIVAL = """\
name: inline_os
title: Inline two-arm overall survival scenario
sources: ["made up for tests"]
endpoint: {kind: time_to_event, name: OS, unit: months, dropout_per_month: 0.005}
arms:
  - {id: soc, label: Standard of care, control: true}
  - {id: exp, label: Experimental}
truths:
  reported:
    soc: {median: 11.6}
    exp: {hazard_ratio: 0.69}
  "null":
    soc: {median: 11.6}
    exp: {median: 11.6}
  delayed:
    soc: {median: 11.6}
    exp: {hazard_ratio: 0.69, delay_months: 3}
accrual: {rate_per_month: 6, ramp_up_months: 3}
designs:
  fixed:
    max_patients: 136
    allocation: {rule: fixed, ratios: {soc: 1, exp: 1}}
    decisions:
      efficacy: {threshold: 0.9}
      on_efficacy: stop_trial
    follow_up_months: 12
  group_sequential:
    max_patients: 136
    allocation: {rule: fixed, ratios: {soc: 1, exp: 1}}
    looks: {at_events: [35, 70]}
    decisions:
      efficacy: {threshold: 0.95}
      futility: {threshold: 0.1}
      on_efficacy: stop_trial
    follow_up_months: 12
  adaptive:
    max_patients: 136
    allocation: {rule: thompson, power: n_over_2N, min_prob: 0.2, max_prob: 0.8}
    looks: {every_events: 30}
    decisions:
      efficacy: {threshold: 0.975}
      futility: {threshold: 0.05}
      on_efficacy: stop_trial
    follow_up_months: 12
"""


@dataclass(frozen=True)
class Run:
    """A finished `platsim run` with its report."""

    out: Path
    scenario: Path
    survival: bool

    @property
    def summary(self) -> dict:
        return json.loads((self.out / "summary.json").read_text())

    @property
    def html(self) -> str:
        return (self.out / "report.html").read_text(encoding="utf-8")

    @property
    def markdown(self) -> str:
        return (self.out / "report.md").read_text(encoding="utf-8")


def _run(scenario: Path, out: Path, trials: int, survival: bool) -> Run:
    result = CliRunner().invoke(
        app,
        ["run", str(scenario), "--trials", str(trials), "--workers", "1", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    return Run(out, scenario, survival)


@pytest.fixture(scope="session")
def binary_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """altn_sarcoma_orr: 3 designs (fixed, group sequential, Thompson) × 3 truths."""
    return _run(BINARY_SCENARIO, tmp_path_factory.mktemp("binary") / "out", 300, False)


@pytest.fixture(scope="session")
def survival_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The S1800A-like scenario (or the inline one): 3 designs × its truths, OS."""
    scenario = SURVIVAL_SCENARIO
    if not scenario.exists():
        scenario = tmp_path_factory.mktemp("scenario") / "inline_os.yaml"
        scenario.write_text(INLINE_SURVIVAL, encoding="utf-8")
    return _run(scenario, tmp_path_factory.mktemp("survival") / "out", 200, True)


@pytest.fixture(params=["binary", "survival"])
def any_run(request: pytest.FixtureRequest) -> Run:
    """Each of the two runs in turn."""
    return request.getfixturevalue(f"{request.param}_run")
