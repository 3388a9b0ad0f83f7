"""YMODEM sender that flashes one module binary into a listening Device OS (below 6.0.0) device after ``f``.

Facts (Device OS v5.9.0 system/src/system_ymodem.cpp, the receiver; Chuck Forsberg's XMODEM/YMODEM Protocol
Reference): header block seq 0 ``binary\\0<decimal length> `` zero padded; 128-byte SOH blocks (1024-byte STX
accepted); mark, seq, 0xFF - seq, data, then CRC-16 (receiver sent ``C``) or an 8-bit checksum (receiver sent NAK);
EOT -> ACK; a final empty header makes the device validate the module and answer ACK + ``Downloaded file
successfully!`` or CAN CAN.
"""

from __future__ import annotations

import binascii
import enum
import logging
from dataclasses import dataclass

from hardware.progress import Cancelled, CancelToken, ProgressCallback, ProgressEvent, no_progress
from hardware.serial.errors import SerialDisconnectedError, SerialFlashingUnsupportedError, YmodemError
from hardware.serial.protocol import (
    YMODEM_HEADER_FILENAME,
    YMODEM_LARGE_BLOCK,
    YMODEM_SMALL_BLOCK,
    YMODEM_SUCCESS,
    YMODEM_UNSUPPORTED,
    YMODEM_VALIDATION_FAILED,
    YmodemByte,
)
from hardware.serial.reading import SerialPortIO
from hardware.serial.replies import decode

log = logging.getLogger(__name__)

_TEXT_WINDOW = 256
"""Bytes of recent non-protocol text kept to recognise the device's messages among the control bytes."""


class BlockCheck(enum.Enum):
    """How each block is checked, as the receiver asked when it started."""

    CRC16 = "crc16"
    CHECKSUM = "checksum"


class _Reply(enum.Enum):
    ACK = "ack"
    NAK = "nak"
    CRC_REQUEST = "C"
    CANCEL = "cancel"
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class YmodemTimeouts:
    start: float = 10.0
    """Seconds to wait for the receiver's first ``C`` or NAK."""
    block: float = 2.0
    """Seconds to wait for the answer to one block (then it is sent again)."""
    validation: float = 15.0
    """Seconds the device may take to validate the module after the final header."""
    retries: int = 10
    """Times one block is sent again after a NAK or a timeout before the transfer fails."""


DEFAULT_YMODEM_TIMEOUTS = YmodemTimeouts()


def crc16(data: bytes) -> int:
    """CRC-16/XMODEM (polynomial 0x1021, initial value 0), as YMODEM uses it."""
    return binascii.crc_hqx(data, 0)


def checksum8(data: bytes) -> int:
    return sum(data) & 0xFF


def header_payload(length: int, filename: str = YMODEM_HEADER_FILENAME) -> bytes:
    """The seq-0 header block's data: ``<name>\\0<decimal length> `` padded with zeros to 128 bytes."""
    payload = filename.encode("ascii") + b"\0" + str(length).encode("ascii") + b" "
    if len(payload) > YMODEM_SMALL_BLOCK:
        raise YmodemError(f"YMODEM file name {filename!r} is too long for a header block")
    return payload.ljust(YMODEM_SMALL_BLOCK, b"\0")


def build_block(seq: int, payload: bytes, check: BlockCheck) -> bytes:
    """One framed block: 128-byte payloads use SOH, 1024-byte payloads STX."""
    if len(payload) == YMODEM_SMALL_BLOCK:
        mark = YmodemByte.SOH
    elif len(payload) == YMODEM_LARGE_BLOCK:
        mark = YmodemByte.STX
    else:
        raise ValueError(f"a YMODEM block holds 128 or 1024 bytes, not {len(payload)}")
    number = seq & 0xFF
    frame = bytes((mark, number, 0xFF - number)) + payload
    if check is BlockCheck.CRC16:
        return frame + crc16(payload).to_bytes(2, "big")
    return frame + bytes((checksum8(payload),))


class YmodemSender:
    """Sends one file over a link whose receiver is already waiting (the console sent ``f`` and saw its reply)."""

    def __init__(
        self,
        link: SerialPortIO,
        *,
        timeouts: YmodemTimeouts = DEFAULT_YMODEM_TIMEOUTS,
        block_size: int = YMODEM_SMALL_BLOCK,
    ) -> None:
        if block_size not in (YMODEM_SMALL_BLOCK, YMODEM_LARGE_BLOCK):
            raise ValueError(f"YMODEM block size must be 128 or 1024, not {block_size}")
        self._link = link
        self._timeouts = timeouts
        self._block_size = block_size
        self._text = bytearray()
        self._check = BlockCheck.CRC16

    @property
    def check(self) -> BlockCheck:
        return self._check

    def send(self, data: bytes, *, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None) -> None:
        """Transfer ``data``; returns once the device has accepted and validated it."""
        token = cancel or CancelToken()
        total = len(data)
        progress(ProgressEvent("transfer", 0, total, "waiting for the device to start the transfer"))
        self._check = self._await_start(token)
        log.info("YMODEM to %s: %d bytes, %s blocks", self._link.name, total, self._check.value)
        self._send_block(0, header_payload(total), token, "header")
        self._await_crc_request()
        seq = 1
        for offset in range(0, total, self._block_size):
            chunk = data[offset : offset + self._block_size].ljust(self._block_size, bytes((YmodemByte.PAD,)))
            self._send_block(seq, chunk, token, f"block {seq} (bytes {offset}-{offset + len(chunk) - 1})")
            seq += 1
            sent = min(total, offset + self._block_size)
            progress(ProgressEvent("transfer", sent, total, f"{sent} of {total} bytes"))
        self._send_end_of_file(token)
        self._await_crc_request()
        progress(ProgressEvent("validate", 0, total, "device is validating the module"))
        try:
            self._send_block(0, bytes(YMODEM_SMALL_BLOCK), token, "final header", timeout=self._timeouts.validation)
        except SerialDisconnectedError as exc:
            raise SerialDisconnectedError(
                f"{self._link.name} went away while the device validated the module: it either restarted with the "
                "new module or failed. Reconnect and check its module table before flashing again",
                port=self._link.name,
            ) from exc
        self._await_success_text()
        progress(ProgressEvent("validate", total, total, "device accepted the module"))

    def cancel_transfer(self) -> None:
        """Tell the receiver to give up: two CANs where a block would start."""
        self._link.write(bytes((YmodemByte.CAN, YmodemByte.CAN)))

    def _await_start(self, token: CancelToken) -> BlockCheck:
        deadline = self._link.now() + self._timeouts.start
        while True:
            self._check_cancel(token)
            reply = self._read_reply(min(0.2, self._timeouts.start))
            if reply is _Reply.CRC_REQUEST:
                return BlockCheck.CRC16
            if reply is _Reply.NAK:
                return BlockCheck.CHECKSUM
            if reply is _Reply.CANCEL:
                raise self._cancelled_by_device("before the transfer started")
            if self._link.now() >= deadline:
                raise YmodemError(
                    f"the device on {self._link.name} did not start the YMODEM transfer within "
                    f"{self._timeouts.start:g} s; make sure it is in listening mode (LED blinking dark blue) "
                    "and runs Device OS below 6.0.0, then try again",
                    port=self._link.name,
                )

    def _send_block(self, seq: int, payload: bytes, token: CancelToken, what: str, timeout: float = 0.0) -> None:
        frame = build_block(seq, payload, self._check)
        wait = timeout or self._timeouts.block
        for _attempt in range(self._timeouts.retries + 1):
            self._check_cancel(token)
            self._link.write(frame)
            reply = self._await_answer(wait)
            if reply is _Reply.ACK:
                return
            if reply is _Reply.CANCEL:
                raise self._cancelled_by_device(f"at the {what}", validating=seq == 0 and not any(payload))
            log.debug("YMODEM %s to %s: %s, sending it again", what, self._link.name, reply.value)
        self.cancel_transfer()
        raise YmodemError(
            f"the device on {self._link.name} did not acknowledge the {what} after {self._timeouts.retries} retries; "
            "check the USB cable and try again (the device keeps its current firmware)",
            port=self._link.name,
        )

    def _send_end_of_file(self, token: CancelToken) -> None:
        for _attempt in range(self._timeouts.retries + 1):
            self._check_cancel(token)
            self._link.write(bytes((YmodemByte.EOT,)))
            reply = self._await_answer(self._timeouts.block)
            if reply is _Reply.ACK:
                return
            if reply is _Reply.CANCEL:
                raise self._cancelled_by_device("at the end of the file")
        self.cancel_transfer()
        raise YmodemError(
            f"the device on {self._link.name} did not acknowledge the end of the file; try again",
            port=self._link.name,
        )

    def _await_answer(self, timeout: float) -> _Reply:
        """ACK, NAK or CANCEL; a stray ``C`` (the receiver repeating its start request) is not an answer."""
        deadline = self._link.now() + timeout
        while True:
            reply = self._read_reply(max(0.0, deadline - self._link.now()))
            if reply is not _Reply.CRC_REQUEST:
                return reply
            if self._link.now() >= deadline:
                return _Reply.TIMEOUT

    def _await_crc_request(self) -> None:
        """YMODEM receivers ask for the next file with ``C``; some never do, so a timeout is not an error."""
        self._read_reply(self._timeouts.block)

    def _read_reply(self, timeout: float) -> _Reply:
        deadline = self._link.now() + timeout
        previous_can = False
        while True:
            byte = self._link.read_byte(max(0.0, deadline - self._link.now()))
            if byte is None:
                return _Reply.TIMEOUT
            if byte == YmodemByte.CAN:
                if previous_can:
                    return _Reply.CANCEL
                previous_can = True
                continue
            previous_can = False
            if byte == YmodemByte.ACK:
                return _Reply.ACK
            if byte == YmodemByte.NAK:
                return _Reply.NAK
            if byte == YmodemByte.CRC_REQUEST:
                return _Reply.CRC_REQUEST
            self._remember_text(byte)

    def _remember_text(self, byte: int) -> None:
        self._text.append(byte)
        del self._text[:-_TEXT_WINDOW]

    def _await_success_text(self) -> None:
        """After the final ACK the device prints its verdict and resets; read it briefly to catch a late rejection.

        The port vanishing here is the device restarting into the new module, not a failure.
        """
        deadline = self._link.now() + 1.0
        try:
            while self._link.now() < deadline:
                byte = self._link.read_byte(max(0.0, deadline - self._link.now()))
                if byte is None:
                    return
                self._remember_text(byte)
                text = decode(bytes(self._text))
                if YMODEM_SUCCESS in text:
                    return
                if YMODEM_VALIDATION_FAILED in text:
                    raise self._cancelled_by_device("after the final header", validating=True)
        except SerialDisconnectedError:
            log.info("%s went away after accepting the module: the device restarts to run it", self._link.name)

    def _cancelled_by_device(self, when: str, *, validating: bool = False) -> YmodemError:
        self._drain_text(0.3)
        text = decode(bytes(self._text))
        port = self._link.name
        if YMODEM_UNSUPPORTED in text:
            return SerialFlashingUnsupportedError(unsupported_message(port), port=port)
        if validating or YMODEM_VALIDATION_FAILED in text:
            return YmodemError(
                f"the device on {port} rejected the module after receiving it (validation failed: wrong platform, "
                "bad CRC or missing dependencies); check the file is built for this device. "
                "The device keeps its current firmware",
                port=port,
            )
        return YmodemError(
            f"the device on {port} cancelled the YMODEM transfer {when}; the device keeps its current firmware. "
            "Try again",
            port=port,
        )

    def _drain_text(self, seconds: float) -> None:
        deadline = self._link.now() + seconds
        while self._link.now() < deadline:
            byte = self._link.read_byte(max(0.0, deadline - self._link.now()))
            if byte is None:
                return
            self._remember_text(byte)
            if YMODEM_UNSUPPORTED.encode() in self._text:
                return

    def _check_cancel(self, token: CancelToken) -> None:
        if token.cancelled:
            self.cancel_transfer()
            raise Cancelled(f"YMODEM transfer to {self._link.name} cancelled; the device keeps its current firmware")


def unsupported_message(port: str, version: str = "") -> str:
    running = f"runs Device OS {version}, which" if version else "answered that it"
    return (
        f"the device on {port} {running} no longer supports YMODEM flashing over serial "
        "(Device OS 6.0.0 and later); flash it over USB DFU instead "
        "(particle-station flash FILE, without --serial)"
    )
