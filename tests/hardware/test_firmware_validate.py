"""validate_for: each reason a module must not be flashed gives its own problem, in plain words."""

from __future__ import annotations

from pathlib import Path

from hardware.firmware import (
    FirmwareModule,
    ModuleFunction,
    ProblemCode,
    check_integrity,
    load_module,
    parse_module,
    validate_for,
)
from hardware.firmware_builder import build_module, seal
from hardware.platforms import by_name

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "firmware"
BORON = by_name("boron")


def fixture(name: str) -> FirmwareModule:
    return load_module(FIXTURES / name)


def codes(problems: list) -> list[ProblemCode]:
    return [p.code for p in problems]


def test_valid_user_part_for_its_platform_has_no_problems():
    problems = validate_for(
        fixture("boron-user.bin"),
        BORON,
        device_os_version="6.2.0",
        require_user_part=True,
        expected_product_id=12345,
        expected_product_version=7,
    )
    assert problems == []


def test_wrong_platform_names_both_platforms():
    (problem,) = validate_for(fixture("argon-user.bin"), BORON)
    assert problem.code is ProblemCode.WRONG_PLATFORM
    assert "Argon" in problem.message and "Boron" in problem.message
    assert "argon-user.bin" in problem.message


def test_asset_is_exempt_from_the_platform_check():
    assert validate_for(fixture("p2-asset.bin"), BORON) == []


def test_bad_crc_is_reported():
    assert codes(validate_for(fixture("boron-user-bad-crc.bin"), BORON)) == [ProblemCode.BAD_CRC]


def test_bad_sha256_is_reported_when_crc_is_fine():
    assert codes(validate_for(fixture("boron-user-bad-sha.bin"), BORON)) == [ProblemCode.BAD_SHA256]


def test_truncated_file_is_reported_as_truncated_first():
    problems = validate_for(fixture("boron-user-truncated.bin"), BORON)
    assert problems[0].code is ProblemCode.TRUNCATED
    assert "2048" in problems[0].message and "4096" in problems[0].message


def test_placeholder_checksums_say_the_build_did_not_finish():
    problems = check_integrity(fixture("boron-user-placeholder.bin"))
    assert codes(problems) == [ProblemCode.BAD_CRC, ProblemCode.BAD_SHA256]
    assert all("placeholder" in p.message for p in problems)


def test_system_part_is_not_a_user_part_when_one_is_required():
    (problem,) = validate_for(fixture("boron-system-part1.bin"), BORON, require_user_part=True)
    assert problem.code is ProblemCode.NOT_USER_PART
    assert "system part" in problem.message


def test_core_monolithic_counts_as_application_firmware():
    assert validate_for(fixture("core-monolithic.bin"), by_name("core"), require_user_part=True) == []


def test_older_device_os_gives_both_versions_as_device_os_releases():
    (problem,) = validate_for(fixture("boron-user.bin"), BORON, device_os_version="5.9.0")
    assert problem.code is ProblemCode.DEVICE_OS_TOO_OLD
    assert "6.2.0" in problem.message and "5.9.0" in problem.message


def test_device_os_may_be_given_as_module_version():
    (problem,) = validate_for(fixture("boron-user.bin"), BORON, device_os_version=5901)
    assert problem.code is ProblemCode.DEVICE_OS_TOO_OLD
    assert "Device OS 5.9.0" in problem.message


def test_newer_device_os_than_needed_is_fine():
    assert validate_for(fixture("boron-user-legacy-128k.bin"), BORON, device_os_version="6.2.0") == []


def test_device_os_newer_than_the_version_table_is_compared_by_number():
    assert validate_for(fixture("boron-user.bin"), BORON, device_os_version="6.3.0") == []


def test_device_os_that_is_not_a_version_is_reported():
    (problem,) = validate_for(fixture("boron-user.bin"), BORON, device_os_version="unknown")
    assert problem.code is ProblemCode.UNKNOWN_DEVICE_OS


def test_device_os_is_not_compared_for_system_parts():
    assert validate_for(fixture("boron-system-part1.bin"), BORON, device_os_version="1.5.2") == []


def test_wrong_product_id():
    (problem,) = validate_for(fixture("boron-user.bin"), BORON, expected_product_id=999)
    assert problem.code is ProblemCode.WRONG_PRODUCT_ID
    assert "12345" in problem.message and "999" in problem.message


def test_wrong_product_version():
    (problem,) = validate_for(fixture("boron-user-v8.bin"), BORON, expected_product_version=7)
    assert problem.code is ProblemCode.WRONG_PRODUCT_VERSION
    assert "8" in problem.message and "7" in problem.message


def test_missing_product_data_fails_an_expected_product():
    (problem,) = validate_for(fixture("boron-user-legacy-128k.bin"), BORON, expected_product_id=12345)
    assert problem.code is ProblemCode.WRONG_PRODUCT_ID
    assert "no product id" in problem.message


def test_user_part_too_large_for_the_128k_slot():
    raw = build_module("boron", ModuleFunction.USER_PART, 1, 3, 0xD4000, 128 * 1024 + 4096)
    (problem,) = validate_for(parse_module(raw), BORON)
    assert problem.code is ProblemCode.TOO_LARGE
    assert "128 KB" in problem.message


def test_user_part_of_the_same_size_fits_the_256k_slot():
    raw = build_module("boron", ModuleFunction.USER_PART, 2, 6, 0xB4000, 128 * 1024 + 4096)
    assert validate_for(parse_module(raw), BORON) == []


def test_photon_user_part_too_large_for_its_slot():
    raw = build_module("photon", ModuleFunction.USER_PART, 1, 6, None, 128 * 1024 + 4)
    assert codes(validate_for(parse_module(raw), by_name("photon"))) == [ProblemCode.TOO_LARGE]


def test_rtl872x_user_part_not_ending_at_0x08600000_is_at_the_wrong_address():
    raw = build_module("p2", ModuleFunction.USER_PART, 1, 6, 0x085F0000, 4096)
    (problem,) = validate_for(parse_module(raw), by_name("p2"))
    assert problem.code is ProblemCode.WRONG_ADDRESS
    assert "0x08600000" in problem.message


def test_nrf_user_part_outside_both_slots_is_at_the_wrong_address():
    raw = build_module("boron", ModuleFunction.USER_PART, 2, 6, 0xC0000, 4096)
    assert codes(validate_for(parse_module(raw), BORON)) == [ProblemCode.WRONG_ADDRESS]


def test_trailing_bytes_after_the_module_are_reported():
    raw = fixture("boron-user.bin").data + bytes(100)
    problems = check_integrity(parse_module(raw))
    assert ProblemCode.TRAILING_DATA in codes(problems)


def test_damaged_suffix_size_is_reported_as_malformed_even_with_good_checksums():
    raw = bytearray(fixture("boron-user.bin").data)
    raw[-6:-4] = (30).to_bytes(2, "little")
    problems = check_integrity(parse_module(seal(bytes(raw))))
    assert codes(problems) == [ProblemCode.MALFORMED]
    assert "suffix size 30" in problems[0].message


def test_problem_str_is_its_message():
    (problem,) = validate_for(fixture("argon-user.bin"), BORON)
    assert str(problem) == problem.message
