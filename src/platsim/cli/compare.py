"""`platsim compare FILE`: designs × truths side by side on common random numbers."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from platsim.cli.common import (
    console,
    error_boundary,
    progress_bars,
    resolve_scenario,
    resolve_workers,
)
from platsim.compare import ComparisonResult, run_comparison, write_comparison
from platsim.compare.render import (
    fmt_difference,
    fmt_estimate,
    fmt_se,
    metric_label,
)
from platsim.errors import ArgumentError
from platsim.rng import coerce_seed
from platsim.scenario import defaults

#: Rows of the printed table (all metrics are in comparison.csv).
_PRINTED = ("p_any_efficacy", "fwer", "p_select_best", "mean_n", "mean_duration_months")


def split_names(single: list[str] | None, joined: list[str] | None) -> list[str] | None:
    """Names from repeated `--design A` and comma-separated `--designs A,B` (in order)."""
    names = list(single or [])
    for item in joined or []:
        names += [name.strip() for name in item.split(",") if name.strip()]
    return names or None


def print_comparison(result: ComparisonResult) -> None:
    """One table per truth: metrics as rows, designs as columns; each non-reference cell
    also shows Δ vs the reference with its paired MCSE and (in brackets) the unpaired one."""
    grouped = defaultdict(dict)
    for row in result.rows:
        grouped[row.truth][(row.metric, row.arm, row.design)] = row
    control = result.scenario.control_id
    for truth in result.truths:
        rows = grouped[truth]
        table = Table(title=f"truth [bold]{truth}[/bold]: estimate ± MCSE; Δ vs {result.reference}")
        table.add_column("metric", overflow="fold")
        for design in result.designs:
            suffix = " (ref)" if design == result.reference else ""
            table.add_column(design + suffix, justify="right")
        keys = [(m, "") for m in _PRINTED] + [
            ("p_efficacy", arm) for arm in result.scenario.arm_ids if arm != control
        ]
        for metric, arm in keys:
            if (metric, arm, result.reference) not in rows:
                continue
            cells = [metric_label(metric, arm)]
            for design in result.designs:
                row = rows[(metric, arm, design)]
                text = fmt_estimate(metric, row.estimate, row.mcse)
                if design != result.reference:
                    text += (
                        f"\nΔ {fmt_difference(metric, row.difference)} ± "
                        f"{fmt_se(metric, row.mcse_paired)} "
                        f"[{fmt_se(metric, row.mcse_unpaired)}]"
                    )
                cells.append(text)
            table.add_row(*cells, end_section=True)
        table.caption = escape(
            "Δ = paired difference (same simulated patients) ± paired MCSE "
            "[unpaired MCSE: independent runs]; probabilities in %, Δ in percentage points"
        )
        console.print(table)


@error_boundary
def compare(
    file: str = typer.Argument(..., help="Scenario file (YAML) or the name of a shipped one."),
    design: list[str] = typer.Option(
        None, "--design", "-d", help="Design to compare (repeatable; default: all)."
    ),
    designs: list[str] = typer.Option(
        None, "--designs", help="Designs to compare, comma-separated (e.g. fixed,thompson)."
    ),
    truth: list[str] = typer.Option(
        None, "--truth", "-t", help="Truth (state of nature) (repeatable; default: all)."
    ),
    truths: list[str] = typer.Option(
        None, "--truths", help="Truths, comma-separated (e.g. reported,null)."
    ),
    reference: str = typer.Option(
        None, "--reference", "-r", help="Design the others are compared with (default: first)."
    ),
    trials: int = typer.Option(
        defaults.N_TRIALS, "--trials", "-n", help="Simulated trials per design × truth."
    ),
    seed: int = typer.Option(defaults.SEED, "--seed", help="Random seed (non-negative integer)."),
    chunk_size: int = typer.Option(
        defaults.CHUNK_SIZE, "--chunk-size", help="Trials per chunk (unit of seeding)."
    ),
    workers: int = typer.Option(
        0, "--workers", "-w", help="Worker processes (0 = one per CPU core)."
    ),
    dask: str = typer.Option(
        None, "--dask", help="Dask scheduler address, or 'local' for a local cluster."
    ),
    out: Path = typer.Option(
        None, "--out", "-o", help="Output directory (default: results/<scenario name>)."
    ),
) -> None:
    """Compare designs under every truth on common random numbers, with paired differences.

    Every design under a truth is simulated with the same seed, so trial i of each design
    sees the same patients. Prints per truth each design's P(any efficacy), FWER, P(select
    the truly best arm), mean sample size (patients), mean duration (months) and per-arm
    P(efficacy) with Monte Carlo standard errors, and each metric's paired difference from
    the reference design with its paired MCSE next to the unpaired one. Writes
    comparison.csv, comparison.md, comparison.html and two PNG figures.
    """
    if trials <= 0:
        raise ArgumentError(f"--trials must be a positive integer; got {trials}.")
    n_workers = resolve_workers(workers)
    path = resolve_scenario(file)
    with progress_bars() as factory:
        result = run_comparison(
            path,
            designs=split_names(design, designs),
            truths=split_names(truth, truths),
            reference=reference,
            n_trials=trials,
            seed=coerce_seed(seed),
            chunk_size=chunk_size,
            workers=n_workers,
            dask=dask,
            progress_factory=factory,
        )
    out_dir = out if out is not None else Path("results") / result.scenario.name
    paths = write_comparison(result, out_dir)
    print_comparison(result)
    console.print(
        f"Comparison: {paths['csv']}, {paths['md'].name}, {paths['html'].name} "
        f"({trials} trials per design × truth, seed {result.meta['seed']})",
        markup=False,
    )
