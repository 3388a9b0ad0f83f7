"""How long a simulated device takes for flash work, request handling, resets and re-enumeration.

The simulator spends this time for real (a transfer to a busy device blocks, a reset makes the device vanish from
enumeration for ``reenumerate_s``), so benchmarks against simulated devices measure something meaningful.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from hardware.platforms import McuFamily

PAGE_SIZE = 4096


@dataclass(frozen=True)
class Timing:
    page_erase_s: float = 0.0
    """Erasing one 4 KB page (a larger sector costs its size in pages)."""
    block_write_s: float = 0.0
    """Programming one 4 KB block (shorter writes cost their share)."""
    handler_s: float = 0.0
    """From a control request's last payload byte (or its INIT) until its reply is ready; also buffer allocation."""
    reset_s: float = 0.0
    """From the reply to a reset / DFU / safe-mode request until the device drops off the bus."""
    manifest_s: float = 0.0
    """From the dfuMANIFEST status until the bootloader resets."""
    reenumerate_s: float = 0.0
    """From dropping off the bus (reset, plug-in) until the device enumerates again."""
    usb_bytes_per_s: float | None = None
    """Data-stage throughput of endpoint 0; None = no transfer time."""
    test_op_s: float = 0.0
    """Mean time the test firmware spends measuring for one op (each op takes a fixed share of 0.67x to 1.67x)."""

    @classmethod
    def zero(cls) -> Timing:
        """Everything instantaneous: for fast functional tests."""
        return cls()

    @classmethod
    def realistic(cls, family: McuFamily = McuFamily.NRF52840) -> Timing:
        """Timings close to real hardware of an MCU family (defaults to nRF52840).

        Sources of the numbers: nRF52840 product specification (page erase up to 85 ms, 41 µs per 32-bit word
        → 42 ms per 4 KB); RTL872x external QSPI NOR (4 KB sector erase ~45 ms, 256 B page program ~0.7 ms);
        STM32F2 reference manual (128 KB sector erase ~1 s, 16 KB ~0.25 s, 16 µs per word). Device OS resets
        1000 ms after replying to requests 40/50/60 (Device OS ``system/src/system_control_internal.cpp``) and
        ~500 ticks after dfuMANIFEST (``bootloader/src/nRF52840/usbd_dfu.cpp``).
        Full-speed endpoint 0 moves roughly 500 KB/s in practice; a boot plus USB enumeration takes about a second.
        A test op (an ADC reading averaged over a few samples, a modem query, an accelerometer self-test) takes
        0.2 to 0.5 s.
        """
        erase, write = {
            McuFamily.NRF52840: (0.085, 0.042),
            McuFamily.RTL872X: (0.045, 0.011),
            McuFamily.STM32F2: (0.035, 0.016),
            McuFamily.STM32F1: (0.035, 0.016),
        }.get(family, (0.085, 0.042))
        return cls(
            page_erase_s=erase,
            block_write_s=write,
            handler_s=0.002,
            reset_s=1.0,
            manifest_s=0.5,
            reenumerate_s=1.0,
            usb_bytes_per_s=500_000.0,
            test_op_s=0.3,
        )

    def with_changes(self, **changes: float | None) -> Timing:
        """A copy with some numbers replaced, e.g. ``Timing.zero().with_changes(page_erase_s=0.01)``."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def erase_seconds(self, size: int, factor: float = 1.0) -> float:
        return math.ceil(size / PAGE_SIZE) * self.page_erase_s * factor

    def write_seconds(self, size: int) -> float:
        return size / PAGE_SIZE * self.block_write_s

    def transfer_seconds(self, size: int) -> float:
        if not self.usb_bytes_per_s or size <= 0:
            return 0.0
        return size / self.usb_bytes_per_s
