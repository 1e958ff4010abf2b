"""`platsim analyze DATA --scenario FILE --design D`: interim analysis of a real trial."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from platsim.cli.common import (
    console,
    error_boundary,
    error_console,
    resolve_scenario,
    show_progress,
)
from platsim.scenario import defaults


@error_boundary
def analyze(
    data: Path = typer.Argument(
        ..., help="Patient data: CSV or Parquet, one row per randomized patient."
    ),
    scenario: str = typer.Option(
        ..., "--scenario", "-s", help="Scenario file (YAML) or the name of a shipped one."
    ),
    design: str = typer.Option(..., "--design", "-d", help="The design the trial follows."),
    as_of: str = typer.Option(
        None,
        "--as-of",
        help="Analysis time: ISO date (YYYY-MM-DD) or month, as the data gives times; "
        "information not known by then is left out (default: everything in the file).",
    ),
    model: str = typer.Option(
        "conjugate",
        "--model",
        "-m",
        help="conjugate (the design's Beta–Binomial / Gamma–exponential), logistic (binary), "
        "loglinear (time to event) or hierarchical (partial pooling across subgroups).",
    ),
    time_trend: str = typer.Option(
        "none",
        "--time-trend",
        help="none, linear, period or time_machine (regression models only).",
    ),
    period_months: float = typer.Option(
        6.0, "--period-months", help="Length of an enrolment period for period / time_machine."
    ),
    closed: list[str] = typer.Option(
        None,
        "--closed",
        help="Arm that already left the analysis at an earlier look (repeatable).",
    ),
    opened: list[str] = typer.Option(
        None,
        "--opened",
        help="ARM=DATE (or ARM=MONTH): when an arm that opened late opened; its concurrent "
        "controls are those enrolled after (default: from its first patient). Repeatable.",
    ),
    substudy: str = typer.Option(
        None, "--substudy", help="Master protocols: the sub-study whose data these are."
    ),
    final: bool = typer.Option(
        False, "--final", help="This is the final analysis (no next allocation)."
    ),
    draws: int = typer.Option(1000, "--draws", help="Posterior draws per chain (after tuning)."),
    tune: int = typer.Option(1000, "--tune", help="Tuning steps per chain."),
    chains: int = typer.Option(4, "--chains", help="Independent NUTS chains."),
    cores: int = typer.Option(1, "--cores", help="Processes for the chains."),
    seed: int = typer.Option(defaults.SEED, "--seed", help="Random seed (non-negative integer)."),
    out: Path = typer.Option(
        None, "--out", "-o", help="Output directory (default: results/<data file name>_analysis)."
    ),
) -> None:
    """Fit the design's Bayesian model to a trial's data (PyMC), check the sampler (ArviZ),
    and report P(best), P(better than control), the decisions the design's rules make now
    and the allocation for the next patients.
    """
    from platsim.analysis.interim import SamplerSettings, analyze_trial
    from platsim.analysis.models import ModelChoice
    from platsim.analysis.report import headers, summary_lines, table_rows, write_outputs

    out_dir = out if out is not None else Path("results") / f"{data.stem}_analysis"
    progress = show_progress()
    result = analyze_trial(
        data,
        resolve_scenario(scenario),
        design,
        as_of=as_of,
        choice=ModelChoice(model, time_trend, period_months),
        sampler=SamplerSettings(draws=draws, tune=tune, chains=chains, cores=cores, seed=seed),
        closed=tuple(closed or ()),
        opened=tuple(opened or ()),
        substudy=substudy,
        is_final=final,
        progressbar=progress,
        announce=None if progress else lambda line: error_console.print(line, markup=False),
    )
    columns = headers(result)
    data = result.to_json()
    rows = table_rows(result, data)
    title = (
        f"{result.scenario.name} · design {design} · as of "
        f"{result.data.describe_month(result.as_of_month)}"
    )
    # Two narrow tables rather than one wide one: they fit an 80-column terminal.
    for caption, keys in (
        (f"{title}: posterior", ("arm", "n", "outcomes", "posterior", "effect")),
        (
            f"{title}: the design's rules now",
            ("arm", "p_best", "p_better", "decision", "allocation"),
        ),
    ):
        table = Table(title=caption, title_justify="left")
        for key in keys:
            table.add_column(
                columns[key], justify="left" if key == "arm" else "right", overflow="fold"
            )
        for row in rows:
            table.add_row(*(row[key] for key in keys))
        console.print(table)
    for line in summary_lines(result, data):
        console.print(line, markup=False)
    for warning in result.warnings:
        error_console.print(f"warning: {warning}", markup=False)
    paths = write_outputs(result, out_dir, data)
    console.print(f"wrote {', '.join(str(p) for p in paths.values())}", markup=False)
