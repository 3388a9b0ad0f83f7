"""The harness's refusals: destructive tests only next to devices the rig names, a real cloud only through a sandbox
product and only when allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from hardware.identifiers import DeviceId
from hardware.platforms import Platform, by_name
from hardware.simulated import usb_backend
from hardware.usb.discovery import DeviceInfo, DeviceMode
from tests.hil.harness.bench import open_bench
from tests.hil.harness.cloud import open_rig_cloud
from tests.hil.harness.rig import Rig
from tests.hil.harness.safety import (
    RigSafetyError,
    check_destructive_target,
    cloud_skip_reason,
    require_sandbox_product,
)

from .rigs import BORON_ID, P2_ID, REAL_RIG, rig_from

pytestmark = pytest.mark.hil

BORON, P2 = DeviceId(BORON_ID), DeviceId(P2_ID)
STRANGER = DeviceId("e00fce68cccccccccccccccc")


@pytest.fixture
def real_rig(tmp_path: Path) -> Rig:
    return rig_from(tmp_path, REAL_RIG)


def _expected(rig: Rig) -> dict[DeviceId, Platform]:
    return {d.device_id: d.platform for d in rig.devices if d.device_id is not None}


def _on_bus(device_id: DeviceId | None, platform: str, mode: DeviceMode = DeviceMode.NORMAL) -> DeviceInfo:
    return DeviceInfo(device_id, by_name(platform), mode, bus=1, address=7, problem="" if device_id else "stall")


def test_destructive_test_may_run_when_the_bus_holds_only_rig_devices(real_rig: Rig) -> None:
    found = [_on_bus(BORON, "boron"), _on_bus(P2, "p2", DeviceMode.DFU)]
    check_destructive_target(real_rig, _expected(real_rig), found, BORON)


def test_destructive_test_is_refused_next_to_a_device_the_rig_does_not_name(real_rig: Rig) -> None:
    found = [_on_bus(BORON, "boron"), _on_bus(STRANGER, "boron")]
    with pytest.raises(RigSafetyError, match=rf"{STRANGER}.*not in rig 'bench-t'.*unplug it"):
        check_destructive_target(real_rig, _expected(real_rig), found, BORON)


def test_destructive_test_is_refused_next_to_a_device_whose_id_cannot_be_read(real_rig: Rig) -> None:
    found = [_on_bus(BORON, "boron"), _on_bus(None, "p2")]
    with pytest.raises(RigSafetyError, match=r"bus 1 address 7.*cannot be read \(stall\).*unidentified"):
        check_destructive_target(real_rig, _expected(real_rig), found, BORON)


def test_destructive_test_is_refused_on_a_target_the_rig_does_not_name(real_rig: Rig) -> None:
    found = [_on_bus(BORON, "boron")]
    with pytest.raises(RigSafetyError, match=rf"{STRANGER} is not in rig 'bench-t'"):
        check_destructive_target(real_rig, _expected(real_rig), found, STRANGER)


def test_destructive_test_is_refused_when_its_target_is_not_on_usb(real_rig: Rig) -> None:
    found = [_on_bus(BORON, "boron")]
    with pytest.raises(RigSafetyError, match=rf"{P2} of rig 'bench-t'.*is not on USB.*check its cable"):
        check_destructive_target(real_rig, _expected(real_rig), found, P2)


def test_destructive_test_is_refused_when_a_device_enumerates_as_another_platform(real_rig: Rig) -> None:
    found = [_on_bus(BORON, "argon")]
    with pytest.raises(RigSafetyError, match=r"enumerates as a Argon, but rig 'bench-t'.* says it is a Boron"):
        check_destructive_target(real_rig, _expected(real_rig), found, BORON)


def test_real_cloud_test_is_skipped_with_the_option_to_allow_it() -> None:
    reason = cloud_skip_reason(touches_real_cloud=True, allow_cloud=False)
    assert reason is not None and "--allow-cloud" in reason and "sandbox" in reason


def test_real_cloud_test_runs_when_allowed() -> None:
    assert cloud_skip_reason(touches_real_cloud=True, allow_cloud=True) is None


def test_emulator_test_runs_without_allowing_the_cloud() -> None:
    assert cloud_skip_reason(touches_real_cloud=False, allow_cloud=False) is None


def test_real_cloud_is_refused_for_a_product_not_marked_sandbox(tmp_path: Path) -> None:
    rig = rig_from(tmp_path, REAL_RIG.replace("sandbox = true", "sandbox = false"))
    with pytest.raises(RigSafetyError, match=r"product 4242 without sandbox = true.*production"):
        require_sandbox_product(rig)


def test_real_cloud_is_refused_for_a_product_with_no_sandbox_key(tmp_path: Path) -> None:
    rig = rig_from(tmp_path, REAL_RIG.replace("sandbox = true\n", ""))
    with pytest.raises(RigSafetyError, match="sandbox = true"):
        require_sandbox_product(rig)


def test_sandbox_product_is_accepted_for_the_real_cloud(real_rig: Rig) -> None:
    product = require_sandbox_product(real_rig)
    assert (product.id, product.sandbox) == (4242, True)


def test_rig_cloud_refuses_the_real_cloud_unless_allowed(real_rig: Rig) -> None:
    bench = open_bench(real_rig, load_backend=usb_backend)
    with pytest.raises(RigSafetyError, match=r"real cloud at https://api.particle.io.*--allow-cloud"):
        open_rig_cloud(bench, allow_cloud=False)
