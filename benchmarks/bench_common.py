"""What the engine benchmarks share: pinning, chunked runs, agreement, machine facts."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import time
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


def add_speed_arguments(parser, reference_trials: int, out: Path) -> None:
    """The command-line options both engine-vs-reference benchmarks take."""
    parser.add_argument("--trials", type=int, default=10_000, help="engine trials per timing")
    parser.add_argument(
        "--reference-trials",
        type=int,
        default=reference_trials,
        help="trials for the per-trial reference",
    )
    parser.add_argument("--repeats", type=int, default=3, help="timings of each (the best is kept)")
    parser.add_argument(
        "--chunk-size", type=int, default=1_000, help="engine chunk size (platsim run's default)"
    )
    parser.add_argument("--out", type=Path, default=out)


def time_engine_and_reference(engine, reference, spec: TrialSpec, args, seed: int) -> dict:
    """Engine and reference trials/second (each the best of `args.repeats` timings, after an
    engine warm-up, so that a busy moment does not inflate the ratio), their ratio, and
    the agreement of both on the reference's trials; also the engine's records ("records")."""
    engine(spec, np.random.default_rng(0), min(args.chunk_size, 200))
    times, records = [], None
    for _ in range(args.repeats):
        start = time.perf_counter()
        records = run_chunked(engine, spec, args.trials, args.chunk_size, seed)
        times.append(time.perf_counter() - start)
    ref_times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        ref_records = reference(spec, np.random.default_rng(seed), args.reference_trials)
        ref_times.append(time.perf_counter() - start)
    eng_records = engine(spec, np.random.default_rng(seed), args.reference_trials)
    engine_tps = args.trials / min(times)
    reference_tps = args.reference_trials / min(ref_times)
    return {
        "engine": {
            "trials": args.trials,
            "chunk_size": args.chunk_size,
            "seconds": times,
            "trials_per_second": engine_tps,
        },
        "reference": {
            "trials": args.reference_trials,
            "seconds": ref_times,
            "trials_per_second": reference_tps,
        },
        "ratio": engine_tps / reference_tps,
        "agreement_on_reference_trials": agreement(eng_records, ref_records),
        "records": records,
    }


def print_timing(name: str, result: dict, repeats: int) -> None:
    """One line per design: engine and reference trials/second, ratio, agreement."""
    eng, ref = result["engine"], result["reference"]
    print(
        f"{name:>18}: engine {eng['trials_per_second']:8.0f} trials/s (best of {repeats}: "
        f"{min(eng['seconds']):.2f} s for {eng['trials']}) | reference "
        f"{ref['trials_per_second']:6.1f} trials/s (best {min(ref['seconds']):.1f} s for "
        f"{ref['trials']}) | ratio {result['ratio']:5.0f}x | identical trials "
        f"{result['agreement_on_reference_trials']['share_identical_trials']:.1%}"
    )


def judge_targets(results: list[dict], design: str, trials_per_second: float, ratio: float):
    """Print whether `design` meets the targets; return them (None if it was not run)."""
    main = next((r for r in results if r["design"] == design), None)
    if main is None:
        return None
    targets = {
        "design": design,
        "engine_trials_per_second": trials_per_second,
        "ratio": ratio,
        "engine_met": main["engine"]["trials_per_second"] >= trials_per_second,
        "ratio_met": main["ratio"] >= ratio,
    }
    print(
        f"targets ({design}): engine >= {trials_per_second:.0f} trials/s: "
        f"{'met' if targets['engine_met'] else 'NOT met'}; ratio >= {ratio:.0f}x: "
        f"{'met' if targets['ratio_met'] else 'NOT met'}"
    )
    return targets


def write_results(out: Path, payload: dict) -> None:
    """The benchmark's JSON, written atomically."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    tmp.replace(out)
    print(f"wrote {out}")
