"""The journal: one SQLite file recording every lot, unit, step and pending cloud operation; the system of record.

``Journal`` opens the file (``JournalDatabase``) and holds one part per table; a caller uses the part it needs:
``lot_table``, ``unit_table``, ``step_table``, ``outbox_table``, ``lot_list_table``, ``refused_scan_table`` and
``measurement_table``. The few reads the workbooks and tray reconciliation make directly on the journal are
forwarded to their part.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from station.records.database import JournalDatabase
from station.records.lot_list_table import LotListTable
from station.records.lot_table import LotRecord, LotTable
from station.records.measurement_table import MeasurementTable
from station.records.outbox_table import OutboxTable
from station.records.refused_scan_table import RefusedScanTable
from station.records.step_table import StepTable
from station.records.unit_table import UnitRecord, UnitTable

JOURNAL_NAME = "journal.sqlite3"
"""The journal's file name in a station's log folder."""


class Journal:
    """One journal file and its tables; safe to use from several threads (slots, the outbox worker, the workbook)."""

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time,
                 software_version: str | None = None) -> None:
        """``software_version``: recorded with every unit started through this journal (the line gives it)."""
        self.db = JournalDatabase(path, clock=clock)
        self.lot_table = LotTable(self.db)
        self.unit_table = UnitTable(self.db, software_version=software_version)
        self.step_table = StepTable(self.db)
        self.outbox_table = OutboxTable(self.db)
        self.lot_list_table = LotListTable(self.db)
        self.refused_scan_table = RefusedScanTable(self.db)
        self.measurement_table = MeasurementTable(self.db)

    @property
    def path(self) -> Path:
        return self.db.path

    @property
    def closed(self) -> bool:
        return self.db.closed

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- what workbooks, tray reconciliation and the commands read straight from the journal ------------------
    def open_lot(self, name: str, *, station: str, product_id: int, profile: str, operator: str) -> LotRecord:
        return self.lot_table.open(name, station=station, product_id=product_id, profile=profile, operator=operator)

    def lot(self, name: str) -> LotRecord | None:
        return self.lot_table.get(name)

    def lots(self) -> list[LotRecord]:
        return self.lot_table.all()

    def units(self, lot: str | None = None) -> list[UnitRecord]:
        return self.unit_table.all(lot)

    def add_lot_list(self, lot: str, source: str, entries: list[tuple[int, str, str]]) -> int:
        return self.lot_list_table.attach(lot, source, entries)

    def lot_lists(self, lot: str) -> list[tuple[str, int, str, str]]:
        return self.lot_list_table.of_lot(lot)

    def count_pending(self) -> int:
        return self.outbox_table.count_pending()
