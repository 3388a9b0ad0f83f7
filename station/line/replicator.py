"""Store and forward: the journal's change log sent to the line database, in order, in batches, from a cursor.

The station never waits on the network: its journal is written first (a trigger logs each change in the same
transaction) and this thread forwards the log. One PostgreSQL transaction per batch upserts the rows' *current*
values keyed by (station, local_id) and updates the station's row; only after that commit does the journal's
cursor move. A crash between the two resends the batch, which the upserts absorb: nothing lost, nothing doubled.
While the line database is down the thread backs off exponentially and says so once per outage, not per try;
the backlog drains by itself when it returns.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from station.line import change_log
from station.line.connection import LineUnreachable, describe
from station.line.schema import LineDatabaseError, ensure_schema
from station.records.change_table import Change, ChangeTable
from station.records.database import JournalDatabase

log = logging.getLogger(__name__)

KILL_AFTER_COMMIT_ENV = "PARTICLE_STATION_TEST_KILL_AFTER_LINE_COMMIT"
"""Test hook: when set, the process SIGKILLs itself after the line database committed a batch and before the
journal's cursor moves (the worst moment to die); the crash test sets it in a subprocess only."""

HEARTBEAT_S = 2.0
"""With nothing to send, the station's row (last seen, slots) is refreshed this often."""

MAX_RETRY_S = 4.0
"""The longest wait between two tries while the line database is down (each try is one connection attempt)."""

PROBE_EVERY_S = 0.25
"""While waiting to retry, the server's port is probed this often (station.line.connection.port_open)."""

FAST_RETRY_S = 0.1
"""The first retries once the probe sees the port open again (the server may still be starting up)."""

SAME_CHANGE_S = 0.001
"""Two records of one change's time agree within this (PostgreSQL may send a double with 15 digits only)."""

Connect = Callable[[], "psycopg.Connection[Any]"]


class JournalRefused(LineDatabaseError):
    """This journal may not feed the station's rows (another journal feeds them, or this one is an older copy of
    it): the line database answers, nothing is sent until an engineer acts. Not an outage."""


@dataclass(frozen=True)
class ReplicationStatus:
    """What the CLI and the GUI show: how much waits, how old the oldest waiting change is, the line's state."""

    backlog: int
    lag_seconds: float
    reachable: bool | None
    """True after the last batch went through, False during an outage, None before the first try."""
    problem: str | None = None

    def sentence(self) -> str:
        state = {True: "line database reachable", False: "line database unreachable",
                 None: "line database not contacted yet"}[self.reachable]
        waiting = f"{self.backlog} change{'' if self.backlog == 1 else 's'} waiting"
        return f"{state}; {waiting}; lag {self.lag_seconds:.1f} s" + (f" ({self.problem})" if self.problem else "")


class Replicator:
    """Forwards one journal's change log to the line database as ``station``; a thread owned by the line."""

    def __init__(
        self,
        journal: JournalDatabase,
        station: str,
        connect: Connect,
        *,
        software_version: str = "",
        batch_size: int = 2000,
        poll_interval: float = 0.2,
        first_retry: float = 0.5,
        max_retry: float = MAX_RETRY_S,
        slots: Callable[[], list[dict[str, Any]]] | None = None,
        api_requests: Callable[[], dict[str, int]] | None = None,
        probe: Callable[[], bool] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``slots``: what each slot does; ``api_requests``: Particle API requests per minute (station.line.api_meter);
        both go into the station's row with every batch and heartbeat. ``probe``: whether the server's port is open
        (during an outage a closed port opening again ends the back-off at once)."""
        self.changes = ChangeTable(journal)
        self.changes.refill_if_trimmed()  # a station that ran alone before: its whole journal goes to the line
        self.journal_id = self.changes.journal_id()
        self.station = station
        self._connect = connect
        self._software_version = software_version
        self._batch_size = batch_size
        self._poll = poll_interval
        self._first_retry = first_retry
        self._max_retry = max_retry
        self._slots = slots
        self._api_requests = api_requests
        self._probe = probe
        self._clock = clock
        self._conn: psycopg.Connection[Any] | None = None
        self._reachable: bool | None = None
        self._heartbeat_at = float("-inf")
        self._problem: str | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # --- one pass ------------------------------------------------------------------------------------------------
    def sync(self) -> int:
        """Send every waiting change (batch after batch) and the station's row; returns how many changes went.

        Raises LineDatabaseError (LineUnreachable for a connection problem) and leaves the cursor where the last
        committed batch put it.
        """
        with self._lock:
            try:
                conn = self._connection()
                self._mark_reachable()  # the GUI and the CLI say so while a backlog drains, not after
                sent = 0
                while not self._stop.is_set():
                    batch = self.changes.pending(self._batch_size)
                    if not batch:
                        break
                    self._send(conn, batch)
                    if os.environ.get(KILL_AFTER_COMMIT_ENV):
                        os.kill(os.getpid(), signal.SIGKILL)
                    self.changes.acknowledge(batch[-1].id)
                    sent += len(batch)
                if sent == 0 and self._clock() - self._heartbeat_at >= HEARTBEAT_S:
                    with conn.transaction():
                        self._station_row(conn, self.changes.cursor())
                return sent
            except psycopg.Error as exc:
                self._drop_connection()
                if isinstance(exc, psycopg.OperationalError):
                    raise LineUnreachable(f"the line database stopped answering: {describe(exc)}") from None
                raise LineDatabaseError(f"the line database refused a batch: {describe(exc)}") from None

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            conn = self._connect()
            try:
                ensure_schema(conn)
                self._adopt_role_station(conn)
                self._skip_acknowledged(conn)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _adopt_role_station(self, conn: psycopg.Connection[Any]) -> None:
        """A station's role writes under the station name its admin mapped it to (``line init --station``)."""
        row = conn.execute("SELECT line.role_station()").fetchone()
        if row is not None and row[0]:
            self.station = str(row[0])

    def _skip_acknowledged(self, conn: psycopg.Connection[Any]) -> None:
        """The line database already holds changes up to its ``replicated_change`` (a crash came between its
        commit and the journal's cursor): move the cursor there instead of sending them again.

        Refuses (LineDatabaseError) when another journal feeds this station's rows, or an older copy of its own
        (restored from a backup): either one's local ids would overwrite them.
        """
        row = conn.execute("SELECT replicated_change, journal_id, replicated_at FROM line.stations WHERE station = %s",
                           (self.station,)).fetchone()
        if row is None:
            return
        if row[1] is not None and row[1] != self.journal_id:
            raise JournalRefused(
                f"station {self.station!r} in the line database is fed by another journal (a new or replaced log "
                "folder?); sending this one would overwrite its rows: give this station its own name and role "
                "(particle-station line init --station NAME), or put the original journal back")
        replicated, made_at = int(row[0]), row[2]
        if replicated <= self.changes.cursor():
            return
        # The line is ahead of the cursor. Healthy: a crash came between the line's commit and the cursor's write
        # (this journal still holds those changes, made when the line says), or the log was emptied while the
        # station ran without [line] and filled again under new, higher ids. Restored from a backup: the line holds
        # a change id this journal never issued, or one it issued again for another write since the restore.
        # Known gap: a line database upgraded from schema step 4 has no replicated_at until the station's next
        # batch; until then a restored journal that has already issued ``replicated`` again is not caught.
        mine = self.changes.made_at(replicated)
        never_issued = replicated > self.changes.last_issued()
        issued_again = mine is not None and made_at is not None and abs(mine - made_at) > SAME_CHANGE_S
        if never_issued or issued_again:
            raise JournalRefused(
                f"station {self.station!r}'s journal is older than what the line database already holds from it "
                "(restored from a backup?), and sending it would overwrite units recorded since: give this station "
                "a new name and role (particle-station line init --station NAME); the line database keeps the old "
                "name's units")
        self.changes.acknowledge(replicated)  # the crash came between the line's commit and the cursor's write

    def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None

    def _send(self, conn: psycopg.Connection[Any], batch: list[Change]) -> None:
        """One transaction: the batch's rows as they are now (each once), table by table, and the station row.

        The line database has no foreign keys between the tables, so the order within one committed batch does not
        matter; batches themselves go in the journal's order.
        """
        wanted: dict[str, dict[int, None]] = {}
        for change in batch:
            if change.table in change_log.COLUMNS:
                wanted.setdefault(change.table, {})[change.row_id] = None
        with conn.transaction():
            for table, ids in wanted.items():
                current = self.changes.rows(table, list(ids))
                change_log.upsert_many(conn, table, self.station, [(i, current[i]) for i in ids if i in current])
                change_log.delete_many(conn, table, self.station, [i for i in ids if i not in current])
            self._station_row(conn, batch[-1].id, batch[-1].at)

    def _station_row(self, conn: psycopg.Connection[Any], replicated: int, made_at: float | None = None) -> None:
        """Upsert the station's row; ``made_at``: when change ``replicated`` was made (None: no new change)."""
        backlog, oldest = self.changes.backlog_after(replicated)
        now = self._clock()
        lag = max(0.0, now - oldest) if oldest is not None else 0.0
        slots = self._slots() if self._slots is not None else []
        api = self._api_requests() if self._api_requests is not None else {}
        self._heartbeat_at = now
        conn.execute(
            "INSERT INTO line.stations (station, software_version, last_seen, slots, backlog, lag_seconds, "
            "replicated_change, api_requests, journal_id, replicated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (station) DO UPDATE SET software_version = excluded.software_version, "
            "last_seen = excluded.last_seen, slots = excluded.slots, backlog = excluded.backlog, "
            "lag_seconds = excluded.lag_seconds, "
            "replicated_change = GREATEST(line.stations.replicated_change, excluded.replicated_change), "
            "replicated_at = CASE WHEN excluded.replicated_change > line.stations.replicated_change "
            "THEN excluded.replicated_at ELSE line.stations.replicated_at END, "
            "api_requests = excluded.api_requests, "
            "journal_id = COALESCE(line.stations.journal_id, excluded.journal_id)",
            (self.station, self._software_version, now, Jsonb(slots), backlog, lag, replicated, Jsonb(api),
             self.journal_id, made_at))

    def _mark_reachable(self) -> None:
        if self._reachable is False:
            log.warning("line database reachable again; the waiting changes are sent")
        self._reachable = True

    @property
    def reachable(self) -> bool | None:
        """True after the last pass went through, False during an outage, None before the first try."""
        return self._reachable

    # --- status ----------------------------------------------------------------------------------------------------
    def status(self) -> ReplicationStatus:
        backlog, oldest = self.changes.backlog()
        lag = max(0.0, self._clock() - oldest) if oldest is not None else 0.0
        return ReplicationStatus(backlog, lag, self._reachable, self._problem)

    # --- the thread ----------------------------------------------------------------------------------------------
    def start(self) -> Replicator:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="line-replicator", daemon=True)
            self._thread.start()
        return self

    def wake(self) -> None:
        """Something was written: send it now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread (a batch in flight finishes or rolls back), send what waits once more if the line
        database answered last time (what cannot be sent stays in the journal), and close the connection."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                # Stuck in a call to the server: leave it be (a daemon thread; its batch commits or rolls back on
                # its own). No last pass: clearing the stop flag for one would let that thread loop on.
                log.warning("line replication did not stop within %.0f s; what waits stays in the journal and is "
                            "sent when the station runs again", timeout)
                return
            self._thread = None
        if self._reachable:
            self._stop.clear()
            try:
                self.sync()
            except LineDatabaseError:
                pass
            finally:
                self._stop.set()
        with self._lock:
            self._drop_connection()

    def _run(self) -> None:
        delay = self._first_retry
        while not self._stop.is_set() and not self.changes.db.closed:
            try:
                self.sync()
            except JournalRefused as exc:  # the database answers and refuses: said once, looked at again slowly
                if self._problem != str(exc):
                    log.error("line replication refused: %s", exc)
                self._reachable, self._problem = True, str(exc)
                self._stop.wait(self._max_retry)
                continue
            except LineDatabaseError as exc:
                if self._reachable is not False:
                    backlog, _ = self.changes.backlog()
                    log.warning("line database unreachable (%s); the station goes on, %d change(s) wait in the "
                                "journal and are sent when it returns", exc, backlog)
                self._reachable, self._problem = False, str(exc)
                delay = self._wait_to_retry(delay)
                continue
            except Exception as exc:  # the journal itself failed: say it once, keep trying, never kill the line
                if self._problem != f"journal: {exc}":
                    log.error("line replication cannot read the journal (%s); retrying", exc)
                self._problem = f"journal: {exc}"
                self._stop.wait(delay)
                delay = min(delay * 2, self._max_retry)
                continue
            self._problem = None
            delay = self._first_retry
            self._wake.wait(self._poll)
            self._wake.clear()

    def _wait_to_retry(self, delay: float) -> float:
        """Wait ``delay`` seconds, or less when the probe sees the server's port open after it was closed (the
        server is back: retry now, then soon again while it finishes starting); returns the next delay."""
        if self._probe is None:
            self._stop.wait(delay)
            return min(delay * 2, self._max_retry)
        deadline = time.monotonic() + delay
        was_open = self._probe()
        while not self._stop.is_set() and (left := deadline - time.monotonic()) > 0:
            self._stop.wait(min(PROBE_EVERY_S, left))
            is_open = self._probe()
            if is_open and not was_open:
                return FAST_RETRY_S
            was_open = is_open
        return min(delay * 2, self._max_retry)
