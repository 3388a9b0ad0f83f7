"""Identifiers parse at the edge or raise IdentifierError with a message naming the problem."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.errors import IdentifierError
from hardware.identifiers import DeviceId, Iccid, Imei, LabelScan, MobileSecret, SerialNumber, luhn_ok

SERIAL = "P046AB1234ABCDE"
SECRET = "ABCDEFGHJKLMNPQ"


def test_device_id_is_normalised_to_lower_case() -> None:
    assert DeviceId.parse(" E00FCE68AABBCCDDEEFF0011 ").value == "e00fce68aabbccddeeff0011"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("e00fce68aabbccddeeff001", "has 23 characters"),
        ("e00fce68aabbccddeeff0011a", "has 25 characters"),
        ("e00fce68aabbccddeeff001g", "contains 'g'"),
    ],
)
def test_device_id_rejections_name_the_problem(text: str, reason: str) -> None:
    with pytest.raises(IdentifierError, match=reason):
        DeviceId.parse(text)


def test_label_with_serial_and_mobile_secret() -> None:
    scan = LabelScan.parse(f"{SERIAL} {SECRET}")
    assert scan.serial == SerialNumber(SERIAL)
    assert scan.mobile_secret == MobileSecret(SECRET)


def test_gen2_label_holds_the_serial_alone() -> None:
    scan = LabelScan.parse("E31TAB1234ABCDE")
    assert scan.serial.value == "E31TAB1234ABCDE"
    assert scan.mobile_secret is None


@pytest.mark.parametrize(
    "raw",
    [
        f"]d2{SERIAL} {SECRET}",
        f"{SERIAL} {SECRET}\r\n",
        f"  {SERIAL} {SECRET}\t",
        f"]d2{SERIAL} {SECRET}\r",
    ],
)
def test_label_tolerates_scanner_artefacts(raw: str) -> None:
    scan = LabelScan.parse(raw)
    assert scan.serial.value == SERIAL
    assert scan.mobile_secret is not None and scan.mobile_secret.value == SECRET


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("\r\n", "empty"),
        (f"{SERIAL}  {SECRET}", "one space"),
        (f"{SERIAL} {SECRET} extra", "one space"),
        (f"{SERIAL} SHORT", "mobile secret has 5 characters"),
        ("P046", "has 4 characters"),
        ("https://example.com/x", "not a Particle label"),
        ("353162071234560", "IMEI"),
        ("89014103211118510720", "ICCID"),
        (f"{SERIAL}\x1d{SECRET}", "control characters"),
    ],
)
def test_label_rejections_name_the_problem(raw: str, reason: str) -> None:
    with pytest.raises(IdentifierError, match=reason):
        LabelScan.parse(raw)


def test_mobile_secret_never_shows_in_repr_or_str_of_the_label() -> None:
    scan = LabelScan.parse(f"{SERIAL} {SECRET}")
    assert SECRET not in repr(scan)
    assert SECRET not in str(scan)


def test_iccid_with_bad_luhn_is_a_warning_not_a_rejection() -> None:
    good = Iccid.parse("89014103211118510720")
    assert good.luhn_valid and good.warning is None
    bad = Iccid.parse("89014103211118510721")
    assert not bad.luhn_valid
    assert bad.warning is not None and "Luhn" in bad.warning


@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "empty"), ("12014103211118510720", "start with 89"), ("890141032111", "12 digits"), ("89a1", "digits")],
)
def test_iccid_rejections(text: str, reason: str) -> None:
    with pytest.raises(IdentifierError, match=reason):
        Iccid.parse(text)


def test_imei_luhn_is_checked() -> None:
    valid = "490154203237518"  # the classic IMEI example with a correct check digit
    assert Imei.parse(valid).value == valid
    with pytest.raises(IdentifierError, match="Luhn"):
        Imei.parse("490154203237519")
    with pytest.raises(IdentifierError, match="has 14 digits"):
        Imei.parse("49015420323751")


def test_luhn_known_values() -> None:
    assert luhn_ok("79927398713")
    assert not luhn_ok("79927398710")


@given(st.text(max_size=60))
def test_label_parser_raises_only_identifier_error(text: str) -> None:
    with contextlib.suppress(IdentifierError):
        LabelScan.parse(text)


@given(st.text(max_size=40))
def test_other_parsers_raise_only_identifier_error(text: str) -> None:
    for parse in (DeviceId.parse, SerialNumber.parse, Iccid.parse, Imei.parse, MobileSecret.parse):
        with contextlib.suppress(IdentifierError):
            parse(text)


@given(st.from_regex(r"[0-9a-fA-F]{24}", fullmatch=True))
def test_any_24_hex_id_round_trips_lower_case(text: str) -> None:
    assert DeviceId.parse(text).value == text.lower()


@given(
    st.from_regex(r"[A-Z0-9]{15}", fullmatch=True).filter(lambda s: not s.isdigit()),
    st.from_regex(r"[A-Za-z0-9]{15}", fullmatch=True),
)
def test_any_well_formed_label_parses(serial: str, secret: str) -> None:
    scan = LabelScan.parse(f"]d2{serial} {secret}\r\n")
    assert scan.serial.value == serial
    assert scan.mobile_secret is not None and scan.mobile_secret.value == secret
