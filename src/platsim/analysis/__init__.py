"""Interim analysis of one real trial's data (`platsim analyze`), see docs/analyze.md.

- `data`: read and validate a CSV / Parquet patient file; cut it at an analysis time.
- `evidence`: counts per arm × subgroup × piece, and observation cells for the models.
- `models`: the PyMC models (conjugate, logistic / loglinear, hierarchical; time trends).
- `diagnostics`: ArviZ R-hat, ESS, divergences and the warnings they raise.
- `quantities`: P(best), P(better than control) from draws or exactly; the engine's
  decisions and allocation applied to them.
- `interim`: `analyze_trial`, end to end; `report` and `figures`: the output files.

PyMC, PyTensor and ArviZ are imported lazily inside `models` and `diagnostics`, so that
importing platsim does not import them.
"""
