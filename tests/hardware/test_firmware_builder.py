"""The module builder: exact sizes, placement defaults, extensions, errors, and the committed fixtures."""

from __future__ import annotations

import importlib.util
import struct
import sys
from pathlib import Path
from types import ModuleType

import pytest

from hardware.firmware import (
    EndExtension,
    ModuleFlag,
    ModuleFunction,
    NameExtension,
    ProductDataExtension,
    SecurityModeExtension,
    parse_module,
)
from hardware.firmware_builder import build_module, default_start_address, seal, with_bad_crc, with_bad_sha256

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "firmware"
USER, SYSTEM = ModuleFunction.USER_PART, ModuleFunction.SYSTEM_PART


def load_generator() -> ModuleType:
    name = "firmware_fixture_generator"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, FIXTURES / "make_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def test_committed_fixtures_match_the_generator():
    generator = load_generator()
    for name, data in generator.expected_files().items():
        assert (FIXTURES / name).read_bytes() == data, f"{name} is stale: run fixtures/firmware/make_fixtures.py"


def test_generator_check_mode_passes_on_the_committed_files():
    assert load_generator().main(["--check"]) == 0


def test_generator_writes_the_same_bytes_on_every_run(tmp_path: Path):
    generator = load_generator()
    generator.main(["--out", str(tmp_path)])
    first = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    generator.main(["--out", str(tmp_path)])
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == first


def test_fixtures_stay_small():
    assert all(p.stat().st_size <= 8192 for p in FIXTURES.glob("*.bin"))


def test_build_module_has_the_requested_size():
    assert len(build_module("boron", USER, 2, 6, None, 5000)) == 5000


def test_build_module_is_deterministic_and_seeded():
    first = build_module("boron", USER, 2, 6)
    assert build_module("boron", USER, 2, 6) == first
    assert build_module("boron", USER, 2, 6, seed=1) != first


@pytest.mark.parametrize(
    ("platform", "function", "index", "address"),
    [
        ("boron", USER, 1, 0xD4000),
        ("boron", USER, 2, 0xB4000),
        ("photon", USER, 1, 0x080A0000),
        ("electron", USER, 1, 0x08080000),
        ("electron", SYSTEM, 3, 0x08060000),
        ("boron", SYSTEM, 1, 0x28000),
        ("p2", SYSTEM, 1, 0x08060000),
        ("p2", ModuleFunction.BOOTLOADER, 0, 0x08004000),
        ("boron", ModuleFunction.RADIO_STACK, 0, 0x1000),
    ],
)
def test_default_start_addresses_follow_the_reference(platform, function, index, address):
    assert default_start_address(platform, function, index, 4096) == address


def test_rtl872x_user_part_start_depends_on_its_size():
    assert default_start_address("msom", USER, 1, 49152) == 0x085F4000


def test_unknown_default_address_is_a_value_error():
    with pytest.raises(ValueError, match="give start_address"):
        default_start_address("boron", ModuleFunction.SETTINGS, 0, 4096)


def test_too_small_size_is_a_value_error():
    with pytest.raises(ValueError, match="too small"):
        build_module("boron", USER, 2, 6, None, 50)


def test_more_than_two_dependencies_is_a_value_error():
    with pytest.raises(ValueError, match="at most 2"):
        build_module("boron", USER, 2, 6, dependencies=[(SYSTEM, 1, 1)] * 3)


def test_out_of_range_field_is_a_value_error():
    with pytest.raises(ValueError, match="out of range"):
        build_module("boron", USER, 2, 70000)


def test_unknown_platform_needs_explicit_addresses():
    with pytest.raises(ValueError, match="unknown"):
        build_module(250, USER, 1, 1)


def test_unknown_platform_module_parses_with_no_platform():
    module = parse_module(build_module(250, USER, 1, 1, 0x1000, prefix_offset=0))
    assert module.platform_id == 250 and module.platform is None


def test_prefix_extensions_set_the_flag_and_end_with_end():
    raw = build_module("boron", USER, 2, 6, prefix_extensions=[SecurityModeExtension(1)])
    module = parse_module(raw)
    assert module.flags & ModuleFlag.PREFIX_EXTENSIONS
    assert module.prefix_extensions == (SecurityModeExtension(1), EndExtension())
    assert module.flag_names == ["prefix_extensions"]
    assert module.is_intact


def test_product_data_goes_last_when_other_suffix_extensions_are_present():
    raw = build_module("boron", USER, 2, 6, None, 4096, [], 42, 3, suffix_extensions=[NameExtension("app")])
    module = parse_module(raw)
    assert module.suffix_extensions[-1] == ProductDataExtension(42, 3)
    assert struct.unpack_from("<HH", raw, len(raw) - 44) == (42, 3)


def test_rtl872x_suffix_is_62_bytes_even_without_product():
    module = parse_module(build_module("p2", USER, 1, 6))
    assert module.suffix_size == 62
    assert module.product_id is None and module.product_version is None


def test_extended_suffix_can_be_switched_off():
    assert parse_module(build_module("p2", USER, 1, 6, extended_suffix=False)).suffix_size == 36


def test_seal_repairs_an_edited_module():
    edited = bytearray(build_module("boron", USER, 2, 6))
    edited[100] ^= 0xFF
    assert parse_module(seal(bytes(edited))).is_intact


def test_with_bad_crc_breaks_only_the_crc():
    module = parse_module(with_bad_crc(build_module("boron", USER, 2, 6)))
    assert not module.crc_ok and module.sha256_ok


def test_with_bad_sha256_breaks_only_the_sha():
    module = parse_module(with_bad_sha256(build_module("boron", SYSTEM, 1, 6200, None, 8192)))
    assert module.crc_ok and not module.sha256_ok
