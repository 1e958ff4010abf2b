"""Design comparison on common random numbers: `platsim compare`.

`paired.py` simulates every design under every truth with the same seed (so trial i of
every design sees the same patients) and computes each metric's paired difference from a
reference design with its paired and unpaired Monte Carlo standard errors; `render.py`
writes comparison.csv / .md / .html and the figures.
"""

from platsim.compare.paired import (
    ARM_METRICS,
    TRIAL_METRICS,
    ComparisonResult,
    ComparisonRow,
    compare_records,
    per_trial_values,
    run_comparison,
)
from platsim.compare.render import write_comparison

__all__ = [
    "ARM_METRICS",
    "TRIAL_METRICS",
    "ComparisonResult",
    "ComparisonRow",
    "compare_records",
    "per_trial_values",
    "run_comparison",
    "write_comparison",
]
