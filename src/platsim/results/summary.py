"""`summary.json` and `summary.csv`: the operating characteristics of a run.

`summary.json` is one object: run metadata plus ``results``, a list with one entry per
design × truth holding ``scenario, design, truth, n_trials, seed, platsim_version``, the
trial-level metrics (``fwer``, ``p_any_efficacy``, ``mean_n``, ``mean_duration_months``,
... each with ``mcse_<metric>``) and ``arms``: per arm id the arm-level metrics
(``p_efficacy``, ``p_futility``, ``p_selected``, ``mean_n``, ... and ``mcse_<metric>``).
`summary.csv` is the same numbers as one long table: ``design, truth, arm, metric,
estimate, mcse`` (``arm`` empty for trial-level metrics).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from platsim.results.metrics import MetricRow


def _clean(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def summary_entries(
    rows: Sequence[MetricRow], meta: dict[str, Any], arm_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """Group metric rows into one JSON entry per design × truth."""
    entries: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row.design, row.truth)
        entry = entries.setdefault(
            key,
            {
                "scenario": meta["scenario"],
                "design": row.design,
                "truth": row.truth,
                "n_trials": meta["n_trials"],
                "seed": meta["seed"],
                "platsim_version": meta["platsim_version"],
                "arms": {arm: {} for arm in arm_ids},
            },
        )
        target = entry["arms"][row.arm] if row.arm else entry
        target[row.metric] = _clean(row.estimate)
        target[f"mcse_{row.metric}"] = _clean(row.mcse)
    return list(entries.values())


def summary_json_text(rows: Sequence[MetricRow], meta: dict[str, Any], arm_ids: Sequence[str]):
    """The text of summary.json."""
    document = {**meta, "results": summary_entries(rows, meta, arm_ids)}
    return json.dumps(document, indent=2, allow_nan=False) + "\n"


def summary_csv_text(rows: Sequence[MetricRow]) -> str:
    """The text of summary.csv (long table)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["design", "truth", "arm", "metric", "estimate", "mcse"])
    for row in rows:
        writer.writerow(
            [row.design, row.truth, row.arm, row.metric, _fmt(row.estimate), _fmt(row.mcse)]
        )
    return buffer.getvalue()


def _fmt(value: float) -> str:
    return "" if value is None or math.isnan(value) else repr(float(value))


def read_summary_csv(path: Path) -> list[MetricRow]:
    """Read summary.csv back into metric rows."""
    with open(path, newline="") as stream:
        return [
            MetricRow(
                r["design"],
                r["truth"],
                r["arm"],
                r["metric"],
                float(r["estimate"]) if r["estimate"] else float("nan"),
                float(r["mcse"]) if r["mcse"] else float("nan"),
            )
            for r in csv.DictReader(stream)
        ]
