"""The small files a report is drawn from, computed from the records at run time.

`platsim run` keeps every trial's records in memory; the report needs only their
distributions. `write_report_data` writes them next to ``summary.csv`` so that
`platsim report RESULTS_DIR` redraws every figure without simulating and without
``trials.parquet`` (the shipped ``reports/`` directories hold no per-trial data):

- ``scenario.yaml``: a byte copy of the scenario file (its SHA-256 is in run.json);
- ``allocation.csv`` (design × truth × allocation period × arm): see
  `platsim.results.allocation`;
- ``analyses.csv`` (design × truth × analysis): the share of trials performing it, the
  share for which it was the last, the median patients enrolled and calendar month;
- ``decisions.csv`` (design × truth × arm × analysis × status): the probability (with
  MCSE) that the arm got that status at that analysis (analysis −1: no decision);
- ``distributions.csv`` (design × truth × quantity × arm): mean, quantiles and true value
  of the trial's sample size (patients) and duration (months), each arm's sample size, and
  each experimental arm's estimate against control;
- ``km_examples.csv`` (time-to-event only; one row per patient): one example trial per
  truth — entry month, arm, follow-up time and event at the trial's last analysis.

Analyses are numbered 0, 1, … in the order performed (the final one included).
"""

from __future__ import annotations

import csv
import io
import math
import shutil
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from platsim.engine import spec as codes
from platsim.engine.records import TrialRecords
from platsim.engine.spec import TrialSpec
from platsim.results.allocation import AllocationRow, allocation_csv_text, allocation_summary
from platsim.results.metrics import true_hazard_ratios
from platsim.rng import chunk_seed_sequences, chunk_sizes
from platsim.scenario.schema import Scenario
from platsim.simulate import write_atomically
from platsim.specs import build_trial_spec

SCENARIO_COPY = "scenario.yaml"
ALLOCATION_FILE = "allocation.csv"
ANALYSES_FILE = "analyses.csv"
DECISIONS_FILE = "decisions.csv"
DISTRIBUTIONS_FILE = "distributions.csv"
KM_FILE = "km_examples.csv"

#: Quantile levels kept for every distribution, and their column names.
QUANTILES: tuple[float, ...] = (0.0, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975, 1.0)


@dataclass(frozen=True)
class AnalysisRow:
    """How often analysis `analysis` happened, and when (medians over trials performing it)."""

    design: str
    truth: str
    analysis: int
    share_performed: float
    #: Share of all trials for which this was the last analysis.
    share_last: float
    median_n: float
    median_months: float


@dataclass(frozen=True)
class DecisionRow:
    """P(arm got `status` at analysis `analysis`) over trials; analysis −1 = no decision."""

    design: str
    truth: str
    arm: str
    analysis: int
    status: str
    probability: float
    mcse: float


@dataclass(frozen=True)
class DistributionRow:
    """The distribution over trials of one quantity (arm empty for trial-level ones).

    Quantities: ``total_n`` (patients), ``duration_months``, ``n_enrolled`` (patients on the
    arm), ``diff_estimate`` (difference in response probability vs control, or hazard ratio
    vs control for time-to-event endpoints; trials where the arm had no estimate are left
    out). `truth_value` is the true difference or hazard ratio (NaN when there is no single
    true value, e.g. non-proportional hazards).
    """

    design: str
    truth: str
    quantity: str
    arm: str
    n_values: int
    mean: float
    truth_value: float
    q0: float
    q2_5: float
    q5: float
    q10: float
    q25: float
    q50: float
    q75: float
    q90: float
    q95: float
    q97_5: float
    q100: float


@dataclass(frozen=True)
class KMRow:
    """One patient of an example time-to-event trial, as seen at its last analysis."""

    truth: str
    design: str
    trial: int
    arm: str
    patient: int
    entry_month: float
    time_months: float
    event: int
    analysis_month: float


# ---------------------------------------------------------------------------- files


# ---------------------------------------------------------------------------- CSV


def rows_csv_text(rows: Iterable[Any], columns: Sequence[str]) -> str:
    """CSV text of dataclass rows; floats to 7 significant digits (they are drawn, not
    tabulated: the tables read summary.csv), NaN as empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [
                ("" if math.isnan(value) else f"{value:.7g}") if isinstance(value, float) else value
                for value in astuple(row)
            ]
        )
    return buffer.getvalue()


Row = TypeVar("Row")


def read_rows(path: Path, cls: type[Row]) -> list[Row]:
    """Read a CSV written by `rows_csv_text` back into `cls` rows."""
    hints = typing.get_type_hints(cls)
    converters = {
        f.name: {int: int, float: lambda v: float(v) if v else math.nan, str: str}[hints[f.name]]
        for f in fields(cls)  # type: ignore[arg-type]
    }
    with open(path, newline="") as stream:
        return [
            cls(**{name: convert(record[name]) for name, convert in converters.items()})
            for record in csv.DictReader(stream)
        ]


def columns_of(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


# ---------------------------------------------------------------------------- summaries


def analysis_summary(records: TrialRecords, design: str, truth: str) -> list[AnalysisRow]:
    """One row per analysis index that some trial performed."""
    performed = records.analysis_n >= 0
    last = records.n_looks_done.astype(np.int64) - 1
    rows = []
    for j in range(performed.shape[1]):
        done = performed[:, j]
        if not done.any():
            continue
        rows.append(
            AnalysisRow(
                design=design,
                truth=truth,
                analysis=j,
                share_performed=float(done.mean()),
                share_last=float(np.mean(last == j)),
                median_n=float(np.median(records.analysis_n[done, j])),
                median_months=float(np.median(records.analysis_months[done, j])),
            )
        )
    return rows


def decision_summary(
    records: TrialRecords, arm_ids: Sequence[str], design: str, truth: str
) -> list[DecisionRow]:
    """P(status at analysis) per arm, for every status and analysis that occurs."""
    n_sims = records.n_sims
    rows = []
    for k, arm in enumerate(arm_ids):
        status = records.status[:, k]
        look = np.where(status == codes.NONE, -1, records.decision_look[:, k].astype(np.int64))
        pairs, counts = np.unique(
            np.stack([look, status.astype(np.int64)]), axis=1, return_counts=True
        )
        for (analysis, code), count in zip(pairs.T, counts, strict=True):
            p = count / n_sims
            rows.append(
                DecisionRow(
                    design=design,
                    truth=truth,
                    arm=arm,
                    analysis=int(analysis),
                    status=codes.STATUS_NAMES[int(code)],
                    probability=float(p),
                    mcse=float(math.sqrt(p * (1 - p) / n_sims)),
                )
            )
    return rows


def true_differences(spec: TrialSpec) -> np.ndarray:
    """Each arm's true effect vs control: response difference, or hazard ratio (NaN when
    hazards are not proportional, and for the control); shape (n_arms,)."""
    if spec.control_index is None:
        return np.full(spec.n_arms, np.nan)
    if spec.is_survival:
        values = true_hazard_ratios(spec)
    else:
        values = spec.true_p - spec.true_p[spec.control_index]
    values = np.asarray(values, dtype=float).copy()
    values[spec.control_index] = np.nan
    return values


def _distribution(
    design: str, truth: str, quantity: str, arm: str, values: np.ndarray, truth_value: float
) -> DistributionRow | None:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    q = np.quantile(values, QUANTILES)
    return DistributionRow(
        design,
        truth,
        quantity,
        arm,
        int(values.size),
        float(values.mean()),
        float(truth_value),
        *(float(v) for v in q),
    )


def distribution_summary(
    records: TrialRecords, spec: TrialSpec, design: str, truth: str
) -> list[DistributionRow]:
    """Distributions of sample size, duration, per-arm n and per-arm estimates."""
    rows = [
        _distribution(design, truth, "total_n", "", records.total_n, math.nan),
        _distribution(design, truth, "duration_months", "", records.duration_months, math.nan),
    ]
    truths = true_differences(spec)
    for k, arm in enumerate(spec.arm_ids):
        rows.append(
            _distribution(design, truth, "n_enrolled", arm, records.n_enrolled[:, k], math.nan)
        )
        if spec.control_index is not None and k != spec.control_index:
            estimate = records.diff_estimate[:, k]
            if spec.is_survival:
                estimate = np.where(estimate > 0, estimate, np.nan)
            rows.append(_distribution(design, truth, "diff_estimate", arm, estimate, truths[k]))
    return [row for row in rows if row is not None]


def km_example(
    spec: TrialSpec, *, seed: int, truth: str, design: str, n_trials: int, chunk_size: int
) -> list[KMRow]:
    """Patient-level data of trial 0 of the run (time-to-event designs), at its last analysis.

    Re-simulates the run's first chunk of `design` under `truth` with its own seed (the
    records of its trial 0 are row ``trial = 0`` of trials.parquet), then takes each
    enrolled patient's follow-up min(event, dropout, analysis month − entry) and whether the
    event was observed by the trial's last analysis (the final one, or the interim at which
    the trial stopped).
    """
    from platsim.engine.survival_trial import SurvivalChunk

    sizes = chunk_sizes(n_trials, chunk_size)
    sequence = chunk_seed_sequences(seed, truth, len(sizes))[0]
    chunk = SurvivalChunk(spec, np.random.default_rng(sequence), sizes[0])
    chunk.run()
    n = int(chunk.enrolled[0])
    analysis_month = float(chunk.duration[0])
    entry = chunk.entry[0, :n]
    event_time = chunk.event_time[0, :n]
    dropout_time = chunk.dropout_time[0, :n]
    arm = chunk.arm[0, :n]
    follow = np.maximum(analysis_month - entry, 0.0)
    time = np.minimum(np.minimum(event_time, dropout_time), follow)
    event = event_time <= np.minimum(dropout_time, follow)
    return [
        KMRow(
            truth=truth,
            design=design,
            trial=0,
            arm=spec.arm_ids[int(arm[i])],
            patient=i,
            entry_month=float(entry[i]),
            time_months=float(time[i]),
            event=int(event[i]),
            analysis_month=analysis_month,
        )
        for i in range(n)
    ]


# ---------------------------------------------------------------------------- write


def write_report_data(
    out_dir: Path,
    scenario: Scenario,
    records: Mapping[tuple[str, str], TrialRecords],
    meta: Mapping[str, Any],
) -> None:
    """Write every file the report needs besides summary.csv and run.json (see module doc)."""
    source = Path(str(meta["scenario_file"]))
    if source.resolve() != (out_dir / SCENARIO_COPY).resolve():
        write_atomically(out_dir / SCENARIO_COPY, lambda tmp: shutil.copyfile(source, tmp))
    allocation: list[AllocationRow] = []
    analyses: list[AnalysisRow] = []
    decisions: list[DecisionRow] = []
    distributions: list[DistributionRow] = []
    km_rows: list[KMRow] = []
    km_truths: set[str] = set()
    for (design, truth), recs in records.items():
        spec = build_trial_spec(scenario, design, truth)
        allocation += allocation_summary(recs, spec.arm_ids, design, truth)
        analyses += analysis_summary(recs, design, truth)
        decisions += decision_summary(recs, spec.arm_ids, design, truth)
        distributions += distribution_summary(recs, spec, design, truth)
        if spec.is_survival and truth not in km_truths:
            km_truths.add(truth)
            km_rows += km_example(
                spec,
                seed=int(meta["seed"]),
                truth=truth,
                design=design,
                n_trials=int(meta["n_trials"]),
                chunk_size=int(meta["chunk_size"]),
            )
    texts = {
        ALLOCATION_FILE: allocation_csv_text(allocation),
        ANALYSES_FILE: rows_csv_text(analyses, columns_of(AnalysisRow)),
        DECISIONS_FILE: rows_csv_text(decisions, columns_of(DecisionRow)),
        DISTRIBUTIONS_FILE: rows_csv_text(distributions, columns_of(DistributionRow)),
    }
    if scenario.endpoint.is_survival:
        texts[KM_FILE] = rows_csv_text(km_rows, columns_of(KMRow))
    for name, text in texts.items():
        write_atomically(out_dir / name, lambda tmp, text=text: tmp.write_text(text))
