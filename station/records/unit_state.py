"""A unit's state, derived from the journal's facts and written in the same transaction as the fact that settles it.

Two sides finish a unit: the runner (its device steps, and any cloud step it ran inline) and the outbox worker
(cloud work queued for later). Whichever records its last fact last also writes the state, inside that one write
transaction, from everything recorded so far, so neither side can overwrite the other's outcome:

- device side still running (``device_result`` NULL): "in progress";
- the station stopped while it ran (``device_result`` 'interrupted'): "interrupted", no outcome;
- the runner failed the attempt (``device_result`` 'failed'): FAIL, with the runner's reason and reason code;
- an outbox item of the attempt was given up ('failed'): FAIL, with the item's error and code;
- an outbox item still pending: "cloud pending";
- an online confirmation timed out ('not_confirmed'): "not confirmed";
- otherwise PASS.

Outbox items of an earlier attempt are 'superseded' when the unit is scanned again (the new attempt does its own cloud
work), so they never decide the new attempt's state.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import NamedTuple

from station.records.database import JournalDatabase
from station.records.reason_code import ReasonCode
from station.records.unit_table import UnitState

DEVICE_DONE = "done"
DEVICE_FAILED = "failed"
DEVICE_INTERRUPTED = "interrupted"

_SET_ASIDE = "Take this unit out of the PASS tray and set it aside for engineering."


@dataclass(frozen=True)
class Settled:
    """What a settle wrote: the unit's state, sentence and next action, and whether the state changed."""

    unit_id: int
    unit_key: str
    state: UnitState
    reason: str
    action: str
    reason_code: str | None
    changed: bool


class ItemFact(NamedTuple):
    """One outbox item of the attempt, as the journal holds it."""

    operation: str
    state: str
    error: str | None
    payload: dict[str, object]
    code: str | None


Derived = tuple[UnitState, str, str, str | None]
"""state, reason, action, reason code."""


def derive(device_result: str | None, runner: tuple[str | None, str | None, str | None],
           items: list[ItemFact]) -> Derived | None:
    """The state the facts give: ``runner`` is the unit's (reason, action, code) as the runner left them, ``items``
    the attempt's outbox items. None while the device side is still running (nothing to settle yet)."""
    if device_result is None:
        return None
    if device_result == DEVICE_INTERRUPTED:
        return (UnitState.INTERRUPTED, runner[0] or "The station stopped while this unit ran.",
                runner[1] or "Scan the label again to resume this unit.", ReasonCode.INTERRUPTED.value)
    if device_result == DEVICE_FAILED:
        return (UnitState.FAIL, runner[0] or "The unit failed.", runner[1] or _SET_ASIDE,
                runner[2] or ReasonCode.INTERNAL.value)
    failed = [i for i in items if i.state == "failed"]
    if failed:
        return (UnitState.FAIL, failed[0].error or f"Cloud work {failed[0].operation} was refused.", _SET_ASIDE,
                failed[0].code or ReasonCode.CLOUD_REFUSED.value)
    pending = [i for i in items if i.state == "pending"]
    if pending:
        names = [i.operation for i in pending]
        if names == ["confirm_online"]:
            timeout = float(str(pending[0].payload.get("timeout_s", 0)))
            return (UnitState.CLOUD_PENDING,
                    f"Device done; waiting up to {timeout:.0f} s for it to come online in the product.",
                    "Keep the unit powered until it is confirmed online; you can scan the next unit.", None)
        return (UnitState.CLOUD_PENDING,
                f"Device done; cloud work waiting ({', '.join(names)}): it will finish by itself.",
                "Put the unit in the PASS tray; nothing more to do.", None)
    unconfirmed = [i for i in items if i.state == "not_confirmed"]
    if unconfirmed:
        return (UnitState.NOT_CONFIRMED, unconfirmed[0].error or "The cloud did not confirm the unit online.",
                "The unit is flashed and registered; check it comes online before shipping it.",
                unconfirmed[0].code or ReasonCode.NOT_ONLINE_IN_TIME.value)
    if any(i.state == "done" for i in items):
        return (UnitState.PASS, "All steps passed (cloud work finished later).", "Put the unit in the PASS tray.",
                None)
    return UnitState.PASS, "All steps passed.", "Put the unit in the PASS tray.", None


def settle_in(db: sqlite3.Connection, unit_id: int, now: float) -> Settled | None:
    """Derive and write a unit's state; call inside the write transaction that recorded the last fact."""
    row = db.execute("SELECT unit_key, state, device_result, reason, action, reason_code, first_result FROM units "
                     "WHERE id = ?", (unit_id,)).fetchone()
    if row is None:
        return None
    unit_key, old_state, device_result, reason, action, code, first_result = row
    items = [ItemFact(op, state, error, json.loads(payload), item_code) for op, state, error, payload, item_code
             in db.execute("SELECT operation, state, last_error, payload, error_code FROM outbox WHERE unit_id = ? "
                           "AND state != 'superseded' ORDER BY id", (unit_id,))]
    derived = derive(device_result, (reason, action, code), items)
    if derived is None:
        return None
    state, reason, action, code = derived
    if first_result is None and state not in (UnitState.CLOUD_PENDING, UnitState.INTERRUPTED):
        first_result = state.value
    db.execute("UPDATE units SET state = ?, reason = ?, action = ?, reason_code = ?, first_result = ?, "
               "updated_at = ? WHERE id = ?", (state.value, reason, action, code, first_result, now, unit_id))
    return Settled(unit_id, unit_key, state, reason, action, code, changed=state.value != old_state)


class UnitSettlement:
    """The runner's side: records how the device side of an attempt ended and settles the unit in that write."""

    def __init__(self, db: JournalDatabase) -> None:
        self.db = db

    def device_finished(self, unit_id: int, *, failure: tuple[str, str, str] | None, ended_at: float,
                        cycle_seconds: float) -> Settled:
        """``failure`` is the runner's (reason, action, reason code) when the attempt failed, else None."""
        now = self.db.now()
        with self.db.transaction() as db:
            if failure is None:
                db.execute("UPDATE units SET device_result = ?, ended_at = ?, cycle_seconds = ? WHERE id = ?",
                           (DEVICE_DONE, ended_at, cycle_seconds, unit_id))
            else:
                db.execute("UPDATE units SET device_result = ?, reason = ?, action = ?, reason_code = ?, "
                           "ended_at = ?, cycle_seconds = ? WHERE id = ?",
                           (DEVICE_INTERRUPTED if failure[2] == ReasonCode.INTERRUPTED.value else DEVICE_FAILED,
                            *failure, ended_at, cycle_seconds, unit_id))
            settled = settle_in(db, unit_id, now)
        assert settled is not None
        return settled

    def settle(self, unit_id: int) -> Settled | None:
        """Derive and write a unit's state again from what the journal holds (e.g. after an engineer's retry)."""
        with self.db.transaction() as db:
            return settle_in(db, unit_id, self.db.now())
