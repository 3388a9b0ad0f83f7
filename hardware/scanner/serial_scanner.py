"""Read device labels from a serial barcode scanner: frame lines by a configurable terminator, parse, never crash.

Each complete line becomes either a ``LabelScan`` or a ``LabelRejection`` that says why the line is not a Particle
label (secrets masked); line noise, a wrong terminator setting or a non-Particle code never stops the reader.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator

from hardware.errors import HardwareError
from hardware.identifiers import LabelScan
from hardware.progress import CancelToken
from hardware.scanner.labels import LabelRejection, read_label
from hardware.serial.ports import open_port
from hardware.serial.reading import Clock, SerialPortIO, SerialPortLike

log = logging.getLogger(__name__)

TERMINATORS: dict[str, bytes] = {"cr": b"\r", "lf": b"\n", "crlf": b"\r\n", "tab": b"\t"}
"""Named scanner suffixes, as a station profile or command line names them."""

MAX_LINE = 512
"""Longest line kept; longer input is noise or a missing terminator, and is rejected rather than buffered."""


class SerialScannerError(HardwareError):
    """The scanner's serial port failed (unplugged, busy, not permitted)."""


def parse_terminator(text: str) -> bytes:
    """A terminator from a name (cr, lf, crlf, tab) or an escaped literal such as ``\\r\\n`` or ``#``."""
    named = TERMINATORS.get(text.strip().lower())
    if named is not None:
        return named
    try:
        literal = text.encode("latin-1").decode("unicode_escape").encode("latin-1")
    except (UnicodeError, ValueError):
        literal = b""
    if not literal:
        names = ", ".join(TERMINATORS)
        raise SerialScannerError(f"scanner terminator {text!r} is not valid; use one of {names} or a literal")
    return literal


ScanResult = LabelScan | LabelRejection
"""What one scanned line becomes; the rejection's reason has any mobile secret masked."""


class SerialScanner:
    """Turns the byte stream of a serial barcode scanner into label scans, one per terminated line."""

    def __init__(
        self,
        port: SerialPortLike,
        *,
        terminator: bytes = b"\r",
        idle_flush: float | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        """``idle_flush``: seconds after which an unterminated line counts as complete (scanners set to no suffix)."""
        if not terminator:
            raise SerialScannerError("scanner terminator is empty; use CR, LF, CRLF, TAB or another character")
        self._link = SerialPortIO(port, clock=clock)
        self._port = port
        self._terminator = terminator
        self._idle_flush = idle_flush
        self._buffer = bytearray()
        self._last_byte_at = 0.0
        self._overflowed = False

    @classmethod
    def open(cls, path: str, *, baudrate: int = 9600, terminator: bytes = b"\r") -> SerialScanner:
        try:
            port = open_port(path, baudrate=baudrate)
        except HardwareError as exc:
            raise SerialScannerError(f"barcode scanner: {exc}") from exc
        return cls(port, terminator=terminator)

    @property
    def port_name(self) -> str:
        return self._link.name

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._port.close()

    def read_scan(self, timeout: float) -> ScanResult | None:
        """The next scan, or None when no complete line arrived within ``timeout`` seconds. Blank lines are skipped."""
        deadline = self._link.now() + timeout
        while True:
            result = self._next_result()
            if result is not None:
                return result
            if self._link.now() >= deadline:
                return None
            self._receive()

    def scans(self, cancel: CancelToken | None = None, poll: float = 0.1) -> Iterator[ScanResult]:
        """Scans as they arrive until ``cancel`` is set or the port fails (SerialScannerError)."""
        while cancel is None or not cancel.cancelled:
            result = self.read_scan(poll)
            if result is not None:
                yield result

    def _receive(self) -> None:
        try:
            chunk = self._link.read_available()
        except HardwareError as exc:
            raise SerialScannerError(
                f"barcode scanner on {self.port_name} stopped working ({exc}); check its cable and reconnect it",
            ) from exc
        if chunk:
            self._buffer += chunk
            self._last_byte_at = self._link.now()

    def _next_result(self) -> ScanResult | None:
        while True:
            position = self._buffer.find(self._terminator)
            if position < 0:
                break
            line = bytes(self._buffer[:position])
            del self._buffer[: position + len(self._terminator)]
            if self._overflowed:
                self._overflowed = False
                return LabelRejection(f"more than {MAX_LINE} bytes without a terminator; check the scanner's suffix")
            result = self._parse(line)
            if result is not None:
                return result
        if len(self._buffer) > MAX_LINE:
            # Discard until the next terminator, then report the whole run as one rejected line.
            self._buffer.clear()
            self._overflowed = True
        elif (
            self._idle_flush is not None and self._buffer and self._link.now() - self._last_byte_at >= self._idle_flush
        ):
            line = bytes(self._buffer)
            self._buffer.clear()
            return self._parse(line)
        return None

    def _parse(self, raw: bytes) -> ScanResult | None:
        # With CR LF suffixes and a CR terminator (or the reverse) the other half is left at a line's edge.
        text = raw.decode("utf-8", errors="replace").strip("\r\n")
        if not text.strip():
            return None
        if "\ufffd" in text:
            return LabelRejection("scan contains bytes that are not text; check the scanner's baud rate")
        result = read_label(text)
        if isinstance(result, LabelRejection):
            log.info("rejected a %d-character scan on %s", len(text), self.port_name)
        else:
            log.info("label scanned on %s: %s", self.port_name, result)
        return result
