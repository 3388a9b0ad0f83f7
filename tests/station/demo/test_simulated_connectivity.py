"""Simulated devices come online in the emulated cloud as real ones would, and get the product's firmware over the air.

Most tests drive ``CloudConnectivity.poll()`` by hand (no thread, a fake clock) so every step is deterministic; the
line-level tests use the background thread that ``build_simulated_line`` starts, and poll with deadlines.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cloud_client.client import ParticleCloud
from hardware.platforms import parse_platform
from hardware.simulated import SimulatedDevice, StoredWifiNetwork
from station.demo.simulated_line import CloudConnectivity, SimulatedLine, build_simulated_line, product_firmware
from station.records.unit_table import UnitState
from station.workflow.line import Line
from station.workflow.lot import prepare_lot

PRODUCT = 12345
SPARE_DEVICE = "e00fce68000000000000a001"
DEADLINE_S = 10.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make_sim(tmp_path: Path, *, platform: str = "boron", devices: int = 2, connect_delay: float | None = None,
             assume_wifi: bool = True) -> SimulatedLine:
    sim = build_simulated_line(tmp_path / "line", platform=platform, devices=devices, product_id=PRODUCT,
                               connect_delay=connect_delay, assume_wifi=assume_wifi)
    sim.emulator.set_timings(sim_activation_s=0)
    return sim


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimulatedLine]:
    line = make_sim(tmp_path)
    try:
        yield line
    finally:
        line.close()


@pytest.fixture
def cloud(sim: SimulatedLine) -> Iterator[ParticleCloud]:
    with sim.cloud(max_retries=0) as client:
        yield client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def conn(sim: SimulatedLine, clock: FakeClock) -> CloudConnectivity:
    """Connectivity polled by hand (no thread), connecting as soon as a device is ready."""
    return CloudConnectivity(sim.emulator, lambda: sim.devices, PRODUCT, connect_delay=0, clock=clock)


def flash(device: SimulatedDevice, version: int, product: int = PRODUCT) -> None:
    device.install_module(product_firmware(device.platform, product, version))
    device.reboot()


def make_ready(cloud: ParticleCloud, device: SimulatedDevice, version: int = 7) -> None:
    """What the line leaves behind: product firmware, the device in the product, its SIM active."""
    flash(device, version)
    cloud.import_device(PRODUCT, device.device_id.value)
    if device.iccid is not None:
        cloud.activate_sim(PRODUCT, device.iccid.value)


def cloud_view(cloud: ParticleCloud, device: SimulatedDevice) -> tuple[bool, int | None, str | None]:
    found = cloud.get_device(PRODUCT, device.device_id.value)
    return found.online, found.firmware_version, found.system_firmware_version


def kinds(conn: CloudConnectivity) -> list[tuple[str, int | None]]:
    return [(e.kind, e.firmware_version) for e in conn.events]


def release(sim: SimulatedLine, version: int, *, platform: str = "boron") -> None:
    sim.emulator.add_firmware(PRODUCT, version, product_firmware(parse_platform(platform), PRODUCT, version),
                              released=True)


# --- coming online -------------------------------------------------------------------------------------------------


def test_healthy_unit_provisioned_on_the_line_comes_online_with_the_flashed_version(tmp_path: Path) -> None:
    sim = make_sim(tmp_path, devices=1, connect_delay=0)
    try:
        device = sim.devices[0]
        with Line(prepare_lot(sim.profile, sim.cloud(max_retries=1)), link=sim.link(), operator="ann", find_timeout=1.0,
                  outbox_poll=0.05, outbox_base_delay=0.05).start() as line:
            assert line.scan(device.label).result(timeout=60).state is UnitState.PASS
        connectivity = sim.connectivity
        assert connectivity is not None
        assert connectivity.wait_until(lambda: connectivity.is_online(device.device_id.value), DEADLINE_S)
        with sim.cloud() as cloud:
            assert cloud_view(cloud, device) == (True, 7, "6.2.0")
        record = next(d for d in sim.emulator.snapshot()["devices"] if d["id"] == device.device_id.value)
        assert record["firmware_product_id"] == PRODUCT and record["last_handshake_at"] is not None
    finally:
        sim.close()


def test_unplugged_unit_never_comes_online_while_the_next_one_does(tmp_path: Path) -> None:
    sim = make_sim(tmp_path, connect_delay=0)
    try:
        unplugged, healthy = sim.devices
        connectivity = sim.connectivity
        assert connectivity is not None
        with sim.cloud() as cloud:
            make_ready(cloud, unplugged)
            unplugged.unplug()
            make_ready(cloud, healthy)
            assert connectivity.wait_until(lambda: connectivity.is_online(healthy.device_id.value), DEADLINE_S)
            assert cloud_view(cloud, unplugged)[0] is False
        assert connectivity.reason(unplugged.device_id.value) == "unplugged (no power)"
    finally:
        sim.close()


def test_unit_goes_offline_when_unplugged(tmp_path: Path) -> None:
    sim = make_sim(tmp_path, devices=1, connect_delay=0)
    try:
        device = sim.devices[0]
        connectivity = sim.connectivity
        assert connectivity is not None
        with sim.cloud() as cloud:
            make_ready(cloud, device)
            assert connectivity.wait_until(lambda: connectivity.is_online(device.device_id.value), DEADLINE_S)
            device.unplug()
            assert connectivity.wait_until(lambda: not connectivity.is_online(device.device_id.value), DEADLINE_S)
            assert cloud_view(cloud, device)[0] is False
        assert connectivity.events[-1].detail == "unplugged (no power)"
    finally:
        sim.close()


def test_connection_waits_for_the_connect_delay(sim: SimulatedLine, cloud: ParticleCloud, clock: FakeClock) -> None:
    device = sim.devices[0]
    make_ready(cloud, device)
    slow = CloudConnectivity(sim.emulator, lambda: [device], PRODUCT, connect_delay=1.0, clock=clock)
    slow.poll()
    clock.now = 0.99
    slow.poll()
    assert not slow.is_online(device.device_id.value)
    clock.now = 1.0
    slow.poll()
    assert slow.is_online(device.device_id.value)


def test_cellular_unit_waits_for_its_sim_to_be_active(sim: SimulatedLine, cloud: ParticleCloud,
                                                      conn: CloudConnectivity) -> None:
    device = sim.devices[0]
    flash(device, 7)
    conn.poll()
    assert device.iccid is not None
    assert conn.reason(device.device_id.value) == (
        f"its SIM {device.iccid.value} is not active (never_before_activated)"
    )
    cloud.activate_sim(PRODUCT, device.iccid.value)
    conn.poll()
    assert conn.is_online(device.device_id.value)


def test_factory_tinker_app_is_not_product_firmware(sim: SimulatedLine, cloud: ParticleCloud,
                                                    conn: CloudConnectivity) -> None:
    device = sim.devices[0]
    assert device.iccid is not None
    cloud.activate_sim(PRODUCT, device.iccid.value)
    conn.poll()
    assert conn.reason(device.device_id.value) == "runs no product firmware"


def test_wifi_unit_connects_once_it_has_credentials(tmp_path: Path, clock: FakeClock) -> None:
    sim = make_sim(tmp_path, platform="p2", devices=1, assume_wifi=False)
    try:
        device = sim.devices[0]
        flash(device, 7)
        conn = CloudConnectivity(sim.emulator, lambda: sim.devices, PRODUCT, connect_delay=0, assume_wifi=False,
                                 clock=clock)
        conn.poll()
        assert conn.reason(device.device_id.value) == "has no Wi-Fi credentials"
        device.wifi.store(StoredWifiNetwork("factory-line", security=3, password="secret"))
        conn.poll()
        assert conn.is_online(device.device_id.value)
    finally:
        sim.close()


def test_unit_in_dfu_mode_is_offline(sim: SimulatedLine, cloud: ParticleCloud, conn: CloudConnectivity) -> None:
    device = sim.devices[0]
    make_ready(cloud, device)
    device.enter_dfu(0.0)
    conn.poll()
    assert conn.reason(device.device_id.value) == "in dfu mode"


# --- over the air --------------------------------------------------------------------------------------------------


def test_unit_flashed_v7_is_updated_over_the_air_to_the_released_v8(sim: SimulatedLine, cloud: ParticleCloud,
                                                                     conn: CloudConnectivity) -> None:
    device = sim.devices[0]
    release(sim, 8)
    make_ready(cloud, device)
    conn.poll()
    conn.poll()
    assert kinds(conn) == [("connected", 7), ("updating", 7), ("disconnected", 7), ("connected", 8), ("updated", 8)]
    assert device.running_user_part is not None and device.running_user_part.product == (PRODUCT, 8)
    assert cloud_view(cloud, device) == (True, 8, "6.2.0")


def test_locked_unit_stays_on_the_flashed_version(sim: SimulatedLine, cloud: ParticleCloud,
                                                   conn: CloudConnectivity) -> None:
    device = sim.devices[0]
    sim.emulator.add_firmware(PRODUCT, 7, product_firmware(device.platform, PRODUCT, 7))
    release(sim, 8)
    make_ready(cloud, device)
    cloud.lock_firmware(PRODUCT, device.device_id.value, 7)
    conn.poll()
    conn.poll()
    assert kinds(conn) == [("connected", 7)]
    assert cloud_view(cloud, device) == (True, 7, "6.2.0")


def test_development_unit_stays_on_the_flashed_version(sim: SimulatedLine, cloud: ParticleCloud,
                                                        conn: CloudConnectivity) -> None:
    device = sim.devices[0]
    release(sim, 8)
    make_ready(cloud, device)
    cloud.set_development(PRODUCT, device.device_id.value, True)
    conn.poll()
    conn.poll()
    assert kinds(conn) == [("connected", 7)]


def test_group_release_wins_over_the_product_default(sim: SimulatedLine, cloud: ParticleCloud,
                                                     conn: CloudConnectivity) -> None:
    device = sim.devices[0]
    release(sim, 8)
    sim.emulator.add_firmware(PRODUCT, 9, product_firmware(device.platform, PRODUCT, 9))
    sim.emulator.add_device(SPARE_DEVICE, "boron", product_id=PRODUCT)
    sim.emulator.device_connects(SPARE_DEVICE, PRODUCT, 9, "6.2.0")  # the API releases only firmware that ran
    cloud.release_firmware(PRODUCT, 9, product_default=False, groups=["line-a"])
    make_ready(cloud, device)
    cloud.update_device(PRODUCT, device.device_id.value, groups=["line-a"])
    conn.poll()
    conn.poll()
    assert cloud_view(cloud, device) == (True, 9, "6.2.0")


def test_release_for_another_platform_is_refused_by_the_device_once(sim: SimulatedLine, cloud: ParticleCloud,
                                                                    conn: CloudConnectivity) -> None:
    device = sim.devices[0]
    release(sim, 8, platform="p2")
    make_ready(cloud, device)
    for _ in range(3):
        conn.poll()
    assert [k for k, _ in kinds(conn)] == ["connected", "update failed"]
    assert "refused v8: it is built for platform 32" in conn.events[-1].detail
    assert cloud_view(cloud, device) == (True, 7, "6.2.0")


def test_device_not_imported_connects_quarantined_and_gets_no_update(sim: SimulatedLine, cloud: ParticleCloud,
                                                                      conn: CloudConnectivity) -> None:
    device = sim.devices[0]
    release(sim, 8)
    flash(device, 7)
    assert device.iccid is not None
    # Active outside the product (activating it through the product would import the device with it).
    sim.emulator.add_sim(device.iccid.value, status="active")
    conn.poll()
    conn.poll()
    assert kinds(conn) == [("connected", 7)]
    assert cloud.get_device(PRODUCT, device.device_id.value).quarantined is True
