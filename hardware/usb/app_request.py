"""Requests to the application on a device (control request type 10, APP_CUSTOM): large payloads, at most four in
flight per device, a per-request timeout, and clear errors when the device resets or vanishes mid-request.

Facts: Device OS system/inc/system_control.h (CTRL_REQUEST_APP_CUSTOM = 10, the application's handler);
system/src/usb_control_request_channel.h (payloads up to 65,535 bytes, at most 4 requests active, payloads over
64 bytes allocated asynchronously so INIT answers PENDING); particle-usb 4.1.0 src/device-base.js (transfers of at
most 4,096 bytes, CHECK polled at 50, 50, 100, 100, 250, 250, 500, 500 then 1000 ms, RESET on timeout). The framing
itself is ``hardware.usb.control.ControlChannel``; this module adds what a fixture needs on top of it, and polls
faster than particle-usb (hardware.usb.timing.APP_CHECK_DELAYS_S says why).

    reply = send_app_request(channel, b'{"op": "battery"}', timeout=5.0)
    if reply.result == 0:
        fields = json.loads(reply.data)
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from hardware.usb.control import ControlChannel, result_name
from hardware.usb.errors import (
    AppRequestFailed,
    AppRequestLost,
    AppRequestTimeout,
    AppRequestTooLarge,
    DeviceBusyError,
    DeviceDisconnectedError,
    RequestCancelledError,
    RequestTimeoutError,
    UsbTimeoutError,
)
from hardware.usb.protocol import MAX_PAYLOAD_SIZE, ResultCode
from hardware.usb.timing import APP_CHECK_DELAYS_S

APP_CUSTOM_REQUEST = 10
"""CTRL_REQUEST_APP_CUSTOM (Device OS system/inc/system_control.h): raw bytes to and from the application."""
MAX_IN_FLIGHT = 4
"""Requests a device keeps active at once; a fifth INIT gets BUSY (Device OS usb_control_request_channel.h)."""


@dataclass(frozen=True)
class AppReply:
    """The application's answer: its result code (a Device OS system_error value, 0 = OK) and reply payload."""

    result: int
    data: bytes

    @property
    def ok(self) -> bool:
        return self.result == ResultCode.OK


class _InFlightLimits:
    """One semaphore per device id: the limit belongs to the device, whichever handle or thread sends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}

    def slots(self, device_key: str) -> threading.BoundedSemaphore:
        with self._lock:
            slots = self._slots.get(device_key)
            if slots is None:
                slots = self._slots[device_key] = threading.BoundedSemaphore(MAX_IN_FLIGHT)
            return slots


_LIMITS = _InFlightLimits()


def send_app_request(channel: ControlChannel, payload: bytes, *, timeout: float,
                     check_delays: Sequence[float] = APP_CHECK_DELAYS_S) -> AppReply:
    """Send ``payload`` to the device's application and return its result and reply, whatever the result.
    ``check_delays``: the CHECK polling schedule (hardware.usb.timing.APP_CHECK_DELAYS_S by default: a test op's
    reply is awaited on the unit's critical path, so it is polled faster than system requests).

    A fifth concurrent request to the same device waits for a free slot (the wait counts against ``timeout``).
    Raises AppRequestTooLarge (over 65,535 bytes), AppRequestTimeout (no answer within ``timeout``; the request is
    cancelled on the device), AppRequestLost (the device reset, vanished, or no longer knows the request).
    """
    if len(payload) > MAX_PAYLOAD_SIZE:
        raise AppRequestTooLarge(
            f"an application request to {channel.who} carries at most {MAX_PAYLOAD_SIZE} bytes, not {len(payload)}; "
            "shorten the request"
        )
    if timeout <= 0:
        raise ValueError(f"an application request needs a positive timeout, not {timeout}")
    clock = channel.clock
    deadline = clock() + timeout
    slots = _LIMITS.slots(str(channel.device.device_id))
    if not slots.acquire(timeout=timeout):
        raise AppRequestTimeout(
            f"{channel.who} kept {MAX_IN_FLIGHT} application requests in flight for {timeout:g} s, so another could "
            "not be sent; reset the device and retry"
        )
    try:
        remaining = max(deadline - clock(), 0.001)
        reply = channel.exchange(APP_CUSTOM_REQUEST, payload, timeout=remaining, check_delays=check_delays)
    except (RequestTimeoutError, DeviceBusyError, UsbTimeoutError) as exc:
        raise AppRequestTimeout(
            f"{channel.who} did not answer application request within {timeout:g} s; the test firmware may be hung — "
            f"reset the device and retry ({exc})"
        ) from exc
    except (DeviceDisconnectedError, RequestCancelledError) as exc:
        raise AppRequestLost(
            f"{channel.who} reset or disconnected before answering an application request; check the cable and "
            "the unit's power, then retry"
        ) from exc
    finally:
        slots.release()
    return AppReply(reply.result, reply.data)


def app_request_error(who: str, result: int) -> AppRequestFailed:
    """The error for an application request answered with a non-zero result, the result named."""
    if result == ResultCode.NOT_SUPPORTED:
        advice = "the firmware on it has no application request handler; flash the test firmware first"
    else:
        advice = "the test firmware refused the request; check the op and its fields"
    return AppRequestFailed(
        f"{who} answered application request {APP_CUSTOM_REQUEST} with {result_name(result)} ({result}): {advice}",
        request=APP_CUSTOM_REQUEST,
        result=result,
    )
