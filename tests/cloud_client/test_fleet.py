"""Product groups and product firmware against the emulator (docs.particle.io Cloud API, device groups and product
firmware)."""

from __future__ import annotations

import pytest

from cloud_client.client import ParticleCloud
from cloud_client.errors import InvalidInputError, NotFoundError

from .conftest import PRODUCT_ID, World


def test_create_get_and_list_groups(cloud: ParticleCloud) -> None:
    created = cloud.create_group(PRODUCT_ID, "line-a", description="first line", color="#e74c3c")
    assert (created.name, created.description, created.color) == ("line-a", "first line", "#e74c3c")
    assert cloud.get_group(PRODUCT_ID, "line-a").device_count == 0
    assert [g.name for g in cloud.list_groups(PRODUCT_ID)] == ["line-a"]


def test_group_name_with_capitals_is_invalid_input(cloud: ParticleCloud) -> None:
    with pytest.raises(InvalidInputError):
        cloud.create_group(PRODUCT_ID, "Line A")


def test_delete_group_reports_whether_it_existed(cloud: ParticleCloud) -> None:
    cloud.create_group(PRODUCT_ID, "line-a")
    assert cloud.delete_group(PRODUCT_ID, "line-a") is True
    assert cloud.delete_group(PRODUCT_ID, "line-a") is False


def test_get_missing_group_raises_not_found(cloud: ParticleCloud) -> None:
    with pytest.raises(NotFoundError):
        cloud.get_group(PRODUCT_ID, "nope")


def test_change_groups_adds_and_removes_in_bulk(world: World, cloud: ParticleCloud) -> None:
    cloud.import_devices(PRODUCT_ID, world.device_ids[:3])
    cloud.change_groups(PRODUCT_ID, world.device_ids[:3], add=["batch-7", "line-a"])
    cloud.change_groups(PRODUCT_ID, world.device_ids[:1], remove=["line-a"])
    assert world.device(world.device_ids[0])["groups"] == ["batch-7"]
    assert world.device(world.device_ids[2])["groups"] == ["batch-7", "line-a"]


def test_list_firmware_and_find_the_released_default(world: World, cloud: ParticleCloud) -> None:
    world.server.add_firmware(PRODUCT_ID, 1, released=True)
    world.server.add_firmware(PRODUCT_ID, 2)
    assert [fw.version for fw in cloud.list_firmware(PRODUCT_ID)] == [1, 2]
    released = cloud.released_firmware(PRODUCT_ID)
    assert released is not None and released.version == 1


def test_no_released_firmware_is_none(cloud: ParticleCloud) -> None:
    assert cloud.released_firmware(PRODUCT_ID) is None


def test_upload_then_download_firmware_round_trips_the_bytes(cloud: ParticleCloud) -> None:
    binary = bytes(range(256)) * 8
    uploaded = cloud.upload_firmware(PRODUCT_ID, 5, binary, title="v5", description="line build")
    assert (uploaded.version, uploaded.title, uploaded.size) == (5, "v5", len(binary))
    assert cloud.get_firmware(PRODUCT_ID, 5).description == "line build"
    assert cloud.download_firmware(PRODUCT_ID, 5) == binary


def test_release_firmware_after_it_ran_on_a_device(world: World, cloud: ParticleCloud) -> None:
    cloud.upload_firmware(PRODUCT_ID, 5, b"\x01" * 64, title="v5")
    cloud.import_device(PRODUCT_ID, world.device_ids[0])
    world.server.device_connects(world.device_ids[0], PRODUCT_ID, 5, "6.1.1")
    cloud.release_firmware(PRODUCT_ID, 5)
    released = cloud.released_firmware(PRODUCT_ID)
    assert released is not None and released.version == 5


def test_releasing_firmware_that_never_ran_is_invalid_input(cloud: ParticleCloud) -> None:
    cloud.upload_firmware(PRODUCT_ID, 5, b"\x01" * 64, title="v5")
    with pytest.raises(InvalidInputError, match="has not run on any device"):
        cloud.release_firmware(PRODUCT_ID, 5)
