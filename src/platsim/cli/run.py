"""`platsim run FILE`: simulate, print operating characteristics, write results."""

from __future__ import annotations

import math
import os
from collections import defaultdict
from pathlib import Path

import typer
from rich.table import Table

from platsim.cli.common import console, error_boundary, progress_bars, resolve_scenario
from platsim.errors import ArgumentError
from platsim.results.metrics import MetricRow
from platsim.rng import coerce_seed
from platsim.scenario import defaults
from platsim.study import run_study


def _pct(value: float, mcse: float | None = None) -> str:
    if value is None or math.isnan(value):
        return "–"
    text = f"{100 * value:.1f}%"
    if mcse is not None and not math.isnan(mcse):
        text += f" ± {100 * mcse:.1f}"
    return text


def _num(value: float, digits: int = 1) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def print_oc_tables(metrics: list[MetricRow], arm_ids: list[str], control: str | None) -> None:
    """One table per design × truth: arms as rows, then the trial-level line."""
    grouped: dict[tuple[str, str], dict[tuple[str, str], MetricRow]] = defaultdict(dict)
    for row in metrics:
        grouped[(row.design, row.truth)][(row.arm, row.metric)] = row
    for (design, truth), rows in grouped.items():

        def get(arm: str, metric: str, rows=rows) -> MetricRow | None:
            return rows.get((arm, metric))

        table = Table(title=f"design [bold]{design}[/bold] under truth [bold]{truth}[/bold]")
        for column in (
            "arm",
            "P(efficacy)",
            "P(futility)",
            "P(dropped)",
            "P(selected)",
            "mean n",
            "n 10–90%",
        ):
            table.add_column(column, justify="left" if column == "arm" else "right")
        for arm in arm_ids:
            cells = [arm + (" (control)" if arm == control else "")]
            for metric in ("p_efficacy", "p_futility", "p_dropped", "p_selected"):
                row = get(arm, metric)
                cells.append(_pct(row.estimate, row.mcse) if row else "–")
            mean_n, q10, q90 = get(arm, "mean_n"), get(arm, "q10_n"), get(arm, "q90_n")
            cells.append(_num(mean_n.estimate) if mean_n else "–")
            cells.append(f"{q10.estimate:.0f}–{q90.estimate:.0f}" if q10 and q90 else "–")
            table.add_row(*cells)
        trial = {metric: row for (arm, metric), row in rows.items() if arm == ""}

        def pct(metric: str, trial=trial) -> str:
            return _pct(trial[metric].estimate, trial[metric].mcse)

        caption = [
            f"FWER {pct('fwer')}",
            f"P(any efficacy) {pct('p_any_efficacy')}",
            f"P(select best) {pct('p_select_best')}",
            f"mean n {_num(trial['mean_n'].estimate)}",
            f"mean duration {_num(trial['mean_duration_months'].estimate)} months",
        ]
        table.caption = " · ".join(caption)
        console.print(table)


@error_boundary
def run(
    file: str = typer.Argument(..., help="Scenario file (YAML) or the name of a shipped one."),
    design: list[str] = typer.Option(
        None, "--design", "-d", help="Design to simulate (repeatable; default: all)."
    ),
    truth: list[str] = typer.Option(
        None,
        "--truth",
        "-t",
        help="Truth (state of nature) to simulate (repeatable; default: all).",
    ),
    trials: int = typer.Option(
        defaults.N_TRIALS, "--trials", "-n", help="Simulated trials per design × truth."
    ),
    seed: int = typer.Option(defaults.SEED, "--seed", help="Random seed (non-negative integer)."),
    chunk_size: int = typer.Option(
        defaults.CHUNK_SIZE,
        "--chunk-size",
        help="Trials per chunk (unit of seeding and checkpoints).",
    ),
    workers: int = typer.Option(
        0, "--workers", "-w", help="Worker processes (0 = one per CPU core)."
    ),
    out: Path = typer.Option(
        None, "--out", "-o", help="Results directory (default: results/<scenario name>)."
    ),
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Reuse finished chunks of an interrupted run with the same settings.",
    ),
) -> None:
    """Simulate the scenario's designs under its truths and report operating characteristics.

    Prints, per design × truth, each arm's P(efficacy), P(futility), P(dropped) and
    P(selected) with Monte Carlo standard errors and its sample size in patients, then the
    FWER, P(any efficacy), P(select the truly best arm), mean sample size (patients) and
    mean duration (months). Writes summary.json, summary.csv (design, truth, arm, metric,
    estimate, mcse) and trials.parquet (one row per trial × arm) into the results directory.
    """
    if trials <= 0:
        raise ArgumentError(f"--trials must be a positive integer; got {trials}.")
    if workers < 0:
        raise ArgumentError(
            f"--workers must be 0 (all cores) or a positive integer; got {workers}."
        )
    n_workers = workers or (os.cpu_count() or 1)
    path = resolve_scenario(file)
    with progress_bars() as factory:
        result = run_study(
            path,
            designs=design,
            truths=truth,
            n_trials=trials,
            seed=coerce_seed(seed),
            chunk_size=chunk_size,
            workers=n_workers,
            out_dir=out,
            resume=resume,
            progress_factory=factory,
        )
    print_oc_tables(result.metrics, result.scenario.arm_ids, result.scenario.control_id)
    console.print(
        f"Results: {result.out_dir}/summary.json, summary.csv, trials.parquet "
        f"({trials} trials per design × truth, seed {seed})",
        markup=False,
    )
