"""Where the station's workbooks live: a file name every file system accepts for a lot or a day (no openpyxl here,
so the line can name its workbook without loading the workbook code)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

_UNSAFE_FILENAME = re.compile(r'[<>:"/\\|?*\x00-\x1f]+')


def workbook_name(text: str) -> str:
    """A file name (without folder) for a lot or day workbook that every file system accepts."""
    safe = _UNSAFE_FILENAME.sub("_", text).strip(" .")
    return f"{safe or 'lot'}.xlsx"


def lot_workbook_path(folder: str | Path, lot: str) -> Path:
    return Path(folder) / workbook_name(lot)


def day_workbook_path(folder: str | Path, day: date) -> Path:
    return Path(folder) / workbook_name(f"day-{day.isoformat()}")
