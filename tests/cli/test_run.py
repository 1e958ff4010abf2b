"""`platsim run` end to end: the README's main command, output files, reproducibility."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from platsim.cli.main import app

REPO = Path(__file__).resolve().parents[2]


def readme_main_command() -> str:
    """The README's first command block: set up and run a shipped scenario."""
    text = (REPO / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return blocks[0].strip()


@pytest.mark.slow
def test_readme_main_command_runs_a_shipped_scenario(tmp_path):
    command = readme_main_command()
    # Set-up part (venv + pip install) is what CI itself just did; run the platsim part
    # exactly as written, with this interpreter's platsim, in a subprocess.
    platsim_part = command.split("&&")[-1].strip()
    assert platsim_part.startswith(".venv/bin/platsim run scenarios/")
    args = platsim_part.split()[1:]
    platsim = Path(sys.executable).parent / "platsim"
    result = subprocess.run(
        [str(platsim), *args, "--out", str(tmp_path / "out")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "120"},
    )
    assert result.returncode == 0, result.stderr
    assert "FWER" in result.stdout and "P(any efficacy)" in result.stdout
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    scenario_name = Path(args[1]).stem
    assert summary["scenario"] == scenario_name
    for entry in summary["results"]:
        assert entry["n_trials"] == 10_000
        for arm in entry["arms"].values():
            p, mcse = arm["p_efficacy"], arm["mcse_p_efficacy"]
            assert 0.0 <= p <= 1.0
            assert mcse == pytest.approx((p * (1 - p) / 10_000) ** 0.5, rel=1e-9, abs=1e-15)
    table = pq.read_table(tmp_path / "out" / "trials.parquet")
    n_pairs = len(summary["designs"]) * len(summary["truths"])
    n_arms = len(next(iter(summary["results"]))["arms"])
    assert table.num_rows == 10_000 * n_pairs * n_arms


def run_cli(*args: str):
    return CliRunner().invoke(app, list(args))


def test_same_seed_gives_byte_identical_parquet_any_workers(tmp_path):
    common = ["run", "altn_sarcoma_orr", "--trials", "700", "--chunk-size", "200", "--seed", "3"]
    one = run_cli(*common, "--workers", "1", "--out", str(tmp_path / "a"))
    two = run_cli(*common, "--workers", "2", "--out", str(tmp_path / "b"))
    other = run_cli(*common[:-1], "4", "--workers", "1", "--out", str(tmp_path / "c"))
    assert one.exit_code == two.exit_code == other.exit_code == 0, one.output
    a = (tmp_path / "a" / "trials.parquet").read_bytes()
    b = (tmp_path / "b" / "trials.parquet").read_bytes()
    c = (tmp_path / "c" / "trials.parquet").read_bytes()
    assert a == b
    assert a != c
    assert (tmp_path / "a" / "summary.csv").read_text() == (
        tmp_path / "b" / "summary.csv"
    ).read_text()


def test_summary_csv_is_the_long_table_of_summary_json(tmp_path):
    result = run_cli(
        "run",
        "postici_response",
        "--design",
        "thompson",
        "--truth",
        "null",
        "--trials",
        "300",
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    lines = (tmp_path / "summary.csv").read_text().splitlines()
    assert lines[0] == "design,truth,arm,metric,estimate,mcse"
    entry = summary["results"][0]
    for line in lines[1:]:
        design, truth, arm, metric, estimate, _ = line.split(",")
        assert (design, truth) == ("thompson", "null")
        source = entry["arms"][arm] if arm else entry
        expected = source[metric]
        if expected is None:
            assert estimate == ""
        else:
            assert float(estimate) == pytest.approx(expected, rel=1e-12)
    for key in ("fwer", "p_any_efficacy", "mean_n", "mean_duration_months"):
        assert key in entry
    for arm in entry["arms"].values():
        for key in ("p_efficacy", "p_futility", "p_selected", "mean_n", "mcse_p_efficacy"):
            assert key in arm


def test_interrupted_run_keeps_finished_chunks_and_resumes_identically(tmp_path, monkeypatch):
    import platsim.simulate as simulate

    args = [
        "run",
        "altn_sarcoma_orr",
        "--design",
        "thompson",
        "--truth",
        "null",
        "--trials",
        "1000",
        "--chunk-size",
        "250",
        "--workers",
        "1",
    ]
    full = run_cli(*args, "--out", str(tmp_path / "full"))
    assert full.exit_code == 0

    original = simulate.run_chunk
    calls = {"n": 0}

    def interrupt_on_third(task):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(task)

    monkeypatch.setattr(simulate, "run_chunk", interrupt_on_third)
    stopped = run_cli(*args, "--out", str(tmp_path / "part"))
    assert stopped.exit_code == 130
    assert "--resume" in stopped.output
    chunks = sorted((tmp_path / "part" / "chunks" / "thompson" / "null").glob("chunk_*.npz"))
    assert [c.name for c in chunks] == ["chunk_00000.npz", "chunk_00001.npz"]
    assert not (tmp_path / "part" / "trials.parquet").exists()

    monkeypatch.setattr(simulate, "run_chunk", original)
    resumed = run_cli(*args, "--out", str(tmp_path / "part"), "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert (tmp_path / "part" / "trials.parquet").read_bytes() == (
        tmp_path / "full" / "trials.parquet"
    ).read_bytes()


def test_resume_refuses_a_checkpoint_with_another_seed(tmp_path):
    args = [
        "run",
        "altn_sarcoma_orr",
        "--design",
        "thompson",
        "--truth",
        "null",
        "--trials",
        "200",
        "--chunk-size",
        "100",
        "--out",
        str(tmp_path),
    ]
    assert run_cli(*args, "--seed", "1").exit_code == 0
    refused = run_cli(*args, "--seed", "2", "--resume")
    assert refused.exit_code == 2
    assert re.search(r"cannot resume .*seed \(checkpoint 1, now 2\)", refused.output)
