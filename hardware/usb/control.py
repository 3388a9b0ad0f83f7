"""The control-request channel of a device in normal mode: INIT/CHECK/SEND/RECV/RESET framing over vendor requests.

Facts: particle-usb 4.1.0 src/usb-protocol.js, src/device-base.js, src/result.js and src/usb-device-node.js (services,
reply layout, statuses, CHECK back-off, host behaviour, result codes, quirk Q); Device OS 6.2.0
system/src/usb_control_request_channel.cpp (device side, raw 0x50 requests). The back-off schedule, the timeouts and
the clock are parameters so tests can run the real protocol with no waiting.
"""

from __future__ import annotations

import contextlib
import logging
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hardware.usb.discovery import UsbDevice
from hardware.usb.errors import (
    ControlProtocolError,
    DeviceBusyError,
    DeviceMemoryError,
    DeviceProtectedError,
    NotAllowedError,
    NotSupportedError,
    RequestCancelledError,
    RequestTimeoutError,
    UsbError,
    UsbRequestError,
)
from hardware.usb.protocol import (
    CHECK_DELAYS_S,
    DEFAULT_REQUEST_TIMEOUT_S,
    MAX_CHUNK_SIZE,
    MAX_PAYLOAD_SIZE,
    RAW_VENDOR_REPLY_LENGTH,
    RAW_VENDOR_REQUEST,
    SERVICE_REPLY_LENGTH,
    TRANSFER_TIMEOUT_MS,
    VENDOR_IN,
    VENDOR_OUT,
    RawVendorIndex,
    ReplyField,
    RequestType,
    ResultCode,
    ServiceRequest,
    ServiceStatus,
)

log = logging.getLogger(__name__)

_ERRORS_BY_RESULT: dict[int, type[UsbRequestError]] = {
    ResultCode.NOT_SUPPORTED: NotSupportedError,
    ResultCode.NOT_ALLOWED: NotAllowedError,
    ResultCode.DEVICE_PROTECTED: DeviceProtectedError,
}

_ADVICE_BY_RESULT: dict[int, str] = {
    ResultCode.NOT_SUPPORTED: "this device or its Device OS version does not support it",
    ResultCode.NOT_ALLOWED: "the application on the device blocks this request; flash firmware that allows it",
    ResultCode.DEVICE_PROTECTED: (
        "it is a Protected Device; rework it through Service Mode: particle-station protection disable"
    ),
    ResultCode.KEY_MISMATCH: "the device does not know the server key (KEY_MISMATCH)",
    ResultCode.INVALID_SIGNATURE: "the device rejected the signature (INVALID_SIGNATURE)",
    ResultCode.BUSY: "the device is busy; retry in a moment",
    ResultCode.INVALID_STATE: "the device is not in a state that accepts it; reset the device and retry",
    ResultCode.TIMEOUT: "the device timed out; retry",
}


def request_name(request_type: int) -> str:
    try:
        return f"{request_type} ({RequestType(request_type).name})"
    except ValueError:
        return str(request_type)


def result_name(result: int) -> str:
    try:
        return ResultCode(result).name
    except ValueError:
        return f"result {result}"


def request_error(device: str, request_type: int, result: int) -> UsbRequestError:
    """The typed error for a request that finished with a non-zero result."""
    cls = _ERRORS_BY_RESULT.get(result, UsbRequestError)
    advice = _ADVICE_BY_RESULT.get(result, "check the device's Device OS version and retry")
    return cls(
        f"{device} answered request {request_name(request_type)} with {result_name(result)}: {advice}",
        request=request_type,
        result=result,
    )


@dataclass(frozen=True)
class ServiceReply:
    """A parsed INIT/CHECK/RESET reply: the status and whichever optional fields the flags say are present."""

    status: int
    request_id: int | None = None
    size: int | None = None
    result: int | None = None

    @classmethod
    def parse(cls, data: bytes, who: str) -> ServiceReply:
        if len(data) < 6:
            raise ControlProtocolError(f"{who} sent a {len(data)}-byte service reply; reset the device and retry")
        flags, status = struct.unpack_from("<IH", data, 0)
        offset, request_id, size, result = 6, None, None, None
        try:
            if flags & ReplyField.ID:
                (request_id,) = struct.unpack_from("<H", data, offset)
                offset += 2
            if flags & ReplyField.SIZE:
                (size,) = struct.unpack_from("<I", data, offset)
                offset += 4
            if flags & ReplyField.RESULT:
                (result,) = struct.unpack_from("<i", data, offset)
        except struct.error:
            raise ControlProtocolError(
                f"{who} sent a service reply shorter than its flags 0x{flags:02x} say; reset the device and retry"
            ) from None
        return cls(status, request_id, size, result)


@dataclass(frozen=True)
class ControlReply:
    """The outcome of one request: its result code and reply payload."""

    result: int
    data: bytes


class ControlChannel:
    """Sends framed control requests to one device in normal mode, one at a time."""

    def __init__(
        self,
        device: UsbDevice,
        *,
        check_delays: Sequence[float] = CHECK_DELAYS_S,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT_S,
        transfer_timeout_ms: int = TRANSFER_TIMEOUT_MS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not check_delays:
            raise ValueError("check_delays needs at least one delay")
        self.device = device
        self.check_delays = tuple(check_delays)
        self.request_timeout = request_timeout
        self.transfer_timeout_ms = transfer_timeout_ms
        self._clock = clock
        self._sleep = sleep

    @property
    def who(self) -> str:
        return self.device.describe()

    @property
    def clock(self) -> Callable[[], float]:
        return self._clock

    # ---- framed requests ----

    def request(self, request_type: int, payload: bytes = b"", *, timeout: float | None = None) -> bytes:
        """Send a request and return its reply payload; a non-zero result raises the matching UsbRequestError."""
        reply = self.exchange(request_type, payload, timeout=timeout)
        if reply.result != ResultCode.OK:
            raise request_error(self.who, request_type, reply.result)
        return reply.data

    def exchange(self, request_type: int, payload: bytes = b"", *, timeout: float | None = None,
                 check_delays: Sequence[float] | None = None) -> ControlReply:
        """Send a request and return its result code and reply, whatever the result. ``check_delays``: this
        request's polling schedule instead of the channel's (an application request polls faster)."""
        if len(payload) > MAX_PAYLOAD_SIZE:
            raise ValueError(f"request payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_SIZE}")
        if check_delays is not None and not check_delays:
            raise ValueError("check_delays needs at least one delay")
        delays = self.check_delays if check_delays is None else tuple(check_delays)
        limit = self.request_timeout if timeout is None else timeout
        deadline = self._clock() + limit
        name = request_name(request_type)
        request_id: int | None = None
        try:
            request_id, pending = self._init(request_type, len(payload), deadline, name, limit, delays)
            if pending:
                self._check(request_id, deadline, name, limit, delays)
            if payload:
                self._send(request_id, payload, name)
            done = self._check(request_id, deadline, name, limit, delays)
            data = self._recv(request_id, done.size or 0, name) if done.size else b""
            return ControlReply(done.result or 0, data)
        except UsbError as exc:
            # Cancel on the device so it frees the request; not after NOT_FOUND/NO_MEMORY (already gone) or a
            # disconnect (nothing to talk to).
            if request_id is not None and not isinstance(exc, RequestCancelledError | DeviceMemoryError):
                self._reset_quietly(request_id)
            raise

    def _transfer_timeout_ms(self, deadline: float) -> int:
        remaining_ms = int((deadline - self._clock()) * 1000)
        return max(1, min(self.transfer_timeout_ms, remaining_ms))

    def _service_in(self, service: ServiceRequest, value: int, index: int, what: str, deadline: float) -> ServiceReply:
        data = self.device.control_in(
            VENDOR_IN,
            service,
            value,
            index,
            SERVICE_REPLY_LENGTH,
            what=what,
            timeout_ms=self._transfer_timeout_ms(deadline),
        )
        return ServiceReply.parse(data, self.who)

    @staticmethod
    def _delay(delays: tuple[float, ...], attempt: int) -> float:
        return delays[min(attempt, len(delays) - 1)]

    def _timed_out(self, name: str, limit: float, stage: str) -> RequestTimeoutError:
        return RequestTimeoutError(
            f"request {name} to {self.who} did not finish within {limit:g} s ({stage}); it was cancelled — "
            "reset the device and retry"
        )

    def _init(self, request_type: int, size: int, deadline: float, name: str, limit: float,
              delays: tuple[float, ...]) -> tuple[int, bool]:
        attempt = 0
        while True:
            reply = self._service_in(ServiceRequest.INIT, size, request_type, f"INIT of request {name}", deadline)
            if reply.status in (ServiceStatus.OK, ServiceStatus.PENDING):
                if reply.request_id is None:
                    raise ControlProtocolError(f"{self.who} accepted request {name} without a request id")
                if reply.status == ServiceStatus.PENDING and size == 0:
                    raise ControlProtocolError(f"{self.who} answered PENDING to request {name}, which has no payload")
                return reply.request_id, reply.status == ServiceStatus.PENDING
            if reply.status not in (ServiceStatus.BUSY, ServiceStatus.NO_MEMORY):
                raise ControlProtocolError(
                    f"{self.who} answered INIT of request {name} with status {_status_name(reply.status)}; "
                    "reset the device and retry"
                )
            # BUSY: the device already runs its maximum of requests (other software may be talking to it);
            # NO_MEMORY: its buffer pool is empty. Both clear up on their own, so retry until the deadline.
            log.debug("%s: INIT of %s got %s, retrying", self.who, name, _status_name(reply.status))
            if self._clock() >= deadline:
                raise DeviceBusyError(
                    f"{self.who} stayed busy ({_status_name(reply.status)}) for {limit:g} s and did not accept "
                    f"request {name}; close other programs using the device (particle-cli, browsers) or reset it"
                )
            self._sleep(self._delay(delays, attempt))
            attempt += 1

    def _check(self, request_id: int, deadline: float, name: str, limit: float,
               delays: tuple[float, ...]) -> ServiceReply:
        attempt = 0
        while True:
            reply = self._service_in(ServiceRequest.CHECK, 0, request_id, f"CHECK of request {name}", deadline)
            if reply.status == ServiceStatus.OK:
                # Before SEND, OK means "buffer allocated"; after it, OK with a result means "done" (an OK without
                # one is taken as done with result 0, as particle-usb does).
                return reply
            if reply.status == ServiceStatus.PENDING:
                if self._clock() >= deadline:
                    raise self._timed_out(name, limit, "still pending")
                self._sleep(self._delay(delays, attempt))
                attempt += 1
                continue
            if reply.status == ServiceStatus.NO_MEMORY:
                raise DeviceMemoryError(
                    f"{self.who} ran out of memory for request {name} and dropped it; retry, or reset the device"
                )
            if reply.status == ServiceStatus.NOT_FOUND:
                raise RequestCancelledError(
                    f"{self.who} no longer knows request {name} (cancelled, or the device restarted); retry"
                )
            raise ControlProtocolError(
                f"{self.who} answered CHECK of request {name} with status {_status_name(reply.status)}; "
                "reset the device and retry"
            )

    def _send(self, request_id: int, payload: bytes, name: str) -> None:
        for offset in range(0, len(payload), MAX_CHUNK_SIZE):
            chunk = payload[offset : offset + MAX_CHUNK_SIZE]
            self.device.control_out(
                VENDOR_OUT,
                ServiceRequest.SEND,
                0,
                request_id,
                chunk,
                what=f"SEND of request {name}",
                timeout_ms=self.transfer_timeout_ms,
            )

    def _recv(self, request_id: int, size: int, name: str) -> bytes:
        out = bytearray()
        while len(out) < size:
            length = min(MAX_CHUNK_SIZE, size - len(out))
            chunk = self.device.control_in(
                VENDOR_IN,
                ServiceRequest.RECV,
                0,
                request_id,
                length,
                what=f"RECV of request {name}",
                timeout_ms=self.transfer_timeout_ms,
            )
            if len(chunk) != length:
                raise ControlProtocolError(
                    f"{self.who} sent {len(chunk)} of {length} reply bytes of request {name}; retry"
                )
            out += chunk
        return bytes(out)

    def _reset_quietly(self, request_id: int) -> None:
        with contextlib.suppress(UsbError):
            self.device.control_in(
                VENDOR_IN,
                ServiceRequest.RESET,
                0,
                request_id,
                SERVICE_REPLY_LENGTH,
                what="RESET of a request",
                timeout_ms=self.transfer_timeout_ms,
            )

    def reset_all(self) -> None:
        """Cancel every request the device holds (RESET with id 0), as particle-usb does when it opens a device."""
        self._service_in(ServiceRequest.RESET, 0, 0, "RESET of all requests", self._clock() + 5.0)

    # ---- raw vendor requests (no framing) ----

    def raw_read(self, index: RawVendorIndex) -> str:
        """A raw 0x50 IN request's text (device id or system version), cut at the first NUL."""
        data = self.device.control_in(
            VENDOR_IN,
            RAW_VENDOR_REQUEST,
            0,
            index,
            RAW_VENDOR_REPLY_LENGTH,
            what=f"raw request {index.name}",
            timeout_ms=self.transfer_timeout_ms,
        )
        return data.split(b"\0", 1)[0].decode("ascii", errors="replace")

    def raw_write(self, index: RawVendorIndex) -> None:
        """A raw 0x50 OUT request; quirk-Q platforms (RTL872x) need a one-byte data stage instead of none
        (particle-usb src/usb-device-node.js, controlOutTransfersRequireDataStage)."""
        data = b"\0" if self.device.platform.control_out_needs_data_stage else b""
        what = f"raw request {index.name}"
        self.device.control_out(
            VENDOR_OUT, RAW_VENDOR_REQUEST, 0, index, data, what=what, timeout_ms=self.transfer_timeout_ms
        )


def _status_name(status: int) -> str:
    try:
        return ServiceStatus(status).name
    except ValueError:
        return str(status)
