"""The station's view of a device on the line: what it reports about itself and what the line asks of it.

A DeviceLink is implemented over USB (hardware.usb) or serial (hardware.serial); the workflow never knows which.
Simulated devices come in below the link, at the pyusb backend or the pty, so the workflow runs the real code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hardware.errors import HardwareError
from hardware.firmware import FirmwareModule
from hardware.firmware.versions import DeviceOsVersion, always_reports_setup_done
from hardware.identifiers import DeviceId, Iccid, Imei, SerialNumber
from hardware.platforms import Platform
from hardware.progress import CancelToken, ProgressCallback
from station.config.wifi import WifiSettings

SETUP_DONE_SET = "set"
"""``DeviceLink.setup_done`` outcomes start with this word when the flag was written and read back …"""
SETUP_DONE_SKIPPED = "skipped"
"""… or with this one when the device has no flag to set (Gen 2) or always reports it (Device OS 4.0 and later)."""


def setup_done_skipped(platform: Platform | None, device_os: DeviceOsVersion) -> str | None:
    """The ``skipped: …`` outcome of ``DeviceLink.setup_done`` when the device has no flag to set, else None."""
    if platform is not None and platform.generation < 3:
        return (f"{SETUP_DONE_SKIPPED}: {platform.display_name} is a Gen {platform.generation} device, which has no "
                "setup-done flag")
    if always_reports_setup_done(device_os):
        return f"{SETUP_DONE_SKIPPED}: Device OS {device_os} >= 4.0 always reports setup done"
    return None


class WifiRefusedError(HardwareError):
    """The device cannot use the Wi-Fi settings (e.g. a security type it does not support); fix the profile."""


class LinkNotSupportedError(HardwareError):
    """The link cannot carry this operation (e.g. application requests over the serial console); use a USB link."""


class SetupDoneError(HardwareError):
    """The device did not keep the setup-done flag: it read back false after it was set."""


@dataclass(frozen=True)
class ConnectedDevice:
    device_id: DeviceId
    platform: Platform
    dfu_mode: bool
    port: str | None = None
    """Where it is plugged in (USB bus path or serial port), used to map devices to slots."""


@dataclass(frozen=True)
class UserPart:
    version: int
    sha256: str | None
    size: int | None
    valid: bool = True


@dataclass(frozen=True)
class DeviceFacts:
    device_id: DeviceId
    platform: Platform
    serial: SerialNumber | None
    device_os: str | None
    """Device OS version as text, e.g. ``6.2.0``."""
    system_module_version: int | None
    user_part: UserPart | None
    iccid: Iccid | None = None
    imei: Imei | None = None
    protection: str | None = None
    """Device Protection state as read at identify: 'open', 'protected', 'service' (hardware.usb.protection's
    ProtectionState values); None where the link cannot tell (serial console, Gen 2)."""

    @property
    def protected_device(self) -> bool:
        """A Protected Device, protection active or in Service Mode."""
        return self.protection in ("protected", "service")


@dataclass(frozen=True)
class FlashReport:
    bytes_written: int
    address: int
    seconds: float
    verified: bool


class DeviceLink(Protocol):
    """What the workflow needs from a device transport."""

    def connected(self) -> list[ConnectedDevice]:
        """Every Particle device the link can reach now, in either mode."""
        ...

    def serial_number(self, device_id: DeviceId) -> SerialNumber | None:
        """The serial number stored in the device (None when it has none); cheap, used to match labels."""
        ...

    def identify(self, device_id: DeviceId) -> DeviceFacts:
        ...

    def flash_user_part(
        self, device_id: DeviceId, module: FirmwareModule, progress: ProgressCallback, cancel: CancelToken
    ) -> FlashReport:
        """Flash, verify by read-back, return to normal mode and confirm the device runs the new user part."""
        ...

    def set_claim_code(self, device_id: DeviceId, claim_code: str) -> None:
        ...

    def update_device_os(
        self, device_id: DeviceId, modules: list[FirmwareModule], progress: ProgressCallback, cancel: CancelToken
    ) -> list[str]:
        """Install a Device OS bundle (each module by its route), skipping modules already current; what was flashed."""
        ...

    def set_wifi_credentials(self, device_id: DeviceId, settings: WifiSettings, *, join: bool = False) -> str:
        """Store the network on the device (``join``: also join it now, where the transport can); returns a note
        for the journal, without the password. WifiRefusedError when the device cannot use these settings."""
        ...

    def app_request(self, device_id: DeviceId, payload: bytes, *, timeout: float) -> bytes:
        """Send ``payload`` to the application on the device (control request 10, e.g. a test firmware's JSON op)
        and return its reply. Raises AppRequestFailed (a HardwareError naming the result) on a non-zero result,
        AppRequestTimeout when it does not answer within ``timeout``, AppRequestLost when it resets or vanishes;
        a link that cannot carry it raises LinkNotSupportedError."""
        ...

    def console_line(self, device_id: DeviceId, line: str, *, timeout: float) -> bytes:
        """Send one line to the application's serial console (a test firmware's JSON op) and return its one-line
        JSON answer. Raises SerialTimeoutError when none comes within ``timeout``, SerialDisconnectedError or
        SerialPortError when the unit resets or vanishes; a link that cannot carry it raises
        LinkNotSupportedError."""
        ...

    def signal(self, device_id: DeviceId, on: bool) -> None:
        """Start (``on``) or stop the device's rainbow LED signal (requests 230/231), so the operator can tell
        which unit on a fixture is which."""
        ...

    def setup_done(self, device_id: DeviceId) -> str:
        """Set the Gen 3 setup-done flag and read it back (Device OS below 4.0). Returns ``set: …`` or
        ``skipped: <reason>``; SetupDoneError when the flag does not read back true."""
        ...
