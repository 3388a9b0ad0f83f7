"""The steps table: each step of each attempt at a unit (started, then passed, failed, skipped or pending)."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from station.records.database import JournalDatabase


class StepStatus(enum.Enum):
    STARTED = "started"
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    PENDING = "pending"
    """Handed to the outbox: will finish in the background."""


@dataclass(frozen=True)
class StepRecord:
    id: int
    unit_id: int
    step: str
    status: StepStatus
    started_at: float
    ended_at: float | None
    detail: dict[str, Any]
    error: str | None


class StepTable:
    def __init__(self, db: JournalDatabase) -> None:
        self.db = db

    def started(self, unit_id: int, step: str, detail: Mapping[str, Any] | None = None) -> int:
        """Record that a step began; returns the id ``ended`` (or ``discard``) takes."""
        with self.db.transaction() as db:
            cursor = db.execute(
                "INSERT INTO steps (unit_id, step, status, started_at, detail) VALUES (?, ?, ?, ?, ?)",
                (unit_id, step, StepStatus.STARTED.value, self.db.now(), json.dumps(dict(detail or {}))),
            )
            step_id = cursor.lastrowid
        assert step_id is not None
        return step_id

    def ended(
        self,
        step_id: int,
        status: StepStatus,
        *,
        detail: Mapping[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        with self.db.transaction() as db:
            db.execute(
                "UPDATE steps SET status = ?, ended_at = ?, detail = ?, error = ? WHERE id = ?",
                (status.value, self.db.now(), json.dumps(dict(detail or {}), default=str), error, step_id),
            )

    def discard(self, step_id: int) -> None:
        """Forget a step record that turned out to be only a poll (e.g. 'not online yet')."""
        with self.db.transaction() as db:
            db.execute("DELETE FROM steps WHERE id = ?", (step_id,))

    def of_unit(self, unit_id: int) -> list[StepRecord]:
        """Every step record of a unit, every attempt, in order."""
        rows = self.db.query("SELECT * FROM steps WHERE unit_id = ? ORDER BY id", (unit_id,))
        return [
            StepRecord(
                id=r["id"],
                unit_id=r["unit_id"],
                step=r["step"],
                status=StepStatus(r["status"]),
                started_at=r["started_at"],
                ended_at=r["ended_at"],
                detail=json.loads(r["detail"] or "{}"),
                error=r["error"],
            )
            for r in rows
        ]

    def passed(self, unit_id: int) -> dict[str, StepRecord]:
        """The latest passed (or skipped) record of each step of a unit: what a resumed unit can check. A step
        handed to the outbox (pending) is not done: a resumed unit does it again (idempotent), never trusts it."""
        done: dict[str, StepRecord] = {}
        for record in self.of_unit(unit_id):
            if record.status in (StepStatus.PASSED, StepStatus.SKIPPED):
                done[record.step] = record
            elif record.status in (StepStatus.FAILED, StepStatus.PENDING):
                done.pop(record.step, None)
        return done
