"""What is observed of time-to-event outcomes at a calendar time, per arm (and per piece).

Arrays are per patient ``(n_sims, n_patients)`` in months: entry (calendar), event time and
dropout time (both since entry; ∞ for never). At a look at calendar time t each enrolled
patient is followed until min(event, dropout, t − entry); the sufficient statistics of an
exponential (or piecewise-exponential) model are, per arm, the number of events and the
exposure (patient-months at risk).
"""

from __future__ import annotations

import numpy as np


def observable_event_month(
    entry: np.ndarray, event_time: np.ndarray, dropout_time: np.ndarray | None = None
) -> np.ndarray:
    """Calendar month at which each patient's event is observed: entry + event time if the
    event comes no later than dropout (None: no dropout), else ∞."""
    month = entry + event_time
    if dropout_time is not None:
        month = np.where(event_time <= dropout_time, month, np.inf)
    return month


def follow_up(
    entry: np.ndarray,
    event_time: np.ndarray,
    dropout_time: np.ndarray | None,
    event_month: np.ndarray,
    enrolled: np.ndarray,
    look_time: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Observed time (months) and event indicator of each patient at `look_time`.

    Parameters
    ----------
    entry, event_time : (n_sims, n_patients) months.
    dropout_time : (n_sims, n_patients) months since entry, or None for no dropout.
    event_month : `observable_event_month` of the same patients (the engine keeps it as
        patients are assigned).
    enrolled : (n_sims, n_patients) bool, patients randomized by the look.
    look_time : (n_sims,) calendar months.

    Returns
    -------
    observed_months : (n_sims, n_patients): the event time if the event is observed by the
        look, else min(dropout, look − entry) (at least 0); 0 for patients not enrolled.
    had_event : (n_sims, n_patients) bool.

    Events are compared on the calendar scale, as the event-count look times are computed:
    with (entry + T) − entry < T after rounding, the D-th event would otherwise be missed.
    """
    had_event = event_month <= look_time[:, None]
    had_event &= enrolled
    observed = look_time[:, None] - entry
    np.maximum(observed, 0.0, out=observed)
    if dropout_time is not None:
        np.minimum(observed, dropout_time, out=observed)
    np.copyto(observed, event_time, where=had_event)
    observed *= enrolled
    return observed, had_event


def events_and_exposure(
    arm: np.ndarray,
    observed_months: np.ndarray,
    had_event: np.ndarray,
    n_arms: int,
    cut_points_months: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Events and exposure per arm, optionally per piece of a piecewise model.

    Parameters
    ----------
    arm : (n_sims, n_patients) int arm index (−1 for not randomized).
    observed_months, had_event : from `follow_up`.
    cut_points_months : increasing interior cut points c_1 < … (months since entry); pieces
        are [0, c_1), [c_1, c_2), …, [c_last, ∞).

    Returns
    -------
    events, exposure : (n_sims, n_arms) without cut points, else (n_sims, n_arms, n_pieces).
    """
    n_sims = arm.shape[0]
    # One weighted bincount over (trial, arm + 1) cells instead of a masked sum per arm;
    # cell 0 of each trial collects the patients not randomized (arm −1), then is dropped.
    width = n_arms + 1
    cell = (np.arange(n_sims, dtype=np.intp) * width)[:, None] + arm
    cell += 1
    cell = cell.reshape(-1)
    size = n_sims * width

    def per_arm(weights: np.ndarray) -> np.ndarray:
        counts = np.bincount(cell, weights=weights.reshape(-1), minlength=size)
        return counts.reshape(n_sims, width)[:, 1:]

    if cut_points_months is None or len(cut_points_months) == 0:
        return per_arm(had_event.astype(float)), per_arm(observed_months)
    edges = np.concatenate([[0.0], np.asarray(cut_points_months, dtype=float), [np.inf]])
    n_pieces = len(edges) - 1
    events = np.empty((n_sims, n_arms, n_pieces))
    exposure = np.empty((n_sims, n_arms, n_pieces))
    piece_of_event = np.searchsorted(edges, observed_months, side="right") - 1
    for p in range(n_pieces):
        in_piece = np.clip(observed_months - edges[p], 0.0, edges[p + 1] - edges[p])
        events[:, :, p] = per_arm((had_event & (piece_of_event == p)).astype(float))
        exposure[:, :, p] = per_arm(in_piece)
    return events, exposure


def calendar_time_of_event(
    event_month: np.ndarray, count: int, eligible: np.ndarray | None = None
) -> np.ndarray:
    """Calendar month at which the `count`-th observable event occurs (∞ if it never does).

    `event_month` is `observable_event_month` (n_sims, n_patients); `eligible` (same shape)
    restricts the count to some patients (e.g. the control arm's).
    """
    if count > event_month.shape[1]:
        return np.full(event_month.shape[0], np.inf)
    if eligible is not None:
        event_month = np.where(eligible, event_month, np.inf)
    return np.partition(event_month, count - 1, axis=1)[:, count - 1]
