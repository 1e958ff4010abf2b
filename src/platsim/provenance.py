"""What every results file records about how it was made (reproducibility)."""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from platsim import __version__
from platsim.scenario.load import scenario_file_hash
from platsim.scenario.schema import Scenario


def run_metadata(
    scenario: Scenario,
    scenario_path: Path,
    *,
    n_trials: int,
    seed: int,
    chunk_size: int,
    file_hash: str | None = None,
    **extra: Any,
) -> dict[str, object]:
    """Scenario, file hash, trials, seed, chunk size, versions and date, plus `extra`."""
    meta: dict[str, object] = {
        "scenario": scenario.name,
        "scenario_title": scenario.title,
        "scenario_file": str(scenario_path),
        "scenario_sha256": file_hash or scenario_file_hash(scenario_path),
        "n_trials": n_trials,
        "seed": seed,
        "chunk_size": chunk_size,
        "platsim_version": __version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
    }
    meta.update(extra)
    meta["created"] = datetime.now(UTC).isoformat(timespec="seconds")
    return meta
