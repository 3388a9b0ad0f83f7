"""The provisioning line: a prepared lot (station.workflow.lot), its journal, a device link, slots, the outbox worker
and the workbook writer.

The same Line object drives the GUI, the headless CLI, the demo and the tests; it never touches Qt::

    line = Line(prepare_lot(profile, cloud), link=link, operator="ann").start()
    ...
    line.close()
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from hardware.errors import IdentifierError
from hardware.identifiers import LabelScan
from hardware.progress import CancelToken
from station.errors import StationError
from station.records.journal import JOURNAL_NAME, Journal
from station.records.sheet_writer import SpreadsheetWriter, WorkbookState, WorkbookStatus
from station.records.unit_table import UnitState
from station.trays.reconcile import reconciliation_sheets
from station.workflow.device import DeviceLink
from station.workflow.events import EventBus, EventKind, UnitEvent
from station.workflow.lot import PreparedLot
from station.workflow.outbox import OutboxWorker
from station.workflow.outcome import UnitResult
from station.workflow.runner import UnitRunner

log = logging.getLogger(__name__)


class LineError(StationError):
    """The line cannot start or cannot take this scan."""


@dataclass(frozen=True)
class LotCounts:
    total: int
    passed: int
    failed: int
    cloud_pending: int
    in_progress: int

    @property
    def finished(self) -> int:
        return self.passed + self.failed + self.cloud_pending

    @property
    def yield_fraction(self) -> float | None:
        return (self.passed + self.cloud_pending) / self.finished if self.finished else None


class Line:
    """One station's line for a prepared lot. ``scan()`` starts a unit on a free slot; results arrive as events and
    futures.

    Constructing a Line opens the journal and records the lot (nothing else: no cloud, no thread, no process);
    ``start()`` starts the outbox worker and the workbook writer; ``close()`` stops them and closes the journal. A
    failure while constructing or starting leaves nothing open.
    """

    def __init__(
        self,
        prepared: PreparedLot,
        *,
        link: DeviceLink,
        operator: str,
        lot: str | None = None,
        find_timeout: float = 5.0,
        outbox_poll: float = 1.0,
        outbox_base_delay: float = 2.0,
        today: Callable[[], datetime.date] = datetime.date.today,
        workbook_interval: float = 2.0,
    ) -> None:
        profile = prepared.profile
        self.prepared = prepared
        self.profile = profile
        self.module = prepared.module
        self.cloud = prepared.cloud
        self.operator = operator
        self.events = EventBus()
        self.journal = Journal(Path(profile.log_folder) / JOURNAL_NAME)
        try:
            self._build(link, lot or self._todays_lot(today()), today, find_timeout=find_timeout,
                        outbox_poll=outbox_poll, outbox_base_delay=outbox_base_delay,
                        workbook_interval=workbook_interval)
        except BaseException:
            self.journal.close()
            raise
        self._started = False
        self._closed = False
        self.notices_at_start: list[UnitEvent] = []
        """The notices ``start()`` emitted (a view that subscribes later shows them from here)."""

    def _build(self, link: DeviceLink, lot: str, today: Callable[[], datetime.date], *, find_timeout: float,
               outbox_poll: float, outbox_base_delay: float, workbook_interval: float) -> None:
        """Record the lot, and make (without starting) the slots, the unit runner, the outbox worker and the
        workbook writer."""
        profile, prepared, operator = self.profile, self.prepared, self.operator
        self.lot = lot
        self.journal.lot_table.open(
            lot, station=profile.station_name, product_id=profile.product_id, profile=str(profile.path),
            operator=operator,
        )
        self._slots = ThreadPoolExecutor(max_workers=profile.slots.count, thread_name_prefix="slot")
        self._cloud_pool = ThreadPoolExecutor(max_workers=max(2, profile.slots.count), thread_name_prefix="cloud")
        self._active: dict[int, tuple[str, CancelToken, Future[UnitResult]]] = {}
        self._lock = threading.Lock()
        self.runner = UnitRunner(
            prepared, units=self.journal.unit_table, steps=self.journal.step_table,
            outbox=self.journal.outbox_table, link=link, events=self.events, lot=lot, operator=operator,
            cloud_pool=self._cloud_pool, find_timeout=find_timeout, today=today,
        )
        reach = prepared.reach
        self.outbox = OutboxWorker(
            self.journal.outbox_table, self.journal.unit_table, self.journal.step_table, self.cloud,
            profile.product_id, self.events, poll_interval=outbox_poll, base_delay=outbox_base_delay,
            reachable=self._outbox_may_run if reach is not None else None,
        )
        self.workbook = SpreadsheetWriter(
            self.journal, self.lot, Path(profile.log_folder), scope=profile.workbook,
            min_interval=workbook_interval, on_status=self._workbook_status, lot_sheets=reconciliation_sheets,
        )

    def _outbox_may_run(self) -> bool:
        """The outbox worker's gate: no work due, or the cloud accepts connections (probed at most every few
        seconds, and only while work waits)."""
        reach = self.prepared.reach
        if reach is None or not self.journal.outbox_table.due():
            return True
        return reach.reachable()

    def start(self) -> Line:
        """Start the outbox worker and the workbook writer, and tell the operator the lot's notices. On failure
        everything is closed again (journal included) and the error raised."""
        if self._closed:
            raise LineError("the line is closed")
        if self._started:
            return self
        self._started = True
        try:
            self.outbox.start()
            if self.prepared.unreachable is not None:
                self.notices_at_start.append(self.unreachable_banner())
            self.notices_at_start += [UnitEvent(EventKind.NOTICE, slot=None, unit_key=None, message=notice)
                                      for notice in self.startup_notices]
            for event in self.notices_at_start:
                self.events.emit(event)
            self.workbook.start()
            self.events.subscribe(self._record_changed)
        except BaseException:
            self.close()
            raise
        return self

    def _record_changed(self, event: UnitEvent) -> None:
        if event.kind in (EventKind.UNIT_FINISHED, EventKind.UNIT_UPDATED):
            self.workbook.notify()

    def _workbook_status(self, status: WorkbookStatus) -> None:
        if status.state is not WorkbookState.WRITTEN:
            self.events.emit(UnitEvent(
                EventKind.NOTICE, slot=None, unit_key=None, message=status.message,
                action="Close the workbook in the other program; the station keeps every record and retries.",
                data={"workbook": str(status.path)},
            ))

    def unreachable_banner(self) -> UnitEvent:
        """The one notice of a lot that starts with the cloud unreachable: how much cloud work waits, and what the
        outage postponed (no API call was made; see station.workflow.cloud_reach)."""
        waiting = self.journal.outbox_table.count_pending()
        postponed = "; ".join(self.prepared.offline_notes)
        return UnitEvent(
            EventKind.NOTICE, slot=None, unit_key=None,
            message=f"cloud unreachable: {waiting} operation{'' if waiting == 1 else 's'} waiting.",
            action=(f"({self.prepared.unreachable}) The line runs: each unit's cloud work is queued and finishes by "
                    "itself when the cloud is back" + (f"; {postponed}." if postponed else ".")),
            data={"cloud_unreachable": True, "waiting": waiting},
        )

    @property
    def startup_notices(self) -> tuple[str, ...]:
        """What the operator should read before the first unit (firmware delivered over the air, cloud outage)."""
        return self.prepared.notices

    def _todays_lot(self, today: datetime.date) -> str:
        date = today.strftime("%Y%m%d")
        existing = {lot.name for lot in self.journal.lot_table.all()}
        seq = 1  # continue today's latest lot, or start the first one
        while self.profile.lot_name(date=date, seq=seq + 1) in existing:
            seq += 1
        return self.profile.lot_name(date=date, seq=seq)

    # --- scanning -----------------------------------------------------------------------------------------------
    def parse_label(self, text: str) -> LabelScan:
        try:
            return LabelScan.parse(text)
        except IdentifierError as exc:
            raise LineError(f"Scan not accepted: {exc}.") from None

    def scan(self, label: str | LabelScan, *, slot: int | None = None) -> Future[UnitResult]:
        """Start the unit behind this label on ``slot`` (or the first free slot)."""
        if self._closed or not self._started:
            raise LineError("the line is closed" if self._closed else "the line is not started")
        scan = label if isinstance(label, LabelScan) else self.parse_label(label)
        key = scan.serial.value
        with self._lock:
            self._active = {s: a for s, a in self._active.items() if not a[2].done()}
            for active_slot, (active_key, _, _) in self._active.items():
                if active_key == key:
                    raise LineError(f"Unit {key} is already running in slot {active_slot + 1}; wait for it to finish.")
            if slot is None:
                free = [s for s in range(self.profile.slots.count) if s not in self._active]
                if not free:
                    raise LineError("All slots are busy; wait for a unit to finish, then scan again.")
                slot = free[0]
            elif not 0 <= slot < self.profile.slots.count:
                raise LineError(f"There is no slot {slot + 1}; this station has {self.profile.slots.count}.")
            elif slot in self._active:
                raise LineError(f"Slot {slot + 1} is busy with unit {self._active[slot][0]}.")
            cancel = CancelToken()
            future = self._slots.submit(self._run_unit, scan, slot, cancel)
            self._active[slot] = (key, cancel, future)
        return future

    def _run_unit(self, scan: LabelScan, slot: int, cancel: CancelToken) -> UnitResult:
        try:
            return self.runner.run(scan, slot=slot, cancel=cancel)
        except Exception as exc:
            log.exception("unit %s on slot %d failed unexpectedly", scan.serial, slot + 1)
            self.events.emit(UnitEvent(EventKind.NOTICE, slot=slot, unit_key=scan.serial.value,
                                       message=f"Internal error: {exc}", action="Scan the label again."))
            raise

    def cancel(self, slot: int) -> None:
        with self._lock:
            active = self._active.get(slot)
        if active is not None:
            active[1].cancel()

    def busy_slots(self) -> list[int]:
        with self._lock:
            return sorted(s for s, a in self._active.items() if not a[2].done())

    # --- lot facts ----------------------------------------------------------------------------------------------
    def counts(self) -> LotCounts:
        units = self.journal.unit_table.all(self.lot)
        by_state = {state: sum(1 for u in units if u.state is state) for state in UnitState}
        return LotCounts(
            total=len(units), passed=by_state[UnitState.PASS], failed=by_state[UnitState.FAIL],
            cloud_pending=by_state[UnitState.CLOUD_PENDING], in_progress=by_state[UnitState.IN_PROGRESS],
        )

    def retry_cloud_work(self) -> int:
        count = self.journal.outbox_table.retry_failed()
        self.outbox.wake()
        return count

    def wait_for_free_slot(self, timeout: float = 3600.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.busy_slots()) < self.profile.slots.count:
                return True
            time.sleep(0.02)
        return False

    def wait_idle(self, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.busy_slots():
                return True
            time.sleep(0.02)
        return False

    def close(self, *, cancel_running: bool = True) -> None:
        """Stop the slots, the cloud pool, the outbox worker and the workbook writer (after its last write), then
        close the journal. Safe to call more than once, and on a line that never started."""
        if self._closed:
            return
        self._closed = True
        try:
            if cancel_running:
                for slot in self.busy_slots():
                    self.cancel(slot)
            self._slots.shutdown(wait=True)
            self._cloud_pool.shutdown(wait=True)
            self.outbox.stop()
            if self._started:
                self.workbook.close(timeout=60)
        finally:
            self.journal.close()

    def __enter__(self) -> Line:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
