"""The serial barcode scanner reader against a simulated scanner on a real pty."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import serial

from hardware.identifiers import LabelScan
from hardware.progress import CancelToken
from hardware.scanner.labels import LabelRejection
from hardware.scanner.serial_scanner import (
    SerialScanner,
    SerialScannerError,
    parse_terminator,
)
from hardware.simulated.scanner_pty import SimulatedSerialScanner

SERIAL = "P046AB1234567CD"
SECRET = "ABCDEFGHJKLMNPQ"
LABEL = f"{SERIAL} {SECRET}"


def _reader(scanner: SimulatedSerialScanner, terminator: bytes, **kwargs: float) -> SerialScanner:
    port = serial.Serial(scanner.port_path, 9600, timeout=0.02)
    return SerialScanner(port, terminator=terminator, **kwargs)


@pytest.fixture
def cr_scanner() -> Iterator[tuple[SimulatedSerialScanner, SerialScanner]]:
    with SimulatedSerialScanner(terminator=b"\r") as sim:
        reader = _reader(sim, b"\r")
        yield sim, reader
        reader.close()


@pytest.mark.parametrize("terminator", [b"\r", b"\n", b"\t", b"\r\n", b"#"], ids=["CR", "LF", "TAB", "CRLF", "custom"])
def test_a_label_ending_in_the_configured_terminator_becomes_a_label_scan(terminator: bytes) -> None:
    with SimulatedSerialScanner(terminator=terminator) as sim:
        reader = _reader(sim, terminator)
        sim.scan(LABEL)
        result = reader.read_scan(timeout=2.0)
        reader.close()
    assert isinstance(result, LabelScan)
    assert result.serial.value == SERIAL
    assert result.mobile_secret is not None and result.mobile_secret.value == SECRET


def test_an_aim_symbology_prefix_is_removed_from_the_scan() -> None:
    with SimulatedSerialScanner(terminator=b"\r", aim_prefix=True) as sim:
        reader = _reader(sim, b"\r")
        sim.scan(LABEL)
        result = reader.read_scan(timeout=2.0)
        reader.close()
    assert isinstance(result, LabelScan)
    assert result.serial.value == SERIAL


def test_a_line_that_is_not_a_particle_label_is_rejected_with_a_reason_and_reading_continues(
    cr_scanner: tuple[SimulatedSerialScanner, SerialScanner],
) -> None:
    sim, reader = cr_scanner
    sim.scan("https://example.com/not-a-label")
    sim.scan(LABEL)
    first = reader.read_scan(timeout=2.0)
    second = reader.read_scan(timeout=2.0)
    assert isinstance(first, LabelRejection)
    assert "not a Particle label" in first.reason
    assert isinstance(second, LabelScan)


def test_binary_line_noise_is_rejected_without_stopping_the_reader(
    cr_scanner: tuple[SimulatedSerialScanner, SerialScanner],
) -> None:
    sim, reader = cr_scanner
    sim.send_raw(b"\xff\xfe\x00\x81\r")
    sim.scan(SERIAL)
    first = reader.read_scan(timeout=2.0)
    second = reader.read_scan(timeout=2.0)
    assert isinstance(first, LabelRejection)
    assert "baud rate" in first.reason
    assert isinstance(second, LabelScan) and second.mobile_secret is None


def test_a_scan_split_across_reads_is_assembled_into_one_label(
    cr_scanner: tuple[SimulatedSerialScanner, SerialScanner],
) -> None:
    sim, reader = cr_scanner
    sim.send_raw(LABEL[:7].encode())
    assert reader.read_scan(timeout=0.1) is None
    sim.send_raw(LABEL[7:].encode() + b"\r")
    result = reader.read_scan(timeout=2.0)
    assert isinstance(result, LabelScan)
    assert result.serial.value == SERIAL


def test_blank_lines_between_scans_are_skipped(cr_scanner: tuple[SimulatedSerialScanner, SerialScanner]) -> None:
    sim, reader = cr_scanner
    sim.send_raw(b"\r\r\n\r")
    sim.scan(SERIAL)
    result = reader.read_scan(timeout=2.0)
    assert isinstance(result, LabelScan)


def test_a_crlf_scanner_read_with_a_cr_terminator_still_yields_clean_labels(
    cr_scanner: tuple[SimulatedSerialScanner, SerialScanner],
) -> None:
    sim, reader = cr_scanner
    sim.send_raw(f"{SERIAL}\r\n{LABEL}\r\n".encode())
    first = reader.read_scan(timeout=2.0)
    second = reader.read_scan(timeout=2.0)
    assert isinstance(first, LabelScan) and first.mobile_secret is None
    assert isinstance(second, LabelScan) and second.mobile_secret is not None


def test_an_overlong_unterminated_run_is_rejected_once_its_terminator_arrives(
    cr_scanner: tuple[SimulatedSerialScanner, SerialScanner],
) -> None:
    sim, reader = cr_scanner
    sim.send_raw(b"A" * 2000)
    assert reader.read_scan(timeout=0.2) is None
    sim.send_raw(b"\r")
    sim.scan(SERIAL)
    first = reader.read_scan(timeout=2.0)
    second = reader.read_scan(timeout=2.0)
    assert isinstance(first, LabelRejection) and "without a terminator" in first.reason
    assert isinstance(second, LabelScan)


def test_idle_flush_completes_a_scan_from_a_scanner_without_a_suffix() -> None:
    with SimulatedSerialScanner(terminator=b"") as sim:
        reader = _reader(sim, b"\r", idle_flush=0.1)
        sim.scan(SERIAL)
        result = reader.read_scan(timeout=2.0)
        reader.close()
    assert isinstance(result, LabelScan)


def test_no_scan_within_the_timeout_returns_none(cr_scanner: tuple[SimulatedSerialScanner, SerialScanner]) -> None:
    _sim, reader = cr_scanner
    assert reader.read_scan(timeout=0.1) is None


def test_scans_iterator_yields_each_scan_and_stops_when_cancelled(
    cr_scanner: tuple[SimulatedSerialScanner, SerialScanner],
) -> None:
    sim, reader = cr_scanner
    cancel = CancelToken()
    sim.scan(SERIAL)
    sim.scan("garbage")
    results = []
    for result in reader.scans(cancel, poll=0.05):
        results.append(result)
        if len(results) == 2:
            cancel.cancel()
    assert isinstance(results[0], LabelScan)
    assert isinstance(results[1], LabelRejection)


def test_an_unplugged_scanner_raises_an_error_naming_its_port(
    cr_scanner: tuple[SimulatedSerialScanner, SerialScanner],
) -> None:
    sim, reader = cr_scanner
    sim.close()
    with pytest.raises(SerialScannerError, match=sim.port_path):
        reader.read_scan(timeout=1.0)


def test_a_rejected_scan_never_shows_the_mobile_secret(
    cr_scanner: tuple[SimulatedSerialScanner, SerialScanner],
) -> None:
    sim, reader = cr_scanner
    sim.scan(f"P046-BAD-SERIAL {SECRET}")
    result = reader.read_scan(timeout=2.0)
    assert isinstance(result, LabelRejection)
    assert SECRET not in str(result) and SECRET not in repr(result)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("cr", b"\r"), ("LF", b"\n"), ("crlf", b"\r\n"), ("tab", b"\t"), ("\\r\\n", b"\r\n"), ("#", b"#")],
)
def test_terminators_are_parsed_from_names_and_escaped_literals(text: str, expected: bytes) -> None:
    assert parse_terminator(text) == expected


def test_an_empty_terminator_is_refused() -> None:
    with pytest.raises(SerialScannerError, match="terminator"):
        parse_terminator("")
