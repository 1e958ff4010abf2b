"""Every default value of the scenario file, in one place.

The schema (`schema.py`) takes its defaults from here, and the documentation quotes them.
"""

from __future__ import annotations

#: Beta prior of each arm's response probability (uniform).
BETA_PRIOR_ALPHA: float = 1.0
BETA_PRIOR_BETA: float = 1.0

#: Gamma prior of each arm's hazard per month (time-to-event). Shape 1 (one pseudo-event,
#: negligible exposure): a shape near 0 puts the posterior of an arm without events at a
#: hazard of 0, so P(HR < 1) ≈ 1 and early looks declare efficacy on no evidence.
GAMMA_PRIOR_SHAPE: float = 1.0
GAMMA_PRIOR_RATE: float = 0.001

#: Exponential loss to follow-up per month (time-to-event).
DROPOUT_PER_MONTH: float = 0.0

#: Months from enrolment until a binary outcome is known (0 = immediately).
OUTCOME_LAG_MONTHS: float = 0.0

#: Months over which accrual ramps up linearly from 0 to its full rate (0 = no ramp-up).
RAMP_UP_MONTHS: float = 0.0

#: Temper of Thompson allocation, P(best)^power ("n_over_2N" = Thall–Wathen).
THOMPSON_POWER: float = 1.0

#: Allocation probability clamps (applied to every arm with non-zero allocation).
MIN_PROB: float = 0.0
MAX_PROB: float = 1.0

#: Patients randomized with the fixed (or equal) ratios before adaptation starts.
BURN_IN_PATIENTS: int = 0

#: Randomization scheme within each block between looks.
RANDOMIZATION: str = "simple"

#: What happens when an arm crosses the efficacy threshold.
ON_EFFICACY: str = "graduate"

#: Margin (probability units for binary endpoints) in P(arm better than control by margin).
DECISION_MARGIN: float = 0.0

#: Trials simulated per truth and design when the command line does not say.
N_TRIALS: int = 10_000

#: Trials per chunk: the unit of seeding, checkpointing and parallel work.
CHUNK_SIZE: int = 1_000

#: Default seed of `platsim run`.
SEED: int = 20261122

#: Trippa et al. (2012) allocation constants: γ(n) = a (n/N)^b, η(n) = c n/N.
TRIPPA_A: float = 10.0
TRIPPA_B: float = 0.75
TRIPPA_C: float = 0.25
