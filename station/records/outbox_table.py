"""The outbox table: cloud work that must finish eventually, queued once per idempotency key and retried."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from station.records.database import JournalDatabase


@dataclass(frozen=True)
class OutboxItem:
    id: int
    unit_id: int | None
    operation: str
    payload: dict[str, Any]
    idem_key: str
    state: str
    attempts: int
    next_attempt_at: float
    last_error: str | None


class OutboxTable:
    def __init__(self, db: JournalDatabase) -> None:
        self.db = db

    def enqueue(self, idem_key: str, operation: str, payload: Mapping[str, Any], *, unit_id: int | None) -> int:
        """Add cloud work that must finish eventually; the same ``idem_key`` is only ever queued once."""
        now = self.db.now()
        with self.db.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO outbox (unit_id, operation, payload, idem_key, state, attempts, "
                "next_attempt_at, created_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)",
                (unit_id, operation, json.dumps(dict(payload)), idem_key, now, now),
            )
            row = db.execute("SELECT id FROM outbox WHERE idem_key = ?", (idem_key,)).fetchone()
        return int(row[0])

    def due(self, now: float | None = None) -> list[OutboxItem]:
        """Pending operations whose next attempt is due, oldest first."""
        at = self.db.now() if now is None else now
        rows = self.db.query(
            "SELECT * FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY id", (at,)
        )
        return [_item(r) for r in rows]

    def done(self, item_id: int) -> None:
        with self.db.transaction() as db:
            db.execute(
                "UPDATE outbox SET state = 'done', attempts = attempts + 1, done_at = ?, last_error = NULL "
                "WHERE id = ?",
                (self.db.now(), item_id),
            )

    def failed(self, item_id: int, error: str, *, retry_at: float | None) -> None:
        """Record a failed attempt; ``retry_at`` None means it can never succeed (given up, needs an engineer)."""
        with self.db.transaction() as db:
            db.execute(
                "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ? "
                "WHERE id = ?",
                ("pending" if retry_at is not None else "failed", error, retry_at or 0.0, item_id),
            )

    def retry_failed(self) -> int:
        """Put given-up operations back in the queue (an engineer's 'retry pending cloud work')."""
        with self.db.transaction() as db:
            cursor = db.execute(
                "UPDATE outbox SET state = 'pending', next_attempt_at = ? WHERE state = 'failed'", (self.db.now(),)
            )
            return cursor.rowcount

    def pending_for_unit(self, unit_id: int) -> list[OutboxItem]:
        rows = self.db.query("SELECT * FROM outbox WHERE unit_id = ? AND state != 'done' ORDER BY id", (unit_id,))
        return [_item(r) for r in rows]

    def open_items(self) -> list[OutboxItem]:
        """Every operation not done yet (pending or given up), over every lot, oldest first."""
        return [_item(r) for r in self.db.query("SELECT * FROM outbox WHERE state != 'done' ORDER BY id")]

    def make_due_now(self) -> int:
        """Put every operation not done yet (given-up ones too) in the queue, due now; returns how many."""
        with self.db.transaction() as db:
            cursor = db.execute(
                "UPDATE outbox SET state = 'pending', next_attempt_at = ? WHERE state != 'done'", (self.db.now(),)
            )
            return cursor.rowcount

    def count_pending(self) -> int:
        """Operations not done yet (pending or given up), over every lot."""
        return int(self.db.query("SELECT COUNT(*) AS n FROM outbox WHERE state != 'done'")[0]["n"])


def _item(row: sqlite3.Row) -> OutboxItem:
    data = dict(row)
    data["payload"] = json.loads(data["payload"])
    data.pop("created_at", None)
    data.pop("done_at", None)
    return OutboxItem(**data)
