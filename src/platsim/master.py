"""Master protocols (Lung-MAP): sub-studies as their own trials under one screening stream.

Lung-MAP runs each sub-study as its own trial: its own arms, control, looks and decisions.
A screened patient belongs to one biomarker subgroup (drawn from the prevalences); the
sub-study enrolling that subgroup receives the patient, and the non-match sub-study
receives every patient whose subgroup no other sub-study enrols. Thinning a Poisson
process by independent marks gives independent Poisson processes, so each sub-study is a
trial with accrual rate = screening rate × (1 − never-register share) × its subgroups'
prevalence, entries delayed by the screening delay; and sub-studies are independent.
"""

from __future__ import annotations

from dataclasses import dataclass

from platsim.scenario.schema import Accrual, Scenario, Substudy


@dataclass(frozen=True)
class SubstudyPlan:
    """One sub-study as a one-trial scenario, with its share of the screened patients."""

    substudy: Substudy
    scenario: Scenario
    share_of_screened: float


def non_match_share(scenario: Scenario) -> float:
    """Share of screened patients whose subgroup no biomarker sub-study enrols."""
    claimed = {group for sub in scenario.substudies for group in (sub.subgroups or [])}
    prevalence = {group.id: group.prevalence for group in scenario.subgroups}
    return max(0.0, 1.0 - sum(prevalence[group] for group in claimed))


def substudy_plans(scenario: Scenario) -> list[SubstudyPlan]:
    """Each sub-study of a master protocol as its own scenario (docstring of this module)."""
    prevalence = {group.id: group.prevalence for group in scenario.subgroups}
    screening = scenario.screening
    registered = 1.0 - (screening.never_register_share if screening else 0.0)
    delay = scenario.accrual.delay_months + (screening.delay_months if screening else 0.0)
    plans = []
    for sub in scenario.substudies:
        share = (
            non_match_share(scenario)
            if sub.non_match
            else sum(prevalence[group] for group in sub.subgroups or [])
        )
        accrual = Accrual(
            rate_per_month=scenario.accrual.rate_per_month * share * registered,
            ramp_up_months=scenario.accrual.ramp_up_months,
            delay_months=delay,
            source=scenario.accrual.source,
        )
        flat = Scenario(
            name=f"{scenario.name}_{sub.id}",
            title=sub.title or f"{scenario.title}: {sub.id}",
            description=sub.description,
            sources=scenario.sources,
            endpoint=scenario.endpoint,
            arms=sub.arms,
            truths=sub.truths,
            accrual=accrual,
            designs=sub.designs,
            time_trends=sub.time_trends,
        )
        plans.append(SubstudyPlan(sub, flat, share * registered))
    return plans


def _plain(value):
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def write_substudy_file(plan: SubstudyPlan, path) -> None:
    """Write a sub-study's one-trial scenario as YAML (kept with its results)."""
    import yaml

    from platsim.simulate import write_atomically

    data = _plain(plan.scenario.model_dump(mode="python", exclude_defaults=True))
    data["accrual"] = _plain(plan.scenario.accrual.model_dump(mode="python"))
    header = (
        f"# Sub-study {plan.substudy.id} of a master protocol, written by platsim: "
        f"{plan.share_of_screened:.4f} of screened patients are randomized here.\n"
    )
    text = header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def run_master_study(scenario: Scenario, out_dir, **run_options) -> list:
    """Run every sub-study of a master protocol into out_dir/<sub-study id>/.

    `run_options` are those of `platsim.study.run_study` (designs and truths filter each
    sub-study's own names; unknown ones are skipped per sub-study). Returns the list of
    `StudyResult`s in sub-study order, and writes out_dir/master.json.
    """
    import json
    from pathlib import Path

    from platsim.simulate import write_atomically
    from platsim.study import run_study

    out_dir = Path(out_dir)
    designs = run_options.pop("designs", None)
    truths = run_options.pop("truths", None)
    results = []
    summary = {
        "scenario": scenario.name,
        "title": scenario.title,
        "screening_rate_per_month": scenario.accrual.rate_per_month,
        "substudies": [],
    }
    for plan in substudy_plans(scenario):
        sub_dir = out_dir / plan.substudy.id
        sub_dir.mkdir(parents=True, exist_ok=True)
        path = sub_dir / "scenario.yaml"
        write_substudy_file(plan, path)
        wanted_designs = [d for d in designs or [] if d in plan.scenario.designs] or None
        wanted_truths = [t for t in truths or [] if t in plan.scenario.truths] or None
        result = run_study(
            path, designs=wanted_designs, truths=wanted_truths, out_dir=sub_dir, **run_options
        )
        results.append(result)
        summary["substudies"].append(
            {
                "id": plan.substudy.id,
                "non_match": plan.substudy.non_match,
                "subgroups": plan.substudy.subgroups or [],
                "share_of_screened": plan.share_of_screened,
                "rate_per_month": plan.scenario.accrual.rate_per_month,
                "results": str(sub_dir),
            }
        )
    text = json.dumps(summary, indent=2) + "\n"
    write_atomically(out_dir / "master.json", lambda tmp: tmp.write_text(text))
    return results
