"""The rendered report: sections, embedded figures, numbers equal to summary.json, no URLs."""

from __future__ import annotations

import base64
import io
import math
import re

import matplotlib.image
import pytest
from PIL import Image

from platsim.scenario.load import load_scenario
from tests.report.html_parse import parse

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _designs_truths(run):
    summary = run.summary
    return summary["designs"], summary["truths"]


def test_every_section_and_design_truth_table_is_present(any_run):
    elements = parse(any_run.html)
    ids = {e.attrs.get("id") for e in elements}
    designs, truths = _designs_truths(any_run)
    expected = {"scenario", "arms", "truths", "designs", "overview", "estimates"}
    expected |= {"reproducibility"}
    expected |= {f"design-{d}" for d in designs} | {f"rules-{d}" for d in designs}
    expected |= {f"design-{d}-{t}" for d in designs for t in truths}
    if any_run.survival:
        expected.add("examples")
    assert expected <= ids, expected - ids
    # One per-arm OC table per design × truth, one overview row per design × truth.
    tables = [e for e in elements if e.tag == "table" and "arms-oc" in e.attrs.get("class", "")]
    assert len(tables) == len(designs) * len(truths)
    overview = next(e for e in elements if e.tag == "table" and "overview" in e.attrs["class"])
    body = next(c for c in overview.children if c.tag == "tbody")
    assert len(body.children) == len(designs) * len(truths)
    # Every arm of the scenario and every design's rules in words.
    scenario = load_scenario(any_run.scenario)
    text = any_run.html
    for arm in scenario.arms:
        assert f"<code>{arm.id}</code>" in text
    for design in designs:
        assert f'id="rules-{design}"' in text
    assert "Efficacy: an experimental arm with" in text
    # The reproducibility footer.
    footer = next(e for e in elements if e.attrs.get("id") == "reproducibility")
    for key in (
        "platsim version",
        "numpy version",
        "seed",
        "trials per design × truth",
        "chunk size",
        "scenario file SHA-256",
        "simulated on",
    ):
        assert key in footer.text
    assert any_run.summary["scenario_sha256"] in footer.text
    assert str(any_run.summary["seed"]) in footer.text


def test_every_figure_is_embedded_as_a_valid_png(any_run):
    elements = parse(any_run.html)
    images = [e for e in elements if e.tag == "img"]
    files = sorted((any_run.out / "figures").glob("*.png"))
    names = {f.stem for f in files}
    designs, _ = _designs_truths(any_run)
    expected = {"size_duration", "estimates"} | {f"decisions_{d}" for d in designs}
    # The adaptive design of each run changes its allocation and has interim analyses.
    adaptive = "thompson" if not any_run.survival else designs[-1]
    expected |= {f"allocation_{adaptive}", f"timing_{adaptive}"}
    if any_run.survival:
        expected.add("km_examples")
    assert expected <= names, expected - names
    assert len(images) == len(files)
    embedded = []
    for image in images:
        src = image.attrs["src"]
        assert src.startswith("data:image/png;base64,")
        data = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert data.startswith(PNG_SIGNATURE)
        with Image.open(io.BytesIO(data)) as png:
            png.verify()
        pixels = matplotlib.image.imread(io.BytesIO(data), format="png")
        assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] >= 800
        assert image.attrs["alt"]
        embedded.append(data)
    # The embedded figures are exactly the PNG files beside report.md.
    assert sorted(embedded) == sorted(f.read_bytes() for f in files)
    # Every figure has a numbered caption.
    captions = [e for e in elements if e.tag == "figcaption"]
    assert len(captions) == len(images)
    assert [int(re.match(r"Figure (\d+)\.", c.text.strip()).group(1)) for c in captions] == list(
        range(1, len(images) + 1)
    )


def _numbers(text: str) -> list[tuple[float, int]]:
    """Numbers shown in a cell, each with its number of decimals."""
    text = text.replace("−", "-").replace(",", "")
    return [
        (float(m), len(m.split(".")[1]) if "." in m else 0)
        for m in re.findall(r"-?\d+(?:\.\d+)?", text)
    ]


def _close(shown: tuple[float, int], value: float, scale: float) -> bool:
    number, decimals = shown
    return abs(number - value * scale) <= 0.5 * 10**-decimals + 1e-9 * abs(value * scale)


def test_every_number_in_the_oc_tables_equals_summary_json(any_run):
    summary = any_run.summary
    entries = {(e["design"], e["truth"]): e for e in summary["results"]}
    cells = [e for e in parse(any_run.html) if "data-metric" in e.attrs]
    designs, truths = _designs_truths(any_run)
    assert len(cells) > 20 * len(designs) * len(truths)
    checked = 0
    for cell in cells:
        entry = entries[(cell.attrs["data-design"], cell.attrs["data-truth"])]
        target = entry["arms"][cell.attrs["data-arm"]] if cell.attrs["data-arm"] else entry
        metrics = cell.attrs["data-metric"].split()
        scale = float(cell.attrs["data-scale"])
        text = cell.text.strip()
        values = [target.get(m) for m in metrics]
        if text == "–":
            assert any(v is None for v in values), (cell.attrs, values)
            continue
        shown = _numbers(text)
        if len(metrics) == 2:  # a 10–90% range of two quantiles
            assert len(shown) == 2, text
            for number, value in zip(shown, values, strict=True):
                assert _close(number, value, scale), (cell.attrs, text, value)
        else:
            (metric,) = metrics
            mcse = target.get(f"mcse_{metric}")
            assert len(shown) == (2 if mcse is not None else 1), (text, mcse)
            assert _close(shown[0], values[0], scale), (cell.attrs, text, values[0])
            if mcse is not None:
                assert "±" in text
                assert _close(shown[1], mcse, scale), (cell.attrs, text, mcse)
        checked += 1
    assert checked > 0
    # Spot check: each design × truth's P(efficacy) of every arm is shown.
    shown_efficacy = {
        (c.attrs["data-design"], c.attrs["data-truth"], c.attrs["data-arm"])
        for c in cells
        if c.attrs["data-metric"] == "p_efficacy"
    }
    arms = list(summary["results"][0]["arms"])
    assert shown_efficacy == {(d, t, a) for d in designs for t in truths for a in arms}


def test_no_external_urls(any_run):
    html = any_run.html
    assert "http://" not in html and "https://" not in html
    elements = parse(html)
    for element in elements:
        for name in ("src", "href", "srcset", "poster", "data", "action"):
            value = element.attrs.get(name)
            if value is None:
                continue
            if name == "href":
                assert value.startswith("#"), value
            else:
                assert value.startswith("data:"), value
        assert element.tag not in ("link", "script", "iframe", "object", "embed")
    assert "url(" not in html and "@import" not in html


def test_markdown_links_existing_pngs(any_run):
    markdown = any_run.markdown
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    files = {p.relative_to(any_run.out).as_posix() for p in (any_run.out / "figures").glob("*.png")}
    assert links and set(links) == files
    for link in links:
        assert (any_run.out / link).read_bytes().startswith(PNG_SIGNATURE)
    # The same sections as the HTML, and the OC numbers.
    designs, truths = _designs_truths(any_run)
    for design in designs:
        assert f"Design {design}" in markdown
        for truth in truths:
            assert f"### {design} under truth *{truth}*" in markdown
    assert "## Reproducibility" in markdown
    assert any_run.summary["scenario_sha256"] in markdown
    assert "http://" not in markdown and "https://" not in markdown


def test_markdown_and_html_show_the_same_numbers(binary_run):
    html_numbers = [e.text.strip() for e in parse(binary_run.html) if "data-metric" in e.attrs]
    markdown = binary_run.markdown
    for text in html_numbers:
        assert text in markdown


@pytest.mark.parametrize("metric", ["p_efficacy", "p_futility"])
def test_decision_timing_sums_to_the_summary(binary_run, metric):
    """decisions.csv (per analysis) adds up to summary.json's per-arm probabilities."""
    import csv

    status = metric.removeprefix("p_")
    totals: dict[tuple[str, str, str], float] = {}
    with open(binary_run.out / "decisions.csv", newline="") as stream:
        for row in csv.DictReader(stream):
            if row["status"] == status:
                key = (row["design"], row["truth"], row["arm"])
                totals[key] = totals.get(key, 0.0) + float(row["probability"])
    for entry in binary_run.summary["results"]:
        for arm, values in entry["arms"].items():
            total = totals.get((entry["design"], entry["truth"], arm), 0.0)
            assert math.isclose(total, values[metric], abs_tol=1e-6)
