"""Lot and day workbooks (.xlsx) built from the journal with openpyxl and saved atomically.

The journal is the system of record; a workbook is a view of it that can always be rebuilt. Every value that came
from outside the station (labels, device replies, failure reasons) is written as text that Excel never evaluates.
"""

from __future__ import annotations

import contextlib
import os
import re
import statistics
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from station.errors import StationError
from station.records import Journal, LotRecord, UnitRecord, UnitState

ReplaceFunction = Callable[[str, str], None]
"""Moves the finished temporary file over the workbook (``os.replace``); a seam for tests."""

DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
SECONDS_FORMAT = "0.0"
PERCENT_FORMAT = "0.0%"
TEXT_FORMAT = "@"
EXCEL_CELL_LIMIT = 32767  # Excel refuses to open a cell longer than this
_NO_REASON = "(no reason recorded)"

# A text starting with one of these is a formula (or the start of one) to Excel, LibreOffice and Google Sheets.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_FILENAME = re.compile(r'[<>:"/\\|?*\x00-\x1f]+')
FINISHED_STATES = (UnitState.PASS, UnitState.FAIL, UnitState.NOT_CONFIRMED)
"""States with a final outcome: the denominator of the yield (in progress and cloud pending are not finished)."""
_STATE_ORDER = (
    UnitState.PASS, UnitState.FAIL, UnitState.CLOUD_PENDING, UnitState.NOT_CONFIRMED, UnitState.IN_PROGRESS,
)


class SpreadsheetError(StationError):
    """A workbook could not be built or saved."""


class UnknownLotError(SpreadsheetError):
    """The lot asked for is not in the journal."""


class WorkbookLockedError(SpreadsheetError):
    """The workbook file is held by another program (Excel on Windows); the save can be retried later."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        # Crosses a process boundary when the workbook is written by the writer's child process.
        return (self.__class__, (str(self), self.path))


class WorkbookWriteError(SpreadsheetError):
    """The workbook could not be written (disk full, no permission, folder missing)."""


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    value: Callable[[UnitRecord], Any]
    kind: Literal["text", "number", "time", "seconds"]
    """``text`` is neutralised and kept as text; ``time`` becomes a local Excel datetime."""


COLUMNS: tuple[Column, ...] = (
    Column("Lot", 22, lambda u: u.lot, "text"),
    Column("Unit key", 22, lambda u: u.unit_key, "text"),
    Column("Serial", 18, lambda u: u.serial, "text"),
    Column("Device ID", 27, lambda u: u.device_id, "text"),
    Column("Platform", 12, lambda u: u.platform, "text"),
    Column("Device OS", 11, lambda u: u.device_os, "text"),
    Column("ICCID", 23, lambda u: u.iccid, "text"),
    Column("IMEI", 18, lambda u: u.imei, "text"),
    Column("Firmware version", 10, lambda u: u.firmware_version, "number"),
    Column("Firmware SHA-256", 24, lambda u: u.firmware_sha256, "text"),
    Column("Slot", 6, lambda u: None if u.slot is None else u.slot + 1, "number"),  # slots are 1-based on screen
    Column("Operator", 14, lambda u: u.operator, "text"),
    Column("Station", 18, lambda u: u.station, "text"),
    Column("State", 14, lambda u: u.state.value, "text"),
    Column("Reason", 40, lambda u: u.reason, "text"),
    Column("Action", 40, lambda u: u.action, "text"),
    Column("Attempts", 9, lambda u: u.attempts, "number"),
    Column("First result", 12, lambda u: u.first_result, "text"),
    Column("Started", 20, lambda u: u.started_at, "time"),
    Column("Ended", 20, lambda u: u.ended_at, "time"),
    Column("Cycle seconds", 10, lambda u: u.cycle_seconds, "seconds"),
)
UNITS_SHEET = "Units"
SUMMARY_SHEET = "Summary"


@dataclass(frozen=True)
class LotSummary:
    """The figures of the Summary sheet, computed from units' latest states."""

    units: int
    counts: dict[UnitState, int]
    finished: int
    yield_rate: float | None
    """PASS / finished units; None when no unit is finished yet."""
    first_pass_yield: float | None
    """Units whose first result was PASS / all units; None for an empty lot."""
    median_cycle_seconds: float | None
    failures_by_reason: tuple[tuple[str, int], ...]
    """Failed units per reason, most frequent first, then by reason."""


@dataclass(frozen=True)
class WorkbookReport:
    path: Path
    units: int


def summarize(units: Sequence[UnitRecord]) -> LotSummary:
    counts = Counter(u.state for u in units)
    finished = sum(counts[s] for s in FINISHED_STATES)
    first_pass = sum(1 for u in units if u.first_result == UnitState.PASS.value)
    cycles = [u.cycle_seconds for u in units if u.cycle_seconds is not None]
    reasons = Counter((u.reason or _NO_REASON) for u in units if u.state is UnitState.FAIL)
    return LotSummary(
        units=len(units),
        counts={state: counts[state] for state in _STATE_ORDER},
        finished=finished,
        yield_rate=counts[UnitState.PASS] / finished if finished else None,
        first_pass_yield=first_pass / len(units) if units else None,
        median_cycle_seconds=statistics.median(cycles) if cycles else None,
        failures_by_reason=tuple(sorted(reasons.items(), key=lambda item: (-item[1], item[0]))),
    )


def neutralise(text: str) -> str:
    """The text as a cell may hold it: control characters Excel rejects made visible, and cut to Excel's limit."""
    cleaned = str(ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", text))
    if len(cleaned) > EXCEL_CELL_LIMIT:
        cleaned = cleaned[: EXCEL_CELL_LIMIT - 1] + "…"
    return cleaned


def is_formula_like(text: str) -> bool:
    return text.startswith(_FORMULA_TRIGGERS)


class _SheetCells:
    """Makes the values and styled write-only cells of one sheet.

    Plain values cost openpyxl far less than styled cells, so a cell object is made only where a style matters:
    formula-like text, times and durations.
    """

    def __init__(self, sheet: WriteOnlyWorksheet, tz: tzinfo | None) -> None:
        self.sheet = sheet
        self.tz = tz
        self.bold = Font(bold=True)

    def text(self, value: str | None) -> str | Cell | None:
        if value is None:
            return None
        text = neutralise(value)
        if not is_formula_like(text):
            return text
        cell = WriteOnlyCell(self.sheet, text)
        # openpyxl makes any str starting with "=" a formula; force a plain string, and set Excel's quote prefix
        # (the stored form of a typed apostrophe) so that editing the cell in Excel never turns it into a formula.
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell

    def number(self, value: float | None, number_format: str | None = None) -> float | Cell | None:
        if value is None or number_format is None:
            return value
        cell = WriteOnlyCell(self.sheet, value)
        cell.number_format = number_format
        return cell

    def time(self, timestamp: float | None) -> Cell | None:
        if timestamp is None:
            return None
        cell = WriteOnlyCell(self.sheet, local_datetime(timestamp, self.tz))
        cell.number_format = DATETIME_FORMAT
        return cell

    def header(self, value: str) -> Cell:
        cell = WriteOnlyCell(self.sheet, value)
        cell.font = self.bold
        cell.alignment = Alignment(vertical="top", wrap_text=True)
        return cell

    def unit_row(self, unit: UnitRecord) -> list[object]:
        row: list[object] = []
        for column in COLUMNS:
            value = column.value(unit)
            if column.kind == "text":
                row.append(self.text(value))
            elif column.kind == "time":
                row.append(self.time(value))
            elif column.kind == "seconds":
                row.append(self.number(value, SECONDS_FORMAT))
            else:
                row.append(value)
        return row


def local_datetime(timestamp: float, tz: tzinfo | None = None) -> datetime:
    """A Unix time as the naive local datetime Excel expects, to the millisecond Excel keeps."""
    moment = datetime.fromtimestamp(timestamp, tz).replace(tzinfo=None)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def build_workbook(
    units: Sequence[UnitRecord],
    lots: Sequence[LotRecord],
    *,
    day: date | None = None,
    tz: tzinfo | None = None,
    now: float | None = None,
) -> Workbook:
    """A write-only workbook with the Units and Summary sheets for these units (of these lots)."""
    workbook = Workbook(write_only=True)
    units_sheet: WriteOnlyWorksheet = workbook.create_sheet(UNITS_SHEET)
    cells = _SheetCells(units_sheet, tz)
    for index, column in enumerate(COLUMNS, start=1):
        dimension = units_sheet.column_dimensions[get_column_letter(index)]
        dimension.width = column.width
        if column.kind == "text":
            # Text format for the column, so a value typed or pasted later (a 20-digit ICCID) also stays text.
            dimension.number_format = TEXT_FORMAT
    units_sheet.freeze_panes = "A2"
    units_sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{len(units) + 1}"
    units_sheet.append([cells.header(column.header) for column in COLUMNS])
    for unit in units:
        units_sheet.append(cells.unit_row(unit))
    _write_summary(workbook.create_sheet(SUMMARY_SHEET), units, lots, day=day, tz=tz, now=now)
    return workbook


def _joined(values: Iterable[object]) -> str:
    return ", ".join(dict.fromkeys(str(v) for v in values))


def _write_summary(
    sheet: WriteOnlyWorksheet,
    units: Sequence[UnitRecord],
    lots: Sequence[LotRecord],
    *,
    day: date | None,
    tz: tzinfo | None,
    now: float | None,
) -> None:
    cells = _SheetCells(sheet, tz)
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 40
    summary = summarize(units)

    def pair(label: str, value: Cell | None) -> None:
        sheet.append([cells.header(label), value])

    if day is not None:
        pair("Date", cells.text(day.isoformat()))
    pair("Lot", cells.text(_joined(lot.name for lot in lots)))
    pair("Station", cells.text(_joined(lot.station for lot in lots)))
    pair("Product", cells.text(_joined(lot.product_id for lot in lots)))
    pair("Operator", cells.text(_joined(lot.operator for lot in lots)))
    if day is None and len(lots) == 1:
        pair("Lot opened", cells.time(lots[0].created_at))
        pair("Lot closed", cells.time(lots[0].closed_at))
    if now is not None:
        pair("Workbook written", cells.time(now))
    sheet.append([])
    sheet.append([cells.header("State"), cells.header("Units")])
    for state, count in summary.counts.items():
        sheet.append([cells.text(state.value), cells.number(count)])
    pair("Total units", cells.number(summary.units))
    pair("Finished units (PASS, FAIL, not confirmed)", cells.number(summary.finished))
    pair("Yield (PASS / finished)", cells.number(summary.yield_rate, PERCENT_FORMAT))
    pair("First-pass yield (first result PASS / units)", cells.number(summary.first_pass_yield, PERCENT_FORMAT))
    pair("Median cycle time (s)", cells.number(summary.median_cycle_seconds, SECONDS_FORMAT))
    sheet.append([])
    sheet.append([cells.header("Failures by reason"), cells.header("Units")])
    for reason, count in summary.failures_by_reason:
        sheet.append([cells.text(reason), cells.number(count)])


def save_atomically(
    workbook: Workbook,
    path: str | Path,
    *,
    replace: ReplaceFunction = os.replace,
    fsync: Callable[[int], None] = os.fsync,
) -> None:
    """Save to a temporary file in the same folder, fsync it, then move it over ``path`` in one step.

    A failure at any point leaves the previous workbook as it was and no temporary file behind.
    Raises WorkbookLockedError when another program holds ``path`` and WorkbookWriteError for other failures.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".~{path.stem}.", suffix=".xlsx.tmp", dir=path.parent)
    except OSError as exc:
        raise WorkbookWriteError(
            f"cannot write the workbook {path}: cannot create a file in {path.parent} ({exc.strerror or exc}); "
            "check the folder exists and the station may write to it"
        ) from None
    stage = "write"
    try:
        with os.fdopen(handle, "w+b") as stream:
            workbook.save(stream)
            stream.flush()
            fsync(stream.fileno())
        stage = "replace"
        replace(temporary, str(path))
    except BaseException as exc:
        _remove_quietly(temporary)
        if stage == "replace" and isinstance(exc, PermissionError):
            raise WorkbookLockedError(
                f"workbook {path} is open in another program; close it there (the journal keeps every unit and "
                "the next write includes them all)",
                path,
            ) from None
        if isinstance(exc, OSError):
            raise WorkbookWriteError(
                f"cannot write the workbook {path}: {exc.strerror or exc}; the previous workbook is unchanged and "
                "the journal keeps every unit; free disk space or fix the folder, then write again"
            ) from None
        raise
    _sync_folder(path.parent)


def _remove_quietly(temporary: str) -> None:
    # A stray temporary file is better than hiding the error that brought us here.
    with contextlib.suppress(OSError):
        os.unlink(temporary)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); Windows cannot open a folder and commits renames on its own."""
    if os.name == "posix":
        with contextlib.suppress(OSError):
            descriptor = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)


def workbook_name(text: str) -> str:
    """A file name (without folder) for a lot or day workbook that every file system accepts."""
    safe = _UNSAFE_FILENAME.sub("_", text).strip(" .")
    return f"{safe or 'lot'}.xlsx"


def lot_workbook_path(folder: str | Path, lot: str) -> Path:
    return Path(folder) / workbook_name(lot)


def day_workbook_path(folder: str | Path, day: date) -> Path:
    return Path(folder) / workbook_name(f"day-{day.isoformat()}")


def require_lot(journal: Journal, lot: str) -> LotRecord:
    record = journal.lot(lot)
    if record is not None:
        return record
    names = [known.name for known in journal.lots()]
    shown = f"known lots (newest 20 of {len(names)})" if len(names) > 20 else "known lots"
    known = f"{shown}: {', '.join(names[-20:])}" if names else "the journal has no lots yet"
    raise UnknownLotError(f"lot {lot!r} is not in the journal {journal.path}; {known}")


def units_of_day(journal: Journal, day: date, tz: tzinfo | None = None) -> list[UnitRecord]:
    """Units of every lot started on this local date."""
    return [u for u in journal.units() if local_datetime(u.started_at, tz).date() == day]


def write_workbook(
    journal: Journal,
    path: str | Path,
    *,
    lot: str | None = None,
    day: date | None = None,
    replace: ReplaceFunction = os.replace,
    tz: tzinfo | None = None,
    now: float | None = None,
) -> WorkbookReport:
    """Write the workbook of a lot (every unit's latest state) or of a day (every unit started that local date)."""
    if lot is not None and day is None:
        lots = [require_lot(journal, lot)]
        units = journal.units(lot)
    elif day is not None and lot is None:
        units = units_of_day(journal, day, tz)
        names = {u.lot for u in units}
        lots = [record for record in journal.lots() if record.name in names]
    else:
        raise ValueError("write_workbook needs either a lot or a day")
    workbook = build_workbook(units, lots, day=day, tz=tz, now=now)
    if lot is not None and journal.lot_lists(lot):
        # The lot is tied to the tray lists of its order: show what was provisioned, missing, extra or doubled.
        from station.trays.reconcile import reconcile, write_reconciliation_sheet

        write_reconciliation_sheet(workbook, reconcile(journal, lot))
    save_atomically(workbook, path, replace=replace)
    return WorkbookReport(Path(path), len(units))
