"""DfuSe memory-layout strings (DfuSe 1.1a; particle-usb src/dfu.js): parsing, read-only segments, and which pages an
image erases."""

from __future__ import annotations

import pytest

from hardware.usb.dfuse_layout import MemoryLayout, SegmentAccess
from hardware.usb.errors import DfuLayoutError, ReadOnlyRegionError

NRF = "@Internal Flash   /0x00000000/1*004Ka,47*004Kg,192*004Kg,4*004Kg,4*004Kg,8*004Ka"
STM32 = "@Internal Flash   /0x08000000/03*016Ka,01*016Kg,01*064Kg,07*128Kg"
RTL = "@Internal Flash   /0x08000000/2048*004Kg"


def test_nrf_layout_covers_the_whole_megabyte() -> None:
    layout = MemoryLayout.parse(NRF)
    assert (layout.name, layout.start, layout.end) == ("Internal Flash", 0, 0x100000)


def test_property_letters_are_bit_masks() -> None:
    layout = MemoryLayout.parse("@X/0x0/1*004Ka,1*004Kb,1*004Ke,1*004Kg")
    assert [s.access for s in layout.segments] == [
        SegmentAccess.READABLE,
        SegmentAccess.ERASABLE,
        SegmentAccess.READABLE | SegmentAccess.WRITABLE,
        SegmentAccess.READABLE | SegmentAccess.ERASABLE | SegmentAccess.WRITABLE,
    ]


def test_units_bytes_kilobytes_and_megabytes() -> None:
    layout = MemoryLayout.parse("@X/0x0/2*512 g,1*1Mg,1*8Bg")
    assert [s.page_size for s in layout.segments] == [512, 1024 * 1024, 8]


def test_several_address_groups_are_allowed() -> None:
    layout = MemoryLayout.parse("@X/0x1000/2*004Kg/0x8000/1*016Ka")
    assert [(s.start, s.end) for s in layout.segments] == [(0x1000, 0x3000), (0x8000, 0xC000)]


def test_stm32_sectors_of_mixed_sizes_are_laid_out_in_order() -> None:
    layout = MemoryLayout.parse(STM32)
    assert layout.page_size_at(0x080A0000) == 128 * 1024 and layout.end == 0x08100000


def test_image_covering_part_of_a_page_erases_that_whole_page_only() -> None:
    assert MemoryLayout.parse(NRF).pages_to_erase(0xB4000, 4097) == [0xB4000, 0xB5000]


def test_erase_skips_pages_before_and_after_the_image() -> None:
    pages = MemoryLayout.parse(RTL).pages_to_erase(0x085F4000, 0xC000)
    assert pages == [0x085F4000, 0x085F5000] + [0x085F4000 + i * 0x1000 for i in range(2, 12)]


def test_erase_on_stm32_takes_the_128k_sector_the_user_part_sits_in() -> None:
    assert MemoryLayout.parse(STM32).pages_to_erase(0x080A0000, 0x20000) == [0x080A0000]


def test_write_into_the_nrf_mbr_page_is_refused() -> None:
    with pytest.raises(ReadOnlyRegionError, match="read-only"):
        MemoryLayout.parse(NRF).check_writable(0x0, 16)


def test_bootloader_write_reaching_the_read_only_top_of_nrf_flash_is_refused() -> None:
    with pytest.raises(ReadOnlyRegionError, match="0x000f8000"):
        MemoryLayout.parse(NRF).check_writable(0xF4000, 0x6000)


def test_write_past_the_end_of_memory_is_refused() -> None:
    with pytest.raises(ReadOnlyRegionError, match="outside"):
        MemoryLayout.parse(RTL).check_writable(0x087FF000, 0x2000)


def test_user_part_region_is_writable() -> None:
    MemoryLayout.parse(NRF).check_writable(0xB4000, 256 * 1024)


@pytest.mark.parametrize(
    "text",
    ["Internal Flash/0x0/1*4Kg", "@X/0x0", "@X/zz/1*4Kg", "@X/0x0/1*4Kz", "@X/0x0/0*4Kg", "@X/0x0/1x4Kg"],
    ids=["no-at", "no-sectors", "bad-address", "bad-letter", "empty-group", "no-star"],
)
def test_malformed_layouts_raise_dfu_layout_error(text: str) -> None:
    with pytest.raises(DfuLayoutError):
        MemoryLayout.parse(text)
