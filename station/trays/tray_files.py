"""A tray file's raw tables: what kind of file it really is (judged by content, not by its name), and its rows.

Tray lists arrive as whatever the order came with: plain text, CSV (comma, semicolon or tab; UTF-8, UTF-16 or a
legacy code page) or an Excel workbook, sometimes saved under the wrong name (an .xlsx called ``.csv``). The kind is
read from the first bytes: a zip archive holding ``xl/workbook.xml`` is an .xlsx (ECMA-376 Part 2, Open Packaging
Conventions), ``D0 CF 11 E0`` is a legacy .xls (an OLE2 compound file), anything else must decode as text. Every
failure is a ``TrayError`` with one sentence; nothing a file holds ends in a traceback.
"""

from __future__ import annotations

import csv
import io
import logging
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from station.errors import StationError
from station.trays.xlsx_rows import worksheet_rows

log = logging.getLogger(__name__)

MAX_TRAY_BYTES = 20 * 1024 * 1024
MAX_TRAY_ROWS = 200_000
"""More rows than any tray order holds: a workbook that unpacks to more is refused (it may be a zip bomb)."""
EXCEL_DIGITS = 15
"""Excel keeps numbers as IEEE doubles and shows 15 significant digits (Microsoft, 'Excel specifications and
limits': number precision 15 digits); a longer id stored as a number has lost its last digits."""

_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


class TrayError(StationError):
    """A tray file cannot be read at all (missing, unreadable, not a tray list)."""


@dataclass(frozen=True)
class Table:
    """The rows of one sheet (or of a text file): (line or row number, cells); ``sheet`` is None for text files."""

    sheet: str | None
    rows: list[tuple[int, list[str]]]
    tabular: bool
    """False for a plain list (one identifier per line, ``#`` comments)."""


def read_tables(source: Path) -> list[Table]:
    """The tables of a tray file: one per sheet of a workbook, one for a text or CSV file."""
    try:
        if source.is_dir():
            raise TrayError(f"{source} is a folder; choose the tray file inside it")
        status = source.stat()
        if not stat.S_ISREG(status.st_mode):
            # A pipe or a device (/dev/zero) would block or never end.
            raise TrayError(f"{source} is not a file (a pipe or a device); choose the tray file itself")
        size = status.st_size
        if size > MAX_TRAY_BYTES:
            raise TrayError(f"tray file {source} is {size // 1024 // 1024} MB; a tray list is at most 20 MB")
        raw = source.read_bytes()
    except FileNotFoundError:
        raise TrayError(f"tray file {source} does not exist") from None
    except OSError as exc:
        raise TrayError(f"cannot read tray file {source}: {exc.strerror or exc}") from None
    if not raw.strip():
        raise TrayError(f"tray file {source} is empty")
    if raw.startswith((_ZIP_MAGIC, _EMPTY_ZIP_MAGIC)):
        return _workbook_tables(raw, source)
    if raw.startswith(_OLE2_MAGIC):
        raise TrayError(f"tray file {source} is an Excel 97-2003 (.xls) workbook; open it in Excel and save it as "
                        ".xlsx or CSV")
    text = _decode(raw, source)
    if source.suffix.lower() in (".csv", ".tsv") or _looks_tabular(text):
        return [Table(None, _csv_rows(text, source), True)]
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        cell = line.split("#", 1)[0].strip()
        if cell:
            rows.append((number, [cell]))
    return [Table(None, rows, False)]


def _decode(raw: bytes, source: Path) -> str:
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                raise TrayError(f"tray file {source} starts as {encoding.upper()} text but is not; save it again as "
                                "UTF-8 text or CSV") from None
    head = raw[:4096]
    if b"\x00" in head:
        # UTF-16 without a byte order mark: every other byte of ASCII text is zero.
        even, odd = head[0::2], head[1::2]
        for zeros, encoding in ((odd, "utf-16-le"), (even, "utf-16-be")):
            if zeros.count(0) > len(zeros) * 0.9:
                try:
                    return raw.decode(encoding)
                except UnicodeDecodeError:
                    break
        raise TrayError(f"tray file {source} is binary, not a text, CSV or Excel tray list")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    controls = sum(1 for char in text[:4096] if ord(char) < 32 and char not in "\r\n\t\f\v")
    if controls > len(text[:4096]) * 0.05:
        raise TrayError(f"tray file {source} is binary, not a text, CSV or Excel tray list")
    return text


def _looks_tabular(text: str) -> bool:
    """Most of the first lines (comments and title lines aside) have a separator: a table, whatever its name."""
    sample = [line for line in text.splitlines()[:30] if line.strip() and not line.lstrip().startswith("#")]
    return bool(sample) and sum(1 for line in sample if any(sep in line for sep in ",;\t")) * 3 >= len(sample) * 2


def _csv_rows(text: str, source: Path) -> list[tuple[int, list[str]]]:
    # The separator found on most of the first lines (title lines above the table have none; csv.Sniffer then
    # guesses wrong), quoting as Excel writes it.
    sample = [line for line in text.splitlines()[:50] if line.strip()]
    delimiter = max(",;\t", key=lambda sep: (sum(1 for line in sample if sep in line),
                                             sum(line.count(sep) for line in sample)))
    rows = []
    reader = csv.reader(io.StringIO(text), csv.excel, delimiter=delimiter)
    try:
        for row in reader:
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise TrayError(f"tray file {source} is not a readable CSV near line {reader.line_num + 1}: {exc}") from None
    if len(rows) > MAX_TRAY_ROWS:
        raise TrayError(f"tray file {source} has more than {MAX_TRAY_ROWS} rows; split it into trays")
    return rows


def _workbook_tables(raw: bytes, source: Path) -> list[Table]:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(raw)).namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise TrayError(f"tray file {source} is a damaged zip or Excel file (cut short or corrupt); save or download "
                        "it again") from None
    if "xl/workbook.xml" not in names:
        what = "an OpenDocument spreadsheet" if "content.xml" in names else "a zip archive, not an Excel workbook"
        raise TrayError(f"tray file {source} is {what}; save it as .xlsx or CSV")
    try:
        sheets = worksheet_rows(zipfile.ZipFile(io.BytesIO(raw)), cell_text, MAX_TRAY_ROWS)
    except OverflowError:
        raise TrayError(f"tray workbook {source} has more than {MAX_TRAY_ROWS} rows; split it into trays") from None
    except Exception as exc:  # anything unexpected: openpyxl reads the file, or says why it cannot
        log.debug("tray workbook %s: the fast reader gave up (%r); reading it with openpyxl", source, exc)
    else:
        if sheets:
            return [Table(title, rows, True) for title, rows in sheets]
    import openpyxl

    tables: list[Table] = []
    total = 0
    try:
        # A stream, not the path: openpyxl judges a path by its extension and refuses an .xlsx named .csv.
        workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        try:
            for sheet in workbook.worksheets:
                rows = []
                for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                    cells = ["" if value is None else cell_text(value) for value in row]
                    if any(cells):
                        rows.append((number, cells))
                        total += 1
                        if total > MAX_TRAY_ROWS:
                            raise TrayError(f"tray workbook {source} has more than {MAX_TRAY_ROWS} rows; split it "
                                            "into trays")
                tables.append(Table(sheet.title, rows, True))
        finally:
            workbook.close()
    except TrayError:
        raise
    except Exception as exc:  # openpyxl raises a zoo: ParseError, zlib.error, KeyError, EOFError, IndexError...
        raise TrayError(f"tray workbook {source} is damaged and cannot be read ({type(exc).__name__}); open it in "
                        "Excel, save it again, or export it as CSV") from None
    if not tables:
        raise TrayError(f"tray workbook {source} has no sheets")
    return tables


def cell_text(value: object) -> str:
    """A workbook cell as text. A number too long for Excel to hold exactly (16 digits or more) is shown in
    scientific notation, as Excel shows it, so that it is refused as rounded, never imported with invented digits."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if abs(value) >= 10**EXCEL_DIGITS:
            return f"{value:.{EXCEL_DIGITS - 1}E}"
        return str(int(value)) if value.is_integer() else str(value)
    return str(value)
