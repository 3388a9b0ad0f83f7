"""DfuSe on a device in DFU mode: descriptors and memory layout, erase, download, read-back verify, and leave.

Facts: USB DFU 1.1 and DfuSe 1.1a (ST UM0391) (requests, states, DfuSe commands, layout strings); particle-usb 4.1.0
src/dfu.js (descriptors, wTransferSize, host sequences and command retries); Device OS 6.2.0
bootloader/src/nRF52840/usbd_dfu.cpp (the device state machine, ABORT before UPLOAD, MANIFEST_WAIT_RESET stalls).
Progress goes to a callback; cancellation is checked between pages and blocks, where stopping leaves the device in a
state a retry can recover from.
"""

from __future__ import annotations

import contextlib
import struct

from hardware.progress import CancelToken, ProgressCallback, ProgressEvent
from hardware.usb.dfu_replies import DfuDescriptors, DfuStatusReply, enum_name
from hardware.usb.dfuse_layout import MemoryLayout
from hardware.usb.discovery import UsbDevice
from hardware.usb.errors import (
    DeviceDisconnectedError,
    DeviceProtectedError,
    DfuError,
    UsbError,
    UsbStallError,
    VerifyError,
)
from hardware.usb.protocol import (
    DESCRIPTOR_CONFIGURATION,
    DFU_CLASS_IN,
    DFU_CLASS_OUT,
    DFU_COMMAND_BLOCK,
    DFU_FIRST_DATA_BLOCK,
    DFU_INTERFACE,
    DFU_STATUS_LENGTH,
    GET_DESCRIPTOR,
    STANDARD_DEVICE_IN,
    DfuRequest,
    DfuseCommand,
    DfuState,
    DfuStatus,
)
from hardware.usb.timing import HostTiming

_BUSY_STATES = (DfuState.DFU_DNLOAD_SYNC, DfuState.DFU_DNBUSY, DfuState.DFU_MANIFEST_SYNC)
_ADVICE = {
    DfuStatus.ERR_TARGET: "the device refused the address; check the firmware was built for this platform",
    DfuStatus.ERR_ADDRESS: "the device refused the address; check the firmware was built for this platform",
    DfuStatus.ERR_ERASE: "erasing flash failed; retry, and if it repeats the unit's flash is faulty",
    DfuStatus.ERR_WRITE: "writing flash failed; retry, and if it repeats the unit's flash is faulty",
    DfuStatus.ERR_PROG: "programming flash failed; retry, and if it repeats the unit's flash is faulty",
    DfuStatus.ERR_VERIFY: "the device's own verify failed; retry, and if it repeats the unit's flash is faulty",
}


class DfuSession:
    """DfuSe operations on one device in DFU mode (interface 0)."""

    def __init__(self, device: UsbDevice, *, timing: HostTiming | None = None) -> None:
        self.device = device
        self.timing = timing or HostTiming()
        self._descriptors: DfuDescriptors | None = None
        self._layouts: dict[int, MemoryLayout] = {}
        self._alt: int | None = None

    @property
    def who(self) -> str:
        return self.device.describe()

    # ---- descriptors and alt settings ----

    @property
    def descriptors(self) -> DfuDescriptors:
        if self._descriptors is None:
            wvalue = DESCRIPTOR_CONFIGURATION << 8
            head = self.device.control_in(STANDARD_DEVICE_IN, GET_DESCRIPTOR, wvalue, 0, 4, what="configuration")
            if len(head) < 4:
                raise DfuError(f"{self.who} sent a short configuration descriptor; reconnect it and retry")
            (total,) = struct.unpack_from("<H", head, 2)
            raw = self.device.control_in(STANDARD_DEVICE_IN, GET_DESCRIPTOR, wvalue, 0, total, what="configuration")
            self._descriptors = DfuDescriptors.parse(raw)
            if not self._descriptors.alt_strings:
                raise DfuError(f"{self.who} has no DFU interface 0; is it really in DFU mode? Reset it and retry")
        return self._descriptors

    @property
    def transfer_size(self) -> int:
        return self.descriptors.transfer_size

    def layout(self, alt: int = 0) -> MemoryLayout:
        """The memory layout of alt setting ``alt``, from its interface string."""
        if alt not in self._layouts:
            index = self.descriptors.alt_strings.get(alt)
            if index is None:
                raise DfuError(f"{self.who} has no DFU alt setting {alt}")
            text = self.device.read_string(index, what=f"the memory layout of alt setting {alt}")
            self._layouts[alt] = MemoryLayout.parse(text)
        return self._layouts[alt]

    def select(self, alt: int = 0) -> MemoryLayout:
        layout = self.layout(alt)
        if self._alt != alt:
            self.device.select_alt_setting(DFU_INTERFACE, alt)
            self._alt = alt
        return layout

    # ---- single requests ----

    def get_status(self) -> DfuStatusReply:
        data = self._in(DfuRequest.GETSTATUS, 0, DFU_STATUS_LENGTH, "DFU GETSTATUS")
        return DfuStatusReply.parse(data, self.who)

    def get_state(self) -> int:
        data = self._in(DfuRequest.GETSTATE, 0, 1, "DFU GETSTATE")
        if len(data) != 1:
            raise DfuError(f"{self.who} sent a {len(data)}-byte DFU state; reset it and retry")
        return data[0]

    def clear_status(self) -> None:
        self._out(DfuRequest.CLRSTATUS, 0, b"", "DFU CLRSTATUS")

    def abort(self) -> None:
        self._out(DfuRequest.ABORT, 0, b"", "DFU ABORT")

    def _dnload(self, block: int, data: bytes, what: str) -> None:
        self._out(DfuRequest.DNLOAD, block, data, what)

    def _in(self, request: DfuRequest, value: int, length: int, what: str) -> bytes:
        timeout = self.timing.transfer_timeout_ms
        return self.device.control_in(
            DFU_CLASS_IN, request, value, DFU_INTERFACE, length, what=what, timeout_ms=timeout
        )

    def _out(self, request: DfuRequest, value: int, data: bytes, what: str) -> None:
        timeout = self.timing.transfer_timeout_ms
        self.device.control_out(DFU_CLASS_OUT, request, value, DFU_INTERFACE, data, what=what, timeout_ms=timeout)

    # ---- state handling ----

    def ensure_idle(self) -> None:
        """Bring the device to dfuIDLE: CLRSTATUS out of dfuERROR, ABORT out of any other state
        (Device OS bootloader/src/nRF52840/usbd_dfu.cpp stalls CLRSTATUS outside dfuERROR)."""
        status = self.get_status()
        if status.state == DfuState.DFU_ERROR:
            self.clear_status()
            status = self.get_status()
        if status.state != DfuState.DFU_IDLE:
            self.abort()
            status = self.get_status()
        if status.state != DfuState.DFU_IDLE:
            raise DfuError(
                f"{self.who} stays in {enum_name(DfuState, status.state)} instead of dfuIDLE; unplug and replug it, "
                "then retry",
                state=_state(status.state),
                status=_status(status.status),
            )

    def _fail(self, status: DfuStatusReply, what: str) -> DfuError:
        detail = ""
        if status.string_index:
            with contextlib.suppress(UsbError):
                detail = f" ({self.device.read_string(status.string_index, what='the DFU error string')})"
        with contextlib.suppress(UsbError):  # leave dfuERROR so the next attempt starts clean
            if status.state == DfuState.DFU_ERROR:
                self.clear_status()
        if status.status == DfuStatus.ERR_VENDOR:  # a Protected Device's refusal (device-os usbd_dfu.cpp)
            return DeviceProtectedError(
                f"{what} on {self.who} was refused{detail}: the device is a Protected Device; rework it through "
                f"Service Mode: particle-station protection disable --device {self.device.device_id}",
                state=_state(status.state), status=DfuStatus.ERR_VENDOR)
        advice = _ADVICE.get(_status(status.status) or DfuStatus.ERR_UNKNOWN, "retry; if it repeats, reset the device")
        return DfuError(
            f"{what} on {self.who} failed: {status.describe()}{detail}; {advice}",
            state=_state(status.state),
            status=_status(status.status),
        )

    def _wait_done(self, what: str) -> DfuStatusReply:
        """Poll GETSTATUS, sleeping bwPollTimeout, until the device leaves the busy states; it must report OK."""
        deadline = self.timing.clock() + self.timing.dfu_busy_timeout
        status = self.get_status()
        while status.state in _BUSY_STATES:
            if self.timing.clock() >= deadline:
                raise DfuError(
                    f"{what} on {self.who} still busy after {self.timing.dfu_busy_timeout:g} s; reset the device "
                    "and retry",
                    state=_state(status.state),
                )
            self.timing.sleep(status.poll_timeout_ms / 1000)
            status = self.get_status()
        if status.status != DfuStatus.OK or status.state == DfuState.DFU_ERROR:
            raise self._fail(status, what)
        return status

    def _recover_after_stall(self) -> None:
        with contextlib.suppress(UsbStallError):
            status = self.get_status()
            if status.state == DfuState.DFU_ERROR:
                self.clear_status()
            elif status.state not in (DfuState.DFU_IDLE, DfuState.DFU_DNLOAD_IDLE):
                self.abort()

    def _command(self, command: DfuseCommand, address: int, what: str) -> None:
        """A DfuSe command download and its status poll; a stalled command is retried as particle-usb does."""
        payload = bytes([command]) + struct.pack("<I", address)
        attempts = 1 + self.timing.dfu_command_retries
        for attempt in range(attempts):
            try:
                self._dnload(DFU_COMMAND_BLOCK, payload, what)
                break
            except UsbStallError as exc:
                if attempt == attempts - 1:
                    raise DfuError(
                        f"{what} on {self.who} was refused {attempts} times; unplug and replug it, then retry"
                    ) from exc
                self.timing.sleep(self.timing.dfu_command_retry_delay)
                self._recover_after_stall()
        self._wait_done(what)

    def supported_commands(self) -> frozenset[int]:
        """The DfuSe GET_COMMAND list: UPLOAD block 0 from dfuIDLE (DfuSe 1.1a; particle-usb src/dfu.js)."""
        self.select(0)
        self.ensure_idle()
        data = self._in(DfuRequest.UPLOAD, DFU_COMMAND_BLOCK, 32, "DFU GET_COMMAND")
        self.abort()
        return frozenset(data)

    def special_command(self, payload: bytes, what: str) -> DfuStatusReply:
        """A DfuSe command framed as given (Particle's 0xFA is 1 byte, 0xFB 5) and its final status."""
        self.ensure_idle()
        self._dnload(DFU_COMMAND_BLOCK, payload, what)
        return self._wait_done(what)

    def _check_writable(self, layout: MemoryLayout, address: int, length: int) -> None:
        # Every segment erasable only ('b') is a Protected Device's map: refused early, as particle-usb src/dfu.js.
        if all(s.erasable and not s.writable and not s.readable for s in layout.segments):
            raise DeviceProtectedError(f"{self.who} is a Protected Device; rework it through Service Mode: "
                                       f"particle-station protection disable --device {self.device.device_id}")
        layout.check_writable(address, length)

    # ---- operations ----

    def write(
        self,
        address: int,
        data: bytes,
        *,
        alt: int = 0,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> None:
        """Erase the pages ``data`` covers at ``address``, then download it (particle-usb's ``writeOverDfu``)."""
        self.erase(address, len(data), alt=alt, progress=progress, cancel=cancel)
        self.download(address, data, alt=alt, progress=progress, cancel=cancel)

    def erase(
        self,
        address: int,
        length: int,
        *,
        alt: int = 0,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> None:
        """Erase only the erasable pages that [address, address+length) overlaps; refuse read-only memory."""
        layout = self.select(alt)
        self._check_writable(layout, address, length)
        self.ensure_idle()
        pages = layout.pages_to_erase(address, length)
        sizes = [layout.page_size_at(p) for p in pages]
        total, done = sum(sizes), 0
        for page, size in zip(pages, sizes, strict=True):
            _check_cancel(cancel, f"erasing 0x{address:08x}", self.who)
            self._command(DfuseCommand.ERASE, page, f"erasing page 0x{page:08x}")
            done += size
            if progress is not None:
                progress(ProgressEvent("erase", done, total))

    def download(
        self,
        address: int,
        data: bytes,
        *,
        alt: int = 0,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> None:
        """Write ``data`` at ``address`` in wTransferSize blocks, each after a set-address command (no erase)."""
        layout = self.select(alt)
        self._check_writable(layout, address, len(data))
        self.ensure_idle()
        block = self.transfer_size
        for offset in range(0, len(data), block):
            _check_cancel(cancel, f"writing 0x{address:08x}", self.who)
            target = address + offset
            self._command(DfuseCommand.SET_ADDRESS, target, f"setting the address 0x{target:08x}")
            chunk = data[offset : offset + block]
            step = f"writing {len(chunk)} bytes at 0x{target:08x}"
            self._dnload(DFU_FIRST_DATA_BLOCK, chunk, step)
            self._wait_done(step)
            if progress is not None:
                progress(ProgressEvent("write", offset + len(chunk), len(data)))

    def read(
        self,
        address: int,
        length: int,
        *,
        alt: int = 0,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> bytes:
        """Read ``length`` bytes from ``address`` with UPLOAD (dfuIDLE first, via ABORT; Device OS usbd_dfu.cpp)."""
        self.select(alt)
        self.ensure_idle()
        self._command(DfuseCommand.SET_ADDRESS, address, f"setting the read address 0x{address:08x}")
        self.ensure_idle()
        block = self.transfer_size
        out = bytearray()
        number = DFU_FIRST_DATA_BLOCK
        while len(out) < length:
            _check_cancel(cancel, f"reading 0x{address:08x}", self.who)
            want = min(block, length - len(out))
            what = f"reading {want} bytes at 0x{address + len(out):08x}"
            chunk = self._in(DfuRequest.UPLOAD, number, want, what)
            out += chunk
            if progress is not None:
                progress(ProgressEvent("verify", len(out), length))
            if len(chunk) < want:
                break
            number += 1
        self.abort()
        if len(out) < length:
            raise DfuError(
                f"{self.who} returned {len(out)} of {length} bytes reading 0x{address:08x}; reset it and retry"
            )
        return bytes(out[:length])

    def verify(
        self,
        address: int,
        data: bytes,
        *,
        alt: int = 0,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> None:
        """Read the flash back and raise VerifyError unless it equals ``data``."""
        actual = self.read(address, len(data), alt=alt, progress=progress, cancel=cancel)
        if actual == data:
            return
        first = next(i for i, (a, b) in enumerate(zip(actual, data, strict=True)) if a != b)
        differing = sum(1 for a, b in zip(actual, data, strict=True) if a != b)
        raise VerifyError(
            f"verify failed on {self.who}: {differing} of {len(data)} bytes at 0x{address:08x} differ from the "
            f"image (first at 0x{address + first:08x}); the unit is NOT flashed — flash it again"
        )

    def leave(self) -> DfuState | None:
        """Leave DFU (zero-length download); the final state is dfuMANIFEST (Gen 3), dfuDNLOAD_IDLE (Gen 2), or
        None when the device reset before it could report one."""
        status = self.get_status()
        if status.state == DfuState.DFU_ERROR:
            self.clear_status()
            status = self.get_status()
        if status.state not in (DfuState.DFU_IDLE, DfuState.DFU_DNLOAD_IDLE):
            self.abort()
            status = self.get_status()
        if status.state not in (DfuState.DFU_IDLE, DfuState.DFU_DNLOAD_IDLE):
            raise DfuError(
                f"{self.who} cannot leave DFU from {enum_name(DfuState, status.state)}; unplug and replug it",
                state=_state(status.state),
            )
        try:
            self._dnload(DFU_FIRST_DATA_BLOCK, b"", "leaving DFU mode")
        except DeviceDisconnectedError:
            return None  # some bootloaders reset as soon as they get the zero-length download
        deadline = self.timing.clock() + self.timing.dfu_busy_timeout
        while True:
            try:
                status = self.get_status()
            except (UsbStallError, DeviceDisconnectedError):
                return None  # dfuMANIFEST_WAIT_RESET stalls GETSTATUS, or the device already reset (usbd_dfu.cpp)
            if status.state in (DfuState.DFU_MANIFEST, DfuState.DFU_DNLOAD_IDLE):
                return DfuState(status.state)
            if status.state == DfuState.DFU_ERROR or status.status != DfuStatus.OK:
                raise self._fail(status, "leaving DFU mode")
            if self.timing.clock() >= deadline:
                raise DfuError(f"{self.who} did not leave DFU mode; reset it by hand", state=_state(status.state))
            self.timing.sleep(status.poll_timeout_ms / 1000)


def _state(value: int) -> DfuState | None:
    try:
        return DfuState(value)
    except ValueError:
        return None


def _status(value: int) -> DfuStatus | None:
    try:
        return DfuStatus(value)
    except ValueError:
        return None


def _check_cancel(cancel: CancelToken | None, what: str, who: str) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled(f"{what} on {who}")
