"""Deliberately simple, per-trial reference implementation of docs/engine.md.

`simulate_trials_reference(spec, rng, n_sims)` has the signature and output of the fast
engine `platsim.engine.trial.simulate_trials`. It draws the chunk's random numbers exactly
as the document's protocol says (whole-chunk arrays first, in the documented order), then
simulates each trial in plain Python: one loop over analyses, one loop over patients. It
is written for clarity, not speed, so that it can be read against the document line by
line; the tests hold the engine to the same records.

The probabilities P(best) and P(better than control) come from `platsim.engine.quadrature`
called on 1-row arrays, so that both implementations take identical decisions.

Readings of the document where it leaves a choice are marked "READING:" below.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from platsim.engine.draws import chunk_streams, patient_exponentials, patient_uniforms
from platsim.engine.quadrature import beta_p_best, beta_p_better
from platsim.engine.records import TrialRecords
from platsim.engine.spec import (
    BEST,
    DROPPED,
    EFFICACY,
    FUTILITY,
    NONE,
    STOP_BEST_FOUND,
    STOP_EFFICACY,
    STOP_MAX_PATIENTS,
    STOP_NO_ARMS_LEFT,
    STOP_SINGLE_ARM,
    SUPERSEDED,
    TrialSpec,
)

Z95 = float(stats.norm.ppf(0.975))


# ---------------------------------------------------------------------------------------
# Posterior probabilities (one trial: plain vectors of length n_arms)
# ---------------------------------------------------------------------------------------


def p_best(alpha, beta, active, higher_is_better: bool) -> np.ndarray:
    """P(arm is best among the active arms) for each arm (0 for inactive arms).

    `beta_p_best` on 1-row arrays: the same function the engine calls on its batches.
    """
    row = np.asarray(alpha, dtype=float)[None, :]
    out = beta_p_best(
        row,
        np.asarray(beta, dtype=float)[None, :],
        np.asarray(active, dtype=bool)[None, :],
        higher_is_better,
    )
    return np.asarray(out, dtype=float)[0]


def p_better(alpha, beta, control: int, margin: float, higher_is_better: bool) -> np.ndarray:
    """P(p_k > p_control + margin) (or P(p_k < p_control − margin)) for every arm k.

    `beta_p_better` on a 1-row array of arms against the (1, 1) control.
    """
    alpha = np.asarray(alpha, dtype=float)
    beta = np.asarray(beta, dtype=float)
    out = beta_p_better(
        alpha[None, :],
        beta[None, :],
        np.array([[alpha[control]]]),
        np.array([[beta[control]]]),
        margin,
        higher_is_better,
    )
    return np.asarray(out, dtype=float)[0]


# ---------------------------------------------------------------------------------------
# Accrual, allocation, randomization
# ---------------------------------------------------------------------------------------


def entry_times(gaps, rate: float, ramp_up: float) -> list[float]:
    """entry_i = Λ⁻¹(gaps_0 + … + gaps_i), Λ(t) = R t²/(2r) for t < r, R r/2 + R (t − r) after."""
    times = []
    s = 0.0
    for gap in gaps:
        s += float(gap)
        if ramp_up <= 0.0:
            t = s / rate
        elif s < rate * ramp_up / 2.0:
            t = math.sqrt(2.0 * ramp_up * s / rate)  # solves R t²/(2r) = s
        else:
            t = ramp_up + (s - rate * ramp_up / 2.0) / rate  # solves R r/2 + R (t − r) = s
        times.append(t)
    return times


def clamp(probs, clampable, min_prob: float, max_prob: float) -> list[float]:
    """Clamp every clampable arm to [min_prob, max_prob]; renormalise the unclamped ones.

    Literal reading of the document: all arms out of range in a round are clamped at once
    and stay clamped; the probability left over by the clamped arms and the non-clampable
    ones is shared among the unclamped clampable arms in proportion to their probabilities
    (equally if those are all 0); repeated until no unclamped arm is out of range.
    READING: if every clampable arm ends up clamped and the total is not 1 (infeasible
    bounds for the arms left), the whole vector is divided by its sum.
    """
    pi = [float(x) for x in probs]
    n = len(pi)
    if min_prob <= 0.0 and max_prob >= 1.0:
        return pi
    pinned = [False] * n
    fixed_mass = sum(pi[k] for k in range(n) if not clampable[k])
    while True:
        out_of_range = [
            k
            for k in range(n)
            if clampable[k] and not pinned[k] and (pi[k] < min_prob or pi[k] > max_prob)
        ]
        if not out_of_range:
            break
        for k in out_of_range:
            pi[k] = min_prob if pi[k] < min_prob else max_prob
            pinned[k] = True
        free = [k for k in range(n) if clampable[k] and not pinned[k]]
        if not free:
            break
        remaining = max(0.0, 1.0 - fixed_mass - sum(pi[k] for k in range(n) if pinned[k]))
        free_mass = sum(pi[k] for k in free)
        for k in free:
            pi[k] = remaining * pi[k] / free_mass if free_mass > 0 else remaining / len(free)
    total = sum(pi)
    if total > 0 and abs(total - 1.0) > 1e-12:
        pi = [x / total for x in pi]
    return pi


def allocation_probs(
    spec: TrialSpec,
    enrolling: list[bool],
    control: int | None,
    p_best_now,
    n_enrolled: int,
) -> list[float]:
    """Allocation for the patients until the next look (docs/engine.md, "Allocation")."""
    n_arms = spec.n_arms
    arms = [k for k in range(n_arms) if enrolling[k]]
    if not arms:
        # READING: no enrolling arm (enrolment has ended, every active arm capped): all 0.
        return [0.0] * n_arms
    pi = [0.0] * n_arms
    # READING: burn-in is judged when the allocation is computed (start / after a look),
    # with the number enrolled at that time; it then holds for the whole next block.
    if spec.allocation_rule == "fixed" or n_enrolled < spec.burn_in_patients:
        if len(spec.fixed_ratios) == n_arms:
            ratios = [float(r) for r in spec.fixed_ratios]
        else:
            ratios = [1.0] * n_arms
        total = sum(ratios[k] for k in arms)
        for k in arms:
            pi[k] = ratios[k] / total
        # READING: min_prob / max_prob restrict the adaptive (Thompson) allocation only;
        # fixed ratios, and the burn-in, are used as given.
        return pi
    clampable = list(enrolling)
    c = spec.thompson_power
    if c is None:
        c = n_enrolled / (2.0 * spec.max_patients)
    weight = [float(p_best_now[k]) ** c if enrolling[k] else 0.0 for k in range(n_arms)]
    # READING: a control rule applies only while the control is enrolling; a capped
    # control gets nothing and the experimental arms share everything.
    use_control_rule = spec.control_rule is not None and control is not None and enrolling[control]
    if not use_control_rule:
        group = arms
        share = _by_weights(weight, group)
        for k in group:
            pi[k] = share[k]
    else:
        experimental = [k for k in arms if k != control]
        if not experimental:
            pi[control] = 1.0
        else:
            share = _by_weights(weight, experimental)
            if spec.control_rule == "fixed":
                s = spec.control_fixed_share
                pi[control] = s
                for k in experimental:
                    pi[k] = (1.0 - s) * share[k]
                clampable[control] = False
            elif spec.control_rule == "sqrt":
                root = math.sqrt(len(experimental))
                s = root / (root + len(experimental))
                pi[control] = s
                for k in experimental:
                    pi[k] = (1.0 - s) * share[k]
            elif spec.control_rule == "match_best":
                best = max(share[k] for k in experimental)
                pi[control] = best / (1.0 + best)
                for k in experimental:
                    pi[k] = share[k] / (1.0 + best)
            else:
                raise ValueError(f"unknown control rule {spec.control_rule!r}")
    return clamp(pi, clampable, spec.min_prob, spec.max_prob)


def _by_weights(weight, group) -> dict[int, float]:
    """Shares of the arms in `group` in proportion to `weight`; equal if all are 0."""
    total = sum(weight[k] for k in group)
    if total <= 0:
        return {k: 1.0 / len(group) for k in group}
    return {k: weight[k] / total for k in group}


def block_counts(m: int, pi, tie_u) -> list[int]:
    """floor(m·π) plus one for the (m − Σ floor) arms with the largest remainders.

    Remainder ties are broken by the larger tie_u.
    """
    n_arms = len(pi)
    scaled = [m * float(pi[k]) for k in range(n_arms)]
    counts = [math.floor(x) for x in scaled]
    remainders = [scaled[k] - counts[k] for k in range(n_arms)]
    extra = m - sum(counts)
    ranked = sorted(range(n_arms), key=lambda k: (-remainders[k], -float(tie_u[k])))
    for k in ranked[:extra]:
        counts[k] += 1
    return counts


def simple_arm(pi, u: float) -> int:
    """searchsorted(cumsum(π), u, side="right"), clipped to the last arm with π > 0."""
    k = int(np.searchsorted(np.cumsum(pi), u, side="right"))
    last_positive = max(j for j in range(len(pi)) if pi[j] > 0)
    return min(k, last_positive)


# ---------------------------------------------------------------------------------------
# One trial
# ---------------------------------------------------------------------------------------


@dataclass
class Analysis:
    """One analysis (interim look or final) of one trial, as computed at its start."""

    index: int
    final: bool
    time: float
    enrolled: int
    observed: int
    n_observed: list[int]
    n_responses: list[int]
    alpha: list[float]
    beta: list[float]
    active: list[bool]  # at the start of the analysis
    control: int | None  # at the start of the analysis
    p_best: list[float]
    p_better_efficacy: list[float]  # NaN where not an active experimental arm
    p_better_futility: list[float]
    p_better_record: list[float]


@dataclass
class TrialTrace:
    """Everything one simulated trial did (for the records and for the tests)."""

    entry: list[float]
    arm: list[int]  # arm of each patient, -1 if never enrolled
    responds: list[bool]  # outcome of each enrolled patient on its arm
    analyses: list[Analysis] = field(default_factory=list)
    allocation: np.ndarray | None = None  # (n_looks, n_arms), NaN rows not computed
    block_starts: list[int] = field(default_factory=list)  # first patient of each block
    status: list[int] = field(default_factory=list)
    decision_look: list[int] = field(default_factory=list)
    decision_n: list[int] = field(default_factory=list)
    capped: list[bool] = field(default_factory=list)
    last_analysis: list[int] = field(default_factory=list)  # index into analyses, per arm
    control: int | None = None
    stop_reason: int = STOP_MAX_PATIENTS
    total_n: int = 0
    duration: float = 0.0


def apply_decision_rules(
    spec: TrialSpec, a, trace, active: list[bool], n_randomized: Callable[[int], int]
) -> int | None:
    """The decision rules of docs/engine.md at one analysis `a` of one trial; shared by the
    binary and the survival reference (the rules do not depend on the endpoint).

    `a` has index, final, enrolled, control, p_best and p_better_efficacy / _futility;
    `trace` has analyses, last_analysis, status, decision_look, decision_n, control and
    capped, updated here; `active` (per arm) is updated in place; `n_randomized(k)` is
    the number of patients randomized to arm k by this analysis. Returns the stop reason,
    or None when the trial goes on.
    """
    n_arms = len(active)
    has_control = spec.control_index is not None
    trace.analyses.append(a)
    for k in range(n_arms):
        if a.active[k]:
            trace.last_analysis[k] = a.index

    def decided(k: int, status: int) -> None:
        trace.status[k] = status
        trace.decision_look[k] = a.index
        trace.decision_n[k] = a.enrolled

    efficacy_stop = best_found = False
    declared_effective: set[int] = set()
    experimental = [k for k in range(n_arms) if a.active[k] and k != a.control]
    # 1. efficacy
    if has_control and spec.efficacy_threshold is not None:
        crossing = [k for k in experimental if a.p_better_efficacy[k] > spec.efficacy_threshold]
        if crossing and spec.on_efficacy in ("graduate", "stop_trial"):
            for k in crossing:
                decided(k, EFFICACY)
                active[k] = False
                declared_effective.add(k)
            efficacy_stop = spec.on_efficacy == "stop_trial"
        elif crossing and spec.on_efficacy == "new_control":
            # Highest P(best) among the crossing arms; first arm on ties.
            new = max(crossing, key=lambda k: (a.p_best[k], -k))
            old = trace.control
            decided(new, EFFICACY)
            declared_effective.add(new)
            decided(old, SUPERSEDED)
            active[old] = False
            trace.control = new
        elif crossing:
            raise ValueError(f"unknown on_efficacy {spec.on_efficacy!r}")
    # 2. futility (probabilities of the start of the look, i.e. against the control
    # at the start of the look). READING: with new_control only the arm that became
    # the control counts as "just declared effective"; the other crossing arms stay
    # ordinary active experimental arms, subject to rules 2 and 3 at this look.
    if has_control and spec.futility_threshold is not None:
        for k in experimental:
            if (
                active[k]
                and k != trace.control
                and k not in declared_effective
                and a.p_better_futility[k] < spec.futility_threshold
            ):
                decided(k, FUTILITY)
                active[k] = False
    # 3. drop_if_p_best_below (never the current control)
    if spec.drop_if_p_best_below is not None:
        for k in range(n_arms):
            if active[k] and k != trace.control and a.p_best[k] < spec.drop_if_p_best_below:
                decided(k, DROPPED)
                active[k] = False
    # 4. stop_for_best. READING: if several active arms exceed the threshold (possible
    # only for thresholds below 1/2), the one with the highest P(best) is "best".
    if spec.stop_for_best_threshold is not None:
        above = [
            k for k in range(n_arms) if active[k] and a.p_best[k] > spec.stop_for_best_threshold
        ]
        if above:
            best = max(above, key=lambda k: (a.p_best[k], -k))
            decided(best, BEST)
            active[best] = False
            best_found = True
    # 5. max_per_arm. READING: applies to arms still active after rules 1-4, and only
    # at analyses (as listed among the decisions): an arm can pass max_per_arm between
    # two looks.
    if spec.max_per_arm is not None:
        for k in range(n_arms):
            if active[k] and n_randomized(k) >= spec.max_per_arm:
                trace.capped[k] = True
    # Stop? READING: precedence efficacy stop, best found, then arms running out; the
    # same applies at the final analysis, which otherwise ends with max_patients.
    remaining = [k for k in range(n_arms) if active[k]]
    if efficacy_stop:
        return STOP_EFFICACY
    if best_found:
        return STOP_BEST_FOUND
    if has_control and not [k for k in remaining if k != trace.control]:
        return STOP_NO_ARMS_LEFT
    if not has_control and len(remaining) == 1:
        decided(remaining[0], BEST)
        active[remaining[0]] = False
        return STOP_SINGLE_ARM
    if not has_control and not remaining:
        return STOP_NO_ARMS_LEFT
    if a.final:
        return STOP_MAX_PATIENTS
    return None


def simulate_trial(spec: TrialSpec, gaps, outcome_u, allocation_u, tie_u=None) -> TrialTrace:
    """Simulate one trial from its rows of the chunk's random numbers."""
    n_max = spec.max_patients
    n_arms = spec.n_arms
    lag = spec.outcome_lag_months
    hib = spec.higher_is_better

    entry = entry_times(gaps, spec.accrual_rate_per_month, spec.ramp_up_months)
    trace = TrialTrace(entry=entry, arm=[-1] * n_max, responds=[False] * n_max)
    trace.allocation = np.full((spec.n_looks, n_arms), np.nan)
    trace.status = [NONE] * n_arms
    trace.decision_look = [-1] * n_arms
    trace.decision_n = [-1] * n_arms
    trace.capped = [False] * n_arms
    trace.last_analysis = [-1] * n_arms
    trace.control = spec.control_index

    active = [True] * n_arms
    enrolled = 0  # patients 0 … enrolled − 1 have entered
    enrolment_end = n_max  # becomes smaller if every remaining arm gets capped

    def enrolling() -> list[bool]:
        return [active[k] and not trace.capped[k] for k in range(n_arms)]

    def enrol(stop: int, block: int) -> None:
        """Randomize patients enrolled … stop − 1 with allocation row `block`."""
        nonlocal enrolled
        pi = trace.allocation[block]
        trace.block_starts.append(enrolled)
        patients = list(range(enrolled, stop))
        if patients:
            assert np.nansum(pi) > 0, "patients to randomize but no enrolling arm"
            if spec.randomization == "simple":
                for i in patients:
                    trace.arm[i] = simple_arm(pi, float(allocation_u[i]))
            else:
                counts = block_counts(len(patients), pi, tie_u[block])
                in_order = sorted(patients, key=lambda i: float(allocation_u[i]))
                arms_in_order = [k for k in range(n_arms) for _ in range(counts[k])]
                for i, k in zip(in_order, arms_in_order, strict=True):
                    trace.arm[i] = k
            for i in patients:
                trace.responds[i] = bool(outcome_u[i] < spec.true_p[trace.arm[i]])
        enrolled = stop

    def analyse(index: int, time: float, final: bool) -> Analysis:
        observed = sum(1 for i in range(enrolled) if entry[i] + lag <= time)
        if final:
            assert observed == enrolled
        n_obs = [0] * n_arms
        n_resp = [0] * n_arms
        for i in range(observed):
            n_obs[trace.arm[i]] += 1
            n_resp[trace.arm[i]] += int(trace.responds[i])
        alpha = [spec.prior_alpha + n_resp[k] for k in range(n_arms)]
        beta = [spec.prior_beta + n_obs[k] - n_resp[k] for k in range(n_arms)]
        control = trace.control
        pb = [float(x) for x in p_best(alpha, beta, active, hib)]
        nan = [math.nan] * n_arms
        better = {}
        # READING: records keep P(better) with the efficacy margin when there is an
        # efficacy rule, else with the futility margin, else with margin 0.
        if spec.efficacy_threshold is not None:
            record_margin = spec.efficacy_margin
        elif spec.futility_threshold is not None:
            record_margin = spec.futility_margin
        else:
            record_margin = 0.0
        for margin in {spec.efficacy_margin, spec.futility_margin, record_margin}:
            values = list(nan)
            if control is not None:
                row = p_better(alpha, beta, control, margin, hib)
                for k in range(n_arms):
                    if active[k] and k != control:
                        values[k] = float(row[k])
            better[margin] = values
        return Analysis(
            index=index,
            final=final,
            time=time,
            enrolled=enrolled,
            observed=observed,
            n_observed=n_obs,
            n_responses=n_resp,
            alpha=alpha,
            beta=beta,
            active=list(active),
            control=control,
            p_best=pb,
            p_better_efficacy=better[spec.efficacy_margin],
            p_better_futility=better[spec.futility_margin],
            p_better_record=better[record_margin],
        )

    def decide(a: Analysis) -> int | None:
        """Apply the decision rules of one analysis; return the stop reason or None."""
        return apply_decision_rules(
            spec,
            a,
            trace,
            active,
            lambda k: sum(1 for i in range(a.enrolled) if trace.arm[i] == k),
        )

    def finish(a: Analysis, reason: int) -> TrialTrace:
        # READING: the duration is the time of the last analysis counted from t = 0 (the
        # accrual process's origin), as docs/engine.md says ("its duration is that look's
        # time"); records.py's comment says "from first entry", which would subtract
        # entry_0.
        trace.stop_reason = reason
        trace.total_n = a.enrolled
        trace.duration = a.time
        return trace

    # Allocation at the start (no data): P(best) from the prior over all arms.
    prior = [1.0 / n_arms] * n_arms  # unused by fixed allocation
    if spec.allocation_rule == "thompson":
        prior = p_best([spec.prior_alpha] * n_arms, [spec.prior_beta] * n_arms, active, hib)
    trace.allocation[0] = allocation_probs(spec, enrolling(), trace.control, prior, 0)
    block = 0
    index = 0
    for count in [int(c) for c in spec.look_counts]:
        # READING: a look needs patient count − 1 to be enrolled; with enrolment ended
        # early (all arms capped) at e patients, looks with count ≥ e do not happen (a
        # look with count = e would coincide with the final analysis), but outcome-based
        # looks with count < e still do, as they do after enrolment reaches N. Analyses
        # are numbered in the order they are performed, so the final analysis's index
        # (decision_look) is the number of interim looks done and n_looks_done counts
        # analyses actually performed.
        if count >= enrolment_end:
            break
        if spec.looks_count_outcomes:
            time = entry[count - 1] + lag
            look_enrolled = sum(1 for i in range(enrolment_end) if entry[i] <= time)
        else:
            time = entry[count - 1]
            look_enrolled = count
        enrol(look_enrolled, block)
        a = analyse(index, time, final=False)
        reason = decide(a)
        if reason is not None:
            return finish(a, reason)
        index += 1
        if not any(enrolling()):
            enrolment_end = enrolled  # every remaining arm is capped: enrolment ends
        block += 1
        trace.allocation[block] = allocation_probs(
            spec, enrolling(), trace.control, a.p_best, enrolled
        )
    # Final analysis: enrolment has ended and every enrolled outcome is known.
    enrol(enrolment_end, block)
    a = analyse(index, entry[enrolled - 1] + lag, final=True)
    reason = decide(a)
    assert reason is not None
    return finish(a, reason)


# ---------------------------------------------------------------------------------------
# A chunk of trials
# ---------------------------------------------------------------------------------------


def simulate_trials_reference(
    spec: TrialSpec, rng: np.random.Generator, n_sims: int
) -> TrialRecords:
    """Simulate `n_sims` trials of `spec`, one at a time, following docs/engine.md."""
    traces = list(iter_traces(spec, rng, n_sims))
    return records_from_traces(spec, traces)


def iter_traces(spec: TrialSpec, rng: np.random.Generator, n_sims: int):
    """Draw the chunk's random numbers (protocol order) and simulate each trial."""
    n_max = spec.max_patients
    # The protocol's draws (shared helper: the protocol is not what these tests check).
    streams = chunk_streams(rng)
    gaps = patient_exponentials(streams["entry_gaps"], n_sims, n_max)
    outcome_u = patient_uniforms(streams["outcome"], n_sims, n_max)
    allocation_u = patient_uniforms(streams["allocation"], n_sims, n_max)
    tie_u = None
    if spec.randomization == "blocked":
        tie_u = streams["ties"].random((n_sims, spec.n_looks, spec.n_arms))
    for s in range(n_sims):
        yield simulate_trial(
            spec, gaps[s], outcome_u[s], allocation_u[s], None if tie_u is None else tie_u[s]
        )


def blank_record_fields(spec: TrialSpec, n_sims: int) -> dict[str, np.ndarray]:
    """The fields of TrialRecords for n_sims trials before any trial is written (shared with
    the survival reference)."""
    n_arms = spec.n_arms
    shape = (n_sims, n_arms)
    return dict(
        status=np.zeros(shape, dtype=np.int8),
        decision_look=np.full(shape, -1, dtype=np.int16),
        decision_n=np.full(shape, -1, dtype=np.int32),
        capped=np.zeros(shape, dtype=bool),
        n_enrolled=np.zeros(shape, dtype=np.int32),
        n_observed=np.zeros(shape, dtype=np.int32),
        n_responses=np.zeros(shape, dtype=np.int32),
        post_mean=np.full(shape, np.nan),
        post_lower=np.full(shape, np.nan),
        post_upper=np.full(shape, np.nan),
        p_best=np.zeros(shape),
        p_better_than_control=np.full(shape, np.nan),
        diff_estimate=np.full(shape, np.nan),
        diff_lower=np.full(shape, np.nan),
        diff_upper=np.full(shape, np.nan),
        total_n=np.zeros(n_sims, dtype=np.int32),
        duration_months=np.zeros(n_sims),
        stop_reason=np.zeros(n_sims, dtype=np.int8),
        n_looks_done=np.zeros(n_sims, dtype=np.int16),
        selected_arm=np.full(n_sims, -1, dtype=np.int16),
        final_control=np.full(n_sims, -1, dtype=np.int16),
        allocation_probs=np.full((n_sims, spec.n_looks, n_arms), np.nan),
        analysis_n=np.full((n_sims, spec.n_looks), -1, dtype=np.int32),
        # The reference implements platforms whose arms all open at the start.
        open_n=np.zeros(shape, dtype=np.int32),
        open_months=np.zeros(shape),
        analysis_months=np.full((n_sims, spec.n_looks), np.nan),
    )


def records_from_traces(spec: TrialSpec, traces: list[TrialTrace]) -> TrialRecords:
    n_sims, n_arms = len(traces), spec.n_arms
    r = TrialRecords(**blank_record_fields(spec, n_sims))
    for s, t in enumerate(traces):
        for a in t.analyses:
            r.analysis_n[s, a.index] = a.enrolled
            r.analysis_months[s, a.index] = a.time
        for k in range(n_arms):
            a = t.analyses[t.last_analysis[k]]
            r.status[s, k] = t.status[k]
            r.decision_look[s, k] = t.decision_look[k]
            r.decision_n[s, k] = t.decision_n[k]
            r.capped[s, k] = t.capped[k]
            r.n_enrolled[s, k] = sum(1 for arm in t.arm if arm == k)
            r.n_observed[s, k] = a.n_observed[k]
            r.n_responses[s, k] = a.n_responses[k]
            mean_k, var_k = _beta_mean_var(a.alpha[k], a.beta[k])
            r.post_mean[s, k] = mean_k
            r.post_lower[s, k] = stats.beta.ppf(0.025, a.alpha[k], a.beta[k])
            r.post_upper[s, k] = stats.beta.ppf(0.975, a.alpha[k], a.beta[k])
            r.p_best[s, k] = a.p_best[k] if a.active[k] else 0.0
            # READING: the control (and designs without one) get NaN for P(better) and for
            # the difference; the control is the control at the start of that analysis.
            c = a.control
            if c is not None and k != c:
                r.p_better_than_control[s, k] = a.p_better_record[k]
                mean_c, var_c = _beta_mean_var(a.alpha[c], a.beta[c])
                diff = mean_k - mean_c
                half = Z95 * math.sqrt(var_k + var_c)
                r.diff_estimate[s, k] = diff
                r.diff_lower[s, k] = diff - half
                r.diff_upper[s, k] = diff + half
        r.total_n[s] = t.total_n
        r.duration_months[s] = t.duration
        r.stop_reason[s] = t.stop_reason
        r.n_looks_done[s] = len(t.analyses)
        r.final_control[s] = -1 if t.control is None else t.control
        r.selected_arm[s] = _selected(spec, t, r.post_mean[s])
        r.allocation_probs[s] = t.allocation
    return r


def _beta_mean_var(a: float, b: float) -> tuple[float, float]:
    return a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1.0))


def _selected(spec: TrialSpec, t: TrialTrace, post_mean) -> int:
    """The arm with status best; else a new final control; else the best effective arm."""
    for k in range(spec.n_arms):
        if t.status[k] == BEST:
            return k
    if spec.on_efficacy == "new_control" and t.control != spec.control_index:
        return int(t.control)
    effective = [k for k in range(spec.n_arms) if t.status[k] == EFFICACY]
    if not effective:
        return -1
    sign = 1.0 if spec.higher_is_better else -1.0
    # First arm on ties.
    return max(effective, key=lambda k: (sign * post_mean[k], -k))
