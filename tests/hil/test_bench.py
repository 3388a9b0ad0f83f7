"""The harness's runtime pieces: simulated devices from a rig file, real-rig handles, and waiting for a person."""

from __future__ import annotations

from pathlib import Path

import pytest

from hardware.simulated import SimulatedDevice, usb_backend
from station.workflow.events import EventBus
from tests.hil.harness.bench import NoFirmwareError, open_bench
from tests.hil.harness.cable import CablePull
from tests.hil.harness.operator import PERSON_PRESENT_ENV, RigWaitTimeout, person_present, wait_until

from .rigs import REAL_RIG, SMALL_SIMULATED_RIG, rig_from

pytestmark = pytest.mark.hil


def test_simulated_device_without_an_id_gets_the_identity_its_seed_gives(tmp_path: Path) -> None:
    bench = open_bench(rig_from(tmp_path, SMALL_SIMULATED_RIG))
    try:
        [handle] = bench.handles
        twin = SimulatedDevice("boron", seed="small-rig-boron")
        assert (handle.expected_id, handle.expected_serial) == (twin.device_id, twin.serial)
        assert [info.device_id for info in bench.list_devices()] == [twin.device_id]
    finally:
        bench.close()


def test_real_device_without_firmware_in_the_rig_is_never_given_a_synthetic_one(tmp_path: Path) -> None:
    bench = open_bench(rig_from(tmp_path, REAL_RIG), load_backend=usb_backend)
    with pytest.raises(NoFirmwareError, match=r"boron-1 .* has no `firmware` in the rig file"):
        bench.handle("boron-1").application(4242, 7)


def test_real_device_application_is_the_file_the_rig_names(tmp_path: Path) -> None:
    (tmp_path / "app.bin").write_bytes(b"\x01\x02\x03")
    rig = rig_from(tmp_path, REAL_RIG.replace("slot = 1", 'slot = 1\nfirmware = "app.bin"'))
    bench = open_bench(rig, load_backend=usb_backend)
    assert bench.handle("boron-1").application(4242, 7) == b"\x01\x02\x03"


def test_cable_pull_on_a_real_rig_without_a_person_says_how_to_allow_it(tmp_path: Path) -> None:
    bench = open_bench(rig_from(tmp_path, REAL_RIG), load_backend=usb_backend)
    with pytest.raises(LookupError, match=rf"needs a person at the rig to pull the cable.*{PERSON_PRESENT_ENV}=1"):
        CablePull(bench.handle("p2-1"), EventBus())


def test_label_scan_on_a_real_rig_without_a_person_says_how_to_allow_it(tmp_path: Path) -> None:
    bench = open_bench(rig_from(tmp_path, REAL_RIG), load_backend=usb_backend)
    with pytest.raises(LookupError, match="needs a person at the rig to scan the label of rig device boron-1"):
        bench.present_label(bench.handle("boron-1"))


@pytest.mark.parametrize(("value", "present"), [("1", True), ("yes", True), ("0", False), ("", False)])
def test_person_is_present_only_when_the_environment_says_so(value: str, present: bool) -> None:
    assert person_present({PERSON_PRESENT_ENV: value}) is present


def test_waiting_in_vain_names_what_was_awaited_and_for_how_long() -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(RigWaitTimeout, match="waited 3 s for the device to come back"):
        wait_until(lambda: False, timeout=3.0, what="the device to come back", clock=lambda: now[0], sleep=sleep)
