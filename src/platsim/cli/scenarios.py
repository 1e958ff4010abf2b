"""`platsim scenarios`."""

from __future__ import annotations

from platsim.cli.common import console, error_boundary, shipped_scenario_dir
from platsim.errors import ScenarioError
from platsim.scenario.load import load_scenario
from platsim.scenario.schema import Scenario


@error_boundary
def scenarios() -> None:
    """List the shipped scenarios, one line each (run one with `platsim run NAME`)."""
    directory = shipped_scenario_dir()
    if directory is None:
        console.print("No scenarios/ directory found (run from a platsim source checkout).")
        return
    paths = sorted(directory.glob("*.yaml"))
    width = max((len(path.stem) for path in paths), default=0)
    for path in paths:
        # One logical line per scenario, never wrapped or cut by rich (a rich table cut the
        # names, or dropped the name column, on narrow terminals): the name first, as
        # `platsim run NAME` takes it, so that the list can be grepped.
        try:
            scenario = load_scenario(path)
        except ScenarioError:
            line = f"{path.stem:<{width}}  invalid: run `platsim validate {path}`"
        else:
            line = _describe(scenario, width)
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def _describe(scenario: Scenario, width: int) -> str:
    if scenario.is_master_protocol:
        subs = ", ".join(sub.id for sub in scenario.substudies)
        return f"{scenario.name:<{width}}  {scenario.title}  (master protocol: {subs})"
    return (
        f"{scenario.name:<{width}}  {scenario.title}  "
        f"(designs: {', '.join(scenario.designs)}; truths: {', '.join(scenario.truths)})"
    )
