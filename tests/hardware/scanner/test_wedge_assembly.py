"""Keyboard-wedge assembly: scanner bursts versus a person typing, told apart by scripted key timings."""

from __future__ import annotations

import pytest

from hardware.scanner.wedge import (
    MAX_SCAN_GAP,
    RejectedScan,
    ScannedLabel,
    TypedKey,
    TypedText,
    WedgeAssembler,
    WedgeEvent,
)

SERIAL = "P046AB423A1B2C3"
SECRET = "K7Q2M9X4T1B8Z3R"
LABEL = f"{SERIAL} {SECRET}"
SCANNER_GAP = 0.004
PERSON_GAP = 0.18


def burst(wedge: WedgeAssembler, text: str, start: float, gap: float = SCANNER_GAP) -> tuple[list[WedgeEvent], float]:
    """Feed ``text`` one key every ``gap`` seconds from ``start``; returns the events and the last key's time."""
    events: list[WedgeEvent] = []
    at = start
    for index, char in enumerate(text):
        at = start + index * gap
        events += wedge.char(char, at)
    return events, at


def test_a_scanner_burst_ending_in_cr_is_one_scanned_label() -> None:
    wedge = WedgeAssembler()

    events, _ = burst(wedge, LABEL + "\r", 10.0)

    (scan,) = events
    assert isinstance(scan, ScannedLabel)
    assert scan.label.serial.value == SERIAL
    assert scan.label.mobile_secret is not None and scan.label.mobile_secret.value == SECRET


@pytest.mark.parametrize("terminator", ["\r", "\n", "\t", "\r\n"], ids=["CR", "LF", "TAB", "CRLF"])
def test_every_terminator_ends_a_scan_and_is_not_reported_as_a_key(terminator: str) -> None:
    wedge = WedgeAssembler()

    events, last = burst(wedge, LABEL + terminator, 10.0)
    events += wedge.poll(last + 1.0)

    assert [type(event) for event in events] == [ScannedLabel]


def test_an_aim_prefix_is_stripped_and_reported() -> None:
    wedge = WedgeAssembler()

    events, _ = burst(wedge, "]d2" + LABEL + "\r", 10.0)

    (scan,) = events
    assert isinstance(scan, ScannedLabel)
    assert scan.aim == "d2"
    assert scan.label.serial.value == SERIAL


def test_a_burst_without_terminator_is_released_by_poll_after_the_gap() -> None:
    wedge = WedgeAssembler()
    events, last = burst(wedge, LABEL, 10.0)

    early = wedge.poll(last + MAX_SCAN_GAP / 2)
    late = wedge.poll(last + MAX_SCAN_GAP * 2)

    assert events == [] and early == []
    assert [type(event) for event in late] == [ScannedLabel]


def test_deadline_says_when_poll_will_release_held_keys() -> None:
    wedge = WedgeAssembler()
    _, last = burst(wedge, SERIAL, 10.0)

    assert wedge.deadline() == pytest.approx(last + MAX_SCAN_GAP)
    wedge.poll(last + 1.0)
    assert wedge.deadline() is None


def test_a_person_typing_gives_typed_text_and_an_enter_key() -> None:
    wedge = WedgeAssembler()

    events, last = burst(wedge, "abc\r", 10.0, gap=PERSON_GAP)
    events += wedge.poll(last + 1.0)

    assert events == [
        TypedText("a", 10.0),
        TypedText("b", 10.0 + PERSON_GAP),
        TypedText("c", 10.0 + 2 * PERSON_GAP),
        TypedKey("Enter", 10.0 + 3 * PERSON_GAP),
    ]


def test_a_person_typing_a_serial_by_hand_is_typed_text_not_a_scan() -> None:
    wedge = WedgeAssembler()

    events, last = burst(wedge, SERIAL + "\r", 10.0, gap=PERSON_GAP)

    assert "".join(event.text for event in events if isinstance(event, TypedText)) == SERIAL
    assert not any(isinstance(event, ScannedLabel | RejectedScan) for event in events)
    assert events[-1] == TypedKey("Enter", last)


def test_a_fast_key_rollover_by_a_person_is_still_typed_text() -> None:
    wedge = WedgeAssembler()

    events, last = burst(wedge, "ok", 10.0, gap=0.012)
    events += wedge.poll(last + 1.0)

    assert events == [TypedText("ok", last)]


def test_typing_then_a_scan_gives_the_typed_text_then_the_scan() -> None:
    wedge = WedgeAssembler()
    typed, last = burst(wedge, "x", 10.0)

    scanned, _ = burst(wedge, LABEL + "\r", last + 0.5)

    assert typed == []
    assert [type(event) for event in scanned] == [TypedText, ScannedLabel]


def test_a_scan_interrupted_by_a_key_press_is_rejected_and_the_key_reported() -> None:
    wedge = WedgeAssembler()
    _, last = burst(wedge, LABEL[:9], 10.0)

    events = wedge.key("Escape", last + SCANNER_GAP)
    rest, end = burst(wedge, LABEL[9:] + "\r", last + 2 * SCANNER_GAP)
    rest += wedge.poll(end + 1.0)

    rejected, key = events
    assert isinstance(rejected, RejectedScan)
    assert "interrupted by the Escape key after 9 characters" in rejected.reason
    assert key == TypedKey("Escape", last + SCANNER_GAP)
    assert not any(isinstance(event, ScannedLabel) for event in rest)


def test_a_character_typed_into_a_burst_makes_a_rejection_not_a_wrong_label() -> None:
    wedge = WedgeAssembler()

    events, _ = burst(wedge, LABEL[:5] + "q" + LABEL[5:] + "\r", 10.0)

    (rejected,) = events
    assert isinstance(rejected, RejectedScan)
    assert "not a Particle label" in rejected.reason


def test_shift_presses_from_the_scanner_do_not_break_the_burst() -> None:
    wedge = WedgeAssembler()
    events: list[WedgeEvent] = []
    at = 10.0
    for char in LABEL + "\r":
        events += wedge.key("Shift", at)
        events += wedge.char(char, at + 0.001)
        at += SCANNER_GAP

    assert [type(event) for event in events] == [ScannedLabel]


def test_a_scanned_code_that_is_not_a_particle_label_is_rejected_with_the_reason() -> None:
    wedge = WedgeAssembler()

    events, _ = burst(wedge, "89014103211118510720\r", 10.0)

    (rejected,) = events
    assert isinstance(rejected, RejectedScan)
    assert "ICCID" in rejected.reason


def test_a_rejected_scan_never_shows_the_secret_after_a_misread_serial() -> None:
    wedge = WedgeAssembler()

    events, _ = burst(wedge, f"{SERIAL}9 {SECRET}\r", 10.0)

    (rejected,) = events
    assert isinstance(rejected, RejectedScan)
    assert SECRET not in rejected.reason


def test_a_gen2_serial_only_scan_has_no_mobile_secret() -> None:
    wedge = WedgeAssembler()

    events, _ = burst(wedge, "E31TKA12345678X\n", 10.0)

    (scan,) = events
    assert isinstance(scan, ScannedLabel)
    assert scan.label.mobile_secret is None


def test_two_scans_back_to_back_are_two_labels() -> None:
    wedge = WedgeAssembler()
    first, last = burst(wedge, LABEL + "\r\n", 10.0)

    second, _ = burst(wedge, "E31TKA12345678X\r\n", last + 0.3)

    assert [type(event) for event in first + second] == [ScannedLabel, ScannedLabel]


def test_enter_pressed_by_a_person_right_after_a_scan_is_a_key() -> None:
    wedge = WedgeAssembler()
    _, last = burst(wedge, LABEL + "\r", 10.0)

    events = wedge.char("\r", last + PERSON_GAP)

    assert events == [TypedKey("Enter", last + PERSON_GAP)]


def test_a_named_enter_key_ends_a_burst_like_a_carriage_return() -> None:
    wedge = WedgeAssembler()
    events, last = burst(wedge, LABEL, 10.0)

    events += wedge.key("Enter", last + SCANNER_GAP)

    assert [type(event) for event in events] == [ScannedLabel]


def test_backspace_typed_by_a_person_is_a_key_event() -> None:
    wedge = WedgeAssembler()
    events, last = burst(wedge, "ab", 10.0, gap=PERSON_GAP)

    events += wedge.key("Backspace", last + PERSON_GAP)

    assert events == [TypedText("a", 10.0), TypedText("b", last), TypedKey("Backspace", last + PERSON_GAP)]


def test_char_refuses_more_than_one_character() -> None:
    with pytest.raises(ValueError, match="one character"):
        WedgeAssembler().char("ab", 1.0)
