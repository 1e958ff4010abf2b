"""Fixtures of the `platsim analyze` tests (helpers live in helpers.py).

PyMC tests are marked ``@pytest.mark.pymc``; every fit states its draws, chains and seed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from .helpers import BINARY_SCENARIO, SURVIVAL_SCENARIO


@pytest.fixture
def binary_scenario(tmp_path: Path) -> Path:
    path = tmp_path / "binary.yaml"
    path.write_text(BINARY_SCENARIO, encoding="utf-8")
    return path


@pytest.fixture
def survival_scenario(tmp_path: Path) -> Path:
    path = tmp_path / "survival.yaml"
    path.write_text(SURVIVAL_SCENARIO, encoding="utf-8")
    return path


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"})
