"""The DFU-mode bootloader of a simulated device: the DfuSe state machine over the device's flash, with erase and
write done after the dfuDNBUSY status and taking the timing model's time.

Behaviour of Particle's bootloaders (Device OS ``bootloader/src/{nRF52840,rtl872x}/usbd_dfu*.{h,cpp}``; STM32:
v2.3.1 ``platform/MCU/STM32F2xx/STM32_USB_Device_Driver/*``) on the DFU 1.1 / DfuSe 1.1a state machine; the numbers
are the simulator's own (``dfu_facts``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from typing import NoReturn

from hardware.simulated import memory_map
from hardware.simulated.device import SimulatedDevice
from hardware.simulated.dfu_facts import (
    COMMAND_BLOCK,
    COMMAND_WITH_ADDRESS_LENGTH,
    DEVICE_STATE_PADDING,
    DEVICE_STATE_STRING_INDEX,
    DIRECTION_IN_REQUESTS,
    FIRST_DATA_BLOCK,
    TRANSFER_SIZE,
    DfuRequest,
    DfuseCommand,
    DfuState,
    DfuStatus,
)
from hardware.simulated.errors import UsbStall
from hardware.simulated.faults import damage
from hardware.simulated.flash_layout import Access, FlashLayout
from hardware.simulated.module_format import ModuleFunction
from hardware.simulated.module_table import scan_slot
from hardware.simulated.platform_facts import Family
from hardware.simulated.protection_facts import DEVICE_STATE_LETTERS, PROTECTED_ERROR_TEXT
from hardware.simulated.versions import BOOTLOADER_6_2_0

_STM32_DCT_POLL_MS = {"erase": 1, "write": 500}
"""Gen 2 DCT (alt 1) bwPollTimeout (Device OS v2.3.1 ``usbd_dct_if.c``); every other memory reports 0."""


@dataclass(frozen=True)
class _Command:
    data: bytes


@dataclass(frozen=True)
class _Write:
    address: int
    data: bytes


@dataclass(frozen=True)
class _Fail:
    status: DfuStatus


@dataclass(frozen=True)
class _Leave:
    safe_mode: bool


_Pending = _Command | _Write | _Fail | _Leave
_KNOWN_REQUESTS = frozenset(int(r) for r in DfuRequest)


class _Failure(Exception):
    def __init__(self, status: DfuStatus) -> None:
        super().__init__(status.name)
        self.status = status


def _allowed_while_protected(w_value: int, data: bytes) -> bool:
    """Only Particle's 0xFA and 0xFB DfuSe commands pass on a Protected Device (and the zero-length leave)."""
    commands = (DfuseCommand.ENTER_SAFE_MODE, DfuseCommand.CLEAR_SECURITY_OVERRIDE)
    return w_value == COMMAND_BLOCK and bool(data) and data[0] in commands


def protected_layout(layout: FlashLayout) -> FlashLayout:
    """The memory map a Protected Device reports: every segment erasable only (letter 'b')."""
    return replace(layout, segments=tuple(replace(s, access=Access.ERASABLE) for s in layout.segments))


def status_reply(status: DfuStatus, poll_ms: int, state: DfuState, i_string: int = 0) -> bytes:
    """GETSTATUS: bStatus, bwPollTimeout (u24 LE, ms), bState, iString (DFU 1.1 §6.1.2)."""
    return struct.pack("<B", status) + poll_ms.to_bytes(3, "little") + struct.pack("<BB", state, i_string)


class DfuBootloader:
    """One boot of the bootloader in DFU mode. The device lock is held by the caller for every call."""

    def __init__(self, device: SimulatedDevice) -> None:
        self._device = device
        self._gen3 = device.board.gen3_or_later
        self.state = DfuState.DFU_IDLE
        self.status = DfuStatus.OK
        self.alt = 0
        self.pointer = 0
        self._pending: _Pending | None = None
        self._wrote_user_slot = False
        self._strings = memory_map.dfu_strings(device.board)

    def set_alt(self, alt: int) -> None:
        if not 0 <= alt < len(self._device.firmware.memories):
            raise UsbStall(f"no DFU alternate setting {alt}")
        self.alt = alt

    def request(self, direction_in: bool, b_request: int, w_value: int, data: bytes, w_length: int) -> bytes:
        """One DFU class request on interface 0; returns the IN data (empty for OUT) or raises UsbStall."""
        if self.state is DfuState.DFU_MANIFEST_WAIT_RESET:
            raise UsbStall("the bootloader is waiting to reset after manifestation")
        expected_in = b_request in DIRECTION_IN_REQUESTS
        if direction_in != expected_in or b_request not in _KNOWN_REQUESTS:
            self._stall_with_error(f"DFU request {b_request} with the wrong direction or unknown")
        if b_request == DfuRequest.GETSTATUS:
            return self._get_status()[:w_length]
        if b_request == DfuRequest.GETSTATE:
            if self.state in (DfuState.DFU_DNBUSY, DfuState.DFU_MANIFEST):
                self._stall_with_error("GETSTATE while busy")
            return bytes([self.state])[:w_length]
        if b_request == DfuRequest.DNLOAD:
            self._dnload(w_value, data)
            return b""
        if b_request == DfuRequest.UPLOAD:
            return self._upload(w_value, w_length)
        if b_request == DfuRequest.CLRSTATUS:
            if self.state is not DfuState.DFU_ERROR:
                self._stall_with_error("CLRSTATUS outside dfuERROR")
            self.state, self.status = DfuState.DFU_IDLE, DfuStatus.OK
            return b""
        if b_request == DfuRequest.ABORT:
            if self.state not in (
                DfuState.DFU_IDLE,
                DfuState.DFU_DNLOAD_SYNC,
                DfuState.DFU_DNLOAD_IDLE,
                DfuState.DFU_MANIFEST_SYNC,
                DfuState.DFU_UPLOAD_IDLE,
            ):
                raise UsbStall(f"ABORT in {self.state.name}")
            self.state, self._pending = DfuState.DFU_IDLE, None
            return b""
        self._stall_with_error("DETACH is not served by the bootloader")

    # --- requests ------------------------------------------------------------------------------------------------

    def _dnload(self, w_value: int, data: bytes) -> None:
        if self.state not in (DfuState.DFU_IDLE, DfuState.DFU_DNLOAD_IDLE) or len(data) > TRANSFER_SIZE:
            self._stall_with_error(f"DNLOAD of {len(data)} bytes in {self.state.name}")
        if not data:
            self._pending, self.state = _Leave(safe_mode=False), DfuState.DFU_MANIFEST_SYNC
            return
        if self._device.security.refusing and not _allowed_while_protected(w_value, data):
            self._refuse_protected()
            return
        if w_value == COMMAND_BLOCK and data[0] == DfuseCommand.ENTER_SAFE_MODE and self._gen3:
            self._pending, self.state = _Leave(safe_mode=True), DfuState.DFU_MANIFEST_SYNC
            return
        if w_value == COMMAND_BLOCK:
            self._pending = _Command(data)
        elif w_value < FIRST_DATA_BLOCK:
            self._pending = _Fail(DfuStatus.ERR_TARGET)
        else:
            address = (w_value - FIRST_DATA_BLOCK) * TRANSFER_SIZE + self.pointer
            self._pending = _Write(address, data)
        self.state = DfuState.DFU_DNLOAD_SYNC

    def _get_status(self) -> bytes:
        if self.state is DfuState.DFU_DNLOAD_SYNC:
            reply = status_reply(self.status, self._poll_ms(), DfuState.DFU_DNBUSY)
            self.state = DfuState.DFU_DNBUSY
            self._execute()  # runs right after the reply; the device NAKs until the work is done
            return reply
        if self.state is DfuState.DFU_MANIFEST_SYNC:
            reported = DfuState.DFU_MANIFEST if self._gen3 else DfuState.DFU_DNLOAD_IDLE
            reply = status_reply(self.status, 0, reported)
            self.state = DfuState.DFU_MANIFEST_WAIT_RESET
            self._manifest()
            return reply
        error_string = self._strings.error if self.status == DfuStatus.ERR_VENDOR else 0
        return status_reply(self.status, 0, self.state, error_string)

    def _upload(self, w_value: int, w_length: int) -> bytes:
        if self.state not in (DfuState.DFU_IDLE, DfuState.DFU_UPLOAD_IDLE) or w_length > TRANSFER_SIZE:
            self._stall_with_error(f"UPLOAD of {w_length} bytes in {self.state.name}")
        if w_value == COMMAND_BLOCK:
            self.state = DfuState.DFU_UPLOAD_IDLE
            return memory_map.dfuse_commands(self._device.board)[:w_length]
        if self._device.security.refusing:
            self._refuse_protected()
            return b""
        if w_value < FIRST_DATA_BLOCK:
            self._stall_with_error(f"UPLOAD block {w_value} is reserved")
        address = (w_value - FIRST_DATA_BLOCK) * TRANSFER_SIZE + self.pointer
        memory = self._device.firmware.memory(self.alt)
        if not memory.allows(address, w_length, Access.READABLE):
            self._stall_with_error(f"UPLOAD at unreadable 0x{address:08X}+{w_length}")
        self.state = DfuState.DFU_UPLOAD_IDLE
        return memory.read(address, w_length)

    # --- work done after the dfuDNBUSY status --------------------------------------------------------------------

    def _execute(self) -> None:
        pending, self._pending = self._pending, None
        try:
            if isinstance(pending, _Fail):
                raise _Failure(pending.status)
            if isinstance(pending, _Command):
                self._command(pending.data)
            elif isinstance(pending, _Write):
                self._write(pending.address, pending.data)
            self.state = DfuState.DFU_DNLOAD_IDLE
        except _Failure as failure:
            self.state, self.status = DfuState.DFU_ERROR, failure.status

    def _command(self, data: bytes) -> None:
        command = data[0]
        if command == DfuseCommand.SET_ADDRESS:
            if len(data) != COMMAND_WITH_ADDRESS_LENGTH:
                raise _Failure(DfuStatus.ERR_UNKNOWN)
            self.pointer = int.from_bytes(data[1:5], "little")
        elif command == DfuseCommand.ERASE:
            if len(data) == 1:
                raise _Failure(DfuStatus.ERR_TARGET)  # mass erase is refused
            if len(data) != COMMAND_WITH_ADDRESS_LENGTH:
                raise _Failure(DfuStatus.ERR_UNKNOWN)
            self._erase(int.from_bytes(data[1:5], "little"))
        elif command == DfuseCommand.READ_UNPROTECT:
            raise _Failure(DfuStatus.ERR_UNKNOWN)
        elif command == DfuseCommand.CLEAR_SECURITY_OVERRIDE and self._gen3:
            self._device.security.clear_override()  # Service Mode ends; the bootloader stays in DFU
        else:
            raise _Failure(DfuStatus.ERR_STALLEDPKT)

    def _erase(self, address: int) -> None:
        device = self._device
        memory = device.firmware.memory(self.alt)
        segment = memory.layout.segment_at(address)
        if segment is None or not segment.erasable:
            raise _Failure(DfuStatus.ERR_UNKNOWN)
        size = memory.erase_sector(address)
        device.lifecycle.occupy(device.timing.erase_seconds(size, device.faults.erase_factor))

    def _write(self, address: int, data: bytes) -> None:
        device = self._device
        memory = device.firmware.memory(self.alt)
        if not memory.allows(address, len(data), Access.WRITABLE):
            raise _Failure(DfuStatus.ERR_UNKNOWN)
        if device.faults.take_corrupt_write():
            data = damage(data)
        memory.program(address, data)
        device.lifecycle.occupy(device.timing.write_seconds(len(data)))
        if self.alt == 0 and address <= memory_map.NRF_USER_START < address + len(data):
            self._wrote_user_slot = True

    def _manifest(self) -> None:
        pending, self._pending = self._pending, None
        safe = isinstance(pending, _Leave) and pending.safe_mode
        self._invalidate_legacy_user_part()
        self._device.reset(self._device.timing.manifest_s, safe=safe)

    def _invalidate_legacy_user_part(self) -> None:
        """The 6.2.0 nRF bootloader erases the 0xD4000 page after a valid DFU write at 0xB4000 (Device OS
        ``bootloader/src/nRF52840/usbd_dfu_mal.cpp``)."""
        device = self._device
        if not self._wrote_user_slot or device.board.family is not Family.NRF52840:
            return
        if (device.firmware.bootloader_version or 0) < BOOTLOADER_6_2_0:
            return
        slot = next(
            s
            for s in memory_map.module_slots(device.board)
            if s.function is ModuleFunction.USER_PART and s.start == memory_map.NRF_USER_START
        )
        module = scan_slot(device.firmware.memory(0).read, slot, device.board)
        # An app larger than 128 K itself covers the 0xD4000 page: erasing it would destroy the new app.
        covers_legacy_page = module is not None and module.start + module.size > memory_map.NRF_LEGACY_USER_START
        if module is not None and module.integrity_ok and not covers_legacy_page:
            device.firmware.memory(0).erase(memory_map.NRF_LEGACY_USER_START, 4096)

    # --- Device Protection (Device OS bootloader/src/nRF52840/usbd_dfu.cpp, usbd_dfu_mal.cpp) -------------------

    def _refuse_protected(self) -> None:
        """A Protected Device refuses with errVENDOR / dfuERROR and no stall; iString names the reason."""
        self._pending, self.state, self.status = None, DfuState.DFU_ERROR, DfuStatus.ERR_VENDOR

    def string_override(self, index: int, static: dict[int, str]) -> str | None:
        """Strings that follow the device's protection state at request time: the 0xFA device state (bootloaders
        that have it), the memory maps (every letter 'b' while protected) and the protected-mode error string."""
        security = self._device.security
        if index == DEVICE_STATE_STRING_INDEX and index in static:
            return "sm=" + DEVICE_STATE_LETTERS[security.state] + DEVICE_STATE_PADDING
        if index == self._strings.error and self.status == DfuStatus.ERR_VENDOR:
            return PROTECTED_ERROR_TEXT
        alt = index - self._strings.first_interface
        if security.refusing and 0 <= alt < len(self._device.firmware.memories):
            return protected_layout(self._device.firmware.memory(alt).layout).describe()
        return None

    # --- helpers -------------------------------------------------------------------------------------------------

    def _poll_ms(self) -> int:
        if self._gen3 or self.alt != 1:
            return 0
        return _STM32_DCT_POLL_MS["erase" if isinstance(self._pending, _Command) else "write"]

    def _stall_with_error(self, why: str) -> NoReturn:
        self.state, self.status = DfuState.DFU_ERROR, DfuStatus.ERR_UNKNOWN
        raise UsbStall(why)
