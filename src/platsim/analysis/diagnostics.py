"""MCMC diagnostics with ArviZ (imported lazily, here only): R-hat, bulk and tail ESS,
divergences, and the warnings a statistician should see before trusting an interim result.

Thresholds are the usual ones (Vehtari et al. 2021): R-hat ≤ 1.01, bulk and tail ESS ≥ 400,
no divergent transitions.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAX_R_HAT = 1.01
MIN_ESS = 400.0


def import_arviz() -> Any:
    """ArviZ, without its import-time notice about a coming refactor."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz

    return arviz


@dataclass(frozen=True)
class ParameterDiagnostics:
    """One scalar parameter's posterior summary and convergence diagnostics."""

    name: str
    mean: float
    sd: float
    r_hat: float
    ess_bulk: float
    ess_tail: float


@dataclass(frozen=True)
class Diagnostics:
    """Diagnostics of one fit; `warnings` is empty when every check passes."""

    parameters: tuple[ParameterDiagnostics, ...]
    n_divergent: int
    n_chains: int
    n_draws: int
    warnings: tuple[str, ...] = field(default=())

    @property
    def max_r_hat(self) -> float:
        values = [p.r_hat for p in self.parameters if not math.isnan(p.r_hat)]
        return max(values) if values else math.nan

    @property
    def min_ess_bulk(self) -> float:
        return min((p.ess_bulk for p in self.parameters), default=math.nan)

    @property
    def min_ess_tail(self) -> float:
        return min((p.ess_tail for p in self.parameters), default=math.nan)

    @property
    def ok(self) -> bool:
        return not self.warnings


def _finite(value: Any) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return math.nan
    return value


def diagnose(idata: Any, var_names: list[str] | tuple[str, ...] | None = None) -> Diagnostics:
    """ArviZ diagnostics of `idata` (its posterior and sample_stats groups).

    Parameters
    ----------
    idata : arviz.InferenceData from `pm.sample`.
    var_names : variables to check (default: all in the posterior).

    Returns
    -------
    Diagnostics with one warning per failed check (R-hat > 1.01, ESS < 400 bulk or tail,
    divergences, R-hat unavailable with a single chain).
    """
    az = import_arviz()
    posterior = idata.posterior
    names = [v for v in (var_names or list(posterior.data_vars)) if v in posterior.data_vars]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # single-chain R-hat, constant draws
        table = az.summary(idata, var_names=names, kind="all", round_to="none")
    parameters = tuple(
        ParameterDiagnostics(
            name=str(label),
            mean=_finite(row["mean"]),
            sd=_finite(row["sd"]),
            r_hat=_finite(row["r_hat"]),
            ess_bulk=_finite(row["ess_bulk"]),
            ess_tail=_finite(row["ess_tail"]),
        )
        for label, row in table.iterrows()
    )
    n_chains = int(posterior.sizes["chain"])
    n_draws = int(posterior.sizes["draw"])
    n_divergent = 0
    if hasattr(idata, "sample_stats") and "diverging" in idata.sample_stats:
        n_divergent = int(np.asarray(idata.sample_stats["diverging"]).sum())
    found = Diagnostics(parameters, n_divergent, n_chains, n_draws)
    return Diagnostics(parameters, n_divergent, n_chains, n_draws, tuple(_warnings(found)))


def _warnings(d: Diagnostics) -> list[str]:
    out = []
    bad_rhat = [p for p in d.parameters if p.r_hat > MAX_R_HAT]
    if d.n_chains < 2:
        out.append("R-hat needs at least 2 chains: convergence cannot be checked (use --chains 4).")
    elif bad_rhat or any(math.isnan(p.r_hat) for p in d.parameters):
        worst = max(bad_rhat, key=lambda p: p.r_hat, default=None)
        detail = f"{worst.name} {worst.r_hat:.3f}" if worst else "not computable"
        out.append(
            f"R-hat above {MAX_R_HAT} for {len(bad_rhat)} parameter(s) (worst: {detail}): the "
            "chains disagree; run longer (--draws, --tune) or reparametrize before using the "
            "result."
        )
    for kind in ("bulk", "tail"):
        low = [p for p in d.parameters if not getattr(p, f"ess_{kind}") >= MIN_ESS]
        if low:
            worst = min(low, key=lambda p: _nan_low(getattr(p, f"ess_{kind}")))
            out.append(
                f"{kind} ESS below {MIN_ESS:.0f} for {len(low)} parameter(s) (lowest: "
                f"{worst.name} {getattr(worst, f'ess_{kind}'):.0f}): posterior probabilities "
                "are noisy; increase --draws."
            )
    if d.n_divergent:
        out.append(
            f"{d.n_divergent} divergent transition(s) after tuning: the sampler may have "
            "missed part of the posterior; the result can be biased."
        )
    return out


def _nan_low(value: float) -> float:
    return -math.inf if math.isnan(value) else value


def probability_mcse(indicator: np.ndarray) -> np.ndarray:
    """Monte Carlo standard error of posterior probabilities estimated as draw frequencies.

    Parameters
    ----------
    indicator : (n_chains, n_draws, n_arms) 0/1 draws.

    Returns
    -------
    (n_arms,) MCSE of the mean (ArviZ's, accounting for autocorrelation); 0 where the
    indicator is constant.
    """
    az = import_arviz()
    out = np.zeros(indicator.shape[-1])
    for k in range(indicator.shape[-1]):
        values = np.asarray(indicator[..., k], dtype=float)
        if values.min() == values.max():
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[k] = float(np.asarray(az.mcse(values)).ravel()[0])
    return out
