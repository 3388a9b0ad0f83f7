"""Reading label text into a LabelScan or a rejection whose reason never echoes a possible mobile secret."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hardware.identifiers import LabelScan
from hardware.scanner.labels import LabelRejection, read_label, redact

SERIAL = "P046AB423A1B2C3"
SECRET = "K7Q2M9X4T1B8Z3R"


def test_a_particle_label_reads_as_a_label_scan() -> None:
    read = read_label(f"{SERIAL} {SECRET}")

    assert isinstance(read, LabelScan)
    assert read.serial.value == SERIAL
    assert read.mobile_secret is not None and read.mobile_secret.value == SECRET


def test_an_iccid_reads_as_a_rejection_that_says_so() -> None:
    read = read_label("89014103211118510720")

    assert isinstance(read, LabelRejection)
    assert read.message == f"not a Particle label: {read.reason}"
    assert "ICCID" in read.reason


def test_a_reason_that_already_says_not_a_particle_label_is_not_prefixed_twice() -> None:
    read = read_label("https://www.particle.io/")

    assert isinstance(read, LabelRejection)
    assert read.message.count("not a Particle label") == 1


def test_a_misread_serial_does_not_reveal_the_secret_after_it() -> None:
    read = read_label(f"{SERIAL}X {SECRET}")

    assert isinstance(read, LabelRejection)
    assert SECRET not in read.message
    assert "***" in read.message


def test_redact_masks_a_truncated_secret_too() -> None:
    message = f"label '{SERIAL}XX {SECRET[:9]}...' is not a Particle label"

    assert SECRET[:9] not in redact(message, f"{SERIAL}XX {SECRET}EXTRA")


def test_redact_leaves_text_without_a_secret_like_token_alone() -> None:
    message = "label 'LOT 7Q-22/A QTY 050' is not a Particle label"

    assert redact(message, "LOT 7Q-22/A QTY 050") == message


@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=8, max_size=20))
def test_no_rejection_contains_the_secret_like_token_after_a_misread_serial(token: str) -> None:
    read = read_label(f"{SERIAL}Z {token}")

    assert isinstance(read, LabelRejection)
    if token.isalnum():
        assert token not in read.message
