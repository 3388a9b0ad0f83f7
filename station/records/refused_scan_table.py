"""The refused_scans table: labels refused before a unit existed (device not found in time, another platform,
already PASS in this lot). A refused scan is not a unit: the lot counts them apart, outside yield."""

from __future__ import annotations

from dataclasses import dataclass

from station.records.database import JournalDatabase


@dataclass(frozen=True)
class RefusedScan:
    lot: str
    label: str
    reason_code: str
    reason: str
    at: float


class RefusedScanTable:
    def __init__(self, db: JournalDatabase) -> None:
        self.db = db

    def record(self, lot: str, label: str, reason_code: str, reason: str) -> None:
        with self.db.transaction() as db:
            db.execute("INSERT INTO refused_scans (lot, label, reason_code, reason, at) VALUES (?, ?, ?, ?, ?)",
                       (lot, label, reason_code, reason, self.db.now()))

    def count(self, lot: str | None = None) -> int:
        """Refused scans of a lot (of every lot when None)."""
        if lot is None:
            return int(self.db.query("SELECT COUNT(*) AS n FROM refused_scans")[0]["n"])
        return int(self.db.query("SELECT COUNT(*) AS n FROM refused_scans WHERE lot = ?", (lot,))[0]["n"])

    def of_lot(self, lot: str) -> list[RefusedScan]:
        rows = self.db.query("SELECT lot, label, reason_code, reason, at FROM refused_scans WHERE lot = ? "
                             "ORDER BY id", (lot,))
        return [RefusedScan(r["lot"], r["label"], r["reason_code"], r["reason"], r["at"]) for r in rows]
