"""Parsers of console replies: typed results out of noisy text, and errors that name the port without secrets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.firmware.versions import DeviceOsVersion
from hardware.serial import SerialReplyError
from hardware.serial.protocol import ModuleFunctionLetter, ModuleStoreLetter
from hardware.serial.replies import (
    ConsoleModuleInfo,
    SystemInfo,
    find_json_object,
    has_listening_baud_trigger,
    parse_identify,
    parse_system_info,
    parse_version,
    supports_ymodem,
)

PORT = "/dev/ttyACM3"
DEVICE_ID = "e00fce68aabbccddeeff0011"
SECRET = "ABCDEFGHJKLMNPQ"
KEY_VALUE_REPLY = (
    f"Device ID: {DEVICE_ID}\r\nDevice Secret: {SECRET}\r\nSerial Number: B40TABCDEFGHIJK\r\n"
    "IMEI: 359368490515986\r\nICCID: 89014917351763919911\r\nCell Radio Version: SARA-R510S 03.15\r\n"
).encode()

noise = st.binary(max_size=40).filter(lambda b: b"Device ID" not in b and b"device id is" not in b)


@given(before=noise, after=noise)
def test_the_key_value_identify_reply_parses_through_noise_on_either_side(before: bytes, after: bytes) -> None:
    identity = parse_identify(before + b"\r\n" + KEY_VALUE_REPLY + after, PORT)
    assert identity.device_id.value == DEVICE_ID
    assert identity.mobile_secret is not None and identity.mobile_secret.value == SECRET
    assert identity.cell_radio_version == "SARA-R510S 03.15"


@given(before=noise, after=noise)
def test_the_plain_identify_reply_parses_through_noise_on_either_side(before: bytes, after: bytes) -> None:
    identity = parse_identify(before + f"Your device id is {DEVICE_ID.upper()}\r\n".encode() + after, PORT)
    assert identity.device_id.value == DEVICE_ID
    assert not identity.key_value_form


def test_an_invalid_mobile_secret_is_reported_without_its_value() -> None:
    reply = KEY_VALUE_REPLY.replace(SECRET.encode(), b"SHORTSECRET")
    with pytest.raises(SerialReplyError, match=PORT) as caught:
        parse_identify(reply, PORT)
    assert "SHORTSECRET" not in str(caught.value)
    assert "Device Secret" in str(caught.value)


def test_a_reply_without_a_device_id_names_the_port_and_the_command() -> None:
    with pytest.raises(SerialReplyError, match=rf"{PORT} answered 'i'"):
        parse_identify(b"hello world\r\n", PORT)


def test_the_version_reply_ends_with_lf_then_crlf() -> None:
    assert parse_version(b"system firmware version: 5.9.0\n\r\n", PORT) == DeviceOsVersion(5, 9, 0)


@given(st.from_regex(r"(0|[1-9][0-9]?)\.(0|[1-9][0-9]?)\.(0|[1-9][0-9]?)(-rc\.(0|[1-9][0-9]?))?", fullmatch=True))
def test_a_version_prints_back_to_the_text_it_was_parsed_from(text: str) -> None:
    assert str(DeviceOsVersion.parse(text)) == text


def test_a_prerelease_sorts_before_its_release_but_counts_as_it_for_features() -> None:
    rc = DeviceOsVersion.parse("6.0.0-rc.1")
    assert rc < DeviceOsVersion(6, 0, 0)
    assert not supports_ymodem(rc) and not has_listening_baud_trigger(rc)
    assert supports_ymodem(DeviceOsVersion(5, 9, 0)) and has_listening_baud_trigger(DeviceOsVersion(5, 9, 0))


SYSTEM_INFO = (
    b'{"p":13,"imei":"359368490515986","iccid":"89014917351763919911","cellfw":"x","m":['
    b'{"s":49152,"l":"m","vc":30,"vv":30,"f":"b","n":"0","v":2700,"d":[]},'
    b'{"s":262144,"l":"m","vc":30,"vv":26,"u":"AB12","f":"u","n":"2","v":6,"d":[{"f":"s","n":"1","v":5901}]},'
    b'{"s":0,"l":"m","vc":30,"vv":30,"f":"_","n":"0","v":1,"d":[]}]}\r\n'
)


def test_system_info_becomes_typed_modules() -> None:
    info = parse_system_info(b"}{garbage" + SYSTEM_INFO + b"{more", PORT)
    assert info.platform_id == 13 and info.platform is not None and info.platform.name == "boron"
    boot, user, other = info.modules
    assert boot.function is ModuleFunctionLetter.BOOTLOADER and boot.index == 0 and boot.valid
    assert user.store is ModuleStoreLetter.MAIN and user.sha256 == "AB12"
    assert user.failed_checks == 0x04 and not user.valid
    assert user.dependencies[0].function is ModuleFunctionLetter.SYSTEM_PART and user.dependencies[0].version == 5901
    assert other.function is ModuleFunctionLetter.OTHER
    assert info.imei == "359368490515986"


def test_a_json_object_is_found_even_with_braces_inside_strings() -> None:
    text = 'noise {"p":6,"x":"a}b{","m":[]} trailing }'
    assert find_json_object(text) == '{"p":6,"x":"a}b{","m":[]}'


def test_an_incomplete_json_object_is_not_found_yet() -> None:
    assert find_json_object('{"p":6,"m":[{"s":1') is None


def test_system_info_of_the_wrong_shape_is_a_reply_error_naming_the_port() -> None:
    with pytest.raises(SerialReplyError, match=rf"{PORT} answered 's'"):
        parse_system_info(b'{"p":"boron","m":[]}', PORT)


def _user(index: int, *, valid: bool) -> ConsoleModuleInfo:
    return ConsoleModuleInfo(ModuleFunctionLetter.USER_PART, index, 6, 262144, ModuleStoreLetter.MAIN,
                             checked=0x1E, passed=0x1E if valid else 0x1C)


def test_the_running_user_part_is_the_first_valid_one_else_the_first_listed() -> None:
    # nRF52840: the legacy 128 K slot may be listed first, invalid, while the app that runs is valid.
    assert SystemInfo(13, (_user(1, valid=False), _user(2, valid=True))).running_user_part() == _user(2, valid=True)
    assert SystemInfo(13, (_user(1, valid=False),)).running_user_part() == _user(1, valid=False)
    assert SystemInfo(13, ()).running_user_part() is None
