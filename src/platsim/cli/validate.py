"""`platsim validate FILE`."""

from __future__ import annotations

import typer

from platsim.cli.common import console, error_boundary, resolve_scenario
from platsim.scenario.load import load_scenario


@error_boundary
def validate(
    file: str = typer.Argument(..., help="Scenario file (YAML) or the name of a shipped one."),
) -> None:
    """Check a scenario file. Exit 0 if valid; else list every problem and exit 2."""
    path = resolve_scenario(file)
    scenario = load_scenario(path)
    if scenario.is_master_protocol:
        subs = ", ".join(
            f"{sub.id} ({len(sub.arms)} arms, {len(sub.designs)} designs)"
            for sub in scenario.substudies
        )
        console.print(
            f"{path}: valid — master protocol with {len(scenario.substudies)} sub-studies: {subs}",
            markup=False,
        )
        return
    console.print(
        f"{path}: valid — {len(scenario.arms)} arms, {len(scenario.truths)} truths "
        f"({', '.join(scenario.truths)}), {len(scenario.designs)} designs "
        f"({', '.join(scenario.designs)})",
        markup=False,
    )
