"""Product firmware from the product: fetch and cache, what the product delivers, and a lot's plan per policy.

Everything runs the real client against the emulator over a socket.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloud_client.client import ParticleCloud
from hardware.platforms import parse_platform
from station.config.profile import FirmwareVersionPolicy
from station.demo.simulated_line import SimulatedLine, build_simulated_line, product_firmware
from station.product.firmware import (
    DeliveredFirmware,
    ProductFirmwareError,
    delivered_version,
    fetch_product_firmware,
    firmware_plan,
    product_id_note,
)

BORON = parse_platform("boron")
PRODUCT = 12345
SPARE_DEVICE = "e00fce68000000000000a001"


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimulatedLine]:
    line = build_simulated_line(tmp_path / "line", platform="boron", devices=0, product_id=PRODUCT,
                                connect_delay=None)
    try:
        yield line
    finally:
        line.close()


@pytest.fixture
def cloud(sim: SimulatedLine) -> Iterator[ParticleCloud]:
    with sim.cloud(max_retries=0) as client:
        yield client


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "firmware-cache"


def upload(cloud: ParticleCloud, version: int, binary: bytes | None = None) -> bytes:
    data = binary if binary is not None else product_firmware(BORON, PRODUCT, version)
    cloud.upload_firmware(PRODUCT, version, data, title=f"v{version}")
    return data


def downloads(sim: SimulatedLine) -> list[str]:
    return [path for method, path, _ in sim.emulator.request_log if path.endswith("/binary")]


def let_version_run(sim: SimulatedLine, version: int) -> None:
    """The API releases only firmware that ran on a device of the product: one device reports running it."""
    sim.emulator.add_device(SPARE_DEVICE, "boron", product_id=PRODUCT)
    sim.emulator.device_connects(SPARE_DEVICE, PRODUCT, version, "6.2.0")


# --- fetch and cache -------------------------------------------------------------------------------------------------


def test_fetch_parses_the_version_and_caches_it_under_its_sha256(sim: SimulatedLine, cloud: ParticleCloud,
                                                                 cache: Path) -> None:
    data = upload(cloud, 7)
    module = fetch_product_firmware(cloud, PRODUCT, 7, BORON, cache)
    digest = hashlib.sha256(data).hexdigest()
    assert (module.product_id, module.product_version, module.file_sha256) == (PRODUCT, 7, digest)
    assert module.source == str(cache / f"{digest}.bin")
    assert (cache / f"{digest}.bin").read_bytes() == data


def test_second_fetch_makes_no_download_request(sim: SimulatedLine, cloud: ParticleCloud, cache: Path) -> None:
    upload(cloud, 7)
    first = fetch_product_firmware(cloud, PRODUCT, 7, BORON, cache)
    sim.emulator.clear_request_log()
    second = fetch_product_firmware(cloud, PRODUCT, 7, BORON, cache)
    assert downloads(sim) == []
    assert second.file_sha256 == first.file_sha256


def test_damaged_cached_copy_is_downloaded_again(sim: SimulatedLine, cloud: ParticleCloud, cache: Path) -> None:
    data = upload(cloud, 7)
    module = fetch_product_firmware(cloud, PRODUCT, 7, BORON, cache)
    Path(str(module.source)).write_bytes(data[:-10] + b"\0" * 10)
    sim.emulator.clear_request_log()
    again = fetch_product_firmware(cloud, PRODUCT, 7, BORON, cache)
    assert downloads(sim) == [f"/v1/products/{PRODUCT}/firmware/7/binary"]
    assert again.is_intact


def test_unreachable_cloud_falls_back_to_the_cached_copy(sim: SimulatedLine, cloud: ParticleCloud,
                                                         cache: Path) -> None:
    upload(cloud, 7)
    fetch_product_firmware(cloud, PRODUCT, 7, BORON, cache)
    sim.emulator.set_faults(error_rate=1.0)
    module = fetch_product_firmware(cloud, PRODUCT, 7, BORON, cache)
    assert module.product_version == 7


def test_unreachable_cloud_without_a_cached_copy_says_so(sim: SimulatedLine, cloud: ParticleCloud,
                                                         cache: Path) -> None:
    sim.emulator.set_faults(error_rate=1.0)
    with pytest.raises(ProductFirmwareError, match=r"product 12345 firmware v7: the cloud cannot be reached"):
        fetch_product_firmware(cloud, PRODUCT, 7, BORON, cache)


def test_version_the_product_does_not_have_is_refused(cloud: ParticleCloud, cache: Path) -> None:
    with pytest.raises(ProductFirmwareError, match=r"product 12345 firmware v9: the product has no such firmware"):
        fetch_product_firmware(cloud, PRODUCT, 9, BORON, cache)


def test_firmware_built_for_another_product_is_refused(cloud: ParticleCloud, cache: Path) -> None:
    upload(cloud, 7, product_firmware(BORON, 999, 7))
    with pytest.raises(ProductFirmwareError, match=r"built for product 999, not product 12345"):
        fetch_product_firmware(cloud, PRODUCT, 7, BORON, cache)


def test_firmware_for_another_platform_is_refused(cloud: ParticleCloud, cache: Path) -> None:
    upload(cloud, 7, product_firmware(parse_platform("p2"), PRODUCT, 7))
    with pytest.raises(ProductFirmwareError, match=r"product 12345 firmware v7: .*P2"):
        fetch_product_firmware(cloud, PRODUCT, 7, BORON, cache)


def test_binary_whose_product_version_differs_from_the_listing_is_refused(cloud: ParticleCloud, cache: Path) -> None:
    upload(cloud, 7, product_firmware(BORON, PRODUCT, 8))
    with pytest.raises(ProductFirmwareError, match=r"has product firmware version 8, but this station expects "
                       r"version 7"):
        fetch_product_firmware(cloud, PRODUCT, 7, BORON, cache)


def test_device_os_4_build_storing_the_platform_id_is_accepted_with_a_note(cloud: ParticleCloud,
                                                                            cache: Path) -> None:
    upload(cloud, 7, product_firmware(BORON, BORON.id, 7))
    module = fetch_product_firmware(cloud, PRODUCT, 7, BORON, cache)
    assert module.product_id == BORON.id
    note = product_id_note(module, PRODUCT)
    assert note is not None and "platform id" in note


def test_pinned_sha256_that_does_not_match_is_refused(cloud: ParticleCloud, cache: Path) -> None:
    upload(cloud, 7)
    with pytest.raises(ProductFirmwareError, match="the profile pins"):
        fetch_product_firmware(cloud, PRODUCT, 7, BORON, cache, expected_sha256="0" * 64)


# --- what the product delivers ---------------------------------------------------------------------------------------


def test_nothing_released_delivers_nothing(cloud: ParticleCloud) -> None:
    upload(cloud, 7)
    delivered = delivered_version(cloud, PRODUCT, "line-a")
    assert (delivered.version, delivered.source, delivered.available) == (None, "nothing released", (7,))


def test_product_default_is_delivered_to_a_unit_without_a_group_release(sim: SimulatedLine,
                                                                        cloud: ParticleCloud) -> None:
    sim.emulator.add_firmware(PRODUCT, 7, product_firmware(BORON, PRODUCT, 7), released=True)
    delivered = delivered_version(cloud, PRODUCT, "line-a")
    assert (delivered.version, delivered.source, delivered.group) == (7, "product default", None)


def test_group_release_wins_over_the_product_default(sim: SimulatedLine, cloud: ParticleCloud) -> None:
    sim.emulator.add_firmware(PRODUCT, 8, product_firmware(BORON, PRODUCT, 8), released=True)
    upload(cloud, 6)
    let_version_run(sim, 6)
    cloud.release_firmware(PRODUCT, 6, product_default=False, groups=["line-a"])
    assert str(delivered_version(cloud, PRODUCT, "line-a")) == "v6 (group line-a release)"
    assert str(delivered_version(cloud, PRODUCT, "line-b")) == "v8 (product default)"
    assert str(delivered_version(cloud, PRODUCT, None)) == "v8 (product default)"


# --- a lot flashing v7 while the product releases v8 -----------------------------------------------------------------


@pytest.fixture
def product_releases_v8(sim: SimulatedLine, cloud: ParticleCloud) -> DeliveredFirmware:
    upload(cloud, 7)
    upload(cloud, 8)
    let_version_run(sim, 8)
    cloud.release_firmware(PRODUCT, 8)
    return delivered_version(cloud, PRODUCT, "line-a")


def test_warn_policy_starts_and_says_units_will_be_updated(product_releases_v8: DeliveredFirmware) -> None:
    plan = firmware_plan(7, product_releases_v8, FirmwareVersionPolicy.WARN)
    assert (plan.start, plan.lock_units, plan.updated_to) == (True, False, 8)
    assert plan.message.startswith("units will be updated over the air to v8 on first connection")


def test_refuse_policy_does_not_start_and_says_what_to_do(product_releases_v8: DeliveredFirmware) -> None:
    plan = firmware_plan(7, product_releases_v8, FirmwareVersionPolicy.REFUSE)
    assert (plan.start, plan.lock_units) == (False, False)
    assert plan.message == ("the product releases v8 (product default) but this lot flashes v7: refusing to start; "
                            "release v7, change the profile or set version_policy")


def test_lock_policy_locks_each_unit_to_the_flashed_version(product_releases_v8: DeliveredFirmware) -> None:
    plan = firmware_plan(7, product_releases_v8, FirmwareVersionPolicy.LOCK)
    assert (plan.start, plan.lock_version, plan.updated_to) == (True, 7, None)
    assert plan.message.startswith("each unit is locked to v7 so it stays on the flashed version")


def test_lock_policy_refuses_when_the_flashed_version_is_not_in_the_product(
    product_releases_v8: DeliveredFirmware,
) -> None:
    plan = firmware_plan(6, product_releases_v8, FirmwareVersionPolicy.LOCK)
    assert (plan.start, plan.lock_units) == (False, False)
    assert "product 12345 has no firmware v6: refusing to start" in plan.message


def test_matching_versions_need_no_attention(product_releases_v8: DeliveredFirmware) -> None:
    plan = firmware_plan(8, product_releases_v8, FirmwareVersionPolicy.REFUSE)
    assert (plan.start, plan.needs_attention, plan.message) == (True, False, "the product delivers v8, the version "
                                                                "flashed")


def test_development_units_keep_the_flashed_version(product_releases_v8: DeliveredFirmware) -> None:
    plan = firmware_plan(7, product_releases_v8, FirmwareVersionPolicy.REFUSE, development=True)
    assert (plan.start, plan.updated_to) == (True, None)
    assert "development devices" in plan.message
