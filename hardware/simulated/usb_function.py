"""The USB face of one simulated device: mode-dependent descriptors, and endpoint-0 transfers routed to the
standard requests, the control-request channel (normal mode) or the DfuSe bootloader (DFU mode), with the
device's busy time, transfer time and injected faults applied on the way."""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass

from hardware.simulated.control_channel import ControlChannel
from hardware.simulated.descriptors import UsbDescriptors, dfu_mode, normal_mode, string_descriptor
from hardware.simulated.device import DeviceMode, SimulatedDevice
from hardware.simulated.dfu import DfuBootloader
from hardware.simulated.errors import UsbNoDevice, UsbStall, UsbTimeout
from hardware.simulated.faults import TransferFault
from hardware.simulated.usb_facts import (
    DIRECTION_IN,
    DescriptorType,
    Recipient,
    RequestKind,
    StandardRequest,
    recipient,
    request_kind,
)

DFU_INTERFACE = 0
"""The DfuSe interface number: DFU class requests carry it in wIndex (DFU 1.1 §3; Particle's bootloaders have one
interface)."""

NO_TIMEOUT_WAIT_S = 5.0
"""How long a transfer with no timeout (0) hangs on an injected timeout before giving up."""


@dataclass(frozen=True)
class Setup:
    bmRequestType: int
    bRequest: int
    wValue: int
    wIndex: int
    wLength: int

    @property
    def direction_in(self) -> bool:
        return bool(self.bmRequestType & DIRECTION_IN)

    @property
    def kind(self) -> int:
        return request_kind(self.bmRequestType)

    @property
    def recipient(self) -> int:
        return recipient(self.bmRequestType)


@dataclass(frozen=True)
class Enumeration:
    """What the bus shows of a present device: its connection number and descriptors."""

    session: int
    descriptors: UsbDescriptors


class UsbFunction:
    """Use ``usb_function(device)``: one per device, shared by every backend that hosts it."""

    def __init__(self, device: SimulatedDevice) -> None:
        self.device = device
        self._boot = -1
        self._channel: ControlChannel | None = None
        self._dfu: DfuBootloader | None = None
        self._descriptors: UsbDescriptors | None = None
        self._configuration = 1
        self._alts: dict[int, int] = {}

    # --- bus view ------------------------------------------------------------------------------------------------

    def enumeration(self) -> Enumeration | None:
        with self.device.lock:
            if not self.device.present:
                return None
            return Enumeration(self.device.usb_session, self._sync())

    def require(self, session: int) -> UsbDescriptors:
        """The descriptors of this session, or UsbNoDevice when the device left the bus since."""
        with self.device.lock:
            if not self.device.present or self.device.usb_session != session:
                raise UsbNoDevice(f"{self.device.platform.display_name} {self.device.device_id} is gone")
            return self._sync()

    def _sync(self) -> UsbDescriptors:
        device = self.device
        if device.boot_count != self._boot or self._descriptors is None:
            self._boot = device.boot_count
            self._alts.clear()
            self._configuration = 1
            if device.mode is DeviceMode.DFU:
                self._dfu, self._channel = DfuBootloader(device), None
                self._descriptors = dfu_mode(device.board, device.device_id.value, device.bootloader_version)
            else:
                self._dfu, self._channel = None, ControlChannel(device)
                self._descriptors = normal_mode(device.board, device.device_id.value)
        return self._descriptors

    # --- transfers -----------------------------------------------------------------------------------------------

    def control_transfer(self, session: int, setup: Setup, data: bytes, timeout_ms: int) -> bytes:
        """One control transfer: returns the IN data stage (empty for OUT), or raises UsbStall / UsbTimeout /
        UsbNoDevice."""
        device = self.device
        limit = timeout_ms / 1000 if timeout_ms > 0 else None
        with device.lock:
            self.require(session)
            fault = device.faults.take_transfer_fault(setup.bRequest)
            wait = device.lifecycle.busy_remaining()
        if fault is TransferFault.TIMEOUT:
            time.sleep(limit if limit is not None else NO_TIMEOUT_WAIT_S)
            raise UsbTimeout(f"injected timeout on request 0x{setup.bRequest:02X}")
        if fault is TransferFault.STALL:
            raise UsbStall(f"injected stall on request 0x{setup.bRequest:02X}")
        if wait > 0:
            # A busy device NAKs every transfer until its flash work is done.
            if limit is not None and wait > limit:
                time.sleep(limit)
                raise UsbTimeout(f"device busy for {wait:.3f} s more")
            time.sleep(wait)
        with device.lock:
            self.require(session)
            if not setup.direction_in and device.faults.take_disconnect(len(data)):
                device.unplug()
                raise UsbNoDevice("injected disconnect during the data stage")
            reply = self._dispatch(setup, data)
            if setup.direction_in:
                reply = reply[: setup.wLength]
            if setup.direction_in and device.faults.take_disconnect(len(reply)):
                device.unplug()
                raise UsbNoDevice("injected disconnect during the data stage")
        transfer = device.timing.transfer_seconds(len(data) + len(reply))
        if transfer:
            time.sleep(transfer)
        return reply if setup.direction_in else b""

    @property
    def active_requests(self) -> int:
        """Control requests the device holds now (normal mode), for tests that watch the in-flight limit."""
        with self.device.lock:
            return self._channel.active_requests if self._channel is not None else 0

    def has_interface(self, session: int, number: int) -> bool:
        descriptors = self.require(session)
        return descriptors.interface(number, 0) is not None

    @property
    def configuration(self) -> int:
        return self._configuration

    def _dispatch(self, setup: Setup, data: bytes) -> bytes:
        if setup.kind == RequestKind.STANDARD:
            return self._standard(setup)
        if setup.kind == RequestKind.CLASS and setup.recipient == Recipient.INTERFACE and self._dfu is not None:
            if setup.wIndex != DFU_INTERFACE:
                raise UsbStall(f"DFU request for interface {setup.wIndex}")
            return self._dfu.request(setup.direction_in, setup.bRequest, setup.wValue, data, setup.wLength)
        if setup.kind == RequestKind.VENDOR and setup.recipient == Recipient.DEVICE and self._channel is not None:
            return self._channel.vendor_request(
                setup.direction_in, setup.bRequest, setup.wValue, setup.wIndex, data, setup.wLength
            )
        raise UsbStall(f"request type 0x{setup.bmRequestType:02X} / 0x{setup.bRequest:02X} is not served")

    def _standard(self, setup: Setup) -> bytes:
        descriptors = self._sync()
        request = setup.bRequest
        if request == StandardRequest.GET_DESCRIPTOR and setup.direction_in:
            kind, index = setup.wValue >> 8, setup.wValue & 0xFF
            if kind == DescriptorType.DEVICE:
                return descriptors.device.to_bytes()
            if kind == DescriptorType.CONFIGURATION and index == 0:
                return descriptors.configuration.to_bytes()
            if kind == DescriptorType.STRING:
                dynamic = self._dfu.string_override(index, descriptors.strings) if self._dfu is not None else None
                if dynamic is not None:
                    return string_descriptor(dynamic)
                raw = descriptors.string_bytes(index)
                if raw is not None:
                    return raw
            raise UsbStall(f"no descriptor 0x{setup.wValue:04X}")
        if request == StandardRequest.GET_STATUS and setup.direction_in:
            return b"\x00\x00"
        if request == StandardRequest.GET_CONFIGURATION and setup.direction_in:
            return bytes([self._configuration])
        if request == StandardRequest.SET_CONFIGURATION and not setup.direction_in:
            if setup.wValue not in (0, descriptors.configuration.bConfigurationValue):
                raise UsbStall(f"no configuration {setup.wValue}")
            self._configuration = setup.wValue
            return b""
        if request == StandardRequest.GET_INTERFACE and setup.direction_in:
            return bytes([self._alts.get(setup.wIndex, 0)])
        if request == StandardRequest.SET_INTERFACE and not setup.direction_in:
            if descriptors.interface(setup.wIndex, setup.wValue) is None:
                raise UsbStall(f"no alternate setting {setup.wValue} on interface {setup.wIndex}")
            if self._dfu is not None:
                self._dfu.set_alt(setup.wValue)
            self._alts[setup.wIndex] = setup.wValue
            return b""
        if request in (StandardRequest.CLEAR_FEATURE, StandardRequest.SET_FEATURE):
            return b""
        raise UsbStall(f"standard request {request} is not served")


_FUNCTIONS: weakref.WeakKeyDictionary[SimulatedDevice, UsbFunction] = weakref.WeakKeyDictionary()


def usb_function(device: SimulatedDevice) -> UsbFunction:
    """The USB function of ``device`` (created on first use)."""
    with device.lock:
        function = _FUNCTIONS.get(device)
        if function is None:
            function = _FUNCTIONS[device] = UsbFunction(device)
        return function
