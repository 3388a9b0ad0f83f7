"""Closing a lot: its summary is computed once, stored with the lot, and never recomputed.

After ``close_lot`` the journal refuses new units in the lot (``UnitTable.begin`` raises LotClosedError), and what
the lot's summary was at that moment stays readable as ``sealed_summary`` even if cloud work finishing later
changes a unit's state.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any

from station.records.database import JournalError
from station.records.journal import Journal
from station.records.lot_summary import lot_figures
from station.records.lot_table import LotRecord
from station.records.unit_table import UnitState


def close_lot(journal: Journal, lot: str) -> LotRecord:
    """Close ``lot`` and store its summary (JSON); a lot closed before keeps its first summary and close time."""
    record = journal.lot_table.get(lot)
    if record is None:
        raise JournalError(f"lot {lot!r} is not in the journal {journal.path}")
    if record.closed:
        return record
    units = journal.unit_table.all(lot)
    document = {
        "lot": lot,
        "units_in_progress_at_close": sum(1 for u in units if u.state is UnitState.IN_PROGRESS),
        "summary": _jsonable(lot_figures(units, refused_scans=journal.refused_scan_table.count(lot))),
    }
    return journal.lot_table.close(lot, json.dumps(document, sort_keys=True))


def sealed_summary(record: LotRecord) -> dict[str, Any] | None:
    """The summary stored when the lot was closed; None for an open lot."""
    if record.sealed_summary is None:
        return None
    document = json.loads(record.sealed_summary)
    return document if isinstance(document, dict) else None


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _jsonable(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(_jsonable(key)): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value
