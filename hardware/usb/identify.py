"""Identify a device in normal mode over USB control requests: serial number, Device OS, modules, ICCID/IMEI.

One home for "who is this device and which application does it run", shared by the station's USB link and the
``particle-station identify`` command. Facts: Device OS system/src/control/ and system_control_internal.cpp (requests
21, 30, 90, 554). A Protected Device refuses all of them but its id (device-os services/src/security_mode.cpp), so it
is identified through the raw requests 20 and 30, which bypass protection (usb_control_request_channel.cpp), as
particle-usb does on open.
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
from hardware.usb.protection import ControlProtection, ProtectionState, supports_protection
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
    protection: ProtectionState | None = None
    """None on a platform without Device Protection (Gen 2)."""

    @property
    def details_protected(self) -> bool:
        """True when the device is a Protected Device that hid serial number, modules and SIM ids."""
        return self.protection is ProtectionState.PROTECTED

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
    protection = ControlProtection(control).get_state() if supports_protection(device) else None
    if protection is ProtectionState.PROTECTED:
        return UsbIdentity(
            device_id=control.raw_device_id(),
            platform=device.platform,
            serial=None,
            device_os=control.raw_system_version(),
            modules=(),
            user_part=None,
            protection=protection,
        )
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
        protection=protection,
    )
