"""The design's Bayesian models of one trial's data, in PyMC (imported lazily, here only).

Every model has a deterministic ``rate`` (dims ``arm``): each arm's decision-scale
parameter — the response probability (binary) or the hazard per month of the decision
piece (time to event) — from which P(best) and P(better than control) are counted.
Hierarchical models add ``rate_by_subgroup`` (dims ``arm, subgroup``), and their ``rate``
is its average over subgroups weighted by the trial's subgroup mix (the share of enrolled
patients in each subgroup).

Models (`MODELS`):

- ``conjugate`` — the engine's model: Beta(α, β)–Binomial per arm, or Gamma(a₀, b₀) hazards
  per arm (and piece) with a Poisson likelihood on exposure (the exponential likelihood's
  kernel, so the posterior is exactly the engine's Gamma). Subgroups are pooled.
- ``logistic`` (binary) / ``loglinear`` (time to event) — logit p_k, or log λ_k per piece,
  Normal priors matched to the design's Beta / Gamma prior (`baseline_prior`); optional
  time trend. Subgroups are pooled.
- ``hierarchical`` — per subgroup g: reference-arm baseline α_g (the matched prior) and arm
  effects δ_kg = δ_k + τ z_kg, z ~ N(0, 1) (non-centred), δ_k ~ N(0, `EFFECT_SD`),
  τ ~ HalfNormal(`TAU_SD`): partial pooling of each arm's effect across subgroups.
  Optional time trend.

Time trends (`TIME_TRENDS`, on the enrolment month t of each patient, relative to the
analysis time so that ``rate`` is the rate of patients enrolled now): ``linear`` β (t − as-of)
/ 12, β ~ N(0, `TREND_SD`) per year; ``period`` one term per enrolment period of
``period_months`` (the current period is the reference), N(0, `TREND_SD`); ``time_machine``
the same periods tied by a first-order random walk with step SD ~ HalfNormal(`TAU_SD`)
(a simple form of Saville et al.'s 2022 "time machine").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from platsim.analysis.evidence import Cells, Evidence, References, piece_edges
from platsim.engine.spec import TrialSpec
from platsim.errors import ArgumentError, UserInputError

MODELS = ("conjugate", "logistic", "loglinear", "hierarchical")
TIME_TRENDS = ("none", "linear", "period", "time_machine")

#: SD of an arm's effect vs the reference arm (logit scale for binary, log hazard ratio).
EFFECT_SD = {"binary": 1.5, "time_to_event": 1.0}
#: Scale of the half-normal prior of τ (between-subgroup SD of arm effects) and of the
#: random-walk step of the time machine.
TAU_SD = 0.5
#: SD of time-trend terms (per year for linear trends, per period otherwise).
TREND_SD = 1.0
#: Weakly informative prior of log hazards per month when the design's Gamma prior is too
#: vague to match on the log scale (SD above `MAX_LOG_PRIOR_SD`): centred on 0.05 / month
#: (median 14 months), SD 2.5.
FALLBACK_LOG_HAZARD = (math.log(0.05), 2.5)
MAX_LOG_PRIOR_SD = 2.5


class SamplingFailed(UserInputError):
    """NUTS could not start or run on this model and data (exit 2, with what to try)."""


@dataclass(frozen=True)
class ModelChoice:
    """Which model to fit: one of `MODELS`, a time trend of `TIME_TRENDS`."""

    name: str = "conjugate"
    time_trend: str = "none"
    period_months: float = 6.0


def check_model_choice(choice: ModelChoice, endpoint_kind: str, n_subgroups: int) -> None:
    """Refuse combinations that do not make sense, naming every field involved."""
    if choice.name not in MODELS:
        raise ArgumentError(f"model must be one of {', '.join(MODELS)}; got {choice.name!r}.")
    if choice.time_trend not in TIME_TRENDS:
        raise ArgumentError(
            f"time trend must be one of {', '.join(TIME_TRENDS)}; got {choice.time_trend!r}."
        )
    if choice.name == "logistic" and endpoint_kind != "binary":
        raise ArgumentError(
            "model logistic is for binary endpoints; this scenario's endpoint is time to event: "
            "use conjugate, loglinear or hierarchical."
        )
    if choice.name == "loglinear" and endpoint_kind != "time_to_event":
        raise ArgumentError(
            "model loglinear is for time-to-event endpoints; this scenario's endpoint is binary: "
            "use conjugate, logistic or hierarchical."
        )
    if choice.name == "conjugate" and choice.time_trend != "none":
        raise ArgumentError(
            f"time trend {choice.time_trend} needs a regression model (logistic, loglinear or "
            "hierarchical); the conjugate model has no time terms."
        )
    if choice.name == "hierarchical" and n_subgroups < 2:
        raise ArgumentError(
            "model hierarchical needs a subgroup column with at least 2 subgroups in the data; "
            f"got {n_subgroups}."
        )
    if not choice.period_months > 0:
        raise ArgumentError(f"period months must be > 0; got {choice.period_months}.")


def baseline_prior(spec: TrialSpec) -> tuple[float, float, str]:
    """Normal (mean, SD) prior of a logit response or log hazard, matched to the design's prior.

    Beta(α, β): logit p has mean ψ(α) − ψ(β) and variance ψ′(α) + ψ′(β). Gamma(a, b): log λ
    has mean ψ(a) − log b and variance ψ′(a); when that SD exceeds `MAX_LOG_PRIOR_SD` (vague
    priors such as Gamma(0.001, 0.001)) `FALLBACK_LOG_HAZARD` is used instead.
    """
    if spec.is_survival:
        a, b = spec.prior_shape, spec.prior_rate
        sd = math.sqrt(float(special.polygamma(1, a)))
        if sd <= MAX_LOG_PRIOR_SD:
            mean = float(special.digamma(a)) - math.log(b)
            return (
                mean,
                sd,
                f"log hazard ~ Normal({mean:.3g}, {sd:.3g}) (matches Gamma({a:g}, {b:g}))",
            )
        mean, sd = FALLBACK_LOG_HAZARD
        return (
            mean,
            sd,
            (
                f"log hazard ~ Normal(log 0.05, {sd:g}) (the design's Gamma({a:g}, {b:g}) is "
                "too vague to match on the log scale)"
            ),
        )
    a, b = spec.prior_alpha, spec.prior_beta
    mean = float(special.digamma(a) - special.digamma(b))
    sd = math.sqrt(float(special.polygamma(1, a) + special.polygamma(1, b)))
    return mean, sd, f"logit p ~ Normal({mean:.3g}, {sd:.3g}) (matches Beta({a:g}, {b:g}))"


@dataclass(frozen=True)
class BuiltModel:
    """A PyMC model with what the rest of the analysis needs to know about it."""

    model: Any
    #: Free parameters to diagnose (with ``rate``).
    var_names: tuple[str, ...]
    description: str
    priors: tuple[str, ...]
    target_accept: float


def _coords(spec: TrialSpec, subgroup_ids: tuple[str, ...]) -> dict[str, list[str]]:
    edges = piece_edges(spec)
    pieces = [f"{edges[i]:g}-{edges[i + 1]:g} months" for i in range(len(edges) - 1)]
    return {"arm": list(spec.arm_ids), "subgroup": list(subgroup_ids), "piece": pieces}


def build_model(
    choice: ModelChoice,
    spec: TrialSpec,
    evidence: Evidence,
    cells: Cells | None,
    *,
    subgroup_ids: tuple[str, ...],
    subgroup_weights: np.ndarray,
    as_of_month: float,
    refs: References | None = None,
) -> BuiltModel:
    """The PyMC model of `choice` for one data cut.

    Parameters
    ----------
    evidence : counts per arm × subgroup × piece (the conjugate model's data).
    cells : observation cells (regression models; None for the conjugate model).
    subgroup_weights : (n_subgroups,) the subgroup mix, summing to 1.
    as_of_month : the analysis time (reference of the time trend).
    refs : concurrent-control data per arm (conjugate model): arms with
        `refs.restricted` get their own control parameter, fitted to the control patients
        randomized since they opened, and ``reference_rate`` (dims ``arm``) holds the
        control rate each arm is compared with.
    """
    import pymc as pm

    coords = _coords(spec, subgroup_ids)
    if choice.name == "conjugate":
        return _conjugate(pm, spec, evidence, coords, refs)
    assert cells is not None
    return _regression(pm, choice, spec, cells, coords, subgroup_weights, as_of_month)


def _concurrent_controls(pm: Any, spec: TrialSpec, rate, refs: References | None):
    """Per-arm concurrent-control parameters and the ``reference_rate`` deterministic."""
    import pytensor.tensor as pt

    if refs is None or not refs.restricted.any() or spec.control_index is None:
        return ()
    idx = np.flatnonzero(refs.restricted)
    model = pm.modelcontext(None)
    model.add_coord("compared_arm", [spec.arm_ids[k] for k in idx])
    y, n = refs.successes[idx], refs.trials[idx]
    if spec.is_survival:
        name = "concurrent_control_hazard"
        own = pm.Gamma(name, alpha=spec.prior_shape, beta=spec.prior_rate, dims="compared_arm")
        seen = np.flatnonzero(n > 0)
        if seen.size:
            pm.Poisson("concurrent_control_events", mu=own[seen] * n[seen], observed=y[seen])
    else:
        name = "concurrent_control_p"
        own = pm.Beta(name, alpha=spec.prior_alpha, beta=spec.prior_beta, dims="compared_arm")
        pm.Binomial("concurrent_control_responses", n=n, p=own, observed=y)
    control = spec.control_index
    base = pt.ones(spec.n_arms) * rate[control]
    pm.Deterministic("reference_rate", pt.set_subtensor(base[idx], own), dims="arm")
    return (name,)


def _conjugate(
    pm: Any, spec: TrialSpec, evidence: Evidence, coords, refs: References | None = None
) -> BuiltModel:
    # Subgroups pooled, as in the engine.
    trials = evidence.trials.sum(axis=1)  # (n_arms, n_pieces)
    successes = evidence.successes.sum(axis=1)
    coords = {k: v for k, v in coords.items() if k != "subgroup"}
    if trials.shape[1] == 1:
        del coords["piece"]
    with pm.Model(coords=coords) as model:
        if spec.is_survival:
            a, b = spec.prior_shape, spec.prior_rate
            several = trials.shape[1] > 1
            hazard = pm.Gamma(
                "hazard", alpha=a, beta=b, dims=("arm", "piece") if several else "arm"
            )
            by_piece = hazard if several else hazard[:, None]
            seen = trials > 0  # arms (pieces) without exposure contribute nothing
            arm_idx, piece_idx = np.nonzero(seen)
            if arm_idx.size:
                pm.Poisson(
                    "events",
                    mu=by_piece[arm_idx, piece_idx] * trials[seen],
                    observed=successes[seen],
                )
            rate = pm.Deterministic("rate", by_piece[:, evidence.decision_piece], dims="arm")
            pieces = f" and piece ({', '.join(coords['piece'])})" if several else ""
            description = (
                f"Gamma({a:g}, {b:g})–exponential per arm{pieces}: Poisson likelihood of "
                "events on exposure (the engine's conjugate model)"
            )
            priors = (f"hazard per month ~ Gamma({a:g}, {b:g}) per arm{pieces}",)
            names: tuple[str, ...] = ("hazard",)
        else:
            a, b = spec.prior_alpha, spec.prior_beta
            p = pm.Beta("p", alpha=a, beta=b, dims="arm")
            pm.Binomial("responses", n=trials[:, 0], p=p, observed=successes[:, 0])
            rate = pm.Deterministic("rate", p, dims="arm")
            description = f"Beta({a:g}, {b:g})–Binomial per arm (the engine's conjugate model)"
            priors = (f"p ~ Beta({a:g}, {b:g}) per arm",)
            names = ("p",)
        extra = _concurrent_controls(pm, spec, rate, refs)
        if extra:
            description += "; concurrent controls per arm"
            priors += (f"{extra[0]}: the same prior, per arm compared with concurrent controls",)
    return BuiltModel(model, (*names, *extra), description, priors, target_accept=0.8)


def _trend(pm: Any, choice: ModelChoice, cells: Cells, as_of_month: float, model_coords):
    """The time-trend term per cell (0 without a trend), and its description."""
    import pytensor.tensor as pt

    if choice.time_trend == "none":
        return 0.0, None, ()
    if choice.time_trend == "linear":
        slope = pm.Normal("trend_per_year", 0.0, TREND_SD)
        years = (cells.time_month - as_of_month) / 12.0
        return slope * years, f"trend_per_year ~ Normal(0, {TREND_SD:g})", ("trend_per_year",)
    current = math.floor(as_of_month / choice.period_months)
    period = cells.time_month.astype(np.int64)
    n_before = current  # periods 0 .. current − 1 get a term; the current one is 0
    if n_before == 0:
        return 0.0, "(one enrolment period only: no time term)", ()
    labels = [
        f"{i * choice.period_months:g}-{(i + 1) * choice.period_months:g}" for i in range(current)
    ]
    model_coords.add_coord("period", labels)
    if choice.time_trend == "period":
        effect = pm.Normal("period_effect", 0.0, TREND_SD, dims="period")
        full = pt.concatenate([effect, pt.zeros(1)])
        text = (
            f"period_effect ~ Normal(0, {TREND_SD:g}) per earlier period of "
            f"{choice.period_months:g} months"
        )
        return full[period], text, ("period_effect",)
    step_sd = pm.HalfNormal("time_machine_sd", TAU_SD)
    steps = pm.Normal("time_machine_step", 0.0, 1.0, dims="period")
    # γ_current = 0; γ_j = γ_{j+1} + σ ε_j, going back in time.
    walk = pt.cumsum((steps * step_sd)[::-1])[::-1]
    full = pt.concatenate([walk, pt.zeros(1)])
    pm.Deterministic("period_effect", walk, dims="period")
    text = (
        f"period effects: random walk back from the current period, step SD ~ "
        f"HalfNormal({TAU_SD:g}), periods of {choice.period_months:g} months"
    )
    return full[period], text, ("time_machine_sd", "time_machine_step")


def _regression(
    pm: Any,
    choice: ModelChoice,
    spec: TrialSpec,
    cells: Cells,
    coords,
    subgroup_weights: np.ndarray,
    as_of_month: float,
) -> BuiltModel:
    import pytensor.tensor as pt

    survival = spec.is_survival
    mean0, sd0, prior_text = baseline_prior(spec)
    piece = spec.decision_piece % len(coords["piece"]) if survival else 0
    hierarchical = choice.name == "hierarchical"
    priors = [prior_text]
    reference = spec.control_index if spec.control_index is not None else 0
    others = [k for k in range(spec.n_arms) if k != reference]
    n_groups, n_pieces = len(coords["subgroup"]), len(coords["piece"])
    # A single piece (binary, exponential) gets no piece dimension in the parameters' names.
    pdims: tuple[str, ...] = ("piece",) if n_pieces > 1 else ()
    if not pdims:
        coords = {k: v for k, v in coords.items() if k != "piece"}

    def with_piece(x):
        """x with an explicit trailing piece axis."""
        return x if pdims else x[..., None]

    with pm.Model(coords=coords) as model:
        if hierarchical:
            model.add_coord("effect_arm", [spec.arm_ids[k] for k in others])
            baseline = with_piece(pm.Normal("baseline", mean0, sd0, dims=("subgroup", *pdims)))
            effect_sd = EFFECT_SD[spec.endpoint_kind]
            effect = with_piece(pm.Normal("effect", 0.0, effect_sd, dims=("effect_arm", *pdims)))
            tau = pm.HalfNormal("tau", TAU_SD)
            z = with_piece(pm.Normal("z", 0.0, 1.0, dims=("effect_arm", "subgroup", *pdims)))
            deviation = effect[:, None, :] + tau * z  # (K − 1, G, P)
            full = pt.zeros((spec.n_arms, n_groups, n_pieces))
            full = pt.set_subtensor(full[others], deviation)
            eta = baseline[None, :, :] + full  # (K, G, P)
            linear = eta[cells.arm, cells.subgroup, cells.piece]
            ref_name = spec.arm_ids[reference]
            priors += [
                f"baseline ({ref_name}) per subgroup: {prior_text.split(' (')[0]}",
                f"effect vs {ref_name} ~ Normal(0, {effect_sd:g}) per arm"
                + (" (log hazard ratio)" if survival else " (logit scale)"),
                "effect in subgroup = effect + tau · z, z ~ Normal(0, 1), "
                f"tau ~ HalfNormal({TAU_SD:g})",
            ]
            names: list[str] = ["baseline", "effect", "tau", "z"]
            description = (
                ("Hierarchical logistic" if not survival else "Hierarchical log-linear hazard")
                + f" model across {n_groups} subgroups: partial pooling of each arm's effect "
                f"vs {ref_name}"
            )
        else:
            eta = with_piece(pm.Normal("eta", mean0, sd0, dims=("arm", *pdims)))
            linear = eta[cells.arm, cells.piece]
            names = ["eta"]
            description = (
                "Logistic model, one logit response probability per arm"
                if not survival
                else "Log-linear (Poisson on exposure) model, one log hazard per arm"
                + (" and piece" if n_pieces > 1 else "")
            )
        trend, trend_text, trend_names = _trend(pm, choice, cells, as_of_month, model)
        names += list(trend_names)
        if trend_text:
            priors.append(trend_text)
            description += f"; time trend: {choice.time_trend}"
        linear = linear + trend
        if survival:
            pm.Poisson("events", mu=pt.exp(linear) * cells.trials, observed=cells.successes)
            link = pt.exp
        else:
            pm.Binomial("responses", n=cells.trials, logit_p=linear, observed=cells.successes)
            link = pm.math.invlogit
        if hierarchical:
            by_group = pm.Deterministic(
                "rate_by_subgroup", link(eta[:, :, piece]), dims=("arm", "subgroup")
            )
            pm.Deterministic("rate", by_group @ np.asarray(subgroup_weights, float), dims="arm")
        else:
            pm.Deterministic("rate", link(eta[:, piece]), dims="arm")
    return BuiltModel(
        model, tuple(names), description, tuple(priors), target_accept=0.9 if hierarchical else 0.8
    )


def sample(
    built: BuiltModel,
    *,
    draws: int,
    tune: int,
    chains: int,
    cores: int,
    seed: int,
    progressbar: bool = False,
):
    """NUTS draws from the model (PyMC's sampler), as ArviZ InferenceData."""
    import logging
    import warnings

    import pymc as pm

    logger = logging.getLogger("pymc")
    level = logger.level
    logger.setLevel(logging.ERROR)  # PyMC announces every step at INFO; the CLI says it once
    try:
        with built.model, warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", FutureWarning)
            try:
                return pm.sample(
                    draws=draws,
                    tune=tune,
                    chains=chains,
                    cores=cores,
                    random_seed=seed,
                    target_accept=built.target_accept,
                    progressbar=progressbar,
                    compute_convergence_checks=False,
                    return_inferencedata=True,
                )
            except pm.exceptions.SamplingError as exc:
                raise SamplingFailed(
                    f"NUTS could not sample the {built.description.split(':')[0]} on these "
                    f"data ({exc}). Try another --seed, more --tune steps, or a model with "
                    "more informative priors (the conjugate model always samples when the "
                    "design's prior is proper)."
                ) from None
    finally:
        logger.setLevel(level)


def pymc_versions() -> dict[str, str]:
    """Versions of the PyMC stack (recorded with the results)."""
    import pymc
    import pytensor

    from platsim.analysis.diagnostics import import_arviz

    arviz = import_arviz()

    return {"pymc": pymc.__version__, "arviz": arviz.__version__, "pytensor": pytensor.__version__}
