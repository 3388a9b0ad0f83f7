"""Tray lists (.txt/.csv/.xlsx that come with a tray order) read into validated, de-duplicated identifiers.

Each entry keeps its line (row) number so every problem can be reported where the engineer will look for it.
"""

from __future__ import annotations

import csv
import enum
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from hardware.errors import IdentifierError
from hardware.identifiers import DeviceId, Iccid, Imei, SerialNumber
from hardware.platforms import McuFamily, Platform
from station.errors import StationError

MAX_TRAY_BYTES = 20 * 1024 * 1024
_HEADER_WORDS = {
    "device_id": ("device id", "deviceid", "device_id", "device", "id", "core id", "particle id"),
    "serial": ("serial", "serial number", "serial_number", "serialnumber", "sn"),
    "iccid": ("iccid", "sim", "sim iccid"),
    "imei": ("imei",),
}
# Device id prefixes by MCU family (Device OS hal/src/*/deviceid_hal.cpp).
_ID_PREFIX = {McuFamily.NRF52840: "e00fce68", McuFamily.RTL872X: "0a10aced2021"}


class TrayError(StationError):
    """A tray file cannot be read at all (missing, unreadable, not a tray list)."""


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

    def of_kind(self, kind: EntryKind) -> list[TrayEntry]:
        return [e for e in self.entries if e.kind is kind]


def classify(text: str) -> TrayEntry | str:
    """The identifier a tray cell holds (with line 0), or the reason it is not one."""
    value = text.strip().strip('"').strip()
    if re.fullmatch(r"[0-9a-fA-F]{24}", value):
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


def foreign_platform_reason(device_id: str, platform: Platform) -> str | None:
    """Why a device id cannot belong to ``platform``, judged from its MCU-specific prefix; None when it can."""
    expected = _ID_PREFIX.get(platform.mcu)
    if expected is not None and not device_id.startswith(expected):
        for mcu, prefix in _ID_PREFIX.items():
            if device_id.startswith(prefix):
                return f"is a {mcu.value} device id, not a {platform.display_name} ({platform.mcu.value}) one"
        return f"is not a {platform.display_name} device id ({platform.mcu.value} ids start with {expected})"
    if expected is None:
        for mcu, prefix in _ID_PREFIX.items():
            if device_id.startswith(prefix):
                return f"is a {mcu.value} device id, not a {platform.display_name} ({platform.mcu.value}) one"
    return None


def read_tray(
    path: str | Path,
    *,
    accept: frozenset[EntryKind] = frozenset({EntryKind.DEVICE_ID, EntryKind.SERIAL}),
    platform: Platform | None = None,
) -> TrayList:
    """Read a tray list; invalid, duplicate and foreign lines become problems, never exceptions."""
    source = Path(path)
    rows, column = _read_cells(source)
    entries: list[TrayEntry] = []
    problems: list[TrayProblem] = []
    first_line: dict[str, int] = {}
    for line, text in rows:
        result = classify(text)
        if isinstance(result, str):
            problems.append(TrayProblem(line, text, ProblemKind.INVALID, result))
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
    warnings = tuple(
        f"line {e.line}: ICCID {e.value} fails its Luhn check digit"
        for e in entries
        if e.kind is EntryKind.ICCID and not Iccid.parse(e.value).luhn_valid
    )
    if not entries and not problems:
        raise TrayError(f"tray file {source} holds no identifiers")
    return TrayList(source, tuple(entries), tuple(problems), column, warnings)


def _read_cells(source: Path) -> tuple[list[tuple[int, str]], str | None]:
    try:
        size = source.stat().st_size
    except FileNotFoundError:
        raise TrayError(f"tray file {source} does not exist") from None
    except OSError as exc:
        raise TrayError(f"cannot read tray file {source}: {exc.strerror or exc}") from None
    if source.is_dir():
        raise TrayError(f"{source} is a folder; choose the tray file inside it")
    if size > MAX_TRAY_BYTES:
        raise TrayError(f"tray file {source} is {size // 1024 // 1024} MB; a tray list is at most 20 MB")
    suffix = source.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _table_cells(_xlsx_rows(source), source)
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise TrayError(f"cannot read tray file {source}: {exc.strerror or exc}") from None
    if raw.startswith(b"PK\x03\x04"):
        return _table_cells(_xlsx_rows(source), source)
    text = _decode(raw, source)
    if suffix == ".csv" or _looks_tabular(text):
        return _table_cells(_csv_rows(text), source)
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        cell = line.split("#", 1)[0].strip()
        if cell:
            rows.append((number, cell))
    return rows, None


def _decode(raw: bytes, source: Path) -> str:
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TrayError(f"tray file {source} is binary, not a text, CSV or Excel tray list")
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _looks_tabular(text: str) -> bool:
    sample = [line for line in text.splitlines()[:20] if line.strip()]
    return bool(sample) and all(any(sep in line for sep in ",;\t") for line in sample[:5])


def _csv_rows(text: str) -> list[tuple[int, list[str]]]:
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = []
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        for row in reader:
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise TrayError(f"tray CSV is malformed near line {reader.line_num}: {exc}") from None
    return rows


def _xlsx_rows(source: Path) -> list[tuple[int, list[str]]]:
    import zipfile

    import openpyxl

    try:
        workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise TrayError(f"tray workbook {source} cannot be opened: {exc}") from None
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            rows.append((number, ["" if v is None else _cell_text(v) for v in row]))
        return rows
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _table_cells(rows: list[tuple[int, list[str]]], source: Path) -> tuple[list[tuple[int, str]], str | None]:
    rows = [(n, r) for n, r in rows if any(c.strip() for c in r)]
    if not rows:
        return [], None
    header = rows[0][1]
    column_index: int | None = None
    column_name: str | None = None
    normalised = [c.strip().strip('"').lower().replace("-", " ") for c in header]
    for words in _HEADER_WORDS.values():
        for index, cell in enumerate(normalised):
            if cell in words:
                column_index, column_name = index, header[index].strip()
                break
        if column_index is not None:
            break
    body = rows[1:] if column_index is not None else rows
    if column_index is None:
        column_index = _guess_column(rows)
        if column_index is None:
            raise TrayError(
                f"tray file {source}: cannot tell which column holds the ids; name it 'device id', 'serial' or 'iccid'"
            )
        column_name = f"column {column_index + 1}"
    cells = [(n, r[column_index] if column_index < len(r) else "") for n, r in body]
    return [(n, c) for n, c in cells if c.strip()], column_name


def _guess_column(rows: list[tuple[int, list[str]]]) -> int | None:
    width = max(len(r) for _, r in rows)
    scores = []
    for index in range(width):
        hits = sum(1 for _, r in rows[:200] if index < len(r) and not isinstance(classify(r[index]), str))
        scores.append(hits)
    best = max(range(width), key=lambda i: scores[i])
    return best if scores[best] > 0 else None
