"""Per-trial records as a long table (one row per trial × arm) and its Parquet file.

For time-to-event designs the shared columns take their documented survival meaning
(`n_responses` = events, `post_*` = hazard per month, `diff_*` = hazard ratio) and two
columns are added: `exposure_months` and `median_survival_months`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from platsim.engine.records import TrialRecords
from platsim.engine.spec import STATUS_NAMES, STOP_REASONS

_PER_ARM = (
    "decision_look",
    "decision_n",
    "capped",
    "n_enrolled",
    "n_observed",
    "n_responses",
    "post_mean",
    "post_lower",
    "post_upper",
    "p_best",
    "p_better_than_control",
    "diff_estimate",
    "diff_lower",
    "diff_upper",
    "open_n",
    "open_months",
)
_SURVIVAL_PER_ARM = ("exposure_months", "median_survival_months")
_PER_TRIAL = ("total_n", "duration_months", "n_looks_done")


def records_table(
    records: TrialRecords, arm_ids: tuple[str, ...], design: str, truth: str
) -> pa.Table:
    """One row per trial × arm; trial-level columns repeat on each arm's row."""
    n_sims, n_arms = records.status.shape
    arm_names = np.array(arm_ids, dtype=object)
    with_none = np.array([*arm_ids, ""], dtype=object)  # index -1 → ""
    columns: dict[str, pa.Array | np.ndarray] = {
        "design": pa.array([design] * (n_sims * n_arms)).dictionary_encode(),
        "truth": pa.array([truth] * (n_sims * n_arms)).dictionary_encode(),
        "trial": np.repeat(np.arange(n_sims, dtype=np.int32), n_arms),
        "arm": pa.array(np.tile(arm_names, n_sims)).dictionary_encode(),
        "status": pa.array(
            np.array(STATUS_NAMES, dtype=object)[records.status.ravel()]
        ).dictionary_encode(),
    }
    for name in _PER_ARM + _SURVIVAL_PER_ARM:
        if hasattr(records, name):
            columns[name] = getattr(records, name).ravel()
    for name in _PER_TRIAL:
        columns[name] = np.repeat(getattr(records, name), n_arms)
    columns["stop_reason"] = pa.array(
        np.repeat(np.array(STOP_REASONS, dtype=object)[records.stop_reason], n_arms)
    ).dictionary_encode()
    columns["selected_arm"] = pa.array(
        np.repeat(with_none[records.selected_arm], n_arms)
    ).dictionary_encode()
    columns["final_control"] = pa.array(
        np.repeat(with_none[records.final_control], n_arms)
    ).dictionary_encode()
    return pa.table(columns)


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write `table` to `path` (the caller makes it atomic)."""
    pq.write_table(table, path, compression="zstd", write_statistics=False)
