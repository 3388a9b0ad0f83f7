"""Identify a device in normal mode over USB control requests: serial number, Device OS, modules, ICCID/IMEI.

One home for "who is this device and which application does it run", shared by the station's USB link and the
``particle-station identify`` command. Facts: reference/particle-device-protocol.md §2.1/§2.2 (requests 21, 30, 90,
554).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hardware.firmware import ModuleFunction
from hardware.identifiers import DeviceId, Iccid, Imei, SerialNumber
from hardware.platforms import Platform
from hardware.usb.discovery import UsbDevice
from hardware.usb.errors import NotSupportedError
from hardware.usb.flashing import open_control
from hardware.usb.module_info import ModuleInfo
from hardware.usb.timing import HostTiming


@dataclass(frozen=True)
class UsbIdentity:
    """What a device in normal mode reports about itself."""

    device_id: DeviceId
    platform: Platform
    serial: SerialNumber | None
    """None when the device was never given a serial number."""
    device_os: str
    """Device OS version as text, e.g. ``6.2.0``."""
    modules: tuple[ModuleInfo, ...]
    user_part: ModuleInfo | None
    """The user part the device runs (``running_user_part``); None when it reports none."""
    iccid: Iccid | None = None
    imei: Imei | None = None

    @property
    def system_module_version(self) -> int | None:
        """The highest system part version (None on a device that reports no system part)."""
        return max((m.version for m in self.modules if m.function is ModuleFunction.SYSTEM_PART), default=None)


def running_user_part(modules: Sequence[ModuleInfo]) -> ModuleInfo | None:
    """The user part the device runs, from its module info: the first valid one, else the first one reported.

    Module info lists the user part that runs; on nRF52840 a valid app in the legacy 128 K slot would win, so a valid
    entry is preferred over an invalid one listed before it.
    """
    users = [m for m in modules if m.function is ModuleFunction.USER_PART]
    return next((m for m in users if m.valid), users[0] if users else None)


def identify_device(device: UsbDevice, timing: HostTiming | None = None) -> UsbIdentity:
    """Ask ``device`` (open, in normal mode) who it is. ICCID and IMEI are read from cellular devices that support
    the request; reading them may power the modem and take a few seconds."""
    control = open_control(device, timing or HostTiming())
    serial = control.serial_number()
    version = control.system_version()
    modules = tuple(control.module_info())
    iccid = imei = None
    if device.platform.is_cellular:
        try:
            ids = control.cellular_ids()
            iccid, imei = ids.iccid, ids.imei
        except NotSupportedError:
            pass
    return UsbIdentity(
        device_id=device.device_id,
        platform=device.platform,
        serial=serial,
        device_os=version,
        modules=modules,
        user_part=running_user_part(modules),
        iccid=iccid,
        imei=imei,
    )
