"""The shipped reports/ are current, and the README's `platsim report` example works."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from platsim.cli.main import app

REPO = Path(__file__).resolve().parents[2]
REPORTS = REPO / "reports"


def readme_report_command() -> list[str]:
    """The README's `platsim report` example, as arguments."""
    text = (REPO / "README.md").read_text()
    lines = [
        line.strip()
        for line in text.splitlines()
        if line.strip().startswith(".venv/bin/platsim report ")
    ]
    assert len(lines) == 1, lines
    return lines[0].split()[1:]


def test_readme_links_the_pioneer_and_s1800a_reports():
    text = (REPO / "README.md").read_text()
    links = re.findall(r"\]\((reports/[^)]+)\)", text)
    assert "reports/pioneer_dcr/report.md" in links
    assert "reports/lungmap_s1800a/report.md" in links
    assert "python scripts/make_reports.py" in text


@pytest.mark.skipif(
    not (REPORTS / "pioneer_dcr" / "report.md").exists(), reason="reports/ not generated"
)
def test_readme_report_example_rerenders_the_shipped_report(tmp_path, monkeypatch):
    """Exactly as written, on a copy: the shipped report comes back byte for byte."""
    args = readme_report_command()
    target = Path(args[1])
    shipped = REPO / target
    shutil.copytree(shipped, tmp_path / target)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / target / "report.md").read_bytes() == (shipped / "report.md").read_bytes()
    figures = sorted(p.name for p in (shipped / "figures").glob("*.png"))
    assert sorted(p.name for p in (tmp_path / target / "figures").glob("*.png")) == figures


def test_shipped_reports_hold_no_per_trial_data():
    if not REPORTS.exists():
        pytest.skip("reports/ not generated")
    assert not list(REPORTS.glob("**/trials.parquet"))
    assert not list(REPORTS.glob("**/chunks"))
    for report in REPORTS.glob("**/report.md"):
        folder = report.parent
        for name in ("report.html", "summary.json", "summary.csv", "run.json"):
            assert (folder / name).exists(), folder / name
