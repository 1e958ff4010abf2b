"""Run a scenario's designs × truths and write the results directory.

Writes ``summary.json``, ``summary.csv`` and ``trials.parquet`` (each atomically), keeping
finished chunks under ``chunks/<design>/<truth>/`` so an interrupted run loses nothing and
``--resume`` continues it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from platsim.engine.records import TrialRecords
from platsim.errors import ArgumentError
from platsim.executors import ChunkExecutor, make_executor
from platsim.provenance import run_metadata
from platsim.results.metrics import MetricRow, operating_characteristics
from platsim.results.summary import summary_csv_text, summary_json_text
from platsim.results.table import records_table, write_parquet
from platsim.rng import SeedRecord, chunk_sizes
from platsim.scenario import defaults
from platsim.scenario.load import load_scenario, scenario_file_hash
from platsim.scenario.schema import Scenario
from platsim.simulate import (
    ProgressCallback,
    RunIdentity,
    prepare_checkpoint_dir,
    simulate_design_truth,
    write_atomically,
)
from platsim.specs import build_trial_spec


@dataclass
class StudyResult:
    """What `run_study` produced."""

    scenario: Scenario
    out_dir: Path
    metrics: list[MetricRow]
    records: dict[tuple[str, str], TrialRecords] = field(default_factory=dict)
    meta: dict[str, object] = field(default_factory=dict)


def select_names(kind: str, wanted: Sequence[str] | None, available: Sequence[str]) -> list[str]:
    """The requested names in file order (all when none requested); unknown names are errors."""
    if not wanted:
        return list(available)
    unknown = [name for name in wanted if name not in available]
    if unknown:
        raise ArgumentError(
            f"{kind} must be one of {', '.join(available)}; got {', '.join(unknown)}."
        )
    return [name for name in available if name in wanted]


def run_study(
    scenario_path: Path,
    *,
    designs: Sequence[str] | None = None,
    truths: Sequence[str] | None = None,
    n_trials: int = defaults.N_TRIALS,
    seed: int = defaults.SEED,
    chunk_size: int = defaults.CHUNK_SIZE,
    workers: int = 1,
    dask: str | None = None,
    out_dir: Path | None = None,
    resume: bool = False,
    progress_factory: Callable[[str, int], ProgressCallback] | None = None,
) -> StudyResult:
    """Simulate every selected design under every selected truth and write the results.

    `progress_factory(label, n_trials)` returns the callback for one design × truth.
    """
    scenario = load_scenario(scenario_path)
    file_hash = scenario_file_hash(scenario_path)
    design_names = select_names("design", designs, list(scenario.designs))
    truth_names = select_names("truth", truths, list(scenario.truths))
    out_dir = out_dir if out_dir is not None else Path("results") / scenario.name
    out_dir.mkdir(parents=True, exist_ok=True)
    seed_record = SeedRecord(
        seed=seed,
        chunk_size=chunk_size,
        n_trials=n_trials,
        n_chunks=len(chunk_sizes(n_trials, chunk_size)),
        numpy_version=np.__version__,
    )
    meta = run_metadata(
        scenario,
        scenario_path,
        n_trials=n_trials,
        seed=seed,
        chunk_size=chunk_size,
        file_hash=file_hash,
        seed_record=seed_record.to_dict(),
        designs=design_names,
        truths=truth_names,
    )
    result = StudyResult(scenario=scenario, out_dir=out_dir, metrics=[], meta=meta)
    tables: list[pa.Table] = []
    executor = make_executor(workers, dask)
    try:
        _simulate_all(
            result,
            scenario,
            design_names,
            truth_names,
            executor,
            tables,
            seed=seed,
            n_trials=n_trials,
            chunk_size=chunk_size,
            resume=resume,
            file_hash=file_hash,
            progress_factory=progress_factory,
        )
    finally:
        executor.close()
    write_results(result, tables)
    return result


def _simulate_all(
    result: StudyResult,
    scenario: Scenario,
    design_names: Sequence[str],
    truth_names: Sequence[str],
    executor: ChunkExecutor,
    tables: list[pa.Table],
    *,
    seed: int,
    n_trials: int,
    chunk_size: int,
    resume: bool,
    file_hash: str,
    progress_factory: Callable[[str, int], ProgressCallback] | None,
) -> None:
    out_dir = result.out_dir
    for design in design_names:
        for truth in truth_names:
            spec = build_trial_spec(scenario, design, truth)
            checkpoint_dir = out_dir / "chunks" / design / truth
            identity = RunIdentity(file_hash, design, truth, seed, chunk_size)
            prepare_checkpoint_dir(checkpoint_dir, identity, resume=resume)
            progress = (
                progress_factory(f"{design} × {truth}", n_trials) if progress_factory else None
            )
            records = simulate_design_truth(
                spec,
                seed=seed,
                truth=truth,
                n_trials=n_trials,
                chunk_size=chunk_size,
                checkpoint_dir=checkpoint_dir,
                executor=executor,
                progress=progress,
            )
            result.records[(design, truth)] = records
            result.metrics.extend(operating_characteristics(records, spec, design, truth))
            tables.append(records_table(records, spec.arm_ids, design, truth))


def write_results(result: StudyResult, tables: list[pa.Table]) -> None:
    """Write summary.json, summary.csv, trials.parquet and run.json atomically, then the
    report (`write_report`)."""
    out = result.out_dir
    arm_ids = result.scenario.arm_ids
    json_text = summary_json_text(result.metrics, result.meta, arm_ids)
    write_atomically(out / "summary.json", lambda tmp: tmp.write_text(json_text))
    csv_text = summary_csv_text(result.metrics)
    write_atomically(out / "summary.csv", lambda tmp: tmp.write_text(csv_text))
    table = pa.concat_tables(tables, promote_options="permissive") if tables else None
    if table is not None:
        write_atomically(out / "trials.parquet", lambda tmp: write_parquet(table, tmp))
    run_text = json.dumps(result.meta, indent=2) + "\n"
    write_atomically(out / "run.json", lambda tmp: tmp.write_text(run_text))
    write_report(result)


def write_report(result: StudyResult) -> None:
    """Save the report's summary files (allocation, decisions, distributions, example
    trials, a copy of the scenario) and render report.html, report.md and figures/."""
    from platsim.report import render_report, write_report_data

    write_report_data(result.out_dir, result.scenario, result.records, result.meta)
    render_report(result.out_dir)
