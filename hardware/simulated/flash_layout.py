"""A simulated memory's DfuSe layout: segments of equal pages with access rights, and the memory-layout string the
bootloader reports as the alt setting's interface name, generated from them.

The string format is DfuSe 1.1a's (ST UM0424): ``@Name/0xSTART/N*SSSUp,...``, unit `` ``/B/K/M, and a property
letter a..g that is a bit mask (letter - 'a' + 1): 1 readable, 2 erasable, 4 writable. Particle's bootloaders put
three spaces before the first ``/`` (Device OS ``bootloader/src/{nRF52840,rtl872x}/usbd_dfu*.{h,cpp}``; particle-usb
``src/dfu.js`` parses it). The host parses these strings
with its own parser; the simulator only writes them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

NAME_PADDING = "   "
"""Particle's strings have three spaces between the memory name and the first ``/``."""


class Access(enum.IntFlag):
    """The DfuSe property bits behind a segment's letter."""

    READABLE = 1
    ERASABLE = 2
    WRITABLE = 4


READ_ONLY = Access.READABLE
"""``a``"""
READ_WRITE = Access.READABLE | Access.WRITABLE
"""``e``: rewritten in place without erasing (the Gen 3 DCT)."""
READ_ERASE_WRITE = Access.READABLE | Access.ERASABLE | Access.WRITABLE
"""``g``"""

_UNITS = (("M", 1024 * 1024), ("K", 1024))


@dataclass(frozen=True)
class Segment:
    """``page_count`` pages of ``page_size`` bytes from ``start``, all with the same rights."""

    start: int
    page_count: int
    page_size: int
    access: Access

    @property
    def end(self) -> int:
        return self.start + self.page_count * self.page_size

    @property
    def erasable(self) -> bool:
        return Access.ERASABLE in self.access

    def describe(self, count_digits: int) -> str:
        """``47*004Kg``: count, page size in its unit (three digits), unit, property letter."""
        unit, scale = next(((u, s) for u, s in _UNITS if self.page_size % s == 0), ("B", 1))
        letter = chr(ord("a") + int(self.access) - 1)
        return f"{self.page_count:0{count_digits}d}*{self.page_size // scale:03d}{unit}{letter}"


@dataclass(frozen=True)
class FlashLayout:
    """One alt setting's memory: its name and contiguous segments from ``start``."""

    name: str
    segments: tuple[Segment, ...]
    count_digits: int = 1
    """Width the page counts are zero-padded to: 2 on the STM32 bootloaders (``03*016Ka``), none on nRF/RTL."""

    @property
    def start(self) -> int:
        return self.segments[0].start

    @property
    def end(self) -> int:
        return self.segments[-1].end

    def segment_at(self, address: int) -> Segment | None:
        for segment in self.segments:
            if segment.start <= address < segment.end:
                return segment
        return None

    def describe(self) -> str:
        """The DfuSe memory-layout string, e.g. ``@DCT Flash   /0x00000000/1*016Ke``."""
        groups = ",".join(segment.describe(self.count_digits) for segment in self.segments)
        return f"@{self.name}{NAME_PADDING}/0x{self.start:08X}/{groups}"


def layout(name: str, start: int, groups: list[tuple[int, int, Access]], *, count_digits: int = 1) -> FlashLayout:
    """A layout from ``(page count, page size, access)`` groups laid end to end from ``start``."""
    segments = []
    address = start
    for count, size, access in groups:
        segments.append(Segment(address, count, size, access))
        address += count * size
    return FlashLayout(name, tuple(segments), count_digits)
