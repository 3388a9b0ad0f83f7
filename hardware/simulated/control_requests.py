"""Device OS's system control-request handlers as a simulated device runs them: request type + payload → result,
reply and after-reply action (reference §2.1–§2.3). Transport-independent; the USB control channel calls it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from hardware.firmware.format import ModuleFunction, ModuleValidity
from hardware.platforms import McuFamily
from hardware.simulated import wifi_requests, wire
from hardware.simulated.control_reply import NOT_SUPPORTED, OK, Handler, Reply
from hardware.simulated.device import MAX_CLAIM_CODE, DeviceMode, SimulatedDevice
from hardware.simulated.errors import SimulationError
from hardware.simulated.module_image import ModuleImage
from hardware.simulated.module_table import ModuleRecord
from hardware.simulated.protocol import FIRMWARE_UPDATE_CHUNK_SIZE, LegacyModuleType
from hardware.simulated.versions import version_tuple
from hardware.usb.protocol import SERIAL_NUMBER_NOT_PROVISIONED, DeviceModeValue, RequestType, ResultCode

MODULES_FIELD_FROM = (5, 6, 0)
"""Module info moves from the deprecated field 1 to field 2 (particle.cloud.FirmwareModule) in 5.6.0."""
SETUP_DONE_FIXED_FROM = (4, 0, 0)
PROTECTION_FROM = (6, 0, 0)
UPDATE_FORMAT_BIN = 0
_PROTECTION_RESET, _PROTECTION_PREPARE = 0, 1
_LEGACY_TYPES: dict[int, LegacyModuleType] = {
    ModuleFunction.BOOTLOADER: LegacyModuleType.BOOTLOADER,
    ModuleFunction.SYSTEM_PART: LegacyModuleType.SYSTEM_PART,
    ModuleFunction.USER_PART: LegacyModuleType.USER_PART,
    ModuleFunction.MONOLITHIC: LegacyModuleType.MONO_FIRMWARE,
    ModuleFunction.NCP: LegacyModuleType.NCP_FIRMWARE,
    ModuleFunction.RADIO_STACK: LegacyModuleType.RADIO_STACK,
}
_LEGACY_INTEGRITY_FAILED, _LEGACY_DEPENDENCY_FAILED = 1, 2


def imei_reported(device_os: tuple[int, int, int]) -> bool:
    """Request 554 fills ``imei`` in 5.8.x/5.9.x and from 6.1.0 on; it is empty in <= 5.7 and 6.0.0 (§2.1)."""
    return (5, 8, 0) <= device_os < (6, 0, 0) or device_os >= (6, 1, 0)


def firmware_module_message(module: ModuleRecord) -> bytes:
    """``particle.cloud.FirmwareModule`` (hash always present: particle-usb reads it unconditionally)."""
    deps = (
        wire.varint_field(1, d.function) + wire.varint_field(2, d.index) + wire.varint_field(3, d.version)
        for d in module.dependencies
    )
    return (
        wire.varint_field(1, module.function)
        + wire.varint_field(2, module.index)
        + wire.varint_field(3, module.version)
        + wire.varint_field(4, module.store)
        + wire.varint_field(5, module.max_size)
        + wire.fixed32_field(6, module.checked)
        + wire.fixed32_field(7, module.passed)
        + wire.bytes_field(8, module.sha256, always=True)
        + wire.repeated_messages(9, deps)
        + wire.varint_field(11, module.size)
    )


def legacy_module_message(module: ModuleRecord) -> bytes:
    """Deprecated ``particle.ctrl.Module`` (field 1 of the module-info reply below 5.6.0)."""
    validity = 0
    if ModuleValidity.INTEGRITY not in module.passed:
        validity |= _LEGACY_INTEGRITY_FAILED
    if ModuleValidity.DEPENDENCIES not in module.passed:
        validity |= _LEGACY_DEPENDENCY_FAILED
    deps = (
        wire.varint_field(1, _LEGACY_TYPES.get(d.function, LegacyModuleType.INVALID))
        + wire.varint_field(2, d.index)
        + wire.varint_field(3, d.version)
        for d in module.dependencies
    )
    return (
        wire.varint_field(1, _LEGACY_TYPES.get(module.function, LegacyModuleType.INVALID))
        + wire.varint_field(2, module.index)
        + wire.varint_field(3, module.version)
        + wire.varint_field(4, module.size)
        + wire.varint_field(5, validity)
        + wire.repeated_messages(6, deps)
    )


def module_info_reply(modules: Iterable[ModuleRecord], device_os: tuple[int, int, int]) -> bytes:
    if device_os >= MODULES_FIELD_FROM:
        return wire.repeated_messages(2, (firmware_module_message(m) for m in modules))
    return wire.repeated_messages(1, (legacy_module_message(m) for m in modules))


@dataclass
class _Update:
    size: int
    data: bytearray = field(default_factory=bytearray)

    @property
    def remaining(self) -> int:
        return self.size - len(self.data)


class ControlRequestHandlers:
    """The request handlers of one boot of a device (a running firmware update does not survive a reset)."""

    def __init__(self, device: SimulatedDevice) -> None:
        self._device = device
        self._update: _Update | None = None
        t = RequestType
        self._table: dict[int, Handler] = {
            t.ECHO: lambda payload: Reply(data=payload),
            t.DEVICE_ID: lambda _: Reply(data=wire.string_field(1, device.device_id.value)),
            t.SERIAL_NUMBER: self._serial_number,
            t.SYSTEM_VERSION: lambda _: Reply(data=wire.string_field(1, device.device_os)),
            t.NCP_FIRMWARE_VERSION: self._ncp_version,
            t.RESET: lambda _: Reply(after_reply=device.reset),
            t.FACTORY_RESET: self._factory_reset,
            t.DFU_MODE: lambda _: Reply(after_reply=device.enter_dfu),
            t.SAFE_MODE: lambda _: Reply(after_reply=lambda: device.reset(safe=True)),
            t.START_LISTENING: self._start_listening,
            t.STOP_LISTENING: self._stop_listening,
            t.GET_DEVICE_MODE: self._device_mode,
            t.SET_DEVICE_SETUP_DONE: self._set_setup_done,
            t.IS_DEVICE_SETUP_DONE: self._is_setup_done,
            t.SET_STARTUP_MODE: self._set_startup_mode,
            t.GET_PROTECTED_STATE: self._protected_state,
            t.SET_PROTECTED_STATE: self._set_protected_state,
            t.GET_MODULE_INFO: lambda _: Reply(data=module_info_reply(device.modules, self._version)),
            t.SET_CLAIM_CODE: self._set_claim_code,
            t.IS_CLAIMED: lambda _: Reply(data=wire.bool_field(1, device.claimed)),
            t.START_FIRMWARE_UPDATE: self._start_update,
            t.FIRMWARE_UPDATE_DATA: self._update_data,
            t.FINISH_FIRMWARE_UPDATE: self._finish_update,
            t.CANCEL_FIRMWARE_UPDATE: self._cancel_update,
            t.CLOUD_GET_STATUS: lambda _: Reply(data=wire.varint_field(1, 2 if device.cloud_connected else 0)),
            t.CLOUD_CONNECT: self._cloud(True),
            t.CLOUD_DISCONNECT: self._cloud(False),
        }
        if device.platform.is_cellular:
            self._table[t.CELLULAR_GET_ICCID] = self._iccid
        if device.platform.is_wifi and device.platform.gen3_or_later:
            rtl = device.platform.mcu is McuFamily.RTL872X
            refused = wifi_requests.RTL872X_REFUSED_SECURITY if rtl else frozenset()
            self._table.update(wifi_requests.gen3_handlers(device.wifi, refused))
        elif device.platform.is_wifi:
            self._table.update(wifi_requests.legacy_handlers(device.wifi))

    @property
    def _version(self) -> tuple[int, int, int]:
        return version_tuple(self._device.device_os)

    def handle(self, request_type: int, payload: bytes) -> Reply:
        """Run one request; unknown types (and those of other platforms) answer NOT_SUPPORTED."""
        handler = self._table.get(request_type)
        if handler is None:
            return NOT_SUPPORTED
        try:
            return handler(payload)
        except wire.WireError:
            return Reply(ResultCode.BAD_DATA)

    # --- identity and modes --------------------------------------------------------------------------------------

    def _serial_number(self, payload: bytes) -> Reply:
        serial = self._device.serial
        if serial is None:
            return Reply(SERIAL_NUMBER_NOT_PROVISIONED)
        return Reply(data=wire.string_field(1, serial.value))

    def _ncp_version(self, payload: bytes) -> Reply:
        version = self._device.ncp_version
        if version is None:
            return NOT_SUPPORTED
        return Reply(data=wire.string_field(1, f"0.0.{version}") + wire.varint_field(2, version))

    def _factory_reset(self, payload: bytes) -> Reply:
        def wipe_and_reset() -> None:
            self._device.wifi.clear()
            self._device.set_claim_code("")
            self._device.reset()

        return Reply(after_reply=wipe_and_reset)

    def _start_listening(self, payload: bytes) -> Reply:
        self._device.start_listening()
        return OK

    def _stop_listening(self, payload: bytes) -> Reply:
        self._device.stop_listening()
        return OK

    def _device_mode(self, payload: bytes) -> Reply:
        listening = self._device.mode is DeviceMode.LISTENING
        mode = DeviceModeValue.LISTENING if listening else DeviceModeValue.NORMAL
        return Reply(data=wire.varint_field(1, mode))

    def _set_setup_done(self, payload: bytes) -> Reply:
        done = bool(wire.get_int(wire.decode(payload), 1))
        if self._version >= SETUP_DONE_FIXED_FROM:
            return OK if done else NOT_SUPPORTED
        self._device.setup_done = done
        return OK

    def _is_setup_done(self, payload: bytes) -> Reply:
        done = True if self._version >= SETUP_DONE_FIXED_FROM else self._device.setup_done
        return Reply(data=wire.bool_field(1, done))

    def _set_startup_mode(self, payload: bytes) -> Reply:
        mode = wire.get_int(wire.decode(payload), 1)
        self._device.startup_listening = mode == DeviceModeValue.LISTENING
        return OK

    def _protected_state(self, payload: bytes) -> Reply:
        # Device Protection is not simulated: devices from 6.0.0 answer "not protected, not overridden".
        return OK if self._version >= PROTECTION_FROM else NOT_SUPPORTED

    def _set_protected_state(self, payload: bytes) -> Reply:
        if self._version < PROTECTION_FROM:
            return NOT_SUPPORTED
        action = wire.get_int(wire.decode(payload), 1)
        return OK if action in (_PROTECTION_RESET, _PROTECTION_PREPARE) else Reply(ResultCode.INVALID_STATE)

    def _set_claim_code(self, payload: bytes) -> Reply:
        code = wire.get_str(wire.decode(payload), 1)
        if len(code) > MAX_CLAIM_CODE:
            return Reply(ResultCode.BAD_DATA)
        self._device.set_claim_code(code)
        return OK

    def _cloud(self, connect: bool) -> Handler:
        def handler(payload: bytes) -> Reply:
            self._device.cloud_connected = connect
            return OK

        return handler

    def _iccid(self, payload: bytes) -> Reply:
        iccid, imei = self._device.iccid, self._device.imei
        data = wire.string_field(1, iccid.value if iccid else "")
        if imei is not None and imei_reported(self._version):
            data += wire.string_field(2, imei.value)
        return Reply(data=data)

    # --- normal-mode firmware update (§2.3) ----------------------------------------------------------------------

    def _start_update(self, payload: bytes) -> Reply:
        fields = wire.decode(payload)
        self._update = None
        size, fmt = wire.get_int(fields, 1), wire.get_int(fields, 2)
        if fmt != UPDATE_FORMAT_BIN:
            return NOT_SUPPORTED
        capacity = self._device.memory(0).layout.end - self._device.memory(0).layout.start
        if size == 0:
            return Reply(ResultCode.INVALID_ARGUMENT)
        if size > capacity:
            return Reply(ResultCode.TOO_LARGE)
        self._update = _Update(size)
        return Reply(data=wire.varint_field(1, FIRMWARE_UPDATE_CHUNK_SIZE))

    def _update_data(self, payload: bytes) -> Reply:
        if self._update is None:
            return Reply(ResultCode.INVALID_STATE)
        data = wire.get_bytes(wire.decode(payload), 1)
        if not 1 <= len(data) <= self._update.remaining:
            self._update = None
            return Reply(ResultCode.OUT_OF_RANGE)
        self._update.data += data
        return OK

    def _finish_update(self, payload: bytes) -> Reply:
        validate_only = bool(wire.get_int(wire.decode(payload), 1))
        update, self._update = self._update, None
        if update is None or update.remaining:
            return Reply(ResultCode.INVALID_STATE)
        image = bytes(update.data)
        try:
            parsed = ModuleImage.parse(image)
        except SimulationError:
            return Reply(ResultCode.BAD_DATA)
        platform_ok = parsed.prefix.platform_id == self._device.platform.id
        if not parsed.crc_ok or not (platform_ok or parsed.prefix.function == ModuleFunction.ASSET):
            return Reply(ResultCode.BAD_DATA)
        if validate_only:
            return OK
        self._device.stage_update(image)
        return Reply(after_reply=self._device.reset)

    def _cancel_update(self, payload: bytes) -> Reply:
        self._update = None
        return OK
