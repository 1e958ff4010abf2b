"""Make examples/pioneer_interim.csv: a synthetic interim data cut of a PIONeeR-like trial.

No real patient data: one trial is simulated by platsim's own engine from
scenarios/pioneer_dcr.yaml (design `thompson`, truth `reported`) with seed 20260129, and
cut at the design's first interim look (when the 80th patient is randomized). Patients
enrolled by then are kept; a response is written only if it was known by then (12-week
disease control is known 2.8 months after enrolment), so some outcomes are still empty.
Months are turned into dates from a made-up start date, 2019-01-07.

The `subgroup` column (PD-L1 expression < 1% / ≥ 1%) is synthetic too: drawn independently
of everything else (prevalence 45% / 55%) from a separate random stream of the same seed,
so it has no effect on the outcomes; it is there to demonstrate `--model hierarchical`.

Run from the repository root:  python examples/make_pioneer_interim.py
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np

from platsim.engine.trial import Chunk
from platsim.scenario.load import load_scenario
from platsim.specs import build_trial_spec

SEED = 20260129
SCENARIO = "scenarios/pioneer_dcr.yaml"
DESIGN = "thompson"
TRUTH = "reported"
#: The cut: the design's first interim look (80 patients randomized).
LOOK_PATIENTS = 80
START = dt.date(2019, 1, 7)
DAYS_PER_MONTH = 365.25 / 12
SUBGROUPS = (("pdl1_lt1", 0.45), ("pdl1_ge1", 0.55))
HEADER = ("id", "arm", "subgroup", "enrolled", "response", "response_known")


def date_of(month: float) -> dt.date:
    return START + dt.timedelta(days=round(month * DAYS_PER_MONTH))


def make(out: Path) -> dict:
    root = Path(__file__).resolve().parents[1]
    scenario = load_scenario(root / SCENARIO)
    spec = build_trial_spec(scenario, DESIGN, TRUTH)
    trial_seed, subgroup_seed = np.random.SeedSequence(SEED).spawn(2)
    chunk = Chunk(spec, np.random.default_rng(trial_seed), 1)
    records = chunk.run()
    entry, arm = chunk.entry[0], chunk.arm[0]
    cut = entry[LOOK_PATIENTS - 1]
    enrolled = np.flatnonzero((entry <= cut) & (arm >= 0))
    # Day rounding must not move an outcome across the cut.
    assert date_of(cut) == date_of(entry[LOOK_PATIENTS - 1])
    assert all(
        (chunk.observe_time[0, i] <= cut) == (date_of(chunk.observe_time[0, i]) <= date_of(cut))
        for i in enrolled
    )
    names = [name for name, _ in SUBGROUPS]
    probs = [p for _, p in SUBGROUPS]
    subgroup = np.random.default_rng(subgroup_seed).choice(len(names), size=len(entry), p=probs)
    rows = []
    for number, i in enumerate(enrolled, start=1):
        known = chunk.observe_time[0, i] <= cut
        rows.append(
            {
                "id": f"P{number:03d}",
                "arm": spec.arm_ids[arm[i]],
                "subgroup": names[subgroup[i]],
                "enrolled": date_of(entry[i]).isoformat(),
                "response": str(int(chunk.responded[0, i])) if known else "",
                "response_known": date_of(chunk.observe_time[0, i]).isoformat() if known else "",
            }
        )
    with out.open("w", newline="", encoding="utf-8") as handle:
        handle.write(
            f"# synthetic data: platsim {SCENARIO} design {DESIGN} truth {TRUTH} seed {SEED}, "
            f"cut at the {LOOK_PATIENTS}-patient look ({date_of(cut).isoformat()}); "
            "see examples/make_pioneer_interim.py\n"
        )
        writer = csv.DictWriter(handle, fieldnames=HEADER, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return {"cut": date_of(cut), "records": records, "n": len(rows), "chunk": chunk}


if __name__ == "__main__":
    target = Path(__file__).resolve().parent / "pioneer_interim.csv"
    info = make(target)
    records = info["records"]
    print(f"wrote {target} ({info['n']} patients, cut {info['cut']})")
    print("engine status at the trial's decisions:", records.status[0], records.decision_n[0])
