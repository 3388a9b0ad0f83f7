"""What ``identify`` and ``flash`` print, over USB or the serial console alike: a device report and flash progress."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from hardware.identifiers import DeviceId
    from hardware.progress import ProgressEvent

_BAR_WIDTH = 30


@dataclass(frozen=True)
class DeviceReport:
    """What ``identify`` shows about one device, whichever way it was asked."""

    device_id: DeviceId
    platform: str
    platform_id: int
    mode: str
    serial: str | None = None
    device_os: str | None = None
    iccid: str | None = None
    imei: str | None = None
    user_part_version: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.device_id),
            "platform": self.platform,
            "platform_id": self.platform_id,
            "mode": self.mode,
            "serial": self.serial,
            "device_os": self.device_os,
            "iccid": self.iccid,
            "imei": self.imei,
            "user_part_version": self.user_part_version,
        }

    def lines(self) -> list[str]:
        from hardware.platforms import by_id

        rows = [
            ("Device ID", str(self.device_id)),
            ("Platform", str(by_id(self.platform_id))),
            ("Mode", self.mode),
            ("Serial number", self.serial),
            ("Device OS", self.device_os),
            ("ICCID", self.iccid),
            ("IMEI", self.imei),
            # The module version the device reports, not the product firmware version (which it does not report).
            ("Application module", None if self.user_part_version is None else f"version {self.user_part_version}"),
        ]
        return [f"{name + ':':<21}{value}" for name, value in rows if value is not None]


class ProgressPrinter:
    """Prints progress events: a redrawn bar on a terminal, one line per phase otherwise."""

    def __init__(self, stream: TextIO, *, tty: bool | None = None) -> None:
        self._stream = stream
        self._tty = stream.isatty() if tty is None else tty
        self._open_bar = False

    def __call__(self, event: ProgressEvent) -> None:
        if event.total == 0:
            self._end_bar()
            self._write(f"{event.detail or event.phase}...\n")
            return
        if self._tty:
            filled = int(_BAR_WIDTH * event.fraction)
            bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
            amount = f"{event.done // 1024}/{event.total // 1024} KB"
            self._write(f"\r  {event.phase:<7}[{bar}] {event.fraction:4.0%}  {amount}")
            self._open_bar = event.done < event.total
            if not self._open_bar:
                self._write("\n")
        elif event.done >= event.total:
            self._write(f"  {event.phase}: {event.total} bytes done\n")

    def _end_bar(self) -> None:
        if self._open_bar:
            self._write("\n")
            self._open_bar = False

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()
