"""The summary files written at run time agree with the per-trial records."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq

from platsim.report.data import AnalysisRow, DistributionRow, KMRow, read_rows
from platsim.results.allocation import read_allocation_csv


def test_allocation_summary_is_consistent(binary_run):
    rows = read_allocation_csv(binary_run.out / "allocation.csv")
    assert rows
    for row in rows:
        assert 0 <= row.q10 <= row.q50 <= row.q90 <= 1
        assert 0 < row.share_enrolling <= 1
        assert row.from_n <= row.to_n
    starts = [r for r in rows if r.period == 0]
    assert all(r.share_enrolling == 1 and r.from_n == 0 for r in starts)
    fixed = [r for r in rows if r.design == "fixed_1to1"]
    assert {(r.q10, r.q50, r.q90) for r in fixed} == {(0.5, 0.5, 0.5)}
    thompson = [r for r in rows if r.design == "thompson" and r.truth == "reported"]
    last = max(r.period for r in thompson)
    final = {r.arm: r for r in thompson if r.period == last}
    assert final["anlo_epi"].q50 > 0.6 > final["placebo_epi"].q50


def test_distributions_match_the_records(binary_run):
    table = pq.read_table(binary_run.out / "trials.parquet").to_pydict()
    rows = read_rows(binary_run.out / "distributions.csv", DistributionRow)
    for row in rows:
        if row.quantity != "total_n":
            continue
        values = np.array(
            [
                n
                for n, d, t, arm in zip(
                    table["total_n"], table["design"], table["truth"], table["arm"], strict=True
                )
                if d == row.design and t == row.truth and arm == "placebo_epi"
            ]
        )
        assert row.n_values == values.size
        assert np.isclose(row.mean, values.mean(), rtol=1e-6)
        assert np.isclose(row.q50, np.quantile(values, 0.5), rtol=1e-6)
    truths = {(r.design, r.truth): r.truth_value for r in rows if r.quantity == "diff_estimate"}
    assert np.isclose(truths[("fixed_1to1", "reported")], 0.178 - 0.029)
    assert truths[("thompson", "null")] == 0.0


def test_analyses_are_numbered_as_performed(binary_run):
    rows = read_rows(binary_run.out / "analyses.csv", AnalysisRow)
    fixed = [r for r in rows if r.design == "fixed_1to1"]
    assert [r.analysis for r in fixed if r.truth == "null"] == [0]
    for design_truth in {(r.design, r.truth) for r in rows}:
        mine = sorted(
            (r for r in rows if (r.design, r.truth) == design_truth), key=lambda r: r.analysis
        )
        assert mine[0].share_performed == 1.0
        assert np.isclose(sum(r.share_last for r in mine), 1.0)
        shares = [r.share_performed for r in mine]
        assert shares == sorted(shares, reverse=True)


def test_kaplan_meier_example_is_trial_one_of_the_run(survival_run):
    rows = read_rows(survival_run.out / "km_examples.csv", KMRow)
    summary = survival_run.summary
    assert {r.truth for r in rows} == set(summary["truths"])
    table = pq.read_table(survival_run.out / "trials.parquet").to_pydict()
    for truth in summary["truths"]:
        patients = [r for r in rows if r.truth == truth]
        design = patients[0].design
        assert design == summary["designs"][0]
        records = [
            i
            for i in range(len(table["trial"]))
            if table["trial"][i] == 0
            and table["design"][i] == design
            and table["truth"][i] == truth
        ]
        assert len(patients) == table["total_n"][records[0]]
        assert np.isclose(
            patients[0].analysis_month, table["duration_months"][records[0]], rtol=1e-6
        )
        for i in records:
            arm = table["arm"][i]
            assert sum(r.arm == arm for r in patients) == table["n_enrolled"][i]
        for r in patients:
            assert 0 <= r.time_months <= r.analysis_month - r.entry_month + 1e-4
            assert r.event in (0, 1)
