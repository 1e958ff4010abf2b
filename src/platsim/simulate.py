"""Run the engine over chunks of trials: seeding, checkpoints, workers, interruption.

Execution never changes what a trial's result is: every chunk has its own seed spawned up
front (`rng.py`), so records are identical for any number of workers and across
interruption and resumption. Each finished chunk is written atomically to the checkpoint
directory, so Ctrl-C (or a crash) loses only chunks in progress.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from platsim import __version__
from platsim.engine.records import TrialRecords, records_class
from platsim.engine.spec import TrialSpec
from platsim.engine.trial import simulate_trials
from platsim.errors import ArgumentError, RunInterrupted
from platsim.executors import ChunkExecutor, SerialExecutor
from platsim.rng import chunk_seed_sequences, chunk_sizes

#: Called with the number of trials that just finished.
ProgressCallback = Callable[[int], None]


@dataclass(frozen=True)
class ChunkTask:
    """One chunk of trials: everything a worker needs (picklable)."""

    spec: TrialSpec
    seed_sequence: np.random.SeedSequence
    n_sims: int
    index: int


def run_chunk(task: ChunkTask) -> TrialRecords:
    """Simulate one chunk (the unit of parallel work)."""
    return simulate_trials(task.spec, np.random.default_rng(task.seed_sequence), task.n_sims)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Write via a temporary file in the same directory, then rename over `path`.

    The file gets the usual permissions of a new file (0644 under the common umask), not the
    private 0600 of the temporary file: results and reports are meant to be shared.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb") as stream:
            os.fsync(stream.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def save_chunk(path: Path, records: TrialRecords) -> None:
    """Save one chunk's records atomically (npz)."""

    def write(tmp: Path) -> None:
        arrays = {f.name: getattr(records, f.name) for f in fields(records)}
        with open(tmp, "wb") as stream:
            np.savez(stream, records_kind=np.array(records.kind), **arrays)

    write_atomically(path, write)


def load_chunk(path: Path, n_sims: int) -> TrialRecords | None:
    """A saved chunk, or None when it is missing, truncated, corrupt or of the wrong size."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            cls = records_class(str(data["records_kind"]))
            records = cls(**{f.name: data[f.name] for f in fields(cls)})
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    if records.n_sims != n_sims:
        return None
    return records


def simulate_design_truth(
    spec: TrialSpec,
    *,
    seed: int,
    truth: str,
    n_trials: int,
    chunk_size: int,
    checkpoint_dir: Path | None = None,
    executor: ChunkExecutor | None = None,
    progress: ProgressCallback | None = None,
) -> TrialRecords:
    """Simulate `n_trials` trials of `spec` in chunks and return their records in order.

    Finished chunks found in `checkpoint_dir` are reused (a corrupt or truncated one is
    recomputed); new chunks are saved there as they finish. On Ctrl-C the finished chunks
    stay saved and `RunInterrupted` is raised. `executor` decides where chunks run
    (default: in this process); it never changes the records.
    """
    sizes = chunk_sizes(n_trials, chunk_size)
    sequences = chunk_seed_sequences(seed, truth, len(sizes))
    parts: list[TrialRecords | None] = [None] * len(sizes)
    for index, size in enumerate(sizes):
        if checkpoint_dir is not None:
            parts[index] = load_chunk(_chunk_path(checkpoint_dir, index), size)
            if parts[index] is not None and progress is not None:
                progress(size)
    tasks = [
        ChunkTask(spec, sequences[i], sizes[i], i) for i in range(len(sizes)) if parts[i] is None
    ]
    executor = executor if executor is not None else SerialExecutor()
    try:
        for task, records in executor.imap_unordered(run_chunk, tasks):
            parts[task.index] = records
            if checkpoint_dir is not None:
                save_chunk(_chunk_path(checkpoint_dir, task.index), records)
            if progress is not None:
                progress(records.n_sims)
    except KeyboardInterrupt:
        done = sum(part is not None for part in parts)
        raise RunInterrupted(
            f"interrupted after {done} of {len(parts)} chunks"
            + (f"; finished chunks are saved in {checkpoint_dir}" if checkpoint_dir else "")
        ) from None
    finished_parts = [part for part in parts if part is not None]
    return type(finished_parts[0]).concatenate(finished_parts)


def _chunk_path(checkpoint_dir: Path, index: int) -> Path:
    return checkpoint_dir / f"chunk_{index:05d}.npz"


@dataclass(frozen=True)
class RunIdentity:
    """What a checkpoint must match to be resumed."""

    scenario_sha256: str
    design: str
    truth: str
    seed: int
    chunk_size: int
    platsim_version: str = __version__

    def to_dict(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def prepare_checkpoint_dir(directory: Path, identity: RunIdentity, *, resume: bool) -> None:
    """Create or check a checkpoint directory.

    Without `resume`, old chunks are removed. With `resume`, the saved identity must match
    (scenario file, design, seed, chunk size, platsim version), else an `ArgumentError`
    names what differs.
    """
    manifest = directory / "checkpoint.json"
    wanted = identity.to_dict()
    if resume and manifest.exists():
        saved = json.loads(manifest.read_text())
        differs = [
            f"{key} (checkpoint {saved.get(key)!r}, now {value!r})"
            for key, value in wanted.items()
            if saved.get(key) != value
        ]
        if differs:
            raise ArgumentError(
                f"cannot resume from {directory}: "
                + "; ".join(differs)
                + ". Run without --resume to start over."
            )
        return
    if directory.exists():
        for old in directory.glob("chunk_*.npz"):
            old.unlink()
    directory.mkdir(parents=True, exist_ok=True)
    write_atomically(manifest, lambda tmp: tmp.write_text(json.dumps(wanted, indent=2)))
