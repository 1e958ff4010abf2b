"""Trial data files: every bad row is reported with its row and column, exit 2, nothing
computed; `--as-of` drops what was not known by then. No PyMC here (validation comes first).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from platsim.analysis.data import DataFileError, read_trial_data
from platsim.scenario.load import load_scenario

from .helpers import (
    BINARY_HEADER,
    SURVIVAL_HEADER,
    invoke,
    write_csv,
)

GOOD_BINARY = [
    ["p1", "ctrl", "2020-01-10", "1", "2020-03-10"],
    ["p2", "large", "2020-01-20", "0", "2020-03-25"],
    ["p3", "small", "2020-02-05", "", ""],
]
GOOD_SURVIVAL = [
    ["p1", "ctrl", "0", "5.5", "1"],
    ["p2", "mid", "1.5", "3", "0"],
    ["p3", "small", "2", "", ""],
]


def _replace(rows, index, column, value, header):
    rows = [list(r) for r in rows]
    rows[index][header.index(column)] = value
    return rows


# (name, endpoint, rows, (row, column, text in the message)). Data row i is CSV line i + 2.
BAD_FILES = [
    (
        "unknown arm",
        "binary",
        _replace(GOOD_BINARY, 1, "arm", "placebo", BINARY_HEADER),
        (
            3,
            "arm",
            "unknown arm: not an arm of design thompson; allowed ctrl, small, empty, "
            "weak, large; got 'placebo'",
        ),
    ),
    (
        "missing value",
        "binary",
        _replace(GOOD_BINARY, 0, "enrolled", "", BINARY_HEADER),
        (2, "enrolled", "missing value"),
    ),
    (
        "missing arm",
        "binary",
        _replace(GOOD_BINARY, 2, "arm", "", BINARY_HEADER),
        (4, "arm", "missing value"),
    ),
    (
        "response not 0/1",
        "binary",
        _replace(GOOD_BINARY, 0, "response", "yes", BINARY_HEADER),
        (2, "response", "not a response; allowed 0, 1, or empty (not yet known); got 'yes'"),
    ),
    (
        "response known before enrolment",
        "binary",
        _replace(GOOD_BINARY, 1, "response_known", "2019-12-31", BINARY_HEADER),
        (3, "response_known", "dates out of order"),
    ),
    (
        "response_known without response",
        "binary",
        _replace(GOOD_BINARY, 1, "response", "", BINARY_HEADER),
        (3, "response", "missing value: response_known is given"),
    ),
    (
        "bad date",
        "binary",
        _replace(GOOD_BINARY, 2, "enrolled", "2020-02-31", BINARY_HEADER),
        (4, "enrolled", "not a time"),
    ),
    (
        "dates and months mixed",
        "binary",
        _replace(GOOD_BINARY, 2, "enrolled", "3.5", BINARY_HEADER),
        (4, "enrolled", "times must all be dates or all month numbers"),
    ),
    (
        "duplicate id",
        "binary",
        _replace(GOOD_BINARY, 2, "id", "p1", BINARY_HEADER),
        (4, "id", "duplicate id; allowed each id once (first on row 2); got 'p1'"),
    ),
    (
        "negative time",
        "time_to_event",
        _replace(GOOD_SURVIVAL, 1, "time", "-2", SURVIVAL_HEADER),
        (3, "time", "negative time; allowed months of follow-up ≥ 0; got -2"),
    ),
    (
        "event without time",
        "time_to_event",
        _replace(GOOD_SURVIVAL, 2, "event", "1", SURVIVAL_HEADER),
        (4, "time", "event without time"),
    ),
    (
        "time without event",
        "time_to_event",
        _replace(GOOD_SURVIVAL, 1, "event", "", SURVIVAL_HEADER),
        (3, "event", "missing value: time is given"),
    ),
    (
        "event not 0/1",
        "time_to_event",
        _replace(GOOD_SURVIVAL, 0, "event", "2", SURVIVAL_HEADER),
        (2, "event", "not an event indicator"),
    ),
    (
        "negative enrolment month",
        "time_to_event",
        _replace(GOOD_SURVIVAL, 0, "enrolled", "-1", SURVIVAL_HEADER),
        (2, "enrolled", "negative time"),
    ),
]


def _files(tmp_path, endpoint, binary_scenario, survival_scenario):
    if endpoint == "binary":
        return BINARY_HEADER, binary_scenario, "thompson"
    return SURVIVAL_HEADER, survival_scenario, "exponential"


@pytest.mark.parametrize(
    ("rows", "expected", "endpoint"),
    [(b[2], b[3], b[1]) for b in BAD_FILES],
    ids=[b[0] for b in BAD_FILES],
)
def test_each_bad_row_exits_2_naming_row_and_column(
    runner, tmp_path, binary_scenario, survival_scenario, rows, expected, endpoint
):
    header, scenario, design = _files(tmp_path, endpoint, binary_scenario, survival_scenario)
    data = write_csv(tmp_path / "bad.csv", header, rows)
    out = tmp_path / "out"
    result = invoke(
        runner, "analyze", data, "--scenario", scenario, "--design", design, "--out", out
    )
    assert result.exit_code == 2, result.output
    row, column, text = expected
    assert f"{data}:{row} {column}: {text}" in result.stderr
    assert result.stderr.strip().endswith("1 problem found.")
    assert not out.exists()  # nothing computed on bad data


def test_every_problem_is_listed_in_one_pass(runner, tmp_path, binary_scenario):
    rows = _replace(GOOD_BINARY, 0, "arm", "placebo", BINARY_HEADER)
    rows = _replace(rows, 1, "response", "2", BINARY_HEADER)
    rows = _replace(rows, 2, "id", "p1", BINARY_HEADER)
    data = write_csv(tmp_path / "bad.csv", BINARY_HEADER, rows)
    result = invoke(runner, "analyze", data, "-s", binary_scenario, "-d", "thompson")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert [line.split(":")[1].split()[0:2] for line in lines[:-1]] == [
        ["2", "arm"],
        ["3", "response"],
        ["4", "id"],
    ]
    assert lines[-1] == "3 problems found."


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (("id", "arm", "enrolled", "respone"), "1 respone: unknown column"),
        (("id", "arm", "enrolled"), "1 response: missing column"),
        (
            ("id", "arm", "enrolled", "response", "time"),
            "1 time: column for the other endpoint kind",
        ),
        (("id", "arm", "arm", "enrolled", "response"), "1 arm: duplicate column"),
    ],
)
def test_bad_headers_are_reported_on_line_1(runner, tmp_path, binary_scenario, header, expected):
    data = write_csv(tmp_path / "bad.csv", header, [["p1"] * len(header)])
    result = invoke(runner, "analyze", data, "-s", binary_scenario, "-d", "thompson")
    assert result.exit_code == 2
    assert f"{data}:{expected}" in result.stderr


def test_survival_end_dates_out_of_order_and_time_or_end(runner, tmp_path, survival_scenario):
    header = ("id", "arm", "enrolled", "end", "event")
    rows = [
        ["p1", "ctrl", "2020-01-10", "2020-01-05", "1"],
        ["p2", "mid", "2020-01-12", "2020-06-01", "0"],
    ]
    data = write_csv(tmp_path / "bad.csv", header, rows)
    result = invoke(runner, "analyze", data, "-s", survival_scenario, "-d", "exponential")
    assert result.exit_code == 2
    assert (
        f"{data}:2 end: dates out of order: event or last follow-up before enrolment; "
        "allowed on or after enrolled (2020-01-10); got 2020-01-05"
    ) in result.stderr
    both = write_csv(
        tmp_path / "both.csv",
        ("id", "arm", "enrolled", "time", "end", "event"),
        [["p1", "ctrl", "0", "1", "1", "1"]],
    )
    result = invoke(runner, "analyze", both, "-s", survival_scenario, "-d", "exponential")
    assert result.exit_code == 2 and "end: give time or end, not both" in result.stderr


def test_wrong_number_of_fields(runner, tmp_path, binary_scenario):
    data = tmp_path / "bad.csv"
    data.write_text("id,arm,enrolled,response\np1,ctrl,0,1\np2,ctrl,0\n")
    result = invoke(runner, "analyze", data, "-s", binary_scenario, "-d", "thompson")
    assert result.exit_code == 2
    assert f"{data}:3 <row>: wrong number of fields; allowed 4 (as in the header); got 3" in (
        result.stderr
    )


def test_parquet_rows_are_record_numbers(runner, tmp_path, binary_scenario):
    table = pa.table(
        {
            "id": ["p1", "p2", "p3"],
            "arm": ["ctrl", "placebo", "large"],
            "enrolled": [0.0, 1.0, -2.0],
            "response": [1, None, 0],
        }
    )
    data = tmp_path / "bad.parquet"
    pq.write_table(table, data)
    result = invoke(runner, "analyze", data, "-s", binary_scenario, "-d", "thompson")
    assert result.exit_code == 2
    assert f"{data}:2 arm: unknown arm" in result.stderr
    assert f"{data}:3 enrolled: negative time; allowed months ≥ 0; got -2" in result.stderr


def test_parquet_and_csv_read_the_same(tmp_path, binary_scenario):
    scenario = load_scenario(binary_scenario)
    csv_file = write_csv(tmp_path / "good.csv", BINARY_HEADER, GOOD_BINARY)
    import datetime as dt

    table = pa.table(
        {
            "id": [r[0] for r in GOOD_BINARY],
            "arm": [r[1] for r in GOOD_BINARY],
            "enrolled": [dt.date.fromisoformat(r[2]) for r in GOOD_BINARY],
            "response": [1.0, 0.0, float("nan")],
            "response_known": [dt.date(2020, 3, 10), dt.date(2020, 3, 25), None],
        }
    )
    pq.write_table(table, tmp_path / "good.parquet")
    a = read_trial_data(csv_file, scenario, "thompson")
    b = read_trial_data(tmp_path / "good.parquet", scenario, "thompson")
    for name in ("arm", "enrolled_month", "response", "known_month"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.origin == b.origin == dt.date(2020, 1, 10)


def test_unknown_file_type_and_missing_file(runner, tmp_path, binary_scenario):
    bad = tmp_path / "data.xlsx"
    bad.write_text("x")
    result = invoke(runner, "analyze", bad, "-s", binary_scenario, "-d", "thompson")
    assert result.exit_code == 2 and "unknown file type" in result.stderr
    result = invoke(
        runner, "analyze", tmp_path / "nope.csv", "-s", binary_scenario, "-d", "thompson"
    )
    assert result.exit_code == 2 and "nope.csv : file not found" not in result.stderr
    assert "file not found" in result.stderr


def test_bad_arguments_exit_2(runner, tmp_path, binary_scenario):
    data = write_csv(tmp_path / "good.csv", BINARY_HEADER, GOOD_BINARY)
    cases = [
        (["--design", "nope"], "design must be one of thompson, two_arm; got 'nope'"),
        (["-d", "thompson", "--as-of", "7"], "--as-of must be an ISO date"),
        (["-d", "thompson", "--as-of", "2019-01-01"], "--as-of must be on or after"),
        (["-d", "thompson", "--model", "loglinear"], "model loglinear is for time-to-event"),
        (["-d", "thompson", "--model", "hierarchical"], "needs a subgroup column"),
        (["-d", "thompson", "--time-trend", "linear"], "needs a regression model"),
        (["-d", "thompson", "--closed", "ctrl"], "the control arm ctrl cannot be closed"),
        (["-d", "thompson", "--draws", "0"], "draws must be an integer ≥ 1"),
        (["-d", "thompson", "--opened", "large"], "--opened must be ARM=DATE or ARM=MONTH"),
        (["-d", "thompson", "--opened", "nope=2020-01-20"], "--opened arm must be one of"),
        (["-d", "thompson", "--opened", "large=2020-01-20"], "--opened applies to designs"),
        (["-d", "thompson", "--opened", "large=3"], "--opened large= must be an ISO date"),
        (["-d", "thompson", "--substudy", "x"], "--substudy applies to master protocols"),
        (["-d", "thompson", "--closed", "nope"], "--closed arm must be one of"),
    ]
    for args, text in cases:
        result = invoke(runner, "analyze", data, "-s", binary_scenario, *args)
        assert result.exit_code == 2, (args, result.output)
        assert text in result.stderr, (args, result.stderr)


def test_as_of_drops_what_was_not_known_yet(tmp_path, binary_scenario):
    scenario = load_scenario(binary_scenario)
    rows = [
        ["p1", "ctrl", "0", "1", "1.5"],  # known at 1.5
        ["p2", "ctrl", "0.5", "0", ""],  # known at 0.5 + lag 2 = 2.5
        ["p3", "large", "1", "1", "4"],  # known at 4
        ["p4", "large", "3", "", ""],  # enrolled at 3, not known
    ]
    data = read_trial_data(write_csv(tmp_path / "d.csv", BINARY_HEADER, rows), scenario, "thompson")
    lag = 2.0
    at = data.at(data.parse_as_of("2"), lag)
    assert at.n_enrolled.tolist() == [2, 0, 0, 0, 1]
    assert at.observed.tolist() == [True, False, False]
    at = data.at(data.parse_as_of("2.5"), lag)
    assert at.observed.tolist() == [True, True, False]
    everything = data.at(None, lag)
    assert everything.n_enrolled.tolist() == [2, 0, 0, 0, 2]
    assert everything.observed.tolist() == [True, True, True, False]
    assert everything.as_of_month == 4.0


def test_as_of_censors_survival_follow_up(tmp_path, survival_scenario):
    scenario = load_scenario(survival_scenario)
    rows = [
        ["p1", "ctrl", "0", "5", "1"],  # event at month 5
        ["p2", "ctrl", "1", "2", "1"],  # event at month 3
        ["p3", "mid", "2", "6", "0"],  # censored at month 8
        ["p4", "mid", "5", "1", "1"],  # enrolled after the cut
    ]
    data = read_trial_data(
        write_csv(tmp_path / "s.csv", SURVIVAL_HEADER, rows), scenario, "exponential"
    )
    at = data.at(data.parse_as_of("4"), 0.0)
    np.testing.assert_allclose(at.follow_up_months, [4.0, 2.0, 2.0])
    assert at.event.tolist() == [False, True, False]
    assert at.n_enrolled.tolist() == [2, 0, 0, 1]


def test_comment_lines_and_dates(tmp_path, binary_scenario):
    scenario = load_scenario(binary_scenario)
    path = tmp_path / "c.csv"
    path.write_text(
        "# synthetic\nid,arm,enrolled,response,response_known\n"
        "p1,ctrl,2020-01-01,1,2020-03-01\n# a note\np2,large,2020-01-31,,\n"
    )
    data = read_trial_data(path, scenario, "thompson")
    assert data.patient_ids == ("p1", "p2")
    assert data.enrolled_month[1] == pytest.approx(30 / (365.25 / 12))
    assert data.month_label(data.enrolled_month[1]) == "2020-01-31"
    with pytest.raises(DataFileError, match=re.escape(f"{path}:5 arm: unknown arm")):
        path.write_text(path.read_text().replace("p2,large", "p2,lrge"))
        read_trial_data(path, scenario, "thompson")


def test_importing_platsim_does_not_import_pymc():
    import subprocess

    code = (
        "import sys, platsim, platsim.cli.main, platsim.analysis.interim, "
        "platsim.analysis.report\n"
        "print(sorted(m for m in ('pymc', 'arviz', 'pytensor') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_shipped_example_is_valid(tmp_path):
    scenario = load_scenario(Path(__file__).resolve().parents[2] / "scenarios/pioneer_dcr.yaml")
    data = read_trial_data(
        Path(__file__).resolve().parents[2] / "examples/pioneer_interim.csv", scenario, "thompson"
    )
    assert data.n_patients == 80 and data.uses_dates and data.has_subgroups
    assert np.isnan(data.response).sum() > 0  # some outcomes still unknown at the cut


def test_arm_not_open_at_that_date(tmp_path, binary_scenario):
    """For scenarios whose arms open later (`opens_at`: after N patients or at month M)."""
    from types import SimpleNamespace

    real = load_scenario(binary_scenario)
    opens = {
        "large": SimpleNamespace(month=None, patients=2),
        "small": SimpleNamespace(month=1.0, patients=None),
    }
    scenario = SimpleNamespace(
        endpoint=real.endpoint,
        arm_ids=real.arm_ids,
        arms=[SimpleNamespace(id=a.id, opens_at=opens.get(a.id)) for a in real.arms],
    )
    rows = [
        ["p1", "ctrl", "0", "1", ""],
        ["p2", "large", "0.2", "1", ""],  # patient 2: opens after 2 patients
        ["p3", "small", "0.5", "0", ""],  # before month 1
        ["p4", "large", "1.5", "0", ""],  # fine
        ["p5", "small", "1.5", "0", ""],  # fine
    ]
    path = write_csv(tmp_path / "o.csv", BINARY_HEADER, rows)
    with pytest.raises(DataFileError) as error:
        read_trial_data(path, scenario, "thompson")
    assert [str(p) for p in error.value.problems] == [
        f"{path}:3 arm: arm large not open at that date; allowed patients after the first 2 "
        "enrolled; got patient number 2 in enrolment order",
        f"{path}:4 enrolled: arm small not open at that date; allowed month ≥ 1; got 0.5",
    ]
