"""Allocation over the course of the trials: a small table computed from the records.

`TrialRecords.allocation_probs` (n_sims, n_looks, n_arms) is too large to save with every
run, and the report only needs its distribution across trials. Row j of that array is the
allocation in force from analysis j − 1 (row 0: from the start, before any data) until
analysis j. For each row, `allocation_summary` keeps, over the trials still enrolling when
the row was set, the 10%, 50% and 90% quantiles of each arm's allocation probability, the
median number of patients enrolled when it was set and at the next analysis, the median
calendar month when it was set, and the share of all trials still enrolling.

The table is written as ``allocation.csv`` (one row per design × truth × allocation row ×
arm) so that `platsim report` can redraw the allocation figure without the records.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path

import numpy as np

from platsim.engine.records import TrialRecords


@dataclass(frozen=True)
class AllocationRow:
    """One arm's allocation in one allocation period of one design × truth.

    `period` 0 is the allocation at the start; `period` j ≥ 1 the allocation set after
    analysis j − 1 (0-based, in the order performed). Patients are counts of enrolled
    patients; months are calendar months from the start of the trial.
    """

    design: str
    truth: str
    period: int
    arm: str
    #: Median patients enrolled when the allocation was set (0 for period 0).
    from_n: float
    #: Median patients enrolled at the next analysis (when it was replaced or enrolment ended).
    to_n: float
    #: Median calendar month when the allocation was set (0 for period 0).
    from_month: float
    q10: float
    q50: float
    q90: float
    #: Share of all simulated trials still enrolling in this period.
    share_enrolling: float


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(AllocationRow))


def allocation_summary(
    records: TrialRecords, arm_ids: Sequence[str], design: str, truth: str
) -> list[AllocationRow]:
    """The allocation table of one design × truth.

    Parameters
    ----------
    records : per-trial records; uses `allocation_probs` (n_sims, n_looks, n_arms),
        `analysis_n` and `analysis_months` (n_sims, n_looks) and `total_n` (n_sims,).
    arm_ids : arm ids in the records' arm order.

    Returns
    -------
    One row per allocation period that some trial enrolled under, per arm.
    """
    probs = records.allocation_probs
    n_sims, n_periods, n_arms = probs.shape
    analysis_n = records.analysis_n.astype(float)
    analysis_months = records.analysis_months
    total_n = records.total_n.astype(float)
    rows: list[AllocationRow] = []
    for period in range(n_periods):
        in_force = np.isfinite(probs[:, period]).all(axis=1)
        if period == 0:
            set_at_n = np.zeros(n_sims)
            set_at_month = np.zeros(n_sims)
        else:
            set_at_n = analysis_n[:, period - 1]
            set_at_month = analysis_months[:, period - 1]
            # An allocation set after enrolment ended applies to nobody.
            in_force &= (set_at_n >= 0) & (set_at_n < total_n)
        if not in_force.any():
            continue
        next_n = analysis_n[in_force, period]
        next_n = np.where(next_n >= 0, next_n, total_n[in_force])
        share = float(in_force.mean())
        quantiles = np.quantile(probs[in_force, period], [0.1, 0.5, 0.9], axis=0)
        for k in range(n_arms):
            rows.append(
                AllocationRow(
                    design=design,
                    truth=truth,
                    period=period,
                    arm=arm_ids[k],
                    from_n=float(np.median(set_at_n[in_force])),
                    to_n=float(np.median(next_n)),
                    from_month=float(np.median(set_at_month[in_force])),
                    q10=float(quantiles[0, k]),
                    q50=float(quantiles[1, k]),
                    q90=float(quantiles[2, k]),
                    share_enrolling=share,
                )
            )
    return rows


def allocation_csv_text(rows: Sequence[AllocationRow]) -> str:
    """The text of allocation.csv (floats to 7 significant digits: enough to draw)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(
            [f"{value:.7g}" if isinstance(value, float) else value for value in astuple(row)]
        )
    return buffer.getvalue()


def read_allocation_csv(path: Path) -> list[AllocationRow]:
    """Read allocation.csv back."""
    with open(path, newline="") as stream:
        return [
            AllocationRow(
                design=r["design"],
                truth=r["truth"],
                period=int(r["period"]),
                arm=r["arm"],
                **{
                    name: float(r[name]) if r[name] else math.nan
                    for name in COLUMNS
                    if name not in ("design", "truth", "period", "arm")
                },
            )
            for r in csv.DictReader(stream)
        ]
