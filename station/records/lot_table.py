"""The lots table: one row per lot (its station, product, profile and operator), created when a lot starts."""

from __future__ import annotations

from dataclasses import dataclass

from station.records.database import JournalDatabase, JournalError


@dataclass(frozen=True)
class LotRecord:
    name: str
    station: str
    product_id: int
    profile: str
    operator: str
    created_at: float
    closed_at: float | None
    sealed_summary: str | None = None
    """The lot's summary as stored when it was closed (JSON), never recomputed; None while the lot is open."""

    @property
    def closed(self) -> bool:
        return self.closed_at is not None


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

    def name_operator(self, name: str, operator: str) -> bool:
        """Record ``operator`` as the lot's operator while the lot is open and has no unit yet (the name asked
        when the station starts replaces the login name); True when it did."""
        with self.db.transaction() as db:
            changed = db.execute(
                "UPDATE lots SET operator = ? WHERE name = ? AND closed_at IS NULL "
                "AND NOT EXISTS (SELECT 1 FROM units WHERE units.lot = lots.name)",
                (operator, name),
            ).rowcount
        return changed > 0

    def close(self, name: str, sealed_summary: str) -> LotRecord:
        """Close the lot and store its summary; a lot already closed keeps the summary it was closed with."""
        with self.db.transaction() as db:
            db.execute(
                "UPDATE lots SET closed_at = ?, sealed_summary = ? WHERE name = ? AND closed_at IS NULL",
                (self.db.now(), sealed_summary, name),
            )
        lot = self.get(name)
        if lot is None:
            raise JournalError(f"journal {self.db.path}: lot {name} does not exist")
        return lot

    def get(self, name: str) -> LotRecord | None:
        rows = self.db.query("SELECT * FROM lots WHERE name = ?", (name,))
        return LotRecord(**dict(rows[0])) if rows else None

    def all(self) -> list[LotRecord]:
        return [LotRecord(**dict(r)) for r in self.db.query("SELECT * FROM lots ORDER BY created_at")]
