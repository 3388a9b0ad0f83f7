"""Where the station's workbooks live: a file name every file system accepts for a lot or a day (no openpyxl here,
so the line can name its workbook without loading the workbook code)."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path

_UNSAFE_FILENAME = re.compile(r'[<>:"/\\|?*\x00-\x1f]+')


MAX_NAME_BYTES = 200
"""Longest workbook file name stem, in UTF-8 bytes: file systems allow 255 bytes per name, and a temporary name
during an atomic save adds a few."""


def workbook_name(text: str) -> str:
    """A file name (without folder) for a lot or day workbook that every file system accepts.

    A name too long for a file system is cut and ends in a hash of the whole name, so it stays the same on every
    write and differs from another long lot's."""
    safe = _UNSAFE_FILENAME.sub("_", text).strip(" .") or "lot"
    if len(safe.encode("utf-8")) > MAX_NAME_BYTES:
        suffix = "-" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        cut = safe.encode("utf-8")[:MAX_NAME_BYTES - len(suffix)].decode("utf-8", "ignore")
        safe = cut + suffix
    return f"{safe}.xlsx"


def lot_workbook_path(folder: str | Path, lot: str) -> Path:
    return Path(folder) / workbook_name(lot)


def day_workbook_path(folder: str | Path, day: date) -> Path:
    return Path(folder) / workbook_name(f"day-{day.isoformat()}")
