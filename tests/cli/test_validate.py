"""The command line: `platsim validate`, `platsim scenarios`, help texts, argument errors.

User errors exit 2 with `file:line key.path:` messages on stderr and never a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from platsim.cli.main import app

SHIPPED_DIR = Path(__file__).resolve().parents[2] / "scenarios"
SHIPPED = sorted(SHIPPED_DIR.glob("*.yaml"))
PIONEER = SHIPPED_DIR / "pioneer_dcr.yaml"


@pytest.fixture
def runner() -> CliRunner:
    # 80 columns: what rich assumes when the output is not a terminal (CI, pipes).
    return CliRunner(env={"COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"})


def invoke(runner: CliRunner, *args: str):
    result = runner.invoke(app, [str(arg) for arg in args])
    assert "Traceback" not in result.output
    # exit codes come from typer.Exit / SystemExit, never from an escaped exception
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


# --- validate --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_validate_shipped_scenario_exits_0(runner: CliRunner, path: Path) -> None:
    result = invoke(runner, "validate", path)
    assert result.exit_code == 0, result.output
    assert "valid" in result.stdout
    assert result.stderr == ""


def test_validate_accepts_a_shipped_scenario_name(runner: CliRunner) -> None:
    result = invoke(runner, "validate", "pioneer_dcr")
    assert result.exit_code == 0, result.output
    assert "valid" in result.stdout


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("    exp: {p: 0.4}", "    exp: {p: 1.2}", ":14 truths.reported.exp.p: value out of range"),
        (
            "    max_patients: 100",
            "    max_patients: 100\n    max_patient: 100",
            ":23 designs.fixed.max_patient: unknown key; allowed keys: description, max_patients",
        ),
        (
            "      rule: fixed",
            "      rule: fixd",
            ":24 designs.fixed.allocation.rule: not an allowed",
        ),
        (
            "    looks: {every_patients: 20, first_at: 40}",
            "    looks: {every_patients: 150, first_at: 40}",
            ":26 designs.fixed.looks.every_patients: look at or beyond the maximum sample size",
        ),
        (
            "title: Demo two-arm binary scenario",
            "title: Demo: two arms",
            ":2 <top level>: YAML syntax error",
        ),
        (
            "title: Demo two-arm binary scenario",
            'title: !!python/object/apply:os.system ["echo hi"]',
            ":2 title: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed",
        ),
    ],
    ids=["out_of_range", "unknown_key", "bad_value", "look_beyond", "yaml_syntax", "python_tag"],
)
def test_validate_bad_file_exits_2_naming_file_line_and_key(
    runner: CliRunner, valid_text, replace_line, write_scenario, old, new, where
) -> None:
    path = write_scenario(replace_line(valid_text, old, new))
    result = invoke(runner, "validate", path)
    assert result.exit_code == 2, result.output
    assert f"{path}{where}" in result.stderr, result.stderr
    assert "1 problem found." in result.stderr
    assert "hi" not in result.stdout  # the python tag never ran `echo hi`
    assert "valid —" not in result.stdout


def test_validate_lists_every_problem(
    runner: CliRunner, valid_text, replace_line, write_scenario
) -> None:
    text = replace_line(valid_text, "    exp: {p: 0.4}", "    exp: {p: 1.2}")
    text = replace_line(text, "      rule: fixed", "      rule: fixd")
    text = replace_line(text, "  rate_per_month: 10", "  rate_per_month: many")
    path = write_scenario(text)
    result = invoke(runner, "validate", path)
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith(str(path))]
    assert [line[len(str(path)) :].split(" ", 2)[:2] for line in lines] == [
        [":14", "truths.reported.exp.p:"],
        [":19", "accrual.rate_per_month:"],
        [":24", "designs.fixed.allocation.rule:"],
    ]
    assert "3 problems found." in result.stderr


def test_validate_missing_file_exits_2_with_a_clear_message(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "no_such_scenario.yaml"
    result = invoke(runner, "validate", path)
    assert result.exit_code == 2
    assert re.search(rf"{re.escape(str(path))}.*file not found", result.stderr), result.stderr


def test_validate_without_a_file_is_a_usage_error(runner: CliRunner) -> None:
    result = invoke(runner, "validate")
    assert result.exit_code == 2
    assert re.search(r"Missing argument '?file'?", result.output, re.IGNORECASE), result.output


# --- scenarios -------------------------------------------------------------------------------


def test_scenarios_lists_every_shipped_scenario(runner: CliRunner) -> None:
    result = invoke(runner, "scenarios")
    assert result.exit_code == 0, result.output
    assert SHIPPED, "no shipped scenarios found"
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [path.stem for path in SHIPPED]
    assert "invalid" not in result.stdout


@pytest.mark.parametrize("columns", ["80", "40"])
def test_scenarios_one_whole_line_each_on_a_narrow_terminal(columns: str) -> None:
    """Regression: the rich table wrapped every scenario over several lines at 80 columns,
    cut names ("adaptr_three…") at 60 and dropped the name column when narrower."""
    result = CliRunner(env={"COLUMNS": columns}).invoke(app, ["scenarios"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [path.stem for path in SHIPPED]


def test_scenarios_flags_an_invalid_scenario(
    runner: CliRunner, valid_text, replace_line, tmp_path: Path, monkeypatch
) -> None:
    shipped = tmp_path / "scenarios"
    shipped.mkdir()
    (shipped / "demo.yaml").write_text(valid_text)
    (shipped / "broken.yaml").write_text(replace_line(valid_text, "name: demo", "name: 1bad"))
    monkeypatch.chdir(tmp_path)  # scenarios/ under the working directory comes first
    result = invoke(runner, "scenarios")
    assert result.exit_code == 0, result.output
    broken, demo = result.stdout.splitlines()
    assert re.match(r"broken\s+invalid: run `platsim validate .*broken\.yaml`", broken), broken
    assert re.match(r"demo\s+Demo two-arm binary scenario\s+\(designs: fixed, adaptive;", demo)


# --- help ------------------------------------------------------------------------------------


def test_top_level_help(runner: CliRunner) -> None:
    result = invoke(runner, "--help")
    assert result.exit_code == 0
    for command in ("run", "validate", "scenarios"):
        assert command in result.stdout
    assert "patients" in result.stdout and "months" in result.stdout


@pytest.mark.parametrize("command", ["run", "validate", "scenarios"])
def test_command_help_exits_0(runner: CliRunner, command: str) -> None:
    result = invoke(runner, command, "--help")
    assert result.exit_code == 0, result.output
    assert f"platsim {command}" in result.stdout


def test_validate_help_says_what_it_does(runner: CliRunner) -> None:
    result = invoke(runner, "validate", "--help")
    assert result.exit_code == 0
    assert "exit 2" in result.stdout


def test_run_help_mentions_units(runner: CliRunner) -> None:
    result = invoke(runner, "run", "--help")
    assert result.exit_code == 0
    assert "patients" in result.stdout
    assert "months" in result.stdout


def test_run_help_lists_its_options(runner: CliRunner) -> None:
    result = invoke(runner, "run", "--help")
    for option in ("--design", "--truth", "--trials", "--seed", "--workers", "--out", "--resume"):
        assert option in result.stdout, option


# --- run: argument errors (nothing is simulated) ---------------------------------------------


def test_run_unknown_design_exits_2_naming_allowed_designs(
    runner: CliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = invoke(runner, "run", PIONEER, "--design", "no_such_design", "--out", out)
    assert result.exit_code == 2, result.output
    assert re.search(
        r"design must be one of fixed_equal, thompson, thall_wathen; got no_such_design",
        result.stderr,
    ), result.stderr
    assert not out.exists()


def test_run_unknown_truth_exits_2_naming_allowed_truths(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke(runner, "run", PIONEER, "--truth", "optimistic", "--out", out)
    assert result.exit_code == 2, result.output
    assert "truth must be one of reported, null, pessimistic; got optimistic" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("trials", ["0", "-5"])
def test_run_non_positive_trials_exits_2(runner: CliRunner, tmp_path: Path, trials: str) -> None:
    out = tmp_path / "out"
    result = invoke(runner, "run", PIONEER, "--trials", trials, "--out", out)
    assert result.exit_code == 2, result.output
    assert "--trials" in result.stderr and "positive" in result.stderr
    assert not out.exists()


def test_run_bad_scenario_exits_2_naming_file_line_and_key(
    runner: CliRunner, valid_text, replace_line, write_scenario, tmp_path: Path
) -> None:
    path = write_scenario(replace_line(valid_text, "    exp: {p: 0.4}", "    exp: {p: -0.1}"))
    out = tmp_path / "out"
    result = invoke(runner, "run", path, "--trials", "10", "--out", out)
    assert result.exit_code == 2, result.output
    assert f"{path}:14 truths.reported.exp.p: value out of range" in result.stderr
    assert not out.exists()


def test_run_missing_file_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = invoke(runner, "run", tmp_path / "missing.yaml", "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert "file not found" in result.stderr
