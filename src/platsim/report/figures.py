"""The report's figures (matplotlib, Agg, no pyplot state), drawn from the summary files.

Every figure is readable in print: labelled axes with units, a legend, the Okabe–Ito
palette with one colour per arm throughout a report (`palette.arm_colours`), hatching as
well as colour where two things are told apart, and a title that says what it shows.
Each function returns a `matplotlib.figure.Figure`, or None when it would show nothing
(e.g. the timing of decisions in a design with a single analysis); `png_bytes` renders one.
"""

from __future__ import annotations

import io
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from platsim.report.data import AnalysisRow, DecisionRow, DistributionRow, KMRow
from platsim.report.palette import NEUTRAL
from platsim.results.allocation import AllocationRow
from platsim.results.metrics import MetricRow

#: Figure width (inches) and resolution: 1,000 px wide, sharp when printed at ~7 inches.
WIDTH_INCHES = 10.0
DPI = 100

STYLE: dict[str, object] = {
    "font.family": "DejaVu Sans",
    "font.size": 9.5,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9.5,
    "legend.fontsize": 9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "figure.titlesize": 11.5,
    "figure.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#D9D9D9",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "hatch.linewidth": 0.8,
    "legend.frameon": False,
}


@dataclass(frozen=True)
class ArmStyle:
    """How each arm is drawn: colour and line style (arm ids in scenario order)."""

    arms: tuple[str, ...]
    colours: Mapping[str, str]
    line_styles: Mapping[str, str]
    control: str | None

    def label(self, arm: str) -> str:
        return f"{arm} (control)" if arm == self.control else arm


def png_bytes(figure: Figure) -> bytes:
    """The figure as a 256-colour PNG.

    Deterministic (no timestamp or software version in the file). Quantizing the flat-colour
    chart to a palette (no dithering) makes it about 2.5 times smaller with no visible change,
    which matters because every figure is stored twice (PNG file and HTML data URI).
    """
    from PIL import Image

    buffer = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    buffer.seek(0)
    with Image.open(buffer) as image:
        palette = image.convert("RGB").quantize(
            colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _grid(
    n_panels: int,
    *,
    ncols: int = 3,
    panel_height: float = 2.8,
    extra_height: float = 1.0,
    sharey: bool = False,
    sharex: bool = False,
) -> tuple[Figure, list]:
    ncols = max(1, min(ncols, n_panels))
    nrows = math.ceil(n_panels / ncols)
    figure = Figure(
        figsize=(WIDTH_INCHES, nrows * panel_height + extra_height), layout="constrained"
    )
    axes = figure.subplots(nrows, ncols, squeeze=False, sharey=sharey, sharex=sharex).ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return figure, list(axes[:n_panels])


#: Characters of legend text that fit on one line under a figure (9 pt on 10 inches).
_LEGEND_LINE_CHARACTERS = 120


def _bottom_legend(figure: Figure, handles: list, ncols: int | None = None) -> None:
    """One legend under the figure, as many columns as fit its width (columns are as wide as
    their longest label)."""
    widest = max(len(h.get_label()) for h in handles) + 6  # + handle and spacing
    fit = max(1, _LEGEND_LINE_CHARACTERS // widest)
    figure.legend(
        handles=handles,
        loc="outside lower center",
        ncols=min(ncols or 6, fit, len(handles)),
        handlelength=2.2,
        columnspacing=1.6,
    )


def _arm_handles(style: ArmStyle, arms: Sequence[str], kind: str = "line") -> list:
    if kind == "patch":
        return [Patch(facecolor=style.colours[a], label=style.label(a)) for a in arms]
    return [
        Line2D(
            [],
            [],
            color=style.colours[a],
            linestyle=style.line_styles[a],
            lw=2,
            label=style.label(a),
        )
        for a in arms
    ]


# ---------------------------------------------------------------------------- allocation


def allocation_figure(
    design: str, truths: Sequence[str], rows: Sequence[AllocationRow], style: ArmStyle
) -> Figure | None:
    """Allocation probability per arm over enrolment: median and 10–90% band across trials.

    One panel per truth; the x axis is the median number of patients enrolled when each
    allocation was set; the dotted grey line is the share of trials still enrolling.
    """
    rows = [r for r in rows if r.design == design]
    if not rows:
        return None
    with matplotlib.rc_context(STYLE):
        figure, axes = _grid(len(truths), sharey=True)
        for ax, truth in zip(axes, truths, strict=True):
            by_period: dict[int, dict[str, AllocationRow]] = defaultdict(dict)
            for row in rows:
                if row.truth == truth:
                    by_period[row.period][row.arm] = row
            periods = sorted(by_period)
            ax.set_title(f"truth: {truth}")
            ax.set_ylim(0, 1.02)
            ax.set_xlabel("patients enrolled")
            if not periods:
                continue
            first = [next(iter(by_period[p].values())) for p in periods]
            starts = [r.from_n for r in first]
            edges = np.maximum.accumulate(np.array([*starts, max(first[-1].to_n, starts[-1])]))
            # Many overlapping bands turn to mud: fainter fills, outlined, beyond three arms.
            alpha = 0.16 if len(style.arms) <= 3 else 0.07
            n_arms = len(style.arms)
            for index, arm in enumerate(style.arms):
                cells = [by_period[p].get(arm) for p in periods]
                if any(c is None for c in cells):
                    continue
                colour = style.colours[arm]
                q10 = np.array([c.q10 for c in cells])
                q50 = np.array([c.q50 for c in cells])
                q90 = np.array([c.q90 for c in cells])
                ax.stairs(q90, edges, baseline=q10, fill=True, color=colour, alpha=alpha, lw=0)
                if len(style.arms) > 3:
                    for bound in (q10, q90):
                        ax.stairs(bound, edges, baseline=None, color=colour, lw=0.6, alpha=0.6)
                # Arms often share a median (equal allocation): later arms are drawn thinner
                # on top of earlier ones, so coinciding lines show as stripes of every colour.
                ax.stairs(
                    q50,
                    edges,
                    baseline=None,
                    color=colour,
                    linestyle=style.line_styles[arm],
                    lw=1.5 + 1.0 * (n_arms - 1 - index),
                )
            share = np.array([r.share_enrolling for r in first])
            ax.stairs(share, edges, baseline=None, color=NEUTRAL, linestyle=(0, (1, 1.5)), lw=1.6)
            ax.set_xlim(0, max(edges[-1], 1))
        for index, ax in enumerate(axes):
            if index % 3 == 0:
                ax.set_ylabel("allocation probability")
        handles = _arm_handles(style, style.arms)
        handles += [
            Patch(facecolor=NEUTRAL, alpha=0.3, label="10–90% of trials"),
            Line2D(
                [],
                [],
                color=NEUTRAL,
                linestyle=(0, (1, 1.5)),
                lw=1.6,
                label="share of trials still enrolling",
            ),
        ]
        _bottom_legend(figure, handles)
        figure.suptitle(f"Allocation over enrolment, design {design} (median across trials)")
    return figure


# ---------------------------------------------------------------------------- decisions

#: Decision categories of the per-arm decision figure: key, label, hatch.
DECISION_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("efficacy", "efficacy"),
    ("futility", "futility"),
    ("dropped", "dropped\n(low P(best))"),
    ("best", "declared\nbest"),
    ("superseded", "superseded\nas control"),
    ("capped", "reached\nmax per arm"),
    ("none", "no decision\nby the end"),
)
_SUMMARY_METRIC = {
    "efficacy": "p_efficacy",
    "futility": "p_futility",
    "dropped": "p_dropped",
    "best": "p_declared_best",
    "capped": "p_capped",
}


def decision_probabilities(
    design: str,
    truth: str,
    arms: Sequence[str],
    metrics: Mapping[tuple[str, str, str, str], MetricRow],
    decisions: Sequence[DecisionRow],
    n_trials: int,
) -> dict[str, dict[str, tuple[float, float]]]:
    """category → arm → (probability, MCSE); from summary.csv where it has the metric,
    else summed over analyses from decisions.csv (MCSE from the `n_trials` simulated)."""
    result: dict[str, dict[str, tuple[float, float]]] = {}
    for key, _ in DECISION_CATEGORIES:
        per_arm: dict[str, tuple[float, float]] = {}
        for arm in arms:
            metric = _SUMMARY_METRIC.get(key)
            if metric is not None:
                row = metrics.get((design, truth, arm, metric))
                if row is not None:
                    per_arm[arm] = (row.estimate, row.mcse)
                continue
            rows = [
                d
                for d in decisions
                if d.design == design and d.truth == truth and d.arm == arm and d.status == key
            ]
            p = sum(d.probability for d in rows)
            per_arm[arm] = (p, math.sqrt(p * (1 - p) / n_trials))
        result[key] = per_arm
    return result


def decisions_figure(
    design: str,
    truths: Sequence[str],
    probabilities: Mapping[str, Mapping[str, Mapping[str, tuple[float, float]]]],
    style: ArmStyle,
) -> Figure | None:
    """Per-arm decision probabilities (%, ±1.96 MCSE) by category; one panel per truth.

    `probabilities[truth][category][arm]` = (probability, MCSE).
    """
    present = [
        (key, label)
        for key, label in DECISION_CATEGORIES
        if key == "efficacy"
        or any(
            value[0] > 0
            for truth in truths
            for arm, value in probabilities[truth][key].items()
            if not (key == "none" and arm == style.control)
        )
    ]
    with matplotlib.rc_context(STYLE):
        figure, axes = _grid(len(truths), sharey=True, panel_height=2.9)
        n_arms = len(style.arms)
        width = 0.8 / n_arms
        x = np.arange(len(present))
        for ax, truth in zip(axes, truths, strict=True):
            for k, arm in enumerate(style.arms):
                values = np.array(
                    [probabilities[truth][key].get(arm, (0.0, 0.0))[0] for key, _ in present]
                )
                errors = np.array(
                    [probabilities[truth][key].get(arm, (0.0, 0.0))[1] for key, _ in present]
                )
                errors = np.nan_to_num(errors)
                ax.bar(
                    x - 0.4 + width * (k + 0.5),
                    100 * values,
                    width=width,
                    color=style.colours[arm],
                    edgecolor="white",
                    linewidth=0.4,
                    yerr=196 * errors,
                    error_kw={"elinewidth": 0.8, "capsize": 1.5, "ecolor": "#444444"},
                )
            ax.set_xticks(x, [label for _, label in present], fontsize=8)
            ax.grid(axis="x", visible=False)
            ax.set_ylim(0, 105)
            ax.set_title(f"truth: {truth}")
        for index, ax in enumerate(axes):
            if index % 3 == 0:
                ax.set_ylabel("probability over trials (%)")
        _bottom_legend(figure, _arm_handles(style, style.arms, "patch"), ncols=min(n_arms, 5))
        figure.suptitle(
            f"Decisions per arm, design {design} (bars: % of trials; whiskers: ±1.96 MCSE)"
        )
    return figure


# ---------------------------------------------------------------------------- timing

_TIMING_STATUSES: tuple[tuple[str, str, str | None], ...] = (
    ("efficacy", "efficacy", None),
    ("futility", "futility", "////"),
    ("dropped", "dropped (low P(best))", "...."),
    ("best", "declared best", "xxx"),
    ("superseded", "superseded as control", "---"),
)


def timing_figure(
    design: str,
    truths: Sequence[str],
    decisions: Sequence[DecisionRow],
    analyses: Sequence[AnalysisRow],
    style: ArmStyle,
    *,
    survival: bool,
) -> Figure | None:
    """When decisions happen: P(arm decided at analysis j) per arm, stacked by decision.

    One panel per truth; x = analyses in the order performed, labelled with the median
    patients enrolled (and calendar month) at that analysis. None if every trial of the
    design has a single analysis.
    """
    analyses = [a for a in analyses if a.design == design]
    if not analyses or max(a.analysis for a in analyses) == 0:
        return None
    decisions = [d for d in decisions if d.design == design and d.analysis >= 0]
    arms = [a for a in style.arms if any(d.arm == a for d in decisions)]
    statuses = [s for s in _TIMING_STATUSES if any(d.status == s[0] for d in decisions)]
    if not arms:
        return None
    with matplotlib.rc_context(STYLE):
        figure, axes = _grid(len(truths), sharey=True, panel_height=3.0)
        width = 0.8 / len(arms)
        for ax, truth in zip(axes, truths, strict=True):
            rows = sorted((a for a in analyses if a.truth == truth), key=lambda a: a.analysis)
            if not rows:
                continue
            x = np.arange(len(rows))
            index = {a.analysis: i for i, a in enumerate(rows)}
            for k, arm in enumerate(arms):
                bottom = np.zeros(len(rows))
                for status, _, hatch in statuses:
                    values = np.zeros(len(rows))
                    for d in decisions:
                        if d.truth == truth and d.arm == arm and d.status == status:
                            if d.analysis in index:
                                values[index[d.analysis]] += 100 * d.probability
                    if not values.any():
                        continue
                    colour = style.colours[arm]
                    ax.bar(
                        x - 0.4 + width * (k + 0.5),
                        values,
                        width=width,
                        bottom=bottom,
                        color=colour if hatch is None else "white",
                        edgecolor=colour,
                        hatch=hatch,
                        linewidth=0.8,
                    )
                    bottom += values
            labels = []
            for a in rows:
                label = f"#{a.analysis + 1}\n{a.median_n:.0f}"
                if survival:
                    label += f"\n{a.median_months:.1f}"
                labels.append(label)
            step = max(1, math.ceil(len(rows) / 8))
            ax.set_xticks(x[::step], labels[::step], fontsize=8)
            ax.grid(axis="x", visible=False)
            ax.set_title(f"truth: {truth}")
            ax.set_xlabel(
                "analysis #, median patients enrolled"
                + (",\nmedian calendar month" if survival else "")
            )
        for index_, ax in enumerate(axes):
            if index_ % 3 == 0:
                ax.set_ylabel("P(decision at this analysis) (%)")
        handles = _arm_handles(style, arms, "patch")
        handles += [
            Patch(
                facecolor="#555555" if hatch is None else "white",
                edgecolor="#555555",
                hatch=hatch,
                label=label,
            )
            for _, label, hatch in statuses
        ]
        _bottom_legend(figure, handles, ncols=min(len(handles), 5))
        figure.suptitle(f"When decisions happen, design {design}")
    return figure


# ---------------------------------------------------------------------------- distributions


def _box_stats(row: DistributionRow, scale: float = 1.0) -> dict:
    return {
        "med": row.q50 * scale,
        "q1": row.q25 * scale,
        "q3": row.q75 * scale,
        "whislo": row.q5 * scale,
        "whishi": row.q95 * scale,
        "mean": row.mean * scale,
        "fliers": [],
    }


def _horizontal_bxp(ax, stats: list[dict], **kwargs) -> None:
    """`Axes.bxp` with horizontal boxes (matplotlib ≥ 3.10 says `orientation`, older `vert`)."""
    try:
        ax.bxp(stats, orientation="horizontal", **kwargs)
    except TypeError:
        ax.bxp(stats, vert=False, **kwargs)


_BOX_NOTE = "boxes: 25–75% of trials, whiskers 5–95%, line: median, ◆: mean"


def size_duration_figure(
    designs: Sequence[str], truths: Sequence[str], rows: Sequence[DistributionRow]
) -> Figure | None:
    """Distributions of the trial's sample size (patients) and duration (months)."""
    table = {(r.design, r.truth, r.quantity): r for r in rows if r.arm == ""}
    pairs = [(d, t) for t in truths for d in designs if (d, t, "total_n") in table]
    if not pairs:
        return None
    with matplotlib.rc_context(STYLE):
        height = 0.32 * len(pairs) + 1.6
        figure = Figure(figsize=(WIDTH_INCHES, height), layout="constrained")
        axes = figure.subplots(1, 2, sharey=True)
        positions = np.arange(len(pairs))[::-1]
        for ax, quantity, label in (
            (axes[0], "total_n", "sample size (patients)"),
            (axes[1], "duration_months", "duration (months, start to last analysis)"),
        ):
            stats = [_box_stats(table[(d, t, quantity)]) for d, t in pairs]
            _shade_groups(ax, pairs, positions)
            _horizontal_bxp(
                ax,
                stats,
                positions=positions,
                widths=0.6,
                showmeans=True,
                patch_artist=True,
                boxprops={"facecolor": "#D9D9D9", "edgecolor": "#333333"},
                medianprops={"color": "black", "lw": 1.8},
                meanprops={
                    "marker": "D",
                    "markerfacecolor": "white",
                    "markeredgecolor": "black",
                    "markersize": 4.5,
                },
                whiskerprops={"color": "#333333"},
                capprops={"color": "#333333"},
            )
            ax.set_xlabel(label)
            ax.grid(axis="y", visible=False)
            # A nearly constant quantity (every trial at the maximum) would fill the axis
            # with a sliver of range: show at least the top fifth of the scale.
            low = min(min(s["whislo"], s["mean"]) for s in stats)
            high = max(max(s["whishi"], s["mean"]) for s in stats)
            if high > 0 and high - low < 0.2 * high:
                ax.set_xlim(min(0.8 * high, low), 1.02 * high)
        axes[0].set_yticks(positions, [f"{d} · {t}" for d, t in pairs])
        axes[0].set_ylabel("design · truth")
        figure.suptitle("Sample size and duration (" + _BOX_NOTE + ")")
    return figure


def _shade_groups(ax, pairs: Sequence[tuple[str, str]], positions: np.ndarray) -> None:
    """Light bands behind alternate truths, so the design rows of one truth read together."""
    truths = list(dict.fromkeys(t for _, t in pairs))
    for index, truth in enumerate(truths):
        if index % 2:
            continue
        rows = [p for (d, t), p in zip(pairs, positions, strict=True) if t == truth]
        ax.axhspan(min(rows) - 0.5, max(rows) + 0.5, color="#F2F2F2", zorder=0, lw=0)


def estimates_figure(
    designs: Sequence[str],
    truths: Sequence[str],
    rows: Sequence[DistributionRow],
    style: ArmStyle,
    *,
    survival: bool,
) -> Figure | None:
    """Each experimental arm's estimate against control across trials, with the truth.

    Response difference in percentage points, or hazard ratio on a log axis; the black bar
    marks the true value (absent when there is no single true hazard ratio).
    """
    table = {(r.design, r.truth, r.arm): r for r in rows if r.quantity == "diff_estimate"}
    arms = [a for a in style.arms if any(key[2] == a for key in table)]
    labels = [(d, a) for d in designs for a in arms]
    if not arms:
        return None
    scale = 1.0 if survival else 100.0
    with matplotlib.rc_context(STYLE):
        ncols = 2 if len(truths) > 1 else 1
        figure, axes = _grid(
            len(truths),
            ncols=ncols,
            panel_height=0.3 * len(labels) + 1.0,
            extra_height=1.0,
            sharey=True,
        )
        positions = np.arange(len(labels))[::-1]
        for ax, truth in zip(axes, truths, strict=True):
            for (design, arm), y in zip(labels, positions, strict=True):
                row = table.get((design, truth, arm))
                if row is None:
                    continue
                colour = style.colours[arm]
                _horizontal_bxp(
                    ax,
                    [_box_stats(row, scale)],
                    positions=[y],
                    widths=0.6,
                    showmeans=True,
                    patch_artist=True,
                    boxprops={"facecolor": colour, "alpha": 0.45, "edgecolor": colour},
                    medianprops={"color": colour, "lw": 2},
                    meanprops={
                        "marker": "D",
                        "markerfacecolor": "white",
                        "markeredgecolor": "black",
                        "markersize": 4.5,
                    },
                    whiskerprops={"color": colour},
                    capprops={"color": colour},
                )
                if math.isfinite(row.truth_value):
                    ax.plot(
                        [row.truth_value * scale] * 2,
                        [y - 0.42, y + 0.42],
                        color="black",
                        lw=2.2,
                        solid_capstyle="butt",
                    )
            if survival:
                ax.set_xscale("log")
                ax.axvline(1.0, color="#999999", lw=0.8, ls="--")
                _hazard_ratio_ticks(ax)
                ax.set_xlabel("estimated hazard ratio vs control (log scale)")
            else:
                ax.axvline(0.0, color="#999999", lw=0.8, ls="--")
                ax.set_xlabel("estimated difference vs control (percentage points)")
            ax.grid(axis="y", visible=False)
            ax.set_title(f"truth: {truth}")
        axes[0].set_yticks(positions, [f"{d}: {a}" for d, a in labels])
        handles = _arm_handles(style, arms, "patch")
        handles += [
            Line2D([], [], color="black", lw=2.2, label="true value"),
            Line2D(
                [],
                [],
                color="black",
                marker="D",
                markerfacecolor="white",
                lw=0,
                label="mean estimate (bias = mean − truth)",
            ),
        ]
        _bottom_legend(figure, handles, ncols=min(len(handles), 4))
        what = "posterior median hazard ratio" if survival else "posterior mean difference"
        figure.suptitle(f"Estimates against the truth: {what} at each arm's last analysis")
    return figure


#: Hazard-ratio ticks in order of preference (1 first, then round values).
_HR_TICKS = (1.0, 0.5, 2.0, 0.2, 0.1, 5.0, 0.3, 0.7, 1.5, 3.0, 10.0, 0.4, 0.6, 0.8, 1.25, 0.9)

#: Minimum distance between two tick labels, as a fraction of the axis width.
_MIN_TICK_GAP = 0.075


def _hazard_ratio_ticks(ax) -> None:
    """Readable ticks on a log hazard-ratio axis: round values, 1 first, none crowding."""
    low, high = ax.get_xlim()
    span = math.log(high) - math.log(low)
    kept: list[float] = []
    for tick in _HR_TICKS:
        if not low <= tick <= high:
            continue
        position = (math.log(tick) - math.log(low)) / span
        if all(abs(position - (math.log(k) - math.log(low)) / span) >= _MIN_TICK_GAP for k in kept):
            kept.append(tick)
    ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(sorted(kept)))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlim(low, high)


# ---------------------------------------------------------------------------- Kaplan–Meier


def kaplan_meier(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan–Meier estimate: step times (starting at 0) and survival just after each."""
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    event_times = np.unique(time[event])
    at_risk = np.array([(time >= t).sum() for t in event_times], dtype=float)
    deaths = np.array([(event & (time == t)).sum() for t in event_times], dtype=float)
    survival = np.cumprod(1.0 - deaths / np.maximum(at_risk, 1.0))
    return np.concatenate([[0.0], event_times]), np.concatenate([[1.0], survival])


def km_figure(
    truths: Sequence[str],
    rows: Sequence[KMRow],
    true_survival: Mapping[str, Mapping[str, object]],
    style: ArmStyle,
    *,
    endpoint: str,
) -> Figure | None:
    """Kaplan–Meier curves of one simulated trial per truth, with the true curves dashed.

    `true_survival[truth][arm]` is a callable months → survival probability.
    """
    truths = [t for t in truths if any(r.truth == t for r in rows)]
    if not truths:
        return None
    with matplotlib.rc_context(STYLE):
        figure, axes = _grid(len(truths), sharey=True, panel_height=3.0)
        for ax, truth in zip(axes, truths, strict=True):
            patients = [r for r in rows if r.truth == truth]
            horizon = max(r.time_months for r in patients)
            grid = np.linspace(0, max(horizon, 1e-9), 200)
            notes = []
            for arm in style.arms:
                mine = [r for r in patients if r.arm == arm]
                colour = style.colours[arm]
                curve = true_survival.get(truth, {}).get(arm)
                if curve is not None:
                    ax.plot(grid, curve(grid), color=colour, lw=1.1, ls="--", alpha=0.9)
                if not mine:
                    continue
                time = np.array([r.time_months for r in mine])
                event = np.array([r.event for r in mine], dtype=bool)
                steps, surv = kaplan_meier(time, event)
                steps = np.append(steps, time.max())
                surv = np.append(surv, surv[-1])
                ax.step(
                    steps,
                    surv,
                    where="post",
                    color=colour,
                    lw=1.8,
                    linestyle=style.line_styles[arm],
                )
                censored = time[~event]
                if censored.size:
                    # The step function's value at the censoring time.
                    at = surv[np.searchsorted(steps, censored, side="right") - 1]
                    ax.plot(censored, at, "|", color=colour, markersize=5, mew=0.9)
                notes.append(f"{arm}: n = {len(mine)}, {int(event.sum())} events")
            first = patients[0]
            ax.set_title(f"truth: {truth}")
            ax.text(
                0.98,
                0.97,
                "\n".join(notes) + f"\nanalysis at month {first.analysis_month:.1f}",
                transform=ax.transAxes,
                ha="right",
                va="top",
                fontsize=7.5,
                bbox={"facecolor": "white", "edgecolor": "#CCCCCC", "alpha": 0.9, "pad": 2},
            )
            ax.set_ylim(0, 1.02)
            ax.set_xlim(0, horizon * 1.02 if horizon > 0 else 1)
            ax.set_xlabel("months since randomization")
        for index, ax in enumerate(axes):
            if index % 3 == 0:
                ax.set_ylabel(f"{endpoint}: probability event-free")
        handles = _arm_handles(style, style.arms)
        handles += [
            Line2D([], [], color=NEUTRAL, lw=1.8, label="simulated trial (Kaplan–Meier)"),
            Line2D([], [], color=NEUTRAL, lw=1.1, ls="--", label="true curve"),
            Line2D([], [], color=NEUTRAL, marker="|", lw=0, markersize=6, label="censored"),
        ]
        _bottom_legend(figure, handles)
        design = rows[0].design
        figure.suptitle(
            f"One simulated trial per truth (design {design}, trial 1 of the run), "
            "data at its last analysis"
        )
    return figure
