"""The workflow's DeviceLink over USB: discovery, control requests and DfuSe flashing from hardware.usb.

The pyusb backend is a constructor argument: libusb for real devices, ``hardware.simulated.usb_backend`` for
simulated ones; everything above the backend is the same code.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from hardware.firmware import FirmwareModule
from hardware.identifiers import DeviceId, SerialNumber
from hardware.progress import CancelToken, ProgressCallback
from hardware.usb.app_request import app_request_error, send_app_request
from hardware.usb.dfu import DfuSession
from hardware.usb.discovery import DeviceMode, UsbBackend, UsbDevice, list_devices, open_device
from hardware.usb.errors import NotSupportedError, UsbRequestError
from hardware.usb.flashing import flash_user_firmware, open_control, reopen
from hardware.usb.identify import identify_device
from hardware.usb.os_update import update_device_os
from hardware.usb.protection import ControlProtection, ProtectionChannel, install_protected_bootloader
from hardware.usb.protocol import RequestType, ResultCode
from hardware.usb.timing import HostTiming
from station.config.wifi import WifiSettings
from station.workflow.device import (
    SETUP_DONE_SET,
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

_SETTINGS_REFUSED = (ResultCode.NOT_SUPPORTED, ResultCode.INVALID_ARGUMENT)
"""Results with which a device refuses Wi-Fi settings it cannot use (rather than failing to store them)."""


class UsbLink:
    def __init__(self, backend: UsbBackend | None = None, *, timing: HostTiming | None = None) -> None:
        self.backend = backend
        self.timing = timing or HostTiming()

    def _open_normal(self, device_id: DeviceId) -> UsbDevice:
        device = open_device(device_id, backend=self.backend)
        if device.mode is DeviceMode.DFU:
            # A unit left in DFU mode (e.g. a flash interrupted by a crash): leave DFU and let it boot.
            DfuSession(device, timing=self.timing).leave()
            device = reopen(device, DeviceMode.NORMAL, self.timing)
        return device

    def connected(self) -> list[ConnectedDevice]:
        found = []
        for info in list_devices(backend=self.backend):
            if info.device_id is None:
                continue
            found.append(ConnectedDevice(info.device_id, info.platform, info.mode is DeviceMode.DFU, info.port))
        return found

    def serial_number(self, device_id: DeviceId) -> SerialNumber | None:
        with open_device(device_id, backend=self.backend, mode=DeviceMode.NORMAL) as device:
            return open_control(device, self.timing).serial_number()

    def identify(self, device_id: DeviceId) -> DeviceFacts:
        with self._open_normal(device_id) as device:
            found = identify_device(device, self.timing)
            user = found.user_part
            return DeviceFacts(
                device_id=found.device_id,
                platform=found.platform,
                serial=found.serial,
                device_os=found.device_os,
                system_module_version=found.system_module_version,
                user_part=UserPart(
                    version=user.version,
                    sha256=user.hash.hex() if user.hash is not None else None,
                    size=user.size or None,
                    valid=user.valid,
                )
                if user is not None
                else None,
                iccid=found.iccid,
                imei=found.imei,
                protection=found.protection.value if found.protection is not None else None,
            )

    @contextmanager
    def protection_channel(self, device_id: DeviceId) -> Iterator[ProtectionChannel]:
        """Requests 76/77 of the device in normal mode, open for the block (the Service Mode handshake, RESET)."""
        with self._open_normal(device_id) as device:
            yield ControlProtection(open_control(device, self.timing))

    def install_protected_bootloader(
        self, device_id: DeviceId, module: FirmwareModule, progress: ProgressCallback, cancel: CancelToken
    ) -> str:
        """Flash a bootloader with the SECURITY_MODE extension; the device leaves it a Protected Device."""
        device = self._open_normal(device_id)
        try:
            device = install_protected_bootloader(
                device, module.data, timing=self.timing, progress=progress, cancel=cancel
            )
        finally:
            device.close()
        return f"installed {module.describe()} with Device Protection (SECURITY_MODE extension)"

    def flash_user_part(
        self, device_id: DeviceId, module: FirmwareModule, progress: ProgressCallback, cancel: CancelToken
    ) -> FlashReport:
        device = open_device(device_id, backend=self.backend)
        result = flash_user_firmware(device, module, progress=progress, cancel=cancel, timing=self.timing)
        result.device.close()
        return FlashReport(
            bytes_written=result.bytes_written,
            address=result.address,
            seconds=result.total_seconds,
            verified=True,
        )

    def update_device_os(
        self, device_id: DeviceId, modules: list[FirmwareModule], progress: ProgressCallback, cancel: CancelToken
    ) -> list[str]:
        device = open_device(device_id, backend=self.backend)
        result = update_device_os(device, modules, progress=progress, cancel=cancel, timing=self.timing)
        result.device.close()
        return list(result.flashed)

    def set_claim_code(self, device_id: DeviceId, claim_code: str) -> None:
        with self._open_normal(device_id) as device:
            open_control(device, self.timing).set_claim_code(claim_code)

    def set_wifi_credentials(self, device_id: DeviceId, settings: WifiSettings, *, join: bool = False) -> str:
        """Gen 3 and later: request 507 (store), or 500 (store and join) with ``join``. Gen 2: legacy request 113
        with the settings' cipher; it only stores, and the device joins when it next leaves listening mode."""
        with self._open_normal(device_id) as device:
            control = open_control(device, self.timing)
            creds = settings.control_credentials()
            gen3 = device.platform.generation >= 3
            request = (
                RequestType.WIFI_JOIN_NEW_NETWORK if gen3 and join
                else RequestType.WIFI_SET_NETWORK_CREDENTIALS if gen3
                else RequestType.WIFI_LEGACY_SET_CREDENTIALS
            )
            try:
                if request is RequestType.WIFI_JOIN_NEW_NETWORK:
                    control.join_new_network(creds)
                elif gen3:
                    control.set_wifi_credentials(creds)
                else:
                    control.set_wifi_credentials(creds, cipher=settings.cipher.legacy_value)
            except UsbRequestError as exc:
                if not isinstance(exc, NotSupportedError) and exc.result not in _SETTINGS_REFUSED:
                    raise
                raise WifiRefusedError(
                    f"{device.platform.display_name} {device_id} refused Wi-Fi network {settings.ssid!r} with security "
                    f"{settings.security.value} ({exc.result_name} to request {int(request)}); set a security type "
                    "this device supports (e.g. wpa2) in the profile's [wifi] section"
                ) from None
        action = "joined" if request is RequestType.WIFI_JOIN_NEW_NETWORK else "stored"
        note = f"{action} Wi-Fi network {settings.ssid!r} ({settings.security.value}) with request {int(request)}"
        log.info("%s: %s", device_id, note)
        return note

    def app_request(self, device_id: DeviceId, payload: bytes, *, timeout: float) -> bytes:
        with open_device(device_id, backend=self.backend, mode=DeviceMode.NORMAL) as device:
            control = open_control(device, self.timing)
            reply = send_app_request(control.channel, payload, timeout=timeout,
                                     check_delays=self.timing.app_check_delays)
            if not reply.ok:
                raise app_request_error(control.who, reply.result)
            return reply.data

    def console_line(self, device_id: DeviceId, line: str, *, timeout: float) -> bytes:
        raise LinkNotSupportedError(
            f"{device_id}: this line drives its units over USB; a test sent on the serial console (`console = ...`) "
            "needs the serial link ([slots] link = \"serial\"); use `request = { op = ... }` (request 10) instead"
        )

    def signal(self, device_id: DeviceId, on: bool) -> None:
        with open_device(device_id, backend=self.backend, mode=DeviceMode.NORMAL) as device:
            open_control(device, self.timing).signal(on)

    def setup_done(self, device_id: DeviceId) -> str:
        with self._open_normal(device_id) as device:
            control = open_control(device, self.timing)
            platform = device.platform
            version = control.device_os()
            skipped = setup_done_skipped(platform, version)
            if skipped is not None:
                return skipped
            control.set_setup_done(True)
            if not control.is_setup_done():
                raise SetupDoneError(
                    f"{platform.display_name} {device_id} (Device OS {version}) still reports setup not done after "
                    "the flag was set; reset the device and scan it again, and set it aside if it happens again"
                )
        log.info("%s: setup-done flag set and read back (Device OS %s)", device_id, version)
        return f"{SETUP_DONE_SET}: setup-done flag set and read back (Device OS {version})"
