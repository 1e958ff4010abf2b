"""Scale: throughput on 1 and N cores, scaling efficiency, memory, and cost growth.

    python benchmarks/bench_scale.py [--trials 20000] [--out benchmarks/results/scale.json]

Designs: the binary benchmark design (`bench_binary.platform_5arm`), the adaptr-equivalent
3-arm design (`bench_binary.adaptr_3arm`), the survival platform (scenarios/
postici_os_platform.yaml, design `thompson`, truth `reported`) and the Lung-MAP-like master
protocol's non-match sub-study (scenarios/lungmap_master.yaml, sub-study s1800a, design
`thompson`, truth `reported`). Each runs through `platsim.simulate.simulate_design_truth`
in chunks of 1,000 trials, as `platsim run` does, with 1 worker process and with N (all
cores); scaling efficiency = trials/s at N ÷ (N × trials/s at 1). Memory: peak resident
memory of a fresh process simulating 10,000 trials in chunks of 1,000 (the default) and in
one chunk of 10,000. Cost growth: seconds for the 5-arm design as trials, arms, looks and
maximum patients double (ratios to the base; linear = 2.0).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import datetime as _dt  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT / "src", ROOT / "benchmarks"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from bench_binary import adaptr_3arm, platform_5arm  # noqa: E402
from platsim.executors import ProcessExecutor, SerialExecutor  # noqa: E402
from platsim.master import substudy_plans  # noqa: E402
from platsim.scenario.load import load_scenario  # noqa: E402
from platsim.simulate import simulate_design_truth  # noqa: E402
from platsim.specs import build_trial_spec  # noqa: E402


def survival_platform():
    scenario = load_scenario(ROOT / "scenarios" / "postici_os_platform.yaml")
    return build_trial_spec(scenario, "thompson", "reported")


def lungmap_nonmatch():
    scenario = load_scenario(ROOT / "scenarios" / "lungmap_master.yaml")
    plan = next(p for p in substudy_plans(scenario) if p.substudy.id == "s1800a")
    return build_trial_spec(plan.scenario, "thompson", "reported")


DESIGNS = {
    "binary_platform_5arm": platform_5arm,
    "adaptr_3arm": adaptr_3arm,
    "survival_platform": survival_platform,
    "lungmap_s1800a_substudy": lungmap_nonmatch,
}


def seconds(spec, n_trials: int, executor, chunk_size: int = 1000) -> float:
    start = time.perf_counter()
    simulate_design_truth(
        spec, seed=1, truth="bench", n_trials=n_trials, chunk_size=chunk_size, executor=executor
    )
    return time.perf_counter() - start


def throughput(spec, n_trials: int, workers: int) -> float:
    executor = ProcessExecutor(workers) if workers > 1 else SerialExecutor()
    try:
        seconds(spec, min(n_trials, 2000), executor)  # warm-up (and pool start)
        best = min(seconds(spec, n_trials, executor) for _ in range(2))
    finally:
        executor.close()
    return n_trials / best


def peak_memory_mb(design: str, n_trials: int, chunk_size: int) -> float:
    paths = [str(ROOT / "src"), str(ROOT / "benchmarks")]
    code = (
        f"import resource, sys; sys.path[:0] = {paths!r};"
        "from bench_scale import DESIGNS, seconds; from platsim.executors import SerialExecutor;"
        f"seconds(DESIGNS[{design!r}](), {n_trials}, SerialExecutor(), {chunk_size});"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024.0


def doubled(spec, what: str):
    if what == "arms":
        k = spec.n_arms
        return dataclasses.replace(
            spec,
            arm_ids=spec.arm_ids + tuple(f"{a}_copy" for a in spec.arm_ids[1:]) + ("extra",),
            true_p=np.concatenate([spec.true_p, spec.true_p[1:], [0.2]]),
            fixed_ratios=np.full(2 * k, 1.0 / (2 * k)),
        )
    if what == "looks":
        step = int(spec.look_counts[1] - spec.look_counts[0]) // 2
        return dataclasses.replace(
            spec, look_counts=np.arange(step, spec.max_patients, step, dtype=np.int64)
        )
    if what == "max_patients":
        n = 2 * spec.max_patients
        step = int(spec.look_counts[1] - spec.look_counts[0]) * 2
        return dataclasses.replace(
            spec, max_patients=n, look_counts=np.arange(step, n, step, dtype=np.int64)
        )
    raise ValueError(what)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20_000)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/scale.json")
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    report: dict = {
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "cpu_count": cores,
        "numpy": np.__version__,
        "trials": args.trials,
        "throughput": {},
        "memory_mb": {},
        "cost_growth": {},
    }
    for name, make in DESIGNS.items():
        spec = make()
        one = throughput(spec, args.trials, 1)
        many = throughput(spec, args.trials, cores)
        efficiency = many / (cores * one)
        report["throughput"][name] = {
            "trials_per_second_1_worker": one,
            f"trials_per_second_{cores}_workers": many,
            "scaling_efficiency": efficiency,
        }
        print(
            f"{name:>24}: 1 worker {one:8.0f} trials/s | {cores} workers {many:8.0f} trials/s"
            f" | scaling efficiency {efficiency:.2f}",
            flush=True,
        )
    for chunk in (1000, 10_000):
        mb = peak_memory_mb("binary_platform_5arm", 10_000, chunk)
        report["memory_mb"][f"10000_trials_chunk_{chunk}"] = mb
        print(f"peak memory, 10,000 trials of the 5-arm design, chunk {chunk}: {mb:.0f} MB")
    base_spec = platform_5arm()
    n = 5000
    base = min(seconds(base_spec, n, SerialExecutor()) for _ in range(2))
    growth = {"trials": min(seconds(base_spec, 2 * n, SerialExecutor()) for _ in range(2))}
    for what in ("arms", "looks", "max_patients"):
        spec = doubled(base_spec, what)
        growth[what] = min(seconds(spec, n, SerialExecutor()) for _ in range(2))
    print(f"cost growth (5-arm design, {n} trials, base {base:.2f} s): ratio when doubling")
    for what, value in growth.items():
        report["cost_growth"][what] = value / base
        print(f"  {what:>13}: {value / base:5.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
