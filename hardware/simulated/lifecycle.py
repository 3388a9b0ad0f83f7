"""Power, bus presence and modes of a simulated device: resets scheduled for later, the USB session that changes
whenever the device drops off the bus, the mode it booted into, and the busy time of its flash work.

State changes are applied lazily: a reset whose time has come is carried out by the next ``due_reset`` call, which
the device makes on every access. Not thread-safe on its own: the owning device's lock guards it.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass

from hardware.simulated.timing import Timing


class DeviceMode(enum.Enum):
    NORMAL = "normal"
    LISTENING = "listening"
    DFU = "dfu"


@dataclass(frozen=True)
class Boot:
    """A reset that has come due: boot into ``mode`` (NORMAL or DFU), into safe mode when ``safe``."""

    mode: DeviceMode
    safe: bool


class Lifecycle:
    """Resets, cable, USB sessions, boot count and the running firmware's mode."""

    def __init__(self, timing: Timing) -> None:
        self.timing = timing
        self.plugged = True
        self.session = 1
        """Changes whenever the device drops off the bus: a handle from an older session is stale."""
        self.boot_count = 0
        self.firmware = DeviceMode.NORMAL
        """What runs: the bootloader (DFU) or Device OS (NORMAL)."""
        self.listening = False
        self.safe_mode = False
        self._present_at = 0.0
        self._busy_until = 0.0
        self._reset_at: float | None = None
        self._reset_mode = DeviceMode.NORMAL
        self._safe_boot = False

    @property
    def mode(self) -> DeviceMode:
        if self.firmware is DeviceMode.DFU:
            return DeviceMode.DFU
        return DeviceMode.LISTENING if self.listening else DeviceMode.NORMAL

    @property
    def present(self) -> bool:
        return self.plugged and time.monotonic() >= self._present_at

    @property
    def reset_pending(self) -> bool:
        return self._reset_at is not None

    def schedule_reset(self, delay: float, mode: DeviceMode, *, safe: bool) -> None:
        """Stay on the bus ``delay`` seconds, then drop off and boot into ``mode`` (LISTENING boots as NORMAL)."""
        self._reset_at = time.monotonic() + delay
        self._reset_mode = DeviceMode.DFU if mode is DeviceMode.DFU else DeviceMode.NORMAL
        self._safe_boot = safe

    def due_reset(self) -> Boot | None:
        """The boot a reset whose time has come asks for (the device drops off the bus now), else None."""
        if self._reset_at is None or time.monotonic() < self._reset_at:
            return None
        at, self._reset_at = self._reset_at, None
        if not self.plugged:
            return None
        self.session += 1
        self._present_at = at + self.timing.reenumerate_s
        return Boot(self._reset_mode, self._take_safe_boot())

    def _take_safe_boot(self) -> bool:
        safe, self._safe_boot = self._safe_boot, False
        return safe

    def unplug(self) -> bool:
        """Pull the cable: power and bus presence go, pending work is lost. False when it was already out."""
        if not self.plugged:
            return False
        self.plugged = False
        self.session += 1
        self._reset_at = None
        self._busy_until = 0.0
        return True

    def plug(self) -> bool:
        """Plug the cable in; the device enumerates ``timing.reenumerate_s`` later. False when it was already in."""
        if self.plugged:
            return False
        self.plugged = True
        self._present_at = time.monotonic() + self.timing.reenumerate_s
        self._safe_boot = False
        return True

    def booted(self, firmware: DeviceMode, *, safe_mode: bool, listening: bool) -> None:
        """Record a boot: what runs now, and in normal mode whether it is safe mode and listening."""
        self.boot_count += 1
        self.firmware = firmware
        normal = firmware is DeviceMode.NORMAL
        self.safe_mode = normal and safe_mode
        self.listening = normal and listening
        self._busy_until = 0.0

    def busy_remaining(self) -> float:
        return max(0.0, self._busy_until - time.monotonic())

    def occupy(self, seconds: float) -> None:
        """Flash work keeps the device busy ``seconds`` more: transfers wait (it NAKs) until then."""
        self._busy_until = max(self._busy_until, time.monotonic()) + seconds
