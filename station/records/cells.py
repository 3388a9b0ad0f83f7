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

STATE_FILLS = {
    "PASS": "C6EFCE",  # Excel's own "Good" green
    "FAIL": "FFC7CE",  # Excel's own "Bad" red
    "cloud pending": "FFEB9C",  # Excel's own "Neutral" yellow
    "not confirmed": "FFEB9C",
}
"""Background of a unit's state cell, so PASS and FAIL stand out on screen and on paper."""
WIDE_SHEET_SCALE = 80
"""Percent a sheet too wide for one page prints at: the default 11 pt font prints at about 9 pt, readable on paper,
and a landscape page still takes 10-12 columns."""
_HEADER_FOOTER_PART = 80
"""Characters kept of one part of a printed header or footer (Excel allows 255 for a whole header)."""

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
    widths: Sequence[float] = ()
    """Widths of the first columns, in characters (the others keep the default)."""
    title_rows: int = 0
    """Rows at the top frozen on screen and repeated on every printed page (the header row)."""
    title_columns: int = 0
    """Columns at the left repeated on every printed page (what identifies a row: the serial)."""
    wide: bool = False
    """Too wide for one page: printed at ``WIDE_SHEET_SCALE`` over as many pages across as it needs."""


@dataclass(frozen=True)
class PrintHeader:
    """What every printed page of a report says: what it is, when it was written, where, by whom and with what."""

    title: str
    """The lot (or day) and the product, e.g. "Lot 12345-20260101-001 · product 12345"."""
    written: str
    station: str
    operator: str
    software: str
    """The station software that wrote the report, e.g. "particle-station 1.4.0"."""
    name: str = ""
    """What the report is, short, for the footer next to the page number: "Lot 12345-20260101-001"."""


def _header_text(text: str) -> str:
    """Text for a header or footer part: '&' starts a code there, so it is doubled; cut to a printable length."""
    text = neutralise(text)
    if len(text) > _HEADER_FOOTER_PART:
        text = text[: _HEADER_FOOTER_PART - 1] + "…"
    return text.replace("&", "&&")


def prepare_for_print(sheet: AnySheet, header: PrintHeader | None, *, title_rows: int = 0, title_columns: int = 0,
                      wide: bool = False) -> None:
    """Landscape with gridlines, the first ``title_rows`` rows frozen and repeated on every printed page (and the
    first ``title_columns`` columns too), and the report's header and footer ("Page N of M") on every page.

    A narrow sheet (the Summary) is fitted to the page width, as many pages down as needed. A ``wide`` sheet (Units,
    Tests) is not: squeezing 25 columns onto one page width prints 3-4 pt text, so it prints at
    ``WIDE_SHEET_SCALE`` over as many pages across and down as it needs, a page's rows continued on the next page
    across before the next rows (so one unit's row reads on neighbouring pages).

    Call it before the sheet's first row: a write-only sheet writes its views and properties with that row.
    """
    sheet.page_setup.orientation = "landscape"
    if wide:
        sheet.page_setup.scale = WIDE_SHEET_SCALE
        sheet.page_setup.pageOrder = "overThenDown"
        sheet.sheet_properties.pageSetUpPr.fitToPage = False
    else:
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0  # 0: as many pages down as the rows need
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.gridLines = True
    sheet.print_options.headings = False  # row numbers and column letters mean nothing on paper
    from openpyxl.utils import get_column_letter

    if title_rows:
        sheet.print_title_rows = f"1:{title_rows}"
    if title_columns:
        sheet.print_title_cols = f"A:{get_column_letter(title_columns)}"
    if title_rows or title_columns:
        sheet.freeze_panes = f"{get_column_letter(title_columns + 1)}{title_rows + 1}"
    if header is not None:
        sheet.oddHeader.left.text = _header_text(header.title)
        sheet.oddHeader.right.text = _header_text(f"Written {header.written}")
        sheet.oddFooter.left.text = _header_text(f"Station {header.station} · Operator {header.operator}")
        name = f"{_header_text(header.name)} · " if header.name else ""
        sheet.oddFooter.center.text = f"{name}Page &P of &N"
        sheet.oddFooter.right.text = _header_text(header.software)


def write_sheet(workbook: Workbook, data: SheetData, header: PrintHeader | None = None) -> None:
    """Add ``data`` as a sheet of ``workbook`` (write-only or not), ready to print; its text never becomes a
    formula."""
    sheet = workbook.create_sheet(data.title)
    prepare_for_print(sheet, header, title_rows=data.title_rows, title_columns=data.title_columns, wide=data.wide)
    from openpyxl.utils import get_column_letter

    for index, width in enumerate(data.widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for number, row in enumerate(data.rows, start=1):
        if number <= data.title_rows:
            # Title rows are headers: bold, wrapped in their column on two lines ("Marginal / lower").
            sheet.row_dimensions[number].height = 2 * _LINE_HEIGHT
            sheet.append([_header_cell(sheet, value) if isinstance(value, str) else value for value in row])
        else:
            sheet.append(safe_row(sheet, row))


_LINE_HEIGHT = 15.0
"""Points per line of text in the default font."""


def _header_cell(sheet: AnySheet, value: str) -> Cell:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    cell = WriteOnlyCell(sheet, neutralise(value))
    cell.data_type = "s"
    cell.font = Font(bold=True)
    cell.alignment = Alignment(vertical="top", wrap_text=True)
    return cell


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
        from openpyxl.styles import Alignment, Font, PatternFill

        self._cell = WriteOnlyCell
        self._alignment = Alignment
        self.sheet = sheet
        self.tz = tz
        self.bold = Font(bold=True)
        self._fills = {state: PatternFill("solid", start_color=colour, end_color=colour)
                       for state, colour in STATE_FILLS.items()}
        self._wrap = Alignment(vertical="top", wrap_text=True)

    def text(self, value: str | None) -> str | Cell | None:
        return None if value is None else text_cell(self.sheet, value)

    def number(self, value: float | None, number_format: str | None = None) -> float | Cell | None:
        if value is None or number_format is None:
            return value
        cell = self._cell(self.sheet, value)
        cell.number_format = number_format
        return cell

    def warning(self, value: float, number_format: str | None = None) -> Cell:
        """A number that needs a look (a Cpk below the bar), filled yellow like a unit waiting on the cloud."""
        cell = self._cell(self.sheet, value)
        if number_format is not None:
            cell.number_format = number_format
        cell.fill = self._fills["cloud pending"]
        return cell

    def time(self, timestamp: float | None) -> Cell | None:
        if timestamp is None:
            return None
        cell = self._cell(self.sheet, local_datetime(timestamp, self.tz))
        cell.number_format = DATETIME_FORMAT
        return cell

    def state(self, value: str) -> str | Cell:
        """A unit's state, its cell filled green (PASS), red (FAIL) or yellow (waiting on the cloud, not confirmed)."""
        fill = self._fills.get(value)
        if fill is None:
            return self.text(value) or ""
        cell = self._cell(self.sheet, value)
        cell.fill = fill
        return cell

    def wrapped(self, value: str | None) -> str | Cell | None:
        """Long text (a failure's reason) wrapped in its column instead of running across the page."""
        if value is None:
            return None
        cell = self._cell(self.sheet, neutralise(value))
        cell.data_type = "s"
        if is_formula_like(cell.value):
            cell.quotePrefix = True
        cell.alignment = self._wrap
        return cell

    def header(self, value: str) -> Cell:
        cell = self._cell(self.sheet, value)
        cell.font = self.bold
        cell.alignment = self._alignment(vertical="top", wrap_text=True)
        return cell
