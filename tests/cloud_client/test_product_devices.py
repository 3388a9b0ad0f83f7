"""Product device calls against the emulator: import, list, get, update and remove
(docs.particle.io Cloud API, product device endpoints)."""

from __future__ import annotations

import pytest

from cloud_client.client import ParticleCloud
from cloud_client.errors import InvalidInputError, NotFoundError, UnavailableError
from cloud_client.models import ImportOutcome

from .conftest import OPERATOR, OTHER_PRODUCT_ID, OTHER_USER, PRODUCT_ID, PRODUCT_SLUG, World


def test_get_product_reads_id_slug_name_and_platform(cloud: ParticleCloud) -> None:
    product = cloud.get_product(PRODUCT_ID)
    assert (product.id, product.slug, product.name, product.platform_id) == (PRODUCT_ID, PRODUCT_SLUG, "Widget", 13)
    assert product.quarantine is True


def test_product_can_be_named_by_its_slug(cloud: ParticleCloud) -> None:
    assert cloud.get_product(PRODUCT_SLUG).id == PRODUCT_ID


def test_unknown_product_raises_not_found(cloud: ParticleCloud) -> None:
    with pytest.raises(NotFoundError) as info:
        cloud.get_product(999999)
    assert info.value.status == 404
    assert "get product 999999" in str(info.value)


def test_import_one_device_adds_it_to_the_product(world: World, cloud: ParticleCloud) -> None:
    assert cloud.import_device(PRODUCT_ID, world.device_ids[0]) is ImportOutcome.ADDED
    assert world.product_device_ids() == {world.device_ids[0]}


def test_importing_a_device_again_reports_it_as_existing(world: World, cloud: ParticleCloud) -> None:
    cloud.import_device(PRODUCT_ID, world.device_ids[0])
    assert cloud.import_device(PRODUCT_ID, world.device_ids[0].upper()) is ImportOutcome.EXISTING


def test_import_refuses_a_malformed_device_id_before_sending(world: World, cloud: ParticleCloud) -> None:
    with pytest.raises(InvalidInputError, match="not a Particle device id"):
        cloud.import_device(PRODUCT_ID, "WAT")
    assert world.server.request_log == []


def test_import_many_sends_one_request_per_batch(world: World, cloud: ParticleCloud) -> None:
    result = cloud.import_devices(PRODUCT_ID, world.device_ids, batch_size=5)
    assert set(result.added) == set(world.device_ids)
    assert result.requests == 3
    assert len(world.requests_to(f"/v1/products/{PRODUCT_ID}/devices")) == 3
    assert world.product_device_ids() == set(world.device_ids)


def test_import_many_reports_each_identifier_in_exactly_one_outcome(world: World, cloud: ParticleCloud) -> None:
    world.server.add_device("0123456789abcdef01234567", "boron", owner=OTHER_USER)
    cloud.import_device(PRODUCT_ID, world.device_ids[0])
    world.server.add_device("00000000000000000000aaaa", "boron", product_id=OTHER_PRODUCT_ID)
    sent = [world.device_ids[0], world.device_ids[1], "0123456789abcdef01234567", "00000000000000000000aaaa",
            "000000000000000000000001", "NOPE"]
    result = cloud.import_devices(PRODUCT_ID, sent)
    assert result.outcome_of(world.device_ids[0]) is ImportOutcome.EXISTING
    assert result.outcome_of(world.device_ids[1]) is ImportOutcome.ADDED
    assert result.outcome_of("0123456789abcdef01234567") is ImportOutcome.NON_MEMBER
    assert result.outcome_of("00000000000000000000aaaa") is ImportOutcome.INVALID
    assert result.outcome_of("000000000000000000000001") is ImportOutcome.INVALID
    assert result.outcome_of("nope") is ImportOutcome.INVALID
    assert len(result.outcomes) == len(sent)


def test_import_many_sends_duplicates_once(world: World, cloud: ParticleCloud) -> None:
    ids = [world.device_ids[0], world.device_ids[0].upper(), f"  {world.device_ids[1]}  ", world.device_ids[1]]
    result = cloud.import_devices(PRODUCT_ID, ids, batch_size=1)
    assert result.requests == 2
    assert set(result.added) == set(world.device_ids[:2])


def test_import_accepts_serial_numbers(world: World, cloud: ParticleCloud) -> None:
    serial = world.device(world.device_ids[2])["serial_number"]
    result = cloud.import_devices(PRODUCT_ID, [str(serial)])
    assert result.added == (world.device_ids[2],)
    assert result.unreported == (str(serial).lower(),)
    assert world.product_device_ids() == {world.device_ids[2]}


def test_import_reports_progress_after_each_batch(world: World, cloud: ParticleCloud) -> None:
    seen: list[tuple[int, int]] = []
    cloud.import_devices(PRODUCT_ID, world.device_ids[:5], batch_size=2, concurrency=1,
                         progress=lambda d, t: seen.append((d, t)))
    assert seen == [(2, 5), (4, 5), (5, 5)]


def test_concurrent_import_adds_every_batch_and_reports_progress_up_to_the_total(
    world: World, cloud: ParticleCloud
) -> None:
    seen: list[int] = []
    result = cloud.import_devices(PRODUCT_ID, world.device_ids, batch_size=2, concurrency=4,
                                  progress=lambda done, total: seen.append(done))
    assert set(result.added) == set(world.device_ids)
    assert world.product_device_ids() == set(world.device_ids)
    assert seen == sorted(seen) and seen[-1] == len(world.device_ids) and len(seen) == 6


def test_concurrent_import_raises_the_failing_batchs_error(world: World, cloud: ParticleCloud) -> None:
    cloud.get_product(PRODUCT_ID)  # token first, so that only import requests meet the fault
    world.server.set_faults(error_rate=1.0)
    with pytest.raises(UnavailableError, match="import devices"):
        cloud.import_devices(PRODUCT_ID, world.device_ids, batch_size=3, concurrency=2)
    assert world.product_device_ids() == set()


def test_import_with_claim_user_claims_new_devices(world: World, cloud: ParticleCloud) -> None:
    cloud.import_devices(PRODUCT_ID, world.device_ids[:2], claim_user=OPERATOR)
    assert {world.device(i)["owner"] for i in world.device_ids[:2]} == {OPERATOR}


def test_import_into_unknown_product_raises_not_found(world: World, cloud: ParticleCloud) -> None:
    with pytest.raises(NotFoundError):
        cloud.import_devices(777, world.device_ids[:1])


def test_list_devices_walks_every_page(world: World, cloud: ParticleCloud) -> None:
    cloud.import_devices(PRODUCT_ID, world.device_ids)
    devices = cloud.list_devices(PRODUCT_ID, per_page=5)
    assert sorted(d.id for d in devices) == sorted(world.device_ids)
    assert len(world.requests_to(f"/v1/products/{PRODUCT_ID}/devices")) == 1 + 3
    assert all(d.product_id == PRODUCT_ID and d.platform_id == 13 for d in devices)


def test_list_devices_of_an_empty_product_is_empty(cloud: ParticleCloud) -> None:
    assert cloud.list_devices(PRODUCT_ID) == []


def test_list_devices_filters_by_group_and_name(world: World, cloud: ParticleCloud) -> None:
    cloud.import_devices(PRODUCT_ID, world.device_ids[:4])
    cloud.update_device(PRODUCT_ID, world.device_ids[0], name="unit-alpha", groups=["line-a"])
    cloud.update_device(PRODUCT_ID, world.device_ids[1], groups=["line-b"])
    assert [d.id for d in cloud.list_devices(PRODUCT_ID, name="alpha")] == [world.device_ids[0]]
    in_groups = cloud.list_devices(PRODUCT_ID, groups=["line-a", "line-b"])
    assert sorted(d.id for d in in_groups) == sorted(world.device_ids[:2])


def test_find_device_by_serial_matches_exactly(world: World, cloud: ParticleCloud) -> None:
    cloud.import_devices(PRODUCT_ID, world.device_ids[:3])
    serial = str(world.device(world.device_ids[1])["serial_number"])
    found = cloud.find_device_by_serial(PRODUCT_ID, serial.lower())
    assert found is not None and found.id == world.device_ids[1]
    assert cloud.find_device_by_serial(PRODUCT_ID, serial[:-1]) is None


def test_get_device_returns_the_product_device(world: World, cloud: ParticleCloud) -> None:
    cloud.import_device(PRODUCT_ID, world.device_ids[0])
    device = cloud.get_device(PRODUCT_ID, world.device_ids[0].upper())
    assert device.id == world.device_ids[0]
    assert device.serial_number == world.device(world.device_ids[0])["serial_number"]


def test_get_device_not_in_the_product_raises_not_found(world: World, cloud: ParticleCloud) -> None:
    with pytest.raises(NotFoundError) as info:
        cloud.get_device(PRODUCT_ID, world.device_ids[0])
    assert info.value.status == 404
    assert world.device_ids[0] in str(info.value)


def test_update_device_changes_only_the_given_fields(world: World, cloud: ParticleCloud) -> None:
    cloud.import_device(PRODUCT_ID, world.device_ids[0])
    update = cloud.update_device(PRODUCT_ID, world.device_ids[0], name="unit-7", notes="line 1", development=True)
    assert update.changed == {"name": "unit-7", "notes": "line 1", "development": True}
    stored = world.device(world.device_ids[0])
    assert (stored["name"], stored["notes"], stored["development"]) == ("unit-7", "line 1", True)


def test_update_groups_replaces_memberships_and_creates_groups(world: World, cloud: ParticleCloud) -> None:
    cloud.import_device(PRODUCT_ID, world.device_ids[0])
    cloud.update_device(PRODUCT_ID, world.device_ids[0], groups=["a", "b"])
    cloud.update_device(PRODUCT_ID, world.device_ids[0], groups=["c"])
    assert world.device(world.device_ids[0])["groups"] == ["c"]
    assert {g.name for g in cloud.list_groups(PRODUCT_ID)} == {"a", "b", "c"}


def test_lock_and_unlock_firmware(world: World, cloud: ParticleCloud) -> None:
    world.server.add_firmware(PRODUCT_ID, 3, released=True)
    cloud.import_device(PRODUCT_ID, world.device_ids[0])
    cloud.lock_firmware(PRODUCT_ID, world.device_ids[0], 3)
    assert world.device(world.device_ids[0])["desired_firmware_version"] == 3
    cloud.unlock_firmware(PRODUCT_ID, world.device_ids[0])
    assert world.device(world.device_ids[0])["desired_firmware_version"] is None


def test_lock_to_a_missing_firmware_version_is_invalid_input(world: World, cloud: ParticleCloud) -> None:
    cloud.import_device(PRODUCT_ID, world.device_ids[0])
    with pytest.raises(InvalidInputError) as info:
        cloud.lock_firmware(PRODUCT_ID, world.device_ids[0], 99)
    assert info.value.status == 400
    assert "99" in info.value.api_message


def test_set_development_flag(world: World, cloud: ParticleCloud) -> None:
    cloud.import_device(PRODUCT_ID, world.device_ids[0])
    cloud.set_development(PRODUCT_ID, world.device_ids[0], True)
    assert world.device(world.device_ids[0])["development"] is True


def test_update_of_a_device_not_in_the_product_raises_not_found(world: World, cloud: ParticleCloud) -> None:
    with pytest.raises(NotFoundError):
        cloud.update_device(PRODUCT_ID, world.device_ids[0], name="x")


def test_remove_device_takes_it_out_of_the_product(world: World, cloud: ParticleCloud) -> None:
    cloud.import_device(PRODUCT_ID, world.device_ids[0])
    assert cloud.remove_device(PRODUCT_ID, world.device_ids[0]) is True
    assert world.product_device_ids() == set()


def test_removing_a_device_twice_reports_it_was_not_there(world: World, cloud: ParticleCloud) -> None:
    cloud.import_device(PRODUCT_ID, world.device_ids[0])
    cloud.remove_device(PRODUCT_ID, world.device_ids[0])
    assert cloud.remove_device(PRODUCT_ID, world.device_ids[0]) is False
    assert world.server.request_log[-1][2] == 400


def test_deny_marks_the_device_denied(world: World, cloud: ParticleCloud) -> None:
    cloud.import_device(PRODUCT_ID, world.device_ids[0])
    cloud.remove_device(PRODUCT_ID, world.device_ids[0], deny=True)
    assert world.device(world.device_ids[0])["denied"] is True


def test_remove_from_unknown_product_raises_not_found(world: World, cloud: ParticleCloud) -> None:
    with pytest.raises(NotFoundError):
        cloud.remove_device(777, world.device_ids[0])
