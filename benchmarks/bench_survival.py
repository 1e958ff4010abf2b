"""Speed of the vectorized survival engine against the per-trial reference, on one core.

    python benchmarks/bench_survival.py [--trials 10000] [--reference-trials 40]
                                        [--out benchmarks/results/survival.json]

The post-ICI overall-survival platform design (built as a `TrialSpec` directly, no scenario
file; `scenarios/postici_os_platform.yaml` design `thompson` is its scenario form, with
other accrual and control-median assumptions):

* control (docetaxel, exponential OS with median 11 months) + 4 experimental arms with
  proportional hazards 0.69 / 0.86 / 0.88 / 0.98 against it; no dropout; Gamma(0.001,
  0.001) prior on each arm's hazard (exponential analysis model);
* max 600 patients, accrual 15 per month (no ramp-up); looks every 50 events of all arms
  (50, 100, …, 550); final analysis 12 months after the last entry;
* Thompson allocation over the experimental arms with the control at the √K share
  (control : each experimental arm = √K : 1), simple randomization; no clamps;
* efficacy P(HR < 1) > 0.99 (the arm graduates), futility P(HR < 1) < 0.05.

Two variants: ``postici_os`` with Thall–Wathen c = n / (2N) (`power: n_over_2N`) and
``postici_os_power1`` with c = 1.

For each: engine trials/second on `--trials` trials in chunks of `--chunk-size` (the
`platsim run` default), best of `--repeats` (3) after a warm-up; the reference's
trials/second on `--reference-trials` trials, also best of `--repeats`; their ratio.
Targets: engine ≥ 500 trials/s and ratio ≥ 50×. The engine and the reference are also run
on the same random numbers and the share of trials with identical records is reported
(information only; tests/engine/test_survival_matches_reference.py is where agreement is
enforced).
"""

from __future__ import annotations

import os

# One core: fix the BLAS / OpenMP thread pools before numpy is imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "src"):
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
from platsim.engine.records import SurvivalTrialRecords  # noqa: E402
from platsim.engine.spec import TrialSpec  # noqa: E402
from platsim.truth import survival  # noqa: E402

TARGET_TRIALS_PER_SECOND = 500.0
TARGET_RATIO = 50.0
SEED = 20261123

CONTROL_MEDIAN_MONTHS = 11.0
HAZARD_RATIOS = (0.69, 0.86, 0.88, 0.98)


def postici_os(power: float | None = None) -> TrialSpec:
    """The post-ICI OS platform; `power` None = Thall–Wathen c = n / (2N)."""
    control = survival.Exponential.from_median(CONTROL_MEDIAN_MONTHS)
    truths = (control, *(survival.ProportionalHazards(control, hr) for hr in HAZARD_RATIOS))
    n_arms = len(truths)
    return TrialSpec(
        arm_ids=("docetaxel", "pembro_ramu", "nivo_sitra", "atezo_cabo", "pembro_lenva"),
        true_p=np.full(n_arms, np.nan),
        control_index=0,
        higher_is_better=False,
        max_patients=600,
        accrual_rate_per_month=15.0,
        allocation_rule="thompson",
        fixed_ratios=np.full(n_arms, 1.0 / n_arms),
        thompson_power=power,
        control_rule="sqrt",
        randomization="simple",
        look_counts=np.arange(50, 600, 50, dtype=np.int64),
        efficacy_threshold=0.99,
        futility_threshold=0.05,
        on_efficacy="graduate",
        endpoint_kind="time_to_event",
        survival_truths=truths,
        dropout_per_month=np.zeros(n_arms),
        prior_shape=0.001,
        prior_rate=0.001,
        look_kind="events",
        follow_up_months=12.0,
    )


def lungmap_s1800a_substudy() -> TrialSpec:
    """The Lung-MAP-like master protocol's non-match sub-study (scenarios/lungmap_master.yaml,
    design thompson, truth reported): issue 4's benchmark (target ≥ 300 trials/s)."""
    from platsim.master import substudy_plans
    from platsim.scenario.load import load_scenario
    from platsim.specs import build_trial_spec

    scenario = load_scenario(ROOT / "scenarios" / "lungmap_master.yaml")
    plan = next(p for p in substudy_plans(scenario) if p.substudy.id == "s1800a")
    return build_trial_spec(plan.scenario, "thompson", "reported")


DESIGNS = {
    "postici_os": lambda: postici_os(None),
    "postici_os_power1": lambda: postici_os(1.0),
    "lungmap_s1800a_substudy": lungmap_s1800a_substudy,
}
#: The design the targets are judged on.
MAIN_DESIGN = "postici_os"


def load_engine():
    try:
        from platsim.engine.trial import simulate_trials
    except ImportError as exc:
        raise SystemExit(
            "bench_survival: the vectorized engine is not available "
            f"(platsim.engine.trial.simulate_trials could not be imported: {exc}). "
            "Nothing was measured."
        ) from exc
    return simulate_trials


def load_reference():
    try:
        from tests.reference_survival import simulate_survival_reference
    except ImportError as exc:
        raise SystemExit(
            f"bench_survival: tests/reference_survival.py could not be imported: {exc}"
        ) from exc
    return simulate_survival_reference


def summary(records: SurvivalTrialRecords) -> dict:
    """A few operating characteristics of the timed run (to see that it did real work)."""
    graduated = (records.status == 1).mean(axis=0)
    return {
        "mean_patients": float(records.total_n.mean()),
        "mean_duration_months": float(records.duration_months.mean()),
        "mean_analyses": float(records.n_looks_done.mean()),
        "p_graduated_per_arm": [round(float(x), 4) for x in graduated],
    }


def bench_design(name, spec, engine, reference, args) -> dict:
    timing = time_engine_and_reference(engine, reference, spec, args, SEED)
    timing["engine"]["summary"] = summary(timing.pop("records"))
    result = {
        "design": name,
        "arms": list(spec.arm_ids),
        "control_median_months": CONTROL_MEDIAN_MONTHS,
        "hazard_ratios": list(HAZARD_RATIOS),
        "thompson_power": "n_over_2N" if spec.thompson_power is None else spec.thompson_power,
        "max_patients": spec.max_patients,
        "accrual_per_month": spec.accrual_rate_per_month,
        "look_events": spec.look_counts.tolist(),
        "follow_up_months": spec.follow_up_months,
        **timing,
    }
    print_timing(name, result, args.repeats)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_speed_arguments(parser, 40, ROOT / "benchmarks/results/survival.json")
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
    # Arms with (almost) no events give an infinite upper HR bound: expected, not noise.
    warnings.filterwarnings("ignore", message="overflow encountered", category=RuntimeWarning)
    results = [bench_design(n, DESIGNS[n](), engine, reference, args) for n in args.designs]
    targets = judge_targets(results, MAIN_DESIGN, TARGET_TRIALS_PER_SECOND, TARGET_RATIO)
    write_results(args.out, {"machine": info, "seed": SEED, "targets": targets, "designs": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
