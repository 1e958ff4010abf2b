"""comparison.csv, comparison.md, comparison.html and the comparison figures.

The CSV is the long table every other output is drawn from (one row per truth × metric ×
arm × design). The HTML page is self-contained: figures are embedded as base64 PNG, styles
are inline, nothing is fetched from the network. Figures use the Okabe–Ito palette
(colour-blind safe) plus a distinct marker per design, so they also read in greyscale.
"""

from __future__ import annotations

import base64
import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np

from platsim.compare.paired import (
    ARM_METRICS,
    PROBABILITY_METRICS,
    TRIAL_METRICS,
    ComparisonResult,
    ComparisonRow,
)
from platsim.simulate import write_atomically

#: Okabe & Ito (2008) colour-blind-safe palette (black last: reserved for reference lines).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
MARKERS = ("o", "s", "D", "^", "v", "P", "X")

CSV_COLUMNS = (
    "truth",
    "metric",
    "arm",
    "design",
    "reference",
    "estimate",
    "mcse",
    "difference",
    "mcse_paired",
    "mcse_unpaired",
)

FIGURE_POWER = "comparison_power_vs_n.png"
FIGURE_DIFFERENCES = "comparison_differences.png"

_TRIAL_LABELS = {
    "p_any_efficacy": "P(any efficacy)",
    "fwer": "FWER",
    "p_select_best": "P(select truly best)",
    "mean_n": "mean n",
    "mean_duration_months": "mean duration",
}
_ARM_LABELS = {
    "p_efficacy": "P(efficacy)",
    "p_futility": "P(futility)",
    "p_selected": "P(selected)",
    "mean_n": "mean n",
}
_UNITS = {"mean_n": "patients", "mean_duration_months": "months"}


def metric_label(metric: str, arm: str = "") -> str:
    """Readable name of a metric, with its unit: 'mean n, arm X (patients)', 'FWER (%)'."""
    name = _ARM_LABELS[metric] + f", {arm}" if arm else _TRIAL_LABELS[metric]
    unit = "%" if metric in PROBABILITY_METRICS else _UNITS.get(metric, "")
    return f"{name} ({unit})" if unit else name


def difference_unit(metric: str) -> str:
    """Unit of a difference: percentage points for probabilities."""
    return "percentage points" if metric in PROBABILITY_METRICS else _UNITS.get(metric, "")


def _scale(metric: str) -> float:
    return 100.0 if metric in PROBABILITY_METRICS else 1.0


def fmt_estimate(metric: str, estimate: float, mcse: float) -> str:
    """'12.3 ± 0.3' (probabilities in %, means in their unit); '–' when undefined."""
    if not math.isfinite(estimate):
        return "–"
    s = _scale(metric)
    text = f"{s * estimate:.1f}"
    return text + (f" ± {s * mcse:.2f}" if math.isfinite(mcse) else "")


def fmt_difference(metric: str, value: float) -> str:
    """Signed difference (percentage points for probabilities); '–' when undefined."""
    if not math.isfinite(value):
        return "–"
    text = f"{_scale(metric) * value:+.2f}"
    return "0.00" if text in {"+0.00", "-0.00"} else text.replace("-", "−")


def fmt_se(metric: str, value: float) -> str:
    return "–" if not math.isfinite(value) else f"{_scale(metric) * value:.2f}"


def fmt_ratio(paired: float, unpaired: float) -> str:
    """How many times smaller the paired MCSE is ('∞' when it is 0)."""
    if not (math.isfinite(paired) and math.isfinite(unpaired)):
        return "–"
    if paired == 0:
        return "∞" if unpaired > 0 else "–"
    return f"{unpaired / paired:.1f}×"


# ---------------------------------------------------------------------- the CSV


def _num(value: float) -> str:
    return "" if value is None or not math.isfinite(value) else repr(float(value))


def comparison_csv_text(rows: Sequence[ComparisonRow]) -> str:
    """comparison.csv: truth, metric, arm, design, reference, estimate, mcse, difference,
    mcse_paired, mcse_unpaired (empty where undefined: the reference's own differences)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.truth,
                row.metric,
                row.arm,
                row.design,
                row.reference,
                _num(row.estimate),
                _num(row.mcse),
                _num(row.difference),
                _num(row.mcse_paired),
                _num(row.mcse_unpaired),
            ]
        )
    return buffer.getvalue()


def read_comparison_csv(path: Path) -> list[ComparisonRow]:
    """Read comparison.csv back into rows."""

    def number(text: str) -> float:
        return float(text) if text else math.nan

    with open(path, newline="") as stream:
        return [
            ComparisonRow(
                truth=r["truth"],
                metric=r["metric"],
                arm=r["arm"],
                design=r["design"],
                reference=r["reference"],
                estimate=number(r["estimate"]),
                mcse=number(r["mcse"]),
                difference=number(r["difference"]),
                mcse_paired=number(r["mcse_paired"]),
                mcse_unpaired=number(r["mcse_unpaired"]),
            )
            for r in csv.DictReader(stream)
        ]


# ---------------------------------------------------------------------- tables


@dataclass(frozen=True)
class TruthTables:
    """Pre-formatted cells of one truth's two tables (shared by Markdown and HTML)."""

    truth: str
    estimate_header: list[str]
    estimate_rows: list[list[str]]
    difference_header: list[str]
    difference_rows: list[list[str]]


def _index(rows: Sequence[ComparisonRow]) -> dict[tuple[str, str, str, str], ComparisonRow]:
    return {(r.truth, r.metric, r.arm, r.design): r for r in rows}


def truth_tables(result: ComparisonResult) -> list[TruthTables]:
    """Per truth: designs × key metrics (estimate ± MCSE), and every metric's paired
    difference from the reference with its paired and unpaired MCSE."""
    index = _index(result.rows)
    control = result.scenario.control_id
    experimental = [arm for arm in result.scenario.arm_ids if arm != control]
    others = [d for d in result.designs if d != result.reference]
    tables = []
    for truth in result.truths:
        columns = [("", m) for m in TRIAL_METRICS] + [(arm, "p_efficacy") for arm in experimental]
        columns = [c for c in columns if (truth, c[1], c[0], result.reference) in index]
        estimate_header = ["design", *(metric_label(m, a) for a, m in columns)]
        estimate_rows = []
        for design in result.designs:
            cells = [design + (" (reference)" if design == result.reference else "")]
            for arm, metric in columns:
                row = index[(truth, metric, arm, design)]
                cells.append(fmt_estimate(metric, row.estimate, row.mcse))
            estimate_rows.append(cells)
        difference_header = ["metric"]
        for design in others:
            difference_header += [
                f"Δ {design}",
                "MCSE paired",
                "MCSE unpaired",
                "unpaired / paired",
            ]
        difference_rows = []
        keys = [("", m) for m in TRIAL_METRICS] + [
            (arm, m) for m in ARM_METRICS for arm in result.scenario.arm_ids
        ]
        for arm, metric in keys:
            if (truth, metric, arm, result.reference) not in index:
                continue
            if arm and arm == control and metric in ("p_efficacy", "p_futility"):
                continue  # never declared for the control (kept in the CSV)
            cells = [metric_label(metric, arm).replace("(%)", "(pp)")]
            for design in others:
                row = index[(truth, metric, arm, design)]
                cells += [
                    fmt_difference(metric, row.difference),
                    fmt_se(metric, row.mcse_paired),
                    fmt_se(metric, row.mcse_unpaired),
                    fmt_ratio(row.mcse_paired, row.mcse_unpaired),
                ]
            difference_rows.append(cells)
        tables.append(
            TruthTables(truth, estimate_header, estimate_rows, difference_header, difference_rows)
        )
    return tables


# ---------------------------------------------------------------------- figures


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    return buffer.getvalue()


def _style(design_index: int) -> tuple[str, str]:
    return PALETTE[design_index % len(PALETTE)], MARKERS[design_index % len(MARKERS)]


def figure_power_vs_n(result: ComparisonResult) -> bytes:
    """P(any efficacy) against mean sample size, one panel per truth, ±1.96 MCSE bars."""
    from matplotlib.figure import Figure

    index = _index(result.rows)
    n_panels = len(result.truths)
    n_cols = min(n_panels, 3)
    n_rows = math.ceil(n_panels / n_cols)
    fig = Figure(figsize=(4.2 * n_cols, 3.6 * n_rows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False)).ravel()
    for panel, truth in enumerate(result.truths):
        ax = axes[panel]
        for d, design in enumerate(result.designs):
            power = index.get((truth, "p_any_efficacy", "", design))
            size = index.get((truth, "mean_n", "", design))
            if power is None or size is None:
                continue
            colour, marker = _style(d)
            ax.errorbar(
                size.estimate,
                100 * power.estimate,
                xerr=1.96 * size.mcse,
                yerr=1.96 * 100 * power.mcse,
                color=colour,
                marker=marker,
                markersize=8,
                linestyle="none",
                capsize=3,
                label=design + (" (reference)" if design == result.reference else ""),
            )
        ax.set_title(f"truth: {truth}")
        ax.set_xlabel("mean sample size (patients)")
        ax.set_ylabel("P(any arm declared effective) (%)")
        ax.grid(True, color="#dddddd", linewidth=0.6)
        ax.margins(x=0.25, y=0.25)
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4))
    fig.suptitle(
        f"{result.scenario.name}: power vs expected sample size "
        f"({result.meta.get('n_trials')} trials per design × truth; bars ±1.96 MCSE)"
    )
    return _png(fig)


#: Metrics shown in the differences figure (one column each).
DIFFERENCE_FIGURE_METRICS = ("p_any_efficacy", "p_select_best", "mean_n", "mean_duration_months")


def figure_differences(result: ComparisonResult) -> bytes:
    """Paired differences from the reference with paired (thick) and unpaired (thin) 95%
    Monte Carlo intervals; rows are truths, columns metrics."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    index = _index(result.rows)
    others = [d for d in result.designs if d != result.reference]
    n_rows, n_cols = len(result.truths), len(DIFFERENCE_FIGURE_METRICS)
    fig = Figure(
        figsize=(3.3 * n_cols, (0.45 * len(others) + 1.3) * n_rows + 0.8), layout="constrained"
    )
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    positions = np.arange(len(others))[::-1].astype(float)
    for r, truth in enumerate(result.truths):
        for c, metric in enumerate(DIFFERENCE_FIGURE_METRICS):
            ax = axes[r, c]
            scale = _scale(metric)
            for i, design in enumerate(others):
                row = index.get((truth, metric, "", design))
                if row is None or not math.isfinite(row.difference):
                    continue
                colour, marker = _style(result.designs.index(design))
                y = positions[i]
                ax.errorbar(
                    scale * row.difference,
                    y - 0.18,
                    xerr=1.96 * scale * row.mcse_unpaired,
                    color=colour,
                    linestyle="none",
                    elinewidth=1.0,
                    capsize=3,
                    alpha=0.7,
                )
                ax.errorbar(
                    scale * row.difference,
                    y,
                    xerr=1.96 * scale * row.mcse_paired,
                    color=colour,
                    marker=marker,
                    markersize=6,
                    linestyle="none",
                    elinewidth=3.0,
                    capsize=0,
                )
            ax.axvline(0.0, color="black", linewidth=0.8)
            ax.set_yticks(positions, others if c == 0 else [""] * len(others))
            ax.set_ylim(-0.7, len(others) - 0.4)
            ax.grid(True, axis="x", color="#dddddd", linewidth=0.6)
            unit = difference_unit(metric)
            ax.set_xlabel(f"Δ {_TRIAL_LABELS[metric]} ({unit})", fontsize=9)
            if c == 0:
                ax.set_ylabel(f"truth: {truth}")
    legend = [
        Line2D([], [], color="#444444", linewidth=3.0, label="paired 95% MC interval"),
        Line2D([], [], color="#444444", linewidth=1.0, label="unpaired 95% MC interval"),
    ]
    fig.legend(handles=legend, loc="outside lower center", ncols=2)
    fig.suptitle(
        f"Paired differences from {result.reference} on common random numbers "
        "(each design's trial i sees the same patients)"
    )
    return _png(fig)


# ---------------------------------------------------------------------- Markdown / HTML


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]], right_from: int = 1) -> str:
    align = ["---"] + ["---:" for _ in header[right_from:]]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _intro(result: ComparisonResult) -> str:
    meta = result.meta
    return (
        f"{len(result.designs)} designs × {len(result.truths)} truths, "
        f"{meta.get('n_trials')} simulated trials each, seed {meta.get('seed')}, chunk size "
        f"{meta.get('chunk_size')}. Every design under a truth sees the same simulated "
        "patients (common random numbers), so trial i of one design is paired with trial i "
        f"of the reference design **{result.reference}**. Δ is the mean of the per-trial "
        "differences; its paired MCSE is sd(differences)/√n, the unpaired MCSE "
        "√(MCSE₁² + MCSE₂²) is what two independent runs would give. Probabilities are in %, "
        "differences of probabilities in percentage points (pp); ± is one Monte Carlo "
        "standard error."
    )


def comparison_markdown(result: ComparisonResult) -> str:
    """comparison.md (figures are the PNG files written beside it)."""
    meta = result.meta
    parts = [
        f"# Design comparison: {result.scenario.title}",
        "",
        _intro(result),
        "",
        f"![Power vs expected sample size]({FIGURE_POWER})",
        "",
    ]
    for tables in truth_tables(result):
        parts += [
            f"## Truth: {tables.truth}",
            "",
            _md_table(tables.estimate_header, tables.estimate_rows),
            "",
            f"Paired differences from **{result.reference}**:",
            "",
            _md_table(tables.difference_header, tables.difference_rows),
            "",
        ]
    parts += [
        f"![Paired differences]({FIGURE_DIFFERENCES})",
        "",
        "---",
        "",
        _footer(meta),
        "",
    ]
    return "\n".join(parts)


def _footer(meta: dict) -> str:
    return (
        f"platsim {meta.get('platsim_version')}, numpy {meta.get('numpy_version')}, "
        f"Python {meta.get('python_version')}; scenario {meta.get('scenario_file')} "
        f"(SHA-256 {meta.get('scenario_sha256')}); seed {meta.get('seed')}, "
        f"{meta.get('n_trials')} trials, chunk size {meta.get('chunk_size')}; "
        f"created {meta.get('created')}. Reproduce: `platsim compare {meta.get('scenario_file')} "
        f"--designs {','.join(meta.get('designs', []))} --truths "
        f"{','.join(meta.get('truths', []))} --trials {meta.get('n_trials')} "
        f"--seed {meta.get('seed')} --chunk-size {meta.get('chunk_size')}`."
    )


_HTML_TEMPLATE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Design comparison: {{ title }}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto;
       max-width: 72rem; padding: 0 1rem; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem;
       border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.8rem 0 1.4rem; font-size: 0.9rem; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #e2e2e2; }
th { background: #f3f3f3; text-align: center; }
td { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td:first-child, th:first-child { text-align: left; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; }
figcaption, .note { color: #444; font-size: 0.9rem; }
footer { margin-top: 2.5rem; color: #555; font-size: 0.8rem; border-top: 1px solid #ccc;
         padding-top: 0.6rem; }
code { background: #f3f3f3; padding: 0 0.2rem; }
</style>
</head>
<body>
<h1>Design comparison: {{ title }}</h1>
<p>{{ intro }}</p>
<figure>
<img alt="Power against expected sample size per design and truth"
     src="data:image/png;base64,{{ figure_power }}">
<figcaption>P(any experimental arm declared effective) against the mean sample size
(patients) of each design under each truth; bars are ±1.96 Monte Carlo standard
errors.</figcaption>
</figure>
{% for t in tables %}
<section>
<h2>Truth: {{ t.truth }}</h2>
<table>
<thead><tr>{% for h in t.estimate_header %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in t.estimate_rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table>
<p class="note">Paired differences from <strong>{{ reference }}</strong> (pp = percentage
points):</p>
<table>
<thead><tr>{% for h in t.difference_header %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in t.difference_rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table>
</section>
{% endfor %}
<figure>
<img alt="Paired differences from the reference design with paired and unpaired intervals"
     src="data:image/png;base64,{{ figure_differences }}">
<figcaption>Differences from {{ reference }}: thick bars are paired 95% Monte Carlo intervals
(±1.96 paired MCSE), thin bars the unpaired ones two independent runs would
give.</figcaption>
</figure>
<footer>{{ footer }}</footer>
</body>
</html>
"""


def comparison_html(result: ComparisonResult, figure_power: bytes, figure_diffs: bytes) -> str:
    """comparison.html: self-contained (figures embedded as base64 PNG, no external URLs)."""
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = environment.from_string(_HTML_TEMPLATE)
    intro = _intro(result).replace("**", "")
    footer = _footer(result.meta).replace("`", "")
    return template.render(
        title=result.scenario.title,
        intro=intro,
        tables=truth_tables(result),
        reference=result.reference,
        figure_power=base64.b64encode(figure_power).decode("ascii"),
        figure_differences=base64.b64encode(figure_diffs).decode("ascii"),
        footer=footer,
    )


def write_comparison(result: ComparisonResult, out_dir: Path) -> dict[str, Path]:
    """Write comparison.csv, comparison.md (+ PNG figures beside it) and comparison.html."""
    out_dir.mkdir(parents=True, exist_ok=True)
    power_png = figure_power_vs_n(result)
    diffs_png = figure_differences(result)
    outputs = {
        "csv": (out_dir / "comparison.csv", comparison_csv_text(result.rows).encode()),
        "md": (out_dir / "comparison.md", comparison_markdown(result).encode()),
        "html": (
            out_dir / "comparison.html",
            comparison_html(result, power_png, diffs_png).encode(),
        ),
        "figure_power": (out_dir / FIGURE_POWER, power_png),
        "figure_differences": (out_dir / FIGURE_DIFFERENCES, diffs_png),
    }
    for path, data in outputs.values():
        write_atomically(path, lambda tmp, data=data: tmp.write_bytes(data))
    return {key: path for key, (path, _) in outputs.items()}
