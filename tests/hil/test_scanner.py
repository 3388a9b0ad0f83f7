"""The rig's barcode scanner reads a rig device's label as that device's serial number."""

from __future__ import annotations

from contextlib import closing

import pytest

from hardware.identifiers import LabelScan
from tests.hil.harness.bench import Bench

pytestmark = pytest.mark.hil


def test_scanner_reads_a_rig_device_label_as_its_serial(rig_bench: Bench) -> None:
    if rig_bench.rig.scanner is None:
        pytest.skip(f"{rig_bench.rig.describe()} has no [scanner]")
    handle = next((h for h in rig_bench.handles if h.label is not None), None)
    if handle is None:
        pytest.skip(f"{rig_bench.rig.describe()} gives no device a serial, so no label can be compared")
    with closing(rig_bench.open_scanner()) as scanner:
        try:
            rig_bench.present_label(handle)
        except LookupError as exc:
            pytest.skip(str(exc))
        scan = scanner.read_scan(timeout=5.0 if rig_bench.rig.simulated else 120.0)
    assert isinstance(scan, LabelScan), f"the scanner gave {scan!r}"
    assert scan.serial == handle.expected_serial
