"""`analyze_trial`: one interim (or final) analysis of a real trial's data, end to end.

data file → validated patients → cut at --as-of → sufficient statistics / cells → PyMC
model → NUTS draws → ArviZ diagnostics → decision quantities from the draws → the engine's
`decide` and `allocation_probabilities` (one row) → `InterimAnalysis`. For the conjugate
model the engine's exact values are computed too, and a warning is raised when they lead
to a different decision or allocation than the draws (a threshold within Monte Carlo
error).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from platsim import __version__
from platsim.analysis.data import TrialData, read_trial_data
from platsim.analysis.diagnostics import Diagnostics, diagnose, probability_mcse
from platsim.analysis.evidence import Evidence, cells, evidence
from platsim.analysis.models import ModelChoice, build_model, check_model_choice, pymc_versions
from platsim.analysis.quantities import (
    DecisionQuantities,
    DesignOutcome,
    apply_design,
    best_indicator,
    better_indicator,
    exact_quantities,
    quantities_from_draws,
)
from platsim.engine.spec import TrialSpec
from platsim.errors import ArgumentError
from platsim.scenario.load import load_scenario, scenario_file_hash
from platsim.scenario.schema import Scenario
from platsim.specs import build_trial_spec

#: Defaults of the sampler (PyMC's NUTS).
DRAWS = 1000
TUNE = 1000
CHAINS = 4
CORES = 1
SEED = 20261122
#: MCMC and exact probabilities are said to agree within this (conjugate models).
AGREEMENT = 0.01


@dataclass(frozen=True)
class SamplerSettings:
    """NUTS settings: draws and tuning steps per chain, chains, processes, seed."""

    draws: int = DRAWS
    tune: int = TUNE
    chains: int = CHAINS
    cores: int = CORES
    seed: int = SEED

    def check(self) -> None:
        for name, value, low in (
            ("draws", self.draws, 1),
            ("tune", self.tune, 0),
            ("chains", self.chains, 1),
            ("cores", self.cores, 1),
            ("seed", self.seed, 0),
        ):
            if not isinstance(value, int) or value < low:
                raise ArgumentError(f"{name} must be an integer ≥ {low}; got {value!r}.")


@dataclass(frozen=True)
class Interval:
    """A posterior summary: point estimate and 95% equal-tailed interval."""

    estimate: float
    lower: float
    upper: float

    def as_dict(self) -> dict[str, float]:
        return {"estimate": self.estimate, "lower": self.lower, "upper": self.upper}


@dataclass
class InterimAnalysis:
    """Everything one analysis found (`to_json` gives analysis.json)."""

    scenario: Scenario
    scenario_file: str
    design: str
    spec: TrialSpec
    data: TrialData
    as_of_month: float
    is_final: bool
    closed: tuple[str, ...]
    choice: ModelChoice
    sampler: SamplerSettings
    model_description: str
    priors: tuple[str, ...]
    evidence: Evidence
    active: np.ndarray
    control: int
    #: (n_chains, n_draws, n_arms) draws of each arm's decision-scale rate.
    rate_draws: np.ndarray
    #: (n_chains, n_draws, n_arms, n_subgroups) for hierarchical models, else None.
    rate_by_subgroup_draws: np.ndarray | None
    quantities: DecisionQuantities
    mcse_p_best: np.ndarray
    mcse_p_better: np.ndarray | None
    exact: DecisionQuantities | None
    outcome: DesignOutcome
    exact_outcome: DesignOutcome | None
    diagnostics: Diagnostics
    warnings: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)

    # -------------------------------------------------------------------- derived values
    @property
    def arm_ids(self) -> tuple[str, ...]:
        return self.spec.arm_ids

    @property
    def is_survival(self) -> bool:
        return self.spec.is_survival

    @property
    def rate_name(self) -> str:
        return "hazard per month" if self.is_survival else "response probability"

    @property
    def effect_name(self) -> str:
        return "hazard ratio vs control" if self.is_survival else "difference vs control"

    def rate_summary(self, k: int) -> Interval:
        draws = self.rate_draws[..., k].ravel()
        lo, hi = np.quantile(draws, [0.025, 0.975])
        return Interval(float(draws.mean()), float(lo), float(hi))

    def _effect(self, draws: np.ndarray, ref: np.ndarray) -> Interval:
        if self.is_survival:
            ratio = draws / ref
            lo, med, hi = np.quantile(ratio, [0.025, 0.5, 0.975])
            return Interval(float(med), float(lo), float(hi))
        diff = draws - ref
        lo, hi = np.quantile(diff, [0.025, 0.975])
        return Interval(float(diff.mean()), float(lo), float(hi))

    def effect_summary(self, k: int) -> Interval | None:
        """Posterior difference (binary: mean) or hazard ratio (median) vs the control."""
        c = self.control
        if c < 0 or k == c:
            return None
        return self._effect(self.rate_draws[..., k].ravel(), self.rate_draws[..., c].ravel())

    def subgroup_effect_summary(self, k: int, g: int) -> Interval | None:
        c = self.control
        if self.rate_by_subgroup_draws is None or c < 0 or k == c:
            return None
        draws = self.rate_by_subgroup_draws
        return self._effect(draws[..., k, g].ravel(), draws[..., c, g].ravel())

    # ------------------------------------------------------------------------- JSON
    def to_json(self) -> dict[str, Any]:
        """The analysis as plain JSON data (see docs/analyze.md, "analysis.json")."""
        spec, data, ev = self.spec, self.data, self.evidence
        successes, trials = ev.per_arm()
        allocation = self.outcome.next_allocation
        arms: dict[str, Any] = {}
        control_id = self.arm_ids[self.control] if self.control >= 0 else None
        for k, arm_id in enumerate(self.arm_ids):
            entry: dict[str, Any] = {
                "label": self.scenario.arms[k].display_name,
                "control": k == self.control,
                "active": bool(self.active[k]),
                "n_enrolled": int(ev.n_enrolled[k]),
            }
            if self.is_survival:
                entry["n_events"] = int(ev.successes[k].sum())
                entry["exposure_months"] = float(ev.trials[k].sum())
                entry["n_events_decision_piece"] = int(successes[k])
                entry["exposure_months_decision_piece"] = float(trials[k])
            else:
                entry["n_observed"] = int(trials[k])
                entry["n_responses"] = int(successes[k])
            summary = self.rate_summary(k)
            entry["posterior"] = {
                "quantity": self.rate_name,
                "mean": summary.estimate,
                "lower": summary.lower,
                "upper": summary.upper,
            }
            effect = self.effect_summary(k)
            entry["effect_vs_control"] = (
                None
                if effect is None
                else {
                    "quantity": "hazard_ratio" if self.is_survival else "difference",
                    **effect.as_dict(),
                }
            )
            entry["p_best"] = _num(self.quantities.p_best[k])
            entry["mcse_p_best"] = _num(self.mcse_p_best[k])
            for name in ("p_better_efficacy", "p_better_futility", "p_better"):
                values = getattr(self.quantities, name)
                entry[name] = None if values is None else _num(values[k])
            entry["mcse_p_better"] = (
                None if self.mcse_p_better is None else _num(self.mcse_p_better[k])
            )
            if self.exact is not None:
                entry["exact"] = {
                    name: (
                        None
                        if getattr(self.exact, name) is None
                        else _num(getattr(self.exact, name)[k])
                    )
                    for name in ("p_best", "p_better_efficacy", "p_better_futility")
                }
            entry["decision"] = self.outcome.status[k] if self.active[k] else "closed"
            entry["capped"] = bool(self.outcome.capped[k])
            entry["next_allocation"] = None if allocation is None else float(allocation[k])
            if self.rate_by_subgroup_draws is not None:
                entry["subgroups"] = {}
                for g, group in enumerate(data.subgroup_ids):
                    draws = self.rate_by_subgroup_draws[..., k, g].ravel()
                    lo, hi = np.quantile(draws, [0.025, 0.975])
                    eff = self.subgroup_effect_summary(k, g)
                    entry["subgroups"][group] = {
                        "n_observed" if not self.is_survival else "exposure_months": (
                            float(ev.trials[k, g].sum())
                        ),
                        "n_responses" if not self.is_survival else "n_events": int(
                            ev.successes[k, g].sum()
                        ),
                        "posterior": {
                            "mean": float(draws.mean()),
                            "lower": float(lo),
                            "upper": float(hi),
                        },
                        "effect_vs_control": None if eff is None else eff.as_dict(),
                    }
            arms[arm_id] = entry
        d = self.diagnostics
        return {
            "platsim_version": __version__,
            "versions": self.versions,
            "scenario": self.scenario.name,
            "scenario_file": self.scenario_file,
            "scenario_sha256": scenario_file_hash(self.scenario_file),
            "design": self.design,
            "endpoint": spec.endpoint_kind,
            "higher_is_better": bool(spec.higher_is_better) and not self.is_survival,
            "data": {
                "file": data.file,
                "sha256": data.sha256,
                "n_rows": data.n_patients,
                "dates": data.uses_dates,
                "month_0": data.origin.isoformat() if data.origin else None,
                "as_of": data.month_label(self.as_of_month),
                "as_of_month": self.as_of_month,
                "n_enrolled": int(ev.n_enrolled.sum()),
                "subgroups": list(data.subgroup_ids) if data.has_subgroups else None,
            },
            "analysis": {
                "is_final": self.is_final,
                "closed_arms": list(self.closed),
                "control": control_id,
            },
            "model": {
                "name": self.choice.name,
                "time_trend": self.choice.time_trend,
                "period_months": self.choice.period_months
                if self.choice.time_trend in ("period", "time_machine")
                else None,
                "description": self.model_description,
                "priors": list(self.priors),
                "decision_piece": spec.decision_piece if self.is_survival else None,
            },
            "sampler": {"algorithm": "NUTS (PyMC)", **self.sampler.__dict__},
            "diagnostics": {
                "max_r_hat": _num(d.max_r_hat),
                "min_ess_bulk": _num(d.min_ess_bulk),
                "min_ess_tail": _num(d.min_ess_tail),
                "n_divergent": d.n_divergent,
                "ok": d.ok,
                "thresholds": {"max_r_hat": 1.01, "min_ess": 400, "max_divergent": 0},
                "parameters": [p.__dict__ for p in d.parameters],
            },
            "design_rules": _design_rules(spec),
            "arms": arms,
            "trial": {
                "n_enrolled": int(ev.n_enrolled.sum()),
                "stop": self.outcome.stop,
                "stop_reason": self.outcome.stop_reason,
                "control_after": (
                    self.arm_ids[self.outcome.control] if self.outcome.control >= 0 else None
                ),
            },
            "next_allocation": None
            if allocation is None
            else {arm: float(allocation[k]) for k, arm in enumerate(self.arm_ids)},
            "exact_agrees": None if self.exact is None else self.exact_agrees,
            "warnings": list(self.warnings),
        }

    @property
    def exact_agrees(self) -> bool | None:
        """Whether draws and exact values give the same decisions and allocation (±0.01)."""
        if self.exact_outcome is None:
            return None
        a, b = self.outcome, self.exact_outcome
        same = a.status == b.status and a.stop == b.stop and a.stop_reason == b.stop_reason
        if (a.next_allocation is None) != (b.next_allocation is None):
            return False
        if a.next_allocation is not None and b.next_allocation is not None:
            same &= bool(np.all(np.abs(a.next_allocation - b.next_allocation) <= AGREEMENT))
        return bool(same)


def _num(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value


def _design_rules(spec: TrialSpec) -> dict[str, Any]:
    return {
        "efficacy": None
        if spec.efficacy_threshold is None
        else {"threshold": spec.efficacy_threshold, "margin": spec.efficacy_margin},
        "futility": None
        if spec.futility_threshold is None
        else {"threshold": spec.futility_threshold, "margin": spec.futility_margin},
        "stop_for_best": spec.stop_for_best_threshold,
        "drop_if_p_best_below": spec.drop_if_p_best_below,
        "max_per_arm": spec.max_per_arm,
        "on_efficacy": spec.on_efficacy,
        "allocation": spec.allocation_rule,
        "max_patients": spec.max_patients,
    }


def _active_arms(spec: TrialSpec, closed: Sequence[str]) -> np.ndarray:
    active = np.ones(spec.n_arms, dtype=bool)
    for arm in closed:
        if arm not in spec.arm_ids:
            raise ArgumentError(
                f"closed arm must be one of {', '.join(spec.arm_ids)}; got {arm!r}."
            )
        k = spec.arm_ids.index(arm)
        if k == spec.control_index:
            raise ArgumentError(f"the control arm {arm} cannot be closed; got --closed {arm}.")
        active[k] = False
    return active


def analyze_trial(
    data_path: str | Path,
    scenario_path: str | Path,
    design: str,
    *,
    as_of: str | None = None,
    choice: ModelChoice | None = None,
    sampler: SamplerSettings | None = None,
    closed: Sequence[str] = (),
    is_final: bool = False,
    progressbar: bool = False,
    announce: Callable[[str], None] | None = None,
) -> InterimAnalysis:
    """Analyse one trial's data with the design's rules.

    Parameters
    ----------
    data_path : CSV or Parquet file of patients (see `platsim.analysis.data`).
    scenario_path : the scenario file the trial was designed with.
    design : the design's name in the scenario.
    as_of : analysis time (ISO date or month, as the data file gives times); None = all
        the data in the file.
    choice : the model and time trend (default: the conjugate model).
    sampler : NUTS settings (default `SamplerSettings()`).
    closed : arms that already left the analysis at an earlier look (efficacy, futility,
        dropped).
    is_final : this is the final analysis (no next allocation).
    progressbar : show PyMC's progress bar.
    announce : called with one line just before sampling starts (after every check).

    Raises
    ------
    UserInputError (ScenarioError, DataFileError, ArgumentError) for bad input; nothing
    is computed on bad data.
    """
    choice = choice if choice is not None else ModelChoice()
    sampler = sampler if sampler is not None else SamplerSettings()
    sampler.check()
    scenario = load_scenario(scenario_path)
    truth = next(iter(scenario.truths))  # the design fields are what matter here
    spec = build_trial_spec(scenario, design, truth)
    data = read_trial_data(data_path, scenario, design)
    cut_month = data.parse_as_of(as_of)  # None: everything in the file
    n_groups = len(data.subgroup_ids)
    check_model_choice(choice, spec.endpoint_kind, n_groups if data.has_subgroups else 0)
    active = _active_arms(spec, closed)
    control = spec.control_index if spec.control_index is not None else -1

    interim = data.at(cut_month, spec.outcome_lag_months)
    as_of_month = interim.as_of_month
    ev = evidence(spec, interim, n_groups)
    notes = _data_warnings(spec, data, ev, active)
    weights = np.bincount(interim.subgroup, minlength=n_groups) / max(interim.n_total, 1)
    observation_cells = None
    if choice.name != "conjugate":
        key = {"none": "none", "linear": "linear"}.get(choice.time_trend, "period")
        observation_cells = cells(spec, interim, key, choice.period_months)
    built = build_model(
        choice,
        spec,
        ev,
        observation_cells,
        subgroup_ids=data.subgroup_ids,
        subgroup_weights=weights,
        as_of_month=as_of_month,
    )
    if announce is not None:
        announce(
            f"sampling {sampler.chains} chain(s) × {sampler.draws} draws "
            f"({sampler.tune} tuning) of the {choice.name} model…"
        )
    idata = sample(built, sampler, progressbar)
    diagnostics = diagnose(idata, [*built.var_names, "rate"])
    rate = np.asarray(idata.posterior["rate"].values, dtype=float)  # (chain, draw, arm)
    by_group = (
        np.asarray(idata.posterior["rate_by_subgroup"].values, dtype=float)
        if "rate_by_subgroup" in idata.posterior
        else None
    )
    quantities = quantities_from_draws(spec, rate, active, control)
    lower = spec.is_survival or not spec.higher_is_better
    mcse_best = probability_mcse(best_indicator(rate, active, lower))
    mcse_better = None
    if control >= 0:
        margin = (
            spec.efficacy_margin
            if spec.efficacy_threshold is not None
            else (spec.futility_margin if spec.futility_threshold is not None else 0.0)
        )
        mcse_better = probability_mcse(better_indicator(rate, control, margin, spec))
        mcse_better[~active | (np.arange(spec.n_arms) == control)] = np.nan
    outcome = apply_design(
        spec,
        quantities,
        active=active,
        control=control,
        n_enrolled=ev.n_enrolled,
        is_final=is_final,
    )
    exact = exact_outcome = None
    if choice.name == "conjugate":
        successes, trials = ev.per_arm()
        exact = exact_quantities(spec, successes, trials, active, control)
        exact_outcome = apply_design(
            spec,
            exact,
            active=active,
            control=control,
            n_enrolled=ev.n_enrolled,
            is_final=is_final,
        )
    result = InterimAnalysis(
        scenario=scenario,
        scenario_file=str(scenario_path),
        design=design,
        spec=spec,
        data=data,
        as_of_month=as_of_month,
        is_final=is_final,
        closed=tuple(closed),
        choice=choice,
        sampler=sampler,
        model_description=built.description,
        priors=built.priors,
        evidence=ev,
        active=active,
        control=control,
        rate_draws=rate,
        rate_by_subgroup_draws=by_group,
        quantities=quantities,
        mcse_p_best=mcse_best,
        mcse_p_better=mcse_better,
        exact=exact,
        outcome=outcome,
        exact_outcome=exact_outcome,
        diagnostics=diagnostics,
        versions=pymc_versions(),
    )
    result.warnings.extend(notes)
    result.warnings.extend(diagnostics.warnings)
    if result.exact_agrees is False:
        result.warnings.append(
            "MCMC and the engine's exact probabilities give different decisions or allocation: "
            "a threshold is within Monte Carlo error; increase --draws (the exact values are "
            "in analysis.json)."
        )
    return result


def sample(built: Any, sampler: SamplerSettings, progressbar: bool) -> Any:
    """Run NUTS with `sampler`'s settings."""
    from platsim.analysis.models import sample as nuts

    return nuts(
        built,
        draws=sampler.draws,
        tune=sampler.tune,
        chains=sampler.chains,
        cores=sampler.cores,
        seed=sampler.seed,
        progressbar=progressbar,
    )


def _data_warnings(spec: TrialSpec, data: TrialData, ev: Evidence, active: np.ndarray) -> list[str]:
    notes = []
    total = int(ev.n_enrolled.sum())
    if total > spec.max_patients:
        notes.append(
            f"{total} patients enrolled, more than the design's max_patients ({spec.max_patients})."
        )
    empty = [spec.arm_ids[k] for k in range(spec.n_arms) if active[k] and ev.n_enrolled[k] == 0]
    if empty:
        notes.append(
            f"no patients yet on active arm(s) {', '.join(empty)}: their posterior is the prior."
        )
    return notes
