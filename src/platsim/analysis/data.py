"""A real trial's patient data: read a CSV or Parquet file, validate every row, cut at a date.

One row per randomized patient. Columns (docs/analyze.md):

=================  ==========================================================================
``id``             patient identifier, unique
``arm``            arm id of the scenario's design
``subgroup``       optional: biomarker group (any label); needed by the hierarchical model
``enrolled``       randomization time: month number (≥ 0, months since the trial start) or
                   ISO date (YYYY-MM-DD); one kind per file
binary endpoints   ``response`` 0/1, empty while not yet known; ``response_known`` optional,
                   month or date the response became known (default: enrolled + the
                   scenario's ``outcome_lag_months``)
time to event      ``event`` 0/1 and either ``time`` (months of follow-up since enrolment) or
                   ``end`` (month or date of the event or of the last follow-up); both empty:
                   no follow-up yet
=================  ==========================================================================

CSV lines starting with ``#`` are comments. Every problem is collected in one pass and
raised together (`DataFileError`), each as ``file:row column: problem; allowed ...; got
...``, where *row* is the CSV line number (the header is line 1) or, for Parquet, the record
number counting from 1. Nothing downstream runs on a file with problems.

Times are months. A file with dates is converted to months since its earliest enrolment
date (month 0), with 365.25 / 12 days per month.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from platsim.errors import ArgumentError, Problem, ScenarioError
from platsim.scenario.schema import Scenario

#: Days per month used to convert dates to months.
DAYS_PER_MONTH = 365.25 / 12

COMMON_COLUMNS = ("id", "arm", "subgroup", "enrolled")
BINARY_COLUMNS = ("response", "response_known")
SURVIVAL_COLUMNS = ("time", "end", "event")
_REQUIRED = {
    "binary": ("id", "arm", "enrolled", "response"),
    "time_to_event": ("id", "arm", "enrolled", "event"),
}
_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


class DataFileError(ScenarioError):
    """A trial data file failed validation; carries every problem found (file, row, column).

    A `ScenarioError` so that the CLI error boundary lists each problem and exits 2.
    """


@dataclass(frozen=True)
class TrialData:
    """A validated trial data file, one entry per patient (arrays of shape (n_patients,)).

    Times are months since month 0 (the trial start for month numbers, the earliest
    enrolment date for dates).
    """

    file: str
    sha256: str
    endpoint_kind: str
    arm_ids: tuple[str, ...]
    patient_ids: tuple[str, ...]
    #: Arm index per patient (scenario arm order).
    arm: np.ndarray
    #: Subgroup index per patient into `subgroup_ids` (all 0 without a subgroup column).
    subgroup: np.ndarray
    subgroup_ids: tuple[str, ...]
    has_subgroups: bool
    enrolled_month: np.ndarray
    #: Month 0 as a date when the file gives dates, else None.
    origin: dt.date | None
    #: Binary: 1.0 / 0.0, NaN while unknown; month the response is known (NaN if unknown).
    response: np.ndarray
    known_month: np.ndarray
    #: Time to event: calendar month of the event or last follow-up; event indicator.
    end_month: np.ndarray
    event: np.ndarray
    #: The latest time anywhere in the file (the data cut, when --as-of is not given).
    last_month: float

    @property
    def n_patients(self) -> int:
        return len(self.patient_ids)

    @property
    def uses_dates(self) -> bool:
        return self.origin is not None

    def month_label(self, month: float) -> str:
        """A month as the file writes times: an ISO date or a month number."""
        if self.origin is None:
            return f"{month:g}"
        return (self.origin + dt.timedelta(days=round(month * DAYS_PER_MONTH))).isoformat()

    def describe_month(self, month: float) -> str:
        """A month for sentences: "2019-09-14" or "month 18"."""
        label = self.month_label(month)
        return label if self.uses_dates else f"month {label}"

    def parse_as_of(self, text: str | None, option: str = "--as-of") -> float | None:
        """The month of `--as-of` (a date if the file gives dates, else a month number).

        None means everything in the file: returns None (reported as the file's latest time).
        """
        if text is None:
            return None
        value = _parse_time(str(text).strip())
        if isinstance(value, str):
            value = None
        if self.uses_dates:
            if not isinstance(value, dt.date):
                raise ArgumentError(
                    f"{option} must be an ISO date (YYYY-MM-DD) because {self.file} gives "
                    f"dates; got {text!r}."
                )
            assert self.origin is not None
            month = (value - self.origin).days / DAYS_PER_MONTH
        else:
            if not isinstance(value, float):
                raise ArgumentError(
                    f"{option} must be a month number (≥ 0) because {self.file} gives months; "
                    f"got {text!r}."
                )
            month = value
        if month < float(self.enrolled_month.min()):
            raise ArgumentError(
                f"{option} must be on or after the first enrolment "
                f"({self.month_label(float(self.enrolled_month.min()))}); got {text!r}."
            )
        return month

    def at(self, as_of_month: float | None, lag_months: float) -> InterimData:
        """What was known at `as_of_month`: patients enrolled by then, outcomes known by then.

        None means everything in the file (every response given counts, whatever its
        date). `lag_months` is the binary outcome lag used where ``response_known`` is not
        given.
        """
        everything = as_of_month is None
        if as_of_month is None:
            as_of_month = math.inf
        enrolled = self.enrolled_month <= as_of_month + 1e-9
        arm = self.arm[enrolled]
        n_enrolled = np.bincount(arm, minlength=len(self.arm_ids))
        entry = self.enrolled_month[enrolled]
        if self.endpoint_kind == "binary":
            known_at = np.where(
                np.isnan(self.known_month), self.enrolled_month + lag_months, self.known_month
            )[enrolled]
            response = self.response[enrolled]
            observed = ~np.isnan(response) & (known_at <= as_of_month + 1e-9)
            follow_up = np.zeros(entry.shape)
            event = np.zeros(entry.shape, dtype=bool)
            outcome = np.where(observed, response, 0.0).astype(bool)
        else:
            end = np.minimum(self.end_month[enrolled], as_of_month)
            follow_up = np.clip(end - entry, 0.0, None)
            event = self.event[enrolled] & (self.end_month[enrolled] <= as_of_month + 1e-9)
            observed = np.ones(entry.shape, dtype=bool)
            outcome = event
        return InterimData(
            as_of_month=self.last_month if everything else float(as_of_month),
            arm=arm,
            subgroup=self.subgroup[enrolled],
            enrolled_month=entry,
            n_enrolled=n_enrolled.astype(np.int64),
            observed=observed,
            responded=outcome,
            follow_up_months=follow_up,
            event=event,
        )


@dataclass(frozen=True)
class InterimData:
    """The patients enrolled by the analysis time, with what was known of them then.

    Per patient arrays (n_enrolled_total,); `n_enrolled` is per arm (n_arms,).
    """

    as_of_month: float
    arm: np.ndarray
    subgroup: np.ndarray
    enrolled_month: np.ndarray
    n_enrolled: np.ndarray
    #: Binary: outcome known by the analysis time (time to event: all True).
    observed: np.ndarray
    #: Binary: responded (among the observed); time to event: had an event by then.
    responded: np.ndarray
    #: Time to event: months followed by the analysis time, and event indicator.
    follow_up_months: np.ndarray
    event: np.ndarray

    @property
    def n_total(self) -> int:
        return int(self.n_enrolled.sum())


# --------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class SubgroupRule:
    """Which `subgroup` values a sub-study of a master protocol takes.

    `allowed`: the only values accepted (a biomarker sub-study's subgroups), or None;
    `refused`: values that belong to another sub-study (value → that sub-study's id).
    """

    substudy: str
    allowed: tuple[str, ...] | None = None
    refused: dict[str, str] | None = None


def read_trial_data(
    path: str | Path, scenario: Scenario, design: str, subgroups: SubgroupRule | None = None
) -> TrialData:
    """Read and validate a trial data file against the scenario's design.

    `subgroups` restricts the subgroup column to a sub-study's subgroups (master protocols).

    Raises
    ------
    DataFileError
        With every problem found (row, column, rule, allowed values, what was given).
    """
    path = Path(path)
    file = str(path)
    kind = _SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DataFileError(
            [
                Problem(
                    file,
                    None,
                    "",
                    "unknown file type",
                    "a .csv or .parquet file",
                    repr(path.suffix or path.name),
                )
            ]
        )
    if not path.is_file():
        raise DataFileError([Problem(file, None, "", "file not found")])
    raw = path.read_bytes()
    if kind == "csv":
        header, rows, problems = _read_csv(raw, file)
    else:
        header, rows, problems = _read_parquet(raw, file)
    return _validate(
        file,
        hashlib.sha256(raw).hexdigest(),
        header,
        rows,
        problems,
        scenario,
        design,
        header_line=1 if kind == "csv" else None,
        subgroups=subgroups,
    )


def _read_csv(raw: bytes, file: str):
    problems: list[Problem] = []
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFileError(
            [Problem(file, None, "", "cannot read file", "UTF-8 text", str(exc))]
        ) from None
    reader = csv.reader(text.splitlines(keepends=True))
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for fields in reader:
            if not fields or all(not f.strip() for f in fields):
                continue
            if fields[0].lstrip().startswith("#"):
                continue  # a comment line (e.g. where a synthetic file came from)
            if header is None:
                header = [f.strip() for f in fields]
                continue
            line = reader.line_num
            if len(fields) != len(header):
                problems.append(
                    Problem(
                        file,
                        line,
                        "<row>",
                        "wrong number of fields",
                        f"{len(header)} (as in the header)",
                        str(len(fields)),
                    )
                )
                continue
            rows.append((line, {h: f.strip() for h, f in zip(header, fields, strict=True)}))
    except csv.Error as exc:
        problems.append(Problem(file, reader.line_num, "<row>", f"not valid CSV: {exc}"))
    if header is None:
        raise DataFileError(
            [Problem(file, 1, "", "the file is empty", "a header line: id,arm,enrolled,...")]
        )
    return header, rows, problems


def _cell_text(value: Any) -> str:
    """A Parquet cell as the text a CSV would hold ("" for null or NaN)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:g}" if value == int(value) and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _read_parquet(raw: bytes, file: str):
    import pyarrow as pa
    import pyarrow.parquet as pq

    # The bytes already read (and hashed): what is parsed is what the hash describes.
    try:
        table = pq.read_table(pa.BufferReader(raw))
    except Exception as exc:  # pyarrow raises several types for unreadable files
        raise DataFileError(
            [Problem(file, None, "", "cannot read Parquet file", got=str(exc))]
        ) from None
    header = [str(name) for name in table.column_names]
    rows = [
        (i + 1, {h: _cell_text(record.get(h)) for h in header})
        for i, record in enumerate(table.to_pylist())
    ]
    return header, rows, []


# ------------------------------------------------------------------------------ validation


def _parse_time(text: str) -> dt.date | float | str:
    """A date (YYYY-MM-DD), a month number, or the text back if it is neither."""
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return text
    try:
        value = float(text)
    except ValueError:
        return text
    return value if math.isfinite(value) else text


def _parse_flag(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value in (0.0, 1.0) else None


class _RowChecker:
    """Collects problems for one file; parses cells with their row and column."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        #: "date" or "month": the kind of time of the first valid enrolment.
        self.time_kind: str | None = None
        self.time_kind_row: int | None = None

    def add(
        self,
        row: int | None,
        column: str,
        rule: str,
        allowed: str | None = None,
        got: str | None = None,
    ) -> None:
        self.problems.append(Problem(self.file, row, column, rule, allowed, got))

    def time(self, row: int, column: str, text: str) -> dt.date | float | None:
        """A valid time cell (date or months ≥ 0) of the file's one kind, else a problem."""
        value = _parse_time(text)
        if isinstance(value, str):
            self.add(
                row, column, "not a time", "an ISO date (YYYY-MM-DD) or a month number", repr(text)
            )
            return None
        kind = "date" if isinstance(value, dt.date) else "month"
        if self.time_kind is None:
            self.time_kind, self.time_kind_row = kind, row
        elif kind != self.time_kind:
            allowed = "ISO dates (YYYY-MM-DD)" if self.time_kind == "date" else "month numbers"
            self.add(
                row,
                column,
                "times must all be dates or all month numbers",
                f"{allowed}, as on row {self.time_kind_row}",
                repr(text),
            )
            return None
        if isinstance(value, float) and value < 0:
            self.add(row, column, "negative time", "months ≥ 0", text)
            return None
        return value


def _validate(
    file: str,
    sha256: str,
    header: Sequence[str],
    rows: list[tuple[int, dict[str, str]]],
    problems: list[Problem],
    scenario: Scenario,
    design: str,
    header_line: int | None,
    subgroups: SubgroupRule | None = None,
) -> TrialData:
    kind = scenario.endpoint.kind
    check = _RowChecker(file)
    check.problems.extend(problems)
    endpoint_columns = BINARY_COLUMNS if kind == "binary" else SURVIVAL_COLUMNS
    allowed_columns = (*COMMON_COLUMNS, *endpoint_columns)
    listing = ", ".join(allowed_columns)
    seen: set[str] = set()
    for name in header:
        if name in seen:
            check.add(header_line, name, "duplicate column", "each column once", repr(name))
        seen.add(name)
        if name not in allowed_columns:
            other = BINARY_COLUMNS if kind != "binary" else SURVIVAL_COLUMNS
            rule = (
                f"column for the other endpoint kind (this scenario's endpoint is {kind})"
                if name in other
                else "unknown column"
            )
            check.add(header_line, name, rule, listing, repr(name))
    for name in _REQUIRED[kind]:
        if name not in seen:
            check.add(header_line, name, "missing column", f"columns {listing}")
    if kind == "time_to_event":
        if "time" in seen and "end" in seen:
            check.add(
                header_line,
                "end",
                "give time or end, not both",
                "time (months of follow-up) or end (month or date of event / censoring)",
            )
        elif "time" not in seen and "end" not in seen:
            check.add(
                header_line,
                "time",
                "missing column",
                "time (months of follow-up) or end (month or date of event / censoring)",
            )
    if not rows and not check.problems:
        check.add(header_line, "", "no patients in the file", "one row per randomized patient")
    if check.problems and any(p.line == header_line for p in check.problems):
        raise DataFileError(check.problems)

    arm_ids = tuple(scenario.arm_ids)
    has_subgroups = "subgroup" in seen
    parsed = [
        _parse_row(check, line, cells, scenario, design, kind, has_subgroups, subgroups)
        for line, cells in rows
    ]
    _check_duplicates(check, rows)
    _check_arm_opening(check, rows, parsed, scenario)
    if check.problems:
        raise DataFileError(_sorted(check.problems))

    origin: dt.date | None = None
    if check.time_kind == "date":
        origin = min(p["enrolled"] for p in parsed)

    def month(value: dt.date | float | None) -> float:
        if value is None:
            return math.nan
        if isinstance(value, dt.date):
            assert origin is not None
            return (value - origin).days / DAYS_PER_MONTH
        return float(value)

    subgroup_ids = tuple(sorted({p["subgroup"] for p in parsed})) if has_subgroups else ("all",)
    enrolled = np.array([month(p["enrolled"]) for p in parsed])
    n = len(parsed)
    response = np.full(n, np.nan)
    known = np.full(n, np.nan)
    end = enrolled.copy()
    event = np.zeros(n, dtype=bool)
    for i, p in enumerate(parsed):
        if kind == "binary":
            response[i] = p["response"] if p["response"] is not None else np.nan
            known[i] = month(p["known"])
        else:
            if p["end"] is not None:
                end[i] = month(p["end"])
            elif p["time"] is not None:
                end[i] = enrolled[i] + p["time"]
            event[i] = bool(p["event"])
    times = np.concatenate([enrolled, known[~np.isnan(known)], end])
    return TrialData(
        file=file,
        sha256=sha256,
        endpoint_kind=kind,
        arm_ids=arm_ids,
        patient_ids=tuple(p["id"] for p in parsed),
        arm=np.array([arm_ids.index(p["arm"]) for p in parsed], dtype=np.int64),
        subgroup=np.array(
            [subgroup_ids.index(p["subgroup"]) if has_subgroups else 0 for p in parsed],
            dtype=np.int64,
        ),
        subgroup_ids=subgroup_ids,
        has_subgroups=has_subgroups,
        enrolled_month=enrolled,
        origin=origin,
        response=response,
        known_month=known,
        end_month=end,
        event=event,
        last_month=float(times.max()),
    )


def _parse_row(
    check: _RowChecker,
    row: int,
    cells: dict[str, str],
    scenario: Scenario,
    design: str,
    kind: str,
    has_subgroups: bool,
    rule: SubgroupRule | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["id"] = cells.get("id", "")
    if not out["id"]:
        check.add(row, "id", "missing value", "a patient identifier", "an empty cell")
    arm = cells.get("arm", "")
    out["arm"] = arm
    if not arm:
        check.add(row, "arm", "missing value", ", ".join(scenario.arm_ids), "an empty cell")
    elif arm not in scenario.arm_ids:
        check.add(
            row,
            "arm",
            f"unknown arm: not an arm of design {design}",
            ", ".join(scenario.arm_ids),
            repr(arm),
        )
    out["subgroup"] = cells.get("subgroup", "")
    group = out["subgroup"]
    if has_subgroups and not group:
        check.add(
            row, "subgroup", "missing value", "a subgroup label for every patient", "an empty cell"
        )
    elif has_subgroups and rule is not None:
        if rule.allowed is not None and group not in rule.allowed:
            check.add(
                row,
                "subgroup",
                f"not a subgroup of sub-study {rule.substudy}",
                ", ".join(rule.allowed),
                repr(group),
            )
        elif rule.refused and group in rule.refused:
            check.add(
                row,
                "subgroup",
                f"subgroup enrolled by sub-study {rule.refused[group]}, not {rule.substudy}",
                f"subgroups no other sub-study enrols (not {', '.join(sorted(rule.refused))})",
                repr(group),
            )
    text = cells.get("enrolled", "")
    out["enrolled"] = check.time(row, "enrolled", text) if text else None
    if not text:
        check.add(
            row,
            "enrolled",
            "missing value",
            "an ISO date (YYYY-MM-DD) or a month number",
            "an empty cell",
        )
    entry = out["enrolled"]
    if kind == "binary":
        text = cells.get("response", "")
        out["response"] = None
        if text:
            out["response"] = _parse_flag(text)
            if out["response"] is None:
                check.add(
                    row, "response", "not a response", "0, 1, or empty (not yet known)", repr(text)
                )
        known_text = cells.get("response_known", "")
        out["known"] = None
        if known_text:
            out["known"] = check.time(row, "response_known", known_text)
            if not text:
                check.add(
                    row,
                    "response",
                    "missing value: response_known is given",
                    "0 or 1 when response_known is given",
                    "an empty cell",
                )
            _check_order(
                check,
                row,
                "response_known",
                entry,
                out["known"],
                known_text,
                "response known before enrolment",
            )
        return out
    event_text = cells.get("event", "")
    out["event"] = None
    if event_text:
        out["event"] = _parse_flag(event_text)
        if out["event"] is None:
            check.add(row, "event", "not an event indicator", "0 or 1", repr(event_text))
    out["time"] = out["end"] = None
    time_column = "time" if "time" in cells else "end"
    time_text = cells.get(time_column, "")
    if time_column == "time" and time_text:
        try:
            value = float(time_text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            check.add(row, "time", "not a number", "months of follow-up ≥ 0", repr(time_text))
        elif value < 0:
            check.add(row, "time", "negative time", "months of follow-up ≥ 0", time_text)
        else:
            out["time"] = value
    elif time_text:
        out["end"] = check.time(row, "end", time_text)
        _check_order(
            check,
            row,
            "end",
            entry,
            out["end"],
            time_text,
            "event or last follow-up before enrolment",
        )
    if not time_text and event_text:
        if out["event"] == 1.0:
            check.add(
                row,
                time_column,
                "event without time",
                "the months of follow-up (time) or the date of the event (end)",
                "an empty cell",
            )
        elif out["event"] == 0.0:
            check.add(
                row,
                time_column,
                "missing value: event is given",
                "the follow-up (months or date); leave event empty if not followed yet",
                "an empty cell",
            )
    elif time_text and not event_text:
        check.add(row, "event", f"missing value: {time_column} is given", "0 or 1", "an empty cell")
    return out


def _check_order(
    check: _RowChecker, row: int, column: str, entry: Any, value: Any, text: str, rule: str
) -> None:
    if entry is None or value is None or type(entry) is not type(value):
        return
    if value < entry:
        entry_text = entry.isoformat() if isinstance(entry, dt.date) else f"{entry:g}"
        check.add(
            row, column, f"dates out of order: {rule}", f"on or after enrolled ({entry_text})", text
        )


def _check_duplicates(check: _RowChecker, rows: Iterable[tuple[int, dict[str, str]]]) -> None:
    first: dict[str, int] = {}
    for row, cells in rows:
        patient = cells.get("id", "")
        if not patient:
            continue
        if patient in first:
            check.add(
                row,
                "id",
                "duplicate id",
                f"each id once (first on row {first[patient]})",
                repr(patient),
            )
        else:
            first[patient] = row


def _check_arm_opening(
    check: _RowChecker,
    rows: list[tuple[int, dict[str, str]]],
    parsed: list[dict[str, Any]],
    scenario: Scenario,
) -> None:
    """Patients randomized to an arm before it opened (arms with an ``opens_at`` rule).

    ``{patients: N}``: the arm opens once N patients are enrolled (enrolment order, ties
    by file order). ``{month: M}``: checked for files with month numbers only (a file with
    dates does not say when month 0 of the scenario was).
    """
    opens = {arm.id: getattr(arm, "opens_at", None) for arm in scenario.arms}
    if not any(opens.values()):
        return
    valid = [i for i, p in enumerate(parsed) if p["enrolled"] is not None]
    if any(type(parsed[i]["enrolled"]) is not type(parsed[valid[0]]["enrolled"]) for i in valid):
        return  # mixed kinds are reported already
    order = sorted(valid, key=lambda i: (parsed[i]["enrolled"], i))
    rank = {i: r for r, i in enumerate(order)}
    for i in valid:
        p = parsed[i]
        rule = opens.get(p["arm"])
        if rule is None:
            continue
        month = getattr(rule, "month", None)
        patients = getattr(rule, "patients", None)
        entry = p["enrolled"]
        if month is not None and isinstance(entry, float) and entry < month:
            check.add(
                rows[i][0],
                "enrolled",
                f"arm {p['arm']} not open at that date",
                f"month ≥ {month:g}",
                f"{entry:g}",
            )
        elif patients is not None and rank[i] < patients:
            check.add(
                rows[i][0],
                "arm",
                f"arm {p['arm']} not open at that date",
                f"patients after the first {patients} enrolled",
                f"patient number {rank[i] + 1} in enrolment order",
            )


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: p.line if p.line is not None else -1)
