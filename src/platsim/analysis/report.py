"""Write an interim analysis: analysis.json, interim_report.md, interim_report.html and the
figures (forest.png, densities.png).

The HTML report is self-contained (figures embedded as base64 PNG); the Markdown report
links the PNG files written next to it. Both are rendered by jinja2 from the same rows.
"""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined

from platsim.analysis.figures import density_plot, forest_plot
from platsim.analysis.interim import InterimAnalysis, design_rules
from platsim.simulate import write_atomically

FILES = ("analysis.json", "interim_report.md", "interim_report.html")


def _pct(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{100 * value:.1f}%"


def _fmt(value: Any, spec: str = ".3g") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:{spec}}".replace("-", "−")


def _interval(entry: dict[str, Any] | None, spec: str = ".3g") -> str:
    if entry is None:
        return "–"
    point = entry.get("estimate", entry.get("mean"))
    return f"{_fmt(point, spec)} ({_fmt(entry['lower'], spec)}, {_fmt(entry['upper'], spec)})"


_DECISION_TEXT = {"none": "continue", "opens": "opens now", "not_opened": "not open"}


def table_rows(result: InterimAnalysis, data: dict[str, Any]) -> list[dict[str, str]]:
    """One row of display strings per arm (shared by the terminal table and the reports);
    `data` is `result.to_json()`."""
    rows = []
    rate_format = ".3g" if result.is_survival else ".2f"
    for arm_id, entry in data["arms"].items():
        if result.is_survival:
            outcomes = f"{entry['n_events']} / {entry['exposure_months']:.0f}"
        else:
            outcomes = f"{entry['n_responses']} / {entry['n_observed']}"
        rows.append(
            {
                "arm": arm_id + (" (control)" if entry["control"] else ""),
                "n": str(entry["n_enrolled"]),
                "outcomes": outcomes,
                "posterior": _interval(entry["posterior"], rate_format),
                "effect": _interval(entry["effect_vs_control"], ".2f"),
                "p_best": _pct(entry["p_best"]),
                "p_better": _pct(entry["p_better"]),
                "decision": _DECISION_TEXT.get(entry["decision"], entry["decision"]),
                "allocation": _pct(entry["next_allocation"]),
            }
        )
    return rows


def headers(result: InterimAnalysis) -> dict[str, str]:
    """Column headers, with units."""
    spec = result.spec
    margin = spec.record_margin
    if result.is_survival:
        better = f"P(HR < {1 - margin:g})"
    else:
        sign = ">" if spec.higher_is_better else "<"
        better = f"P(p {sign} ctrl{f' {margin:+g}' if margin else ''})"
    return {
        "arm": "arm",
        "n": "n",
        "outcomes": "events/months" if result.is_survival else "resp/obs",
        "posterior": ("hazard/month" if result.is_survival else "p") + " (95% CrI)",
        "effect": ("HR vs ctrl" if result.is_survival else "p − p ctrl") + " (95% CrI)",
        "p_best": "P(best)",
        "p_better": better,
        "decision": "decision",
        "allocation": "next alloc.",
    }


def summary_lines(result: InterimAnalysis, data: dict[str, Any]) -> list[str]:
    """Plain sentences: data cut, model, diagnostics, what the design's rules give; `data`
    is `result.to_json()`."""
    d = data["diagnostics"]
    trial = data["trial"]
    lines = [
        f"Data: {data['data']['file']}, as of "
        f"{result.data.describe_month(result.as_of_month)}: "
        f"{trial['n_enrolled']} patients enrolled.",
        f"Model: {result.model_description}.",
        f"Sampler: NUTS, {result.sampler.chains} chains × {result.sampler.draws} draws "
        f"({result.sampler.tune} tuning), seed {result.sampler.seed}. Max R-hat "
        f"{_fmt(d['max_r_hat'], '.3f')}, min ESS bulk {_fmt(d['min_ess_bulk'], '.0f')} / tail "
        f"{_fmt(d['min_ess_tail'], '.0f')}, {d['n_divergent']} divergences.",
    ]
    concurrent = [
        f"{arm} (controls enrolled after {result.data.describe_month(result.open_month[k])})"
        for k, arm in enumerate(result.arm_ids)
        if result.references.restricted[k] and result.opened[k]
    ]
    if concurrent:
        lines.append("Compared with concurrent controls only: " + ", ".join(concurrent) + ".")
    if trial["stop"]:
        lines.append(f"The design's rules stop the trial now ({trial['stop_reason']}).")
    elif result.is_final:
        lines.append("Final analysis: no further allocation.")
    else:
        alloc = ", ".join(f"{arm} {_pct(p)}" for arm, p in data["next_allocation"].items())
        lines.append(f"Allocation for the next patients: {alloc}.")
    if data["exact_agrees"] is not None:
        lines.append(
            "Conjugate model: the engine's exact probabilities give "
            + (
                "the same decisions and allocation."
                if data["exact_agrees"]
                else "DIFFERENT decisions or allocation (see warnings)."
            )
        )
    return lines


_MARKDOWN = """\
# Interim analysis: {{ title }}

Scenario `{{ scenario }}`, design `{{ design }}`, data `{{ data_file }}` as of **{{ as_of }}**.
Generated by platsim {{ version }} (PyMC {{ versions.pymc }}, ArviZ {{ versions.arviz }}).

{% for line in summary %}- {{ line }}
{% endfor %}
{% if warnings %}
## Warnings

{% for w in warnings %}- **{{ w }}**
{% endfor %}{% endif %}
## Arms

| {% for key in columns %}{{ headers[key] }} | {% endfor %}
|{% for key in columns %}---|{% endfor %}
{% for row in rows %}| {% for key in columns %}{{ row[key] }} | {% endfor %}
{% endfor %}
Decision rules: {{ rules }}.

## Figures

{% if has_forest %}![Effect vs control](forest.png)

{% endif %}![Posterior per arm](densities.png)

## Priors

{% for p in priors %}- {{ p }}
{% endfor %}
"""

_HTML = """\
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Interim analysis: {{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.warn { background: #fff3cd; border-left: 4px solid #e0a800; padding: 0.5rem 1rem; }
.muted { color: #666; font-size: 0.85rem; }
</style></head><body>
<h1>Interim analysis: {{ title }}</h1>
<p class="muted">Scenario <code>{{ scenario }}</code>, design <code>{{ design }}</code>, data
<code>{{ data_file }}</code> as of <strong>{{ as_of }}</strong>. platsim {{ version }},
PyMC {{ versions.pymc }}, ArviZ {{ versions.arviz }}.</p>
<ul>{% for line in summary %}<li>{{ line }}</li>{% endfor %}</ul>
{% if warnings %}<div class="warn"><strong>Warnings</strong><ul>
{% for w in warnings %}<li>{{ w }}</li>{% endfor %}</ul></div>{% endif %}
<h2>Arms</h2>
<table><thead><tr>{% for key in columns %}<th>{{ headers[key] }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in rows %}<tr>{% for key in columns %}<td>{{ row[key] }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
<p class="muted">Decision rules: {{ rules }}.</p>
<h2>Figures</h2>
{% if forest %}<img alt="Effect vs control" src="data:image/png;base64,{{ forest }}">{% endif %}
<img alt="Posterior per arm" src="data:image/png;base64,{{ densities }}">
<h2>Priors</h2>
<ul>{% for p in priors %}<li>{{ p }}</li>{% endfor %}</ul>
</body></html>
"""

COLUMNS = (
    "arm",
    "n",
    "outcomes",
    "posterior",
    "effect",
    "p_best",
    "p_better",
    "decision",
    "allocation",
)


def _rules_text(result: InterimAnalysis) -> str:
    rules = design_rules(result.spec)
    parts = []
    for name in ("efficacy", "futility"):
        if rules[name]:
            parts.append(
                f"{name} threshold {rules[name]['threshold']:g}"
                + (f" (margin {rules[name]['margin']:g})" if rules[name]["margin"] else "")
            )
    if rules["stop_for_best"] is not None:
        parts.append(f"stop for best above {rules['stop_for_best']:g}")
    if rules["drop_if_p_best_below"] is not None:
        parts.append(f"drop if P(best) below {rules['drop_if_p_best_below']:g}")
    if rules["max_per_arm"] is not None:
        parts.append(f"max {rules['max_per_arm']} patients per arm")
    parts.append(f"on efficacy: {rules['on_efficacy']}; allocation: {rules['allocation']}")
    return "; ".join(parts)


def _write_bytes(path: Path, content: bytes) -> None:
    write_atomically(path, lambda tmp: tmp.write_bytes(content))


def write_outputs(
    result: InterimAnalysis, out_dir: str | Path, data: dict[str, Any] | None = None
) -> dict[str, Path]:
    """Write analysis.json, the Markdown and HTML reports and the figures into `out_dir`;
    `data` is `result.to_json()` when the caller has it already."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = result.to_json() if data is None else data
    forest = forest_plot(result)
    densities = density_plot(result)
    context = {
        "title": result.scenario.title,
        "scenario": result.scenario.name,
        "design": result.design,
        "data_file": data["data"]["file"],
        "as_of": result.data.describe_month(result.as_of_month),
        "version": data["platsim_version"],
        "versions": result.versions,
        "summary": summary_lines(result, data),
        "warnings": result.warnings,
        "columns": COLUMNS,
        "headers": headers(result),
        "rows": table_rows(result, data),
        "rules": _rules_text(result),
        "priors": result.priors,
        "has_forest": forest is not None,
    }
    env = Environment(autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True)
    html_env = Environment(autoescape=True, undefined=StrictUndefined)
    paths = {name: out / name for name in FILES}
    _write_bytes(paths["analysis.json"], (json.dumps(data, indent=2) + "\n").encode())
    if forest is not None:
        paths["forest.png"] = out / "forest.png"
        _write_bytes(paths["forest.png"], forest)
    else:
        (out / "forest.png").unlink(missing_ok=True)  # from an earlier run with a control
    paths["densities.png"] = out / "densities.png"
    _write_bytes(paths["densities.png"], densities)
    markdown = env.from_string(_MARKDOWN).render(**context)
    _write_bytes(paths["interim_report.md"], markdown.encode())
    html = html_env.from_string(_HTML).render(
        **context,
        forest=base64.b64encode(forest).decode() if forest is not None else None,
        densities=base64.b64encode(densities).decode(),
    )
    _write_bytes(paths["interim_report.html"], html.encode())
    return paths
