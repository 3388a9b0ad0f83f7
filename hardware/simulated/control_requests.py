"""Device OS's system control-request handlers as a simulated device runs them: request type + payload -> result,
reply and after-reply action (Device OS ``system/src/system_control_internal.cpp``, ``system/src/control/*.cpp``).
Transport-independent; the USB control channel calls it. Request types, result codes and message field numbers are
the simulator's own (``control_facts``, ``control_messages``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from hardware.simulated import control_messages as msg
from hardware.simulated import wifi_requests, wire
from hardware.simulated.control_facts import (
    FIRMWARE_UPDATE_CHUNK_SIZE,
    FIRMWARE_UPDATE_FORMAT_BIN,
    SERIAL_NUMBER_NOT_PROVISIONED,
    RequestType,
    ResultCode,
)
from hardware.simulated.control_reply import NOT_SUPPORTED, OK, Handler, Reply
from hardware.simulated.device import MAX_CLAIM_CODE, DeviceMode, SimulatedDevice
from hardware.simulated.errors import SimulationError
from hardware.simulated.module_format import ModuleFunction, ModuleValidity
from hardware.simulated.module_image import ModuleImage
from hardware.simulated.module_table import ModuleRecord
from hardware.simulated.platform_facts import Family
from hardware.simulated.protection_facts import (
    PROTECTED_MIN_SYSTEM_MODULE,
    SECURITY_MODE_PROTECTED,
    SET_PROTECTED_STATE_FROM,
)
from hardware.simulated.security_module import security_mode
from hardware.simulated.test_personality import TestPersonality
from hardware.simulated.versions import version_tuple

MODULES_FIELD_FROM = (5, 6, 0)
"""Module info moves from the deprecated field 1 to field 2 (particle.cloud.FirmwareModule) in 5.6.0 (Device OS
``system/src/control/storage.cpp``)."""
SETUP_DONE_FIXED_FROM = (4, 0, 0)
"""From 4.0.0 set-setup-done(true) is a no-op, (false) NOT_SUPPORTED, and is-setup-done always true."""
PROTECTION_FROM = (6, 0, 0)
"""Device Protection requests (76/77) exist from 6.0.0 (Device OS ``system/src/control/config.cpp``)."""
_LEGACY_TYPES: dict[int, int] = {
    ModuleFunction.BOOTLOADER: msg.LegacyModuleType.BOOTLOADER,
    ModuleFunction.SYSTEM_PART: msg.LegacyModuleType.SYSTEM_PART,
    ModuleFunction.USER_PART: msg.LegacyModuleType.USER_PART,
    ModuleFunction.MONOLITHIC: msg.LegacyModuleType.MONO_FIRMWARE,
    ModuleFunction.NCP: msg.LegacyModuleType.NCP_FIRMWARE,
    ModuleFunction.RADIO_STACK: msg.LegacyModuleType.RADIO_STACK,
}


def imei_reported(device_os: tuple[int, int, int]) -> bool:
    """Request 554 fills ``imei`` in 5.8.x/5.9.x and from 6.1.0 on; it is empty in <= 5.7 and 6.0.0 (Device OS
    ``system/src/control/cellular.cpp`` across those tags)."""
    return (5, 8, 0) <= device_os < (6, 0, 0) or device_os >= (6, 1, 0)


def firmware_module_message(module: ModuleRecord) -> bytes:
    """``particle.cloud.FirmwareModule`` (hash always present: particle-usb reads it unconditionally). Its type and
    store enums number modules as the prefix does, so function and store go out as they are."""
    f, d = msg.FirmwareModule, msg.FirmwareModuleDependency
    deps = (
        wire.varint_field(d.TYPE, dep.function)
        + wire.varint_field(d.INDEX, dep.index)
        + wire.varint_field(d.VERSION, dep.version)
        for dep in module.dependencies
    )
    return (
        wire.varint_field(f.TYPE, module.function)
        + wire.varint_field(f.INDEX, module.index)
        + wire.varint_field(f.VERSION, module.version)
        + wire.varint_field(f.STORE, module.store)
        + wire.varint_field(f.MAX_SIZE, module.max_size)
        + wire.fixed32_field(f.CHECKED_FLAGS, module.checked)
        + wire.fixed32_field(f.PASSED_FLAGS, module.passed)
        + wire.bytes_field(f.HASH, module.sha256, always=True)
        + wire.repeated_messages(f.DEPENDENCIES, deps)
        + wire.varint_field(f.SIZE, module.size)
    )


def legacy_module_message(module: ModuleRecord) -> bytes:
    """Deprecated ``particle.ctrl.Module`` (field 1 of the module-info reply below 5.6.0)."""
    m, d = msg.LegacyModule, msg.LegacyModuleDependency
    validity = 0
    if ModuleValidity.INTEGRITY not in module.passed:
        validity |= m.INTEGRITY_FAILED
    if ModuleValidity.DEPENDENCIES not in module.passed:
        validity |= m.DEPENDENCY_FAILED
    deps = (
        wire.varint_field(d.TYPE, _LEGACY_TYPES.get(dep.function, msg.LegacyModuleType.INVALID))
        + wire.varint_field(d.INDEX, dep.index)
        + wire.varint_field(d.VERSION, dep.version)
        for dep in module.dependencies
    )
    return (
        wire.varint_field(m.TYPE, _LEGACY_TYPES.get(module.function, msg.LegacyModuleType.INVALID))
        + wire.varint_field(m.INDEX, module.index)
        + wire.varint_field(m.VERSION, module.version)
        + wire.varint_field(m.SIZE, module.size)
        + wire.varint_field(m.VALIDITY, validity)
        + wire.repeated_messages(m.DEPENDENCIES, deps)
    )


def module_info_reply(modules: Iterable[ModuleRecord], device_os: tuple[int, int, int]) -> bytes:
    if device_os >= MODULES_FIELD_FROM:
        return wire.repeated_messages(msg.GetModuleInfoReply.MODULES, (firmware_module_message(m) for m in modules))
    legacy = (legacy_module_message(m) for m in modules)
    return wire.repeated_messages(msg.GetModuleInfoReply.MODULES_DEPRECATED, legacy)


@dataclass
class _Update:
    size: int
    data: bytearray = field(default_factory=bytearray)

    @property
    def remaining(self) -> int:
        return self.size - len(self.data)


def _keeps_protection(image: ModuleImage) -> bool:
    """A Protected Device (in Service Mode too) takes a bootloader only with the SECURITY_MODE extension, and no
    system part below 6.0.0 (module 6000) (hal/src/nRF52840/ota_flash_hal.cpp, validateModules)."""
    prefix = image.prefix
    if prefix.function == ModuleFunction.BOOTLOADER and prefix.index == 0:
        return security_mode(image.data) == SECURITY_MODE_PROTECTED
    return not (prefix.function == ModuleFunction.SYSTEM_PART and prefix.version < PROTECTED_MIN_SYSTEM_MODULE)


class ControlRequestHandlers:
    """The request handlers of one boot of a device (a running firmware update does not survive a reset)."""

    def __init__(self, device: SimulatedDevice) -> None:
        self._device = device
        self._update: _Update | None = None
        t = RequestType
        self._table: dict[int, Handler] = {
            t.ECHO: lambda payload: Reply(data=payload),
            t.DEVICE_ID: lambda _: Reply(data=wire.string_field(msg.GetDeviceIdReply.ID, device.device_id.value)),
            t.SERIAL_NUMBER: self._serial_number,
            t.SYSTEM_VERSION: self._system_version,
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
            t.IS_CLAIMED: lambda _: Reply(data=wire.bool_field(msg.IsClaimedReply.CLAIMED, device.claimed)),
            t.START_FIRMWARE_UPDATE: self._start_update,
            t.FIRMWARE_UPDATE_DATA: self._update_data,
            t.FINISH_FIRMWARE_UPDATE: self._finish_update,
            t.CANCEL_FIRMWARE_UPDATE: self._cancel_update,
            t.CLOUD_GET_STATUS: self._cloud_status,
            t.CLOUD_CONNECT: self._cloud(True),
            t.CLOUD_DISCONNECT: self._cloud(False),
            t.APP_CUSTOM: self._app_custom,
            t.START_NYAN_SIGNAL: self._signal(True),
            t.STOP_NYAN_SIGNAL: self._signal(False),
        }
        self._test = TestPersonality(device)
        board = device.board
        if board.cellular:
            self._table[t.CELLULAR_GET_ICCID] = self._iccid
        if board.wifi and board.gen3_or_later:
            rtl = board.family is Family.RTL872X
            refused = wifi_requests.RTL872X_REFUSED_SECURITY if rtl else frozenset()
            self._table.update(wifi_requests.gen3_handlers(device.wifi, refused))
        elif board.wifi:
            self._table.update(wifi_requests.legacy_handlers(device.wifi))

    @property
    def _version(self) -> tuple[int, int, int]:
        return version_tuple(self._device.device_os)

    def handle(self, request_type: int, payload: bytes) -> Reply:
        """Run one request; unknown types (and those of other platforms) answer NOT_SUPPORTED."""
        if not self._device.security.allows_request(request_type):
            # A Protected Device refuses all but a few requests before any handler runs
            # (services/src/security_mode.cpp, security_mode_check_control_request).
            return Reply(ResultCode.DEVICE_PROTECTED)
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
        return Reply(data=wire.string_field(msg.GetSerialNumberReply.SERIAL, serial.value))

    def _system_version(self, payload: bytes) -> Reply:
        return Reply(data=wire.string_field(msg.GetSystemVersionReply.VERSION, self._device.device_os))

    def _ncp_version(self, payload: bytes) -> Reply:
        version = self._device.firmware.ncp_version
        if version is None:
            return NOT_SUPPORTED
        r = msg.GetNcpFirmwareVersionReply
        return Reply(data=wire.string_field(r.VERSION, f"0.0.{version}") + wire.varint_field(r.MODULE_VERSION, version))

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
        mode = msg.DeviceMode.LISTENING if listening else msg.DeviceMode.NORMAL
        return Reply(data=wire.varint_field(msg.GetDeviceModeReply.MODE, mode))

    def _set_setup_done(self, payload: bytes) -> Reply:
        done = bool(wire.get_int(wire.decode(payload), msg.SetDeviceSetupDoneRequest.DONE))
        if self._version >= SETUP_DONE_FIXED_FROM:
            return OK if done else NOT_SUPPORTED
        self._device.setup_done = done
        return OK

    def _is_setup_done(self, payload: bytes) -> Reply:
        done = True if self._version >= SETUP_DONE_FIXED_FROM else self._device.setup_done
        return Reply(data=wire.bool_field(msg.IsDeviceSetupDoneReply.DONE, done))

    def _set_startup_mode(self, payload: bytes) -> Reply:
        mode = wire.get_int(wire.decode(payload), msg.SetStartupModeRequest.MODE)
        self._device.startup_listening = mode == msg.DeviceMode.LISTENING
        return OK

    def _protected_state(self, payload: bytes) -> Reply:
        if self._version < PROTECTION_FROM:
            return NOT_SUPPORTED
        return self._device.security.get_state_reply()

    def _set_protected_state(self, payload: bytes) -> Reply:
        if self._version < SET_PROTECTED_STATE_FROM:
            return NOT_SUPPORTED
        return self._device.security.set_state(payload)

    def _set_claim_code(self, payload: bytes) -> Reply:
        code = wire.get_str(wire.decode(payload), msg.SetClaimCodeRequest.CODE)
        if len(code) > MAX_CLAIM_CODE:
            return Reply(ResultCode.BAD_DATA)
        self._device.set_claim_code(code)
        return OK

    def _cloud_status(self, payload: bytes) -> Reply:
        r = msg.GetConnectionStatusReply
        status = r.CONNECTED if self._device.cloud_connected else r.DISCONNECTED
        return Reply(data=wire.varint_field(r.STATUS, status))

    def _cloud(self, connect: bool) -> Handler:
        def handler(payload: bytes) -> Reply:
            self._device.cloud_connected = connect
            return OK

        return handler

    def _iccid(self, payload: bytes) -> Reply:
        iccid, imei = self._device.iccid, self._device.imei
        data = wire.string_field(msg.GetIccidReply.ICCID, iccid.value if iccid else "")
        if imei is not None and imei_reported(self._version):
            data += wire.string_field(msg.GetIccidReply.IMEI, imei.value)
        return Reply(data=data)

    # --- the application: test firmware answers request 10, other firmware has no handler ------------------------

    def _app_custom(self, payload: bytes) -> Reply:
        if self._device.firmware.test_firmware is None:
            return NOT_SUPPORTED
        return self._test.handle(payload)

    def _signal(self, on: bool) -> Handler:
        def handler(payload: bytes) -> Reply:
            self._device.signalling = on
            return OK

        return handler

    # --- normal-mode firmware update (Device OS system/src/control/storage.cpp) -----------------------------------

    def _start_update(self, payload: bytes) -> Reply:
        fields = wire.decode(payload)
        self._update = None
        r = msg.StartFirmwareUpdateRequest
        size, fmt = wire.get_int(fields, r.SIZE), wire.get_int(fields, r.FORMAT)
        if fmt != FIRMWARE_UPDATE_FORMAT_BIN:
            return NOT_SUPPORTED
        layout = self._device.firmware.memory(0).layout
        capacity = layout.end - layout.start
        if size == 0:
            return Reply(ResultCode.INVALID_ARGUMENT)
        if size > capacity:
            return Reply(ResultCode.TOO_LARGE)
        self._update = _Update(size)
        return Reply(data=wire.varint_field(msg.StartFirmwareUpdateReply.CHUNK_SIZE, FIRMWARE_UPDATE_CHUNK_SIZE))

    def _update_data(self, payload: bytes) -> Reply:
        if self._update is None:
            return Reply(ResultCode.INVALID_STATE)
        data = wire.get_bytes(wire.decode(payload), msg.FirmwareUpdateDataRequest.DATA)
        if not 1 <= len(data) <= self._update.remaining:
            self._update = None
            return Reply(ResultCode.OUT_OF_RANGE)
        self._update.data += data
        return OK

    def _finish_update(self, payload: bytes) -> Reply:
        validate_only = bool(wire.get_int(wire.decode(payload), msg.FinishFirmwareUpdateRequest.VALIDATE_ONLY))
        update, self._update = self._update, None
        if update is None or update.remaining:
            return Reply(ResultCode.INVALID_STATE)
        image = bytes(update.data)
        try:
            parsed = ModuleImage.parse(image)
        except SimulationError:
            return Reply(ResultCode.BAD_DATA)
        platform_ok = parsed.prefix.platform_id == self._device.board.id
        if not parsed.crc_ok or not (platform_ok or parsed.prefix.function == ModuleFunction.ASSET):
            return Reply(ResultCode.BAD_DATA)
        if self._device.security.bootloader_protected and not _keeps_protection(parsed):
            return Reply(ResultCode.DEVICE_PROTECTED)
        if validate_only:
            return OK
        self._device.stage_update(image)
        return Reply(after_reply=self._device.reset)

    def _cancel_update(self, payload: bytes) -> Reply:
        self._update = None
        return OK
