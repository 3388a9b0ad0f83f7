"""The device side of a YMODEM session on the simulated serial console (Device OS <= 5.9.x
``system/src/system_ymodem.cpp``): blocks with CRC-16 or checksum, retries, aborts, and validation of the received
module before it is installed. Bytes, block sizes and the CRC are the simulator's own (``serial_facts``)."""

from __future__ import annotations

import time
from typing import Protocol

from hardware.simulated import serial_facts as sf
from hardware.simulated.errors import SimulationError
from hardware.simulated.faults import SerialFaults
from hardware.simulated.module_image import ModuleImage
from hardware.simulated.module_table import ModuleRecord
from hardware.simulated.platform_facts import Board

PACKET_TIMEOUT = 1.0
MAX_ERRORS = 10
MAX_FILE_SIZE = 4 * 1024 * 1024


class HangUp(Exception):
    """The console's USB session ended: reset, DFU, unplug, or a drop fault."""


class YmodemLink(Protocol):
    faults: SerialFaults
    block_check_errors: int

    def read_byte(self, timeout: float | None = None) -> int | None: ...
    def write(self, data: bytes) -> None: ...


class YmodemTarget(Protocol):
    @property
    def board(self) -> Board: ...
    def install_module(self, image: bytes) -> ModuleRecord | None: ...
    def reset(self) -> None: ...


class YmodemReceive:
    """The device side of one YMODEM session (Device OS ≤ 5.9.x ``system_ymodem.cpp`` behaviour)."""

    def __init__(self, link: YmodemLink, device: YmodemTarget) -> None:
        self.link, self.device, self.faults = link, device, link.faults
        self.crc_mode = not self.faults.checksum_mode
        self.start = bytes((sf.CRC_REQUEST if self.crc_mode else sf.NAK,))

    def _send(self, *codes: int) -> None:
        noise = self.faults.ymodem_noise if codes[0] == sf.ACK else b""
        self.link.write(noise + bytes(codes))

    def run(self) -> None:
        phase, size, expected, errors, data = "header", None, 1, 0, bytearray()
        ack, nak, cancel = sf.ACK, sf.NAK, (sf.CAN, sf.CAN)
        self.link.write(self.start)
        while errors <= MAX_ERRORS:
            kind, seq, payload = self._packet()
            errors = errors + 1 if kind in ("timeout", "bad") else 0
            if kind in ("abort", "cancel"):
                return
            if kind == "timeout":
                self.link.write(bytes((nak,)) if phase == "data" else self.start)
            elif kind == "bad":
                self._send(nak)
            elif kind == "eot":
                self._send(ack)
                if phase == "data":
                    phase = "final"
                    self.link.write(self.start)
            elif phase == "header" and seq == 0:
                size = _header_size(payload)
                if size is None:  # an empty header (nothing to send) ends the session; a bad one cancels it
                    return self._send(*((ack,) if not any(payload) else cancel))
                phase = "data"
                self._send(ack)
                self.link.write(self.start)
            elif phase == "data" and seq == expected & 0xFF:
                if self.faults.nak_blocks > 0:
                    self.faults.nak_blocks -= 1
                    self._send(nak)
                elif self.faults.ignore_blocks > 0:
                    self.faults.ignore_blocks -= 1
                else:
                    self._count_for_drop(len(payload))
                    data += payload
                    expected += 1
                    self._send(ack)
            elif phase == "data" and seq == (expected - 1) & 0xFF:
                self._send(ack)  # our ACK was lost: the sender repeats the block
            elif phase == "final" and seq == 0 and size is not None:
                return self._finish(bytes(data[:size]))
            else:
                return self._send(*cancel)
        self._send(*cancel)

    def _count_for_drop(self, count: int) -> None:
        remaining = self.faults.drop_after_bytes
        if remaining is not None:
            self.faults.drop_after_bytes = None if count >= remaining else remaining - count
            if count >= remaining:
                raise HangUp

    def _packet(self) -> tuple[str, int, bytes]:
        read = self.link.read_byte
        deadline = time.monotonic() + PACKET_TIMEOUT
        while True:
            mark = read(max(0.0, deadline - time.monotonic()))
            if mark is None:
                return "timeout", 0, b""
            if mark == sf.EOT:
                return "eot", 0, b""
            if mark in sf.ABORT_KEYS:
                return "abort", 0, b""
            if mark == sf.CAN:
                return ("cancel" if read(0.2) == sf.CAN else "bad"), 0, b""
            if mark in (sf.SOH, sf.STX):
                break  # anything else before a block is line noise
        length = sf.SMALL_BLOCK if mark == sf.SOH else sf.LARGE_BLOCK
        rest = bytearray()
        for _ in range(length + (4 if self.crc_mode else 3)):
            byte = read(PACKET_TIMEOUT)
            if byte is None:
                return "bad", 0, b""
            rest.append(byte)
        seq, complement, payload = rest[0], rest[1], bytes(rest[2 : 2 + length])
        if seq != 0xFF - complement:
            return "bad", 0, b""
        expected = sf.crc16(payload).to_bytes(2, "big") if self.crc_mode else bytes((sf.checksum8(payload),))
        if rest[2 + length :] != expected:
            # Device OS checks only the sequence complement; the simulator counts bad checks for the tests.
            self.link.block_check_errors += 1
        return "block", seq, payload

    def _finish(self, image: bytes) -> None:
        device = self.device
        try:
            parsed = ModuleImage.parse(image)
            valid = len(parsed.data) == len(image) and parsed.crc_ok and parsed.prefix.platform_id == device.board.id
            if valid:
                device.install_module(image)
        except SimulationError:
            valid = False
        if not valid:
            return self._send(sf.CAN, sf.CAN)
        self._send(sf.ACK)
        self.link.write(sf.YMODEM_SUCCESS.encode())
        device.reset()  # Device OS restarts to run the new module
        return None


def _header_size(payload: bytes) -> int | None:
    name, _, rest = payload.partition(b"\0")
    text = rest.split(b"\0", 1)[0].split(b" ", 1)[0]
    if not name or not text.isdigit() or not 0 < int(text) <= MAX_FILE_SIZE:
        return None
    return int(text)
