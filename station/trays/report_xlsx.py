"""A plain .xlsx of text and whole-number sheets, written straight as SpreadsheetML: the import reports' format.

An import report of 10,000 lines is 60,000 cells. openpyxl without lxml serialises each cell through a pure-Python
XML tree, about 2 s of CPU for such a report even in write-only mode; the report has only text and whole numbers, a
bold frozen header and column widths, so its XML is written here directly (ECMA-376 Part 1, SpreadsheetML: inline
strings, one styles part), in a few tens of milliseconds. Every text cell goes through ``station.records.cells``:
control characters made visible, cut to Excel's limit, and formula-like text (a tray file line or a file name such as
``=HYPERLINK(...)``) kept a string with Excel's quote prefix, so that editing it never turns it into a formula.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import BinaryIO
from xml.sax.saxutils import escape, quoteattr

from station.records.cells import EXCEL_CELL_LIMIT, is_formula_like, neutralise

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_NORMAL, _BOLD, _QUOTED = 0, 1, 2
"""Cell formats (cellXfs) of the styles part below."""
_STYLES = (
    f'{_HEAD}<styleSheet xmlns="{_MAIN}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
_NEEDS_NEUTRALISING = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""The control characters ``neutralise`` makes visible (openpyxl's ILLEGAL_CHARACTERS_RE): text without them, and
within Excel's length, is already what ``neutralise`` returns, and skips loading openpyxl (a third of a second)."""

Value = str | int | None


@dataclass(frozen=True)
class PlainSheet:
    """A sheet: its title, column widths (characters), whether the first row is a bold frozen header, its rows."""

    title: str
    widths: Sequence[float]
    rows: Iterable[Sequence[Value]]
    header: bool = False


def _column(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _cell_text(value: str) -> str:
    return neutralise(value) if len(value) > EXCEL_CELL_LIMIT or _NEEDS_NEUTRALISING.search(value) else value


def _text_cell(ref: str, value: str, style: int) -> str:
    text = _cell_text(value)
    if style == _NORMAL and is_formula_like(text):
        style = _QUOTED
    space = ' xml:space="preserve"' if text != text.strip() else ""
    styled = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{styled} t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


def _sheet_xml(sheet: PlainSheet) -> Iterable[str]:
    yield f'{_HEAD}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><sheetViews><sheetView workbookViewId="0">'
    if sheet.header:
        yield '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    yield '</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
    if sheet.widths:
        yield "<cols>"
        for number, width in enumerate(sheet.widths, start=1):
            yield f'<col min="{number}" max="{number}" width="{width}" customWidth="1"/>'
        yield "</cols>"
    yield "<sheetData>"
    letters = [_column(i) for i in range(64)]
    for row_number, row in enumerate(sheet.rows, start=1):
        style = _BOLD if sheet.header and row_number == 1 else _NORMAL
        cells = []
        for index, value in enumerate(row):
            if value is None or value == "":
                continue
            ref = f"{letters[index] if index < 64 else _column(index)}{row_number}"
            if isinstance(value, bool) or not isinstance(value, int):
                cells.append(_text_cell(ref, str(value), style))
            else:
                styled = f' s="{style}"' if style else ""
                cells.append(f'<c r="{ref}"{styled}><v>{value}</v></c>')
        yield f'<row r="{row_number}">{"".join(cells)}</row>'
    yield "</sheetData></worksheet>"


def _title(title: str, taken: set[str]) -> str:
    """A valid, unique sheet name: no []:*?/\\, at most 31 characters (Excel's rules)."""
    base = _SHEET_NAME_BAD.sub("_", _cell_text(title)).strip("'")[:31] or "Sheet"
    name, number = base, 1
    while name.lower() in taken:
        number += 1
        name = f"{base[: 31 - len(str(number)) - 1]}_{number}"
    taken.add(name.lower())
    return name


def write_plain_workbook(stream: BinaryIO, sheets: Sequence[PlainSheet]) -> None:
    """Write ``sheets`` to ``stream`` as an .xlsx package."""
    taken: set[str] = set()
    titles = [_title(sheet.title, taken) for sheet in sheets]
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for n in range(1, len(sheets) + 1)
        )
        package.writestr("[Content_Types].xml", (
            f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{overrides}</Types>"
        ))
        package.writestr("_rels/.rels", (
            f'{_HEAD}<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
            f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ))
        entries = "".join(f'<sheet name={quoteattr(title)} sheetId="{n}" r:id="rId{n}"/>'
                          for n, title in enumerate(titles, start=1))
        package.writestr("xl/workbook.xml",
                         f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>{entries}</sheets></workbook>')
        links = "".join(f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
                        for n in range(1, len(sheets) + 1))
        styles = f'<Relationship Id="rId{len(sheets) + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
        package.writestr("xl/_rels/workbook.xml.rels",
                         f'{_HEAD}<Relationships xmlns="{_PKG_REL}">{links}{styles}</Relationships>')
        package.writestr("xl/styles.xml", _STYLES)
        for number, sheet in enumerate(sheets, start=1):
            package.writestr(f"xl/worksheets/sheet{number}.xml", "".join(_sheet_xml(sheet)).encode("utf-8"))
