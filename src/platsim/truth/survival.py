"""Time-to-event truths as cumulative hazards with exact inverses (months).

Every truth is a cumulative hazard H(t) (t in months since the patient's entry) with its
inverse, so event times are drawn by inverse transform: T = H⁻¹(E) with E ~ Exp(1). The same
E is used for a patient under every arm (common random numbers); a truth whose H stays
bounded (cure fraction) gives T = ∞ when E ≥ H(∞).

Forms (as in the scenario file):
- exponential `{median: m}`: H(t) = λ t, λ = ln 2 / m;
- piecewise `{pieces: [[start, end, hazard], ...]}`: constant hazard per month on each piece;
- Weibull `{weibull: {shape: k, scale: s}}` (or `median` instead of scale): H = (t / s)^k;
- cure fraction `{cure_fraction: c, median: m}`: S(t) = c + (1 − c) e^{−λ t}, the uncured
  having an exponential time with median m;
- hazard ratio `{hazard_ratio: h}` relative to the control arm's truth: H = h · H_control;
- delayed effect `{delay_months: d, hazard_ratio: h}`: H = H_control until d, then the
  hazard is h times the control's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

LN2 = float(np.log(2.0))


class CumulativeHazard(Protocol):
    """H(t) and its inverse, vectorized over arrays of months / hazard values."""

    def cumulative_hazard(self, months: np.ndarray) -> np.ndarray: ...

    def inverse(self, hazard: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Exponential:
    rate_per_month: float

    @classmethod
    def from_median(cls, median_months: float) -> Exponential:
        return cls(LN2 / median_months)

    def cumulative_hazard(self, months: np.ndarray) -> np.ndarray:
        return self.rate_per_month * np.asarray(months, dtype=float)

    def inverse(self, hazard: np.ndarray) -> np.ndarray:
        return np.asarray(hazard, dtype=float) / self.rate_per_month


@dataclass(frozen=True)
class PiecewiseConstant:
    """Hazard `rates[i]` per month on [starts[i], starts[i+1]); the last piece is open."""

    starts: tuple[float, ...]
    rates: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.starts[0] != 0.0:
            raise ValueError("pieces must start at month 0")

    def _tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        starts = np.asarray(self.starts, dtype=float)
        rates = np.asarray(self.rates, dtype=float)
        widths = np.diff(starts)
        cumulative = np.concatenate([[0.0], np.cumsum(rates[:-1] * widths)])
        return starts, rates, cumulative

    def cumulative_hazard(self, months: np.ndarray) -> np.ndarray:
        starts, rates, cumulative = self._tables()
        t = np.asarray(months, dtype=float)
        piece = np.searchsorted(starts, t, side="right") - 1
        return cumulative[piece] + rates[piece] * (t - starts[piece])

    def inverse(self, hazard: np.ndarray) -> np.ndarray:
        starts, rates, cumulative = self._tables()
        h = np.asarray(hazard, dtype=float)
        piece = np.searchsorted(cumulative, h, side="right") - 1
        # A zero-hazard piece never ends there: searchsorted with side="right" already skips
        # it when its cumulative equals the next one's.
        with np.errstate(divide="ignore", invalid="ignore"):
            inside = (h - cumulative[piece]) / rates[piece]
        result = starts[piece] + inside
        return np.where(rates[piece] > 0, result, np.inf)


@dataclass(frozen=True)
class Weibull:
    shape: float
    scale_months: float

    @classmethod
    def from_median(cls, shape: float, median_months: float) -> Weibull:
        return cls(shape, median_months / LN2 ** (1.0 / shape))

    def cumulative_hazard(self, months: np.ndarray) -> np.ndarray:
        return (np.asarray(months, dtype=float) / self.scale_months) ** self.shape

    def inverse(self, hazard: np.ndarray) -> np.ndarray:
        return self.scale_months * np.asarray(hazard, dtype=float) ** (1.0 / self.shape)


@dataclass(frozen=True)
class CureFraction:
    """S(t) = c + (1 − c) exp(−λ t): a share c never has the event."""

    cure_fraction: float
    uncured: Exponential

    def cumulative_hazard(self, months: np.ndarray) -> np.ndarray:
        c = self.cure_fraction
        return -np.log(c + (1.0 - c) * np.exp(-self.uncured.cumulative_hazard(months)))

    def inverse(self, hazard: np.ndarray) -> np.ndarray:
        c = self.cure_fraction
        survival = np.exp(-np.asarray(hazard, dtype=float))
        with np.errstate(divide="ignore", invalid="ignore"):
            uncured_survival = (survival - c) / (1.0 - c)
            times = self.uncured.inverse(-np.log(uncured_survival))
        return np.where(survival > c, times, np.inf)


@dataclass(frozen=True)
class ProportionalHazards:
    """H = hazard_ratio · H_reference."""

    reference: CumulativeHazard
    hazard_ratio: float

    def cumulative_hazard(self, months: np.ndarray) -> np.ndarray:
        return self.hazard_ratio * self.reference.cumulative_hazard(months)

    def inverse(self, hazard: np.ndarray) -> np.ndarray:
        return self.reference.inverse(np.asarray(hazard, dtype=float) / self.hazard_ratio)


@dataclass(frozen=True)
class DelayedEffect:
    """The reference's hazard until `delay_months`, then `hazard_ratio` times it."""

    reference: CumulativeHazard
    delay_months: float
    hazard_ratio: float

    def cumulative_hazard(self, months: np.ndarray) -> np.ndarray:
        t = np.asarray(months, dtype=float)
        at_delay = self.reference.cumulative_hazard(np.asarray(self.delay_months))
        base = self.reference.cumulative_hazard(t)
        return np.where(
            t <= self.delay_months, base, at_delay + self.hazard_ratio * (base - at_delay)
        )

    def inverse(self, hazard: np.ndarray) -> np.ndarray:
        h = np.asarray(hazard, dtype=float)
        at_delay = float(self.reference.cumulative_hazard(np.asarray(self.delay_months)))
        late = at_delay + (h - at_delay) / self.hazard_ratio
        return self.reference.inverse(np.where(h <= at_delay, h, late))


def survival_function(truth: CumulativeHazard, months: np.ndarray) -> np.ndarray:
    """S(t) = exp(−H(t))."""
    return np.exp(-truth.cumulative_hazard(months))


def median_months(truth: CumulativeHazard) -> float:
    """The true median survival (∞ if S never falls to 1/2)."""
    return float(truth.inverse(np.asarray(LN2)))


def event_times_months(truth: CumulativeHazard, unit_exponentials: np.ndarray) -> np.ndarray:
    """Event times (months after entry) by inverse transform of Exp(1) draws."""
    return truth.inverse(unit_exponentials)
