"""A simulated device's USB serial (CDC) console on a pty, served by a thread: baud triggers, listening-mode
commands, YMODEM receive with validation, and injectable line faults (reference §4).

The host opens ``port_path`` with pyserial. Like the real device, the console reacts to the line coding the host
sets (read here from the pty with TCGETS2, polled), exists only in normal and listening mode, and disappears (the
pty hangs up) when the device resets, enters DFU or is unplugged.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import select
import struct
import sys
import termios
import threading
import time
import tty
from dataclasses import dataclass

from hardware.firmware.format import ModuleFunction
from hardware.serial import protocol as p
from hardware.simulated.device import DeviceMode, SimulatedDevice
from hardware.simulated.errors import SimulationError
from hardware.simulated.versions import version_tuple
from hardware.simulated.wifi import StoredWifiNetwork
from hardware.simulated.ymodem_receiver import HangUp as _HangUp
from hardware.simulated.ymodem_receiver import YmodemReceive

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
"""Seconds the receiver waits for a block before asking again (Device OS NAK_TIMEOUT is about a second)."""
CELL_RADIO_VERSION = "SIM-MODEM-1.00"
"""``cellfw`` value the simulator reports (its own choice; real ones name the modem firmware)."""
WIFI_SUCCESS_TEXT = "Awesome. Now we'll connect!\r\n\r\n    Particle <3 you!\r\n\r\n"
"""Only the ending is from the reference; the first line is the simulator's wording."""
_CONSOLE_TO_WIFI_SECURITY = {0: 0, 1: 1, 2: 2, 3: 3, 6: 5}
"""Console security answer -> wifi.Security number stored in the model (WPA3: 6 on the console, 5 in the enum)."""


class _Stopped(Exception):
    """close() was called."""


@dataclass
class SerialFaults:
    """Faults of one simulated console; change them at any time from the test."""

    garbage_before: bytes = b""
    """Written before every text reply (line noise)."""
    garbage_after: bytes = b""
    reply_delay: float = 0.0
    """Seconds before every text reply starts."""
    dribble: float = 0.0
    """Seconds between the 5-byte pieces a text reply is sent in (partial lines reach the host)."""
    drop_after_bytes: int | None = None
    """Hang up once this many more YMODEM data bytes have arrived (one shot)."""
    nak_blocks: int = 0
    """NAK this many of the next data blocks, as after line errors."""
    ignore_blocks: int = 0
    """Leave this many of the next data blocks unanswered, so the sender times out."""
    ymodem_noise: bytes = b""
    """Written before every YMODEM ACK."""
    checksum_mode: bool = False
    """Start YMODEM with NAK (8-bit checksums) instead of ``C`` (CRC-16)."""
    wifi_save_fails: bool = False


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
    """One USB session of a device's CDC console. Use ``open_serial_console(device)`` to get its path."""

    def __init__(self, device: SimulatedDevice, faults: SerialFaults | None = None) -> None:
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
        self._session = device.usb_session
        self._speed = line_speed(self._slave)
        self._inbox = bytearray()
        self._stop = threading.Event()
        self._hang_up = threading.Event()
        self._ending = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"serial-pty {device.device_id}", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return not self._ending.is_set()

    @property
    def current(self) -> bool:
        """True while the device is still in the USB session this console belongs to, outside DFU mode."""
        return self.device.usb_session == self._session and self.device.mode is not DeviceMode.DFU

    def hang_up(self) -> None:
        """Drop the connection now, as a pulled cable would (the device itself keeps its state)."""
        self._hang_up.set()
        self._join()

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
                key = self._next_byte()
                if key is not None and self.device.mode is DeviceMode.LISTENING:
                    self._command(chr(key))
        except (_HangUp, _Stopped, OSError):
            pass
        finally:
            self._ending.set()  # before the hang-up becomes visible, so open_serial_console starts a new session
            for fd in (self._master, self._slave):
                with contextlib.suppress(OSError):
                    os.close(fd)
            _forget(self)

    def _tick(self) -> None:
        if self._stop.is_set():
            raise _Stopped
        device = self.device
        if self._hang_up.is_set():
            raise _HangUp
        if device.usb_session != self._session or device.mode is DeviceMode.DFU:
            self._let_host_read()
            raise _HangUp
        speed = line_speed(self._slave)
        if speed == self._speed:
            return
        self._speed = speed
        if speed == p.TriggerBaud.DFU:
            device.enter_dfu()
        elif speed == p.TriggerBaud.LISTENING and self._os_release() < p.LISTENING_TRIGGER_REMOVED_IN:
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

    def _next_byte(self, timeout: float | None = None) -> int | None:
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

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            self._tick()
            _, writable, _ = select.select([], [self._master], [], POLL_INTERVAL)
            if writable:
                with contextlib.suppress(BlockingIOError):
                    view = view[os.write(self._master, view) :]

    def _pause(self, seconds: float) -> None:
        if seconds > 0 and self._stop.wait(seconds):
            raise _Stopped

    def _reply(self, text: str) -> None:
        self._pause(self.faults.reply_delay)
        data = self.faults.garbage_before + text.encode() + self.faults.garbage_after
        step = 5 if self.faults.dribble > 0 else len(data)
        for offset in range(0, len(data), step):
            self._pause(self.faults.dribble if offset else 0.0)
            self._write(data[offset : offset + step])

    def _os_release(self) -> tuple[int, int, int]:
        return version_tuple(self.device.device_os)

    # -- listening-mode commands -------------------------------------------------------------------------------------

    def _command(self, key: str) -> None:
        device = self.device
        if key == p.ConsoleKey.IDENTIFY.value:
            self._reply(self._identify_text())
        elif key == p.ConsoleKey.MAC_ADDRESS.value:
            self._reply(f"{p.MAC_REPLY_PREFIX}\r\n{device.mac.hex(':')}\r\n")
        elif key == p.ConsoleKey.VERSION.value:
            self._reply(f"{p.VERSION_REPLY_PREFIX}{device.device_os}\n\r\n")
        elif key == p.ConsoleKey.SYSTEM_INFO.value:
            self._reply(self._system_info_text())
        elif key == p.ConsoleKey.CLAIMED.value:
            self._reply(f"{p.CLAIMED_REPLY_PREFIX}{'yes' if device.claimed else 'no'}\r\n")
        elif key == p.ConsoleKey.SET_CLAIM_CODE.value:
            self._claim_code()
        elif key == p.ConsoleKey.DIAGNOSTICS.value:
            self._reply(
                json.dumps({"sys:uptime": 1, "sys:boot_count": device.boot_count}, separators=(",", ":")) + "\r\n"
            )
        elif key == p.ConsoleKey.WIFI.value and device.platform.is_wifi:
            self._wifi()
        elif key == p.ConsoleKey.SAFE_MODE_LISTEN.value:
            device.startup_listening = True
            device.reset(0.0, safe=True)
        elif key == p.ConsoleKey.EXIT.value:
            device.stop_listening()
        elif key == p.ConsoleKey.FLASH.value:
            self._flash()

    def _key_values(self, *, secrets: bool) -> list[tuple[str, str]]:
        device, values = self.device, []
        if secrets and device.platform.gen3_or_later:
            if device.mobile_secret is not None:
                values.append(("ms", device.mobile_secret.value))
            if device.serial is not None:
                values.append(("sn", device.serial.value))
        if device.platform.is_cellular:
            values += [("imei", str(device.imei or "")), ("iccid", str(device.iccid or ""))]
            values.append(("cellfw", CELL_RADIO_VERSION))
        return values

    def _identify_text(self) -> str:
        names = {"ms": p.IdentifyKey.DEVICE_SECRET, "sn": p.IdentifyKey.SERIAL_NUMBER, "imei": p.IdentifyKey.IMEI}
        names |= {"iccid": p.IdentifyKey.ICCID, "cellfw": p.IdentifyKey.CELL_RADIO_VERSION}
        values = self._key_values(secrets=True)
        if not values:
            return f"{p.IDENTIFY_PLAIN_PREFIX}{self.device.device_id}\r\n"
        lines = [f"{p.IdentifyKey.DEVICE_ID.value}: {self.device.device_id}"]
        lines += [f"{names[key].value}: {value}" for key, value in values]
        return "".join(line + "\r\n" for line in lines)

    def _system_info_text(self) -> str:
        document: dict[str, object] = {"p": self.device.platform.id}
        document.update(self._key_values(secrets=False))
        modules = []
        for module in self.device.modules:
            entry: dict[str, object] = {
                "s": module.max_size,
                "l": p.MODULE_STORE_LETTERS[int(module.store)].value,
                "vc": int(module.checked),
                "vv": int(module.passed),
            }
            if module.function is ModuleFunction.USER_PART:
                entry["u"] = module.sha256.hex().upper()
            entry |= {"f": _letter(module.function), "n": str(module.index), "v": module.version}
            entry["d"] = [{"f": _letter(d.function), "n": str(d.index), "v": d.version} for d in module.dependencies]
            modules.append(entry)
        document["m"] = modules
        return json.dumps(document, separators=(",", ":")) + "\r\n"

    def _read_line(self) -> str:
        """A prompt's answer: echo each character, end at CR or LF, print CR LF, discard pending input."""
        received = bytearray()
        while (byte := self._next_byte()) not in (0x0D, 0x0A):
            assert byte is not None
            received.append(byte)
            self._write(bytes((byte,)))
        self._write(b"\r\n")
        self._inbox.clear()
        return received.decode("utf-8", errors="replace")

    def _prompt(self, prompt: str) -> str:
        self._reply(prompt)
        return self._read_line()

    def _claim_code(self) -> None:
        code = self._prompt(p.CLAIM_CODE_PROMPT)
        if len(code) == p.CLAIM_CODE_LENGTH:
            self.device.set_claim_code(code)
            self._write(f"{p.CLAIM_CODE_SET_PREFIX}{code}\r\n".encode())
        else:
            self._write(f"{p.CLAIM_CODE_REJECTED}\r\n".encode())

    def _wifi(self) -> None:
        device = self.device
        ssid = ""
        while not ssid:
            ssid = self._prompt(p.WIFI_SSID_PROMPT)
        visible = next((n for n in device.wifi.visible if n.ssid == ssid), None)
        cipher = 0
        if visible is not None:
            security = visible.security
        else:
            answer = ""
            while answer not in ("0", "1", "2", "3", "6"):
                answer = self._prompt(p.WIFI_SECURITY_PROMPT)
            security = _CONSOLE_TO_WIFI_SECURITY[int(answer)]
            # Gen 2 (WICED) needs the cipher of a network it could not scan; Gen 3+ radios work it out.
            if not device.platform.gen3_or_later and answer in ("1", "2", "3"):
                answer = ""
                while answer not in ("1", "2", "3"):
                    answer = self._prompt(p.WIFI_CIPHER_PROMPT)
                cipher = int(answer)
        password = self._prompt(p.WIFI_PASSWORD_PROMPT) if security != 0 else ""
        self._write(p.WIFI_SAVING.encode())
        if self.faults.wifi_save_fails:
            self._write(p.WIFI_FAILURE.encode())
            return
        device.wifi.store(
            StoredWifiNetwork(ssid, security, password, cipher=cipher, credentials_type=int(bool(password)))
        )
        self._write(WIFI_SUCCESS_TEXT.encode())
        device.stop_listening()

    # -- YMODEM receive (f) ------------------------------------------------------------------------------------------

    def _flash(self) -> None:
        self._reply(p.YMODEM_WAITING + "\r\n")
        if self._os_release() >= p.YMODEM_REMOVED_IN:
            self._pause(0.1)
            self._write(bytes([p.YmodemByte.CAN] * 4) + f"{p.YMODEM_UNSUPPORTED}\r\n".encode())
            return
        YmodemReceive(self).run()


def _letter(function: int) -> str:
    return p.MODULE_FUNCTION_LETTERS.get(int(function), p.ModuleFunctionLetter.OTHER).value


_LIVE: dict[int, SimulatedSerialConsole] = {}
_LIVE_LOCK = threading.Lock()


def open_serial_console(device: SimulatedDevice, faults: SerialFaults | None = None) -> str:
    """The pty path of the device's serial console, starting one if its current USB session has none.

    SimulationError when the device has no serial port now (DFU mode, or off the bus).
    """
    with _LIVE_LOCK:
        console = _LIVE.get(id(device))
        if console is not None and console.alive and console.device is device and console.current:
            if faults is not None:
                console.faults = faults
            return console.port_path
        if console is not None:
            console._hang_up.set()  # a stale session: its thread ends on its own
        console = SimulatedSerialConsole(device, faults)
        _LIVE[id(device)] = console
        return console.port_path


def serial_console_of(device: SimulatedDevice) -> SimulatedSerialConsole:
    """The live console of ``device`` (to inject faults or hang up); SimulationError when there is none."""
    with _LIVE_LOCK:
        console = _LIVE.get(id(device))
    if console is None or not console.alive or console.device is not device:
        raise SimulationError(f"{device.device_id} has no open serial console; call device.serial_port() first")
    return console


def _forget(console: SimulatedSerialConsole) -> None:
    with _LIVE_LOCK:
        if _LIVE.get(id(console.device)) is console:
            del _LIVE[id(console.device)]


@atexit.register
def close_all_serial_consoles() -> None:
    """Stop every console thread and close its pty (tests call it at teardown; it also runs at exit)."""
    with _LIVE_LOCK:
        consoles = list(_LIVE.values())
    for console in consoles:
        console.close()
