"""The `platsim` command: one thin module per command over the library functions."""

from __future__ import annotations

import typer

from platsim import __version__
from platsim.cli.analyze import analyze
from platsim.cli.calibrate import calibrate
from platsim.cli.compare import compare
from platsim.cli.report import report
from platsim.cli.run import run
from platsim.cli.scenarios import scenarios
from platsim.cli.validate import validate

app = typer.Typer(
    name="platsim",
    help=(
        "Simulate Bayesian adaptive platform trials in oncology: operating characteristics "
        "(power, type I error / FWER, selection, sample size in patients, duration in "
        "months, bias) of candidate designs under named states of nature."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"platsim {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """platsim: adaptive platform trial simulator."""


app.command("run")(run)
app.command("validate")(validate)
app.command("scenarios")(scenarios)
app.command("analyze")(analyze)
app.command("compare")(compare)
app.command("calibrate")(calibrate)
app.command("report")(report)
