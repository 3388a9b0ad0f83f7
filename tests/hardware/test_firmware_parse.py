"""Parsing the committed firmware fixtures: every layout decodes to the right fields."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from hardware.firmware import (
    AssetTypeExtension,
    Dependency,
    DynamicLocationExtension,
    FirmwareModule,
    HashExtension,
    ModuleFlag,
    ModuleFunction,
    ModuleKind,
    NameExtension,
    ProductDataExtension,
    load_module,
    parse_module,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "firmware"


def fixture(name: str) -> FirmwareModule:
    return load_module(FIXTURES / name)


def test_boron_user_part_prefix_fields():
    module = fixture("boron-user.bin")
    assert (module.platform_id, module.function, module.index, module.version) == (13, ModuleFunction.USER_PART, 2, 6)
    assert module.prefix_offset == 0
    assert module.start_address == 0xB4000
    assert module.end_address == 0xB4000 + 4096 - 4
    assert module.flags == ModuleFlag.NONE


def test_boron_user_part_dependency_on_system_part_6_2_0():
    module = fixture("boron-user.bin")
    assert module.dependencies == (Dependency(ModuleFunction.SYSTEM_PART, 1, 6200),)
    assert module.prefix_dependencies[1].is_empty
    assert module.system_dependency is not None
    assert module.system_dependency.device_os_version == "6.2.0"


def test_boron_user_part_product_data_from_40_byte_suffix():
    module = fixture("boron-user.bin")
    assert module.suffix_size == 40
    assert (module.product_id, module.product_version) == (12345, 7)
    assert fixture("boron-user-v8.bin").product_version == 8


def test_product_fields_are_read_at_minus_44_and_minus_42():
    raw = (FIXTURES / "boron-user.bin").read_bytes()
    assert struct.unpack_from("<HH", raw, len(raw) - 44) == (12345, 7)


def test_valid_fixture_passes_crc_and_sha():
    module = fixture("boron-user.bin")
    assert module.crc_ok
    assert module.sha256_ok
    assert module.is_intact


def test_crc_is_stored_big_endian_over_all_but_the_last_four_bytes():
    import zlib

    raw = (FIXTURES / "boron-user.bin").read_bytes()
    assert raw[-4:] == (zlib.crc32(raw[:-4]) & 0xFFFFFFFF).to_bytes(4, "big")
    assert fixture("boron-user.bin").crc_stored == int.from_bytes(raw[-4:], "big")


def test_fw_unique_id_is_sha256_of_file_without_last_38_bytes():
    import hashlib

    raw = (FIXTURES / "boron-user.bin").read_bytes()
    module = fixture("boron-user.bin")
    assert module.fw_unique_id == hashlib.sha256(raw[:-38]).digest() == raw[-38:-6]
    assert module.sha256 == raw[-38:-6].hex()


def test_legacy_128k_user_part_without_product_data():
    module = fixture("boron-user-legacy-128k.bin")
    assert (module.start_address, module.index) == (0xD4000, 1)
    assert module.suffix_size == 36
    assert module.product_id is None and module.product_version is None
    assert module.system_dependency == Dependency(ModuleFunction.SYSTEM_PART, 1, 1512)


def test_256k_user_part_needing_3_1_or_later_invalidates_the_128k_slot():
    assert fixture("boron-user.bin").invalidates_legacy_user_part


def test_old_user_part_does_not_invalidate_the_128k_slot():
    assert not fixture("boron-user-legacy-128k.bin").invalidates_legacy_user_part


def test_photon_user_part_depends_on_system_part_2():
    module = fixture("photon-user.bin")
    assert (module.platform_id, module.start_address) == (6, 0x080A0000)
    assert module.dependencies == (Dependency(ModuleFunction.SYSTEM_PART, 2, 2302),)


def test_electron_user_part_address():
    module = fixture("electron-user.bin")
    assert (module.platform_id, module.start_address, module.product_id) == (10, 0x08080000, 12345)


def test_gen2_system_part_prefix_found_at_0x184():
    module = fixture("photon-system-part2.bin")
    assert module.prefix_offset == 0x184
    assert (module.function, module.index, module.version) == (ModuleFunction.SYSTEM_PART, 2, 2302)
    assert module.start_address == 0x08060000
    assert module.is_intact


def test_nrf_system_part_prefix_found_at_0x200():
    module = fixture("boron-system-part1.bin")
    assert module.prefix_offset == 0x200
    assert (module.start_address, module.version) == (0x28000, 6200)
    assert module.dependencies == (Dependency(ModuleFunction.BOOTLOADER, 0, 3100),)
    assert module.dependencies[0].device_os_version == "6.2.0"


def test_nrf_bootloader():
    module = fixture("boron-bootloader.bin")
    assert (module.prefix_offset, module.start_address) == (0x200, 0xF4000)
    assert module.kind is ModuleKind.BOOTLOADER


def test_core_monolithic_prefix_found_at_0x10c():
    module = fixture("core-monolithic.bin")
    assert (module.prefix_offset, module.platform_id, module.start_address) == (0x10C, 0, 0x08005000)
    assert module.kind is ModuleKind.MONOLITHIC


@pytest.mark.parametrize(("name", "platform_id"), [("p2-user.bin", 32), ("msom-user.bin", 35)])
def test_rtl872x_user_part_ends_at_0x08600000(name: str, platform_id: int):
    module = fixture(name)
    assert module.platform_id == platform_id
    assert module.start_address + module.file_size == 0x08600000
    assert module.end_address == 0x08600000 - 4


def test_rtl872x_extended_suffix_holds_dynamic_location_then_product_data():
    module = fixture("p2-user.bin")
    assert module.suffix_size == 62
    first, second = module.suffix_extensions
    assert isinstance(first, DynamicLocationExtension)
    assert first.module_start == module.start_address
    assert second == ProductDataExtension(12345, 7)
    assert module.dynamic_location == first


def test_rtl872x_product_fields_stay_at_minus_44_and_minus_42():
    raw = (FIXTURES / "msom-user.bin").read_bytes()
    assert struct.unpack_from("<HH", raw, len(raw) - 44) == (12345, 8)
    assert fixture("msom-user.bin").product_version == 8


def test_asset_suffix_extensions():
    module = fixture("p2-asset.bin")
    assert module.kind is ModuleKind.ASSET
    assert module.name == "chime.wav"
    assert isinstance(module.content_hash, HashExtension) and len(module.content_hash.digest) == 32
    assert AssetTypeExtension(0) in module.suffix_extensions
    assert any(isinstance(e, NameExtension) for e in module.suffix_extensions)
    assert module.product_id is None


def test_softdevice_drop_module_info_flag_and_flash_payload():
    module = fixture("boron-softdevice.bin")
    assert module.flags == ModuleFlag.DROP_MODULE_INFO
    assert module.flag_names == ["drop_module_info"]
    assert module.kind is ModuleKind.RADIO_STACK
    assert module.payload_for_flash == module.data[24:]


def test_payload_for_flash_is_whole_file_without_drop_flag():
    module = fixture("boron-user.bin")
    assert module.payload_for_flash == (FIXTURES / "boron-user.bin").read_bytes()


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("boron-user.bin", ModuleKind.USER_PART),
        ("boron-system-part1.bin", ModuleKind.SYSTEM_PART),
        ("boron-bootloader.bin", ModuleKind.BOOTLOADER),
        ("boron-softdevice.bin", ModuleKind.RADIO_STACK),
        ("p2-asset.bin", ModuleKind.ASSET),
        ("core-monolithic.bin", ModuleKind.MONOLITHIC),
    ],
)
def test_kind_classifies_each_module(name: str, kind: ModuleKind):
    assert fixture(name).kind is kind


def test_parse_module_from_memory_equals_load_module():
    raw = (FIXTURES / "p2-user.bin").read_bytes()
    assert parse_module(raw) == fixture("p2-user.bin")


def test_raw_bytes_are_kept_but_not_in_repr():
    module = fixture("boron-user.bin")
    assert module.data == (FIXTURES / "boron-user.bin").read_bytes()
    assert "data=" not in repr(module)


def test_source_names_the_file():
    assert fixture("boron-user.bin").source == str(FIXTURES / "boron-user.bin")


def test_placeholder_checksums_are_recognised():
    module = fixture("boron-user-placeholder.bin")
    assert module.crc_is_placeholder and module.sha256_is_placeholder
    assert not module.crc_ok and not module.sha256_ok


def test_truncated_file_with_intact_header_parses_as_truncated():
    module = fixture("boron-user-truncated.bin")
    assert module.is_truncated
    assert (module.file_size, module.declared_size) == (2048, 4096)
    assert module.suffix_size is None and module.fw_unique_id is None
    assert not module.is_intact
