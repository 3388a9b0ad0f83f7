"""A simulated serial barcode scanner: a pty whose slave path the station opens like a real scanner's port."""

from __future__ import annotations

import contextlib
import os
import threading
import tty


class SimulatedSerialScanner:
    """Writes scans, as a scanner would, into a pty; open ``port_path`` with pyserial to read them."""

    def __init__(self, terminator: bytes = b"\r", aim_prefix: bool = False, aim_identifier: str = "]d2") -> None:
        """``aim_prefix`` puts the AIM symbology identifier (``]d2`` = Data Matrix) in front of every scan."""
        self.terminator = terminator
        self.aim_prefix = aim_prefix
        self._aim_identifier = aim_identifier.encode("ascii")
        self._master, self._slave = os.openpty()
        # Raw mode before any reader opens the port: no echo back into the scanner, no line editing, no CR mapping.
        tty.setraw(self._slave)
        self.port_path = os.ttyname(self._slave)
        self._lock = threading.Lock()
        self._closed = False

    def scan(self, text: str) -> None:
        """One scan of a label whose content is ``text``."""
        prefix = self._aim_identifier if self.aim_prefix else b""
        self.send_raw(prefix + text.encode("utf-8") + self.terminator)

    def send_raw(self, data: bytes) -> None:
        """Bytes exactly as given: line noise, a partial scan or a scan with a different terminator."""
        with self._lock:
            if self._closed:
                raise OSError(f"simulated scanner {self.port_path} is closed")
            view = memoryview(data)
            while view:
                written = os.write(self._master, view)
                view = view[written:]

    def close(self) -> None:
        """Unplug the scanner: a reader's next read fails as on a real disconnect."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for fd in (self._master, self._slave):
                with contextlib.suppress(OSError):
                    os.close(fd)

    def __enter__(self) -> SimulatedSerialScanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
