"""Every design under every truth on common random numbers, with paired differences.

Chunk seeds depend only on (seed, truth, chunk index), and patients are drawn patient-major
from per-kind streams (docs/engine.md), so with one seed every design under a truth sees the
same simulated patients: trial i of design A is paired with trial i of design B. For each
metric whose estimate is a mean over trials of a per-trial value x (an indicator for a
probability), the difference between designs A and B is estimated by the mean of the
per-trial differences d_i = x_i^A − x_i^B, with

- paired MCSE   = sd(d) / √n (what the comparison really has: designs agree on most trials),
- unpaired MCSE = √(se_A² + se_B²) (what two independent runs would give).

Both are reported. Standard deviations use ddof = 0 for probabilities and ddof = 1 for
means, as `platsim.results.metrics` does, so that comparing a design with an identical copy
gives a difference and a paired MCSE of exactly 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from platsim.engine import spec as codes
from platsim.engine.records import TrialRecords
from platsim.engine.spec import TrialSpec
from platsim.errors import ArgumentError
from platsim.executors import make_executor
from platsim.provenance import run_metadata
from platsim.results.metrics import MetricRow, operating_characteristics, trial_indicators
from platsim.scenario import defaults
from platsim.scenario.load import load_scenario
from platsim.scenario.schema import Scenario
from platsim.simulate import ProgressCallback, simulate_design_truth
from platsim.specs import build_trial_spec
from platsim.study import select_names

#: Trial-level metrics compared (names as in summary.csv; arm empty).
TRIAL_METRICS: tuple[str, ...] = (
    "p_any_efficacy",
    "fwer",
    "p_select_best",
    "mean_n",
    "mean_duration_months",
)
#: Per-arm metrics compared (names as in summary.csv).
ARM_METRICS: tuple[str, ...] = ("p_efficacy", "p_futility", "p_selected", "mean_n")

#: Metrics that are probabilities (per-trial indicators; MCSE with ddof = 0).
PROBABILITY_METRICS = frozenset(
    {"p_any_efficacy", "fwer", "p_select_best", "p_efficacy", "p_futility", "p_selected"}
)


@dataclass(frozen=True)
class ComparisonRow:
    """One metric of one design under one truth, against the reference design.

    `difference` = estimate − reference's estimate (paired, on the same trials);
    `mcse_paired` = sd of the per-trial differences / √n; `mcse_unpaired` =
    √(mcse² + mcse_reference²). The three are NaN on the reference's own rows.
    """

    truth: str
    metric: str
    arm: str
    design: str
    reference: str
    estimate: float
    mcse: float
    difference: float
    mcse_paired: float
    mcse_unpaired: float


@dataclass
class ComparisonResult:
    """What `run_comparison` produced: rows in (truth, metric, arm, design) order."""

    scenario: Scenario
    designs: list[str]
    truths: list[str]
    reference: str
    rows: list[ComparisonRow]
    metrics: list[MetricRow]
    meta: dict[str, object] = field(default_factory=dict)


def per_trial_values(records: TrialRecords, spec: TrialSpec) -> dict[tuple[str, str], np.ndarray]:
    """Per-trial values whose means are the compared metrics, keyed by (arm, metric).

    Each array is float, shape (n_sims,); indicators are 0/1. NaN marks a trial that does
    not count (a non-finite duration), as `operating_characteristics` skips it. `fwer` is
    missing when every experimental arm is truly better than the control. The definitions
    are those of `platsim.results.metrics` (tests hold the means equal to its estimates).
    """
    status = records.status
    efficacy = status == codes.EFFICACY
    indicators = trial_indicators(records, spec)
    values: dict[tuple[str, str], np.ndarray] = {
        ("", metric): indicators[metric].astype(float)
        for metric in ("p_any_efficacy", "fwer", "p_select_best")
        if metric in indicators
    }
    values[("", "mean_n")] = records.total_n.astype(float)
    duration = records.duration_months.astype(float)
    values[("", "mean_duration_months")] = np.where(np.isfinite(duration), duration, np.nan)
    for k, arm in enumerate(spec.arm_ids):
        values[(arm, "p_efficacy")] = efficacy[:, k].astype(float)
        values[(arm, "p_futility")] = (status[:, k] == codes.FUTILITY).astype(float)
        values[(arm, "p_selected")] = (records.selected_arm == k).astype(float)
        values[(arm, "mean_n")] = records.n_enrolled[:, k].astype(float)
    return values


def _paired(metric: str, x: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
    """Mean of the per-trial differences and its MCSE (trials where both count)."""
    both = np.isfinite(x) & np.isfinite(ref)
    d = x[both] - ref[both]
    n = d.size
    if n == 0:
        return math.nan, math.nan
    ddof = 0 if metric in PROBABILITY_METRICS else 1
    if n <= ddof:
        return float(d.mean()), math.nan
    return float(d.mean()), float(d.std(ddof=ddof) / math.sqrt(n))


def compare_records(
    truth: str,
    records: dict[str, TrialRecords],
    specs: dict[str, TrialSpec],
    metrics: dict[str, list[MetricRow]],
    reference: str,
) -> list[ComparisonRow]:
    """Comparison rows of every design under one truth.

    Parameters
    ----------
    truth : the truth's name.
    records : per design, the records of the same trials (same seed, chunk size, n).
    specs : per design, its `TrialSpec` under this truth.
    metrics : per design, `operating_characteristics` of those records (the estimates and
        MCSEs reported; the per-trial values only add the paired differences).
    reference : the design the others are compared with.
    """
    n_sims = {design: rec.n_sims for design, rec in records.items()}
    if len(set(n_sims.values())) != 1:
        raise ArgumentError(f"designs must be compared on the same number of trials; got {n_sims}.")
    per_trial = {design: per_trial_values(records[design], specs[design]) for design in records}
    by_key = {
        design: {(row.arm, row.metric): row for row in rows} for design, rows in metrics.items()
    }
    arm_ids = specs[reference].arm_ids
    keys = [("", metric) for metric in TRIAL_METRICS] + [
        (arm, metric) for metric in ARM_METRICS for arm in arm_ids
    ]
    rows: list[ComparisonRow] = []
    for arm, metric in keys:
        ref_row = by_key[reference].get((arm, metric))
        ref_values = per_trial[reference].get((arm, metric))
        if ref_row is None or ref_values is None or not math.isfinite(ref_row.estimate):
            continue  # e.g. fwer under a truth without null arms
        for design in records:
            row = by_key[design][(arm, metric)]
            if design == reference:
                diff = paired_se = unpaired_se = math.nan
            else:
                diff, paired_se = _paired(metric, per_trial[design][(arm, metric)], ref_values)
                unpaired_se = math.sqrt(row.mcse**2 + ref_row.mcse**2)
            rows.append(
                ComparisonRow(
                    truth=truth,
                    metric=metric,
                    arm=arm,
                    design=design,
                    reference=reference,
                    estimate=row.estimate,
                    mcse=row.mcse,
                    difference=diff,
                    mcse_paired=paired_se,
                    mcse_unpaired=unpaired_se,
                )
            )
    return rows


def ordered_selection(
    kind: str, wanted: Sequence[str] | None, available: Sequence[str]
) -> list[str]:
    """The requested names in the order given (all, in file order, when none requested).

    Unknown names are an `ArgumentError` listing the allowed ones; so is a repeated name.
    """
    if not wanted:
        return list(available)
    select_names(kind, wanted, available)  # validates the names
    repeated = sorted({name for name in wanted if list(wanted).count(name) > 1})
    if repeated:
        raise ArgumentError(
            f"each {kind} must be listed once; got {', '.join(repeated)} more than once."
        )
    return list(wanted)


def run_comparison(
    scenario_path: Path,
    *,
    designs: Sequence[str] | None = None,
    truths: Sequence[str] | None = None,
    reference: str | None = None,
    n_trials: int = defaults.N_TRIALS,
    seed: int = defaults.SEED,
    chunk_size: int = defaults.CHUNK_SIZE,
    workers: int = 1,
    dask: str | None = None,
    progress_factory: Callable[[str, int], ProgressCallback] | None = None,
) -> ComparisonResult:
    """Simulate the selected designs under the selected truths on common random numbers.

    Every design × truth gets `n_trials` trials from `seed` with chunks of `chunk_size`
    (the same trials for every design of a truth). `reference` defaults to the first design.
    """
    scenario = load_scenario(scenario_path)
    design_names = ordered_selection("design", designs, list(scenario.designs))
    truth_names = ordered_selection("truth", truths, list(scenario.truths))
    if len(design_names) < 2:
        raise ArgumentError(
            f"compare needs at least two designs; got {', '.join(design_names)}. "
            f"The scenario has: {', '.join(scenario.designs)}."
        )
    reference = reference if reference is not None else design_names[0]
    if reference not in design_names:
        raise ArgumentError(
            f"reference must be one of the compared designs ({', '.join(design_names)}); "
            f"got {reference!r}."
        )
    rows: list[ComparisonRow] = []
    all_metrics: list[MetricRow] = []
    executor = make_executor(workers, dask)
    try:
        for truth in truth_names:
            records: dict[str, TrialRecords] = {}
            specs: dict[str, TrialSpec] = {}
            metrics: dict[str, list[MetricRow]] = {}
            for design in design_names:
                spec = build_trial_spec(scenario, design, truth)
                progress = (
                    progress_factory(f"{design} × {truth}", n_trials) if progress_factory else None
                )
                records[design] = simulate_design_truth(
                    spec,
                    seed=seed,
                    truth=truth,
                    n_trials=n_trials,
                    chunk_size=chunk_size,
                    executor=executor,
                    progress=progress,
                )
                specs[design] = spec
                metrics[design] = operating_characteristics(records[design], spec, design, truth)
                all_metrics.extend(metrics[design])
            rows.extend(compare_records(truth, records, specs, metrics, reference))
    finally:
        executor.close()
    meta = run_metadata(
        scenario,
        scenario_path,
        n_trials=n_trials,
        seed=seed,
        chunk_size=chunk_size,
        designs=design_names,
        truths=truth_names,
        reference=reference,
    )
    return ComparisonResult(
        scenario=scenario,
        designs=design_names,
        truths=truth_names,
        reference=reference,
        rows=rows,
        metrics=all_metrics,
        meta=meta,
    )
