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
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from hardware.errors import IdentifierError
from hardware.identifiers import LabelScan
from hardware.progress import CancelToken
from station.errors import StationError
from station.line.feed import device_screen, feed_for, screen_scan
from station.records.database import JournalError
from station.records.journal import JOURNAL_NAME, Journal
from station.records.lot_summary import LotFigures, lot_figures
from station.records.sheet_writer import SpreadsheetWriter, WorkbookState, WorkbookStatus
from station.records.unit_table import UnitState
from station.trays.reconcile import reconciliation_sheets
from station.version import station_version
from station.workflow.device import DeviceLink
from station.workflow.events import EventBus, EventKind, UnitEvent
from station.workflow.lot import PreparedLot, operator_name, successor_lot, todays_lot
from station.workflow.outbox import OutboxWorker
from station.workflow.outcome import UnitResult
from station.workflow.runner import UnitRunner
from station.workflow.scan_check import MisScan, check_label_platform, check_not_passed
from station.workflow.slots import SlotError, SlotRunner
from station.workflow.test_prompts import Prompter

log = logging.getLogger(__name__)


class LineError(StationError):
    """The line cannot start or cannot take this scan."""


class LineStopped(LineError):
    """The line takes no more scans until the station is started again (its journal cannot be written)."""


class ScanRefused(LineError):
    """A label refused before a unit exists (recorded as a refused scan, outside yield); the message says what to
    do. ``code`` is its reason code."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


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
        prompter: Prompter | None = None,
    ) -> None:
        profile = prepared.profile
        self.prepared = prepared
        self.profile = profile
        self.module = prepared.module
        self.cloud = prepared.cloud
        self.operator = operator
        self.events = EventBus()
        self._lot_notices: list[str] = []
        self.journal = Journal(Path(profile.log_folder) / JOURNAL_NAME)
        self.journal.unit_table.software_version = station_version()  # recorded with every unit it starts
        self._today = today
        self._explicit_lot = lot is not None
        try:
            self.line_feed = feed_for(profile, self.journal.db, self.events.subscribe)  # [line]: replication
            if self.line_feed is not None:  # the station's Particle API requests per minute, for the dashboard
                self.cloud.on_request = self.line_feed.api_meter.record
            self._build(link, lot or self._todays_lot(today()), today, find_timeout=find_timeout,
                        outbox_poll=outbox_poll, outbox_base_delay=outbox_base_delay,
                        workbook_interval=workbook_interval, prompter=prompter)
        except BaseException:
            self.journal.close()
            raise
        self._started = False
        self._closed = False
        self._stopped: str | None = None
        """Why the line takes no more scans (the journal cannot be written), or None."""
        self.notices_at_start: list[UnitEvent] = []
        """The notices ``start()`` emitted (a view that subscribes later shows them from here)."""

    def _build(self, link: DeviceLink, lot: str, today: Callable[[], datetime.date], *, find_timeout: float,
               outbox_poll: float, outbox_base_delay: float, workbook_interval: float,
               prompter: Prompter | None) -> None:
        """Record the lot, and make (without starting) the slots, the unit runner, the outbox worker and the
        workbook writer. ``prompter`` answers the tests' operator prompts (None: nobody to ask, every prompt fails)."""
        profile, prepared, operator = self.profile, self.prepared, self.operator
        self.lot = lot
        record = self.journal.lot_table.open(
            lot, station=profile.station_name, product_id=profile.product_id, profile=str(profile.path),
            operator=operator,
        )
        if record.closed:
            following = successor_lot(lot, self.journal.lot_table.all())
            raise LineError(f"lot {lot} is closed and takes no more units; run with --lot {following}, or without "
                            "--lot for today's lot")
        self.slots = SlotRunner(profile.slots.count)
        self._cloud_pool = ThreadPoolExecutor(max_workers=max(2, profile.slots.count), thread_name_prefix="cloud")
        self.runner = UnitRunner(
            prepared, units=self.journal.unit_table, steps=self.journal.step_table,
            outbox=self.journal.outbox_table, link=link, events=self.events, lot=lot, operator=operator,
            cloud_pool=self._cloud_pool, find_timeout=find_timeout, today=today, prompter=prompter,
            line_check=None if self.line_feed is None else device_screen(self.line_feed),
        )
        reach = prepared.reach
        self.outbox = OutboxWorker(
            self.journal.outbox_table, self.journal.unit_table, self.journal.step_table, self.cloud,
            profile.product_id, self.events, poll_interval=outbox_poll, base_delay=outbox_base_delay,
            reachable=self._outbox_may_run if reach is not None else None,
        )
        self._workbook_interval = workbook_interval
        self.workbook = self._workbook_writer(lot)

    def _workbook_writer(self, lot: str) -> SpreadsheetWriter:
        return SpreadsheetWriter(
            self.journal, lot, Path(self.profile.log_folder), scope=self.profile.workbook,
            min_interval=self._workbook_interval, on_status=self._workbook_status, lot_sheets=reconciliation_sheets,
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
            if self.line_feed is not None:
                self.line_feed.start()
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
    def stopped(self) -> str | None:
        """Why the line takes no more scans (the journal cannot be written), or None while it runs."""
        return self._stopped

    @property
    def startup_notices(self) -> tuple[str, ...]:
        """What the operator should read before the first unit (firmware delivered over the air, cloud outage)."""
        return (*self._lot_notices, *self.prepared.notices)

    def _todays_lot(self, today: datetime.date) -> str:
        """Today's lot (``station.workflow.lot.todays_lot``). Without ``{seq}`` in the profile's lot naming a day has
        one lot name: every start of the day resumes that lot, and the operator is told so."""
        lots = self.journal.lot_table.all()
        name = todays_lot(self.profile, lots, today)
        if not self.profile.lot_naming_has_seq and any(lot.name == name for lot in lots):
            self._lot_notices.append(
                f"Lot {name} continues: the profile's lot naming has no {{seq}}, so every start on "
                f"{today.isoformat()} resumes this lot.")
        return name

    def _next_lot(self) -> str:
        """The lot that follows the current one once it is closed (see ``station.workflow.lot.next_lot``)."""
        lots = self.journal.lot_table.all()
        if self._explicit_lot:
            return successor_lot(self.lot, lots)
        return todays_lot(self.profile, lots, self._today())

    def close_lot(self) -> str:
        """Close the current lot and open the next one; returns the new lot's name.

        The closed lot's summary is stored (sealed) and its workbook written a last time; scans into it are refused
        from then on. Refused with LineError while a unit is running or when the profile's lot naming cannot name
        a next lot today (it has no ``{seq}``).
        """
        if self._closed or not self._started:
            raise LineError("the line is closed" if self._closed else "the line is not started")
        try:
            with self.slots.held("The lot is being closed; scan again in a moment.",
                                 busy=lambda slots: f"Units are still running in slot(s) {', '.join(map(str, slots))}; "
                                 "wait for them to finish, then close the lot.",
                                 again="The lot is already being closed."):
                date = self._today().strftime("%Y%m%d")
                if not self._explicit_lot and self.profile.lot_name(date=date, seq=1) == self.profile.lot_name(
                        date=date, seq=2):
                    raise LineError(f"Lot {self.lot} cannot be closed: the profile's lot_naming has no {{seq}}, so "
                                    "there is no next lot today; add {seq} to lot_naming, or run with --lot NAME.")
                closed, following = self._switch_lot()
        except SlotError as exc:
            raise LineError(str(exc)) from None
        self.events.emit(UnitEvent(EventKind.NOTICE, slot=None, unit_key=None,
                                   message=f"Lot {closed} is closed; lot {following} is open.",
                                   action="Scan the next unit.", data={"closed_lot": closed, "lot": following}))
        return following

    def _switch_lot(self) -> tuple[str, str]:
        """Seal the current lot and open the next (no unit runs meanwhile); returns both names."""
        from station.records.lot_seal import close_lot

        closed = self.lot
        self._sweep_sims()  # the units' SIMs still waiting are checked before the lot's summary is sealed
        close_lot(self.journal, closed)  # a lot closed already (by `particle-station lot-close`) stays as sealed
        following = self._next_lot()
        self.workbook.close(timeout=60)  # the closed lot's last workbook, with its close time
        self.journal.lot_table.open(
            following, station=self.profile.station_name, product_id=self.profile.product_id,
            profile=str(self.profile.path), operator=self.operator,
        )
        self.lot = self.runner.lot = self.runner.cloud_steps.lot = following
        self.workbook = self._workbook_writer(following).start()
        return closed, following

    def use_prompter(self, prompter: Prompter) -> None:
        """From now on ``prompter`` answers the tests' operator prompts (the window, made after the line, hands in
        its own); a headless run passes it to the constructor instead."""
        self.runner.prompter = prompter

    def set_operator(self, name: str) -> str:
        """Record ``name`` as the operator of every unit scanned from now on (the window asks it at a shift change,
        or at start when the profile says ``ask_name``), and of the lot while it has no unit; raises
        LotPreparationError for a blank name."""
        self.operator = self.runner.operator = operator_name(name)
        self.journal.lot_table.name_operator(self.lot, self.operator)  # the lot's too, while it has no unit
        return self.operator

    # --- scanning -----------------------------------------------------------------------------------------------
    def parse_label(self, text: str) -> LabelScan:
        try:
            return LabelScan.parse(text)
        except IdentifierError as exc:
            raise LineError(f"Scan not accepted: {exc}.") from None

    def scan(self, label: str | LabelScan, *, slot: int | None = None, rework: bool = False) -> Future[UnitResult]:
        """Start the unit behind this label on ``slot`` (or the first free slot). A label naming another platform,
        or of a unit already PASS in this lot (unless ``rework``, an engineer's explicit action), raises
        ScanRefused; a label whose device does not appear in time ends the future with ScanRefused."""
        if self._closed or not self._started:
            raise LineError("the line is closed" if self._closed else "the line is not started")
        if self._stopped is not None:
            raise LineStopped(self._stopped)
        scan = label if isinstance(label, LabelScan) else self.parse_label(label)
        key = scan.serial.value
        record = self.journal.lot_table.get(self.lot)
        if record is not None and record.closed:
            raise LineError(f"Lot {self.lot} is closed; its records are final. Restart the station (or close the lot "
                            "in engineer mode) to open the next lot.")
        known = self.journal.unit_table.by_key(self.lot, key)
        if rework and (known is None or known.state is not UnitState.PASS):
            # An engineer's rework is of a unit that passed; any other unit is simply scanned again.
            raise LineError(f"Unit {key} is not PASS in lot {self.lot} ("
                            + (known.state.value if known is not None else "never scanned in this lot")
                            + "); nothing to rework: scan its label as usual.")
        try:
            check_label_platform(self.profile, key)
            check_not_passed(known, rework=rework)
            self._check_elsewhere(key, rework)
        except MisScan as exc:
            raise self._refuse(key, exc) from None
        try:
            return self.slots.start(key, lambda on, cancel: self._run_unit(scan, on, cancel, rework), slot)
        except SlotError as exc:
            raise LineError(str(exc)) from None

    def _check_elsewhere(self, key: str, rework: bool) -> None:
        """The line database's word on the label (station.line.feed): refused, warned, or unreachable (said once)."""
        if self.line_feed is None or rework:
            return
        screen = screen_scan(self.line_feed, key)
        if screen.notice:
            self.events.emit(UnitEvent(EventKind.NOTICE, slot=None, unit_key=key, message=screen.notice))
        if screen.refusal is not None:
            raise MisScan(screen.refusal.code, screen.refusal.sentence)

    def _refuse(self, key: str, exc: MisScan, slot: int | None = None) -> ScanRefused:
        """Record a refused scan (not a unit). Refused in a slot's thread (no device appeared), the screens hear it
        as a notice; refused in ``scan()``, the caller shows the exception."""
        self.journal.refused_scan_table.record(self.lot, key, exc.code.value, str(exc))
        if slot is not None:
            self.events.emit(UnitEvent(EventKind.NOTICE, slot=slot, unit_key=key, message=str(exc),
                                       data={"refused": True, "reason_code": exc.code.value}))
        return ScanRefused(str(exc), exc.code.value)

    def _run_unit(self, scan: LabelScan, slot: int, cancel: CancelToken, rework: bool = False) -> UnitResult:
        try:
            return self.runner.run(scan, slot=slot, cancel=cancel, rework=rework)
        except MisScan as exc:
            raise self._refuse(scan.serial.value, exc, slot) from None
        except JournalError as exc:
            # Disk full or read-only: no unit may start that cannot be recorded. What is recorded stays.
            self._stopped = (
                f"The line has stopped: the journal cannot be written ({exc}). Free disk space or make the log "
                f"folder {self.profile.log_folder} writable, then start the station again; every unit recorded "
                "so far is kept.")
            log.error("%s", self._stopped)
            self.events.emit(UnitEvent(EventKind.NOTICE, slot=slot, unit_key=scan.serial.value,
                                       message=self._stopped, action="Scan nothing more; tell the engineer."))
            raise
        except Exception as exc:
            log.exception("unit %s on slot %d failed unexpectedly", scan.serial, slot + 1)
            self.events.emit(UnitEvent(EventKind.NOTICE, slot=slot, unit_key=scan.serial.value,
                                       message=f"Internal error: {exc}", action="Scan the label again."))
            raise

    def interrupt(self) -> None:
        """The station stops (Ctrl-C): running units are cancelled and recorded as interrupted, not FAIL."""
        self.runner.interrupting.set()
        for slot in self.busy_slots():
            self.cancel(slot)

    def cancel(self, slot: int) -> None:
        """Stop the unit on ``slot`` (0-based) at its next safe point; it is recorded as cancelled."""
        self.slots.cancel(slot)

    def busy_slots(self) -> list[int]:
        return self.slots.busy()

    # --- lot facts ----------------------------------------------------------------------------------------------
    def counts(self) -> LotFigures:
        """The lot's figures (units, PASS, FAIL, waiting on the cloud, yields...), from the journal."""
        return lot_figures(self.journal.unit_table.all(self.lot), refused_scans=self.refused_scans())

    def refused_scans(self) -> int:
        """Labels of this lot refused before a unit existed (not units; outside yield)."""
        return self.journal.refused_scan_table.count(self.lot)

    def retry_cloud_work(self) -> int:
        count = self.journal.outbox_table.retry_failed()
        self.outbox.wake()
        return count

    def wait_for_free_slot(self, timeout: float = 3600.0) -> bool:
        return self.slots.wait_for_free(timeout)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        return self.slots.wait_idle(timeout)

    def _sweep_sims(self) -> None:
        try:
            self.runner.cloud_steps.sweep_sims()
        except JournalError as exc:
            log.error("the SIM check could not be recorded: %s", exc)

    def close(self, *, cancel_running: bool = True) -> None:
        """Stop the slots, the cloud pool, the outbox worker and the workbook writer (after its last write), then
        close the journal. Safe to call more than once, and on a line that never started."""
        if self._closed:
            return
        self._closed = True
        try:
            if cancel_running:
                self.interrupt()
            self.slots.shutdown()
            self._cloud_pool.shutdown(wait=True)
            if self._started:
                self._sweep_sims()
            self.outbox.stop()
            if self._started:
                self.workbook.close(timeout=60)
            if self.line_feed is not None:
                self.line_feed.stop()
        finally:
            self.journal.close()

    def __enter__(self) -> Line:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
