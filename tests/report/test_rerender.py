"""`platsim report RESULTS_DIR` re-renders the same report from saved files, never simulating."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from platsim.cli.main import app


def _forbid_simulation(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("platsim report must not simulate")

    import platsim.engine.survival_trial as survival_trial
    import platsim.engine.trial as trial
    import platsim.simulate as simulate
    import platsim.study as study

    monkeypatch.setattr(trial.Chunk, "run", refuse)
    monkeypatch.setattr(survival_trial.SurvivalChunk, "run", refuse)
    monkeypatch.setattr(trial, "simulate_trials", refuse)
    monkeypatch.setattr(simulate, "simulate_design_truth", refuse)
    monkeypatch.setattr(simulate, "run_chunk", refuse)
    monkeypatch.setattr(study, "run_study", refuse)


def _snapshot(out):
    files = [out / "report.md", out / "report.html", *sorted((out / "figures").glob("*.png"))]
    return {path.relative_to(out).as_posix(): path.read_bytes() for path in files}


def test_report_rerenders_identically_without_simulating(survival_run, monkeypatch):
    out = survival_run.out
    before = _snapshot(out)
    parquet = out / "trials.parquet"
    parquet_mtime = parquet.stat().st_mtime_ns
    _forbid_simulation(monkeypatch)
    result = CliRunner().invoke(app, ["report", str(out)])
    assert result.exit_code == 0, result.output
    assert "report.html" in result.output
    assert _snapshot(out) == before
    assert parquet.stat().st_mtime_ns == parquet_mtime


def test_report_needs_no_per_trial_data(binary_run, tmp_path, monkeypatch):
    """A results directory without trials.parquet and chunks (as in reports/) re-renders."""
    copy = tmp_path / "copy"
    shutil.copytree(binary_run.out, copy, ignore=shutil.ignore_patterns("trials.parquet", "chunks"))
    for path in (copy / "figures").glob("*.png"):
        path.unlink()
    (copy / "report.md").unlink()
    _forbid_simulation(monkeypatch)
    result = CliRunner().invoke(app, ["report", str(copy)])
    assert result.exit_code == 0, result.output
    assert _snapshot(copy) == _snapshot(binary_run.out)


def test_report_of_a_missing_directory_is_a_user_error(tmp_path):
    result = CliRunner().invoke(app, ["report", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "RESULTS_DIR must be a results directory" in result.output


def test_report_names_the_missing_file(binary_run, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(binary_run.out, copy, ignore=shutil.ignore_patterns("chunks"))
    (copy / "allocation.csv").unlink()
    result = CliRunner().invoke(app, ["report", str(copy)])
    assert result.exit_code == 2
    assert "allocation.csv is missing" in result.output
    assert "platsim run" in result.output


def test_report_refuses_a_changed_scenario_copy(binary_run, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(binary_run.out, copy, ignore=shutil.ignore_patterns("chunks"))
    scenario = copy / "scenario.yaml"
    scenario.write_text(scenario.read_text() + "\n# edited\n")
    run_json = copy / "run.json"
    # Point the original path elsewhere so only the edited copy is a candidate.
    run_json.write_text(run_json.read_text().replace(str(binary_run.scenario), "gone.yaml"))
    result = CliRunner().invoke(app, ["report", str(copy)])
    assert result.exit_code == 2
    assert "SHA-256" in result.output
