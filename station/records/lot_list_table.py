"""The lot_lists table: tray lists (device ids, serials, ICCIDs) tied to a lot, for reconciliation."""

from __future__ import annotations

from station.records.database import JournalDatabase


class LotListTable:
    def __init__(self, db: JournalDatabase) -> None:
        self.db = db

    def attach(self, lot: str, source: str, entries: list[tuple[int, str, str]]) -> int:
        """Tie a tray list to a lot (replacing an earlier list from the same source): entries are (line, kind,
        value) with kind device_id / serial / iccid."""
        with self.db.transaction() as db:
            db.execute("DELETE FROM lot_lists WHERE lot = ? AND source = ?", (lot, source))
            db.executemany(
                "INSERT INTO lot_lists (lot, source, line, kind, value) VALUES (?, ?, ?, ?, ?)",
                [(lot, source, line, kind, value) for line, kind, value in entries],
            )
        return len(entries)

    def of_lot(self, lot: str) -> list[tuple[str, int, str, str]]:
        """(source, line, kind, value) of every entry tied to the lot, in the order they were added."""
        rows = self.db.query("SELECT source, line, kind, value FROM lot_lists WHERE lot = ? ORDER BY id", (lot,))
        return [(r["source"], r["line"], r["kind"], r["value"]) for r in rows]
