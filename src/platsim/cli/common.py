"""Shared CLI plumbing: the error boundary, consoles, shipped-scenario lookup, progress."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console

from platsim.errors import ArgumentError, RunInterrupted, ScenarioError, UserInputError

console = Console()
error_console = Console(stderr=True, highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


def error_boundary(func: F) -> F:
    """User errors: one message on stderr, exit 2. Ctrl-C: how to resume, exit 130.

    Anything else is an internal error (exit 1); set PLATSIM_DEBUG=1 for the traceback.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ScenarioError as exc:
            for problem in exc.problems:
                error_console.print(str(problem), markup=False)
            count = len(exc.problems)
            error_console.print(f"{count} problem{'s' if count != 1 else ''} found.", markup=False)
            raise typer.Exit(2) from None
        except UserInputError as exc:
            error_console.print(f"error: {exc}", markup=False)
            raise typer.Exit(2) from None
        except (RunInterrupted, KeyboardInterrupt) as exc:
            detail = str(exc) if isinstance(exc, RunInterrupted) else "interrupted"
            error_console.print(
                f"{detail}. Run the same command with --resume to continue.", markup=False
            )
            raise typer.Exit(130) from None
        except typer.Exit:
            raise
        except Exception as exc:
            if os.environ.get("PLATSIM_DEBUG"):
                raise
            error_console.print(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "Set PLATSIM_DEBUG=1 to see the traceback, and please report it.",
                markup=False,
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def resolve_workers(workers: int) -> int:
    """Worker processes for --workers: 0 means one per CPU core; negative is an error."""
    if workers < 0:
        raise ArgumentError(
            f"--workers must be 0 (all cores) or a positive integer; got {workers}."
        )
    return workers or (os.cpu_count() or 1)


def shipped_scenario_dir() -> Path | None:
    """The repository's scenarios/ directory, if platsim runs from a source checkout."""
    candidates = [Path.cwd() / "scenarios", Path(__file__).resolve().parents[3] / "scenarios"]
    return next((path for path in candidates if path.is_dir()), None)


def resolve_scenario(name_or_path: str) -> Path:
    """A path as given, or the shipped scenario of that name (``pioneer_dcr``)."""
    path = Path(name_or_path)
    if path.exists():
        return path
    shipped = shipped_scenario_dir()
    if shipped is not None and not path.suffix:
        candidate = shipped / f"{name_or_path}.yaml"
        if candidate.exists():
            return candidate
    return path  # load_scenario reports "file not found" with the path


def show_progress() -> bool:
    """Progress bars only on an interactive terminal (not in CI or when piped)."""
    return sys.stderr.isatty() and not os.environ.get("CI")


@contextmanager
def progress_bars() -> Iterator[Callable[[str, int], Callable[[int], None]] | None]:
    """A progress-callback factory for `run_study`, or None when not on a terminal."""
    if not show_progress():
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("trials"),
        TimeRemainingColumn(),
        console=error_console,
        transient=False,
    ) as progress:

        def factory(label: str, total: int) -> Callable[[int], None]:
            task = progress.add_task(label, total=total)
            return lambda n: progress.advance(task, n)

        yield factory
