"""Shared fixtures: the shipped scenarios and a small valid scenario to break on purpose."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHIPPED_DIR = REPO_ROOT / "scenarios"
SHIPPED_SCENARIOS = sorted(SHIPPED_DIR.glob("*.yaml"))

# A small valid scenario. Tests break it by replacing one exact line (see `replace_line`),
# so every line below is unique. `null:` is deliberately unquoted.
VALID_SCENARIO = """\
name: demo
title: Demo two-arm binary scenario
sources: ["made up for tests"]
endpoint:
  kind: binary
  name: ORR
  outcome_lag_months: 1
arms:
  - {id: ctrl, label: Control, control: true}
  - {id: exp, label: Experimental}
truths:
  reported:
    ctrl: {p: 0.2}
    exp: {p: 0.4}
  null:
    ctrl: {p: 0.20}
    exp: {p: 0.20}
accrual:
  rate_per_month: 10
designs:
  fixed:
    max_patients: 100
    allocation:
      rule: fixed
      ratios: {ctrl: 1, exp: 1}
    looks: {every_patients: 20, first_at: 40}
    decisions:
      efficacy: {threshold: 0.975}
      futility: {threshold: 0.1}
  adaptive:
    max_patients: 120
    allocation:
      rule: thompson
      control: {sqrt: true}
      burn_in_patients: 20
    looks:
      at_patients: [40, 80]
    decisions:
      stop_for_best: {threshold: 0.99}
"""


def replace_line(text: str, old: str, new: str) -> str:
    """Replace the one line of `text` that equals `old` exactly by `new` (may be several)."""
    lines = text.splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if line.rstrip("\n") == old]
    assert len(hits) == 1, f"{old!r} is on {len(hits)} lines of the scenario, not exactly 1"
    lines[hits[0]] = new + "\n"
    return "".join(lines)


def line_no(text: str, line: str) -> int:
    """1-based number of the one line of `text` that equals `line` exactly."""
    hits = [i + 1 for i, item in enumerate(text.splitlines()) if item == line]
    assert len(hits) == 1, f"{line!r} is on {len(hits)} lines, not exactly 1"
    return hits[0]


@pytest.fixture
def valid_text() -> str:
    """The text of a small valid scenario (see VALID_SCENARIO)."""
    return VALID_SCENARIO


@pytest.fixture(name="replace_line")
def replace_line_fixture() -> Callable[[str, str, str], str]:
    """`replace_line(text, old, new)`, as a fixture for the test modules."""
    return replace_line


@pytest.fixture(name="line_no")
def line_no_fixture() -> Callable[[str, str], int]:
    """`line_no(text, line)`, as a fixture for the test modules."""
    return line_no


@pytest.fixture(params=SHIPPED_SCENARIOS, ids=lambda path: path.stem)
def shipped_scenario(request: pytest.FixtureRequest) -> Path:
    """Each shipped scenario file in turn."""
    return request.param


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[..., Path]:
    """Write scenario text to a file under tmp_path and return its path."""

    def write(text: str, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
