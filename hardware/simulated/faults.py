"""Faults injected into one simulated device at run time: stalls, timeouts, unplugs mid-transfer, slow erases,
corrupted writes and BUSY replies (each one-shot fault fires once per count and is then spent), and the line faults
of its serial console (noise, slow or dribbling replies, YMODEM NAKs, silence and drops)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import Enum


def damage(data: bytes) -> bytes:
    """``data`` with one bit wrong in its middle byte: a bit that failed to program (stays 1), or, in a 0xFF
    byte, one that flipped to 0."""
    if not data:
        return data
    damaged = bytearray(data)
    middle = len(damaged) // 2
    byte = damaged[middle]
    damaged[middle] = byte | (~byte & (byte + 1) & 0xFF) if byte != 0xFF else 0xFE
    return bytes(damaged)


class TransferFault(Enum):
    STALL = "stall"
    TIMEOUT = "timeout"


@dataclass
class _Pending:
    kind: TransferFault
    request: int | None
    """bRequest of the setup packet to match (e.g. DfuRequest.DNLOAD, ServiceRequest.INIT); None matches any."""
    remaining: int


@dataclass
class Faults:
    """The fault plan of one device. Safe to change from any thread while transfers run.

    ``stall_next`` / ``timeout_next`` match the setup packet's bRequest (``request=None`` matches any transfer,
    standard requests included). ``disconnect_after_bytes(n)`` unplugs the device in the middle of the transfer
    whose data stage crosses ``n`` more bytes (both directions count); the device stays unplugged until
    ``plug()``. ``slow_erase(factor)`` multiplies every erase time; ``corrupt_next_write`` makes the next flash
    program store data that reads back wrong (one bit cleared); ``busy_next(n)`` answers the next n INITs BUSY.
    """

    erase_factor: float = 1.0
    _transfer: list[_Pending] = field(default_factory=list)
    _disconnect_after: int | None = None
    _corrupt_writes: int = 0
    _busy_inits: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def stall_next(self, request: int | None = None, count: int = 1) -> None:
        with self._lock:
            self._transfer.append(_Pending(TransferFault.STALL, request, count))

    def timeout_next(self, request: int | None = None, count: int = 1) -> None:
        """The matching transfer is not answered: the host waits its whole timeout, then gets a timeout error."""
        with self._lock:
            self._transfer.append(_Pending(TransferFault.TIMEOUT, request, count))

    def disconnect_after_bytes(self, n: int) -> None:
        if n < 0:
            raise ValueError(f"disconnect_after_bytes needs a byte count >= 0, got {n}")
        with self._lock:
            self._disconnect_after = n

    def slow_erase(self, factor: float) -> None:
        if factor <= 0:
            raise ValueError(f"slow_erase needs a positive factor, got {factor}")
        with self._lock:
            self.erase_factor = factor

    def corrupt_next_write(self, count: int = 1) -> None:
        with self._lock:
            self._corrupt_writes += count

    def busy_next(self, n: int = 1) -> None:
        with self._lock:
            self._busy_inits += n

    def clear(self) -> None:
        """Withdraw every pending fault."""
        with self._lock:
            self._transfer.clear()
            self._disconnect_after = None
            self._corrupt_writes = 0
            self._busy_inits = 0
            self.erase_factor = 1.0

    # --- used by the simulator -------------------------------------------------------------------------------------

    def take_transfer_fault(self, b_request: int) -> TransferFault | None:
        with self._lock:
            for pending in self._transfer:
                if pending.request is None or pending.request == b_request:
                    pending.remaining -= 1
                    if pending.remaining <= 0:
                        self._transfer.remove(pending)
                    return pending.kind
        return None

    def take_disconnect(self, size: int) -> bool:
        """Count ``size`` data-stage bytes; True when they cross the armed limit (the limit is then spent)."""
        with self._lock:
            if self._disconnect_after is None:
                return False
            if size > self._disconnect_after:
                self._disconnect_after = None
                return True
            self._disconnect_after -= size
            return False

    def take_corrupt_write(self) -> bool:
        with self._lock:
            if self._corrupt_writes:
                self._corrupt_writes -= 1
                return True
            return False

    def take_busy(self) -> bool:
        with self._lock:
            if self._busy_inits:
                self._busy_inits -= 1
                return True
            return False


@dataclass
class SerialFaults:
    """Faults of one simulated serial console session; change them at any time from the test."""

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
