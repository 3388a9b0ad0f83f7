"""Every device the rig file names is on USB with the id and platform the file gives."""

from __future__ import annotations

import pytest

from tests.hil.harness.bench import Bench, DeviceHandle

pytestmark = pytest.mark.hil


def test_rig_device_enumerates_with_its_expected_id_and_platform(rig_device: DeviceHandle, rig_bench: Bench) -> None:
    found = [info for info in rig_bench.list_devices() if info.device_id == rig_device.expected_id]
    assert found, f"{rig_device.describe()} is not on USB: check its cable and hub port"
    assert [info.platform.name for info in found] == [rig_device.platform.name]
