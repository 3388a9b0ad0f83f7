"""Property tests: the parser never fails with anything but FirmwareError, and builder output parses back."""

from __future__ import annotations

import struct
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hardware.errors import FirmwareError
from hardware.firmware import (
    Dependency,
    FirmwareModule,
    ModuleFlag,
    ModuleFunction,
    NameExtension,
    UnknownExtension,
    parse_module,
)
from hardware.firmware_builder import build_module, seal
from hardware.platforms import PLATFORMS

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "firmware"
VALID = [
    (FIXTURES / name).read_bytes()
    for name in ("boron-user.bin", "p2-user.bin", "photon-system-part2.bin", "boron-system-part1.bin", "p2-asset.bin")
]
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_or_firmware_error(data: bytes) -> FirmwareModule | None:
    """Parse; a FirmwareError is an allowed outcome, any other exception fails the test."""
    try:
        return parse_module(data)
    except FirmwareError:
        return None


@FAST
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_raise_nothing_but_firmware_error(data: bytes):
    parse_or_firmware_error(data)


@FAST
@given(
    prefix=st.tuples(
        st.integers(0, 0xFFFFFFFF),
        st.integers(0, 0xFFFFFFFF),
        st.integers(0, 255),
        st.integers(0, 255),
        st.integers(0, 0xFFFF),
        st.sampled_from([p.id for p in PLATFORMS] + [999]),
        st.integers(0, 12),
        st.integers(0, 255),
    ),
    tail=st.binary(max_size=600),
    offset=st.sampled_from([0, 0x20, 0x184]),
)
def test_plausible_prefixes_over_random_data_raise_nothing_but_firmware_error(prefix, tail, offset):
    head = bytes(offset) + struct.pack("<IIBBHHBB", *prefix) + bytes(8)
    parse_or_firmware_error(head + tail)


@FAST
@given(base=st.sampled_from(VALID), data=st.data())
def test_truncated_valid_binary_is_an_error_or_a_broken_module(base: bytes, data: st.DataObject):
    length = data.draw(st.integers(0, len(base) - 1))
    module = parse_or_firmware_error(base[:length])
    assert module is None or not module.is_intact


@FAST
@given(base=st.sampled_from(VALID), data=st.data())
def test_single_bit_flip_is_always_detected(base: bytes, data: st.DataObject):
    position = data.draw(st.integers(0, len(base) - 1))
    bit = data.draw(st.integers(0, 7))
    flipped = bytearray(base)
    flipped[position] ^= 1 << bit
    module = parse_or_firmware_error(bytes(flipped))
    assert module is None or not module.crc_ok


@FAST
@given(base=st.sampled_from(VALID), data=st.data())
def test_many_bit_flips_raise_nothing_but_firmware_error(base: bytes, data: st.DataObject):
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(base) - 1), st.integers(0, 7)), min_size=1, max_size=16))
    mutated = bytearray(base)
    for position, bit in flips:
        mutated[position] ^= 1 << bit
    parse_or_firmware_error(bytes(mutated))
    parse_or_firmware_error(seal(bytes(mutated)))


@FAST
@given(base=st.sampled_from(VALID), suffix_size=st.integers(0, 0xFFFF), reseal=st.booleans())
def test_random_suffix_size_raises_nothing_but_firmware_error(base: bytes, suffix_size: int, reseal: bool):
    mutated = bytearray(base)
    mutated[-6:-4] = suffix_size.to_bytes(2, "little")
    data = seal(bytes(mutated)) if reseal else bytes(mutated)
    module = parse_or_firmware_error(data)
    if module is not None and reseal and suffix_size < 36:
        assert module.format_problems


@FAST
@given(base=st.sampled_from(VALID[:2]), garbage=st.binary(min_size=4, max_size=40))
def test_garbage_in_the_suffix_extension_area_raises_nothing_but_firmware_error(base: bytes, garbage: bytes):
    module = parse_module(base)
    assert module.suffix_size is not None
    start = len(base) - 4 - module.suffix_size
    mutated = bytearray(base)
    end = min(start + len(garbage), len(base) - 40)
    mutated[start:end] = garbage[: end - start]
    parse_or_firmware_error(seal(bytes(mutated)))


_FUNCTIONS = st.sampled_from([f for f in ModuleFunction if f is not ModuleFunction.NONE])
_DEPENDENCIES = st.lists(st.builds(Dependency, _FUNCTIONS, st.integers(0, 255), st.integers(0, 0xFFFF)), max_size=2)
_PRODUCT = st.one_of(st.none(), st.integers(0, 0xFFFE))


@FAST
@given(
    platform_id=st.sampled_from([p.id for p in PLATFORMS] + [200]),
    function=_FUNCTIONS,
    index=st.integers(0, 255),
    version=st.integers(0, 0xFFFF),
    start=st.integers(0, 0x1FFF0000).map(lambda a: a & ~3),
    size=st.integers(1024, 12000),
    dependencies=_DEPENDENCIES,
    product_id=_PRODUCT,
    product_version=_PRODUCT,
    extended=st.booleans(),
    prefix_offset=st.sampled_from([0, 0x20, 0x184, 0x200, 0x10C]),
    flags=st.sampled_from([0, 0x01, 0x02, 0x04, 0x08, 0x0F]),
    reserved=st.integers(0, 255),
    name=st.one_of(st.none(), st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\0"), max_size=20)),
    seed=st.integers(0, 1000),
)
def test_builder_output_parses_back_field_for_field(
    platform_id,
    function,
    index,
    version,
    start,
    size,
    dependencies,
    product_id,
    product_version,
    extended,
    prefix_offset,
    flags,
    reserved,
    name,
    seed,
):
    extensions = [NameExtension(name)] if name is not None else []
    raw = build_module(
        platform_id,
        function,
        index,
        version,
        start,
        size,
        dependencies,
        product_id,
        product_version,
        extended_suffix=extended,
        prefix_offset=prefix_offset,
        flags=flags,
        reserved=reserved,
        suffix_extensions=extensions,
        seed=seed,
    )
    module = parse_module(raw)
    assert len(raw) == size == module.file_size
    assert module.prefix_offset == prefix_offset
    assert (module.platform_id, module.function, module.index, module.version) == (
        platform_id,
        function,
        index,
        version,
    )
    assert (module.start_address, module.end_address) == (start, start + size - 4)
    assert (module.reserved, module.flags) == (reserved, ModuleFlag(flags))
    assert module.dependencies == tuple(dependencies)
    has_product = product_id is not None or product_version is not None
    assert (module.product_id, module.product_version) == (
        (product_id, product_version) if has_product or extended else (None, None)
    )
    if name is not None:
        assert module.name == name
    assert module.is_intact


@FAST
@given(
    ext_type=st.integers(0x20, 0xFFFE),
    body=st.binary(max_size=30),
    prefix_body=st.binary(max_size=30),
)
def test_unknown_extensions_round_trip(ext_type: int, body: bytes, prefix_body: bytes):
    raw = build_module(
        "boron",
        ModuleFunction.USER_PART,
        2,
        6,
        None,
        2048,
        product_id=5,
        product_version=1,
        prefix_extensions=[UnknownExtension(0x7777, prefix_body)],
        suffix_extensions=[UnknownExtension(ext_type, body)],
    )
    module = parse_module(raw)
    assert module.suffix_extensions[0] == UnknownExtension(ext_type, body)
    assert module.prefix_extensions[0] == UnknownExtension(0x7777, prefix_body)
    assert (module.product_id, module.product_version) == (5, 1)
    assert module.is_intact
