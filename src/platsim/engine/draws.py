"""The random numbers of a chunk of trials (the protocol in docs/engine.md).

Each kind of draw comes from its own child generator (`rng.spawn`), and per-patient arrays
are drawn patient-major (patient 0 of every trial first). So patient i of trial s gets the
same numbers whatever the design's maximum sample size or number of looks: designs
compared under the same truth and seed see the same patients (common random numbers).
"""

from __future__ import annotations

import numpy as np

#: Child stream of each kind (fixed order: adding a kind appends).
STREAMS = ("entry_gaps", "outcome", "allocation", "dropout", "ties", "subgroup")


def chunk_streams(rng: np.random.Generator) -> dict[str, np.random.Generator]:
    """One independent generator per kind of draw, spawned from the chunk's generator."""
    return dict(zip(STREAMS, rng.spawn(len(STREAMS)), strict=True))


def patient_exponentials(rng: np.random.Generator, n_sims: int, n_patients: int) -> np.ndarray:
    """Standard exponential draws, (n_sims, n_patients), drawn patient-major."""
    return rng.standard_exponential((n_patients, n_sims)).T.copy()


def patient_uniforms(rng: np.random.Generator, n_sims: int, n_patients: int) -> np.ndarray:
    """Uniform(0, 1) draws, (n_sims, n_patients), drawn patient-major."""
    return rng.random((n_patients, n_sims)).T.copy()
