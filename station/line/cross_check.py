"""The scan-time check across stations: a label or device id already PASS, or in progress, at another station.

Read through ``line.units_elsewhere`` (a SECURITY DEFINER function of the schema: a station's role reads only its
own rows otherwise). When the line database cannot be reached the check says so once and lets the scan go on with
the station's own journal: the line never stops because the network did.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from station.line.connection import describe
from station.line.schema import LineDatabaseError
from station.records.reason_code import ReasonCode

Connect = Callable[[], "psycopg.Connection[Any]"]

PASSED_STATES = ("PASS", "not confirmed")
IN_PROGRESS_STATES = ("in progress", "cloud pending")
"""Journal unit states (records/unit_table.UnitState values): a unit that passed, and one a station still works on
(its device steps running, or its cloud work waiting in that station's outbox)."""

QUERY_TIMEOUT_S = 1.5
"""The longest a scan waits on the server's answer (``statement_timeout``; libpq's tcp_user_timeout bounds a cut)."""

RETRY_AFTER_S = 30.0
"""After a failed check, scans go on without one for this long (a scan never waits on a dead server twice)."""


@dataclass(frozen=True)
class UnitElsewhere:
    station: str
    unit_key: str
    serial: str | None
    device_id: str | None
    state: str
    ended_at: float | None


@dataclass(frozen=True)
class Verdict:
    """Why a unit may not be provisioned here: the reason code, what the line knows, and what to do."""

    code: ReasonCode
    fact: str
    """E.g. "label X already passed at station a (unit X)"."""
    action: str

    @property
    def sentence(self) -> str:
        """The refusal of a scan, in one sentence."""
        return f"Scan refused: {self.fact}; {self.action}"


@dataclass(frozen=True)
class CheckSkipped:
    """The line database could not be asked; ``first`` is True for the first skip of an outage (say it once)."""

    reason: str
    first: bool


class CrossStationCheck:
    """Asks the line database about a label (and a device id once known), with its own short-lived connection."""

    def __init__(self, connect: Connect, station: Callable[[], str], *,
                 reachable: Callable[[], bool | None] = lambda: None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``reachable``: the replicator's latest word; while it says False a scan does not wait on the network."""
        self._connect = connect
        self._station = station
        self._reachable = reachable
        self._clock = clock
        self._conn: psycopg.Connection[Any] | None = None
        self._down_until = 0.0
        self._down_said = False
        self._lock = threading.Lock()

    def units_elsewhere(self, serial: str | None, device_id: str | None = None
                        ) -> list[UnitElsewhere] | CheckSkipped:
        with self._lock:
            if self._clock() < self._down_until or self._reachable() is False:
                first, self._down_said = not self._down_said, True
                return CheckSkipped("the line database was unreachable moments ago", first=first)
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = self._connect()
                    # a scan waits on this query (the GUI thread too): never long, even on a half-dead network
                    self._conn.execute(f"SET statement_timeout = {int(QUERY_TIMEOUT_S * 1000)}".encode())
                rows = self._conn.execute(
                    "SELECT station, unit_key, serial, device_id, state, ended_at "
                    "FROM line.units_elsewhere(%s, %s, %s)", (self._station(), serial, device_id)).fetchall()
            except (psycopg.Error, LineDatabaseError) as exc:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
                self._down_until = self._clock() + RETRY_AFTER_S
                first, self._down_said = not self._down_said, True
                reason = describe(exc) if isinstance(exc, psycopg.Error) else str(exc)
                return CheckSkipped(reason, first=first)
            self._down_said = False
            return [UnitElsewhere(*row) for row in rows]

    def verdict(self, serial: str | None, device_id: str | None = None) -> Verdict | CheckSkipped | None:
        """None when the scan may go on; a Verdict when another station has the unit; CheckSkipped when unknown."""
        found = self.units_elsewhere(serial, device_id)
        if isinstance(found, CheckSkipped):
            return found
        return judge(found, serial, device_id)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def judge(found: list[UnitElsewhere], serial: str | None, device_id: str | None) -> Verdict | None:
    """A passed unit elsewhere outranks one in progress elsewhere; anything else (FAIL, interrupted) is no bar."""
    what = f"label {serial}" if serial else f"device {device_id}"
    for unit in found:
        if unit.state in PASSED_STATES:
            return Verdict(ReasonCode.ELSEWHERE_PASS,
                           f"{what} already passed at station {unit.station} (unit {unit.unit_key})",
                           "put it in the PASS tray, or ask an engineer if it must be reworked.")
    for unit in found:
        if unit.state in IN_PROGRESS_STATES and (unit.ended_at is None or unit.state == "cloud pending"):
            return Verdict(ReasonCode.ELSEWHERE_IN_PROGRESS,
                           f"{what} is in progress at station {unit.station} (unit {unit.unit_key})",
                           "one unit is provisioned on one bench at a time: let that station finish it.")
    return None
