"""Sufficient statistics of an interim data cut, per arm (and subgroup, piece), and the
aggregated observation cells the PyMC models are fitted to. numpy only.

Binary endpoints: observed patients and responses. Time to event: events and exposure
(patient-months at risk), split over the pieces of a piecewise-exponential model exactly as
the engine's `events_and_exposure` splits them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from platsim.analysis.data import InterimData
from platsim.engine.spec import TrialSpec


@dataclass(frozen=True)
class Evidence:
    """Counts per arm × subgroup × piece, shape (n_arms, n_groups, n_pieces).

    Binary endpoints have one piece; `trials` is the number of observed patients and
    `successes` their responses. Time to event: `trials` is the exposure in patient-months
    and `successes` the events.
    """

    n_enrolled: np.ndarray
    trials: np.ndarray
    successes: np.ndarray
    decision_piece: int

    def per_arm(self) -> tuple[np.ndarray, np.ndarray]:
        """(successes, trials) per arm in the decision piece, summed over subgroups."""
        piece = self.decision_piece
        return self.successes[:, :, piece].sum(axis=1), self.trials[:, :, piece].sum(axis=1)


@dataclass(frozen=True)
class Cells:
    """Aggregated observations, one entry per distinct (arm, subgroup, piece, time) cell.

    `time_month` is the enrolment month (linear trends) or the start of the enrolment
    period; `trials` are patients (binary) or patient-months (time to event).
    """

    arm: np.ndarray
    subgroup: np.ndarray
    piece: np.ndarray
    time_month: np.ndarray
    trials: np.ndarray
    successes: np.ndarray


def piece_edges(spec: TrialSpec) -> np.ndarray:
    """Edges of the analysis pieces in months since entry: [0, c₁, …, ∞]."""
    cuts = np.asarray(spec.cut_points_months, dtype=float) if spec.is_survival else np.empty(0)
    return np.concatenate([[0.0], cuts, [np.inf]])


def _patient_pieces(spec: TrialSpec, interim: InterimData):
    """Per patient and piece: (events, exposure), shape (n_patients, n_pieces)."""
    edges = piece_edges(spec)
    n_pieces = len(edges) - 1
    observed = interim.follow_up_months
    if n_pieces == 1:
        return interim.event[:, None].astype(float), observed[:, None]
    # The same split as the engine's `events_and_exposure` (tests hold them equal), per
    # patient rather than per arm.
    width = np.diff(edges)
    exposure = np.clip(observed[:, None] - edges[None, :-1], 0.0, width[None, :])
    piece_of_event = np.searchsorted(edges, observed, side="right") - 1
    events = (interim.event[:, None] & (piece_of_event[:, None] == np.arange(n_pieces))).astype(
        float
    )
    return events, exposure


def evidence(spec: TrialSpec, interim: InterimData, n_groups: int) -> Evidence:
    """Counts per arm × subgroup × piece of an interim data cut."""
    n_arms = spec.n_arms
    if spec.is_survival:
        events, exposure = _patient_pieces(spec, interim)
        n_pieces = events.shape[1]
        trials = np.zeros((n_arms, n_groups, n_pieces))
        successes = np.zeros((n_arms, n_groups, n_pieces))
        np.add.at(trials, (interim.arm, interim.subgroup), exposure)
        np.add.at(successes, (interim.arm, interim.subgroup), events)
    else:
        n_pieces = 1
        trials = np.zeros((n_arms, n_groups, 1))
        successes = np.zeros((n_arms, n_groups, 1))
        obs = interim.observed
        np.add.at(trials[:, :, 0], (interim.arm[obs], interim.subgroup[obs]), 1.0)
        np.add.at(
            successes[:, :, 0],
            (interim.arm[obs], interim.subgroup[obs]),
            interim.responded[obs].astype(float),
        )
    return Evidence(
        n_enrolled=interim.n_enrolled,
        trials=trials,
        successes=successes,
        decision_piece=spec.decision_piece % n_pieces if spec.is_survival else 0,
    )


def cells(spec: TrialSpec, interim: InterimData, time_key: str, period_months: float) -> Cells:
    """Observation cells for the regression models.

    `time_key`: "none" (no time term: one cell per arm × subgroup × piece), "linear" (one
    cell per patient and piece, with its enrolment month) or "period" (cells per enrolment
    period of `period_months`, `time_month` its index).
    """
    if spec.is_survival:
        events, exposure = _patient_pieces(spec, interim)
        n, n_pieces = events.shape
        arm = np.repeat(interim.arm, n_pieces)
        group = np.repeat(interim.subgroup, n_pieces)
        piece = np.tile(np.arange(n_pieces), n)
        month = np.repeat(interim.enrolled_month, n_pieces)
        trials, successes = exposure.ravel(), events.ravel()
    else:
        obs = interim.observed
        arm, group = interim.arm[obs], interim.subgroup[obs]
        piece = np.zeros(arm.shape, dtype=np.int64)
        month = interim.enrolled_month[obs]
        trials = np.ones(arm.shape)
        successes = interim.responded[obs].astype(float)
    keep = trials > 0
    arm, group, piece, month = arm[keep], group[keep], piece[keep], month[keep]
    trials, successes = trials[keep], successes[keep]
    if time_key == "linear":
        return Cells(arm, group, piece, month, trials, successes)
    if time_key == "period":
        time = np.floor(month / period_months)
    else:
        time = np.zeros(month.shape)
    keys = np.stack([arm, group, piece, time], axis=1)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    return Cells(
        arm=unique[:, 0].astype(np.int64),
        subgroup=unique[:, 1].astype(np.int64),
        piece=unique[:, 2].astype(np.int64),
        time_month=unique[:, 3],
        trials=np.bincount(inverse, weights=trials, minlength=len(unique)),
        successes=np.bincount(inverse, weights=successes, minlength=len(unique)),
    )


@dataclass(frozen=True)
class References:
    """The control data each arm is compared with, in the decision piece, (n_arms,).

    `restricted[k]`: arm k is compared with only the control patients randomized after it
    opened (concurrent controls in a staggered platform); the other arms use every control.
    """

    restricted: np.ndarray
    successes: np.ndarray
    trials: np.ndarray


def references(
    spec: TrialSpec, interim: InterimData, control: int, open_month: np.ndarray
) -> References:
    """Concurrent-control counts per arm: control patients enrolled after `open_month[k]`.

    `open_month` is −∞ for arms open from the start (every control counts). Binary: observed
    controls and their responses; time to event: events and exposure in the decision piece.
    """
    n_arms = spec.n_arms
    restricted = np.isfinite(open_month) & (np.arange(n_arms) != control)
    successes, trials = np.zeros(n_arms), np.zeros(n_arms)
    if control < 0:
        return References(np.zeros(n_arms, dtype=bool), successes, trials)
    on_control = interim.arm == control
    if spec.is_survival:
        events, exposure = _patient_pieces(spec, interim)
        piece = spec.decision_piece % events.shape[1]
        y, n = events[:, piece], exposure[:, piece]
    else:
        y = (interim.observed & interim.responded).astype(float)
        n = interim.observed.astype(float)
    for k in range(n_arms):
        mask = on_control & (interim.enrolled_month > open_month[k])
        successes[k], trials[k] = y[mask].sum(), n[mask].sum()
    return References(restricted, successes, trials)
