"""A simulated device's USB serial (CDC) console on a pty, served by a thread: line-coding triggers, the
listening-mode commands (``serial_commands``), YMODEM receive (``ymodem_receiver``) and injectable line faults.

The host opens the port path with pyserial. Like the real device (Device OS ``system/src/system_listening_mode.cpp``,
``system_update.cpp``), the console reacts to the line coding the host sets (read here from the pty with TCGETS2,
polled), exists only in normal and listening mode, and disappears (the pty hangs up) when the device resets, enters
DFU or is unplugged.

Each device owns one ``SerialConsolePort`` (``device.console``), which starts a session per USB session on demand.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import select
import struct
import sys
import termios
import threading
import time
import tty

from hardware.simulated import serial_facts as sf
from hardware.simulated.errors import SimulationError
from hardware.simulated.faults import SerialFaults
from hardware.simulated.lifecycle import DeviceMode
from hardware.simulated.serial_commands import ConsoleDevice, run_command
from hardware.simulated.versions import version_tuple
from hardware.simulated.ymodem_receiver import HangUp

_TCGETS2 = 0x802C542A
"""Linux ioctl reading ``struct termios2`` (44 bytes; c_ospeed at offset 40), as pyserial uses it to set rates."""
_CBAUD, _BOTHER = 0o010017, 0o010000
"""c_cflag speed bits, and the value meaning "the rate is in c_ospeed" (Linux asm-generic/termbits.h)."""
_STANDARD_SPEEDS = {
    getattr(termios, f"B{rate}"): rate
    for rate in (9600, 19200, 38400, 57600, 115200, 230400)
    if hasattr(termios, f"B{rate}")
}
POLL_INTERVAL = 0.01
"""Seconds the console waits for input before looking at the device and the line coding again."""


class _Stopped(Exception):
    """close() was called."""


def line_speed(fd: int) -> int:
    """The baud rate the host last set on the pty, custom rates (termios2 + BOTHER, as pyserial sets them) included."""
    if sys.platform.startswith("linux"):
        buffer = bytearray(44)
        with contextlib.suppress(OSError):
            fcntl.ioctl(fd, _TCGETS2, buffer)
            cflag, ospeed = struct.unpack_from("<I", buffer, 8)[0], struct.unpack_from("<I", buffer, 40)[0]
            if cflag & _CBAUD == _BOTHER:
                return int(ospeed)
            return _STANDARD_SPEEDS.get(cflag & _CBAUD, int(ospeed))
    return int(termios.tcgetattr(fd)[5])  # BSD/macOS keep the rate itself in the speed field


class SimulatedSerialConsole:
    """One USB session of a device's CDC console; ``SerialConsolePort.open()`` starts it."""

    def __init__(self, device: ConsoleDevice, faults: SerialFaults | None = None) -> None:
        if not device.present or device.mode is DeviceMode.DFU:
            raise SimulationError(
                f"{device.device_id} has no serial port now ({'DFU mode' if device.present else 'not on the bus'})"
            )
        self.device = device
        self.faults = faults or SerialFaults()
        self.block_check_errors = 0
        """YMODEM blocks whose CRC/checksum was wrong; Device OS checks only the sequence complement, so the
        simulator counts them instead of refusing them (tests assert the host's checks are right)."""
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo or line editing before the host has configured the port
        os.set_blocking(self._master, False)
        self.port_path = os.ttyname(self._slave)
        self._usb_session = device.usb_session
        self._speed = line_speed(self._slave)
        self._inbox = bytearray()
        self._app_line = bytearray()
        self._stop = threading.Event()
        self._hang_up = threading.Event()
        self._ending = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"serial-pty {device.device_id}", daemon=True)
        with _LIVE_LOCK:
            _LIVE.add(self)  # before the thread starts: it removes the session when it ends
        self._thread.start()

    @property
    def alive(self) -> bool:
        return not self._ending.is_set()

    @property
    def current(self) -> bool:
        """True while the device is still in the USB session this console belongs to, outside DFU mode."""
        return self.device.usb_session == self._usb_session and self.device.mode is not DeviceMode.DFU

    def hang_up(self) -> None:
        """Drop the connection now, as a pulled cable would (the device itself keeps its state)."""
        self._hang_up.set()
        self._join()

    def hang_up_later(self) -> None:
        """Drop the connection without waiting for the serving thread to end."""
        self._hang_up.set()

    def close(self) -> None:
        self._stop.set()
        self._join()

    def _join(self) -> None:
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5.0)

    # -- the serving thread ------------------------------------------------------------------------------------------

    def _serve(self) -> None:
        try:
            while True:
                key = self.read_byte()
                # A Protected Device starts no setup console in listening mode (Device OS
                # system/src/system_listening_mode.cpp): keys go unanswered.
                listening = self.device.mode is DeviceMode.LISTENING
                if key is not None and listening and self.device.protection != "protected":
                    run_command(self, self.device, chr(key))
                elif key is not None and not listening:
                    self._application_key(key)
        except (HangUp, _Stopped, OSError):
            pass
        finally:
            self._ending.set()  # before the hang-up becomes visible, so the port starts a new session
            for fd in (self._master, self._slave):
                with contextlib.suppress(OSError):
                    os.close(fd)
            with _LIVE_LOCK:
                _LIVE.discard(self)

    def _application_key(self, key: int) -> None:
        """Running firmware: test firmware reads its console line by line and answers each JSON request with one
        JSON line (docs/fixture-protocol.md); other firmware reads nothing."""
        if key != ord("\n"):
            self._app_line += bytes([key])
            return
        line, self._app_line = bytes(self._app_line), bytearray()
        at = line.find(b"{")  # a request starts at its first "{"; stray keys before it, or a line without one, are
        if at < 0:            # not requests (docs/fixture-protocol.md, "Over the serial console")
            return
        answer = self.device.console_request(line[at:].strip())
        if answer is None:
            return
        data, delay_s = answer
        if delay_s == float("inf"):
            return  # a unit that never answers (or reset half way through)
        self.pause(delay_s)
        self.write(data + b"\n")

    def _tick(self) -> None:
        if self._stop.is_set():
            raise _Stopped
        device = self.device
        if self._hang_up.is_set():
            raise HangUp
        if device.usb_session != self._usb_session or device.mode is DeviceMode.DFU:
            self._let_host_read()
            raise HangUp
        speed = line_speed(self._slave)
        if speed == self._speed:
            return
        self._speed = speed
        if speed == sf.DFU_TRIGGER_BAUD:
            device.enter_dfu()
        elif speed == sf.LISTENING_TRIGGER_BAUD and version_tuple(device.device_os) < sf.LISTENING_TRIGGER_REMOVED_IN:
            device.start_listening()
            self._inbox.clear()

    def _let_host_read(self, limit: float = 0.5, quiet: float = 0.05) -> None:
        """Before a reset drops the port, let the host read what was sent (a hang-up discards unread input).

        The kernel moves written bytes to the reader's queue asynchronously, so the queue must stay empty for
        ``quiet`` seconds, not just once.
        """
        deadline = time.monotonic() + limit
        waiting = bytearray(4)
        empty_since: float | None = None
        while (now := time.monotonic()) < deadline and not self._stop.is_set():
            fcntl.ioctl(self._slave, termios.FIONREAD, waiting)
            if int.from_bytes(waiting, sys.byteorder):
                empty_since = None
            elif empty_since is None:
                empty_since = now
            elif now - empty_since >= quiet:
                return
            self._stop.wait(POLL_INTERVAL)

    # -- the line, as the commands and YMODEM use it (serial_commands.ConsoleLink) ------------------------------------

    def read_byte(self, timeout: float | None = None) -> int | None:
        """The next byte from the host; None after ``timeout`` seconds (None: wait as long as the session lasts)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._inbox:
            self._tick()
            wait = POLL_INTERVAL if deadline is None else min(POLL_INTERVAL, deadline - time.monotonic())
            if wait <= 0:
                return None
            readable, _, _ = select.select([self._master], [], [], wait)
            if readable:
                with contextlib.suppress(BlockingIOError):
                    self._inbox += os.read(self._master, 4096)
        byte = self._inbox[0]
        del self._inbox[0]
        return byte

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            self._tick()
            _, writable, _ = select.select([], [self._master], [], POLL_INTERVAL)
            if writable:
                with contextlib.suppress(BlockingIOError):
                    view = view[os.write(self._master, view) :]

    def pause(self, seconds: float) -> None:
        if seconds > 0 and self._stop.wait(seconds):
            raise _Stopped

    def discard_input(self) -> None:
        self._inbox.clear()

    def reply(self, text: str) -> None:
        """Text output, with the reply faults applied (delay, noise around it, 5-byte pieces)."""
        self.pause(self.faults.reply_delay)
        data = self.faults.garbage_before + text.encode() + self.faults.garbage_after
        step = 5 if self.faults.dribble > 0 else len(data)
        for offset in range(0, len(data), step):
            self.pause(self.faults.dribble if offset else 0.0)
            self.write(data[offset : offset + step])


_LIVE: set[SimulatedSerialConsole] = set()
"""Sessions whose thread still runs, only so that ``close_all_serial_consoles`` can stop them at exit."""
_LIVE_LOCK = threading.Lock()


class SerialConsolePort:
    """A device's USB serial (CDC) function: at most one console session per USB session, started on demand.

    The device owns its port (``device.console``); a test injects line faults or hangs up through ``session``.
    """

    def __init__(self, device: ConsoleDevice) -> None:
        self._device = device
        self._lock = threading.Lock()
        self._session: SimulatedSerialConsole | None = None

    def open(self, faults: SerialFaults | None = None) -> str:
        """The pty path of the console of the device's current USB session, starting one if there is none.

        SimulationError when the device has no serial port now (DFU mode, or off the bus).
        """
        with self._lock:
            console = self._session
            if console is not None and console.alive and console.current:
                if faults is not None:
                    console.faults = faults
                return console.port_path
            if console is not None:
                console.hang_up_later()  # a stale session: its thread ends on its own
            self._session = SimulatedSerialConsole(self._device, faults)
            return self._session.port_path

    @property
    def session(self) -> SimulatedSerialConsole:
        """The live console session (to inject faults or hang up); SimulationError when there is none."""
        with self._lock:
            console = self._session
        if console is None or not console.alive:
            raise SimulationError(
                f"{self._device.device_id} has no open serial console; call device.serial_port() first"
            )
        return console

    def close(self) -> None:
        """Stop the session's thread and close its pty, if there is one."""
        with self._lock:
            console, self._session = self._session, None
        if console is not None:
            console.close()


@atexit.register
def close_all_serial_consoles() -> None:
    """Stop every console thread and close its pty (test teardown; it also runs at exit)."""
    with _LIVE_LOCK:
        consoles = list(_LIVE)
    for console in consoles:
        console.close()
