"""The report's jinja2 templates, kept as Python strings so they ship with the package.

`HTML_TEMPLATE` renders a self-contained page: inline CSS, figures as ``data:`` URIs, no
external resource of any kind. `MARKDOWN_TEMPLATE` renders the same content with the PNG
files beside it (``figures/``). Both receive the context built by `platsim.report.render`.
"""

# ruff: noqa: E501 (template lines are HTML and Markdown, not Python)

from __future__ import annotations

CSS = """
:root { --ink: #1a1a1a; --muted: #5c5c5c; --rule: #d0d0d0; --band: #f4f4f4; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: var(--ink);
       margin: 0; background: #ffffff; line-height: 1.45; font-size: 15px; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 1.7em; margin: 0.2em 0 0.3em; line-height: 1.2; }
h2 { font-size: 1.35em; margin: 2em 0 0.6em; padding-bottom: 0.2em;
     border-bottom: 2px solid var(--ink); }
h3 { font-size: 1.1em; margin: 1.5em 0 0.5em; }
p.lead { color: var(--muted); margin-top: 0; }
code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.9em;
       background: var(--band); padding: 0 3px; border-radius: 3px; }
nav.toc { background: var(--band); padding: 10px 18px; border-radius: 4px; margin: 1em 0; }
nav.toc ul { margin: 0.3em 0; padding-left: 0; list-style: none; columns: 2; }
nav.toc a { color: var(--ink); }
table { border-collapse: collapse; margin: 0.6em 0 0.4em; font-size: 0.86em; width: 100%; }
th, td { border-bottom: 1px solid var(--rule); padding: 4px 7px; vertical-align: top;
         text-align: left; }
thead th { border-bottom: 2px solid var(--ink); vertical-align: bottom; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
div.scroll { overflow-x: auto; }
table.overview { font-size: 0.8em; }
table.overview td, table.overview th { padding: 3px 5px; }
tbody tr:nth-child(even) td { background: #fafafa; }
td.group { font-weight: 600; background: #ffffff !important; }
td.arm, td.label { white-space: nowrap; }
p.note, .note { color: var(--muted); font-size: 0.85em; margin: 0.2em 0 0.8em; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 2px;
          vertical-align: -0.1em; margin-right: 0.4em; border: 1px solid #888; }
figure { margin: 1em 0 1.6em; page-break-inside: avoid; break-inside: avoid; }
figure img { max-width: 100%; height: auto; display: block; border: 1px solid #eeeeee; }
figcaption { color: var(--muted); font-size: 0.86em; margin-top: 0.4em; }
ul.rules { margin: 0.3em 0 0.8em; padding-left: 1.3em; }
ul.rules li { margin: 0.15em 0; }
p.stops { font-size: 0.88em; margin: 0.2em 0 1.2em; }
footer { margin-top: 3em; }
footer table { width: auto; }
footer td:first-child { color: var(--muted); padding-right: 1.5em; }
.design-block { border-left: 3px solid var(--rule); padding-left: 14px; margin: 0.8em 0 1.2em; }
@media print {
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  nav.toc { display: none; }
  h2 { page-break-before: auto; page-break-after: avoid; }
  h3 { page-break-after: avoid; }
  table { page-break-inside: avoid; }
}
"""

HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ r.title }} — operating characteristics</title>
<style>{{ css|safe }}</style>
</head>
<body>
<main>
{%- macro cell(c, tag="td") -%}
{%- if c is num -%}
<{{ tag }} class="num" data-design="{{ c.design }}" data-truth="{{ c.truth }}" data-arm="{{ c.arm }}" data-metric="{{ c.metrics|join(' ') }}" data-scale="{{ c.scale }}">{{ c.text }}</{{ tag }}>
{%- else -%}
<{{ tag }} class="label">{{ c }}</{{ tag }}>
{%- endif -%}
{%- endmacro -%}
{%- macro table(t, cls) -%}
<div class="scroll">
<table class="oc {{ cls }}">
<thead><tr>{% for h in t.header %}<th{% if loop.index0 >= t.label_columns %} class="num"{% endif %}>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{%- for row in t.rows %}
<tr>{% for c in row %}{{ cell(c) }}{% endfor %}</tr>
{%- endfor %}
</tbody>
</table>
</div>
{%- for n in t.notes %}<p class="note">{{ n }}</p>{% endfor %}
{%- endmacro -%}
{%- macro figure(f) -%}
<figure id="fig-{{ f.key }}">
<img src="{{ f.data_uri }}" alt="{{ f.alt }}" width="{{ f.width }}" height="{{ f.height }}">
<figcaption><strong>Figure {{ f.number }}.</strong> {{ f.caption }}</figcaption>
</figure>
{%- endmacro %}
<header>
<h1>{{ r.title }}</h1>
<p class="lead">Operating characteristics of {{ r.designs|length }} design{{ 's' if r.designs|length != 1 }} under {{ r.truths|length }} truth{{ 's' if r.truths|length != 1 }}: {{ r.n_trials_text }} simulated trials per design × truth (seed {{ r.seed }}). Scenario <code>{{ r.name }}</code>, platsim {{ r.platsim_version }}.</p>
</header>
<nav class="toc" id="contents"><strong>Contents</strong>
<ul>
{%- for s in r.toc %}
<li><a href="#{{ s.anchor }}">{{ s.title }}</a></li>
{%- endfor %}
</ul>
</nav>

<section id="scenario">
<h2>1. Scenario</h2>
{% if r.description %}<p>{{ r.description }}</p>{% endif %}
<p><strong>Endpoint.</strong> {{ r.endpoint_text }}</p>
<p><strong>Accrual.</strong> {{ r.accrual_text }}{% if r.accrual_source %} <span class="note">Source: {{ r.accrual_source }}.</span>{% endif %}</p>
{% if r.subgroups_text %}<p><strong>Subgroups.</strong> {{ r.subgroups_text }}</p>{% endif %}
{% if r.sources %}<p><strong>Sources.</strong></p>
<ul class="rules">{% for s in r.sources %}<li>{{ s }}</li>{% endfor %}</ul>{% endif %}
<h3 id="arms">Arms</h3>
<table class="arms">
<thead><tr><th>arm</th><th>label</th><th>role</th><th>source</th></tr></thead>
<tbody>
{%- for a in r.arms %}
<tr><td class="arm"><span class="swatch" style="background: {{ a.colour }}"></span><code>{{ a.id }}</code></td><td>{{ a.label }}</td><td>{{ a.role }}</td><td class="note">{{ a.source }}</td></tr>
{%- endfor %}
</tbody>
</table>
<h3 id="truths">Truths (states of nature)</h3>
<table class="truths">
<thead><tr><th>truth</th><th>arm</th><th>{{ r.truth_heading }}</th><th>source</th></tr></thead>
<tbody>
{%- for t in r.truths %}
{%- for row in t.rows %}
<tr>{% if loop.first %}<td class="group" rowspan="{{ t.rows|length }}">{{ t.name }}</td>{% endif %}<td class="arm"><code>{{ row.arm }}</code></td><td>{{ row.text }}</td><td class="note">{{ row.source }}</td></tr>
{%- endfor %}
{%- endfor %}
</tbody>
</table>
{%- for t in r.trends %}
<p class="note">{{ t }}</p>
{%- endfor %}
</section>

<section id="designs">
<h2>2. Designs</h2>
{%- for d in r.designs %}
<div class="design-block">
<h3 id="rules-{{ d.name }}">{{ d.name }}</h3>
{% if d.description %}<p>{{ d.description }}</p>{% endif %}
<ul class="rules">{% for s in d.rules %}<li>{{ s }}</li>{% endfor %}</ul>
</div>
{%- endfor %}
</section>

<section id="overview">
<h2>3. Overview: every design under every truth</h2>
<p>Trial-level operating characteristics. Probabilities in % ± Monte Carlo standard error (MCSE) over {{ r.n_trials_text }} trials; sample sizes in patients, durations in months.</p>
{{ table(r.overview, "overview") }}
{% for f in r.overview_figures %}{{ figure(f) }}{% endfor %}
</section>

{%- for d in r.design_sections %}
<section id="{{ d.anchor }}">
<h2>{{ d.number }}. Design {{ d.name }}</h2>
<p class="note">Rules: see <a href="#rules-{{ d.name }}">{{ d.name }}</a> in section 2. Probabilities in % ± MCSE; n in patients.</p>
{%- for t in d.truths %}
<h3 id="{{ d.anchor }}-{{ t.truth }}">{{ d.name }} under truth <em>{{ t.truth }}</em></h3>
{{ table(t.table, "arms-oc") }}
{% if t.stops %}<p class="stops"><strong>How trials ended:</strong> {% for text, c in t.stops %}{{ text }} <span class="num" data-design="{{ c.design }}" data-truth="{{ c.truth }}" data-arm="{{ c.arm }}" data-metric="{{ c.metrics|join(' ') }}" data-scale="{{ c.scale }}">{{ c.text }}</span>%{{ "; " if not loop.last else "." }}{% endfor %}</p>{% endif %}
{%- endfor %}
{%- for n in d.notes %}
<p class="note">{{ n }}</p>
{%- endfor %}
{%- for f in d.figures %}
{{ figure(f) }}
{%- endfor %}
</section>
{%- endfor %}

<section id="estimates">
<h2>{{ r.estimates_number }}. Estimates against the truth (bias)</h2>
{%- for f in r.estimate_figures %}
{{ figure(f) }}
{%- else %}
<p>No estimate against a control (the scenario has no control arm).</p>
{%- endfor %}
</section>

{%- if r.km_figures %}
<section id="examples">
<h2>{{ r.examples_number }}. Example trials (Kaplan–Meier)</h2>
{%- for f in r.km_figures %}
{{ figure(f) }}
{%- endfor %}
</section>
{%- endif %}

<footer id="reproducibility">
<h2>Reproducibility</h2>
<table>
<tbody>
{%- for key, value in r.footer %}
<tr><td>{{ key }}</td><td>{{ value }}</td></tr>
{%- endfor %}
</tbody>
</table>
<p class="note">Same seed, chunk size and numpy version ⇒ the same simulated trials, whatever the number of workers. Re-render this report from the saved results, without simulating: <code>{{ r.rerender_command }}</code>, DIR being the directory that holds this report. Simulate again: <code>{{ r.rerun_command }}</code>.</p>
</footer>
</main>
</body>
</html>
"""

MARKDOWN_TEMPLATE = """\
{%- macro table(t) -%}
| {{ t.header|join(' | ') }} |
|{% for h in t.header %}{{ ':---|' if loop.index0 < t.label_columns else '---:|' }}{% endfor %}
{% for row in t.rows -%}
| {% for c in row %}{{ (c.text if c is num else c)|md }}{{ ' | ' if not loop.last }}{% endfor %} |
{% endfor %}
{%- for n in t.notes %}
{{ n }}
{% endfor %}
{%- endmacro -%}
{%- macro figure(f) -%}
![{{ f.alt }}]({{ f.path }})

*Figure {{ f.number }}.* {{ f.caption }}
{%- endmacro -%}
# {{ r.title }}

Operating characteristics of {{ r.designs|length }} design{{ 's' if r.designs|length != 1 }} under {{ r.truths|length }} truth{{ 's' if r.truths|length != 1 }}: {{ r.n_trials_text }} simulated trials per design × truth (seed {{ r.seed }}). Scenario `{{ r.name }}`, platsim {{ r.platsim_version }}. A self-contained HTML version of this report is `report.html`.

## Contents

{% for s in r.toc %}- [{{ s.title }}](#{{ s.md_anchor }})
{% endfor %}
## 1. Scenario

{% if r.description %}{{ r.description }}

{% endif -%}
**Endpoint.** {{ r.endpoint_text }}

**Accrual.** {{ r.accrual_text }}{% if r.accrual_source %} Source: {{ r.accrual_source }}.{% endif %}

{% if r.subgroups_text -%}
**Subgroups.** {{ r.subgroups_text }}

{% endif -%}
{% if r.sources -%}
**Sources.**

{% for s in r.sources %}- {{ s }}
{% endfor %}
{% endif -%}
### Arms

| arm | label | role | source |
|:---|:---|:---|:---|
{% for a in r.arms -%}
| `{{ a.id }}` | {{ a.label|md }} | {{ a.role }} | {{ a.source|md }} |
{% endfor %}
### Truths (states of nature)

| truth | arm | {{ r.truth_heading }} | source |
|:---|:---|:---|:---|
{% for t in r.truths -%}
{% for row in t.rows -%}
| {{ t.name if loop.first else '' }} | `{{ row.arm }}` | {{ row.text|md }} | {{ row.source|md }} |
{% endfor -%}
{% endfor %}
{% for t in r.trends %}{{ t }}

{% endfor -%}
## 2. Designs
{% for d in r.designs %}
### {{ d.name }}

{% if d.description %}{{ d.description }}

{% endif -%}
{% for s in d.rules %}- {{ s }}
{% endfor -%}
{% endfor %}
## 3. Overview: every design under every truth

Trial-level operating characteristics. Probabilities in % ± Monte Carlo standard error (MCSE) over {{ r.n_trials_text }} trials; sample sizes in patients, durations in months.

{{ table(r.overview) }}
{% for f in r.overview_figures %}
{{ figure(f) }}
{% endfor %}
{% for d in r.design_sections %}
## {{ d.number }}. Design {{ d.name }}

Probabilities in % ± MCSE; n in patients. Rules: section 2.
{% for t in d.truths %}
### {{ d.name }} under truth *{{ t.truth }}*

{{ table(t.table) }}
{% if t.stops %}**How trials ended:** {% for text, c in t.stops %}{{ text }} {{ c.text }}%{{ "; " if not loop.last else "." }}{% endfor %}
{% endif %}
{% endfor -%}
{% for n in d.notes %}
{{ n }}
{% endfor %}
{% for f in d.figures %}
{{ figure(f) }}
{% endfor -%}
{% endfor %}
## {{ r.estimates_number }}. Estimates against the truth (bias)
{% for f in r.estimate_figures %}
{{ figure(f) }}
{% else %}
No estimate against a control (the scenario has no control arm).
{% endfor %}
{% if r.km_figures %}
## {{ r.examples_number }}. Example trials (Kaplan–Meier)
{% for f in r.km_figures %}
{{ figure(f) }}
{% endfor %}
{% endif %}
## Reproducibility

| | |
|:---|:---|
{% for key, value in r.footer -%}
| {{ key }} | {{ value|md }} |
{% endfor %}
Same seed, chunk size and numpy version ⇒ the same simulated trials, whatever the number of workers. Re-render this report from the saved results, without simulating: `{{ r.rerender_command }}`, DIR being the directory that holds this report. Simulate again: `{{ r.rerun_command }}`.
"""
