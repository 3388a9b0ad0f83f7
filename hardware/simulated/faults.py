"""Faults injected into one simulated device at run time: stalls, timeouts, unplugs mid-transfer, slow erases,
corrupted writes and BUSY replies (each one-shot fault fires once per count and is then spent), the test firmware's
per-op faults (they last until withdrawn), and the line faults of its serial console (noise, slow or dribbling
replies, YMODEM NAKs, silence and drops)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import Enum

from hardware.simulated.errors import SimulationError

DEFAULT_SLOW_S = 3.0
"""How long a test op with the plain ``"slow"`` fault takes to answer (``"slow:N"`` gives N seconds)."""
ALL_OPS = "*"
"""A test-fault key that applies to every op without a fault of its own."""


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


class TestFaultKind(Enum):
    __test__ = False

    OUT_OF_RANGE = "out_of_range"
    """The measurement comes back far outside any sensible limit (non-numeric ops fail or give a wrong value)."""
    MARGINAL = "marginal"
    """The measurement comes back inside the documented limits but outside the marginal ones."""
    NO_REPLY = "no_reply"
    """The op never answers: the request stays pending until the host gives up."""
    GARBLED = "garbled"
    """The op answers with bytes that are not valid JSON."""
    RESET = "reset"
    """The device resets while it runs the op (it drops off the bus and the request is lost)."""
    SLOW = "slow"
    """The op answers correctly, but only after ``seconds``."""


@dataclass(frozen=True)
class TestFault:
    """One op's fault, parsed from ``"out_of_range"``, ``"slow"``, ``"slow:2.5"`` …"""

    __test__ = False

    kind: TestFaultKind
    seconds: float = DEFAULT_SLOW_S

    @classmethod
    def parse(cls, text: str) -> TestFault:
        name, _, argument = text.partition(":")
        try:
            kind = TestFaultKind(name.strip())
        except ValueError:
            known = ", ".join(k.value for k in TestFaultKind)
            raise SimulationError(f"unknown test fault {text!r}; use one of {known} (slow:N for N seconds)") from None
        if not argument:
            return cls(kind)
        if kind is not TestFaultKind.SLOW:
            raise SimulationError(f"test fault {text!r}: only slow takes a number of seconds")
        try:
            seconds = float(argument)
        except ValueError:
            raise SimulationError(f"test fault {text!r}: {argument!r} is not a number of seconds") from None
        if seconds < 0:
            raise SimulationError(f"test fault {text!r}: seconds must be >= 0")
        return cls(kind, seconds)


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
    test_ops: dict[str, str] = field(default_factory=dict)
    """Faults of the test firmware's ops, by op name (``"*"`` = every other op), e.g. ``{"battery": "marginal"}``;
    they stay until withdrawn (``SimulatedDevice.test_faults`` is this dict)."""
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

    def fail_test_op(self, op: str, fault: str) -> None:
        """Make the test firmware's ``op`` (or ``"*"``: every op) misbehave, e.g. ``fail_test_op("vin", "slow:2")``."""
        TestFault.parse(fault)
        with self._lock:
            self.test_ops[op] = fault

    def test_fault(self, op: str) -> TestFault | None:
        """The fault set for ``op`` (or for every op), if any."""
        with self._lock:
            text = self.test_ops.get(op, self.test_ops.get(ALL_OPS))
        return None if text is None else TestFault.parse(text)

    def clear(self) -> None:
        """Withdraw every pending fault."""
        with self._lock:
            self.test_ops.clear()
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
