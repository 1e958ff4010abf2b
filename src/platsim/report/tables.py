"""Operating-characteristic tables of the report, with every number from summary.csv.

A table is rows of cells; a numeric cell (`Num`) remembers which metric(s) of which design
× truth × arm it shows and how it was scaled, so the HTML can carry that as ``data-``
attributes (the tests compare every displayed number with summary.json through them).
Probabilities are shown in % with their Monte Carlo standard error (``12.3 ± 0.5``),
sample sizes in patients, durations in months, response differences in percentage points.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from platsim.results.metrics import MetricRow

#: Metric rows keyed by (design, truth, arm, metric); arm "" for trial-level metrics.
Metrics = Mapping[tuple[str, str, str, str], MetricRow]


@dataclass(frozen=True)
class Format:
    """How a metric is displayed: multiplied by `scale`, `digits` decimals, ± MCSE or not."""

    scale: float
    digits: int
    with_mcse: bool = True


PERCENT = Format(100.0, 1)
POINTS = Format(100.0, 2)  # percentage points
COUNT = Format(1.0, 1)
LOG = Format(1.0, 3)
LOOKS = Format(1.0, 2)
RANGE_INT = Format(1.0, 0, with_mcse=False)
RANGE_MONTHS = Format(1.0, 1, with_mcse=False)


@dataclass(frozen=True)
class Num:
    """A displayed number (or range of two numbers) taken from the metric table."""

    text: str
    design: str
    truth: str
    arm: str
    metrics: tuple[str, ...]
    scale: float


Cell = str | Num


@dataclass
class Table:
    """Header, rows and notes of one table."""

    header: list[str]
    rows: list[list[Cell]]
    notes: list[str] = field(default_factory=list)
    #: Columns (0-based) that hold labels rather than numbers.
    label_columns: int = 1


def _fixed(value: float, digits: int) -> str:
    text = f"{value:.{digits}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]  # no "-0.0"
    return text.replace("-", "−")


def format_value(row: MetricRow | None, fmt: Format) -> str:
    """'12.3 ± 0.5' (estimate and MCSE scaled), '12.3' without MCSE, '–' when missing."""
    if row is None or row.estimate is None or math.isnan(row.estimate):
        return "–"
    text = _fixed(row.estimate * fmt.scale, fmt.digits)
    if fmt.with_mcse and row.mcse is not None and not math.isnan(row.mcse):
        text += f" ± {_fixed(row.mcse * fmt.scale, fmt.digits)}"
    return text


def num(metrics: Metrics, design: str, truth: str, arm: str, metric: str, fmt: Format) -> Num:
    """The cell of one metric."""
    row = metrics.get((design, truth, arm, metric))
    return Num(format_value(row, fmt), design, truth, arm, (metric,), fmt.scale)


def num_range(
    metrics: Metrics, design: str, truth: str, arm: str, low: str, high: str, fmt: Format
) -> Num:
    """A 'low–high' cell of two quantile metrics (no MCSE)."""
    lo = metrics.get((design, truth, arm, low))
    hi = metrics.get((design, truth, arm, high))
    if lo is None or hi is None or math.isnan(lo.estimate) or math.isnan(hi.estimate):
        text = "–"
    else:
        text = f"{format_value(lo, fmt)}–{format_value(hi, fmt)}"
    return Num(text, design, truth, arm, (low, high), fmt.scale)


# ---------------------------------------------------------------------------- arm tables

#: (metric, header, format, always shown); shown otherwise only when some value is non-zero.
_DECISION_COLUMNS: tuple[tuple[str, str, Format, bool], ...] = (
    ("p_efficacy", "P(efficacy) %", PERCENT, True),
    ("p_futility", "P(futility) %", PERCENT, False),
    ("p_dropped", "P(dropped) %", PERCENT, False),
    ("p_declared_best", "P(declared best) %", PERCENT, False),
    ("p_capped", "P(reached max per arm) %", PERCENT, False),
    ("p_selected", "P(selected) %", PERCENT, True),
)
_BINARY_ESTIMATE_COLUMNS: tuple[tuple[str, str, Format], ...] = (
    ("bias_diff", "bias of difference (pp)", POINTS),
    ("rmse_diff", "RMSE of difference (pp)", POINTS),
    ("coverage_diff", "95% interval coverage %", PERCENT),
)
_SURVIVAL_ESTIMATE_COLUMNS: tuple[tuple[str, str, Format], ...] = (
    ("bias_log_hr", "bias of log HR", LOG),
    ("rmse_log_hr", "RMSE of log HR", LOG),
    ("coverage_hr", "95% interval coverage %", PERCENT),
)


def _any_positive(metrics: Metrics, design: str, truths: Sequence[str], arms, metric) -> bool:
    return any(
        (row := metrics.get((design, truth, arm, metric))) is not None and row.estimate > 0
        for truth in truths
        for arm in arms
    )


def _any_present(metrics: Metrics, design: str, truths: Sequence[str], arms, metric) -> bool:
    return any((design, truth, arm, metric) in metrics for truth in truths for arm in arms)


def arm_table(
    metrics: Metrics,
    design: str,
    truth: str,
    *,
    truths: Sequence[str],
    arms: Sequence[str],
    control: str | None,
    survival: bool,
) -> Table:
    """Per-arm operating characteristics of one design under one truth.

    Columns are chosen per design (over all its truths) so a design's tables line up:
    decision probabilities that never occur are left out.
    """
    decision_columns = [
        (metric, header, fmt)
        for metric, header, fmt, always in _DECISION_COLUMNS
        if always or _any_positive(metrics, design, truths, arms, metric)
    ]
    estimate_columns = [
        column
        for column in (_SURVIVAL_ESTIMATE_COLUMNS if survival else _BINARY_ESTIMATE_COLUMNS)
        if _any_present(metrics, design, truths, arms, column[0])
    ]
    header = ["arm", *(h for _, h, _ in decision_columns), "mean n (patients)", "n 10–90%"]
    if survival:
        header.append("mean events")
    header += [h for _, h, _ in estimate_columns]
    rows: list[list[Cell]] = []
    for arm in arms:
        cells: list[Cell] = [arm + (" (control)" if arm == control else "")]
        cells += [num(metrics, design, truth, arm, m, fmt) for m, _, fmt in decision_columns]
        cells.append(num(metrics, design, truth, arm, "mean_n", COUNT))
        cells.append(num_range(metrics, design, truth, arm, "q10_n", "q90_n", RANGE_INT))
        if survival:
            cells.append(num(metrics, design, truth, arm, "mean_events", COUNT))
        cells += [num(metrics, design, truth, arm, m, fmt) for m, _, fmt in estimate_columns]
        rows.append(cells)
    notes = []
    if estimate_columns:
        notes.append(
            "Bias, RMSE and coverage of the estimated log hazard ratio vs control (posterior "
            "median and 95% interval at the arm's last analysis); only where the hazards are "
            "proportional."
            if survival
            else "Bias, RMSE and coverage of the estimated difference in response probability "
            "vs control (posterior mean and 95% interval at the arm's last analysis), in "
            "percentage points (pp)."
        )
    return Table(header=header, rows=rows, notes=notes)


# ---------------------------------------------------------------------------- trial level

_TRIAL_COLUMNS: tuple[tuple[str, str, Format], ...] = (
    ("fwer", "FWER %", PERCENT),
    ("p_any_efficacy", "P(any efficacy) %", PERCENT),
    ("p_select_best", "P(select truly best) %", PERCENT),
    ("p_no_selection", "P(no selection) %", PERCENT),
    ("mean_n", "mean n (patients)", COUNT),
)

STOP_REASON_TEXT: dict[str, str] = {
    "max_patients": "reached the end (maximum sample size or final analysis)",
    "no_arms_left": "no experimental arm left",
    "best_found": "an arm declared best",
    "efficacy_stop": "stopped for efficacy",
    "single_arm_left": "a single arm left",
}


def overview_table(
    metrics: Metrics, designs: Sequence[str], truths: Sequence[str], *, survival: bool
) -> Table:
    """Trial-level operating characteristics, one row per design × truth (grouped by truth)."""
    header = ["truth", "design", *(h for _, h, _ in _TRIAL_COLUMNS), "n 10–90%"]
    header += ["mean duration (months)", "duration 10–90%", "mean analyses"]
    if survival:
        header.append("mean events")
    rows: list[list[Cell]] = []
    for truth in truths:
        for design in designs:
            if (design, truth, "", "mean_n") not in metrics:
                continue
            cells: list[Cell] = [truth, design]
            cells += [num(metrics, design, truth, "", m, fmt) for m, _, fmt in _TRIAL_COLUMNS]
            cells.append(num_range(metrics, design, truth, "", "q10_n", "q90_n", RANGE_INT))
            cells.append(num(metrics, design, truth, "", "mean_duration_months", COUNT))
            cells.append(
                num_range(
                    metrics,
                    design,
                    truth,
                    "",
                    "q10_duration_months",
                    "q90_duration_months",
                    RANGE_MONTHS,
                )
            )
            cells.append(num(metrics, design, truth, "", "mean_looks", LOOKS))
            if survival:
                cells.append(num(metrics, design, truth, "", "mean_events", COUNT))
            rows.append(cells)
    notes = [
        "FWER: probability of declaring efficacy for at least one experimental arm whose truth "
        "equals the control's (– when no arm does under that truth). P(select truly best): "
        "the selected arm (see docs/engine.md) is one of the truly best arms. Duration: "
        "months from the first enrolment to the trial's last analysis.",
    ]
    return Table(header=header, rows=rows, notes=notes, label_columns=2)


def stop_reasons(metrics: Metrics, design: str, truth: str) -> list[tuple[str, Num]]:
    """(description, cell) of each way the trials ended, in decreasing order (non-zero only)."""
    items = []
    for reason, text in STOP_REASON_TEXT.items():
        row = metrics.get((design, truth, "", f"p_stop_{reason}"))
        if row is not None and row.estimate > 0:
            items.append((row.estimate, text, num(metrics, design, truth, "", row.metric, PERCENT)))
    items.sort(key=lambda item: -item[0])
    return [(text, cell) for _, text, cell in items]


def metrics_index(rows: Sequence[MetricRow]) -> dict[tuple[str, str, str, str], MetricRow]:
    """Metric rows keyed by (design, truth, arm, metric)."""
    return {(r.design, r.truth, r.arm, r.metric): r for r in rows}
