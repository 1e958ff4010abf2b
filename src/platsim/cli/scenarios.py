"""`platsim scenarios`."""

from __future__ import annotations

from rich.table import Table

from platsim.cli.common import console, error_boundary, shipped_scenario_dir
from platsim.errors import ScenarioError
from platsim.scenario.load import load_scenario


@error_boundary
def scenarios() -> None:
    """List the shipped scenarios, one line each (run one with `platsim run NAME`)."""
    directory = shipped_scenario_dir()
    if directory is None:
        console.print("No scenarios/ directory found (run from a platsim source checkout).")
        return
    table = Table("name", "title", "designs", "truths", box=None)
    for path in sorted(directory.glob("*.yaml")):
        try:
            scenario = load_scenario(path)
        except ScenarioError:
            table.add_row(path.stem, "[red]invalid: run platsim validate[/red]", "", "")
            continue
        table.add_row(
            scenario.name, scenario.title, ", ".join(scenario.designs), ", ".join(scenario.truths)
        )
    console.print(table)
