"""What the engine benchmarks share: pinning, chunked runs, agreement, machine facts."""

from __future__ import annotations

import datetime as _dt
import os
import platform
from pathlib import Path

import numpy as np
import scipy

from platsim.engine.records import TrialRecords
from platsim.engine.spec import TrialSpec


def pin_to_one_core() -> int | None:
    """Pin this process to one CPU where the OS allows it; return that CPU."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def run_chunked(
    simulate, spec: TrialSpec, n_trials: int, chunk_size: int, seed: int
) -> TrialRecords:
    """`simulate` over chunks with their own generators, as `platsim run` does."""
    sizes = [chunk_size] * (n_trials // chunk_size)
    if n_trials % chunk_size:
        sizes.append(n_trials % chunk_size)
    seeds = np.random.SeedSequence(seed).spawn(len(sizes))
    parts = [simulate(spec, np.random.default_rng(s), n) for s, n in zip(seeds, sizes, strict=True)]
    return type(parts[0]).concatenate(parts)


def agreement(a: TrialRecords, b: TrialRecords) -> dict[str, float]:
    """Share of trials whose integer records are identical, and the largest P(best) gap."""
    same_trial = (
        (a.status == b.status).all(axis=1)
        & (a.n_enrolled == b.n_enrolled).all(axis=1)
        & (a.n_responses == b.n_responses).all(axis=1)
        & (a.decision_look == b.decision_look).all(axis=1)
        & (a.total_n == b.total_n)
        & (a.stop_reason == b.stop_reason)
        & (a.selected_arm == b.selected_arm)
    )
    return {
        "share_identical_trials": float(same_trial.mean()),
        "max_abs_p_best_difference": float(np.nanmax(np.abs(a.p_best - b.p_best))),
        "max_abs_duration_difference_months": float(
            np.max(np.abs(a.duration_months - b.duration_months))
        ),
    }


def machine_info(cpu: int | None) -> dict:
    """Facts that make a benchmark number interpretable."""
    model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "platform": platform.platform(),
        "cpu_model": model,
        "cpu_count": os.cpu_count(),
        "pinned_cpu": cpu,
        "load_average_at_start": list(load) if load is not None else None,
        "threads": {
            v: os.environ.get(v)
            for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
        },
    }
