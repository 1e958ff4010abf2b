"""Time-to-event trials: calendar time, censoring, event-driven looks, Gamma posteriors.

Same look loop, decisions and allocation as the binary engine (`trial.Chunk`); what
differs is what a patient's outcome is (an event time and a dropout time, drawn by inverse
transform), when looks happen (after N patients, at D events, or at calendar months) and
the posterior (Gamma–exponential per arm, or per piece of a piecewise model).

Random-number protocol per chunk (docs/engine.md): entry gaps, event Exp(1) draws, dropout
Exp(1) draws, allocation uniforms (each (n_sims, N)), then the blocked-randomization tie
draws if any.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from platsim.engine.draws import patient_exponentials
from platsim.engine.periods import combine, log_hazard_contrast, period_counts
from platsim.engine.quadrature import gamma_p_lowest, gamma_p_ratio_below
from platsim.engine.survival_data import (
    calendar_time_of_event,
    events_and_exposure,
    follow_up,
    observable_event_month,
)
from platsim.engine.trial import Chunk, _count_by_arm, column_window, count_sorted_at_most

_LN2 = float(np.log(2.0))


class SurvivalChunk(Chunk):
    """A chunk of time-to-event trials (internal)."""

    # ------------------------------------------------------------------ hooks
    def _draw_outcomes(self, streams: dict[str, np.random.Generator]) -> None:
        n, n_patients = self.n_sims, self.n_patients
        self.event_e = patient_exponentials(streams["outcome"], n, n_patients)
        self.dropout_e = patient_exponentials(streams["dropout"], n, n_patients)

    def _init_endpoint_state(self) -> None:
        spec = self.spec
        shape = (self.n_sims, self.n_arms)
        patients = (self.n_sims, self.n_patients)
        self.event_time = np.full(patients, np.inf)
        self.dropout_time = np.full(patients, np.inf)
        # entry + event time if the event comes before dropout, else ∞: the calendar month
        # at which the event is observed (what looks and follow-up compare with).
        self.calendar_event = np.full(patients, np.inf)
        self.cut_points = np.asarray(spec.cut_points_months, dtype=float)
        self.n_pieces = len(self.cut_points) + 1
        self.piece = spec.decision_piece % self.n_pieces
        self.events = np.zeros((*shape, self.n_pieces))
        self.exposure = np.zeros((*shape, self.n_pieces))
        for name in (
            "snap_events",
            "snap_exposure",
            "snap_piece_events",
            "snap_piece_exposure",
            "snap_control_piece_events",
            "snap_control_piece_exposure",
        ):
            setattr(self, name, np.zeros(shape))
        self.snap_n = np.zeros(shape, dtype=np.int32)
        # Columns [0, assigned_upto) have an arm and outcomes under the current allocation:
        # the randomized patients, then (event-driven looks) tentatively assigned ones.
        self.assigned_upto = np.zeros(self.n_sims, dtype=np.int64)

    def _potential_outcomes(self) -> None:
        """Each patient's event and dropout time under every arm, computed once per chunk
        (patients are re-assigned tentatively at every event-driven look)."""
        spec = self.spec
        draws = self.event_e
        if spec.has_time_trend:
            # The trend multiplies the hazard: H(T) = E / exp(shift(entry)).
            draws = draws / np.exp(spec.trend_shift(self.entry))
        # (n_arms, n_sims, n_patients): each arm's block is written contiguously.
        self.event_by_arm = np.empty((self.n_arms, *draws.shape))
        if self.group is not None:
            for times, per_group in zip(
                self.event_by_arm, spec.survival_truths_by_group, strict=True
            ):
                times.fill(np.inf)
                for g, truth in enumerate(per_group):
                    in_group = self.group == g
                    times[in_group] = truth.inverse(draws[in_group])
        else:
            for times, truth in zip(self.event_by_arm, spec.survival_truths, strict=True):
                times[...] = truth.inverse(draws)
        rates = (
            np.asarray(spec.dropout_per_month, dtype=float)
            if len(spec.dropout_per_month)
            else np.zeros(self.n_arms)
        )
        self.dropout_rates = rates
        self.has_dropout = bool(np.any(rates > 0))

    def _set_outcomes(self, rows, lo: int, hi: int, assigned, in_block) -> None:
        self._set_outcomes_at(self._positions(rows, lo, hi, in_block), assigned[in_block])

    def _positions(self, rows: np.ndarray, lo: int, hi: int, in_block: np.ndarray) -> np.ndarray:
        """Flat indices into the (n_sims, n_patients) arrays of the patients in_block."""
        cols = np.arange(lo, hi)
        return (rows[:, None] * self.n_patients + cols[None, :])[in_block]

    def _set_outcomes_at(self, position: np.ndarray, assigned: np.ndarray) -> None:
        """Event, dropout and calendar event times of the patients at flat `position`
        (writes through flat views: the per-patient arrays are C-contiguous)."""
        if not hasattr(self, "event_by_arm"):
            self._potential_outcomes()
        arm = np.clip(assigned, 0, self.n_arms - 1)
        events = self.event_by_arm.reshape(-1)[arm.astype(np.intp) * self.event_e.size + position]
        self.event_time.reshape(-1)[position] = events
        dropout = None
        if self.has_dropout:
            with np.errstate(divide="ignore"):
                dropout = self.dropout_e.reshape(-1)[position] / self.dropout_rates[arm]
            self.dropout_time.reshape(-1)[position] = dropout
        self.calendar_event.reshape(-1)[position] = observable_event_month(
            self.entry.reshape(-1)[position], events, dropout
        )

    # ------------------------------------------------------------------ looks
    def _plan_look(self, look: int, is_final: bool):
        spec = self.spec
        rows = np.flatnonzero(self.running)
        if rows.size == 0:
            return None
        # The allocation changed at the last analysis: earlier tentative arms are stale.
        np.copyto(self.assigned_upto, self.enrolled)
        end_time = self._final_time(rows)
        if is_final:
            look_time = end_time
        else:
            look_time = self._interim_time(rows, look)
            happens = np.isfinite(look_time) & (look_time < end_time)
            rows, look_time = rows[happens], look_time[happens]
            if rows.size == 0:
                return None
        entered = count_sorted_at_most(self.entry[rows], look_time)
        enrolled = np.minimum(np.maximum(entered, self.enrolled[rows]), self.enrolment_end[rows])
        if not is_final and spec.look_kind == "patients":
            enrolled = np.full(rows.size, int(spec.look_counts[look]))
        return rows, look_time, enrolled, enrolled

    def _interim_time(self, rows: np.ndarray, look: int) -> np.ndarray:
        spec = self.spec
        if spec.look_kind == "months":
            return np.full(rows.size, float(spec.look_months[look]))
        count = int(spec.look_counts[look])
        if spec.look_kind == "patients":
            time = self.entry[rows, min(count, self.n_patients) - 1]
            return np.where(count <= self.enrolment_end[rows], time, np.inf)
        return self._event_time_of(rows, count, control_only=spec.events_in_control)

    def _event_time_of(self, rows: np.ndarray, count: int, control_only: bool) -> np.ndarray:
        """Calendar month of the `count`-th observable event (of the control arm only with
        `control_only`) among patients 0 … enrolment_end − 1, ∞ if it never happens.

        Patients not yet randomized count with their tentative arms (simple randomization
        under the current allocation). Only a prefix of them is assigned: once the event
        time found among the first m patients is no later than patient m's entry, no later
        patient can change it (their events come after their entry), so the answer is
        exact without assigning the rest.
        """
        spec = self.spec
        restrict = control_only and spec.control_index is not None
        result = np.full(rows.size, np.inf)
        pending = np.arange(rows.size)
        step = self._first_block(count)
        upto = np.minimum(self.enrolled[rows] + step, self.enrolment_end[rows])
        while pending.size:
            sub = rows[pending]
            end = self.enrolment_end[sub]
            self._assign_upto(sub, upto)
            width = int(upto.max())
            allowed = np.arange(width)[None, :] < upto[:, None]
            if restrict:
                allowed &= self.arm[sub, :width] == self.control[sub][:, None]
            time = calendar_time_of_event(self.calendar_event[sub, :width], count, allowed)
            complete = upto >= end
            next_entry = self.entry[sub, np.minimum(upto, self.n_patients - 1)]
            done = complete | (time <= next_entry)
            result[pending[done]] = time[done]
            pending, upto, end = pending[~done], upto[~done], end[~done]
            step *= 2
            upto = np.minimum(upto + step, end)
        return result

    def _first_block(self, count: int) -> int:
        """Patients assigned beyond the enrolled ones in the first pass of `_event_time_of`
        (the block doubles until the look time is certain; any size gives the same trials)."""
        return max(2 * count, 64)

    def _assign_upto(self, rows: np.ndarray, upto: np.ndarray) -> None:
        """Give patients assigned_upto … upto − 1 of each row their (tentative) arm and
        outcomes under the current allocation (simple randomization)."""
        start = self.assigned_upto[rows]
        window = column_window(start, upto)
        if window is None:
            return
        lo, hi, new = window
        assigned = self._simple_arms(rows, lo, hi)[new]
        position = self._positions(rows, lo, hi, new)
        self.arm.reshape(-1)[position] = assigned
        self._set_outcomes_at(position, assigned)
        self.assigned_upto[rows] = np.maximum(start, upto)

    def _final_time(self, rows: np.ndarray) -> np.ndarray:
        """Calendar month of the final analysis, given what is known now."""
        spec = self.spec
        last_entry = self.entry[rows, self.enrolment_end[rows] - 1]
        follow = spec.follow_up_months if spec.follow_up_months is not None else 0.0
        if spec.end_months is not None:
            end = np.full(rows.size, float(spec.end_months))
        elif spec.end_events is not None:
            # `events_in: control` concerns interim looks; the end counts every arm's events.
            end = self._event_time_of(rows, spec.end_events, control_only=False)
            # If that many events never happen (cure fraction, dropout), the final analysis
            # is after the follow-up, or at the last observable event.
            if spec.follow_up_months is None:
                self._assign_upto(rows, self.enrolment_end[rows])
            cols = np.arange(self.n_patients)[None, :]
            calendar = np.where(
                (self.event_time[rows] <= self.dropout_time[rows])
                & np.isfinite(self.event_time[rows])
                & (cols < self.enrolment_end[rows][:, None]),
                self.entry[rows] + self.event_time[rows],
                -np.inf,
            )
            fallback = (
                last_entry + follow if spec.follow_up_months is not None else calendar.max(axis=1)
            )
            end = np.where(np.isfinite(end), end, np.maximum(fallback, last_entry))
        else:
            end = last_entry + follow
        if spec.max_duration_months is not None:
            end = np.minimum(end, spec.max_duration_months)
        return end

    def _enrol(self, rows: np.ndarray, target: np.ndarray, block: np.ndarray) -> None:
        if self.spec.randomization == "blocked":
            super()._enrol(rows, target, block)
            np.copyto(self.assigned_upto, self.enrolled)
            return
        # Simple randomization: the patients enrolled now keep their tentative arms.
        start = self.enrolled[rows]
        self._assign_upto(rows, target)
        window = column_window(start, target)
        if window is not None:
            lo, hi, in_block = window
            self.n_enrolled[rows] += _count_by_arm(self.arm[rows, lo:hi], in_block, self.n_arms)
        self.enrolled[rows] = target

    def _observe(self, rows: np.ndarray, target: np.ndarray, look_time: np.ndarray) -> None:
        # Only the columns of patients enrolled by now (in any of these trials) matter.
        width = int(self.enrolled[rows].max()) if rows.size else 0
        width = max(width, 1)
        enrolled = np.arange(width)[None, :] < self.enrolled[rows][:, None]
        observed, had_event = follow_up(
            self.entry[rows, :width],
            self.event_time[rows, :width],
            self.dropout_time[rows, :width] if self.has_dropout else None,
            self.calendar_event[rows, :width],
            enrolled,
            look_time,
        )
        events, exposure = events_and_exposure(
            self.arm[rows, :width], observed, had_event, self.n_arms, self.cut_points
        )
        if events.ndim == 2:
            events, exposure = events[..., None], exposure[..., None]
        self.events[rows] = events
        self.exposure[rows] = exposure
        self._followed = (rows, observed, had_event)

    # ------------------------------------------------------------------ posterior
    def _gamma(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gamma posterior (shape, rate) of each arm's hazard in the decision piece."""
        spec = self.spec
        shape = spec.prior_shape + self.events[rows, :, self.piece]
        rate = spec.prior_rate + self.exposure[rows, :, self.piece]
        return shape, rate

    def _p_best(self, rows: np.ndarray, active: np.ndarray) -> np.ndarray:
        shape, rate = self._gamma(rows)
        return gamma_p_lowest(shape, rate, active)

    def _controls(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gamma posterior of the control hazard each arm is compared with, (rows, arms):
        all controls, or (concurrent controls, staggered platform) those who entered since
        the arm opened."""
        spec = self.spec
        shape, rate = self._gamma(rows)
        control = np.maximum(self.control[rows], 0)
        idx = np.arange(rows.size)
        pooled = (
            np.broadcast_to(shape[idx, control][:, None], shape.shape),
            np.broadcast_to(rate[idx, control][:, None], rate.shape),
        )
        concurrent = spec.concurrent_controls and spec.staggered
        followed = getattr(self, "_followed", None)
        if (not concurrent and self.group is None) or followed is None:
            return pooled  # (before the first look nothing is observed: all the same)
        cached_rows, observed, had_event = followed
        # Rows analysed now are those of the last look, or a subset (allocation after it).
        position = np.searchsorted(cached_rows, rows)
        assert np.array_equal(cached_rows[position], rows)
        observed, had_event = observed[position], had_event[position]
        width = observed.shape[1]
        is_control = self.arm[rows, :width] == control[:, None]
        cols = np.arange(width)[None, :]
        c_shape = np.empty(shape.shape)
        c_rate = np.empty(rate.shape)
        for k in range(self.n_arms):
            window = is_control.copy()
            if concurrent:
                window &= cols >= np.maximum(self.open_n[rows, k], 0)[:, None]
            if self.group is not None:
                window &= spec.eligible[k][self.group[rows, :width]]
            labels = np.where(window, 0, -1)
            events, exposure = events_and_exposure(labels, observed, had_event, 1, self.cut_points)
            if events.ndim == 2:
                events, exposure = events[..., None], exposure[..., None]
            c_shape[:, k] = spec.prior_shape + events[:, 0, self.piece]
            c_rate[:, k] = spec.prior_rate + exposure[:, 0, self.piece]
        return c_shape, c_rate

    def _p_better_by_period(self, rows: np.ndarray) -> np.ndarray:
        """Period-adjusted P(HR < 1): log hazard ratios per period (of entry), combined."""
        followed = getattr(self, "_followed", None)
        if followed is None:
            return np.where(self._comparable(rows), 0.5, np.nan)
        cached_rows, observed, had_event = followed
        position = np.searchsorted(cached_rows, rows)
        observed, had_event = observed[position], had_event[position]
        width = observed.shape[1]
        period = self._periods(rows)[:, :width]
        arm = self.arm[rows, :width]
        enrolled = np.arange(width)[None, :] < self.enrolled[rows][:, None]
        events = period_counts(period, arm, enrolled, had_event.astype(float), self.n_arms)
        exposure = period_counts(period, arm, enrolled, observed, self.n_arms)
        idx = np.arange(rows.size)
        control = np.maximum(self.control[rows], 0)
        e_c, x_c = events[idx, control][:, None, :], exposure[idx, control][:, None, :]
        contrast, variance = log_hazard_contrast(events, exposure, e_c, x_c)
        p = combine(contrast, variance, (exposure > 0) & (x_c > 0))
        return np.where(self._comparable(rows), p, np.nan)

    def _p_better(self, rows: np.ndarray, margin: float, controls=None) -> np.ndarray:
        if self.spec.period_adjusted:
            return self._p_better_by_period(rows)
        shape, rate = self._gamma(rows)
        control = self.control[rows]
        c_shape, c_rate = self._controls(rows) if controls is None else controls
        p = gamma_p_ratio_below(shape, rate, c_shape, c_rate, 1.0 - margin)
        not_experimental = (control[:, None] < 0) | (
            np.arange(self.n_arms)[None, :] == control[:, None]
        )
        return np.where(not_experimental, np.nan, p)

    def _endpoint_snapshot(self, rows, active, controls) -> list[tuple[str, np.ndarray]]:
        piece_events = self.events[rows, :, self.piece]
        piece_exposure = self.exposure[rows, :, self.piece]
        c_shape, c_rate = controls
        return [
            ("snap_events", self.events[rows].sum(axis=2)),
            ("snap_exposure", self.exposure[rows].sum(axis=2)),
            ("snap_piece_events", piece_events),
            ("snap_piece_exposure", piece_exposure),
            ("snap_control_piece_events", c_shape - self.spec.prior_shape),
            ("snap_control_piece_exposure", c_rate - self.spec.prior_rate),
            ("snap_n", self.n_enrolled[rows]),
        ]

    def _endpoint_records(self) -> tuple[dict[str, np.ndarray], np.ndarray]:
        spec = self.spec
        shape = spec.prior_shape + self.snap_piece_events
        rate = spec.prior_rate + self.snap_piece_exposure
        c_shape = spec.prior_shape + self.snap_control_piece_events
        c_rate = spec.prior_rate + self.snap_control_piece_exposure
        has_ratio = self.snap_had_control & ~self.snap_was_control
        # λ/λc = (rate_c · shape) / (rate · shape_c) · F(2 shape, 2 shape_c).
        scale = (c_rate * shape) / (rate * c_shape)

        def hr_quantile(q: float) -> np.ndarray:
            return np.where(has_ratio, scale * special.fdtri(2 * shape, 2 * c_shape, q), np.nan)

        total_shape = spec.prior_shape + self.snap_events
        total_rate = spec.prior_rate + self.snap_exposure
        median_hazard = special.gammaincinv(total_shape, 0.5) / total_rate
        fields = {
            "n_observed": self.snap_n,
            "n_responses": self.snap_events.astype(np.int32),
            "post_mean": shape / rate,
            "post_lower": special.gammaincinv(shape, 0.025) / rate,
            "post_upper": special.gammaincinv(shape, 0.975) / rate,
            "diff_estimate": hr_quantile(0.5),
            "diff_lower": hr_quantile(0.025),
            "diff_upper": hr_quantile(0.975),
            "exposure_months": self.snap_exposure,
            "median_survival_months": _LN2 / median_hazard,
        }
        return fields, -(shape / rate)
