"""Deliberately simple, per-trial reference implementation of the time-to-event contract.

`simulate_survival_reference(spec, rng, n_sims)` has the signature and output
(`SurvivalTrialRecords`) of the fast engine `platsim.engine.trial.simulate_trials` for a
spec with ``endpoint_kind == "time_to_event"``. It follows docs/engine.md, section
"Time-to-event trials" (and, where that section says "everything above holds", the binary
part): it draws the chunk's random numbers exactly as the document's protocol says (child
streams, patient-major), then
simulates each trial in plain Python, one loop over the look schedule and loops over
patients, written to be read against the document line by line.

Endpoint-independent pieces are imported from the binary reference
(`tests/reference_engine.py`): entry times, allocation (fixed / Thompson / control rules /
clamps / burn-in), blocked counts and simple randomization. P(best) and P(HR < 1 − δ) come
from `platsim.engine.quadrature` (`gamma_p_lowest`, `gamma_p_ratio_below`) called on 1-row
arrays, so that both implementations take identical decisions.

Readings of the document where it leaves a choice are marked "READING:" below (numbered as
here):

1. `end: {events: D}` counts the events of every arm; `events_in: control` is a key of the
   look schedule and restricts only the event-driven interim looks.
2. If the D-th event of `end: {events: D}` never comes and there is no
   `follow_up_months`, the final analysis is at the later of the last observable event and
   the last entry (as the document says), and at the last entry if no event is observable.
3. The patients "that can still enrol" are patients 0 … enrolment_end − 1 (enrolled ones
   with their arms, the others with their tentative arms), whether or not they will have
   entered by the time of the event; an "observable event" is an event time T < ∞ with
   T ≤ D (a cured patient without dropout, T = D = ∞, has none).
4. The final analysis enrols, like an interim look, the patients with entry ≤ τ, capped at
   the end of enrolment; `total_n` is that number.
5. "T ≤ min(D, t − entry)" is evaluated as T ≤ D and entry + T ≤ t (the calendar scale on
   which event-driven look times entry + T are computed), so that the D-th event is seen at
   its own look although (entry + T) − entry can round below T; an event's follow-up is T,
   otherwise min(D, t − entry). An event at exactly a cut point belongs to the later piece.
6. Records keep P(better) with the efficacy margin when there is an efficacy rule, else
   with the futility margin, else with margin 0 (as the binary reference).
7. `n_enrolled` and `n_observed` count patients actually randomized (a tentative
   assignment of a patient who never enrols is not a randomization).
8. The allocation at the start uses P(best) under the prior (all arms active).
9. Not a choice but worth knowing: τ = last entry + `follow_up_months` is used literally,
   also when a month- or event-driven look at which every arm got capped ended enrolment
   later than that; the final analysis then comes before that look (fewer events).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from platsim.engine.quadrature import gamma_p_lowest, gamma_p_ratio_below
from platsim.engine.records import SurvivalTrialRecords
from platsim.engine.spec import (
    BEST,
    EFFICACY,
    NONE,
    STOP_MAX_PATIENTS,
    TrialSpec,
)

try:  # imported as tests.reference_survival (pytest) or reference_survival (tests/ on path)
    from tests.reference_engine import (
        allocation_probs,
        apply_decision_rules,
        blank_record_fields,
        block_counts,
        entry_times,
        simple_arm,
    )
except ImportError:  # pragma: no cover
    from reference_engine import (
        allocation_probs,
        apply_decision_rules,
        blank_record_fields,
        block_counts,
        entry_times,
        simple_arm,
    )

LN2 = math.log(2.0)


# ---------------------------------------------------------------------------------------
# Posterior probabilities (one trial: plain vectors of length n_arms)
# ---------------------------------------------------------------------------------------


def p_lowest(shape, rate, active) -> list[float]:
    """P(arm's hazard is the lowest among the active arms) — `gamma_p_lowest` on 1 row."""
    out = gamma_p_lowest(
        np.asarray(shape, dtype=float)[None, :],
        np.asarray(rate, dtype=float)[None, :],
        np.asarray(active, dtype=bool)[None, :],
    )
    return [float(x) for x in np.asarray(out)[0]]


def p_hr_below(shape, rate, control: int, margin: float) -> list[float]:
    """P(λ_k / λ_control < 1 − margin) for every arm k — `gamma_p_ratio_below` on 1 row."""
    shape = np.asarray(shape, dtype=float)
    rate = np.asarray(rate, dtype=float)
    out = gamma_p_ratio_below(
        shape[None, :],
        rate[None, :],
        np.array([[shape[control]]]),
        np.array([[rate[control]]]),
        1.0 - margin,
    )
    return [float(x) for x in np.asarray(out)[0]]


# ---------------------------------------------------------------------------------------
# One trial
# ---------------------------------------------------------------------------------------


@dataclass
class SurvivalAnalysis:
    """One analysis (interim look or final) of one trial, as computed at its start."""

    index: int
    final: bool
    time: float
    enrolled: int
    n_randomized: list[int]  # per arm, patients randomized by this analysis
    events: list[list[int]]  # [arm][piece]
    exposure: list[list[float]]  # [arm][piece], patient-months
    shape: list[float]  # Gamma posterior of the decision piece
    rate: list[float]
    active: list[bool]  # at the start of the analysis
    control: int | None  # at the start of the analysis
    p_best: list[float]
    p_better_efficacy: list[float]  # NaN where not an active experimental arm
    p_better_futility: list[float]
    p_better_record: list[float]


@dataclass
class SurvivalTrace:
    """Everything one simulated time-to-event trial did."""

    entry: list[float]
    arm: list[int]  # arm of each randomized patient, -1 if never randomized
    event_time: list[float]  # months after entry on the patient's arm (inf: never)
    dropout_time: list[float]
    analyses: list[SurvivalAnalysis] = field(default_factory=list)
    allocation: np.ndarray | None = None  # (n_looks, n_arms), NaN rows not computed
    skipped_looks: list[int] = field(default_factory=list)  # schedule positions not done
    status: list[int] = field(default_factory=list)
    decision_look: list[int] = field(default_factory=list)
    decision_n: list[int] = field(default_factory=list)
    capped: list[bool] = field(default_factory=list)
    last_analysis: list[int] = field(default_factory=list)
    control: int | None = None
    stop_reason: int = STOP_MAX_PATIENTS
    total_n: int = 0
    duration: float = 0.0


def interim_schedule(spec: TrialSpec) -> list:
    """The interim looks in schedule order: counts (patients / events) or months."""
    if spec.look_kind == "months":
        return [float(m) for m in spec.look_months]
    return [int(c) for c in spec.look_counts]


def simulate_survival_trial(
    spec: TrialSpec, gaps, event_e, dropout_e, allocation_u, tie_u=None
) -> SurvivalTrace:
    """Simulate one time-to-event trial from its rows of the chunk's random numbers."""
    n_max = spec.max_patients
    n_arms = spec.n_arms
    has_control = spec.control_index is not None
    cuts = [float(c) for c in spec.cut_points_months]
    edges = [0.0, *cuts, math.inf]
    n_pieces = len(cuts) + 1
    piece = spec.decision_piece % n_pieces  # negative = from the last piece

    entry = entry_times(gaps, spec.accrual_rate_per_month, spec.ramp_up_months)

    # Potential outcomes of every patient under every arm (common random numbers): event
    # time T = H_arm⁻¹(E), dropout time D = E_d / r_arm (∞ when r = 0).
    potential_event = [
        [float(x) for x in np.asarray(truth.inverse(np.asarray(event_e, dtype=float)))]
        for truth in spec.survival_truths
    ]
    rates = [
        float(spec.dropout_per_month[k]) if len(spec.dropout_per_month) else 0.0
        for k in range(n_arms)
    ]
    potential_dropout = [
        [float(e) / rates[k] if rates[k] > 0 else math.inf for e in dropout_e]
        for k in range(n_arms)
    ]

    trace = SurvivalTrace(
        entry=entry,
        arm=[-1] * n_max,
        event_time=[math.inf] * n_max,
        dropout_time=[math.inf] * n_max,
    )
    trace.allocation = np.full((spec.n_looks, n_arms), np.nan)
    trace.status = [NONE] * n_arms
    trace.decision_look = [-1] * n_arms
    trace.decision_n = [-1] * n_arms
    trace.capped = [False] * n_arms
    trace.last_analysis = [-1] * n_arms
    trace.control = spec.control_index

    active = [True] * n_arms
    enrolled = 0  # patients 0 … enrolled − 1 are randomized
    enrolment_end = n_max  # smaller once every remaining arm is capped
    needs_tentative = spec.look_kind == "events" or spec.end_events is not None
    tentative = [-1] * n_max  # tentative arms of the patients not yet enrolled

    def enrolling() -> list[bool]:
        return [active[k] and not trace.capped[k] for k in range(n_arms)]

    def arm_of(i: int) -> int:
        """Arm of patient i: its randomized arm, else its tentative one."""
        return trace.arm[i] if i < enrolled else tentative[i]

    def assign_tentatively(pi) -> None:
        """Patients not yet enrolled (who can still enrol) get arms under the allocation
        in force now (simple randomization)."""
        for i in range(enrolled, enrolment_end):
            tentative[i] = simple_arm(pi, float(allocation_u[i]))

    def observable_event_times(control_only: bool) -> list[float]:
        """Calendar times of the observable events of the patients that can still enrol,
        sorted."""
        # READING: (3) patients 0 … enrolment_end − 1, with their randomized or tentative
        # arms; an observable event has T < ∞ and T ≤ D.
        times = []
        for i in range(enrolment_end):
            k = arm_of(i)
            if control_only and k != trace.control:
                continue
            t_event = potential_event[k][i]
            # An observable event: one that happens (T < ∞) before dropout (T ≤ D).
            if math.isfinite(t_event) and t_event <= potential_dropout[k][i]:
                times.append(entry[i] + t_event)
        return sorted(times)

    def time_of_event(count: int, control_only: bool) -> float:
        times = observable_event_times(control_only)
        return times[count - 1] if count <= len(times) else math.inf

    def final_time() -> float:
        """τ, as computed now (docs/engine.md, "Looks and the final analysis")."""
        last_entry = entry[enrolment_end - 1]
        if spec.end_months is not None:
            tau = float(spec.end_months)
        elif spec.end_events is not None:
            # READING: (1) every arm's events count towards the end, whatever events_in says.
            tau = time_of_event(spec.end_events, control_only=False)
            if math.isinf(tau):
                if spec.follow_up_months is not None:
                    tau = last_entry + spec.follow_up_months
                else:
                    # READING: (2) the later of the last observable event and the last
                    # entry; the last entry if no event is observable.
                    times = observable_event_times(control_only=False)
                    tau = max(times[-1], last_entry) if times else last_entry
        else:
            # (9) literally, also when capping ended enrolment at a look later than τ.
            tau = last_entry + spec.follow_up_months
        if spec.max_duration_months is not None:
            tau = min(tau, float(spec.max_duration_months))
        return tau

    def interim_time(j: int, value) -> float:
        if spec.look_kind == "months":
            return float(value)
        if spec.look_kind == "patients":
            # At the entry of patient c − 1, who must be able to enrol.
            return entry[value - 1] if value <= enrolment_end else math.inf
        control_only = spec.events_in_control and has_control
        return time_of_event(value, control_only)

    def enrol(stop: int, block: int) -> None:
        """Randomize patients enrolled … stop − 1 with allocation row `block`."""
        nonlocal enrolled
        pi = trace.allocation[block]
        patients = list(range(enrolled, stop))
        if patients:
            assert np.nansum(pi) > 0, "patients to randomize but no enrolling arm"
            if spec.randomization == "simple":
                for i in patients:
                    k = simple_arm(pi, float(allocation_u[i]))
                    if needs_tentative:
                        assert k == tentative[i]  # they keep their tentative assignment
                    trace.arm[i] = k
            else:
                counts = block_counts(len(patients), pi, tie_u[block])
                in_order = sorted(patients, key=lambda i: float(allocation_u[i]))
                arms_in_order = [k for k in range(n_arms) for _ in range(counts[k])]
                for i, k in zip(in_order, arms_in_order, strict=True):
                    trace.arm[i] = k
            for i in patients:
                k = trace.arm[i]
                trace.event_time[i] = potential_event[k][i]
                trace.dropout_time[i] = potential_dropout[k][i]
        enrolled = stop

    def analyse(index: int, time: float, final: bool) -> SurvivalAnalysis:
        n_rand = [0] * n_arms
        events = [[0] * n_pieces for _ in range(n_arms)]
        exposure = [[0.0] * n_pieces for _ in range(n_arms)]
        for i in range(enrolled):
            k = trace.arm[i]
            n_rand[k] += 1
            window = time - entry[i]
            assert window >= 0.0
            t_event, t_drop = trace.event_time[i], trace.dropout_time[i]
            # READING: (5) T ≤ min(D, t − entry) on the calendar scale (rounding).
            had_event = t_event <= t_drop and entry[i] + t_event <= time
            followed = t_event if had_event else min(t_drop, window)
            for p in range(n_pieces):
                # READING: (5) pieces [c_p, c_{p+1}) of months since entry.
                exposure[k][p] += min(max(followed - edges[p], 0.0), edges[p + 1] - edges[p])
                if had_event and edges[p] <= followed < edges[p + 1]:
                    events[k][p] += 1
        shape = [spec.prior_shape + events[k][piece] for k in range(n_arms)]
        rate = [spec.prior_rate + exposure[k][piece] for k in range(n_arms)]
        control = trace.control
        pb = p_lowest(shape, rate, active)
        nan = [math.nan] * n_arms
        if spec.efficacy_threshold is not None:
            record_margin = spec.efficacy_margin
        elif spec.futility_threshold is not None:
            record_margin = spec.futility_margin
        else:
            record_margin = 0.0  # READING: (6) as the binary reference
        better = {}
        for margin in {spec.efficacy_margin, spec.futility_margin, record_margin}:
            values = list(nan)
            if control is not None:
                row = p_hr_below(shape, rate, control, margin)
                for k in range(n_arms):
                    if active[k] and k != control:
                        values[k] = row[k]
            better[margin] = values
        return SurvivalAnalysis(
            index=index,
            final=final,
            time=time,
            enrolled=enrolled,
            n_randomized=n_rand,
            events=events,
            exposure=exposure,
            shape=shape,
            rate=rate,
            active=list(active),
            control=control,
            p_best=pb,
            p_better_efficacy=better[spec.efficacy_margin],
            p_better_futility=better[spec.futility_margin],
            p_better_record=better[record_margin],
        )

    def decide(a: SurvivalAnalysis) -> int | None:
        """The decision rules of docs/engine.md (binary part, unchanged for survival)."""
        return apply_decision_rules(spec, a, trace, active, lambda k: a.n_randomized[k])

    def finish(a: SurvivalAnalysis, reason: int) -> SurvivalTrace:
        trace.stop_reason = reason
        trace.total_n = a.enrolled
        trace.duration = a.time
        return trace

    # READING: (8) the allocation at the start uses P(best) under the prior.
    prior_p_best = p_lowest([spec.prior_shape] * n_arms, [spec.prior_rate] * n_arms, active)
    trace.allocation[0] = allocation_probs(spec, enrolling(), trace.control, prior_p_best, 0)
    block = 0
    index = 0
    for j, value in enumerate(interim_schedule(spec)):
        if needs_tentative:
            assign_tentatively(trace.allocation[block])
        tau = final_time()
        time = interim_time(j, value)
        # A look happens only if its time is finite and before τ (as computed now).
        if not (math.isfinite(time) and time < tau):
            trace.skipped_looks.append(j)
            continue
        if spec.look_kind == "patients":
            look_enrolled = value
        else:
            look_enrolled = min(sum(1 for t in entry if t <= time), enrolment_end)
        assert look_enrolled >= enrolled
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
    # Final analysis at τ: the patients with entry ≤ τ, capped at the end of enrolment.
    if needs_tentative:
        assign_tentatively(trace.allocation[block])
    tau = final_time()
    # READING: (4) like an interim look: entry ≤ τ, capped at the end of enrolment.
    final_enrolled = min(sum(1 for t in entry if t <= tau), enrolment_end)
    final_enrolled = max(final_enrolled, enrolled)
    enrol(final_enrolled, block)
    a = analyse(index, tau, final=True)
    reason = decide(a)
    assert reason is not None
    return finish(a, reason)


# ---------------------------------------------------------------------------------------
# A chunk of trials
# ---------------------------------------------------------------------------------------


def simulate_survival_reference(
    spec: TrialSpec, rng: np.random.Generator, n_sims: int
) -> SurvivalTrialRecords:
    """Simulate `n_sims` time-to-event trials of `spec`, one at a time."""
    traces = list(iter_survival_traces(spec, rng, n_sims))
    return survival_records(spec, traces)


def draw_chunk(spec: TrialSpec, rng: np.random.Generator, n_sims: int):
    """The chunk's random numbers, as docs/engine.md ("Random numbers") says.

    `rng` only spawns five child generators, in the order entry_gaps, outcome, allocation,
    dropout, ties; per-patient arrays are drawn patient-major (`gen.f((N, n_sims)).T`):
    `gaps` standard exponentials from entry_gaps, `event_e` standard exponentials from
    outcome, `dropout_e` standard exponentials from dropout, `allocation_u` uniforms from
    allocation, and for blocked randomization `tie_u = ties.random((n_sims, n_looks,
    n_arms))`.
    """
    n_max = spec.max_patients
    streams = dict(
        zip(("entry_gaps", "outcome", "allocation", "dropout", "ties"), rng.spawn(5), strict=True)
    )
    gaps = streams["entry_gaps"].standard_exponential((n_max, n_sims)).T
    event_e = streams["outcome"].standard_exponential((n_max, n_sims)).T
    dropout_e = streams["dropout"].standard_exponential((n_max, n_sims)).T
    allocation_u = streams["allocation"].random((n_max, n_sims)).T
    tie_u = None
    if spec.randomization == "blocked":
        tie_u = streams["ties"].random((n_sims, spec.n_looks, spec.n_arms))
    return gaps, event_e, dropout_e, allocation_u, tie_u


def iter_survival_traces(spec: TrialSpec, rng: np.random.Generator, n_sims: int):
    """Draw the chunk's random numbers (protocol order) and simulate each trial."""
    assert spec.endpoint_kind == "time_to_event"
    # The contract of docs/engine.md: every arm open from the start, no time trend.
    assert not getattr(spec, "staggered", False), "staggered arms are not in this reference"
    assert not getattr(spec, "has_time_trend", False), "time trends are not in this reference"
    gaps, event_e, dropout_e, allocation_u, tie_u = draw_chunk(spec, rng, n_sims)
    for s in range(n_sims):
        yield simulate_survival_trial(
            spec,
            gaps[s],
            event_e[s],
            dropout_e[s],
            allocation_u[s],
            None if tie_u is None else tie_u[s],
        )


def survival_records(spec: TrialSpec, traces: list[SurvivalTrace]) -> SurvivalTrialRecords:
    n_sims, n_arms = len(traces), spec.n_arms
    r = SurvivalTrialRecords(
        **blank_record_fields(spec, n_sims),
        exposure_months=np.zeros((n_sims, n_arms)),
        median_survival_months=np.full((n_sims, n_arms), np.nan),
    )
    for s, t in enumerate(traces):
        _fill_trial(spec, r, s, t)
    return r


def _fill_trial(spec: TrialSpec, r, s: int, t: SurvivalTrace) -> None:
    """Write trial s's records (row s of every array of r)."""
    n_arms = spec.n_arms
    with np.errstate(over="ignore"):  # HR upper bounds overflow to ∞ with few events
        for a in t.analyses:
            r.analysis_n[s, a.index] = a.enrolled
            r.analysis_months[s, a.index] = a.time
        for k in range(n_arms):
            a = t.analyses[t.last_analysis[k]]
            r.status[s, k] = t.status[k]
            r.decision_look[s, k] = t.decision_look[k]
            r.decision_n[s, k] = t.decision_n[k]
            r.capped[s, k] = t.capped[k]
            # READING: (7) randomized patients only, not tentative assignments.
            r.n_enrolled[s, k] = sum(1 for i in range(t.total_n) if t.arm[i] == k)
            r.n_observed[s, k] = a.n_randomized[k]
            r.n_responses[s, k] = sum(a.events[k])
            shape, rate = a.shape[k], a.rate[k]
            r.post_mean[s, k] = shape / rate
            r.post_lower[s, k] = stats.gamma.ppf(0.025, shape) / rate
            r.post_upper[s, k] = stats.gamma.ppf(0.975, shape) / rate
            r.p_best[s, k] = a.p_best[k] if a.active[k] else 0.0
            c = a.control
            if c is not None and k != c:
                r.p_better_than_control[s, k] = a.p_better_record[k]
                # λ_k / λ_c = (rate_c · shape_k) / (rate_k · shape_c) · F(2 shape_k, 2 shape_c)
                scale = (a.rate[c] * shape) / (rate * a.shape[c])
                dfn, dfd = 2.0 * shape, 2.0 * a.shape[c]
                r.diff_estimate[s, k] = scale * stats.f.ppf(0.5, dfn, dfd)
                r.diff_lower[s, k] = scale * stats.f.ppf(0.025, dfn, dfd)
                r.diff_upper[s, k] = scale * stats.f.ppf(0.975, dfn, dfd)
            total_exposure = sum(a.exposure[k])
            r.exposure_months[s, k] = total_exposure
            # Exponential model on all pieces: Gamma(a0 + events, b0 + exposure).
            median_hazard = stats.gamma.ppf(0.5, spec.prior_shape + sum(a.events[k])) / (
                spec.prior_rate + total_exposure
            )
            r.median_survival_months[s, k] = LN2 / median_hazard
        r.total_n[s] = t.total_n
        r.duration_months[s] = t.duration
        r.stop_reason[s] = t.stop_reason
        r.n_looks_done[s] = len(t.analyses)
        r.final_control[s] = -1 if t.control is None else t.control
        r.selected_arm[s] = _selected(spec, t, r.post_mean[s])
        r.allocation_probs[s] = t.allocation


def _selected(spec: TrialSpec, t: SurvivalTrace, post_mean) -> int:
    """The arm with status best; else a new final control; else, among the arms with status
    efficacy, the lowest posterior mean hazard (first arm on ties)."""
    for k in range(spec.n_arms):
        if t.status[k] == BEST:
            return k
    if spec.on_efficacy == "new_control" and t.control != spec.control_index:
        return int(t.control)
    effective = [k for k in range(spec.n_arms) if t.status[k] == EFFICACY]
    if not effective:
        return -1
    return min(effective, key=lambda k: (post_mean[k], k))
