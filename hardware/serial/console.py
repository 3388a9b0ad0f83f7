"""The listening-mode console of one Particle device over an open serial port: modes, commands, typed replies.

Facts: Device OS 6.2.0 system/src/system_setup.cpp; particle-cli 3.43.1 src/cmd/serial.js. The port object is the
seam: the station passes a pyserial port opened on the device's CDC interface; tests pass one opened on a simulated
device's pty.
"""

from __future__ import annotations

import enum
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from hardware.firmware.versions import DeviceOsVersion
from hardware.progress import CancelToken, ProgressCallback, no_progress
from hardware.serial.errors import (
    ClaimCodeError,
    ListeningModeError,
    SerialFlashingUnsupportedError,
    SerialPortError,
    SerialTimeoutError,
)
from hardware.serial.protocol import (
    CLAIM_CODE_LENGTH,
    CLAIM_CODE_PROMPT,
    CLAIM_CODE_REJECTED,
    CLAIM_CODE_SET_PREFIX,
    YMODEM_SMALL_BLOCK,
    ConsoleKey,
    TriggerBaud,
)
from hardware.serial.reading import PORT_ERRORS, Clock, SerialPortIO, SerialPortLike
from hardware.serial.replies import (
    MacAddress,
    SerialIdentity,
    SystemInfo,
    claimed_reply_complete,
    decode,
    has_listening_baud_trigger,
    identify_reply_complete,
    mac_reply_complete,
    parse_claimed,
    parse_identify,
    parse_mac,
    parse_system_info,
    parse_version,
    supports_ymodem,
    system_info_reply_complete,
    version_reply_complete,
)
from hardware.serial.wifi import DEFAULT_WIFI_TIMEOUTS, ConsoleWifiCredentials, WifiTimeouts, configure_wifi
from hardware.serial.ymodem import DEFAULT_YMODEM_TIMEOUTS, YmodemSender, YmodemTimeouts, unsupported_message

log = logging.getLogger(__name__)

_T = TypeVar("_T")

_SETTING_ERRORS: tuple[type[Exception], ...] = (*PORT_ERRORS, ValueError)
"""pyserial raises ValueError for a rate it cannot set and a port error when the port is gone."""

_KEY_VALUE_STARTED = re.compile(rb"Device ID: ?[0-9A-Fa-f]{24}\r?\n")
_CLAIM_RESULT = re.compile(re.escape(CLAIM_CODE_SET_PREFIX) + r"([^\r\n]*)\r?\n|" + re.escape(CLAIM_CODE_REJECTED))

HOLD_MODE_ADVICE = (
    "hold the MODE button for about 3 seconds until the LED blinks dark blue (listening mode), then try again"
)

StartListening = Callable[[], None]
"""Asks the device to enter listening mode another way, e.g. USB control request 70 where USB control works."""


class ListeningEntry(enum.Enum):
    """How the device came to be in listening mode."""

    ALREADY = "already listening"
    REQUEST = "start-listening request"
    BAUD_TRIGGER = "28800-baud trigger"


@dataclass(frozen=True)
class ConsoleTimeouts:
    reply: float = 5.0
    """Seconds a command's reply may take to arrive and complete."""
    idle_gap: float = 0.25
    """Silence that ends a reply with no end marker (particle-cli waits 250 ms)."""
    probe: float = 0.6
    """Seconds one listening-mode probe (``v``) waits for its answer."""
    enter_listening: float = 10.0
    """Seconds the device may take to enter listening mode after a request or trigger."""


DEFAULT_CONSOLE_TIMEOUTS = ConsoleTimeouts()


class ListeningConsole:
    """Commands of the listening-mode console over one open port; every error names the port."""

    def __init__(
        self,
        port: SerialPortLike,
        *,
        timeouts: ConsoleTimeouts = DEFAULT_CONSOLE_TIMEOUTS,
        clock: Clock = time.monotonic,
    ) -> None:
        self._port = port
        self._link = SerialPortIO(port, clock=clock)
        self._timeouts = timeouts
        self._version: DeviceOsVersion | None = None

    @property
    def port_name(self) -> str:
        return self._link.name

    @property
    def link(self) -> SerialPortIO:
        return self._link

    # -- modes ---------------------------------------------------------------------------------------------------

    def is_listening(self) -> bool:
        """Probe with ``v``: only the listening-mode console answers it (an application may ignore input)."""
        try:
            self._version = self._ask(ConsoleKey.VERSION, parse_version, self._timeouts.probe, version_reply_complete)
        except SerialTimeoutError:
            return False
        return True

    def enter_listening_mode(
        self, *, start_listening: StartListening | None = None, device_os: DeviceOsVersion | None = None
    ) -> ListeningEntry:
        """Put the device in listening mode: a given request first, else the 28800-baud trigger (Device OS < 6)."""
        if self.is_listening():
            return ListeningEntry.ALREADY
        if start_listening is not None:
            start_listening()
            if self._wait_until_listening():
                return ListeningEntry.REQUEST
            raise ListeningModeError(
                f"the device on {self.port_name} did not enter listening mode within "
                f"{self._timeouts.enter_listening:g} s of the start-listening request; {HOLD_MODE_ADVICE}",
                port=self.port_name,
            )
        if device_os is not None and not has_listening_baud_trigger(device_os):
            raise ListeningModeError(
                f"the device on {self.port_name} runs Device OS {device_os}, which has no serial trigger for "
                f"listening mode and USB control is not available; {HOLD_MODE_ADVICE}",
                port=self.port_name,
            )
        original = self._port.baudrate
        self._set_baudrate(TriggerBaud.LISTENING)
        try:
            entered = self._wait_until_listening()
        finally:
            self._set_baudrate(original)
        if entered:
            return ListeningEntry.BAUD_TRIGGER
        raise ListeningModeError(
            f"the device on {self.port_name} did not enter listening mode after the 28800-baud trigger "
            f"(Device OS 6.0.0 and later ignore it); {HOLD_MODE_ADVICE}",
            port=self.port_name,
        )

    def exit_listening_mode(self) -> None:
        """``x``: the device leaves listening mode and resumes normal operation (no reply)."""
        self._link.discard_input()
        self._link.write(ConsoleKey.EXIT.byte)
        self._version = None

    def enter_dfu_mode(self) -> None:
        """The 14400-baud trigger: set the rate, then close the port; the device resets into DFU mode.

        The port object is closed afterwards; the device comes back as a DFU device, not as this serial port.
        """
        self._set_baudrate(TriggerBaud.DFU)
        try:
            self._port.close()
        except PORT_ERRORS as exc:
            raise SerialPortError(
                f"could not close {self.port_name} after the DFU trigger ({exc}); unplug and replug the device",
                port=self.port_name,
            ) from exc
        log.info("sent the DFU trigger (14400 baud) on %s", self.port_name)

    # -- commands ------------------------------------------------------------------------------------------------

    def identify(self) -> SerialIdentity:
        """``i``: device id, and where the platform has them serial number, mobile secret, IMEI, ICCID."""
        self._link.discard_input()
        self._link.write(ConsoleKey.IDENTIFY.byte)
        data = self._link.read_reply(
            what="'i' (identify)",
            timeout=self._timeouts.reply,
            complete=identify_reply_complete,
            started=lambda received: _KEY_VALUE_STARTED.search(received) is not None,
            idle_gap=self._timeouts.idle_gap,
            advice=self._not_listening_advice(),
        )
        return parse_identify(data, self.port_name)

    def version(self) -> DeviceOsVersion:
        """``v``: the Device OS version."""
        self._version = self._ask(ConsoleKey.VERSION, parse_version, self._timeouts.reply, version_reply_complete)
        return self._version

    def mac_address(self) -> MacAddress:
        return self._ask(ConsoleKey.MAC_ADDRESS, parse_mac, self._timeouts.reply, mac_reply_complete)

    def system_info(self) -> SystemInfo:
        """``s``: platform id, cellular details and the module table."""
        return self._ask(ConsoleKey.SYSTEM_INFO, parse_system_info, self._timeouts.reply, system_info_reply_complete)

    def is_claimed(self) -> bool:
        return self._ask(ConsoleKey.CLAIMED, parse_claimed, self._timeouts.reply, claimed_reply_complete)

    def set_claim_code(self, code: str) -> None:
        """``C``: store a 63-character claim code; ClaimCodeError when the device refuses it."""
        if len(code) != CLAIM_CODE_LENGTH or not code.isascii() or not code.isprintable() or " " in code:
            raise ClaimCodeError(
                f"claim code for the device on {self.port_name} must be {CLAIM_CODE_LENGTH} printable characters "
                f"without spaces (got {len(code)}); request a new claim code from the cloud",
                port=self.port_name,
            )
        self._link.discard_input()
        self._link.write(ConsoleKey.SET_CLAIM_CODE.byte)
        self._link.read_reply(
            what="'C' (claim code prompt)",
            timeout=self._timeouts.reply,
            complete=lambda received: CLAIM_CODE_PROMPT in decode(received),
            settle=0.0,
            advice=self._not_listening_advice(),
        )
        self._link.write(code.encode("ascii") + b"\n")
        data = self._link.read_reply(
            what="the claim code",
            timeout=self._timeouts.reply,
            complete=lambda received: _CLAIM_RESULT.search(decode(received)) is not None,
        )
        match = _CLAIM_RESULT.search(decode(data))
        if match is None or match[1] is None:
            raise ClaimCodeError(
                f"the device on {self.port_name} refused the claim code (it says it is not {CLAIM_CODE_LENGTH} "
                "characters long); the code was probably garbled on the line, try again",
                port=self.port_name,
            )
        if match[1].strip() != code:
            raise ClaimCodeError(
                f"the device on {self.port_name} stored a different claim code than was sent (line noise); "
                "set it again",
                port=self.port_name,
            )

    def configure_wifi(
        self, credentials: ConsoleWifiCredentials, timeouts: WifiTimeouts = DEFAULT_WIFI_TIMEOUTS
    ) -> None:
        """``w``: give the device Wi-Fi credentials; afterwards it leaves listening mode to connect."""
        configure_wifi(self._link, credentials, timeouts)
        self._version = None

    def flash_module(
        self,
        module: bytes,
        *,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
        device_os: DeviceOsVersion | None = None,
        block_size: int = YMODEM_SMALL_BLOCK,
        ymodem_timeouts: YmodemTimeouts = DEFAULT_YMODEM_TIMEOUTS,
    ) -> None:
        """``f`` + YMODEM: send one module binary (Device OS below 6.0.0); the device validates it and resets.

        Refused up front on Device OS 6.0.0 and later, naming DFU as the way to flash.
        """
        version = device_os or self._version or self.version()
        if not supports_ymodem(version):
            raise SerialFlashingUnsupportedError(unsupported_message(self.port_name, str(version)), port=self.port_name)
        self._link.discard_input()
        self._link.write(ConsoleKey.FLASH.byte)
        YmodemSender(self._link, timeouts=ymodem_timeouts, block_size=block_size).send(
            module, progress=progress, cancel=cancel
        )
        log.info("device on %s accepted a %d-byte module over YMODEM", self.port_name, len(module))

    # -- helpers -------------------------------------------------------------------------------------------------

    def _ask(
        self, key: ConsoleKey, parse: Callable[[bytes, str], _T], timeout: float, complete: Callable[[bytes], bool]
    ) -> _T:
        self._link.discard_input()
        self._link.write(key.byte)
        data = self._link.read_reply(
            what=f"'{key.value}' ({key.name.lower().replace('_', ' ')})",
            timeout=timeout,
            complete=complete,
            advice=self._not_listening_advice(),
        )
        return parse(data, self.port_name)

    def _wait_until_listening(self) -> bool:
        deadline = self._link.now() + self._timeouts.enter_listening
        while self._link.now() < deadline:
            if self.is_listening():
                return True
        return False

    def _set_baudrate(self, baudrate: int) -> None:
        try:
            self._port.baudrate = baudrate
        except _SETTING_ERRORS as exc:
            raise SerialPortError(
                f"could not set {baudrate} baud on {self.port_name} ({exc}); this port or its driver does not "
                "support the rate. Use a USB request or the MODE button instead",
                port=self.port_name,
            ) from exc

    def _not_listening_advice(self) -> str:
        return f"the device may not be in listening mode: {HOLD_MODE_ADVICE}"
