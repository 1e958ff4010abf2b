"""`platsim run FILE`: simulate, print operating characteristics, write results."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import typer
from rich.table import Table

from platsim.cli.common import (
    console,
    error_boundary,
    progress_bars,
    resolve_scenario,
    resolve_workers,
)
from platsim.errors import ArgumentError
from platsim.master import run_master_study
from platsim.results.metrics import MetricRow
from platsim.rng import coerce_seed
from platsim.scenario import defaults
from platsim.scenario.load import load_scenario
from platsim.study import run_study


def _pct(value: float, mcse: float | None = None) -> str:
    if value is None or math.isnan(value):
        return "–"
    text = f"{100 * value:.1f}"
    if mcse is not None and not math.isnan(mcse):
        text += f"±{100 * mcse:.1f}"
    return text


def _num(value: float, digits: int = 1) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.{digits}f}"


_ARM_COLUMNS = (
    ("p_efficacy", "efficacy %"),
    ("p_futility", "futility %"),
    ("p_dropped", "dropped %"),
    ("p_declared_best", "best %"),
    ("p_selected", "selected %"),
)


def print_oc_tables(metrics: list[MetricRow], arm_ids: list[str], control: str | None) -> None:
    """One table per design × truth: arms as rows (probabilities in % ± MCSE, sample sizes
    in patients), then the trial-level line. Decision columns that never happen are left out.
    """
    grouped: dict[tuple[str, str], dict[tuple[str, str], MetricRow]] = defaultdict(dict)
    for row in metrics:
        grouped[(row.design, row.truth)][(row.arm, row.metric)] = row
    for (design, truth), rows in grouped.items():
        columns = [
            (metric, header)
            for metric, header in _ARM_COLUMNS
            if metric == "p_selected"
            or any(rows[(arm, metric)].estimate > 0 for arm in arm_ids if (arm, metric) in rows)
        ]
        table = Table(title=f"design [bold]{design}[/bold] under truth [bold]{truth}[/bold]")
        table.add_column("arm", overflow="fold")
        for _, header in columns:
            table.add_column(header, justify="right", no_wrap=True)
        table.add_column("mean n", justify="right", no_wrap=True)
        table.add_column("n 10–90%", justify="right", no_wrap=True)
        for arm in arm_ids:
            cells = [arm + (" (control)" if arm == control else "")]
            for metric, _ in columns:
                row = rows.get((arm, metric))
                cells.append(_pct(row.estimate, row.mcse) if row else "–")
            mean_n, q10, q90 = (rows.get((arm, m)) for m in ("mean_n", "q10_n", "q90_n"))
            cells.append(_num(mean_n.estimate) if mean_n else "–")
            cells.append(f"{q10.estimate:.0f}–{q90.estimate:.0f}" if q10 and q90 else "–")
            table.add_row(*cells)
        trial = {metric: row for (arm, metric), row in rows.items() if arm == ""}

        def pct(metric: str, trial=trial) -> str:
            text = _pct(trial[metric].estimate, trial[metric].mcse)
            return text if text == "–" else text + "%"

        table.caption = (
            f"FWER {pct('fwer')} · P(any efficacy) {pct('p_any_efficacy')} · "
            f"P(select truly best) {pct('p_select_best')} · mean n "
            f"{_num(trial['mean_n'].estimate)} patients · mean duration "
            f"{_num(trial['mean_duration_months'].estimate)} months"
        )
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
    dask: str = typer.Option(
        None,
        "--dask",
        help="Run chunks on a Dask cluster: scheduler address (tcp://host:8786) or 'local' "
        "for a local cluster; default from PLATSIM_DASK_ADDRESS if set.",
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
    n_workers = resolve_workers(workers)
    path = resolve_scenario(file)
    scenario = load_scenario(path)
    options = dict(
        designs=design,
        truths=truth,
        n_trials=trials,
        seed=coerce_seed(seed),
        chunk_size=chunk_size,
        workers=n_workers,
        dask=dask,
        resume=resume,
    )
    with progress_bars() as factory:
        if scenario.is_master_protocol:
            out_dir = out if out is not None else Path("results") / scenario.name
            results = run_master_study(scenario, out_dir, progress_factory=factory, **options)
        else:
            results = [run_study(path, out_dir=out, progress_factory=factory, **options)]
    for result in results:
        if len(results) > 1:
            console.rule(f"sub-study {result.scenario.name}")
        print_oc_tables(result.metrics, result.scenario.arm_ids, result.scenario.control_id)
        console.print(
            f"Results: {result.out_dir}/report.html (and report.md), summary.json, "
            f"summary.csv, trials.parquet ({trials} trials per design × truth, seed {seed})",
            markup=False,
        )
