"""Serial operations as plain functions (identify, flash): open the port, reach listening mode, run, tidy up."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from hardware import platforms
from hardware.firmware.versions import DeviceOsVersion
from hardware.progress import CancelToken, ProgressCallback, no_progress
from hardware.serial.console import (
    DEFAULT_CONSOLE_TIMEOUTS,
    ConsoleTimeouts,
    ListeningConsole,
    ListeningEntry,
    StartListening,
)
from hardware.serial.errors import ListeningModeError, SerialFlashingUnsupportedError
from hardware.serial.ports import open_port
from hardware.serial.reading import SerialPortLike, port_name
from hardware.serial.replies import SerialIdentity, SystemInfo, supports_ymodem
from hardware.serial.ymodem import DEFAULT_YMODEM_TIMEOUTS, YmodemTimeouts, unsupported_message

log = logging.getLogger(__name__)

PortArg = str | SerialPortLike
"""A port path to open (and close afterwards) or an already open port object (left open)."""


@dataclass(frozen=True)
class SerialDeviceReport:
    """Everything the listening console tells about one device."""

    port: str
    identity: SerialIdentity
    version: DeviceOsVersion
    system: SystemInfo
    listening_entry: ListeningEntry = ListeningEntry.ALREADY
    """How the device came into listening mode; unless ALREADY, it was sent back to normal operation."""

    @property
    def platform(self) -> platforms.Platform | None:
        return self.system.platform


@contextlib.contextmanager
def _console(port: PortArg, timeouts: ConsoleTimeouts) -> Iterator[ListeningConsole]:
    if isinstance(port, str):
        opened = open_port(port)
        try:
            yield ListeningConsole(opened, timeouts=timeouts)
        finally:
            with contextlib.suppress(OSError):
                opened.close()
    else:
        yield ListeningConsole(port, timeouts=timeouts)


def identify_over_serial(
    port: PortArg,
    *,
    start_listening: StartListening | None = None,
    device_os: DeviceOsVersion | None = None,
    timeouts: ConsoleTimeouts = DEFAULT_CONSOLE_TIMEOUTS,
) -> SerialDeviceReport:
    """Identify the device on ``port`` with ``i``, ``v`` and ``s``.

    The device is put into listening mode if needed (``start_listening`` or the 28800-baud trigger) and sent back
    to normal operation afterwards when this function put it there.
    """
    with _console(port, timeouts) as console:
        entry = console.enter_listening_mode(start_listening=start_listening, device_os=device_os)
        identity = console.identify()
        version = console.version()
        system = console.system_info()
        if entry is not ListeningEntry.ALREADY:
            console.exit_listening_mode()
        log.info("identified %s on %s (Device OS %s)", identity.device_id, console.port_name, version)
        return SerialDeviceReport(console.port_name, identity, version, system, entry)


def flash_over_serial(
    port: PortArg,
    module: bytes,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    *,
    start_listening: StartListening | None = None,
    device_os: DeviceOsVersion | None = None,
    block_size: int = 128,
    timeouts: ConsoleTimeouts = DEFAULT_CONSOLE_TIMEOUTS,
    ymodem_timeouts: YmodemTimeouts = DEFAULT_YMODEM_TIMEOUTS,
) -> None:
    """Flash one module binary over YMODEM (Device OS below 6.0.0); the device validates it and resets.

    With ``device_os`` 6.0.0 or later this refuses before touching the port; otherwise the version is read with
    ``v`` and a 6.x device is refused before ``f`` is sent.
    """
    if device_os is not None and not supports_ymodem(device_os):
        name = port if isinstance(port, str) else port_name(port)
        raise SerialFlashingUnsupportedError(unsupported_message(name, str(device_os)), port=name)
    with _console(port, timeouts) as console:
        try:
            console.enter_listening_mode(start_listening=start_listening, device_os=device_os)
        except ListeningModeError as exc:
            raise ListeningModeError(
                f"{exc}. If the device runs Device OS 6.0.0 or later it cannot be flashed over serial at all: "
                "flash it over USB DFU instead",
                port=exc.port,
            ) from exc
        console.flash_module(
            module,
            progress=progress,
            cancel=cancel,
            device_os=device_os,
            block_size=block_size,
            ymodem_timeouts=ymodem_timeouts,
        )
