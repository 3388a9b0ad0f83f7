"""The workflow's DeviceLink over USB: discovery, control requests and DfuSe flashing from hardware.usb.

The pyusb backend is a constructor argument: libusb for real devices, ``hardware.simulated.usb_backend`` for
simulated ones; everything above the backend is the same code.
"""

from __future__ import annotations

from hardware.firmware import FirmwareModule, ModuleFunction
from hardware.identifiers import DeviceId, SerialNumber
from hardware.progress import CancelToken, ProgressCallback
from hardware.usb.dfu import DfuSession
from hardware.usb.discovery import DeviceMode, UsbBackend, UsbDevice, list_devices, open_device
from hardware.usb.errors import NotSupportedError
from hardware.usb.flashing import flash_user_firmware, open_control, reopen
from hardware.usb.timing import HostTiming
from station.workflow.device import ConnectedDevice, DeviceFacts, FlashReport, UserPart


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
            port = f"{info.bus}-{info.address}" if info.bus is not None else None
            found.append(ConnectedDevice(info.device_id, info.platform, info.mode is DeviceMode.DFU, port))
        return found

    def serial_number(self, device_id: DeviceId) -> SerialNumber | None:
        with open_device(device_id, backend=self.backend, mode=DeviceMode.NORMAL) as device:
            return open_control(device, self.timing).serial_number()

    def identify(self, device_id: DeviceId) -> DeviceFacts:
        with self._open_normal(device_id) as device:
            control = open_control(device, self.timing)
            serial = control.serial_number()
            version = control.system_version()
            modules = control.module_info()
            system = [m for m in modules if m.function is ModuleFunction.SYSTEM_PART]
            users = [m for m in modules if m.function is ModuleFunction.USER_PART]
            # Module info lists the user part that runs; on nRF52840 a valid legacy slot app would win.
            user = next((m for m in users if m.valid), users[0] if users else None)
            iccid = imei = None
            if device.platform.is_cellular:
                try:
                    ids = control.cellular_ids()
                    iccid, imei = ids.iccid, ids.imei
                except NotSupportedError:
                    pass
            return DeviceFacts(
                device_id=device.device_id,
                platform=device.platform,
                serial=serial,
                device_os=version,
                system_module_version=max((m.version for m in system), default=None),
                user_part=UserPart(
                    version=user.version,
                    sha256=user.hash.hex() if user.hash is not None else None,
                    size=user.size or None,
                    valid=user.valid,
                )
                if user is not None
                else None,
                iccid=iccid,
                imei=imei,
            )

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

    def set_claim_code(self, device_id: DeviceId, claim_code: str) -> None:
        with self._open_normal(device_id) as device:
            open_control(device, self.timing).set_claim_code(claim_code)
