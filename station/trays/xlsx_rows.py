"""The cell texts of every worksheet of an .xlsx, read straight from its XML (ECMA-376 Part 1, SpreadsheetML).

A tray workbook needs only its cells' values. openpyxl builds an object per cell and per string (about a second of
CPU for a 10,000-row tray without lxml); this reads the same values with the standard library's C XML parser in a
fraction of that. Anything it does not expect raises, and the caller reads the file with openpyxl instead, so an odd
workbook costs time, never a wrong value.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Callable
from xml.etree.ElementTree import Element, fromstring, iterparse

_WORKSHEET_TYPE = "/worksheet"
_SHARED_STRINGS = "xl/sharedStrings.xml"
_COLUMN = re.compile(r"([A-Z]+)(\d+)")

Rows = list[tuple[int, list[str]]]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(element: Element) -> str:
    """The text of a string item (``si`` or ``is``): its ``t`` and rich-text runs, phonetic hints left out."""
    parts = []
    for child in element:
        name = _local(child.tag)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return "".join(parts)


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    if _SHARED_STRINGS not in archive.namelist():
        return []
    strings = []
    with archive.open(_SHARED_STRINGS) as stream:
        for _, element in iterparse(stream):
            if _local(element.tag) == "si":
                strings.append(_text(element))
                element.clear()
    return strings


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def _value(cell: Element, shared: list[str], number_text: Callable[[object], str]) -> str:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        inline = next((c for c in cell if _local(c.tag) == "is"), None)
        return "" if inline is None else _text(inline)
    raw = next((c.text or "" for c in cell if _local(c.tag) == "v"), "")
    if raw == "":
        return ""
    if kind == "s":
        return shared[int(raw)]
    if kind == "b":
        return str(raw == "1")
    if kind == "n":
        number: object = float(raw) if any(c in raw for c in ".eE") else int(raw)
        return number_text(number)
    if kind in ("str", "e", "d"):
        return raw
    raise ValueError(f"unknown cell type {kind!r}")


def _rows(archive: zipfile.ZipFile, path: str, shared: list[str], number_text: Callable[[object], str],
          limit: int) -> Rows:
    rows: Rows = []
    row_number = 0
    with archive.open(path) as stream:
        for _, element in iterparse(stream):
            if _local(element.tag) != "row":
                continue
            row_number = int(element.get("r") or row_number + 1)
            cells: list[str] = []
            for cell in element:
                if _local(cell.tag) != "c":
                    continue
                ref = _COLUMN.fullmatch(cell.get("r") or "")
                column = _column_index(ref.group(1)) if ref else len(cells)
                cells.extend([""] * (column + 1 - len(cells)))
                cells[column] = _value(cell, shared, number_text)
            element.clear()
            if any(cells):
                rows.append((row_number, cells))
                if len(rows) > limit:
                    raise OverflowError(f"more than {limit} rows")
    return rows


def worksheet_rows(archive: zipfile.ZipFile, number_text: Callable[[object], str],
                   limit: int) -> list[tuple[str, Rows]]:
    """(title, non-empty rows) of each worksheet in the workbook's order; numbers shown by ``number_text``."""
    workbook = fromstring(archive.read("xl/workbook.xml"))
    links = fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {link.get("Id"): (link.get("Type") or "", link.get("Target") or "") for link in links}
    shared = _shared_strings(archive)
    sheets = []
    for sheet in workbook.iter():
        if _local(sheet.tag) != "sheet":
            continue
        link = next(value for key, value in sheet.attrib.items() if _local(key) == "id")
        kind, target = targets[link]
        if not kind.endswith(_WORKSHEET_TYPE):
            continue  # a chart sheet holds no cells
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        sheets.append((sheet.get("name") or "", _rows(archive, path, shared, number_text, limit)))
    return sheets
