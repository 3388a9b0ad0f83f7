"""Where import reports and their progress files go, and writing a report without ever losing the import's result.

Reports go to the profile's log folder (``<log folder>/tray-reports``), beside the station's other records, never
beside the input: a tray file comes from a share, a USB stick or a mail attachment, and its folder may be read-only or
someone else's. ``--report`` names another place; its extension says what to write (``.xlsx`` or ``.json``).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from station.errors import StationError
from station.trays.report import TabularReport, write_report

REPORTS_FOLDER = "tray-reports"


def reports_folder(log_folder: Path, profile_path: Path) -> Path:
    """``<log folder>/tray-reports``, created if missing; a StationError when it cannot be used."""
    folder = log_folder / REPORTS_FOLDER
    hint = f"check station.log_folder in {profile_path}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StationError(f"cannot keep import reports in {folder}: {exc.strerror or exc}; {hint}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StationError(f"cannot keep import reports in {folder}: it is not writable; {hint}")
    return folder


def _stem(source: Path) -> str:
    """The input's name as a safe file-name part (a tray file may be called anything, "=1+1" included)."""
    return re.sub(r"[^A-Za-z0-9._=+-]", "_", source.stem).lstrip(".")[:80] or "tray"


def default_report_path(folder: Path, source: Path, what: str, *, now: datetime | None = None) -> Path:
    """A new report's name: the input's name, what was done and when (an earlier report is never overwritten)."""
    moment = now or datetime.now()
    return folder / f"{_stem(source)}-{what}-{moment:%Y%m%d-%H%M%S}.xlsx"


def progress_path(folder: Path, source: Path, product_id: int) -> Path:
    """The progress file of importing ``source`` into ``product_id``: the same file and product resume it."""
    digest = hashlib.sha256(f"{source.resolve()}\0{product_id}".encode()).hexdigest()[:12]
    return folder / f"{_stem(source)}-{digest}.progress.json"


@dataclass(frozen=True)
class Written:
    """Where a report went: ``path`` (None when nowhere), and the sentence saying what went wrong, if anything."""

    path: Path | None
    problem: str | None = None


def write_report_safely(report: TabularReport, wanted: Path, fallback: Path | None) -> Written:
    """Write the report to ``wanted``; if that fails, to ``fallback`` (in the log folder). Never raises OSError:
    the import already ran, and its result must reach the engineer whatever the disk says."""
    try:
        return Written(write_report(report, wanted))
    except OSError as exc:
        reason = f"the report could not be written to {wanted} ({exc.strerror or exc})"
    if fallback is not None and fallback != wanted:
        try:
            written = write_report(report, fallback)
        except OSError as exc:
            reason += f", nor to {fallback} ({exc.strerror or exc})"
        else:
            return Written(written, f"{reason}; it was written to {written} instead")
    return Written(None, f"{reason}; the result printed above is the only copy: keep it")
