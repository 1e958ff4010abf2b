"""Seeds: one coercion at the boundary, one SeedSequence per chunk spawned up front.

Chunk seeds depend on the run seed, the truth and the chunk index only, never on the
design, the number of workers or the order chunks finish in. Designs simulated under the
same truth therefore see the same patients (common random numbers), and a run is
reproducible for the same seed, chunk size and numpy version.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

import numpy as np

from platsim.errors import ArgumentError


def coerce_seed(seed: int | str | None) -> int:
    """A non-negative int seed; None draws fresh entropy (recorded so the run can be redone)."""
    if seed is None:
        return int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    try:
        value = int(seed)
    except (TypeError, ValueError):
        raise ArgumentError(f"seed must be a non-negative integer; got {seed!r}.") from None
    if value < 0:
        raise ArgumentError(f"seed must be a non-negative integer; got {seed!r}.")
    return value


def stream_key(name: str) -> int:
    """A stable 32-bit key for a name (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


def chunk_seed_sequences(seed: int, truth: str, n_chunks: int) -> list[np.random.SeedSequence]:
    """The chunk seeds of one truth, spawned in chunk order."""
    truth_sequence = np.random.SeedSequence(entropy=seed, spawn_key=(stream_key(truth),))
    return truth_sequence.spawn(n_chunks)


def chunk_sizes(n_trials: int, chunk_size: int) -> list[int]:
    """Sizes of consecutive chunks covering `n_trials` (the last one may be smaller)."""
    if n_trials <= 0:
        raise ArgumentError(f"trials must be a positive integer; got {n_trials}.")
    if chunk_size <= 0:
        raise ArgumentError(f"chunk size must be a positive integer; got {chunk_size}.")
    full, rest = divmod(n_trials, chunk_size)
    return [chunk_size] * full + ([rest] if rest else [])


@dataclass(frozen=True)
class SeedRecord:
    """What is needed to redo a run exactly (saved with its results)."""

    seed: int
    chunk_size: int
    n_trials: int
    n_chunks: int
    numpy_version: str
    scheme: str = "SeedSequence(entropy=seed, spawn_key=(sha256(truth)[:4],)).spawn(n_chunks)"

    def to_dict(self) -> dict[str, object]:
        return asdict(self)
