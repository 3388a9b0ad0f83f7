"""Lot and day workbooks (.xlsx) built from the journal with openpyxl and saved atomically.

The journal is the system of record; a workbook is a view of it that can always be rebuilt. Every value that came
from outside the station (labels, device replies, failure reasons) is written as text that Excel never evaluates.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from pathlib import Path
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from station.errors import StationError
from station.files import FsyncFunction, ReplaceFunction, write_atomically
from station.records import Journal, LotRecord, UnitRecord
from station.records.cells import (
    SECONDS_FORMAT,
    TEXT_FORMAT,
    PrintHeader,
    SheetCells,
    SheetData,
    local_datetime,
    prepare_for_print,
    write_sheet,
)
from station.records.measurement_table import MeasurementRecord
from station.records.summary import SUMMARY_SHEET, write_summary_sheet
from station.records.tests_sheet import tests_sheet
from station.version import station_version

LotSheets = Callable[[Journal, str], Sequence[SheetData]]
"""More sheets for a lot's workbook, from a part of the station above the records (the reconciliation against the
lot's tray lists: ``station.trays.reconcile.reconciliation_sheets``). A module-level function, so it can be sent to
the writer's child process."""

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


PROTECTION_TEXT = {"open": "Open Device", "protected": "Protected Device", "service": "Protected Device (Service Mode)"}
"""The journal's protection states as Particle names them (particle-cli src/cmd/device-protection.js, status)."""


def _protection_text(state: str | None) -> str | None:
    return PROTECTION_TEXT.get(state, state) if state is not None else None


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    value: Callable[[UnitRecord], Any]
    kind: Literal["text", "number", "time", "seconds", "state", "wrapped"]
    """``text`` is neutralised and kept as text; ``time`` becomes a local Excel datetime; ``state`` is coloured;
    ``wrapped`` is text wrapped in its column."""


COLUMNS: tuple[Column, ...] = (
    # What identifies a unit comes first: printed, these columns repeat on every page across (IDENTITY_COLUMNS).
    Column("Unit key", 18, lambda u: u.unit_key, "text"),
    Column("Serial", 18, lambda u: u.serial, "text"),
    # Then the verdict, so that the first printed page of the lot says how every unit ended and why.
    Column("State", 13, lambda u: u.state.value, "state"),
    Column("Reason code", 16, lambda u: u.reason_code, "text"),
    Column("Reason", 36, lambda u: u.reason, "wrapped"),
    Column("Action", 36, lambda u: u.action, "wrapped"),
    Column("Device ID", 27, lambda u: u.device_id, "text"),
    Column("Platform", 10, lambda u: u.platform, "text"),
    Column("Device OS", 10, lambda u: u.device_os, "text"),
    Column("ICCID", 23, lambda u: u.iccid, "text"),
    Column("IMEI", 18, lambda u: u.imei, "text"),
    Column("Product firmware version", 10, lambda u: u.firmware_version, "number"),
    Column("Firmware file SHA-256", 68, lambda u: u.firmware_sha256, "text"),  # all 64 digits on one line
    Column("Attempts", 9, lambda u: u.attempts, "number"),
    Column("First result", 10, lambda u: u.first_result, "text"),
    Column("Started", 19, lambda u: u.started_at, "time"),
    Column("Ended", 19, lambda u: u.ended_at, "time"),
    Column("Cycle seconds", 8, lambda u: u.cycle_seconds, "seconds"),
    Column("Slot", 5, lambda u: None if u.slot is None else u.slot + 1, "number"),  # slots are 1-based on screen
    Column("Operator", 13, lambda u: u.operator, "text"),
    Column("Station", 17, lambda u: u.station, "text"),
    Column("Lot", 22, lambda u: u.lot, "text"),
    Column("Software version", 11, lambda u: u.software_version, "text"),
    # Device Protection as read at identify and when the unit left the slot, in Particle's words.
    Column("Protection on arrival", 14, lambda u: _protection_text(u.protection_on_arrival), "text"),
    Column("Protection on leaving", 14, lambda u: _protection_text(u.protection_on_leaving), "text"),
)
UNITS_SHEET = "Units"
IDENTITY_COLUMNS = 2
"""The first columns (unit key, serial) repeat at the left of every printed page: a page of the sheet's right half
still says which unit each row is."""
LINE_HEIGHT = 15.0
"""Points per line of text in the default font: rows with wrapped text are made this many points per line high (a
reader such as LibreOffice keeps the stored height of a streamed row rather than fitting it to the text)."""


@dataclass(frozen=True)
class WorkbookReport:
    path: Path
    units: int


def _unit_row(cells: SheetCells, unit: UnitRecord) -> list[object]:
    row: list[object] = []
    for column in COLUMNS:
        value = column.value(unit)
        if column.kind == "text":
            row.append(cells.text(value))
        elif column.kind == "time":
            row.append(cells.time(value))
        elif column.kind == "state":
            row.append(cells.state(value))
        elif column.kind == "wrapped":
            row.append(cells.wrapped(value))
        elif column.kind == "seconds":
            row.append(cells.number(value, SECONDS_FORMAT))
        else:
            row.append(value)
    return row


def _header_lines() -> int:
    """Lines the longest header takes wrapped at word breaks in its column (about one character per width unit)."""
    most = 1
    for column in COLUMNS:
        room = max(1, int(column.width) - 1)
        lines, used = 1, 0
        for word in column.header.split():
            if used and used + 1 + len(word) > room:
                lines, used = lines + 1, len(word)
            else:
                used += (1 if used else 0) + len(word)
        most = max(most, lines)
    return most


def _wrapped_lines(unit: UnitRecord) -> int:
    """How many lines the unit's longest wrapped text takes in its column (about one character per width unit)."""
    lines = 1
    for column in COLUMNS:
        if column.kind == "wrapped":
            text = column.value(unit)
            if text:
                lines = max(lines, -(-len(str(text)) // max(1, int(column.width) - 2)))
    return min(lines, 15)


def build_workbook(
    units: Sequence[UnitRecord],
    lots: Sequence[LotRecord],
    *,
    day: date | None = None,
    tz: tzinfo | None = None,
    now: float | None = None,
    header: PrintHeader | None = None,
    refused_scans: int = 0,
    measurements: Sequence[MeasurementRecord] = (),
) -> Workbook:
    """A write-only workbook with the Units and Summary sheets for these units (of these lots), ready to print:
    every page says what it is, when, where, by whom and with what (``header``, made from the lots by default).
    ``measurements``: the units' test measurements, whose statistics the Summary adds."""
    header = header or print_header(lots, day=day, tz=tz, now=now)
    workbook = Workbook(write_only=True)
    units_sheet: WriteOnlyWorksheet = workbook.create_sheet(UNITS_SHEET)
    prepare_for_print(units_sheet, header, title_rows=1, title_columns=IDENTITY_COLUMNS, wide=True)
    cells = SheetCells(units_sheet, tz)
    for index, column in enumerate(COLUMNS, start=1):
        dimension = units_sheet.column_dimensions[get_column_letter(index)]
        dimension.width = column.width
        if column.kind in ("text", "wrapped"):
            # Text format for the column, so a value typed or pasted later (a 20-digit ICCID) also stays text.
            dimension.number_format = TEXT_FORMAT
    units_sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{len(units) + 1}"
    units_sheet.row_dimensions[1].height = _header_lines() * LINE_HEIGHT  # every header shows in full
    units_sheet.append([cells.header(column.header) for column in COLUMNS])
    for number, unit in enumerate(units, start=2):
        lines = _wrapped_lines(unit)
        if lines > 1:
            units_sheet.row_dimensions[number].height = lines * LINE_HEIGHT
        units_sheet.append(_unit_row(cells, unit))
    summary_sheet: WriteOnlyWorksheet = workbook.create_sheet(SUMMARY_SHEET)
    prepare_for_print(summary_sheet, header)
    write_summary_sheet(summary_sheet, units, lots, day=day, tz=tz, now=now, refused_scans=refused_scans,
                        measurements=measurements)
    return workbook


def print_header(lots: Sequence[LotRecord], *, day: date | None = None, tz: tzinfo | None = None,
                 now: float | None = None) -> PrintHeader:
    """The printed header and footer of a lot's (or a day's) workbook."""
    names = ", ".join(lot.name for lot in lots) or "no lot"
    products = ", ".join(dict.fromkeys(str(lot.product_id) for lot in lots))
    what = f"Day {day.isoformat()} · lots {names}" if day is not None else f"Lot {names}"
    name = f"Day {day.isoformat()}" if day is not None else f"Lot {names}"
    written = local_datetime(time.time() if now is None else now, tz).strftime("%Y-%m-%d %H:%M")
    return PrintHeader(
        title=f"{what} · product {products}" if products else what,
        written=written,
        station=", ".join(dict.fromkeys(lot.station for lot in lots)) or "-",
        operator=", ".join(dict.fromkeys(lot.operator for lot in lots)) or "-",
        software=f"particle-station {station_version()}",
        name=name,
    )


SEALED_SHEET = "Sealed at close"


def sealed_summary_sheet(lot: LotRecord, tz: tzinfo | None = None) -> SheetData:
    """The figures stored when the lot was closed, as they were then (cloud work finishing later does not change
    them), one figure a row."""
    import json

    rows: list[list[object]] = [["Lot", lot.name]]
    if lot.closed_at is not None:
        rows.append(["Closed", local_datetime(lot.closed_at, tz).strftime("%Y-%m-%d %H:%M:%S")])
    document = json.loads(lot.sealed_summary or "{}")

    def add(label: str, value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                add(f"{label}: {key}" if label else str(key), item)
        elif isinstance(value, list) and all(isinstance(i, list) and len(i) == 2 for i in value):
            for key, item in value:
                add(f"{label}: {key}", item)
        elif isinstance(value, int | float | str) or value is None:
            shown = round(value, 4) if isinstance(value, float) else value  # the stored figure keeps every digit
            rows.append([label.replace("_", " "), shown])

    figures = document.get("summary", {})
    add("", {**(figures if isinstance(figures, dict) else {}),
             **{key: value for key, value in document.items() if key not in ("lot", "summary")}})
    return SheetData(SEALED_SHEET, rows, widths=(60, 22))


def save_atomically(
    workbook: Workbook,
    path: str | Path,
    *,
    replace: ReplaceFunction = os.replace,
    fsync: FsyncFunction = os.fsync,
) -> None:
    """Save through ``station.files.write_atomically``: a failure at any point leaves the previous workbook as it
    was and no temporary file behind.

    Raises WorkbookLockedError when another program holds ``path`` and WorkbookWriteError for other failures.
    """
    path = Path(path)

    def replace_unless_locked(temporary: str, target: str) -> None:
        try:
            replace(temporary, target)
        except PermissionError:
            raise WorkbookLockedError(
                f"workbook {path} is open in another program; close it there (the journal keeps every unit and "
                "the next write includes them all)",
                path,
            ) from None

    try:
        write_atomically(path, workbook.save, replace=replace_unless_locked, fsync=fsync)
    except OSError as exc:
        raise WorkbookWriteError(
            f"cannot write the workbook {path}: {exc.strerror or exc}; the previous workbook is unchanged and the "
            "journal keeps every unit; free disk space or fix the folder (it must exist and the station may write "
            "to it), then write again"
        ) from None


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
    lot_sheets: LotSheets | None = None,
) -> WorkbookReport:
    """Write the workbook of a lot (every unit's latest state) or of a day (every unit started that local date).

    A lot's workbook also gets the sheets ``lot_sheets`` gives for it (none without ``lot_sheets``).
    """
    if lot is not None and day is None:
        lots = [require_lot(journal, lot)]
        units = journal.units(lot)
    elif day is not None and lot is None:
        units = units_of_day(journal, day, tz)
        names = {u.lot for u in units}
        lots = [record for record in journal.lots() if record.name in names]
    else:
        raise ValueError("write_workbook needs either a lot or a day")
    header = print_header(lots, day=day, tz=tz, now=now)
    refused = sum(journal.refused_scan_table.count(record.name) for record in lots)
    unit_ids = {unit.id for unit in units}
    measurements = [m for record in lots for m in journal.measurement_table.of_lot(record.name)
                    if m.unit_id in unit_ids]
    workbook = build_workbook(units, lots, day=day, tz=tz, now=now, header=header, refused_scans=refused,
                              measurements=measurements)
    if measurements:
        write_sheet(workbook, tests_sheet(units, measurements, tz), header)
    if lot is not None and lots[0].sealed_summary is not None:
        write_sheet(workbook, sealed_summary_sheet(lots[0], tz), header)
    if lot is not None and lot_sheets is not None:
        for sheet in lot_sheets(journal, lot):
            write_sheet(workbook, sheet, header)
    save_atomically(workbook, path, replace=replace)
    return WorkbookReport(Path(path), len(units))
