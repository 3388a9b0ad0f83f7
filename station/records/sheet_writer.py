"""The background spreadsheet writer: coalesces "a unit was recorded" notices into occasional workbook rewrites.

The line pays only for ``notify()`` (a flag under a lock); the writer thread rebuilds the workbook from the journal
at most every ``min_interval`` seconds, and never more than a bounded share of the time when the workbook is big.
By default the rebuild runs in a child process: building a 10,000-row workbook is seconds of pure-Python work,
and in a thread it would hold the GIL against the line's USB, serial and GUI threads.
A failed write (workbook open in Excel, disk full) is reported through ``on_status`` and retried with back-off;
it never reaches the line, and nothing is lost because the journal stays the truth.
"""

from __future__ import annotations

import enum
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from station.config.profile import WorkbookScope
from station.errors import StationError
from station.files import ReplaceFunction
from station.records.cells import local_datetime
from station.records.journal import Journal
from station.records.spreadsheet_paths import day_workbook_path, lot_workbook_path
from station.records.wording import counted

if TYPE_CHECKING:  # the workbook code (openpyxl) loads when the first workbook is written, not at line start
    from station.records.spreadsheet import LotSheets, WorkbookReport

log = logging.getLogger(__name__)


class WorkbookState(enum.Enum):
    WRITTEN = "written"
    LOCKED = "locked"
    """Another program holds the workbook; the writer retries."""
    FAILED = "failed"
    """The write failed for another reason; the writer retries."""


@dataclass(frozen=True)
class WorkbookStatus:
    """What the writer last did with a workbook, for the UI's status line."""

    state: WorkbookState
    path: Path
    message: str
    units: int = 0
    retry_in: float | None = None


StatusCallback = Callable[[WorkbookStatus], None]


class SpreadsheetWriter:
    """Keeps a lot's workbook (or the day workbooks it touches) in step with the journal from a background thread.

    ``min_interval``: least seconds between two rewrites. ``duty`` caps the share of time spent writing: after a
    rewrite that took ``d`` seconds the next waits at least ``d * (1 / duty - 1)`` seconds, so the line keeps the
    processor while the lot grows. ``first_retry``/``max_retry``: back-off after a failed write. ``isolate``:
    build and save in a child process (the default); ``False`` runs in the writer thread, which the ``replace``
    seam needs. ``lot_sheets``: more sheets for a lot workbook (see ``write_workbook``).
    """

    def __init__(
        self,
        journal: Journal,
        lot: str,
        folder: str | Path,
        *,
        scope: WorkbookScope = WorkbookScope.PER_LOT,
        min_interval: float = 2.0,
        duty: float = 0.25,
        first_retry: float = 1.0,
        max_retry: float = 30.0,
        on_status: StatusCallback | None = None,
        replace: ReplaceFunction = os.replace,
        tz: tzinfo | None = None,
        isolate: bool = True,
        lot_sheets: LotSheets | None = None,
        recheck_interval: float = 5.0,
    ) -> None:
        if not 0 < duty <= 1:
            raise ValueError(f"duty must be in (0, 1], got {duty}")
        if isolate and replace is not os.replace:
            raise ValueError("a replace function can only be given with isolate=False (it cannot cross processes)")
        self.journal = journal
        self.lot = lot
        self.folder = Path(folder)
        self.scope = scope
        self.min_interval = min_interval
        self.duty = duty
        self.first_retry = first_retry
        self.max_retry = max_retry
        self._on_status = on_status
        self._replace = replace
        self._tz = tz
        self.isolate = isolate
        self._lot_sheets = lot_sheets
        self.recheck_interval = recheck_interval
        self._last_path: Path | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._cond = threading.Condition()
        self._pass_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._dirty = False
        self._stopping = False
        self._next_due = 0.0
        self._flush_requested = 0
        self._flush_served = 0
        self._last_ok = True
        self._written_revision: int | None = None
        self._retry_delay = first_retry
        self._pending_days: set[date] = set()
        self._seen_updated_at = float("-inf")
        self.writes = 0
        """Workbooks written so far (a day scope counts each day's workbook)."""
        self.status: WorkbookStatus | None = None

    @property
    def path(self) -> Path:
        """The lot workbook (per-lot scope) or today's day workbook (per-day scope)."""
        if self.scope is WorkbookScope.PER_DAY:
            return day_workbook_path(self.folder, local_datetime(time.time(), self._tz).date())
        return lot_workbook_path(self.folder, self.lot)

    # --- the line's side ----------------------------------------------------------------------------------------
    def start(self) -> SpreadsheetWriter:
        """Start the writer thread (the child process starts with the first write); temporary workbooks a killed
        station left in the folder are removed first."""
        with self._cond:
            if self._thread is None:
                remove_stale_temporaries(self.folder)
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name=f"spreadsheet-writer {self.lot}", daemon=True)
                self._thread.start()
        return self

    def notify(self) -> None:
        """A unit was recorded: the workbook will be rewritten soon. Cheap and never blocks on the writer's work."""
        with self._cond:
            self._dirty = True
            self._cond.notify()

    def flush(self, timeout: float | None = None) -> bool:
        """Write now if the journal changed, and wait for it; True when the workbook is up to date.

        Without a running thread the write happens in the calling thread.
        """
        with self._cond:
            running = self._thread is not None
            if running:
                self._flush_requested += 1
                ticket = self._flush_requested
                self._cond.notify_all()
                served = self._cond.wait_for(lambda: self._flush_served >= ticket, timeout)
                return served and self._last_ok
        return self._write_pass()

    def close(self, timeout: float | None = None) -> None:
        """Write what is left (one attempt) and stop the thread."""
        with self._cond:
            thread = self._thread
            self._stopping = True
            self._cond.notify_all()
        if thread is None:
            self._write_pass()
            self._stop_pool()
            return
        thread.join(timeout)
        with self._cond:
            if not thread.is_alive():
                self._thread = None

    def __enter__(self) -> SpreadsheetWriter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the writer thread --------------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopping or self._flush_requested > self._flush_served:
                        break
                    if self._dirty:
                        delay = self._next_due - time.monotonic()
                        if delay <= 0:
                            break
                        self._cond.wait(delay)
                    else:
                        # Idle: look now and then whether someone deleted the workbook, and write it again.
                        self._cond.wait(self.recheck_interval)
                        if not self._dirty and not self._stopping and self._workbook_missing():
                            self._dirty = True
                ticket = self._flush_requested
                stopping = self._stopping
                self._dirty = False
            ok = self._write_pass()
            with self._cond:
                self._flush_served = ticket
                self._last_ok = ok
                if not ok:
                    self._dirty = True
                self._cond.notify_all()
            if stopping:
                self._stop_pool()
                return

    def _write_pass(self) -> bool:
        """Rewrite the workbook(s) if the journal changed since the last good write; report and schedule."""
        with self._pass_lock:
            revision = self.journal.db.revision
            if revision == self._written_revision and not self._workbook_missing():
                return True
            started = time.monotonic()
            try:
                status = self._write()
            except Exception as exc:  # a writer failure must never reach the line; it is reported
                self._after_failure(exc)
                return False
            elapsed = time.monotonic() - started
            self._written_revision = revision
            self._retry_delay = self.first_retry
            self._next_due = time.monotonic() + max(self.min_interval, elapsed * (1 / self.duty - 1))
            self._report(status)
            return True

    def _workbook_missing(self) -> bool:
        """The last workbook written is gone (deleted or moved away while the line ran)."""
        path = self._last_path
        return path is not None and not path.exists()

    def _write(self) -> WorkbookStatus:
        if self.scope is WorkbookScope.PER_DAY:
            status = self._write_days()
            self._last_path = status.path
            return status
        path = lot_workbook_path(self.folder, self.lot)
        report = self._run_job(None, path)
        self._last_path = path
        self.writes += 1
        return WorkbookStatus(WorkbookState.WRITTEN, path, f"workbook {path} updated: {counted(report.units, 'unit')}",
                              units=report.units)

    def _write_days(self) -> WorkbookStatus:
        changed = self.journal.unit_table.changed_since(self.lot, self._seen_updated_at)
        if changed:
            self._seen_updated_at = max(u.updated_at for u in changed)
        self._pending_days.update(local_datetime(u.started_at, self._tz).date() for u in changed)
        if not self._pending_days:
            self._pending_days.add(local_datetime(time.time(), self._tz).date())
        units = 0
        path = self.path
        for day in sorted(self._pending_days):
            path = day_workbook_path(self.folder, day)
            report = self._run_job(day, path)
            self._pending_days.discard(day)
            self.writes += 1
            units = report.units
        return WorkbookStatus(WorkbookState.WRITTEN, path, f"workbook {path} updated: {counted(units, 'unit')}",
                              units=units)

    def _run_job(self, day: date | None, path: Path) -> WorkbookReport:
        from station.records.spreadsheet import SpreadsheetError, write_workbook

        if not self.isolate:
            lot = self.lot if day is None else None
            return write_workbook(self.journal, path, lot=lot, day=day, replace=self._replace, tz=self._tz,
                                  now=time.time(), lot_sheets=self._lot_sheets)
        if self._pool is None:
            # spawn, not fork: forking a process that runs threads (and Qt) can copy a held lock into the child.
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_start_child, initargs=(os.getpid(),))
        future = self._pool.submit(
            _write_in_child, str(self.journal.path), self.lot, day, str(path), self._tz, time.time(), self._lot_sheets
        )
        try:
            return future.result()
        except BrokenProcessPool:
            self._stop_pool()
            raise SpreadsheetError(
                f"the workbook process stopped while writing {path}; a new one starts at the next try"
            ) from None

    def _stop_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _after_failure(self, exc: Exception) -> None:
        delay = self._retry_delay
        self._retry_delay = min(self.max_retry, self._retry_delay * 2)
        self._next_due = time.monotonic() + delay
        from station.records.spreadsheet import WorkbookLockedError

        if isinstance(exc, WorkbookLockedError):
            status = WorkbookStatus(
                WorkbookState.LOCKED,
                exc.path,
                f"workbook {exc.path} is open in another program; will retry in {delay:.0f} s "
                "(close it to let the station update it; the journal keeps every unit)",
                retry_in=delay,
            )
            log.warning("%s", status.message)
        else:
            # Our own errors already name the workbook and what to do; anything else is a bug worth a traceback.
            ours = isinstance(exc, StationError)
            what = str(exc) if ours else (
                f"workbook {self.path} could not be written ({type(exc).__name__}: {exc}); the journal keeps every unit"
            )
            status = WorkbookStatus(
                WorkbookState.FAILED,
                self.path,
                f"{what}; will retry in {delay:.0f} s",
                retry_in=delay,
            )
            log.error("%s", status.message, exc_info=not ours)
        self._report(status)

    def _report(self, status: WorkbookStatus) -> None:
        self.status = status
        if self._on_status is None:
            return
        try:
            self._on_status(status)
        except Exception:  # a faulty status display must not stop the workbook
            log.exception("the workbook status callback failed for %s", status.path)


_child_journals: dict[str, Journal] = {}
"""The journals the child process has open, kept between jobs (opening one costs a write transaction)."""


TEMPORARY_WORKBOOKS = ".~*.xlsx.*.tmp"
"""The temporary files a workbook is written to before it replaces the old one (station.files.write_atomically)."""
PARENT_CHECK_S = 0.5


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove the temporary workbooks a station killed while writing left in ``folder``; returns them."""
    removed: list[Path] = []
    try:
        candidates = sorted(folder.glob(TEMPORARY_WORKBOOKS))
    except OSError:
        return removed
    for path in candidates:
        try:
            path.unlink()
        except OSError as exc:
            log.warning("could not remove the stale temporary workbook %s: %s", path, exc)
        else:
            removed.append(path)
    return removed


def _start_child(parent: int) -> None:
    """In the workbook child: the station handles Ctrl-C itself (the child finishes or is stopped by the writer,
    quietly), and the child exits when the station is gone, even killed with SIGKILL (it would otherwise wait for
    work forever: it holds both ends of the pool's queue, so it never reads end-of-file)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), name="parent-watch", daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)  # an orphan: a half-written temporary workbook is removed when the station starts again


def _write_in_child(
    journal_path: str, lot: str, day: date | None, path: str, tz: tzinfo | None, now: float,
    lot_sheets: LotSheets | None,
) -> WorkbookReport:
    from station.records.spreadsheet import write_workbook

    journal = _child_journals.get(journal_path)
    if journal is None:
        journal = _child_journals[journal_path] = Journal(journal_path)
    return write_workbook(journal, path, lot=lot if day is None else None, day=day, tz=tz, now=now,
                          lot_sheets=lot_sheets)
