"""Sparse NOR flash described by a DfuSe memory-layout string: 4 KB pages kept only once written, erased bytes
read 0xFF, and programming can only clear bits (so writing without erasing corrupts, as on real flash).

The memory is described by the simulator's own ``FlashLayout`` (the bootloader reports it as a DfuSe string; only the
host parses that string).
"""

from __future__ import annotations

from hardware.simulated.errors import SimulationError
from hardware.simulated.flash_layout import Access, FlashLayout, Segment

PAGE_SIZE = 4096
ERASED = 0xFF


class FlashAccessError(SimulationError):
    """An address range lies outside the memory, or in a segment that does not allow the operation."""


def _sector_start(segment: Segment, address: int) -> int:
    return segment.start + (address - segment.start) // segment.page_size * segment.page_size


class FlashMemory:
    """One DFU alternate setting's memory. Not thread-safe: the owning device's lock guards it.

    ``nor=False`` models memories that Device OS rewrites in place (the DCT): writes replace bytes.
    """

    def __init__(self, layout: FlashLayout, *, nor: bool = True) -> None:
        self.layout = layout
        self.nor = nor
        self._pages: dict[int, bytearray] = {}

    @property
    def pages_in_use(self) -> int:
        return len(self._pages)

    def allows(self, start: int, length: int, access: Access) -> bool:
        """True when every byte of [start, start+length) lies in segments with ``access``."""
        address, end = start, start + max(length, 1)
        while address < end:
            segment = self.layout.segment_at(address)
            if segment is None or access not in segment.access:
                return False
            address = segment.end
        return True

    def _check(self, address: int, length: int) -> None:
        if length < 0 or address < self.layout.start or address + length > self.layout.end:
            raise FlashAccessError(
                f"{self.layout.name}: range 0x{address:08X}+{length} is outside "
                f"0x{self.layout.start:08X}..0x{self.layout.end:08X}"
            )

    def read(self, address: int, length: int) -> bytes:
        self._check(address, length)
        out = bytearray()
        position, end = address, address + length
        while position < end:
            page, offset = divmod(position, PAGE_SIZE)
            take = min(PAGE_SIZE - offset, end - position)
            stored = self._pages.get(page)
            out += stored[offset : offset + take] if stored is not None else bytes([ERASED]) * take
            position += take
        return bytes(out)

    def program(self, address: int, data: bytes) -> None:
        """Write like the hardware does: NOR flash ANDs new bits into old ones; an in-place memory replaces them."""
        self._check(address, len(data))
        position = 0
        while position < len(data):
            page, offset = divmod(address + position, PAGE_SIZE)
            take = min(PAGE_SIZE - offset, len(data) - position)
            chunk = data[position : position + take]
            stored = self._pages.get(page)
            if stored is None:
                if all(b == ERASED for b in chunk):
                    position += take
                    continue
                stored = self._pages[page] = bytearray([ERASED]) * PAGE_SIZE
            if self.nor:
                for i, byte in enumerate(chunk):
                    stored[offset + i] &= byte
            else:
                stored[offset : offset + take] = chunk
            position += take

    def overwrite(self, address: int, data: bytes) -> None:
        """Store exactly these bytes (test set-up; not something the hardware can do without erasing)."""
        self._check(address, len(data))
        position = 0
        while position < len(data):
            page, offset = divmod(address + position, PAGE_SIZE)
            take = min(PAGE_SIZE - offset, len(data) - position)
            stored = self._pages.setdefault(page, bytearray([ERASED]) * PAGE_SIZE)
            stored[offset : offset + take] = data[position : position + take]
            position += take

    def erase(self, address: int, length: int) -> None:
        """Erase whole pages covering [address, address+length) (the caller rounds to its sectors)."""
        self._check(address, length)
        first, last = address // PAGE_SIZE, (address + length - 1) // PAGE_SIZE
        for page in range(first, last + 1):
            self._pages.pop(page, None)

    def erase_sector(self, address: int) -> int:
        """Erase the layout sector holding ``address``; returns its size."""
        segment = self.layout.segment_at(address)
        if segment is None:
            raise FlashAccessError(f"{self.layout.name}: no sector at 0x{address:08X}")
        self.erase(_sector_start(segment, address), segment.page_size)
        return segment.page_size

    def erase_covering(self, address: int, length: int) -> None:
        """Erase every sector that overlaps [address, address+length)."""
        position, end = address, address + length
        while position < end:
            segment = self.layout.segment_at(position)
            if segment is None:
                raise FlashAccessError(f"{self.layout.name}: no sector at 0x{position:08X}")
            start = _sector_start(segment, position)
            self.erase(start, segment.page_size)
            position = start + segment.page_size
