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
from platsim.analysis.data import SubgroupRule, TrialData, read_trial_data
from platsim.analysis.diagnostics import Diagnostics, diagnose, probability_mcse
from platsim.analysis.evidence import Evidence, References, cells, evidence, references
from platsim.analysis.models import ModelChoice, build_model, check_model_choice, pymc_versions
from platsim.analysis.quantities import (
    DecisionQuantities,
    DesignOutcome,
    DrawSource,
    ExactSource,
    apply_design,
    best_indicator,
    better_indicator,
    conjugate_parameters,
    initially_open,
)
from platsim.engine.spec import TrialSpec
from platsim.errors import ArgumentError
from platsim.scenario import defaults
from platsim.scenario.load import load_scenario, scenario_file_hash
from platsim.scenario.schema import Scenario
from platsim.specs import build_trial_spec

#: Defaults of the sampler (PyMC's NUTS).
DRAWS = 1000
TUNE = 1000
CHAINS = 4
CORES = 1
SEED = defaults.SEED
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
    #: SHA-256 of the scenario file as it was loaded for this analysis.
    scenario_sha256: str
    design: str
    substudy: str | None
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
    references: References
    #: Arms that have opened (staggered platforms; all arms otherwise), in the analysis now,
    #: and the month after which each arm's concurrent controls count (−∞: all controls).
    opened: np.ndarray
    active: np.ndarray
    open_month: np.ndarray
    control: int
    #: (n_chains, n_draws, n_arms) draws of each arm's decision-scale rate.
    rate_draws: np.ndarray
    #: (n_chains, n_draws, n_arms) draws of the control rate each arm is compared with.
    reference_draws: np.ndarray | None
    #: (n_chains, n_draws, n_arms, n_subgroups) for hierarchical models, else None.
    rate_by_subgroup_draws: np.ndarray | None
    mcse_p_best: np.ndarray
    mcse_p_better: np.ndarray | None
    outcome: DesignOutcome
    exact_outcome: DesignOutcome | None
    diagnostics: Diagnostics
    warnings: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)

    # -------------------------------------------------------------------- derived values
    @property
    def quantities(self) -> DecisionQuantities:
        """P(best) and P(better than control) from the draws."""
        return self.outcome.quantities

    @property
    def exact(self) -> DecisionQuantities | None:
        """The same by exact computation (conjugate model only), else None."""
        return None if self.exact_outcome is None else self.exact_outcome.quantities

    @property
    def arm_ids(self) -> tuple[str, ...]:
        return self.spec.arm_ids

    @property
    def is_survival(self) -> bool:
        return self.spec.is_survival

    @property
    def rate_name(self) -> str:
        return "hazard per month" if self.is_survival else "response probability"

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
        """Posterior difference (binary: mean) or hazard ratio (median) vs the control the
        arm is compared with (its concurrent controls where the design says so)."""
        c = self.control
        if c < 0 or k == c:
            return None
        ref = (
            self.reference_draws[..., k]
            if self.reference_draws is not None
            else self.rate_draws[..., c]
        )
        return self._effect(self.rate_draws[..., k].ravel(), ref.ravel())

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
                "opened": bool(self.opened[k]),
                "active": bool(self.active[k]),
                "n_enrolled": int(ev.n_enrolled[k]),
            }
            if self.references.restricted[k]:
                entry["compared_with"] = {
                    "controls": "concurrent",
                    "enrolled_after": data.month_label(float(self.open_month[k])),
                    "n_events" if self.is_survival else "n_responses": int(
                        self.references.successes[k]
                    ),
                    "exposure_months" if self.is_survival else "n_observed": float(
                        self.references.trials[k]
                    ),
                }
            elif k != self.control and self.control >= 0:
                entry["compared_with"] = {"controls": "all"}
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
            entry["decision"] = self.decision(k)
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
            "scenario_sha256": self.scenario_sha256,
            "design": self.design,
            "substudy": self.substudy,
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
            "design_rules": design_rules(spec),
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
            "exact_agrees": self.exact_agrees,
            "warnings": list(self.warnings),
        }

    def decision(self, k: int) -> str:
        """What happens to arm k now: a status name, "none", "closed", "opens" or
        "not_opened"."""
        if self.outcome.opens_now[k]:
            return "opens"
        if not self.opened[k]:
            return "not_opened"
        if not self.active[k]:
            return "closed"
        return self.outcome.status[k]

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


def design_rules(spec: TrialSpec) -> dict[str, Any]:
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
        "max_active_arms": spec.max_active_arms,
        "control_comparison": "concurrent" if spec.concurrent_controls else "pooled",
    }


def _arm_indices(spec: TrialSpec, arms: Sequence[str], option: str) -> list[int]:
    out = []
    for arm in arms:
        if arm not in spec.arm_ids:
            raise ArgumentError(
                f"{option} arm must be one of {', '.join(spec.arm_ids)}; got {arm!r}."
            )
        out.append(spec.arm_ids.index(arm))
    return out


def _parse_opened(spec: TrialSpec, data: TrialData, opened: Sequence[str]) -> dict[int, float]:
    """`--opened ARM=TIME` → {arm index: month}."""
    out = {}
    for item in opened:
        arm, sep, when = item.partition("=")
        if not sep or not arm or not when:
            raise ArgumentError(
                f"--opened must be ARM=DATE or ARM=MONTH (when the arm opened); got {item!r}."
            )
        (k,) = _arm_indices(spec, [arm.strip()], "--opened")
        month = data.parse_as_of(when.strip(), f"--opened {arm.strip()}=")
        assert month is not None
        out[k] = month
    if out and not spec.staggered:
        raise ArgumentError(
            "--opened applies to designs whose arms open late (opens_at or max_active_arms); "
            f"got --opened {opened[0]}."
        )
    return out


def resolve_scenario_design(
    scenario: Scenario, design: str, substudy: str | None
) -> tuple[Scenario, SubgroupRule | None]:
    """The one-trial scenario to analyse: the scenario itself, or a master protocol's
    sub-study (with the subgroups its data may hold)."""
    if not scenario.is_master_protocol:
        if substudy is not None:
            raise ArgumentError(
                f"--substudy applies to master protocols; {scenario.name} is a single trial; "
                f"got --substudy {substudy}."
            )
        return scenario, None
    from platsim.master import substudy_plans

    ids = [sub.id for sub in scenario.substudies]
    if substudy not in ids:
        raise ArgumentError(
            f"substudy must be one of {', '.join(ids)} ({scenario.name} is a master protocol); "
            f"got {substudy!r}."
        )
    plan = next(p for p in substudy_plans(scenario) if p.substudy.id == substudy)
    sub = plan.substudy
    if sub.non_match:
        refused = {
            group: other.id
            for other in scenario.substudies
            if other.id != sub.id
            for group in (other.subgroups or [])
        }
        rule = SubgroupRule(sub.id, refused=refused)
    else:
        rule = SubgroupRule(sub.id, allowed=tuple(sub.subgroups or ()))
    return plan.scenario, rule


@dataclass
class PreparedAnalysis:
    """Everything before the model: validated data cut, counts, which arms are compared
    with which controls. No PyMC involved."""

    scenario: Scenario
    #: SHA-256 of the scenario file, taken when it was loaded.
    scenario_sha256: str
    spec: TrialSpec
    data: TrialData
    interim: Any
    evidence: Evidence
    references: References
    opened: np.ndarray
    active: np.ndarray
    open_month: np.ndarray
    control: int
    subgroup_weights: np.ndarray
    notes: list[str]

    def design_kwargs(self, is_final: bool) -> dict[str, Any]:
        return dict(
            active=self.active,
            opened=self.opened,
            control=self.control,
            n_enrolled=self.evidence.n_enrolled,
            month=self.interim.as_of_month,
            is_final=is_final,
        )

    def exact_source(self) -> ExactSource:
        """The engine's exact values of the conjugate model on this data cut."""
        spec, refs, control = self.spec, self.references, self.control
        successes, trials = self.evidence.per_arm()
        a, b = conjugate_parameters(spec, successes, trials)
        ref_a = ref_b = None
        if control >= 0:
            ra, rb = conjugate_parameters(spec, refs.successes, refs.trials)
            ref_a = np.where(refs.restricted, ra, a[control])
            ref_b = np.where(refs.restricted, rb, b[control])
        return ExactSource(spec, a, b, ref_a, ref_b, control)

    def exact_outcome(self, is_final: bool = False) -> DesignOutcome:
        """Decisions and allocation from the exact values (what the engine would do)."""
        return apply_design(self.spec, self.exact_source(), **self.design_kwargs(is_final))


def prepare_analysis(
    data_path: str | Path,
    scenario_path: str | Path,
    design: str,
    *,
    as_of: str | None = None,
    choice: ModelChoice | None = None,
    closed: Sequence[str] = (),
    opened: Sequence[str] = (),
    substudy: str | None = None,
) -> PreparedAnalysis:
    """Load, validate and cut the data; find the arms in the analysis and their controls.

    See `analyze_trial` for the parameters.
    """
    choice = choice if choice is not None else ModelChoice()
    full_scenario = load_scenario(scenario_path)
    scenario_sha256 = scenario_file_hash(scenario_path)
    scenario, subgroup_rule = resolve_scenario_design(full_scenario, design, substudy)
    truth = next(iter(scenario.truths))  # the design fields are what matter here
    spec = build_trial_spec(scenario, design, truth)
    data = read_trial_data(data_path, scenario, design, subgroup_rule)
    cut_month = data.parse_as_of(as_of)  # None: everything in the file
    n_groups = len(data.subgroup_ids)
    check_model_choice(choice, spec.endpoint_kind, n_groups if data.has_subgroups else 0)
    control = spec.control_index if spec.control_index is not None else -1
    closed_idx = _arm_indices(spec, closed, "--closed")
    if control in closed_idx:
        raise ArgumentError(
            f"the control arm {spec.arm_ids[control]} cannot be closed; got --closed "
            f"{spec.arm_ids[control]}."
        )
    opened_at = _parse_opened(spec, data, opened)

    interim = data.at(cut_month, spec.outcome_lag_months)
    ev = evidence(spec, interim, n_groups)
    # Arms in the analysis: open from the start, or opened since (they have patients, or
    # --opened / --closed says so), and not closed.
    is_open = initially_open(spec, control) if spec.staggered else np.ones(spec.n_arms, bool)
    is_open = is_open | (ev.n_enrolled > 0)
    is_open[closed_idx] = True
    is_open[list(opened_at)] = True
    active = is_open.copy()
    active[closed_idx] = False
    open_month = _open_months(spec, interim, is_open, opened_at, control)
    refs = references(spec, interim, control, open_month)
    notes = _data_warnings(spec, ev, active)
    if refs.restricted.any() and choice.name != "conjugate":
        notes.append(
            f"the design compares arms with concurrent controls; the {choice.name} model "
            "compares them with every control patient (use --time-trend to adjust for time); "
            "the conjugate model makes the design's concurrent comparisons."
        )
        refs = References(np.zeros(spec.n_arms, bool), refs.successes, refs.trials)
    weights = np.bincount(interim.subgroup, minlength=n_groups) / max(interim.n_total, 1)
    return PreparedAnalysis(
        scenario=scenario,
        scenario_sha256=scenario_sha256,
        spec=spec,
        data=data,
        interim=interim,
        evidence=ev,
        references=refs,
        opened=is_open,
        active=active,
        open_month=open_month,
        control=control,
        subgroup_weights=weights,
        notes=notes,
    )


def analyze_trial(
    data_path: str | Path,
    scenario_path: str | Path,
    design: str,
    *,
    as_of: str | None = None,
    choice: ModelChoice | None = None,
    sampler: SamplerSettings | None = None,
    closed: Sequence[str] = (),
    opened: Sequence[str] = (),
    substudy: str | None = None,
    is_final: bool = False,
    progressbar: bool = False,
    announce: Callable[[str], None] | None = None,
) -> InterimAnalysis:
    """Analyse one trial's data with the design's rules.

    Parameters
    ----------
    data_path : CSV or Parquet file of patients (see `platsim.analysis.data`).
    scenario_path : the scenario file the trial was designed with.
    design : the design's name in the scenario (or in the sub-study).
    as_of : analysis time (ISO date or month, as the data file gives times); None = all
        the data in the file.
    choice : the model and time trend (default: the conjugate model).
    sampler : NUTS settings (default `SamplerSettings()`).
    closed : arms that already left the analysis at an earlier look (efficacy, futility,
        dropped).
    opened : ``ARM=TIME`` items: when an arm that opened late opened (concurrent controls
        are those enrolled after it); default: the enrolment of its first patient.
    substudy : the sub-study of a master protocol.
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
    prep = prepare_analysis(
        data_path,
        scenario_path,
        design,
        as_of=as_of,
        choice=choice,
        closed=closed,
        opened=opened,
        substudy=substudy,
    )
    spec, data, ev, refs = prep.spec, prep.data, prep.evidence, prep.references
    control, active = prep.control, prep.active
    as_of_month = prep.interim.as_of_month
    observation_cells = None
    if choice.name != "conjugate":
        key = {"none": "none", "linear": "linear"}.get(choice.time_trend, "period")
        observation_cells = cells(spec, prep.interim, key, choice.period_months)
    built = build_model(
        choice,
        spec,
        ev,
        observation_cells,
        subgroup_ids=data.subgroup_ids,
        subgroup_weights=prep.subgroup_weights,
        as_of_month=as_of_month,
        refs=refs,
    )
    if announce is not None:
        announce(
            f"sampling {sampler.chains} chain(s) × {sampler.draws} draws "
            f"({sampler.tune} tuning) of the {choice.name} model…"
        )
    idata = sample(built, sampler, progressbar)
    diagnostics = diagnose(idata, [*built.var_names, "rate"])
    posterior = idata.posterior
    rate = np.asarray(posterior["rate"].values, dtype=float)  # (chain, draw, arm)
    reference = (
        np.asarray(posterior["reference_rate"].values, dtype=float)
        if "reference_rate" in posterior
        else None
    )
    by_group = (
        np.asarray(posterior["rate_by_subgroup"].values, dtype=float)
        if "rate_by_subgroup" in posterior
        else None
    )
    source = DrawSource(spec, rate, reference, control)
    outcome = apply_design(spec, source, **prep.design_kwargs(is_final))
    lower = spec.is_survival or not spec.higher_is_better
    mcse_best = probability_mcse(best_indicator(rate, active, lower))
    mcse_better = None
    if control >= 0:
        mcse_better = probability_mcse(
            better_indicator(rate, source.reference, spec.record_margin, spec)
        )
        mcse_better[~active | (np.arange(spec.n_arms) == control)] = np.nan
    exact_outcome = prep.exact_outcome(is_final) if choice.name == "conjugate" else None
    result = InterimAnalysis(
        scenario=prep.scenario,
        scenario_file=str(scenario_path),
        scenario_sha256=prep.scenario_sha256,
        design=design,
        substudy=substudy,
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
        references=refs,
        opened=prep.opened,
        active=active,
        open_month=prep.open_month,
        control=control,
        rate_draws=rate,
        reference_draws=reference,
        rate_by_subgroup_draws=by_group,
        mcse_p_best=mcse_best,
        mcse_p_better=mcse_better,
        outcome=outcome,
        exact_outcome=exact_outcome,
        diagnostics=diagnostics,
        versions=pymc_versions(),
    )
    result.warnings.extend(prep.notes)
    result.warnings.extend(diagnostics.warnings)
    if result.exact_agrees is False:
        result.warnings.append(
            "MCMC and the engine's exact probabilities give different decisions or allocation: "
            "a threshold is within Monte Carlo error; increase --draws (the exact values are "
            "in analysis.json)."
        )
    return result


def _open_months(
    spec: TrialSpec,
    interim: Any,
    is_open: np.ndarray,
    opened_at: dict[int, float],
    control: int,
) -> np.ndarray:
    """Per arm, the month after which control patients are its concurrent controls.

    −∞ (every control) unless the design compares with concurrent controls in a staggered
    platform. Then: arms open from the start −∞; --opened given: that month; arms that
    opened later: just before their first patient's enrolment; arms not opened yet: the
    analysis time (if they open now, no control is concurrent yet).
    """
    out = np.full(spec.n_arms, -np.inf)
    if not (spec.staggered and spec.concurrent_controls) or control < 0:
        return out
    start = initially_open(spec, control)
    for k in range(spec.n_arms):
        if k == control or (start[k] and k not in opened_at):
            continue
        if k in opened_at:
            out[k] = opened_at[k]
        elif is_open[k] and (interim.arm == k).any():
            out[k] = float(interim.enrolled_month[interim.arm == k].min()) - 1e-9
        else:
            # Not open yet (if it opens now, no control is concurrent yet), or closed
            # without patients.
            out[k] = interim.as_of_month
    return out


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


def _data_warnings(spec: TrialSpec, ev: Evidence, active: np.ndarray) -> list[str]:
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
