"""Execution never changes results: workers, Dask, interruption (SIGKILL), corrupt chunks."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from platsim.executors import DaskExecutor, ProcessExecutor
from platsim.scenario.load import load_scenario
from platsim.simulate import load_chunk, simulate_design_truth
from platsim.specs import build_trial_spec

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "altn_sarcoma_orr.yaml"


def spec():
    return build_trial_spec(load_scenario(SCENARIO), "thompson", "null")


def assert_same(a, b) -> None:
    for field in dataclasses.fields(a):
        np.testing.assert_array_equal(getattr(a, field.name), getattr(b, field.name), field.name)


def run(executor=None, checkpoint_dir=None):
    return simulate_design_truth(
        spec(),
        seed=42,
        truth="null",
        n_trials=600,
        chunk_size=100,
        executor=executor,
        checkpoint_dir=checkpoint_dir,
    )


def test_process_pool_gives_the_serial_records():
    serial = run()
    pool = ProcessExecutor(2)
    try:
        assert_same(serial, run(pool))
    finally:
        pool.close()


@pytest.mark.slow
def test_dask_local_cluster_gives_the_serial_records():
    serial = run()
    executor = DaskExecutor("local", local_workers=2)
    try:
        assert_same(serial, run(executor))
    finally:
        executor.close()


def test_corrupt_or_truncated_chunks_are_recomputed(tmp_path):
    reference = run(checkpoint_dir=tmp_path)
    chunk0, chunk1 = tmp_path / "chunk_00000.npz", tmp_path / "chunk_00001.npz"
    data = bytearray(chunk0.read_bytes())
    data[len(data) // 2] ^= 0xFF  # flip one byte in the middle of the archive
    chunk0.write_bytes(bytes(data))
    chunk1.write_bytes(chunk1.read_bytes()[:200])  # truncated
    assert load_chunk(chunk0, 100) is None
    assert load_chunk(chunk1, 100) is None
    assert_same(reference, run(checkpoint_dir=tmp_path))
    assert load_chunk(chunk0, 100) is not None


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_gives_the_uninterrupted_records(tmp_path):
    args = [
        str(Path(sys.executable).parent / "platsim"),
        "run",
        str(SCENARIO),
        "--design",
        "thompson",
        "--truth",
        "null",
        "--trials",
        "6000",
        "--chunk-size",
        "250",
        "--workers",
        "1",
        "--seed",
        "9",
    ]
    complete = subprocess.run([*args, "--out", str(tmp_path / "full")], capture_output=True)
    assert complete.returncode == 0, complete.stderr

    out = tmp_path / "killed"
    chunks = out / "chunks" / "thompson" / "null"
    process = subprocess.Popen(
        [*args, "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(chunks.glob("chunk_*.npz"))) < 3:
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    saved = len(list(chunks.glob("chunk_*.npz")))
    assert 3 <= saved < 24, saved  # killed mid-way
    assert not (out / "trials.parquet").exists()

    resumed = subprocess.run([*args, "--out", str(out), "--resume"], capture_output=True)
    assert resumed.returncode == 0, resumed.stderr
    assert (out / "trials.parquet").read_bytes() == (
        tmp_path / "full" / "trials.parquet"
    ).read_bytes()


def test_write_atomically_gives_the_permissions_of_a_plainly_written_file(tmp_path):
    # The temporary file behind the rename is private (0600); the result must not be: other
    # users of a shared results directory read it. Compared with a file written directly.
    from platsim.simulate import write_atomically

    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    target = tmp_path / "summary.json"
    write_atomically(target, lambda tmp: tmp.write_text("{}"))
    assert target.read_text() == "{}"
    assert (target.stat().st_mode & 0o777) == (plain.stat().st_mode & 0o777)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.txt", "summary.json"]
