"""The normal-mode USB control-request channel of a simulated device: INIT/CHECK/SEND/RECV/RESET framing with
Device OS's reply layouts, statuses and stalls, and the raw 0x50 vendor requests (Device OS
``system/src/usb_control_request_channel.{h,cpp}``; numbers in ``control_facts``)."""

from __future__ import annotations

import enum
import struct
import time
from dataclasses import dataclass, field

from hardware.simulated.control_facts import (
    MAX_ACTIVE_REQUESTS,
    MAX_CHUNK_SIZE,
    MIN_SERVICE_WLENGTH,
    POOLED_PAYLOAD_SIZE,
    RAW_VENDOR_MAX_LENGTH,
    RAW_VENDOR_REQUEST,
    REQUEST_ID_LIMIT,
    RawVendorIndex,
    ReplyField,
    ServiceRequest,
    ServiceStatus,
)
from hardware.simulated.control_reply import Reply
from hardware.simulated.control_requests import ControlRequestHandlers
from hardware.simulated.device import SimulatedDevice
from hardware.simulated.errors import UsbStall


class _Stage(enum.Enum):
    ALLOCATING = "allocating"
    RECEIVING = "receiving"
    RUNNING = "running"


@dataclass
class _Request:
    id: int
    type: int
    size: int
    stage: _Stage
    ready_at: float
    payload: bytearray = field(default_factory=bytearray)
    reply: Reply | None = None
    sent: int = 0


def service_reply(
    status: ServiceStatus, *, request_id: int | None = None, size: int | None = None, result: int | None = None
) -> bytes:
    """u32 field flags, u16 status, then the optional u16 id, u32 reply size and i32 result, little-endian."""
    flags = ReplyField.STATUS
    body = struct.pack("<H", status)
    if request_id is not None:
        flags |= ReplyField.ID
        body += struct.pack("<H", request_id)
    if size is not None:
        flags |= ReplyField.SIZE
        body += struct.pack("<I", size)
    if result is not None:
        flags |= ReplyField.RESULT
        body += struct.pack("<i", result)
    return struct.pack("<I", flags) + body


class ControlChannel:
    """One boot's worth of control requests (ids restart from 1 at every boot). The device lock is held by the
    caller for every call."""

    def __init__(self, device: SimulatedDevice) -> None:
        self._device = device
        self._handlers = ControlRequestHandlers(device)
        self._requests: dict[int, _Request] = {}
        self._last_id = 0

    @property
    def active_requests(self) -> int:
        return len(self._requests)

    def vendor_request(
        self, direction_in: bool, b_request: int, w_value: int, w_index: int, data: bytes, w_length: int
    ) -> bytes:
        """One vendor transfer; returns the IN data stage (empty for OUT) or raises UsbStall."""
        if b_request == RAW_VENDOR_REQUEST:
            return self._raw(direction_in, w_index, data, w_length)
        if direction_in and b_request == ServiceRequest.INIT:
            return self._init(w_value, w_index, w_length)
        if direction_in and b_request == ServiceRequest.CHECK:
            return self._check(w_index, w_length)
        if not direction_in and b_request == ServiceRequest.SEND:
            self._send(w_index, data)
            return b""
        if direction_in and b_request == ServiceRequest.RECV:
            return self._recv(w_index, w_length)
        if direction_in and b_request == ServiceRequest.RESET:
            return self._reset(w_index, w_length)
        raise UsbStall(f"vendor request 0x{b_request:02X} is not served in normal mode")

    # --- services ------------------------------------------------------------------------------------------------

    def _init(self, size: int, request_type: int, w_length: int) -> bytes:
        _require_length(w_length)
        if self._device.faults.take_busy() or len(self._requests) >= MAX_ACTIVE_REQUESTS:
            return service_reply(ServiceStatus.BUSY)
        request_id = self._next_id()
        now = time.monotonic()
        if size > POOLED_PAYLOAD_SIZE:
            ready = now + self._device.timing.handler_s
            self._requests[request_id] = _Request(request_id, request_type, size, _Stage.ALLOCATING, ready)
            return service_reply(ServiceStatus.PENDING, request_id=request_id)
        request = _Request(request_id, request_type, size, _Stage.RECEIVING, now)
        self._requests[request_id] = request
        if size == 0:
            self._run(request)
        return service_reply(ServiceStatus.OK, request_id=request_id)

    def _check(self, request_id: int, w_length: int) -> bytes:
        _require_length(w_length)
        request = self._requests.get(request_id)
        if request is None:
            return service_reply(ServiceStatus.NOT_FOUND)
        self._promote(request)
        if request.stage is _Stage.ALLOCATING or not self._done(request):
            return service_reply(ServiceStatus.PENDING)
        if request.stage is _Stage.RECEIVING:
            return service_reply(ServiceStatus.OK)
        assert request.reply is not None
        if request.reply.data:
            return service_reply(ServiceStatus.OK, size=len(request.reply.data), result=request.reply.result)
        self._finish(request)
        return service_reply(ServiceStatus.OK, result=request.reply.result)

    def _send(self, request_id: int, data: bytes) -> None:
        request = self._requests.get(request_id)
        if request is None:
            raise UsbStall(f"SEND for unknown request id {request_id}")
        self._promote(request)
        if request.stage is not _Stage.RECEIVING:
            raise UsbStall(f"SEND for request {request_id} while it is {request.stage.value}")
        if not data or len(data) > MAX_CHUNK_SIZE or len(request.payload) + len(data) > request.size:
            raise UsbStall(f"SEND of {len(data)} bytes overflows request {request_id} ({request.size} bytes)")
        request.payload += data
        if len(request.payload) == request.size:
            self._run(request)

    def _recv(self, request_id: int, w_length: int) -> bytes:
        request = self._requests.get(request_id)
        if request is None or request.reply is None or not self._done(request):
            raise UsbStall(f"RECV for request {request_id}, which has no reply ready")
        remaining = len(request.reply.data) - request.sent
        if w_length == 0 or w_length > remaining or w_length > MAX_CHUNK_SIZE:
            raise UsbStall(f"RECV of {w_length} bytes; request {request_id} has {remaining} left")
        chunk = request.reply.data[request.sent : request.sent + w_length]
        request.sent += w_length
        if request.sent == len(request.reply.data):
            self._finish(request)
        return chunk

    def _reset(self, request_id: int, w_length: int) -> bytes:
        _require_length(w_length)
        if request_id == 0:
            self._requests.clear()
            return service_reply(ServiceStatus.OK)
        if self._requests.pop(request_id, None) is None:
            return service_reply(ServiceStatus.NOT_FOUND)
        return service_reply(ServiceStatus.OK)

    # --- raw vendor requests -------------------------------------------------------------------------------------

    def _raw(self, direction_in: bool, w_index: int, data: bytes, w_length: int) -> bytes:
        device = self._device
        if direction_in:
            if w_index == RawVendorIndex.DEVICE_ID:
                reply = device.device_id.value.upper().encode("ascii")
            elif w_index == RawVendorIndex.SYSTEM_VERSION:
                reply = device.device_os.encode("ascii")
            else:
                raise UsbStall(f"raw vendor IN request {w_index} is not defined")
            # The device stalls rather than truncate (usb_control_request_channel.cpp processVendorRequest).
            if not len(reply) <= w_length <= RAW_VENDOR_MAX_LENGTH:
                raise UsbStall(
                    f"raw vendor request {w_index} needs wLength {len(reply)}..{RAW_VENDOR_MAX_LENGTH}, got {w_length}"
                )
            return reply
        if device.board.control_out_needs_data_stage and not data:
            raise UsbStall("this platform needs a data stage on control OUT transfers")
        if w_index == RawVendorIndex.RESET:
            device.reset(0.0)
        elif w_index == RawVendorIndex.CLOUD_DISCONNECT:
            device.cloud_connected = False
        else:
            raise UsbStall(f"raw vendor OUT request {w_index} is not defined")
        return b""

    # --- helpers -------------------------------------------------------------------------------------------------

    def _next_id(self) -> int:
        candidate = self._last_id
        while True:
            candidate = candidate + 1 if candidate + 1 < REQUEST_ID_LIMIT else 1
            if candidate not in self._requests:
                self._last_id = candidate
                return candidate

    def _promote(self, request: _Request) -> None:
        if request.stage is _Stage.ALLOCATING and time.monotonic() >= request.ready_at:
            request.stage = _Stage.RECEIVING

    def _done(self, request: _Request) -> bool:
        if request.stage is _Stage.RECEIVING:
            return True  # "done" with allocation: waiting for SEND
        return request.stage is _Stage.RUNNING and time.monotonic() >= request.ready_at

    def _run(self, request: _Request) -> None:
        request.reply = self._handlers.handle(request.type, bytes(request.payload))
        request.stage = _Stage.RUNNING
        request.ready_at = time.monotonic() + self._device.timing.handler_s + request.reply.delay_s

    def _finish(self, request: _Request) -> None:
        self._requests.pop(request.id, None)
        if request.reply is not None and request.reply.after_reply is not None:
            request.reply.after_reply()


def _require_length(w_length: int) -> None:
    if w_length < MIN_SERVICE_WLENGTH:
        raise UsbStall(f"service request with wLength {w_length}; the device needs at least {MIN_SERVICE_WLENGTH}")
