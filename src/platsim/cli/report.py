"""`platsim report RESULTS_DIR`: re-render the report from saved results, without simulating."""

from __future__ import annotations

from pathlib import Path

import typer

from platsim.cli.common import console, error_boundary


@error_boundary
def report(
    results_dir: Path = typer.Argument(
        ...,
        help="Results directory written by `platsim run` (or one of the shipped reports/).",
    ),
) -> None:
    """Re-render report.html, report.md and figures/*.png from saved results.

    Reads run.json, summary.csv, scenario.yaml and the report's summary files (allocation,
    analyses, decisions, distributions, Kaplan–Meier examples); never simulates and never
    reads trials.parquet.
    """
    from platsim.report import render_report

    files = render_report(results_dir)
    console.print(
        f"Report: {files.html} (self-contained), {files.markdown} and "
        f"{len(files.figures)} figures in {files.html.parent / 'figures'}",
        markup=False,
    )
