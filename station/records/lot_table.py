"""The lots table: one row per lot (its station, product, profile and operator), created when a lot starts."""

from __future__ import annotations

from dataclasses import dataclass

from station.records.database import JournalDatabase


@dataclass(frozen=True)
class LotRecord:
    name: str
    station: str
    product_id: int
    profile: str
    operator: str
    created_at: float
    closed_at: float | None


class LotTable:
    def __init__(self, db: JournalDatabase) -> None:
        self.db = db

    def open(self, name: str, *, station: str, product_id: int, profile: str, operator: str) -> LotRecord:
        """The lot with this name, created if new (re-opening a lot after a restart continues it)."""
        with self.db.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO lots (name, station, product_id, profile, operator, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (name, station, product_id, profile, operator, self.db.now()),
            )
        lot = self.get(name)
        assert lot is not None
        return lot

    def get(self, name: str) -> LotRecord | None:
        rows = self.db.query("SELECT * FROM lots WHERE name = ?", (name,))
        return LotRecord(**dict(rows[0])) if rows else None

    def all(self) -> list[LotRecord]:
        return [LotRecord(**dict(r)) for r in self.db.query("SELECT * FROM lots ORDER BY created_at")]
