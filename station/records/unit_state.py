"""A unit's state, derived from the journal's facts and written in the same transaction as the fact that settles it.

Two sides finish a unit: the runner (its device steps, and any cloud step it ran inline) and the outbox worker
(cloud work queued for later). Whichever records its last fact last also writes the state, inside that one write
transaction, from everything recorded so far, so neither side can overwrite the other's outcome:

- device side still running (``device_result`` NULL): "in progress";
- the runner failed the attempt (``device_result`` 'failed'): FAIL, with the runner's reason;
- an outbox item of the attempt was given up ('failed'): FAIL, with the item's error;
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

from station.records.database import JournalDatabase
from station.records.unit_table import UnitState

DEVICE_DONE = "done"
DEVICE_FAILED = "failed"

_SET_ASIDE = "Take this unit out of the PASS tray and set it aside for engineering."


@dataclass(frozen=True)
class Settled:
    """What a settle wrote: the unit's state, sentence and next action, and whether the state changed."""

    unit_id: int
    unit_key: str
    state: UnitState
    reason: str
    action: str
    changed: bool


def derive(device_result: str | None, runner_reason: str | None, runner_action: str | None,
           items: list[tuple[str, str, str | None, dict[str, object]]]) -> tuple[UnitState, str, str] | None:
    """The state the facts give: ``items`` are the attempt's outbox items as (operation, state, error, payload).
    None while the device side is still running (nothing to settle yet)."""
    if device_result is None:
        return None
    if device_result == DEVICE_FAILED:
        return UnitState.FAIL, runner_reason or "The unit failed.", runner_action or _SET_ASIDE
    failed = [i for i in items if i[1] == "failed"]
    if failed:
        return UnitState.FAIL, failed[0][2] or f"Cloud work {failed[0][0]} was refused.", _SET_ASIDE
    pending = [i for i in items if i[1] == "pending"]
    if pending:
        names = [i[0] for i in pending]
        if names == ["confirm_online"]:
            timeout = float(str(pending[0][3].get("timeout_s", 0)))
            return (UnitState.CLOUD_PENDING,
                    f"Device done; waiting up to {timeout:.0f} s for it to come online in the product.",
                    "Keep the unit powered until it is confirmed online; you can scan the next unit.")
        return (UnitState.CLOUD_PENDING,
                f"Device done; cloud work waiting ({', '.join(names)}): it will finish by itself.",
                "Put the unit in the PASS tray; nothing more to do.")
    unconfirmed = [i for i in items if i[1] == "not_confirmed"]
    if unconfirmed:
        return (UnitState.NOT_CONFIRMED, unconfirmed[0][2] or "The cloud did not confirm the unit online.",
                "The unit is flashed and registered; check it comes online before shipping it.")
    if any(i[1] == "done" for i in items):
        return UnitState.PASS, "All steps passed (cloud work finished later).", "Put the unit in the PASS tray."
    return UnitState.PASS, "All steps passed.", "Put the unit in the PASS tray."


def settle_in(db: sqlite3.Connection, unit_id: int, now: float) -> Settled | None:
    """Derive and write a unit's state; call inside the write transaction that recorded the last fact."""
    row = db.execute("SELECT unit_key, state, device_result, reason, action, first_result FROM units WHERE id = ?",
                     (unit_id,)).fetchone()
    if row is None:
        return None
    unit_key, old_state, device_result, reason, action, first_result = row
    items = [(op, state, error, json.loads(payload)) for op, state, error, payload in db.execute(
        "SELECT operation, state, last_error, payload FROM outbox WHERE unit_id = ? AND state != 'superseded' "
        "ORDER BY id", (unit_id,))]
    derived = derive(device_result, reason, action, items)
    if derived is None:
        return None
    state, reason, action = derived
    if first_result is None and state is not UnitState.CLOUD_PENDING:
        first_result = state.value
    db.execute("UPDATE units SET state = ?, reason = ?, action = ?, first_result = ?, updated_at = ? WHERE id = ?",
               (state.value, reason, action, first_result, now, unit_id))
    return Settled(unit_id, unit_key, state, reason, action, changed=state.value != old_state)


class UnitSettlement:
    """The runner's side: records how the device side of an attempt ended and settles the unit in that write."""

    def __init__(self, db: JournalDatabase) -> None:
        self.db = db

    def device_finished(self, unit_id: int, *, failure: tuple[str, str] | None, ended_at: float,
                        cycle_seconds: float) -> Settled:
        """``failure`` is the runner's (reason, action) when the attempt failed, else None."""
        now = self.db.now()
        with self.db.transaction() as db:
            if failure is None:
                db.execute("UPDATE units SET device_result = ?, ended_at = ?, cycle_seconds = ? WHERE id = ?",
                           (DEVICE_DONE, ended_at, cycle_seconds, unit_id))
            else:
                db.execute("UPDATE units SET device_result = ?, reason = ?, action = ?, ended_at = ?, "
                           "cycle_seconds = ? WHERE id = ?",
                           (DEVICE_FAILED, failure[0], failure[1], ended_at, cycle_seconds, unit_id))
            settled = settle_in(db, unit_id, now)
        assert settled is not None
        return settled

    def settle(self, unit_id: int) -> Settled | None:
        """Derive and write a unit's state again from what the journal holds (e.g. after an engineer's retry)."""
        with self.db.transaction() as db:
            return settle_in(db, unit_id, self.db.now())
