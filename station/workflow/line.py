"""The provisioning line: a profile, its journal and lot, the cloud, a device link, slots, and the outbox worker.

The same Line object drives the GUI, the headless CLI, the demo and the tests; it never touches Qt.
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

from cloud_client.client import ParticleCloud
from hardware.errors import IdentifierError
from hardware.firmware import FirmwareModule, load_module
from hardware.identifiers import LabelScan
from hardware.progress import CancelToken
from station.config.profile import FirmwareVersionPolicy, StationProfile
from station.errors import StationError
from station.product.firmware import FirmwarePlan, delivered_version, fetch_product_firmware, firmware_plan
from station.product.groups import ensure_groups, expand_groups
from station.records.journal import Journal, UnitState
from station.records.sheet_writer import SpreadsheetWriter, WorkbookState, WorkbookStatus
from station.trays.reconcile import reconciliation_sheets
from station.workflow.device import DeviceLink
from station.workflow.events import EventBus, EventKind, UnitEvent
from station.workflow.outbox import OutboxWorker
from station.workflow.outcome import RETRY_LATER, UnitResult
from station.workflow.runner import SlotClaims, UnitRunner

log = logging.getLogger(__name__)

JOURNAL_NAME = "journal.sqlite3"


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


def load_product_firmware(profile: StationProfile, cloud: ParticleCloud | None = None) -> FirmwareModule:
    """The profile's firmware: its file (refused unless its SHA-256 is the pinned one and it fits the platform), or
    the product firmware version it names, downloaded from the product and cached by SHA-256."""
    spec = profile.firmware
    if spec.file is None:
        assert spec.product_version is not None
        if cloud is None:
            raise LineError(f"profile {profile.path} names product firmware version {spec.product_version}: "
                            "the station needs the cloud to download it")
        return fetch_product_firmware(cloud, profile.product_id, spec.product_version, profile.platform,
                                      profile.firmware_cache, expected_sha256=spec.sha256)
    module = load_module(spec.file)
    if spec.sha256 is not None and module.file_sha256 != spec.sha256:
        raise LineError(
            f"firmware {spec.file} has SHA-256 {module.file_sha256}, but the profile pins {spec.sha256}: "
            "the file changed; check it and update firmware.sha256 in the profile"
        )
    if not module.is_intact:
        raise LineError(f"firmware {spec.file} is damaged (CRC or SHA-256 mismatch); rebuild or re-download it")
    if module.platform_id != profile.platform.id:
        raise LineError(
            f"firmware {spec.file} is for platform {module.platform_name}, but the product is "
            f"{profile.platform.display_name}"
        )
    if not module.is_user_part:
        raise LineError(f"firmware {spec.file} is a {module.kind.value}, not an application (user part)")
    return module


def _cloud_unreachable(exc: BaseException) -> bool:
    """The error (or what it wraps) is an outage that passes by itself, not a refusal."""
    return isinstance(exc, RETRY_LATER) or isinstance(exc.__cause__, RETRY_LATER)


def load_device_os_bundle(profile: StationProfile) -> list[FirmwareModule]:
    """The profile's Device OS modules, each intact and for the product's platform."""
    modules = []
    for path in profile.firmware.device_os_bundle:
        module = load_module(path)
        if not module.is_intact:
            raise LineError(f"Device OS module {path} is damaged (CRC or SHA-256 mismatch); download it again")
        if module.platform_id != profile.platform.id:
            raise LineError(f"Device OS module {path} is for platform {module.platform_name}, "
                            f"not {profile.platform.display_name}")
        modules.append(module)
    return modules


class Line:
    """One station's line. ``scan()`` starts a unit on a free slot; results arrive as events and futures."""

    def __init__(
        self,
        profile: StationProfile,
        *,
        link: DeviceLink,
        cloud: ParticleCloud,
        operator: str,
        lot: str | None = None,
        journal: Journal | None = None,
        module: FirmwareModule | None = None,
        find_timeout: float = 5.0,
        outbox_poll: float = 1.0,
        outbox_base_delay: float = 2.0,
        today: Callable[[], datetime.date] = datetime.date.today,
        workbook_interval: float = 2.0,
    ) -> None:
        self.profile = profile
        self.events = EventBus()
        self.module = module or load_product_firmware(profile, cloud)
        self.journal = journal or Journal(Path(profile.log_folder) / JOURNAL_NAME)
        self.lot = lot or self._todays_lot(today())
        self.journal.open_lot(
            self.lot, station=profile.station_name, product_id=profile.product_id, profile=str(profile.path),
            operator=operator,
        )
        self.cloud = cloud
        self.operator = operator
        self._slots = ThreadPoolExecutor(max_workers=profile.slots.count, thread_name_prefix="slot")
        self._cloud_pool = ThreadPoolExecutor(max_workers=max(2, profile.slots.count), thread_name_prefix="cloud")
        self._active: dict[int, tuple[str, CancelToken, Future[UnitResult]]] = {}
        self._lock = threading.Lock()
        bundle = tuple(load_device_os_bundle(profile))
        self._startup_notices: list[str] = []
        self.groups = self._lot_groups(cloud, today())
        self.firmware_plan = self._firmware_plan(cloud)
        expected_online = self.firmware_plan.updated_to if self.firmware_plan else None
        self.runner = UnitRunner(
            profile=profile, journal=self.journal, link=link, cloud=cloud, module=self.module, events=self.events,
            lot=self.lot, operator=operator, cloud_pool=self._cloud_pool, claims=SlotClaims(),
            find_timeout=find_timeout, today=today, device_os_bundle=bundle, groups=self.groups,
            lock_version=self.firmware_plan.lock_version if self.firmware_plan else None,
            expected_online_version=expected_online,
        )
        self.outbox = OutboxWorker(self.journal, cloud, profile.product_id, self.events,
                                   poll_interval=outbox_poll, base_delay=outbox_base_delay)
        self.outbox.start()
        if self.firmware_plan is not None and self.firmware_plan.needs_attention:
            self._startup_notices.append(self.firmware_plan.message)
        for notice in self._startup_notices:
            self.events.emit(UnitEvent(EventKind.NOTICE, slot=None, unit_key=None, message=notice))
        self.workbook = SpreadsheetWriter(
            self.journal, self.lot, Path(profile.log_folder), scope=profile.workbook,
            min_interval=workbook_interval, on_status=self._workbook_status, lot_sheets=reconciliation_sheets,
        ).start()
        self.events.subscribe(self._record_changed)
        self._closed = False

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

    def _lot_groups(self, cloud: ParticleCloud, today: datetime.date) -> list[str]:
        """The profile's groups for this lot: date tokens expanded once, and created in the product when missing."""
        names = list(self.profile.steps.groups)
        if not names:
            return []
        try:
            existing = [g.name for g in cloud.list_groups(self.profile.product_id)] if any(
                "{date_seq}" in n.lower() for n in names) else []
            groups = expand_groups(names, today, existing)
            ensure_groups(cloud, self.profile.product_id, groups)
        except (*RETRY_LATER, StationError) as exc:
            if not _cloud_unreachable(exc):
                raise LineError(f"cannot prepare the lot's device groups: {exc}") from None
            # The line keeps running through a cloud outage; the device update creates missing groups later.
            groups = expand_groups(names, today, [])
            self._startup_notices.append(f"Cloud unreachable at lot start ({exc}); groups {', '.join(groups)} will "
                                         "be created with the first unit's cloud work.")
        return groups

    def _firmware_plan(self, cloud: ParticleCloud) -> FirmwarePlan | None:
        """Compare the version this lot flashes with what the product delivers over the air; refuse if told to."""
        flashed = self.module.product_version
        if flashed is None:
            return None
        try:
            delivered = delivered_version(cloud, self.profile.product_id, self.groups or None)
        except (*RETRY_LATER, StationError) as exc:
            if not _cloud_unreachable(exc):
                raise LineError(f"cannot read the product's released firmware before the lot starts: {exc}") from None
            if self.profile.firmware.version_policy is FirmwareVersionPolicy.REFUSE:
                raise LineError(f"cannot check the product's released firmware (cloud unreachable: {exc}); the "
                                "profile refuses to start a lot unchecked") from None
            self._startup_notices.append(
                f"Could not check which firmware the product releases (cloud unreachable: {exc}); units flash "
                f"v{flashed} and may be updated over the air on first connection.")
            return None
        plan = firmware_plan(flashed, delivered, self.profile.firmware.version_policy,
                             development=bool(self.profile.steps.development))
        if not plan.start:
            raise LineError(plan.message)
        return plan

    @property
    def startup_notices(self) -> tuple[str, ...]:
        """What the operator should read before the first unit (firmware delivered over the air, cloud outage)."""
        return tuple(self._startup_notices)

    def _todays_lot(self, today: datetime.date) -> str:
        date = today.strftime("%Y%m%d")
        existing = {lot.name for lot in self.journal.lots()}
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
        if self._closed:
            raise LineError("the line is closed")
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
        units = self.journal.units(self.lot)
        by_state = {state: sum(1 for u in units if u.state is state) for state in UnitState}
        return LotCounts(
            total=len(units), passed=by_state[UnitState.PASS], failed=by_state[UnitState.FAIL],
            cloud_pending=by_state[UnitState.CLOUD_PENDING], in_progress=by_state[UnitState.IN_PROGRESS],
        )

    def retry_cloud_work(self) -> int:
        count = self.journal.retry_failed_operations()
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
        if self._closed:
            return
        self._closed = True
        if cancel_running:
            for slot in self.busy_slots():
                self.cancel(slot)
        self._slots.shutdown(wait=True)
        self._cloud_pool.shutdown(wait=True)
        self.outbox.stop()
        self.workbook.close(timeout=60)

    def __enter__(self) -> Line:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
