"""Figures of an interim analysis (matplotlib, Agg backend): PNG bytes, no files.

- `forest_plot`: each experimental arm's effect vs the control (difference in response
  probability, or hazard ratio on a log axis) with its 95% interval; per subgroup too for
  hierarchical models.
- `density_plot`: posterior density of each arm's rate (response probability, or hazard per
  month of the decision piece).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from platsim.analysis.interim import InterimAnalysis


#: Draws used for each density curve at most.
_KDE_DRAWS = 4000


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return buffer.getvalue()


def forest_plot(result: InterimAnalysis) -> bytes | None:
    """Effects vs control with 95% intervals (None without a control)."""
    if result.control < 0:
        return None
    plt = _pyplot()
    rows: list[tuple[str, float, float, float, bool]] = []
    for k, arm in enumerate(result.arm_ids):
        effect = result.effect_summary(k)
        if effect is None:
            continue
        rows.append((arm, effect.estimate, effect.lower, effect.upper, True))
        if result.rate_by_subgroup_draws is not None:
            for g, group in enumerate(result.data.subgroup_ids):
                sub = result.subgroup_effect_summary(k, g)
                if sub is not None:
                    rows.append((f"{group} ·", sub.estimate, sub.lower, sub.upper, False))
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 0.45 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    for yi, (_, est, lo, hi, main) in zip(y, rows, strict=True):
        color = "#1f4e79" if main else "#7f9fbf"
        ax.plot([lo, hi], [yi, yi], color=color, lw=2.2 if main else 1.4)
        ax.plot([est], [yi], "o" if main else "s", color=color, ms=7 if main else 5)
    null = 1.0 if result.is_survival else 0.0
    ax.axvline(null, color="#888888", ls="--", lw=1)
    if result.is_survival:
        ax.set_xscale("log")
        ax.set_xlabel(f"hazard ratio vs {result.arm_ids[result.control]} (median, 95% interval)")
    else:
        ax.set_xlabel(
            f"response probability minus {result.arm_ids[result.control]} (mean, 95% interval)"
        )
    ax.set_yticks(y, [r[0] for r in rows])
    ax.set_title("Effect vs control")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def density_plot(result: InterimAnalysis) -> bytes:
    """Posterior densities of each arm's rate (Gaussian KDE of the draws)."""
    from scipy.stats import gaussian_kde

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    draws = result.rate_draws.reshape(-1, result.rate_draws.shape[-1])
    # A KDE of a few thousand draws looks the same and costs far less (evenly thinned, so
    # the figure is deterministic).
    draws = draws[:: max(1, len(draws) // _KDE_DRAWS)]
    lo, hi = np.quantile(draws, [0.001, 0.999])
    grid = np.linspace(max(lo - 0.05 * (hi - lo), 0.0), hi + 0.05 * (hi - lo), 400)
    for k, arm in enumerate(result.arm_ids):
        values = draws[:, k]
        if np.ptp(values) <= 0:
            continue
        density = gaussian_kde(values)(grid)
        style = "-" if result.active[k] else ":"
        label = arm + (" (control)" if k == result.control else "")
        ax.plot(grid, density, style, lw=1.8, label=label)
    ax.set_xlabel(result.rate_name + (" (decision piece)" if result.is_survival else ""))
    ax.set_ylabel("posterior density")
    ax.set_title("Posterior per arm")
    ax.legend(fontsize=8, frameon=False)
    return _png(fig)
