"""The workflow's DeviceLink over the USB serial (CDC) listening console, for devices whose USB control is not usable.

Everything goes through hardware.serial: identify with ``i``/``v``/``s``, Wi-Fi with ``w``, claim codes with ``C``,
and YMODEM flashing (Device OS below 6.0.0 only). The port lister is a constructor argument: the operating system's
for real devices, simulated ptys in tests. Listening mode is entered with the 28800-baud trigger (Device OS below
6.0.0) or ``start_listening`` when given; a device this link put in listening mode is sent back out afterwards.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator

from hardware.errors import HardwareError
from hardware.firmware import FirmwareModule
from hardware.firmware.versions import DeviceOsVersion
from hardware.identifiers import DeviceId, SerialNumber
from hardware.progress import CancelToken, ProgressCallback
from hardware.serial.app_console import exchange_console_line
from hardware.serial.console import DEFAULT_CONSOLE_TIMEOUTS, ConsoleTimeouts, ListeningConsole, ListeningEntry
from hardware.serial.errors import SerialPortError, WifiSetupError
from hardware.serial.operations import flash_over_serial
from hardware.serial.ports import PortLister, find_port, list_particle_ports, open_port
from hardware.serial.protocol import ModuleFunctionLetter
from hardware.serial.replies import SerialIdentity, SystemInfo
from hardware.serial.wifi import DEFAULT_WIFI_TIMEOUTS, WifiTimeouts
from station.config.wifi import WifiSettings
from station.workflow.device import (
    ConnectedDevice,
    DeviceFacts,
    FlashReport,
    LinkNotSupportedError,
    SetupDoneError,
    UserPart,
    WifiRefusedError,
    setup_done_skipped,
)

log = logging.getLogger(__name__)

REAPPEAR_TIMEOUT_S = 30.0
"""How long a device may take to come back as a serial port after the reset that ends a flash."""


def _system_ports() -> PortLister:
    from serial.tools import list_ports

    return list_ports.comports


class SerialLink:
    def __init__(
        self,
        comports: PortLister | None = None,
        *,
        timeouts: ConsoleTimeouts = DEFAULT_CONSOLE_TIMEOUTS,
        wifi_timeouts: WifiTimeouts = DEFAULT_WIFI_TIMEOUTS,
        reappear_timeout: float = REAPPEAR_TIMEOUT_S,
        poll: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.comports = comports or _system_ports()
        self.timeouts = timeouts
        self.wifi_timeouts = wifi_timeouts
        self.reappear_timeout = reappear_timeout
        self.poll = poll
        self.clock = clock

    @contextlib.contextmanager
    def _console(self, device_id: DeviceId) -> Iterator[tuple[ListeningConsole, ListeningEntry]]:
        """The device's console in listening mode; a device this link put there is sent back out at the end."""
        path = find_port(device_id, self.comports).path
        port = open_port(path)
        try:
            console = ListeningConsole(port, timeouts=self.timeouts)
            entry = console.enter_listening_mode()
            try:
                yield console, entry
            finally:
                if entry is not ListeningEntry.ALREADY and console.is_listening():
                    console.exit_listening_mode()
        finally:
            with contextlib.suppress(OSError):
                port.close()

    def connected(self) -> list[ConnectedDevice]:
        return [
            ConnectedDevice(port.device_id, port.platform, False, port.path)
            for port in list_particle_ports(self.comports)
            if port.device_id is not None
        ]

    def serial_number(self, device_id: DeviceId) -> SerialNumber | None:
        with self._console(device_id) as (console, _):
            return console.identify().serial

    def identify(self, device_id: DeviceId) -> DeviceFacts:
        with self._console(device_id) as (console, _):
            identity = console.identify()
            version = console.version()
            system = console.system_info()
        return _facts(device_id, identity, version, system)

    def flash_user_part(
        self, device_id: DeviceId, module: FirmwareModule, progress: ProgressCallback, cancel: CancelToken
    ) -> FlashReport:
        """YMODEM the user part (Device OS below 6.0.0), wait for the device to come back, and confirm it runs it."""
        started = self.clock()
        path = find_port(device_id, self.comports).path
        flash_over_serial(path, module.data, progress, cancel, timeouts=self.timeouts)
        facts = self._identify_when_back(device_id)
        part = facts.user_part
        verified = part is not None and part.valid and (
            part.sha256 == module.sha256 if part.sha256 is not None else part.version == module.version
        )
        if not verified:
            raise HardwareError(
                f"{device_id} does not run the user part just flashed over serial ({module.source or 'module'}, "
                f"version {module.version}); flash it again, and set the unit aside if it fails twice"
            )
        return FlashReport(bytes_written=len(module.data), address=module.start_address,
                           seconds=self.clock() - started, verified=True)

    def _identify_when_back(self, device_id: DeviceId) -> DeviceFacts:
        deadline = self.clock() + self.reappear_timeout
        while True:
            try:
                return self.identify(device_id)
            except SerialPortError:
                if self.clock() >= deadline:
                    raise SerialPortError(
                        f"{device_id} did not come back as a serial port within {self.reappear_timeout:g} s of "
                        "being flashed; check the cable, then scan the unit again"
                    ) from None
            time.sleep(self.poll)  # polling the OS port list, bounded by the deadline above

    def set_claim_code(self, device_id: DeviceId, claim_code: str) -> None:
        with self._console(device_id) as (console, _):
            console.set_claim_code(claim_code)

    def update_device_os(
        self, device_id: DeviceId, modules: list[FirmwareModule], progress: ProgressCallback, cancel: CancelToken
    ) -> list[str]:
        """Not over serial: a Device OS bundle goes in by DFU and control requests, which need USB."""
        raise HardwareError(
            f"{device_id}: the station updates Device OS only over USB (DFU and control requests); connect the unit "
            "where USB works, or turn steps.device_os_update off for this station"
        )

    def set_wifi_credentials(self, device_id: DeviceId, settings: WifiSettings, *, join: bool = False) -> str:
        """The console's ``w`` dialogue; the device stores the network and leaves listening mode to join it, so
        ``join`` makes no difference here."""
        with self._console(device_id) as (console, _):
            try:
                console.configure_wifi(settings.console_credentials(), self.wifi_timeouts)
            except WifiSetupError as exc:
                raise WifiRefusedError(
                    f"{device_id} did not accept Wi-Fi network {settings.ssid!r} ({settings.security.value}) over "
                    f"the serial console: {exc}. Check the security type in the profile's [wifi] section"
                ) from None
        note = f"stored Wi-Fi network {settings.ssid!r} ({settings.security.value}) over the serial console"
        log.info("%s: %s", device_id, note)
        return note

    def app_request(self, device_id: DeviceId, payload: bytes, *, timeout: float) -> bytes:
        raise LinkNotSupportedError(
            f"{device_id}: application requests (control request 10, the test firmware's ops) are not supported over "
            "serial; connect the fixture's units over USB (UsbLink) or send tests as serial-console lines "
            "(`console = ...` in the test)"
        )

    def console_line(self, device_id: DeviceId, line: str, *, timeout: float) -> bytes:
        """The test firmware's answer on its console (it runs, so no listening mode here)."""
        port = open_port(find_port(device_id, self.comports).path)
        try:
            return exchange_console_line(port, line, timeout=timeout, clock=self.clock).encode("utf-8")
        finally:
            with contextlib.suppress(OSError):
                port.close()

    def signal(self, device_id: DeviceId, on: bool) -> None:
        raise LinkNotSupportedError(
            f"{device_id}: the LED signal (requests 230/231) is not supported over serial; connect the unit over USB"
        )

    def setup_done(self, device_id: DeviceId) -> str:
        """The console cannot set the flag; that is only a problem on Gen 3 below Device OS 4.0, where it fails."""
        with self._console(device_id) as (console, _):
            version = console.version()
            platform = console.system_info().platform
        skipped = setup_done_skipped(platform, version)
        if skipped is not None:
            return skipped
        raise SetupDoneError(
            f"{device_id} runs Device OS {version}, which needs the setup-done flag, and the serial console cannot "
            "set it; connect the unit where USB control requests work (UsbLink) or update its Device OS to 4.0+"
        )


def _facts(device_id: DeviceId, identity: SerialIdentity, version: DeviceOsVersion, system: SystemInfo) -> DeviceFacts:
    platform = system.platform
    if platform is None:
        raise HardwareError(f"{device_id} reports platform id {system.platform_id}, which the station does not know; "
                            "set the unit aside for engineering")
    if identity.device_id != device_id:
        raise HardwareError(f"the serial port of {device_id} answered as device {identity.device_id}; check which "
                            "unit is on which cable and scan again")
    systems = [m for m in system.modules if m.function is ModuleFunctionLetter.SYSTEM_PART]
    user = system.running_user_part()
    return DeviceFacts(
        device_id=device_id,
        platform=platform,
        serial=identity.serial,
        device_os=str(version),
        system_module_version=max((m.version for m in systems), default=None),
        user_part=UserPart(version=user.version, sha256=user.sha256.lower() if user.sha256 else None,
                           size=None, valid=user.valid) if user is not None else None,
        iccid=identity.iccid,
        imei=identity.imei,
    )
