"""Render ``report.html``, ``report.md`` and ``figures/*.png`` from a results directory.

Reads only saved files — ``run.json``, ``summary.csv``, ``scenario.yaml`` and the small
summary files of `platsim.report.data` — never the per-trial records and never the engine,
so `platsim report RESULTS_DIR` re-renders a report (also one of the shipped ``reports/``)
without simulating. Rendering is deterministic: the same results give byte-identical files.
"""

from __future__ import annotations

import base64
import json
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from platsim.errors import ArgumentError
from platsim.report import data as report_data
from platsim.report import describe, figures, tables
from platsim.report.palette import arm_colours, arm_line_styles
from platsim.report.templates import CSS, HTML_TEMPLATE, MARKDOWN_TEMPLATE
from platsim.results.allocation import AllocationRow, read_allocation_csv
from platsim.results.metrics import MetricRow
from platsim.results.summary import read_summary_csv
from platsim.scenario.load import load_scenario, scenario_file_hash
from platsim.scenario.schema import Scenario
from platsim.simulate import write_atomically
from platsim.specs import arm_survival_truths
from platsim.truth.survival import survival_function

HTML_FILE = "report.html"
MARKDOWN_FILE = "report.md"
FIGURE_DIR = "figures"


@dataclass
class SavedResults:
    """Everything a report is drawn from, as read from a results directory."""

    directory: Path
    meta: dict[str, Any]
    metrics: list[MetricRow]
    scenario: Scenario
    allocation: list[AllocationRow]
    analyses: list[report_data.AnalysisRow]
    decisions: list[report_data.DecisionRow]
    distributions: list[report_data.DistributionRow]
    km: list[report_data.KMRow] = field(default_factory=list)

    @property
    def designs(self) -> list[str]:
        return list(self.meta["designs"])

    @property
    def truths(self) -> list[str]:
        return list(self.meta["truths"])


@dataclass(frozen=True)
class FigureRef:
    """One rendered figure: its file, its number in the report, caption and PNG bytes."""

    key: str
    number: int
    caption: str
    alt: str
    png: bytes

    @property
    def path(self) -> str:
        return f"{FIGURE_DIR}/{self.key}.png"

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")

    @property
    def width(self) -> int:
        return struct.unpack(">II", self.png[16:24])[0]

    @property
    def height(self) -> int:
        return struct.unpack(">II", self.png[16:24])[1]


@dataclass(frozen=True)
class ReportFiles:
    """What `render_report` wrote."""

    html: Path
    markdown: Path
    figures: tuple[Path, ...]


# ---------------------------------------------------------------------------- loading


def _need(directory: Path, name: str) -> Path:
    path = directory / name
    if not path.is_file():
        raise ArgumentError(
            f"RESULTS_DIR must hold the files `platsim run` writes; {path} is missing. "
            "Run `platsim run SCENARIO --out "
            f"{directory}` (add --resume to reuse finished chunks) to write it."
        )
    return path


def load_results(directory: Path) -> SavedResults:
    """Read a results directory (see `platsim.report.data` for the files)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ArgumentError(f"RESULTS_DIR must be a results directory; got {directory}.")
    meta = json.loads(_need(directory, "run.json").read_text())
    metrics = read_summary_csv(_need(directory, "summary.csv"))
    scenario = _load_scenario_copy(directory, meta)
    survival = scenario.endpoint.is_survival
    km_path = directory / report_data.KM_FILE
    return SavedResults(
        directory=directory,
        meta=meta,
        metrics=metrics,
        scenario=scenario,
        allocation=read_allocation_csv(_need(directory, report_data.ALLOCATION_FILE)),
        analyses=report_data.read_rows(
            _need(directory, report_data.ANALYSES_FILE), report_data.AnalysisRow
        ),
        decisions=report_data.read_rows(
            _need(directory, report_data.DECISIONS_FILE), report_data.DecisionRow
        ),
        distributions=report_data.read_rows(
            _need(directory, report_data.DISTRIBUTIONS_FILE), report_data.DistributionRow
        ),
        km=(
            report_data.read_rows(km_path, report_data.KMRow)
            if survival and km_path.is_file()
            else []
        ),
    )


def _load_scenario_copy(directory: Path, meta: dict[str, Any]) -> Scenario:
    """The scenario as simulated: the copy in the results directory, checked by its hash."""
    wanted = meta.get("scenario_sha256")
    candidates = [directory / report_data.SCENARIO_COPY]
    if meta.get("scenario_file"):
        candidates.append(Path(str(meta["scenario_file"])))
    for path in candidates:
        if path.is_file() and (wanted is None or scenario_file_hash(path) == wanted):
            return load_scenario(path)
    raise ArgumentError(
        f"RESULTS_DIR must hold the scenario that was simulated ({report_data.SCENARIO_COPY} "
        f"with SHA-256 {wanted}); found none in {directory}. Run `platsim run SCENARIO --out "
        f"{directory} --resume` to write it."
    )


# ---------------------------------------------------------------------------- figures


def _arm_style(scenario: Scenario) -> figures.ArmStyle:
    arms = tuple(scenario.arm_ids)
    control = scenario.control_id
    return figures.ArmStyle(
        arms=arms,
        colours=arm_colours(arms, control),
        line_styles=arm_line_styles(arms, control),
        control=control,
    )


def _allocation_constant(rows: Sequence[AllocationRow], design: str) -> bool:
    """True when no trial of `design` ever changed its allocation (fixed, nothing dropped)."""
    mine = [r for r in rows if r.design == design]
    initial = {(r.truth, r.arm): r.q50 for r in mine if r.period == 0}
    return all(
        abs(r.q10 - initial.get((r.truth, r.arm), r.q10)) < 1e-12
        and abs(r.q90 - initial.get((r.truth, r.arm), r.q90)) < 1e-12
        for r in mine
    )


def _true_survival(results: SavedResults) -> dict[str, dict[str, Any]]:
    """truth → arm → months ↦ true survival probability (from the scenario, no simulation)."""
    scenario = results.scenario
    curves: dict[str, dict[str, Any]] = {}
    for truth in results.truths:
        curves[truth] = {
            arm: (lambda months, t=t: survival_function(t, np.asarray(months, dtype=float)))
            for arm, t in arm_survival_truths(scenario, truth).items()
        }
    return curves


class _Numbering:
    def __init__(self) -> None:
        self.count = 0
        self.made: list[FigureRef] = []

    def add(self, key: str, figure, caption: str, alt: str) -> FigureRef | None:
        if figure is None:
            return None
        self.count += 1
        ref = FigureRef(key, self.count, caption, alt, figures.png_bytes(figure))
        self.made.append(ref)
        return ref


# ---------------------------------------------------------------------------- context


def _slug(text: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def build_context(results: SavedResults) -> tuple[dict[str, Any], list[FigureRef]]:
    """The template context and the figures, in the order they appear."""
    scenario = results.scenario
    meta = results.meta
    designs, truths = results.designs, results.truths
    survival = scenario.endpoint.is_survival
    control = scenario.control_id
    style = _arm_style(scenario)
    metrics = tables.metrics_index(results.metrics)
    numbering = _Numbering()
    n_trials = int(meta["n_trials"])

    overview_figures = [
        numbering.add(
            "size_duration",
            figures.size_duration_figure(designs, truths, results.distributions),
            "Distribution over the simulated trials of the number of patients enrolled and "
            "of the trial's duration (months from the first enrolment to its last analysis), "
            "for each design (rows) under each truth (shaded groups). Boxes: 25–75% of trials; "
            "whiskers: 5–95%; line: median; diamond: mean.",
            "Box plots of sample size and duration per design and truth",
        )
    ]

    design_sections = []
    for index, design in enumerate(designs):
        section_truths = []
        for truth in truths:
            if (design, truth, "", "mean_n") not in metrics:
                continue
            section_truths.append(
                {
                    "truth": truth,
                    "table": tables.arm_table(
                        metrics,
                        design,
                        truth,
                        truths=truths,
                        arms=scenario.arm_ids,
                        control=control,
                        survival=survival,
                    ),
                    "stops": tables.stop_reasons(metrics, design, truth),
                }
            )
        probabilities = {
            truth: figures.decision_probabilities(
                design, truth, scenario.arm_ids, metrics, results.decisions, n_trials
            )
            for truth in truths
        }
        refs = [
            numbering.add(
                f"decisions_{design}",
                figures.decisions_figure(design, truths, probabilities, style),
                f"Decisions per arm in design {design}: the percentage of trials in which each "
                "arm was declared effective, stopped for futility, dropped, declared best, "
                "superseded as control, capped at its maximum, or had no decision by the end, "
                "under each truth; whiskers ±1.96 MCSE.",
                f"Bar charts of decision probabilities per arm, design {design}",
            )
        ]
        notes = []
        timing = figures.timing_figure(
            design, truths, results.decisions, results.analyses, style, survival=survival
        )
        if timing is None:
            notes.append(
                "Every decision of this design is taken at its single (final) analysis, so "
                "there is no figure of when decisions happen."
            )
        refs.append(
            numbering.add(
                f"timing_{design}",
                timing,
                f"When decisions happen in design {design}: the percentage of trials in which "
                "each arm was decided at each analysis, by decision (solid: efficacy; hatched: "
                "the others). Analyses are numbered in the order performed; labels give the "
                "median number of patients enrolled"
                + (" and calendar month" if survival else "")
                + " at that analysis among the trials that reached it.",
                f"Bar charts of the analysis at which decisions happen, design {design}",
            )
        )
        if _allocation_constant(results.allocation, design):
            ratios = scenario.designs[design].allocation.ratios
            notes.append(
                "The allocation never changed in any simulated trial of this design "
                f"({describe._ratio_text(scenario, ratios)} throughout), so there is no "
                "allocation figure."
            )
        else:
            refs.append(
                numbering.add(
                    f"allocation_{design}",
                    figures.allocation_figure(design, truths, results.allocation, style),
                    f"Allocation probability of each arm over enrolment in design {design}: "
                    "median across trials (line) and 10–90% of trials (band) in each period "
                    "between analyses, against the median number of patients enrolled when it "
                    "was set. Dotted grey: share of trials still enrolling (trials that have "
                    "stopped leave the summary).",
                    f"Allocation probabilities over enrolment, design {design}",
                )
            )
        # The tables of a design share their notes: say them once, after the tables.
        table_notes = list(dict.fromkeys(note for t in section_truths for note in t["table"].notes))
        for t in section_truths:
            t["table"].notes = []
        notes = table_notes + notes
        design_sections.append(
            {
                "name": design,
                "anchor": f"design-{design}",
                "number": 4 + index,
                "truths": section_truths,
                "figures": [r for r in refs if r is not None],
                "notes": notes,
            }
        )

    estimate_figures = [
        numbering.add(
            "estimates",
            figures.estimates_figure(
                designs, truths, results.distributions, style, survival=survival
            ),
            (
                "Posterior median hazard ratio vs control (log scale)"
                if survival
                else "Posterior mean difference in response probability vs control "
                "(percentage points)"
            )
            + " at each arm's last analysis, across trials, per design and arm, with the true "
            "value (black bar"
            + ("; none where hazards are not proportional" if survival else "")
            + "). Stopping early when an arm looks good or bad makes estimates biased: the "
            "distance from the mean (diamond) to the truth is the bias reported in the tables. "
            "Boxes: 25–75% of trials; whiskers: 5–95%.",
            "Box plots of estimates against the true values",
        )
    ]
    estimates_number = 4 + len(designs)
    km_figures = []
    if survival and results.km:
        km_design = results.km[0].design
        km_figures.append(
            numbering.add(
                "km_examples",
                figures.km_figure(
                    truths,
                    results.km,
                    _true_survival(results),
                    style,
                    endpoint=scenario.endpoint.name,
                ),
                f"One simulated trial per truth (trial 1 of the run of design {km_design}): "
                "Kaplan–Meier curves of the data available at the trial's last analysis "
                "(ticks: censored patients), with each arm's true survival curve dashed.",
                "Kaplan–Meier curves of one simulated trial per truth",
            )
        )

    def truth_rows(truth: str) -> list[dict[str, str]]:
        return [
            {
                "arm": arm,
                "text": describe.describe_arm_truth(scenario, truth, arm),
                "source": scenario.truths[truth][arm].source or "",
            }
            for arm in scenario.arm_ids
        ]

    toc = [
        ("scenario", "1. Scenario"),
        ("designs", "2. Designs"),
        ("overview", "3. Overview: every design under every truth"),
        *((d["anchor"], f"{d['number']}. Design {d['name']}") for d in design_sections),
        ("estimates", f"{estimates_number}. Estimates against the truth (bias)"),
    ]
    if km_figures:
        toc.append(("examples", f"{estimates_number + 1}. Example trials (Kaplan–Meier)"))
    toc.append(("reproducibility", "Reproducibility"))

    context = {
        "title": scenario.title,
        "name": scenario.name,
        "description": scenario.description,
        "sources": scenario.sources,
        "endpoint_text": describe.describe_endpoint(scenario),
        "accrual_text": describe.describe_accrual(scenario),
        "subgroups_text": describe.describe_subgroups(scenario),
        "accrual_source": scenario.accrual.source or "",
        "arms": [
            {
                "id": arm.id,
                "label": arm.label or "",
                "role": describe.describe_arm_role(scenario, arm.id),
                "source": arm.source or "",
                "colour": style.colours[arm.id],
            }
            for arm in scenario.arms
        ],
        "truths": [{"name": truth, "rows": truth_rows(truth)} for truth in truths],
        "truth_heading": describe.truth_value_heading(scenario),
        "trends": _trend_notes(scenario, truths),
        "designs": [
            {
                "name": design,
                "description": scenario.designs[design].description,
                "rules": describe.describe_design(scenario, design),
            }
            for design in designs
        ],
        "overview": tables.overview_table(metrics, designs, truths, survival=survival),
        "overview_figures": [f for f in overview_figures if f is not None],
        "design_sections": design_sections,
        "estimate_figures": [f for f in estimate_figures if f is not None],
        "estimates_number": estimates_number,
        "km_figures": [f for f in km_figures if f is not None],
        "examples_number": estimates_number + 1,
        "toc": [
            {"anchor": anchor, "title": title, "md_anchor": _slug(title)} for anchor, title in toc
        ],
        "n_trials_text": f"{n_trials:,}",
        "seed": meta["seed"],
        "platsim_version": meta.get("platsim_version", "?"),
        "footer": _footer(meta),
        "rerender_command": "platsim report DIR",
        "rerun_command": _rerun_command(results),
    }
    return context, numbering.made


def _trend_notes(scenario: Scenario, truths: Sequence[str]) -> list[str]:
    notes = []
    for truth in truths:
        text = describe.describe_time_trend(scenario, truth)
        if text is not None:
            notes.append(f"Truth {truth}: {text}")
    return notes


def _footer(meta: dict[str, Any]) -> list[tuple[str, str]]:
    seed_record = meta.get("seed_record", {})
    n_chunks = seed_record.get("n_chunks", "?")
    return [
        ("platsim version", str(meta.get("platsim_version", "?"))),
        ("numpy version", str(meta.get("numpy_version", "?"))),
        ("Python version", str(meta.get("python_version", "?"))),
        ("seed", str(meta["seed"])),
        ("trials per design × truth", f"{int(meta['n_trials']):,}"),
        (
            "chunk size",
            f"{int(meta['chunk_size']):,} trials ({n_chunks} chunk{'' if n_chunks == 1 else 's'}"
            " per design × truth)",
        ),
        ("seed scheme", str(seed_record.get("scheme", "?"))),
        ("scenario file", str(meta.get("scenario_file", "?"))),
        ("scenario file SHA-256", str(meta.get("scenario_sha256", "?"))),
        ("designs", ", ".join(meta.get("designs", []))),
        ("truths", ", ".join(meta.get("truths", []))),
        ("simulated on", str(meta.get("created", "?"))),
    ]


def _rerun_command(results: SavedResults) -> str:
    meta = results.meta
    parts = [
        "platsim run",
        str(meta.get("scenario_file", "SCENARIO")),
        f"--trials {meta['n_trials']}",
        f"--seed {meta['seed']}",
        f"--chunk-size {meta['chunk_size']}",
    ]
    if results.designs != list(results.scenario.designs):
        parts += [f"--design {d}" for d in results.designs]
    if results.truths != list(results.scenario.truths):
        parts += [f"--truth {t}" for t in results.truths]
    return " ".join(parts)


# ---------------------------------------------------------------------------- render


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    env.tests["num"] = lambda value: isinstance(value, tables.Num)
    env.filters["md"] = _markdown_cell
    return env


def _markdown_cell(value: object) -> str:
    """Text safe inside a Markdown table cell (no pipes or line breaks)."""
    text = str(value if value is not None else "")
    return text.replace("|", "\\|").replace("\n", " ")


def render_report(results_dir: Path) -> ReportFiles:
    """Write report.html, report.md and figures/*.png into `results_dir` from its saved
    results (no simulation); return the paths written."""
    results = load_results(Path(results_dir))
    context, made = build_context(results)
    html_env = _environment()
    html_env.autoescape = True
    html = html_env.from_string(HTML_TEMPLATE).render(r=context, css=CSS)
    markdown = _environment().from_string(MARKDOWN_TEMPLATE).render(r=context)
    markdown = re.sub(r"\n{3,}", "\n\n", markdown)
    out = results.directory
    figure_dir = out / FIGURE_DIR
    figure_dir.mkdir(exist_ok=True)
    written = []
    for ref in made:
        path = out / ref.path
        write_atomically(path, lambda tmp, png=ref.png: tmp.write_bytes(png))
        written.append(path)
    keep = {path.name for path in written}
    for stale in figure_dir.glob("*.png"):
        if stale.name not in keep:
            stale.unlink()
    write_atomically(out / HTML_FILE, lambda tmp: tmp.write_text(html, encoding="utf-8"))
    write_atomically(out / MARKDOWN_FILE, lambda tmp: tmp.write_text(markdown, encoding="utf-8"))
    return ReportFiles(out / HTML_FILE, out / MARKDOWN_FILE, tuple(written))
