"""One line to the application's serial console and its one-line JSON answer: the fixture protocol's ops for units
whose Device OS is too old for USB control request 10 to reach the application, or that are wired over serial only.

The test firmware reads the USB serial (CDC) port line by line while it runs (not in listening mode) and answers
each JSON request line (taken from its first "{"; a line without one is no request) with one JSON line
(docs/fixture-protocol.md, "Over the serial console"); reply lines that are not a JSON object (its own log output)
are skipped.

    reply = exchange_console_line(port, '{"op": "battery"}', timeout=5.0)
"""

from __future__ import annotations

import time

from hardware.serial.errors import SerialReplyError, SerialTimeoutError
from hardware.serial.reading import Clock, SerialPortIO, SerialPortLike

MAX_CONSOLE_REPLY = 65_535
"""Longest reply line taken (the same limit as a request 10 payload)."""


def exchange_console_line(port: SerialPortLike, line: str, *, timeout: float,
                          clock: Clock = time.monotonic) -> str:
    """Write ``line`` (a newline added) and return the first line the application answers that is a JSON object.

    Raises SerialTimeoutError when no such line comes within ``timeout`` seconds, SerialDisconnectedError when the
    port goes away (the unit reset or was unplugged), SerialReplyError for a reply line over 65,535 bytes.
    """
    if "\n" in line or "\r" in line:
        raise ValueError("a console request is one line")
    io = SerialPortIO(port, clock=clock)
    io.discard_input()
    # The leading newline ends whatever partial line the console holds (keys from a listening-mode probe): the test
    # firmware ignores a line with no "{", so the request is read whole.
    io.write(b"\n" + line.encode("utf-8") + b"\n")
    deadline = io.now() + timeout
    pending = bytearray()
    while True:
        remaining = deadline - io.now()
        if remaining <= 0:
            raise SerialTimeoutError(
                f"{io.name}: the application did not answer {line[:60]!r} on the serial console within {timeout:g} s; "
                "check that the unit runs the test firmware, then reset it and retry"
            )
        byte = io.read_byte(remaining)
        if byte is None:
            continue
        if byte != ord("\n"):
            pending.append(byte)
            if len(pending) > MAX_CONSOLE_REPLY:
                raise SerialReplyError(f"{io.name}: the application's console reply is over {MAX_CONSOLE_REPLY} "
                                       "bytes without an end of line")
            continue
        text = pending.decode("utf-8", "replace").strip()
        pending.clear()
        if text.startswith("{"):
            return text
