"""The platsim error family.

`PlatsimError` is the root. `UserInputError` and its subclasses are the user's fault
(bad scenario file, bad data, bad arguments): the CLI prints them without a traceback
and exits 2. Anything else is an internal error (exit 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class PlatsimError(Exception):
    """Root of every error platsim raises on purpose."""


class UserInputError(PlatsimError, ValueError):
    """Bad input from the user; reported without a traceback, exit code 2."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file.

    Rendered as ``file:line key.path: rule; allowed ...; got ...``.
    """

    file: str
    line: int | None
    key_path: str
    rule: str
    allowed: str | None = None
    got: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        text = f"{where} {self.key_path or '<top level>'}: {self.rule}"
        if self.allowed is not None:
            text += f"; allowed {self.allowed}"
        if self.got is not None:
            text += f"; got {self.got}"
        return text


class ScenarioError(UserInputError):
    """A scenario file failed validation; carries every problem found in one pass."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ArgumentError(UserInputError):
    """A command-line or API argument is invalid."""


class RunInterrupted(PlatsimError):
    """A simulation was stopped (Ctrl-C) after saving its finished chunks."""
