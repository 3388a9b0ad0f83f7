"""Cells of the station's .xlsx workbooks: text that Excel never evaluates, numbers, local times and headers.

Every workbook the station writes (lot and day workbooks, import reports, the reconciliation sheet) makes its cells
here, so a value that came from outside the station (a label, a tray file line, a device reply) is written as text
that stays text: control characters made visible, cut to Excel's limit, and formula-like text kept as a string with
Excel's quote prefix. The helpers work with write-only and ordinary worksheets alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, TypeAlias

# openpyxl (with numpy where installed) takes a third of a second to import: it loads when a workbook is written,
# so a module that only names a sheet (the line, the reconciliation) starts without it.
if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet
    from openpyxl.worksheet.worksheet import Worksheet

    AnySheet: TypeAlias = Worksheet | WriteOnlyWorksheet

DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
SECONDS_FORMAT = "0.0"
PERCENT_FORMAT = "0.0%"
TEXT_FORMAT = "@"
EXCEL_CELL_LIMIT = 32767  # Excel refuses to open a cell longer than this

# A text starting with one of these is a formula (or the start of one) to Excel, LibreOffice and Google Sheets.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

def neutralise(text: str) -> str:
    """The text as a cell may hold it: control characters Excel rejects made visible, and cut to Excel's limit."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    cleaned = str(ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", text))
    if len(cleaned) > EXCEL_CELL_LIMIT:
        cleaned = cleaned[: EXCEL_CELL_LIMIT - 1] + "…"
    return cleaned


def is_formula_like(text: str) -> bool:
    return text.startswith(_FORMULA_TRIGGERS)


def text_cell(sheet: AnySheet, value: str) -> str | Cell:
    """``value`` neutralised; formula-like text becomes a cell that stays a string (plain text costs less)."""
    text = neutralise(value)
    if not is_formula_like(text):
        return text
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, text)
    # openpyxl makes any str starting with "=" a formula; force a plain string, and set Excel's quote prefix
    # (the stored form of a typed apostrophe) so that editing the cell in Excel never turns it into a formula.
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def safe_row(sheet: AnySheet, values: Iterable[object]) -> list[object]:
    """A row for ``sheet.append`` in which every text goes through ``text_cell``; other values are kept."""
    return [text_cell(sheet, value) if isinstance(value, str) else value for value in values]


@dataclass(frozen=True)
class SheetData:
    """A sheet of plain rows (text and numbers) that another part of the station adds to a workbook."""

    title: str
    rows: Sequence[Sequence[object]]


def write_sheet(workbook: Workbook, data: SheetData) -> None:
    """Add ``data`` as a sheet of ``workbook`` (write-only or not); its text never becomes a formula."""
    sheet = workbook.create_sheet(data.title)
    for row in data.rows:
        sheet.append(safe_row(sheet, row))


def local_datetime(timestamp: float, tz: tzinfo | None = None) -> datetime:
    """A Unix time as the naive local datetime Excel expects, to the millisecond Excel keeps."""
    moment = datetime.fromtimestamp(timestamp, tz).replace(tzinfo=None)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class SheetCells:
    """Makes the values and styled write-only cells of one sheet.

    Plain values cost openpyxl far less than styled cells, so a cell object is made only where a style matters:
    formula-like text, times and durations.
    """

    def __init__(self, sheet: WriteOnlyWorksheet, tz: tzinfo | None) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font

        self._cell = WriteOnlyCell
        self._alignment = Alignment
        self.sheet = sheet
        self.tz = tz
        self.bold = Font(bold=True)

    def text(self, value: str | None) -> str | Cell | None:
        return None if value is None else text_cell(self.sheet, value)

    def number(self, value: float | None, number_format: str | None = None) -> float | Cell | None:
        if value is None or number_format is None:
            return value
        cell = self._cell(self.sheet, value)
        cell.number_format = number_format
        return cell

    def time(self, timestamp: float | None) -> Cell | None:
        if timestamp is None:
            return None
        cell = self._cell(self.sheet, local_datetime(timestamp, self.tz))
        cell.number_format = DATETIME_FORMAT
        return cell

    def header(self, value: str) -> Cell:
        cell = self._cell(self.sheet, value)
        cell.font = self.bold
        cell.alignment = self._alignment(vertical="top", wrap_text=True)
        return cell
