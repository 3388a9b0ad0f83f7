"""Parse a DfuSe memory-layout string (an alt setting's interface name) into segments with page sizes and rights.

Facts: DfuSe 1.1a (ST UM0391) and particle-usb 4.1.0 src/dfu.js: ``@Name   /0xSTART/N*SSSUp,…``; unit `` ``/B/K/M;
the property letter a–g is a bit mask (letter − 'a' + 1): 1 readable, 2 erasable, 4 writable. The simulated devices
write their layout strings with their own model (``hardware.simulated.flash_layout``), so this parser is tested
against an independent writer.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from hardware.usb.errors import DfuLayoutError, ReadOnlyRegionError

_UNITS = {" ": 1, "B": 1, "K": 1024, "M": 1024 * 1024}
_SECTOR = re.compile(r"^\s*(\d+)\*(\d+)([ BKM])([a-g])\s*$")


class SegmentAccess(enum.IntFlag):
    READABLE = 1
    ERASABLE = 2
    WRITABLE = 4


@dataclass(frozen=True)
class MemorySegment:
    """``page_count`` pages of ``page_size`` bytes from ``start``, with the same access rights."""

    start: int
    page_count: int
    page_size: int
    access: SegmentAccess

    @property
    def end(self) -> int:
        return self.start + self.page_count * self.page_size

    @property
    def writable(self) -> bool:
        return SegmentAccess.WRITABLE in self.access

    @property
    def erasable(self) -> bool:
        return SegmentAccess.ERASABLE in self.access

    @property
    def readable(self) -> bool:
        return SegmentAccess.READABLE in self.access

    def pages(self) -> list[int]:
        return [self.start + i * self.page_size for i in range(self.page_count)]


@dataclass(frozen=True)
class MemoryLayout:
    """One alt setting's memory: its name and its segments in address order."""

    name: str
    segments: tuple[MemorySegment, ...]

    @classmethod
    def parse(cls, text: str) -> MemoryLayout:
        """Parse ``@Internal Flash   /0x08000000/03*016Ka,01*016Kg`` (several ``/addr/sectors`` groups allowed)."""
        if not text.startswith("@"):
            raise DfuLayoutError(f"DFU memory layout {text!r} does not start with '@'")
        parts = text[1:].split("/")
        if len(parts) < 3 or len(parts) % 2 == 0:
            raise DfuLayoutError(f"DFU memory layout {text!r} is not '@name/0xADDRESS/sectors'")
        name = parts[0].strip()
        segments: list[MemorySegment] = []
        for address_text, sectors_text in zip(parts[1::2], parts[2::2], strict=True):
            try:
                address = int(address_text.strip(), 16)
            except ValueError:
                raise DfuLayoutError(f"DFU memory layout {text!r}: {address_text!r} is not a hex address") from None
            for sector in sectors_text.split(","):
                match = _SECTOR.match(sector)
                if match is None:
                    raise DfuLayoutError(f"DFU memory layout {text!r}: sector group {sector!r} is not 'N*SIZEUp'")
                count, size = int(match[1]), int(match[2]) * _UNITS[match[3]]
                if count == 0 or size == 0:
                    raise DfuLayoutError(f"DFU memory layout {text!r}: sector group {sector!r} is empty")
                access = SegmentAccess(ord(match[4]) - ord("a") + 1)
                segments.append(MemorySegment(address, count, size, access))
                address += count * size
        return cls(name, tuple(sorted(segments, key=lambda s: s.start)))

    @property
    def start(self) -> int:
        return self.segments[0].start

    @property
    def end(self) -> int:
        return self.segments[-1].end

    def segment_at(self, address: int) -> MemorySegment | None:
        for segment in self.segments:
            if segment.start <= address < segment.end:
                return segment
        return None

    def page_size_at(self, address: int) -> int:
        segment = self.segment_at(address)
        if segment is None:
            raise DfuLayoutError(f"0x{address:08x} is outside {self.describe()}")
        return segment.page_size

    def check_writable(self, start: int, length: int) -> None:
        """Raise ReadOnlyRegionError unless every byte of [start, start+length) lies in a writable segment."""
        end = start + length
        address = start
        while address < end:
            segment = self.segment_at(address)
            if segment is None:
                raise ReadOnlyRegionError(
                    f"0x{address:08x} is outside {self.name} (0x{self.start:08x}-0x{self.end:08x}); "
                    "the binary was built for another platform or memory"
                )
            if not segment.writable:
                raise ReadOnlyRegionError(
                    f"0x{max(start, segment.start):08x}-0x{min(end, segment.end):08x} of {self.name} is read-only "
                    "over DFU; this image cannot be written there"
                )
            address = segment.end

    def pages_to_erase(self, start: int, length: int) -> list[int]:
        """Start addresses of the erasable pages that overlap [start, start+length), in order."""
        end = start + length
        pages: list[int] = []
        for segment in self.segments:
            if segment.end <= start or segment.start >= end or not segment.erasable:
                continue
            first = max(0, (start - segment.start) // segment.page_size)
            last = min(segment.page_count, -(-(end - segment.start) // segment.page_size))
            pages.extend(segment.start + i * segment.page_size for i in range(first, last))
        return pages

    def describe(self) -> str:
        return f"{self.name} 0x{self.start:08x}-0x{self.end:08x}"
