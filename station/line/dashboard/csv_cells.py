"""The cells of the dashboard's CSV exports, written as the screens and the station's workbooks show them, so a
production manager who opens one in Excel reads the same numbers as on the dashboard.

- Times (``*_at``, ``at``, ``last_seen``; epoch seconds in the database) are ISO 8601 in the dashboard server's local
  time with its UTC offset, to the second (``2026-12-07T08:50:49+01:00``): local like the workbooks'
  ``yyyy-mm-dd hh:mm:ss`` cells (station/records/cells.py), with the offset so the moment is never ambiguous.
- Slots are numbered from 1, as the dashboard, the GUI and the workbook's "Slot" column number them (the journal and
  the line database count from 0).
- Durations in seconds have one decimal (a test's duration three, as the workbook's Tests sheet); measured values
  and limits keep ten significant digits (no binary noise such as ``0.30000000000000004``); a yield is a percentage.
- A station's slots and API requests are a sentence, not JSON; a lot summary is one column per figure.
- A text cell that a spreadsheet would run as a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return) is written with a leading apostrophe (OWASP, "CSV Injection").
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Sequence
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ONE_DECIMAL = ("cycle_seconds", "lag_seconds")
_THREE_DECIMALS = ("duration_s",)
_MEASURED = ("value_num", "lower", "upper")
_YES_NO = ("marginal",)

SUMMARY_COLUMNS = (
    "station", "lot", "units", "passed", "failed", "waiting_on_cloud", "not_confirmed", "running", "interrupted",
    "tested", "yield", "first_pass_yield", "attempts", "reworked", "refused_scans", "median_cycle_seconds",
    "p90_cycle_seconds", "failures_by_code", "units_in_progress_at_close",
)
"""``lot_summaries`` as exported: the sealed summary's figures (station.records.lot_seal) one per column."""

Cell = Callable[[Any], str]


def is_time(column: str) -> bool:
    return column.endswith("_at") or column in ("at", "last_seen")


def local_time(value: Any, tz: datetime.tzinfo | None = None) -> str:
    """Epoch seconds as ISO 8601 local time with its offset (``tz``: None is this machine's zone)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    try:
        moment = datetime.datetime.fromtimestamp(float(value), datetime.UTC).astimezone(tz)
    except (OverflowError, OSError, ValueError):
        return ""
    return moment.isoformat(timespec="seconds")


def text(value: Any) -> str:
    """Any other value: a number plainly, JSON for a structure, text guarded against running as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return significant(value)
    if isinstance(value, dict | list):
        return guarded(json.dumps(value, separators=(",", ":"), sort_keys=True))
    return guarded(str(value))


def guarded(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def significant(value: Any) -> str:
    """A measured number to ten significant digits, without a float's binary noise."""
    return format(float(value), ".10g") if isinstance(value, int | float) else text(value)


def decimals(places: int) -> Cell:
    return lambda value: f"{float(value):.{places}f}" if isinstance(value, int | float) else text(value)


def slot_number(value: Any) -> str:
    """A 0-based slot of the line database as the screens number it."""
    return str(int(value) + 1) if isinstance(value, int) and not isinstance(value, bool) else text(value)


def percent(value: Any) -> str:
    """A fraction as the percentage Excel reads as a number (``97.5%``)."""
    return f"{100 * float(value):.1f}%" if isinstance(value, int | float) else ""


def yes_blank(value: Any) -> str:
    """A flag as the workbook writes it: "yes", or nothing."""
    return "yes" if value is True else ""


def slots_text(value: Any, tz: datetime.tzinfo | None) -> str:
    """``stations.slots`` (already numbered from 1 by station.line.slot_board) as one line a person reads."""
    if not isinstance(value, list):
        return text(value)
    parts = []
    for slot in value:
        if not isinstance(slot, dict):
            continue
        words = [f"Slot {slot.get('slot', '?')}", str(slot.get("state") or "idle")]
        if slot.get("unit_key"):
            words.append(str(slot["unit_key"]))
        if slot.get("step"):
            words.append(f"({slot['step']})")
        since = local_time(slot.get("since"), tz)
        parts.append(" ".join(words) + (f" since {since}" if since else ""))
    return guarded("; ".join(parts))


def api_requests_text(value: Any, tz: datetime.tzinfo | None) -> str:
    """``stations.api_requests`` (``{"<minute, epoch>": count}``, station.line.api_meter) as "time: count" pairs."""
    if not isinstance(value, dict):
        return text(value)
    pairs = []
    for minute, count in sorted(value.items(), key=lambda item: float(item[0]) if _number(item[0]) else 0.0):
        pairs.append(f"{local_time(float(minute), tz) if _number(minute) else minute}: {count}")
    return guarded("; ".join(pairs))


def _number(text_value: str) -> bool:
    try:
        float(text_value)
    except ValueError:
        return False
    return True


def column_cell(column: str, tz: datetime.tzinfo | None) -> Cell:
    """How one column of an exported table is written."""
    if is_time(column):
        return lambda value: local_time(value, tz)
    if column == "slot":
        return slot_number
    if column == "slots":
        return lambda value: slots_text(value, tz)
    if column == "api_requests":
        return lambda value: api_requests_text(value, tz)
    if column in _ONE_DECIMAL:
        return decimals(1)
    if column in _THREE_DECIMALS:
        return decimals(3)
    if column in _MEASURED:
        return significant
    if column in _YES_NO:
        return yes_blank
    return text


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def summary_row(row: dict[str, Any]) -> list[str]:
    """One ``lot_summaries`` row (station, lot, summary document) as SUMMARY_COLUMNS."""
    document = _mapping(row.get("summary"))
    figures = _mapping(document.get("summary"))
    codes = figures.get("failures_by_code") or []
    failures = "; ".join(f"{pair[0]}: {pair[1]}" for pair in codes if isinstance(pair, list | tuple) and len(pair) == 2)
    out: list[str] = []
    for column in SUMMARY_COLUMNS:
        if column in ("station", "lot"):
            out.append(text(row.get(column)))
        elif column in ("yield", "first_pass_yield"):
            out.append(percent(figures.get("yield_rate" if column == "yield" else column)))
        elif column.endswith("cycle_seconds"):
            out.append(decimals(1)(figures.get(column)))
        elif column == "failures_by_code":
            out.append(guarded(failures))
        elif column == "units_in_progress_at_close":
            out.append(text(document.get(column)))
        else:
            out.append(text(figures.get(column)))
    return out


def table_writer(table: str, columns: Sequence[str],
                 tz: datetime.tzinfo | None = None) -> tuple[list[str], Callable[[Sequence[Any]], list[str]]]:
    """The header of an export of ``table`` (whose SELECT returned ``columns``) and how each row is written."""
    if table == "lot_summaries":
        return list(SUMMARY_COLUMNS), lambda row: summary_row(dict(zip(columns, row, strict=True)))
    writers = [column_cell(column, tz) for column in columns]
    return list(columns), lambda row: [write(value) for write, value in zip(writers, row, strict=True)]
