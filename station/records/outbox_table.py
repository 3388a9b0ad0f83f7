"""The outbox table: cloud work that must finish eventually, queued once per idempotency key and retried."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from station.records.database import JournalDatabase
from station.records.reason_code import ReasonCode
from station.records.unit_state import Settled, settle_in

_OPEN = "('pending', 'failed')"
"""Item states that still need work: waiting for a try, or given up until an engineer retries them. The others are
'done', 'not_confirmed' (the online time box ran out; finished) and 'superseded' (the unit was scanned again)."""


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
    error_code: str | None = None
    """The reason code of the last error that gave the item up (records/reason_code.py)."""


class OutboxTable:
    def __init__(self, db: JournalDatabase) -> None:
        self.db = db

    def enqueue(self, idem_key: str, operation: str, payload: Mapping[str, Any], *, unit_id: int | None) -> int:
        """Add cloud work that must finish eventually; the same ``idem_key`` is only ever queued once."""
        now = self.db.now()
        with self.db.transaction() as db:
            db.execute(
                "INSERT INTO outbox (unit_id, operation, payload, idem_key, state, attempts, "
                "next_attempt_at, created_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?) "
                "ON CONFLICT(idem_key) DO UPDATE SET state = 'pending', next_attempt_at = excluded.next_attempt_at, "
                "last_error = NULL WHERE state = 'superseded'",
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

    def done(self, item_id: int) -> Settled | None:
        """The work is done; the unit's state is settled in the same write. Only a pending item changes (one
        superseded by a new attempt of its unit meanwhile stays so)."""
        return self._finish(item_id, "done", None, "done_at = ?, ", (self.db.now(),))

    def not_confirmed(self, item_id: int, reason: str) -> Settled | None:
        """An online confirmation whose time box ran out: finished, the unit ends 'not confirmed'."""
        return self._finish(item_id, "not_confirmed", reason, "done_at = ?, error_code = ?, ",
                            (self.db.now(), ReasonCode.NOT_ONLINE_IN_TIME.value))

    def failed(self, item_id: int, error: str, *, retry_at: float | None,
               code: str = ReasonCode.CLOUD_REFUSED.value) -> Settled | None:
        """Record a failed attempt; ``retry_at`` None means it can never succeed (given up, needs an engineer;
        ``code`` is then the reason code its unit fails with)."""
        if retry_at is not None:
            return self._finish(item_id, "pending", error, "next_attempt_at = ?, ", (retry_at,))
        return self._finish(item_id, "failed", error, "error_code = ?, ", (str(code),))

    def given_up(self, idem_key: str, operation: str, payload: Mapping[str, Any], error: str, *, code: str,
                 unit_id: int) -> Settled | None:
        """Record cloud work found impossible after its unit finished (e.g. its SIM is not in the product): a given-up
        item, and its unit settled (FAIL with ``code``) in the same write. An engineer's retry runs it again."""
        now = self.db.now()
        with self.db.transaction() as db:
            db.execute(
                "INSERT INTO outbox (unit_id, operation, payload, idem_key, state, attempts, next_attempt_at, "
                "created_at, last_error, error_code) VALUES (?, ?, ?, ?, 'failed', 1, ?, ?, ?, ?) "
                "ON CONFLICT(idem_key) DO UPDATE SET state = 'failed', last_error = excluded.last_error, "
                "error_code = excluded.error_code",
                (unit_id, operation, json.dumps(dict(payload)), idem_key, now, now, error, code),
            )
            return settle_in(db, unit_id, now)

    def _finish(self, item_id: int, state: str, error: str | None, extra: str,
                params: tuple[object, ...]) -> Settled | None:
        with self.db.transaction() as db:
            cursor = db.execute(
                f"UPDATE outbox SET state = ?, attempts = attempts + 1, {extra}last_error = ? "
                "WHERE id = ? AND state = 'pending'",
                (state, *params, error, item_id),
            )
            row = db.execute("SELECT unit_id FROM outbox WHERE id = ?", (item_id,)).fetchone()
            if cursor.rowcount == 0 or row is None or row[0] is None:
                return None
            return settle_in(db, int(row[0]), self.db.now())

    def retry_failed(self) -> int:
        """Put given-up operations back in the queue (an engineer's 'retry pending cloud work'); their units are
        "cloud pending" again."""
        with self.db.transaction() as db:
            units = [r[0] for r in db.execute(
                "SELECT DISTINCT unit_id FROM outbox WHERE state = 'failed' AND unit_id IS NOT NULL")]
            cursor = db.execute(
                "UPDATE outbox SET state = 'pending', next_attempt_at = ? WHERE state = 'failed'", (self.db.now(),)
            )
            for unit_id in units:
                settle_in(db, unit_id, self.db.now())
            return cursor.rowcount

    def pending_for_unit(self, unit_id: int) -> list[OutboxItem]:
        """The unit's cloud work not finished yet (pending or given up)."""
        rows = self.db.query(f"SELECT * FROM outbox WHERE unit_id = ? AND state IN {_OPEN} ORDER BY id", (unit_id,))
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
        return int(self.db.query(f"SELECT COUNT(*) AS n FROM outbox WHERE state IN {_OPEN}")[0]["n"])


def _item(row: sqlite3.Row) -> OutboxItem:
    data = dict(row)
    data["payload"] = json.loads(data["payload"])
    data.pop("created_at", None)
    data.pop("done_at", None)
    return OutboxItem(**data)
