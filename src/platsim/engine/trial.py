"""The look loop: simulate a chunk of trials of one design under one truth.

Vectorized over trials: every array is shaped ``(n_sims, ...)`` and the only Python loops
are over analyses (looks) and over the handful of arms inside the quadrature. Trials that
have stopped are masked out of later looks. The behaviour is specified in
``docs/engine.md``; ``tests/reference_engine.py`` implements the same contract one trial at
a time and the tests hold the two to identical records.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from platsim.engine import spec as codes
from platsim.engine.accrual import entry_times_months
from platsim.engine.allocation import allocation_probabilities
from platsim.engine.decisions import arms_to_open, decide
from platsim.engine.draws import chunk_streams, patient_exponentials, patient_uniforms
from platsim.engine.periods import combine, log_odds_contrast, patient_periods, period_counts
from platsim.engine.quadrature import beta_p_best, beta_p_better
from platsim.engine.records import TrialRecords, records_class
from platsim.engine.spec import TrialSpec

_Z95 = 1.959963984540054


def simulate_trials(spec: TrialSpec, rng: np.random.Generator, n_sims: int) -> TrialRecords:
    """Simulate `n_sims` independent trials of `spec`.

    Parameters
    ----------
    spec : the design under one truth.
    rng : the chunk's generator; draws follow the protocol in docs/engine.md, so the same
        generator state gives the same trials in any implementation.
    n_sims : number of trials.

    Returns
    -------
    TrialRecords with per trial × arm arrays shaped (n_sims, n_arms).
    """
    if spec.is_survival:
        from platsim.engine.survival_trial import SurvivalChunk

        return SurvivalChunk(spec, rng, n_sims).run()
    return Chunk(spec, rng, n_sims).run()


class Chunk:
    """State of a chunk of trials across analyses (internal)."""

    def __init__(self, spec: TrialSpec, rng: np.random.Generator, n_sims: int) -> None:
        self.spec = spec
        n_patients, n_arms = spec.max_patients, spec.n_arms
        self.n_sims, self.n_arms, self.n_patients = n_sims, n_arms, n_patients
        gaps = self._draw(rng)
        np.cumsum(gaps, axis=1, out=gaps)
        self.entry = entry_times_months(gaps, spec.accrual_rate_per_month, spec.ramp_up_months)
        if spec.entry_delay_months:
            self.entry += spec.entry_delay_months
        # Each patient's biomarker subgroup (index into spec.subgroup_prevalence).
        self.group = None
        if spec.has_subgroups:
            u = patient_uniforms(self._streams["subgroup"], n_sims, n_patients)
            cumulative = np.cumsum(spec.subgroup_prevalence)
            cumulative /= cumulative[-1]
            groups = np.searchsorted(cumulative, u, side="right")
            self.group = np.minimum(groups, len(cumulative) - 1).astype(np.int8)
        self.arm = np.full((n_sims, n_patients), -1, dtype=np.int8)

        shape = (n_sims, n_arms)
        # Arms enter the analysis when they open (all at the start unless staggered).
        self.active = np.zeros(shape, dtype=bool)
        self.opened = np.zeros(shape, dtype=bool)
        self.open_n = np.full(shape, -1, dtype=np.int32)
        self.open_months = np.full(shape, np.nan)
        self.capped = np.zeros(shape, dtype=bool)
        self.status = np.zeros(shape, dtype=np.int8)
        self.decision_look = np.full(shape, -1, dtype=np.int16)
        self.decision_n = np.full(shape, -1, dtype=np.int32)
        self.n_enrolled = np.zeros(shape, dtype=np.int32)
        has_control = spec.control_index is not None
        self.control = np.full(n_sims, spec.control_index if has_control else -1, dtype=np.int16)
        # Snapshot at each arm's last analysis (for the records).
        self.snap_p_best = np.zeros(shape)
        self.snap_p_better = np.full(shape, np.nan)
        self.snap_had_control = np.zeros(shape, dtype=bool)
        self.snap_was_control = np.zeros(shape, dtype=bool)

        self.enrolled = np.zeros(n_sims, dtype=np.int64)
        self.running = np.ones(n_sims, dtype=bool)
        # Enrolment ends at N, or earlier when every remaining arm is capped.
        self.enrolment_end = np.full(n_sims, n_patients, dtype=np.int64)
        self.duration = np.zeros(n_sims)
        self.stop_reason = np.zeros(n_sims, dtype=np.int8)
        self.n_looks_done = np.zeros(n_sims, dtype=np.int16)
        self.allocation_history = np.full((n_sims, spec.n_looks, n_arms), np.nan)
        self.analysis_n = np.full((n_sims, spec.n_looks), -1, dtype=np.int32)
        self.analysis_months = np.full((n_sims, spec.n_looks), np.nan)
        self.probs = np.zeros(shape)
        self._init_endpoint_state()

    # ------------------------------------------------------------------ endpoint hooks
    def _draw(self, rng: np.random.Generator) -> np.ndarray:
        """Draw the chunk's random numbers (protocol order); return the entry gaps."""
        spec, n, n_patients = self.spec, self.n_sims, self.n_patients
        streams = chunk_streams(rng)
        self._streams = streams
        gaps = patient_exponentials(streams["entry_gaps"], n, n_patients)
        self._draw_outcomes(streams)
        self.allocation_u = patient_uniforms(streams["allocation"], n, n_patients)
        self.tie_u = (
            streams["ties"].random((n, spec.n_looks, spec.n_arms))
            if spec.randomization == "blocked"
            else None
        )
        return gaps

    def _draw_outcomes(self, streams: dict[str, np.random.Generator]) -> None:
        """The endpoint's per-patient draws (binary: one uniform per patient)."""
        self.outcome_u = patient_uniforms(streams["outcome"], self.n_sims, self.n_patients)

    def _init_endpoint_state(self) -> None:
        shape = (self.n_sims, self.n_arms)
        self.observe_time = self.entry + self.spec.outcome_lag_months
        self.responded = np.zeros((self.n_sims, self.n_patients), dtype=bool)
        self.observed = np.zeros(self.n_sims, dtype=np.int64)
        self.n_observed = np.zeros(shape, dtype=np.int32)
        self.n_responses = np.zeros(shape, dtype=np.int32)
        self.snap_observed = np.zeros(shape, dtype=np.int32)
        self.snap_responses = np.zeros(shape, dtype=np.int32)
        self.snap_control_observed = np.zeros(shape, dtype=np.int32)
        self.snap_control_responses = np.zeros(shape, dtype=np.int32)

    # ------------------------------------------------------------------ the loop
    def run(self) -> TrialRecords:
        everyone = np.arange(self.n_sims)
        self._open_arms(everyone, np.zeros(self.n_sims))
        prior_p_best = self._p_best(everyone, self.active)
        self.probs = self._allocation(everyone, self.active, prior_p_best)
        self.allocation_history[:, 0] = self.probs
        for look in range(self.spec.n_looks):
            is_final = look == self.spec.n_looks - 1
            planned = self._plan_look(look, is_final)
            if planned is None:
                continue
            rows, look_time, target_enrolled, target_observed = planned
            # Analyses are numbered in the order performed (skipped looks do not count).
            analysis = self.n_looks_done[rows].astype(np.int64)
            self._enrol(rows, target_enrolled, analysis)
            self._observe(rows, target_observed, look_time)
            self._analyse(rows, analysis, look_time, is_final)
        return self._records()

    def _plan_look(self, look: int, is_final: bool):
        """Rows that have this look, its calendar time, enrolment and observed targets."""
        # A look needs its count below the end of enrolment (patient-based looks) or
        # of the outcomes to come (outcome-based looks); else it does not happen.
        eligible = self.running.copy()
        if not is_final:
            eligible &= self.spec.look_counts[look] < self.enrolment_end
        rows = np.flatnonzero(eligible)
        if rows.size == 0:
            return None
        return (rows, *self._look_targets(rows, look, is_final))

    def _look_targets(self, rows: np.ndarray, look: int, is_final: bool):
        spec = self.spec
        if is_final:
            enrolled = self.enrolment_end[rows]
            look_time = self.observe_time[rows, enrolled - 1]
            return look_time, enrolled, enrolled
        count = int(spec.look_counts[look])
        if spec.looks_count_outcomes:
            look_time = self.observe_time[rows, count - 1]
            enrolled = count_sorted_at_most(self.entry[rows], look_time)
            enrolled = np.minimum(
                np.maximum(enrolled, self.enrolled[rows]), self.enrolment_end[rows]
            )
            return look_time, enrolled, np.full(rows.size, count)
        look_time = self.entry[rows, count - 1]
        observed = count_sorted_at_most(self.observe_time[rows, :count], look_time)
        return look_time, np.full(rows.size, count), observed

    # ------------------------------------------------------------------ patients
    def _enrol(self, rows: np.ndarray, target: np.ndarray, block: np.ndarray) -> None:
        start = self.enrolled[rows]
        window = column_window(start, target)
        if window is None:
            return
        lo, hi, in_block = window
        probs = self.probs[rows]
        if self.spec.randomization == "blocked":
            assigned = self._blocked_arms(rows, probs, in_block, target - start, block, lo, hi)
        else:
            assigned = self._simple_arms(rows, lo, hi)
        window_arm = self.arm[rows, lo:hi]
        window_arm[in_block] = assigned[in_block]
        self.arm[rows, lo:hi] = window_arm
        self._set_outcomes(rows, lo, hi, assigned, in_block)
        self.n_enrolled[rows] += _count_by_arm(assigned, in_block, self.n_arms)
        self.enrolled[rows] = target

    def _set_outcomes(self, rows, lo: int, hi: int, assigned, in_block) -> None:
        """Outcomes of the newly randomized patients (columns lo:hi, where in_block)."""
        if self.group is not None:
            p = self.spec.true_p_by_group[assigned, self.group[rows, lo:hi]]
        else:
            p = self.spec.true_p[assigned]
        if self.spec.has_time_trend:
            shifted = special.logit(p) + self.spec.trend_shift(self.entry[rows, lo:hi])
            p = special.expit(shifted)
        responded = self.outcome_u[rows, lo:hi] < p
        window_resp = self.responded[rows, lo:hi]
        window_resp[in_block] = responded[in_block]
        self.responded[rows, lo:hi] = window_resp

    def _simple_arms(self, rows: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """Arms of patients lo:hi by simple randomization under the current allocation."""
        probs = self.probs[rows]
        u = self.allocation_u[rows, lo:hi]
        if self.group is not None:
            # Each patient only among the open arms eligible for their subgroup.
            eligible = self.spec.eligible.T[self.group[rows, lo:hi]]
            per_patient = probs[:, None, :] * eligible
            total = per_patient.sum(axis=2, keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                per_patient = np.where(total > 0, per_patient / total, 0.0)
            cumulative = np.cumsum(per_patient, axis=2)
            assigned = (cumulative <= u[:, :, None]).sum(axis=2)
            last_positive = self.n_arms - 1 - np.argmax(per_patient[:, :, ::-1] > 0, axis=2)
            return np.minimum(assigned, last_positive)
        cumulative = np.cumsum(probs, axis=1)
        # Count the cumulative probabilities at or below u, one arm at a time (a reduction
        # over a short last axis is several times slower).
        assigned = np.zeros(u.shape, dtype=np.int64)
        for k in range(self.n_arms - 1):
            assigned += cumulative[:, k : k + 1] <= u
        last_positive = self.n_arms - 1 - np.argmax(probs[:, ::-1] > 0, axis=1)
        return np.minimum(assigned, last_positive[:, None])

    def _blocked_arms(self, rows, probs, in_block, block_size, block, lo, hi) -> np.ndarray:
        assert self.tie_u is not None
        expected = probs * block_size[:, None]
        counts = np.floor(expected + 1e-9)
        remainder = np.where(probs > 0, expected - counts, -1.0)
        n_extra = (block_size - counts.sum(axis=1)).astype(np.int64)
        # Rank arms by remainder, ties by the larger tie draw.
        tie = self.tie_u[rows, block]
        keys = np.lexsort((-tie, -remainder), axis=-1)
        extra_rank = np.empty_like(keys)
        np.put_along_axis(extra_rank, keys, np.arange(self.n_arms)[None, :], axis=1)
        counts = counts + (extra_rank < n_extra[:, None])
        cumulative = np.cumsum(counts, axis=1)
        u = np.where(in_block, self.allocation_u[rows, lo:hi], np.inf)
        rank = np.argsort(np.argsort(u, axis=1, kind="stable"), axis=1, kind="stable")
        return (cumulative[:, None, :] <= rank[:, :, None]).sum(axis=2).clip(max=self.n_arms - 1)

    def _observe(self, rows: np.ndarray, target: np.ndarray, look_time: np.ndarray) -> None:
        window = column_window(self.observed[rows], target)
        if window is not None:
            lo, hi, newly = window
            # One count over (arm, responded) cells: column 2k + r.
            cells = self.arm[rows, lo:hi].astype(np.int16) * 2 + self.responded[rows, lo:hi]
            counts = _count_by_arm(cells, newly, 2 * self.n_arms).reshape(rows.size, -1, 2)
            self.n_observed[rows] += counts.sum(axis=2, dtype=np.int32)
            self.n_responses[rows] += counts[..., 1]
        self.observed[rows] = target

    # ------------------------------------------------------------------ analysis
    def _posterior(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        alpha = self.spec.prior_alpha + self.n_responses[rows]
        beta = self.spec.prior_beta + (self.n_observed[rows] - self.n_responses[rows])
        return alpha, beta

    def _p_better(self, rows: np.ndarray, margin: float, controls=None) -> np.ndarray:
        """P(better than control by `margin`) of the active experimental arms (NaN for the
        control, arms out of the analysis, and designs without a control); `controls` is
        `_controls(rows)` when the caller has it already."""
        spec = self.spec
        if spec.period_adjusted:
            return self._p_better_by_period(rows)
        alpha, beta = self._posterior(rows)
        n_c, y_c = self._controls(rows) if controls is None else controls
        wanted = self._comparable(rows)
        p = np.full(alpha.shape, np.nan)
        if wanted.any():
            # Only the pairs that matter go through the quadrature (arms that left the
            # analysis and the control's own column would be wasted work).
            p[wanted] = beta_p_better(
                alpha[wanted],
                beta[wanted],
                spec.prior_alpha + y_c[wanted],
                spec.prior_beta + (n_c - y_c)[wanted],
                margin,
                spec.higher_is_better,
            )
        return p

    def _periods(self, rows: np.ndarray) -> np.ndarray:
        """Period of every patient (bounded by arm entries and exits), (rows, patients)."""
        close = np.where(self.decision_n[rows] >= 0, self.decision_n[rows], -1)
        return patient_periods(self.open_n[rows], close, self.n_patients)

    def _comparable(self, rows: np.ndarray) -> np.ndarray:
        control = self.control[rows]
        return (
            self.active[rows]
            & (control[:, None] >= 0)
            & (np.arange(self.n_arms)[None, :] != control[:, None])
        )

    def _p_better_by_period(self, rows: np.ndarray) -> np.ndarray:
        """Period-adjusted P(better than control): log-odds ratios per period, combined."""
        period = self._periods(rows)
        cols = np.arange(self.n_patients)[None, :]
        seen = cols < self.observed[rows][:, None]
        arm = self.arm[rows]
        n = period_counts(period, arm, seen, np.ones(arm.shape), self.n_arms)
        y = period_counts(period, arm, seen, self.responded[rows].astype(float), self.n_arms)
        idx = np.arange(rows.size)
        control = np.maximum(self.control[rows], 0)
        n_c, y_c = n[idx, control][:, None, :], y[idx, control][:, None, :]
        contrast, variance = log_odds_contrast(y, n, y_c, n_c)
        p = combine(contrast, variance, (n > 0) & (n_c > 0))
        if not self.spec.higher_is_better:
            p = 1.0 - p
        return np.where(self._comparable(rows), p, np.nan)

    def _decision_probabilities(self, rows: np.ndarray, active: np.ndarray, controls):
        """P(best), P(better than control) with the efficacy and the futility margins, and the
        P(better) kept in the records (efficacy margin, else futility, else 0)."""
        spec = self.spec
        has_control = spec.control_index is not None
        p_best = self._p_best(rows, active)
        p_better_eff = p_better_fut = None
        if has_control:
            if spec.efficacy_threshold is not None:
                p_better_eff = self._p_better(rows, spec.efficacy_margin, controls)
            if spec.futility_threshold is not None:
                if p_better_eff is not None and spec.futility_margin == spec.efficacy_margin:
                    p_better_fut = p_better_eff
                else:
                    p_better_fut = self._p_better(rows, spec.futility_margin, controls)
        p_better_record = p_better_eff if p_better_eff is not None else p_better_fut
        if p_better_record is None and has_control:
            p_better_record = self._p_better(rows, 0.0, controls)
        return p_best, p_better_eff, p_better_fut, p_better_record

    def _p_best(self, rows: np.ndarray, active: np.ndarray) -> np.ndarray:
        alpha, beta = self._posterior(rows)
        return beta_p_best(alpha, beta, active, self.spec.higher_is_better)

    def _analyse(
        self, rows: np.ndarray, analysis: np.ndarray, look_time: np.ndarray, is_final: bool
    ) -> None:
        spec = self.spec
        active = self.active[rows]
        # What each arm is compared with, once per look (decisions and records).
        controls = self._controls(rows)
        p_best, p_better_eff, p_better_fut, p_better_record = self._decision_probabilities(
            rows, active, controls
        )
        self._snapshot(rows, active, p_best, p_better_record, controls)
        self.analysis_n[rows, analysis] = self.enrolled[rows]
        self.analysis_months[rows, analysis] = look_time
        outcome = decide(
            spec,
            active=active,
            control=self.control[rows],
            p_best=p_best,
            p_better_efficacy=p_better_eff,
            p_better_futility=p_better_fut,
            n_enrolled=self.n_enrolled[rows],
            is_final=is_final,
            waiting=(~self.opened[rows]).any(axis=1),
        )
        decided_now = outcome.new_status != codes.NONE
        status = self.status[rows]
        status[decided_now] = outcome.new_status[decided_now]
        self.status[rows] = status
        look_index = np.broadcast_to(analysis[:, None], active.shape)
        self.decision_look[rows] = np.where(decided_now, look_index, self.decision_look[rows])
        n_now = np.broadcast_to(self.enrolled[rows][:, None], active.shape)
        self.decision_n[rows] = np.where(decided_now, n_now, self.decision_n[rows])
        self.active[rows] = outcome.still_active
        self.control[rows] = outcome.control
        self.capped[rows] |= outcome.newly_capped
        stop, reason = outcome.stop, outcome.stop_reason
        stopped = rows[stop]
        self.running[stopped] = False
        self.stop_reason[stopped] = reason[stop]
        self.duration[stopped] = look_time[stop]
        self.n_looks_done[rows] = analysis + 1

        going = rows[~stop]
        if going.size and not is_final:
            p_best, next_block = p_best[~stop], analysis[~stop] + 1
            if self.spec.staggered and self._open_arms(going, look_time[~stop]):
                p_best = self._p_best(going, self.active[going])
            enrolling = self.active[going] & ~self.capped[going]
            closed = ~enrolling.any(axis=1)
            self.enrolment_end[going[closed]] = self.enrolled[going[closed]]
            probs = self._allocation(going, enrolling, p_best)
            self.probs[going] = probs
            self.allocation_history[going, next_block] = probs

    def _open_arms(self, rows: np.ndarray, time: np.ndarray) -> bool:
        """Open the arms whose opening condition is met, within max_active_arms (queue in
        arm order); the control opens at the start. Returns whether any arm opened."""
        open_now = arms_to_open(
            self.spec,
            opened=self.opened[rows],
            active=self.active[rows],
            control=self.control[rows],
            n_enrolled_total=self.enrolled[rows],
            month=time,
        )
        if not open_now.any():
            return False
        self.opened[rows] |= open_now
        self.active[rows] |= open_now
        self.open_n[rows] = np.where(open_now, self.enrolled[rows][:, None], self.open_n[rows])
        self.open_months[rows] = np.where(open_now, time[:, None], self.open_months[rows])
        return True

    def _controls(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Observed control patients and responses each arm is compared with, (rows, arms)
        (the survival chunk: the control's Gamma posterior instead).

        All controls (pooled), or with concurrent controls in a staggered platform only
        those randomized since the arm opened (while it was open: it is still analysed).
        """
        control = np.maximum(self.control[rows], 0)
        idx = np.arange(rows.size)
        observed, responses = self.n_observed[rows], self.n_responses[rows]
        pooled_n = np.broadcast_to(observed[idx, control][:, None], observed.shape)
        pooled_y = np.broadcast_to(responses[idx, control][:, None], observed.shape)
        concurrent = self.spec.concurrent_controls and self.spec.staggered
        if not concurrent and self.group is None:
            return pooled_n, pooled_y
        # Only the patients observed by now (in any of these trials) matter.
        width = max(int(self.observed[rows].max()), 1)
        cols = np.arange(width)[None, :]
        seen = (self.arm[rows, :width] == control[:, None]) & (cols < self.observed[rows][:, None])
        responded = self.responded[rows, :width]
        if self.group is not None:
            # Each arm against the controls of its eligible subgroups only.
            n_c = np.empty(observed.shape, dtype=np.int64)
            y_c = np.empty(observed.shape, dtype=np.int64)
            groups = self.group[rows, :width]
            for k in range(self.n_arms):
                mask = seen & self.spec.eligible[k][groups]
                if concurrent:
                    mask &= cols >= np.maximum(self.open_n[rows, k], 0)[:, None]
                n_c[:, k] = mask.sum(axis=1)
                y_c[:, k] = (mask & responded).sum(axis=1)
            return n_c, y_c
        zero = np.zeros((rows.size, 1), dtype=np.int64)
        cum_n = np.concatenate([zero, np.cumsum(seen, axis=1)], axis=1)
        cum_y = np.concatenate([zero, np.cumsum(seen & responded, axis=1)], axis=1)
        start = np.clip(self.open_n[rows], 0, width)
        n_c = cum_n[:, -1:] - np.take_along_axis(cum_n, start, axis=1)
        y_c = cum_y[:, -1:] - np.take_along_axis(cum_y, start, axis=1)
        return n_c, y_c

    def _snapshot(self, rows, active, p_best, p_better, controls) -> None:
        """Keep, for each arm analysed at this look, what its records will report."""
        control = self.control[rows]
        values = [
            ("snap_p_best", p_best),
            ("snap_had_control", np.broadcast_to((control >= 0)[:, None], active.shape)),
            ("snap_was_control", np.arange(self.n_arms)[None, :] == control[:, None]),
        ]
        if p_better is not None:
            values.append(("snap_p_better", p_better))
        self._store_snapshot(rows, active, values + self._endpoint_snapshot(rows, active, controls))

    def _store_snapshot(self, rows, active, values) -> None:
        for name, value in values:
            target = getattr(self, name)
            block = target[rows]
            block[active] = np.broadcast_to(value, active.shape)[active]
            target[rows] = block

    def _endpoint_snapshot(self, rows, active, controls) -> list[tuple[str, np.ndarray]]:
        n_c, y_c = controls
        return [
            ("snap_observed", self.n_observed[rows]),
            ("snap_responses", self.n_responses[rows]),
            ("snap_control_observed", n_c),
            ("snap_control_responses", y_c),
        ]

    def _allocation(self, rows, enrolling, p_best) -> np.ndarray:
        p_better = None
        if self.spec.allocation_rule == "trippa":
            p_better = self._p_better(rows, 0.0)
        return allocation_probabilities(
            self.spec,
            p_best,
            enrolling,
            self.control[rows],
            self.enrolled[rows],
            p_better=p_better,
            n_enrolled=self.n_enrolled[rows],
        )

    # ------------------------------------------------------------------ records
    def _records(self) -> TrialRecords:
        fields, score = self._endpoint_records()
        final_control = self.control.copy()
        status = np.where(self.opened, self.status, codes.NOT_OPENED).astype(np.int8)
        return records_class(self.spec.endpoint_kind)(
            status=status,
            open_n=self.open_n,
            open_months=self.open_months,
            decision_look=self.decision_look,
            decision_n=self.decision_n,
            capped=self.capped,
            n_enrolled=self.n_enrolled,
            p_best=self.snap_p_best,
            p_better_than_control=self.snap_p_better,
            total_n=self.enrolled.astype(np.int32),
            duration_months=self.duration,
            stop_reason=self.stop_reason,
            n_looks_done=self.n_looks_done,
            selected_arm=self._selection(score, final_control),
            final_control=final_control,
            allocation_probs=self.allocation_history,
            analysis_n=self.analysis_n,
            analysis_months=self.analysis_months,
            **fields,
        )

    def _endpoint_records(self) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Endpoint-specific record fields, and each arm's score (higher = better)."""
        spec = self.spec
        alpha = spec.prior_alpha + self.snap_responses
        beta = spec.prior_beta + self.snap_observed - self.snap_responses
        post_mean = alpha / (alpha + beta)
        post_var = alpha * beta / ((alpha + beta) ** 2 * (alpha + beta + 1.0))
        c_alpha = spec.prior_alpha + self.snap_control_responses
        c_beta = spec.prior_beta + self.snap_control_observed - self.snap_control_responses
        c_mean = c_alpha / (c_alpha + c_beta)
        c_var = c_alpha * c_beta / ((c_alpha + c_beta) ** 2 * (c_alpha + c_beta + 1.0))
        # Against the control of the arm's last analysis; none for an arm that was the control.
        has_diff = self.snap_had_control & ~self.snap_was_control
        diff = np.where(has_diff, post_mean - c_mean, np.nan)
        diff_sd = np.sqrt(post_var + c_var)
        fields = {
            "n_observed": self.snap_observed,
            "n_responses": self.snap_responses,
            "post_mean": post_mean,
            "post_lower": special.betaincinv(alpha, beta, 0.025),
            "post_upper": special.betaincinv(alpha, beta, 0.975),
            "diff_estimate": diff,
            "diff_lower": np.where(has_diff, diff - _Z95 * diff_sd, np.nan),
            "diff_upper": np.where(has_diff, diff + _Z95 * diff_sd, np.nan),
        }
        return fields, post_mean if spec.higher_is_better else -post_mean

    def _selection(self, score: np.ndarray, final_control: np.ndarray) -> np.ndarray:
        spec = self.spec
        selected = np.full(self.n_sims, -1, dtype=np.int16)
        best = self.status == codes.BEST
        has_best = best.any(axis=1)
        selected[has_best] = np.argmax(best[has_best], axis=1)
        efficacy = self.status == codes.EFFICACY
        by_efficacy = np.argmax(np.where(efficacy, score, -np.inf), axis=1)
        pick = ~has_best & efficacy.any(axis=1)
        if spec.on_efficacy == "new_control" and spec.control_index is not None:
            switched = ~has_best & (final_control != spec.control_index)
            selected[switched] = final_control[switched]
            pick &= ~switched
        selected[pick] = by_efficacy[pick]
        return selected


def column_window(start: np.ndarray, stop: np.ndarray) -> tuple[int, int, np.ndarray] | None:
    """Columns lo:hi spanning every row's patients start … stop − 1, and the (rows, hi − lo)
    mask of each row's own ones; None when no row has any."""
    lo, hi = int(start.min()), int(stop.max())
    if hi <= lo:
        return None
    cols = np.arange(lo, hi)
    return lo, hi, (cols[None, :] >= start[:, None]) & (cols[None, :] < stop[:, None])


def _count_by_arm(arms: np.ndarray, mask: np.ndarray, n_arms: int) -> np.ndarray:
    """Per-row counts of each arm among masked entries: (n_rows, width) → (n_rows, n_arms)."""
    n_rows = arms.shape[0]
    keep = mask & (arms >= 0)
    cell = (np.arange(n_rows)[:, None] * n_arms + arms)[keep]
    counts = np.bincount(cell, minlength=n_rows * n_arms)
    return counts.reshape(n_rows, n_arms).astype(np.int32)


def count_sorted_at_most(sorted_rows: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Per row, how many entries are ≤ value: a binary search on rows sorted ascending
    (entry times, and outcome times = entry + a constant lag), (n_rows, width) → (n_rows,)."""
    n_rows, width = sorted_rows.shape
    low = np.zeros(n_rows, dtype=np.int64)  # entries before `low` are ≤ value
    high = np.full(n_rows, width, dtype=np.int64)  # entries from `high` on are > value
    index = np.arange(n_rows)
    while True:
        searching = low < high
        if not searching.any():
            return low
        middle = (low + high) // 2
        at_most = sorted_rows[index, np.minimum(middle, width - 1)] <= value
        low = np.where(searching & at_most, middle + 1, low)
        high = np.where(searching & ~at_most, middle, high)
