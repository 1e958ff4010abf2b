"""Helpers of the `platsim analyze` tests: small scenarios, data-file writers, CLI runs."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from typer.testing import CliRunner

from platsim.cli.main import app

REPO = Path(__file__).resolve().parents[2]

BINARY_SCENARIO = """\
name: binary_test
title: Five-arm binary test scenario
sources: ["made up for tests"]
endpoint: {kind: binary, name: ORR, outcome_lag_months: 2}
arms:
  - {id: ctrl, control: true}
  - {id: small}
  - {id: empty}
  - {id: weak}
  - {id: large}
truths:
  reported: {ctrl: {p: 0.3}, small: {p: 0.3}, empty: {p: 0.3}, weak: {p: 0.1}, large: {p: 0.35}}
accrual: {rate_per_month: 20}
designs:
  thompson:
    max_patients: 6000
    prior: {alpha: 1, beta: 1}
    allocation: {rule: thompson, control: {sqrt: true}, min_prob: 0.05}
    decisions:
      efficacy: {threshold: 0.99}
      futility: {threshold: 0.05}
  two_arm:
    max_patients: 200
    allocation: {rule: fixed, ratios: {ctrl: 1, small: 1, empty: 1, weak: 1, large: 1}}
    decisions:
      efficacy: {threshold: 0.975}
"""

SURVIVAL_SCENARIO = """\
name: survival_test
title: Four-arm time-to-event test scenario
sources: ["made up for tests"]
endpoint: {kind: time_to_event, name: PFS, unit: months}
arms:
  - {id: ctrl, control: true}
  - {id: small}
  - {id: empty}
  - {id: mid}
truths:
  reported: {ctrl: {median: 10}, small: {median: 10}, empty: {median: 10}, mid: {median: 14}}
accrual: {rate_per_month: 20}
designs:
  exponential:
    max_patients: 600
    prior: {shape: 1, rate: 10}
    allocation: {rule: thompson, control: {sqrt: true}}
    decisions:
      efficacy: {threshold: 0.99}
      futility: {threshold: 0.05}
    follow_up_months: 6
  piecewise:
    max_patients: 600
    prior: {shape: 1, rate: 10}
    allocation: {rule: thompson}
    decisions:
      efficacy: {threshold: 0.99, margin: 0.1}
      futility: {threshold: 0.05}
    follow_up_months: 6
    analysis: {model: piecewise, cut_points_months: [3]}
"""

#: (observed patients, responses) per arm of BINARY_SCENARIO: large counts, small counts,
#: an empty arm, and an arm that crosses the futility threshold.
BINARY_MIXED = {
    "ctrl": (2000, 600),
    "small": (3, 1),
    "empty": (0, 0),
    "weak": (40, 4),
    "large": (2000, 650),
}
#: Small counts only.
BINARY_SMALL = {"ctrl": (6, 2), "small": (3, 2), "empty": (0, 0), "weak": (5, 0), "large": (8, 5)}
#: (patients, events, months of follow-up each) per arm of SURVIVAL_SCENARIO.
SURVIVAL_MIXED = {
    "ctrl": (400, 300, 15.0),
    "small": (3, 2, 4.0),
    "empty": (0, 0, 0.0),
    "mid": (60, 30, 10.0),
}


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def binary_rows(counts: dict[str, tuple[int, int]], enrolled: float = 0.0) -> list[list]:
    """One row per patient, every response known."""
    rows = []
    for arm, (n, y) in counts.items():
        for i in range(n):
            rows.append([f"{arm}-{i}", arm, enrolled, 1 if i < y else 0, ""])
    return rows


def survival_rows(counts: dict[str, tuple[int, int, float]]) -> list[list]:
    """One row per patient: `events` of the arm's patients have an event at their time."""
    rows = []
    for arm, (n, events, months) in counts.items():
        for i in range(n):
            rows.append([f"{arm}-{i}", arm, 0, months, 1 if i < events else 0])
    return rows


BINARY_HEADER = ("id", "arm", "enrolled", "response", "response_known")
SURVIVAL_HEADER = ("id", "arm", "enrolled", "time", "event")


def invoke(runner: CliRunner, *args: object):
    """Run `platsim ...`; never an escaped exception or a traceback."""
    result = runner.invoke(app, [str(arg) for arg in args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


TWO_ARM_SCENARIO = """\
name: two_arm_test
title: Two-arm binary test scenario with biomarker subgroups in the data
sources: ["made up for tests"]
endpoint: {kind: binary, name: ORR}
arms:
  - {id: ctrl, control: true}
  - {id: exp}
truths:
  reported: {ctrl: {p: 0.3}, exp: {p: 0.45}}
accrual: {rate_per_month: 20}
designs:
  fixed:
    max_patients: 2000
    allocation: {rule: fixed, ratios: {ctrl: 1, exp: 1}}
    decisions:
      efficacy: {threshold: 0.975}
      futility: {threshold: 0.05}
"""


def subgroup_rows(counts: dict[tuple[str, str], tuple[int, int]]) -> list[list]:
    """Rows (id, arm, subgroup, enrolled, response) from (arm, subgroup) → (n, responses)."""
    rows = []
    for (arm, group), (n, y) in counts.items():
        for i in range(n):
            rows.append([f"{arm}-{group}-{i}", arm, group, 0, 1 if i < y else 0])
    return rows


SUBGROUP_HEADER = ("id", "arm", "subgroup", "enrolled", "response")


NO_CONTROL_SCENARIO = """\
name: no_control_test
title: Three arms, no control, pick the best
sources: ["made up for tests"]
endpoint: {kind: binary, name: ORR}
arms:
  - {id: a}
  - {id: b}
  - {id: c}
truths:
  reported: {a: {p: 0.2}, b: {p: 0.3}, c: {p: 0.4}}
accrual: {rate_per_month: 20}
designs:
  pick_best:
    max_patients: 300
    allocation: {rule: thompson, power: 0.5}
    decisions:
      stop_for_best: {threshold: 0.99}
      drop_if_p_best_below: 0.05
"""


def platform_look(tmp_path: Path, seed: int = 1, look: int = 3):
    """One engine trial of scenarios/pioneer_platform.yaml (design trippa, truth reported)
    cut at its analysis `look`: the data file (month numbers), the --opened items of the
    arms that opened late before that look, --as-of, and the engine's chunk and records."""
    import numpy as np

    from platsim.engine.trial import Chunk
    from platsim.scenario.load import load_scenario
    from platsim.specs import build_trial_spec

    scenario = REPO / "scenarios" / "pioneer_platform.yaml"
    spec = build_trial_spec(load_scenario(scenario), "trippa", "reported")
    chunk = Chunk(spec, np.random.default_rng(seed), 1)
    records = chunk.run()
    n_look = int(records.analysis_n[0, look])
    look_time = float(chunk.entry[0, n_look - 1])
    rows = []
    for i in range(n_look):
        known = chunk.observe_time[0, i] <= look_time
        rows.append(
            [
                f"p{i}",
                spec.arm_ids[chunk.arm[0, i]],
                repr(float(chunk.entry[0, i])),
                int(chunk.responded[0, i]) if known else "",
                "",
            ]
        )
    data = write_csv(tmp_path / "platform.csv", BINARY_HEADER, rows)
    opened = [
        f"{spec.arm_ids[k]}={float(records.open_months[0, k])!r}"
        for k in range(spec.n_arms)
        if 0 < records.open_n[0, k] < n_look
    ]
    return {
        "scenario": scenario,
        "spec": spec,
        "data": data,
        "opened": opened,
        "as_of": repr(look_time),
        "chunk": chunk,
        "records": records,
        "look": look,
        "n_look": n_look,
    }
