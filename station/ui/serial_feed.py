"""Scans from a serial barcode scanner (``run --scanner PORT``) into the operator window, read on a thread."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from hardware.identifiers import LabelScan
from hardware.progress import CancelToken
from hardware.scanner.serial_scanner import SerialScanner, SerialScannerError


class SerialScanFeed(QObject):
    """Reads ``scanner`` until ``stop()``; each label arrives as ``scanned`` (a LabelScan), each unreadable line and
    a scanner that stopped working as ``problem`` (one sentence). Signals cross to the GUI thread queued."""

    scanned = Signal(object)
    problem = Signal(str)

    def __init__(self, scanner: SerialScanner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.scanner = scanner
        self._cancel = CancelToken()
        self._thread: threading.Thread | None = None

    def start(self) -> SerialScanFeed:
        if self._thread is None:
            self._thread = threading.Thread(target=self._read, name="serial-scanner", daemon=True)
            self._thread.start()
        return self

    def _read(self) -> None:
        try:
            for scan in self.scanner.scans(self._cancel):
                if isinstance(scan, LabelScan):
                    self.scanned.emit(scan)
                else:
                    self.problem.emit(f"Not scanned: {scan.message}")
        except SerialScannerError as exc:
            self.problem.emit(f"{exc}; then restart the station.")

    def stop(self, timeout: float = 2.0) -> None:
        self._cancel.cancel()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
