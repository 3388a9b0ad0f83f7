"""Deadline-bounded reading and writing on a serial port: idle-gap framing, partial replies, clear port errors.

Received bytes are never logged: console replies carry mobile secrets and the echo of Wi-Fi passwords.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

from hardware.serial.errors import SerialDisconnectedError, SerialTimeoutError

log = logging.getLogger(__name__)

try:
    import termios

    PORT_ERRORS: tuple[type[Exception], ...] = (OSError, termios.error)
except ImportError:  # Windows: pyserial raises SerialException (an OSError) only
    PORT_ERRORS = (OSError,)
"""What a port operation raises when the device vanished; pyserial lets termios.error through on POSIX."""

READ_SLICE = 0.02
"""Seconds one blocking read may wait; deadlines and idle gaps are checked between reads."""

Clock = Callable[[], float]


class SerialPortLike(Protocol):
    """The part of a pyserial port that the console uses; ``serial.Serial`` is the real one."""

    port: str | None
    baudrate: int
    timeout: float | None

    @property
    def in_waiting(self) -> int: ...

    @property
    def is_open(self) -> bool: ...

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes, /) -> int | None: ...

    def flush(self) -> None: ...

    def reset_input_buffer(self) -> None: ...

    def close(self) -> None: ...


def port_name(port: SerialPortLike) -> str:
    """The port's device path, or a placeholder when the port object has none."""
    return port.port or "<unnamed serial port>"


class SerialPortIO:
    """Reads and writes one open port with deadlines; converts pyserial failures into errors naming the port."""

    def __init__(self, port: SerialPortLike, *, clock: Clock = time.monotonic) -> None:
        self.port = port
        self._clock = clock
        # A short port timeout lets one read return soon when nothing arrives, so deadlines stay precise. pyserial
        # reconfigures the port when the timeout changes, so it is set once here and never per read.
        if port.timeout is None or port.timeout > READ_SLICE:
            port.timeout = READ_SLICE

    @property
    def name(self) -> str:
        return port_name(self.port)

    def now(self) -> float:
        return self._clock()

    def write(self, data: bytes) -> None:
        try:
            self.port.write(data)
            self.port.flush()
        except PORT_ERRORS as exc:
            raise self._disconnected("writing to", exc) from exc

    def discard_input(self) -> None:
        """Drop whatever the device sent before now, so the next reply starts clean."""
        try:
            self.port.reset_input_buffer()
        except PORT_ERRORS as exc:
            raise self._disconnected("clearing", exc) from exc

    def read_available(self) -> bytes:
        """Whatever has arrived, waiting at most one read slice for the first byte; b"" when nothing came."""
        try:
            waiting = self.port.in_waiting
            return self.port.read(max(1, waiting))
        except PORT_ERRORS as exc:
            raise self._disconnected("reading from", exc) from exc

    def read_byte(self, timeout: float) -> int | None:
        """One byte, or None when none arrived within ``timeout`` seconds."""
        deadline = self.now() + timeout
        while True:
            try:
                data = self.port.read(1)
            except PORT_ERRORS as exc:
                raise self._disconnected("reading from", exc) from exc
            if data:
                return data[0]
            if self.now() >= deadline:
                return None

    def read_reply(
        self,
        *,
        what: str,
        timeout: float,
        complete: Callable[[bytes], bool] | None = None,
        started: Callable[[bytes], bool] | None = None,
        idle_gap: float = 0.25,
        settle: float = 0.05,
        advice: str = "",
    ) -> bytes:
        """Read one reply and return every byte received, noise included.

        The reply ends when ``complete(received)`` holds and ``settle`` seconds then pass without a byte (this
        swallows trailing noise), or, for replies without an end marker, after ``idle_gap`` seconds of silence once
        ``started(received)`` holds. Without either predicate, any byte starts the reply. SerialTimeoutError when
        the reply has not completed (or, lacking ``complete``, not started) within ``timeout`` seconds.
        """
        if complete is None and started is None:
            started = bool
        received = bytearray()
        deadline = self.now() + timeout
        last_byte_at: float | None = None
        done = False
        begun = False
        while True:
            chunk = self.read_available()
            now = self.now()
            if chunk:
                received += chunk
                last_byte_at = now
                snapshot = bytes(received)
                if complete is not None and not done:
                    done = complete(snapshot)
                if started is not None and not begun:
                    begun = started(snapshot)
            quiet = now - last_byte_at if last_byte_at is not None else 0.0
            if done and quiet >= settle:
                return bytes(received)
            if begun and quiet >= idle_gap:
                return bytes(received)
            if now >= deadline:
                if done or begun:
                    return bytes(received)
                raise self._timed_out(what, timeout, len(received), advice)

    def _timed_out(self, what: str, timeout: float, count: int, advice: str) -> SerialTimeoutError:
        heard = (
            "nothing arrived"
            if count == 0
            else f"{count} bytes arrived but did not form the expected reply "
            "(line noise, or another program on the port?)"
        )
        message = f"no reply to {what} from the device on {self.name} within {timeout:g} s: {heard}"
        if advice:
            message += f"; {advice}"
        log.debug("timeout on %s waiting for %s (%d bytes received)", self.name, what, count)
        return SerialTimeoutError(message, port=self.name)

    def _disconnected(self, action: str, exc: BaseException) -> SerialDisconnectedError:
        return SerialDisconnectedError(
            f"serial port {self.name} failed while {action} it ({exc}); the device reset or was unplugged. "
            "Check the cable, wait for the device to come back and try again",
            port=self.name,
        )
