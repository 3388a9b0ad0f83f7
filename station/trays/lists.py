"""Tray lists (.txt/.csv/.xlsx that come with a tray order) read into validated, de-duplicated identifiers.

Each entry keeps its line (row) number so every problem can be reported where the engineer will look for it. A file is
read as it comes from the order: title rows above the header, the ids on any sheet of a workbook, in any column; the
sheet and column are found by their header or, without one, by what their cells hold. An id that Excel already turned
into a number (a 20-digit ICCID keeps only 15 digits) is refused on its line with how to fix the file.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from pathlib import Path

from hardware.errors import IdentifierError
from hardware.identifiers import DeviceId, Iccid, Imei, SerialNumber, luhn_ok
from hardware.platforms import PLATFORMS, McuFamily, Platform
from station.trays.tray_files import EXCEL_DIGITS, MAX_TRAY_BYTES, Table, TrayError, read_tables

__all__ = [
    "MAX_TRAY_BYTES", "EntryKind", "ProblemKind", "TrayEntry", "TrayError", "TrayList", "TrayProblem", "classify",
    "foreign_platform_reason", "read_tray",
]

SHOWN_TEXT = 80
"""A problem line's text is kept to this many characters (a tray file can hold one 20 MB line)."""
HEADER_SEARCH_ROWS = 30
"""Title rows (order number, customer, date) may stand above the header: it is looked for in this many rows."""
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d*)?[eE][+-]?\d+")
_HEX24 = re.compile(r"[0-9a-fA-F]{24}")
ROUNDED_FIX = "format the id column as Text and paste the ids again from the original list"
# Device id prefixes by MCU family (Device OS hal/src/*/deviceid_hal.cpp).
_ID_PREFIX = {McuFamily.NRF52840: "e00fce68", McuFamily.RTL872X: "0a10aced2021"}


class EntryKind(enum.Enum):
    DEVICE_ID = "device id"
    SERIAL = "serial number"
    ICCID = "ICCID"
    IMEI = "IMEI"


class ProblemKind(enum.Enum):
    INVALID = "invalid"
    DUPLICATE = "duplicate"
    OTHER_PLATFORM = "other platform"
    WRONG_KIND = "wrong kind"
    ROUNDED = "rounded by Excel"


@dataclass(frozen=True)
class TrayEntry:
    line: int
    kind: EntryKind
    value: str
    """Normalised: device ids lower case, serials upper case, digits for ICCID/IMEI."""


@dataclass(frozen=True)
class TrayProblem:
    line: int
    text: str
    kind: ProblemKind
    reason: str


@dataclass(frozen=True)
class TrayList:
    source: Path
    entries: tuple[TrayEntry, ...]
    problems: tuple[TrayProblem, ...]
    column: str | None = None
    warnings: tuple[str, ...] = field(default=())
    sheet: str | None = None
    """The workbook sheet the ids were read from (None for a text or CSV file)."""
    input_columns: tuple[str, ...] = ()
    """The columns of the table the ids were read from (its header, or "column N"); empty for a plain list."""
    input_rows: dict[int, tuple[str, ...]] = field(default_factory=dict, compare=False)
    """Line or row number -> that row's cells, for reports that keep every column of the input."""

    def of_kind(self, kind: EntryKind) -> list[TrayEntry]:
        return [e for e in self.entries if e.kind is kind]


def _header_kinds() -> dict[str, EntryKind]:
    words = {
        EntryKind.DEVICE_ID: ("device id", "deviceid", "device_id", "device", "id", "core id", "particle id"),
        EntryKind.SERIAL: ("serial", "serial number", "serial_number", "serialnumber", "sn", "serial no", "s/n"),
        EntryKind.ICCID: ("iccid", "sim", "sim iccid", "sim card", "iccid number"),
        EntryKind.IMEI: ("imei", "imei number"),
    }
    return {word: kind for kind, names in words.items() for word in names}


_HEADER_KINDS = _header_kinds()
_KIND_ORDER = (EntryKind.DEVICE_ID, EntryKind.SERIAL, EntryKind.ICCID, EntryKind.IMEI)


def rounded_reason(text: str, *, column_rounded: bool = False) -> str | None:
    """Why ``text`` is an id Excel already rounded, or None: scientific notation, or 16 or more digits that end in
    zeros from digit 16 on (Excel's display of a long number). Such digits with a valid Luhn check digit pass (a real
    ICCID may end in zeros) unless other lines of the column are rounded (``column_rounded``)."""
    value = text.strip().strip('"').strip()
    if _SCIENTIFIC.fullmatch(value) and not _HEX24.fullmatch(value):  # "12345e..." may be a real device id
        return (f"{value} is a number in scientific notation: Excel stored the id as a number and kept only "
                f"{EXCEL_DIGITS} digits; {ROUNDED_FIX}")
    if (value.isdigit() and len(value) > EXCEL_DIGITS and not value[EXCEL_DIGITS:].strip("0")
            and (column_rounded or not luhn_ok(value))):
        return (f"{value} ends in {len(value) - EXCEL_DIGITS} zeros after digit {EXCEL_DIGITS}: Excel stored the id "
                f"as a number and lost its last digits; {ROUNDED_FIX}")
    return None


def classify(text: str) -> TrayEntry | str:
    """The identifier a tray cell holds (with line 0), or the reason it is not one."""
    value = text.strip().strip('"').strip()
    rounded = rounded_reason(value)
    if rounded is not None:
        return rounded
    if _HEX24.fullmatch(value):
        return TrayEntry(0, EntryKind.DEVICE_ID, DeviceId.parse(value).value)
    if value.isdigit():
        if value.startswith("89") and len(value) in (19, 20):
            return TrayEntry(0, EntryKind.ICCID, Iccid.parse(value).value)
        if len(value) == 15:
            try:
                return TrayEntry(0, EntryKind.IMEI, Imei.parse(value).value)
            except IdentifierError as exc:
                return str(exc)
        return f"{len(value)} digits is neither an ICCID (19-20 digits starting 89) nor an IMEI (15 digits)"
    if re.fullmatch(r"[A-Za-z0-9]{15}", value):
        return TrayEntry(0, EntryKind.SERIAL, SerialNumber.parse(value).value)
    if re.fullmatch(r"[0-9a-fA-F]+", value):
        return f"has {len(value)} hex characters; a device id has 24"
    return "not a device id, serial number, ICCID or IMEI"


def _family(mcu: McuFamily) -> str:
    """The platforms a user knows that share ``mcu`` (and so its device id prefix), e.g. "Tracker M / P2 / M-SoM"."""
    return " / ".join(p.display_name for p in PLATFORMS if p.mcu is mcu and p.public)


def foreign_platform_reason(device_id: str, platform: Platform) -> str | None:
    """Why a device id cannot belong to ``platform``, judged from its MCU-specific prefix; None when it can. Said in
    the platforms a user knows ("a Tracker M / P2 / M-SoM device id"), not in chip names."""
    expected = _ID_PREFIX.get(platform.mcu)
    if expected is not None and device_id.startswith(expected):
        return None
    for mcu, prefix in _ID_PREFIX.items():
        if device_id.startswith(prefix):
            return f"is a {_family(mcu)} device id, not a {platform.display_name} one"
    if expected is not None:
        return f"is not a {platform.display_name} device id ({platform.display_name} ids start with {expected})"
    return None


def read_tray(
    path: str | Path,
    *,
    accept: frozenset[EntryKind] = frozenset({EntryKind.DEVICE_ID, EntryKind.SERIAL}),
    platform: Platform | None = None,
) -> TrayList:
    """Read a tray list; invalid, rounded, duplicate and foreign lines become problems, never exceptions."""
    source = Path(path)
    tables = read_tables(source)
    try:
        choice = _choose(tables, accept, source)
    except TrayError:
        if _text_under_workbook_name(tables, source):
            raise _not_a_workbook(source) from None
        raise
    if choice is None and _text_under_workbook_name(tables, source):
        raise _not_a_workbook(source)
    if choice is None:
        empty = " (every sheet is empty)" if tables[0].sheet is not None else ""
        raise TrayError(f"tray file {source} holds no identifiers{empty}")
    sheet, column, cells, table, header = choice
    input_columns: tuple[str, ...] = ()
    input_rows: dict[int, tuple[str, ...]] = {}
    if table.tabular:
        width = max(len(header or ()), *(len(row) for _, row in table.rows))
        input_columns = tuple((header[i].strip() if header and i < len(header) else "") or f"column {i + 1}"
                              for i in range(width))
        input_rows = {number: tuple(row) for number, row in table.rows}
    column_rounded = any(rounded_reason(text) is not None for _, text in cells)
    entries: list[TrayEntry] = []
    problems: list[TrayProblem] = []
    first_line: dict[str, int] = {}
    for line, text in cells:
        rounded = rounded_reason(text, column_rounded=column_rounded)
        if rounded is not None:
            problems.append(TrayProblem(line, shown(text), ProblemKind.ROUNDED, rounded))
            continue
        result = classify(text)
        if isinstance(result, str):
            problems.append(TrayProblem(line, shown(text), ProblemKind.INVALID, result))
            continue
        if result.kind not in accept:
            wanted = " or ".join(sorted(k.value for k in accept))
            reason = f"is a {result.kind.value}, not a {wanted}"
            problems.append(TrayProblem(line, text, ProblemKind.WRONG_KIND, reason))
            continue
        if result.value in first_line:
            problems.append(
                TrayProblem(line, text, ProblemKind.DUPLICATE, f"duplicate of line {first_line[result.value]}")
            )
            continue
        if platform is not None and result.kind is EntryKind.DEVICE_ID:
            foreign = foreign_platform_reason(result.value, platform)
            if foreign is not None:
                problems.append(TrayProblem(line, text, ProblemKind.OTHER_PLATFORM, f"{result.value} {foreign}"))
                continue
        first_line[result.value] = line
        entries.append(TrayEntry(line, result.kind, result.value))
    warnings = [
        f"line {e.line}: ICCID {e.value} fails its Luhn check digit"
        for e in entries
        if e.kind is EntryKind.ICCID and not Iccid.parse(e.value).luhn_valid
    ]
    rounded_lines = [p.line for p in problems if p.kind is ProblemKind.ROUNDED]
    if rounded_lines:
        warnings.insert(0, f"{len(rounded_lines)} lines (first: line {rounded_lines[0]}) hold ids Excel already "
                           f"rounded to {EXCEL_DIGITS} digits; none of them was used: {ROUNDED_FIX}")
    if not entries and not problems:
        raise TrayError(f"tray file {source} holds no identifiers")
    if not entries and _text_under_workbook_name(tables, source):
        raise _not_a_workbook(source)
    return TrayList(source, tuple(entries), tuple(problems), column, tuple(warnings), sheet, input_columns,
                    input_rows)


def _text_under_workbook_name(tables: list[Table], source: Path) -> bool:
    return source.suffix.lower() in (".xlsx", ".xlsm") and tables[0].sheet is None


def _not_a_workbook(source: Path) -> TrayError:
    """A text file named .xlsx that holds not one usable id: a wrong file, not a list to report line by line (a
    CSV saved under an .xlsx name that does hold ids is read as the text it is)."""
    return TrayError(f"{source.name} is not an Excel workbook (it looks like text); save it as .xlsx from Excel or "
                     "rename it .csv/.txt")


def shown(text: str) -> str:
    """A line's text as a report shows it: control characters made visible, cut to ``SHOWN_TEXT`` characters."""
    visible = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text[:SHOWN_TEXT])
    return visible[: SHOWN_TEXT - 1] + "…" if len(visible) > SHOWN_TEXT or len(text) > SHOWN_TEXT else visible


# --- which sheet and column hold the ids --------------------------------------------------------------------------


_Choice = tuple[str | None, str | None, list[tuple[int, str]], Table, list[str] | None]


def _choose(tables: list[Table], accept: frozenset[EntryKind], source: Path) -> _Choice | None:
    """The sheet, column name, (line, text) cells, table and header row (if any) of the table whose id column holds
    the most usable ids."""
    best: tuple[int, _Choice] | None = None
    unclear = False
    for table in tables:
        if not table.rows:
            continue
        found = _column_of(table, accept)
        if found is None:
            unclear = True
            continue
        name, cells, header = found
        score = sum(1 for _, text in cells[:1000] if _is_id(text, accept))
        if best is None or score > best[0]:
            best = (score, (table.sheet, name, cells, table, header))
    if best is None:
        if unclear:
            raise TrayError(f"tray file {source}: cannot tell which column holds the ids; name it 'device id', "
                            "'serial' or 'iccid'")
        return None
    return best[1]


def _is_id(text: str, accept: frozenset[EntryKind]) -> bool:
    result = classify(text)
    return not isinstance(result, str) and result.kind in accept


def _looks_like_id(text: str) -> bool:
    """A cell that is an identifier, or was meant as one (a typo must be reported, not taken for a title)."""
    value = text.strip().strip('"').strip()
    return not isinstance(classify(value), str) or bool(re.fullmatch(r"[0-9A-Za-z.,+\-]{6,40}", value))


def _column_of(
    table: Table, accept: frozenset[EntryKind]
) -> tuple[str | None, list[tuple[int, str]], list[str] | None] | None:
    """The id column's name, its non-empty cells under the header (or from the first id on, without one) and the
    header row (None without one)."""
    rows = table.rows
    if not table.tabular:
        # A plain list: every line counts (a stray line is reported, never skipped), but a header line is not an id.
        body = rows[1:] if _header(rows[0][1], accept) is not None else rows
        return None, [(n, r[0]) for n, r in body], None
    for position, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        index = _header(cells, accept)
        if index is not None:
            return cells[index].strip(), _cells(rows[position + 1 :], index), cells
    index = _guess_column(rows, accept)
    if index is None:
        return None
    return f"column {index + 1}", _cells(_from_first_id(rows, index), index), None


def _cells(rows: list[tuple[int, list[str]]], index: int) -> list[tuple[int, str]]:
    cells = [(n, r[index] if index < len(r) else "") for n, r in rows]
    return [(n, c) for n, c in cells if c.strip()]


def _from_first_id(rows: list[tuple[int, list[str]]], index: int) -> list[tuple[int, list[str]]]:
    """``rows`` without the title rows above the first cell that is (or was meant as) an id."""
    for position, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if index < len(cells) and _looks_like_id(cells[index]):
            return rows[position:]
    return rows


def _header(cells: list[str], accept: frozenset[EntryKind]) -> int | None:
    """The column of a header row to read: one named for an accepted kind, in the usual order, else any id header."""
    named: dict[EntryKind, int] = {}
    for index, cell in enumerate(cells):
        kind = _HEADER_KINDS.get(" ".join(cell.strip().strip('"').lower().replace("-", " ").split()))
        if kind is not None:
            named.setdefault(kind, index)
    for kind in _KIND_ORDER:
        if kind in named and kind in accept:
            return named[kind]
    for kind in _KIND_ORDER:
        if kind in named:
            return named[kind]
    return None


def _guess_column(rows: list[tuple[int, list[str]]], accept: frozenset[EntryKind]) -> int | None:
    width = max(len(r) for _, r in rows)
    scores = []
    for index in range(width):
        values = [r[index] for _, r in rows[:200] if index < len(r)]
        accepted = sum(1 for v in values if _is_id(v, accept))
        other = sum(1 for v in values if not isinstance(classify(v), str) or rounded_reason(v) is not None)
        scores.append((accepted, other))
    best = max(range(width), key=lambda i: scores[i])
    return best if scores[best] > (0, 0) else None
