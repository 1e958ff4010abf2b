"""Speed of the vectorized binary engine against the per-trial reference, on one core.

    python benchmarks/bench_binary.py [--trials 10000] [--reference-trials 200]
                                      [--out benchmarks/results/binary.json]

Two designs (built as `TrialSpec`s directly, no scenario file):

* ``platform_5arm``: control + 4 experimental arms, true response p = 0.15 (control) and
  0.15 / 0.20 / 0.25 / 0.30, higher is better; max 500 patients, looks every 50 patients
  (50, 100, …, 450); Thompson allocation with Thall–Wathen c = n / (2N) over all arms
  (no control rule), simple randomization; efficacy P(better than control) > 0.99 and
  futility < 0.01 (margin 0), effective arms graduate; accrual 10 per month, no ramp-up,
  no outcome lag.
* ``adaptr_3arm``: the adaptr-equivalent design: 3 arms with p = 0.25 / 0.20 / 0.30, lower
  is better, no control; max 2000 patients, looks at 300, 400, …, 1900 patients;
  Thompson with power 0.5, simple randomization; stop when P(best) > 0.99, drop an arm
  when P(best) < 0.01; accrual 10 per month, no lag.

For each design: engine trials/second on `--trials` trials in chunks of `--chunk-size`
(the `platsim run` default), best of `--repeats` (3) after a warm-up; the reference's
trials/second on `--reference-trials` trials, also best of `--repeats`; their ratio. Targets: engine ≥ 2000
trials/s and ratio ≥ 50× (checked for the 5-arm design). The engine and the reference are
also run on the same random numbers and the share of trials with identical records is
reported (information only; the test suite is where agreement is enforced).
"""

from __future__ import annotations

import os

# One core: fix the BLAS / OpenMP thread pools before numpy is imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT / "src", ROOT / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from bench_common import (  # noqa: E402
    add_speed_arguments,
    judge_targets,
    machine_info,
    pin_to_one_core,
    print_timing,
    time_engine_and_reference,
    write_results,
)
from platsim.engine.spec import TrialSpec  # noqa: E402

TARGET_TRIALS_PER_SECOND = 2000.0
TARGET_RATIO = 50.0
SEED = 20261122


def platform_5arm() -> TrialSpec:
    return TrialSpec(
        arm_ids=("control", "arm_a", "arm_b", "arm_c", "arm_d"),
        true_p=np.array([0.15, 0.15, 0.20, 0.25, 0.30]),
        control_index=0,
        higher_is_better=True,
        max_patients=500,
        accrual_rate_per_month=10.0,
        allocation_rule="thompson",
        fixed_ratios=np.full(5, 0.2),
        thompson_power=None,
        control_rule=None,
        randomization="simple",
        look_counts=np.arange(50, 500, 50, dtype=np.int64),
        efficacy_threshold=0.99,
        futility_threshold=0.01,
        on_efficacy="graduate",
    )


def adaptr_3arm() -> TrialSpec:
    return TrialSpec(
        arm_ids=("A", "B", "C"),
        true_p=np.array([0.25, 0.20, 0.30]),
        control_index=None,
        higher_is_better=False,
        max_patients=2000,
        accrual_rate_per_month=10.0,
        allocation_rule="thompson",
        fixed_ratios=np.full(3, 1.0 / 3.0),
        thompson_power=0.5,
        randomization="simple",
        look_counts=np.arange(300, 2000, 100, dtype=np.int64),
        stop_for_best_threshold=0.99,
        drop_if_p_best_below=0.01,
    )


DESIGNS = {"platform_5arm": platform_5arm, "adaptr_3arm": adaptr_3arm}
#: The design the targets are judged on.
MAIN_DESIGN = "platform_5arm"


def load_engine():
    try:
        from platsim.engine.trial import simulate_trials
    except ImportError as exc:
        raise SystemExit(
            "bench_binary: the vectorized engine is not available "
            f"(platsim.engine.trial.simulate_trials could not be imported: {exc}). "
            "Nothing was measured."
        ) from exc
    return simulate_trials


def load_reference():
    try:
        from reference_engine import simulate_trials_reference
    except ImportError as exc:
        raise SystemExit(
            f"bench_binary: tests/reference_engine.py could not be imported: {exc}"
        ) from exc
    return simulate_trials_reference


def bench_design(name, spec, engine, reference, args) -> dict:
    timing = time_engine_and_reference(engine, reference, spec, args, SEED)
    timing.pop("records")
    result = {
        "design": name,
        "arms": list(spec.arm_ids),
        "true_p": spec.true_p.tolist(),
        "max_patients": spec.max_patients,
        "look_counts": spec.look_counts.tolist(),
        **timing,
    }
    print_timing(name, result, args.repeats)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_speed_arguments(parser, 200, ROOT / "benchmarks/results/binary.json")
    parser.add_argument("--designs", nargs="+", choices=sorted(DESIGNS), default=list(DESIGNS))
    args = parser.parse_args(argv)

    engine = load_engine()
    reference = load_reference()
    cpu = pin_to_one_core()
    info = machine_info(cpu)
    print(
        f"numpy {info['numpy']}, scipy {info['scipy']}, {info['cpu_count']} CPUs "
        f"({info['cpu_model']}), pinned to CPU {cpu}, load average {info['load_average_at_start']}"
    )
    results = [bench_design(n, DESIGNS[n](), engine, reference, args) for n in args.designs]
    targets = judge_targets(results, MAIN_DESIGN, TARGET_TRIALS_PER_SECOND, TARGET_RATIO)
    write_results(args.out, {"machine": info, "seed": SEED, "targets": targets, "designs": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
