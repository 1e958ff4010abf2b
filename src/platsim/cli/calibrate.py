"""`platsim calibrate FILE --design D --truth T --target-fwer X`: tune a decision threshold."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from platsim import calibrate as calibration
from platsim.calibrate import (
    PARAMETERS,
    CalibrationResult,
    Evaluation,
    Target,
    describe_result,
    parse_range,
    write_calibrated_scenario,
)
from platsim.cli.common import (
    console,
    error_boundary,
    error_console,
    resolve_scenario,
    resolve_workers,
    show_progress,
)
from platsim.errors import ArgumentError
from platsim.rng import coerce_seed
from platsim.scenario import defaults
from platsim.simulate import write_atomically


def _target(
    fwer: float | None, alpha: float | None, power: float | None, arm: str | None
) -> Target:
    given = [
        (kind, value)
        for kind, value in (("fwer", fwer), ("alpha", alpha), ("power", power))
        if value is not None
    ]
    if len(given) != 1:
        raise ArgumentError(
            "exactly one of --target-fwer, --target-alpha or --target-power must be given; "
            f"got {len(given)}."
        )
    kind, value = given[0]
    if arm is not None and kind == "fwer":
        raise ArgumentError(
            "--arm applies to --target-alpha and --target-power, not --target-fwer."
        )
    return Target(kind, value, arm)  # type: ignore[arg-type]


def print_search(result: CalibrationResult) -> None:
    """The simulated candidates in the order they were tried."""
    table = Table(
        title=(
            f"{result.parameter} of [bold]{result.design}[/bold] under [bold]{result.truth}"
            f"[/bold]: {len(result.evaluations)} simulations of {result.achieved.n_trials} "
            "trials each (same seed)"
        )
    )
    table.add_column("#", justify="right")
    table.add_column(result.parameter, justify="right")
    table.add_column(f"{result.measure.label} ± MCSE", justify="right")
    table.add_column("meets target", justify="center")
    for i, evaluation in enumerate(result.evaluations, start=1):
        chosen = evaluation is result.achieved
        table.add_row(
            str(i),
            f"{evaluation.value:.10g}",
            f"{evaluation.rate:.4f} ± {evaluation.mcse:.4f}",
            ("yes" if result.target.meets(evaluation.rate) else "no") + (" ◀" if chosen else ""),
        )
    console.print(table)


@error_boundary
def calibrate(
    file: str = typer.Argument(..., help="Scenario file (YAML) or the name of a shipped one."),
    design: str = typer.Option(..., "--design", "-d", help="Design whose threshold is tuned."),
    truth: str = typer.Option(
        "null", "--truth", "-t", help="Truth to calibrate under (default: null)."
    ),
    target_fwer: float = typer.Option(
        None,
        "--target-fwer",
        help="Largest FWER: P(any arm equal to the control declared effective or best).",
    ),
    target_alpha: float = typer.Option(
        None,
        "--target-alpha",
        help="Largest per-arm type I error (of --arm, else of every arm without effect).",
    ),
    target_power: float = typer.Option(
        None,
        "--target-power",
        help="Smallest power: P(an arm better than the control (or --arm) declared "
        "effective or best), under a truth with effects.",
    ),
    arm: str = typer.Option(None, "--arm", help="Arm id for --target-alpha / --target-power."),
    parameter: str = typer.Option(
        "efficacy.threshold",
        "--parameter",
        "-p",
        help=f"Threshold to tune: {', '.join(PARAMETERS)}.",
    ),
    search_range: str = typer.Option(
        None,
        "--range",
        help="Search range LO,HI (default 0.5,0.9999 for efficacy and stop_for_best, "
        "0.001,0.5 for futility).",
    ),
    trials: int = typer.Option(
        defaults.N_TRIALS, "--trials", "-n", help="Simulated trials per candidate value."
    ),
    seed: int = typer.Option(defaults.SEED, "--seed", help="Random seed (same for every value)."),
    chunk_size: int = typer.Option(
        defaults.CHUNK_SIZE, "--chunk-size", help="Trials per chunk (unit of seeding)."
    ),
    check_seed: int = typer.Option(
        None,
        "--check-seed",
        help="Also simulate the calibrated value on fresh trials from this seed.",
    ),
    workers: int = typer.Option(
        0, "--workers", "-w", help="Worker processes (0 = one per CPU core)."
    ),
    dask: str = typer.Option(
        None, "--dask", help="Dask scheduler address, or 'local' for a local cluster."
    ),
    write_scenario: Path = typer.Option(
        None,
        "--write-scenario",
        help="Write a copy of the scenario file with the calibrated value in place.",
    ),
    out: Path = typer.Option(
        None,
        "--out",
        "-o",
        help="Directory for calibration_<design>_<truth>.json (default: results/<scenario>).",
    ),
) -> None:
    """Find the threshold that meets a target FWER, type I error or power.

    Every candidate value is simulated on the same trials (common random numbers), so the
    simulated rate is a step function of the threshold; the search brackets the target
    between two adjacent steps. Prints the calibrated value, the achieved rate with its
    Monte Carlo standard error and 95% interval, and whether the target lies inside it.
    Refuses (exit 2) when the target is unreachable in the range, naming the achievable
    range.
    """
    target = _target(target_fwer, target_alpha, target_power, arm)
    n_workers = resolve_workers(workers)
    bounds = parse_range(search_range) if search_range is not None else None
    path = resolve_scenario(file)

    def report(evaluation: Evaluation) -> None:
        if show_progress():
            error_console.print(
                f"  {parameter} = {evaluation.value:.10g}: rate {evaluation.rate:.4f} "
                f"± {evaluation.mcse:.4f}",
                markup=False,
            )

    result = calibration.calibrate(
        path,
        design=design,
        truth=truth,
        target=target,
        parameter=parameter,
        search_range=bounds,
        n_trials=trials,
        seed=coerce_seed(seed),
        chunk_size=chunk_size,
        check_seed=coerce_seed(check_seed) if check_seed is not None else None,
        workers=n_workers,
        dask=dask,
        on_evaluation=report,
    )
    print_search(result)
    for line in describe_result(result):
        console.print(line, markup=False)
    out_dir = out if out is not None else Path("results") / result.scenario
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"calibration_{result.design}_{result.truth}.json"
    document = {**result.to_dict(), "summary": describe_result(result)}
    text = json.dumps(document, indent=2, allow_nan=False, default=float) + "\n"
    write_atomically(json_path, lambda tmp: tmp.write_text(text))
    console.print(f"Saved: {json_path}", markup=False)
    if write_scenario is not None:
        line = write_calibrated_scenario(
            path, write_scenario, result.design, result.parameter, result.value_text
        )
        console.print(
            f"Wrote {write_scenario}: designs.{result.design}.decisions."
            f"{PARAMETERS[result.parameter].rule}.threshold = {result.value_text} (line {line}; "
            "the rest of the file unchanged).",
            markup=False,
        )
