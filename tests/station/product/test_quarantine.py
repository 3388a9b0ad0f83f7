"""Quarantine over real sockets: the emulator quarantines unknown devices running product firmware; the station lists,
approves and denies them through the real client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cloud_client.client import ParticleCloud
from cloud_client.credentials import Credentials
from cloud_client.emulator import EmulatorServer
from hardware.identifiers import DeviceId
from station.product.quarantine import Approval, Denial, QuarantineError, approve, deny, quarantined

PRODUCT = 5252
OPEN_PRODUCT = 5353
OWNER = "owner@example.com"
OTHER = "other@example.com"
TOKEN = "c" * 40
STRAY = DeviceId.parse("e00fce68aa00000000000001")
MEMBER = DeviceId.parse("e00fce68aa00000000000002")
FOREIGN = DeviceId.parse("e00fce68aa00000000000003")
ARGON = DeviceId.parse("e00fce68aa00000000000004")
PRODUCT_FIRMWARE = 3


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    server = EmulatorServer()
    server.add_owned_product(PRODUCT, "boron", OWNER, access_token=TOKEN, quarantine=True)
    server.add_product(OPEN_PRODUCT, "boron", owner=OWNER, quarantine=False)
    server.add_user(OTHER, "pw")
    server.add_device(STRAY.value, "boron", serial="B40KAA111111111")
    server.add_device(MEMBER.value, "boron", product_id=PRODUCT)
    server.add_device(FOREIGN.value, "boron", owner=OTHER)
    server.add_device(ARGON.value, "argon")
    with server:
        yield server


@pytest.fixture
def cloud(emulator: EmulatorServer) -> Iterator[ParticleCloud]:
    assert emulator.base_url is not None
    with ParticleCloud(emulator.base_url, Credentials.token(TOKEN), max_retries=1) as client:
        yield client


def connects(emulator: EmulatorServer, device: DeviceId, product: int = PRODUCT) -> None:
    """The device comes online running the product's firmware (Device OS 3.x, PRODUCT_ID built in)."""
    emulator.device_connects(device.value, product, firmware_version=PRODUCT_FIRMWARE, system_version="3.3.1")


def members(cloud: ParticleCloud, product: int = PRODUCT) -> set[str]:
    return {d.id for d in cloud.list_devices(product) if not d.quarantined}


def test_an_unknown_device_with_product_firmware_is_quarantined_not_a_member(
    emulator: EmulatorServer, cloud: ParticleCloud
) -> None:
    connects(emulator, STRAY)
    [waiting] = quarantined(cloud, PRODUCT)
    assert (waiting.device_id, waiting.serial_number, waiting.firmware_version, waiting.system_firmware_version) == (
        STRAY, "B40KAA111111111", PRODUCT_FIRMWARE, "3.3.1")
    assert waiting.platform is not None and waiting.platform.name == "boron"
    assert STRAY.value not in members(cloud)


def test_an_approved_device_is_listed_as_a_member(emulator: EmulatorServer, cloud: ParticleCloud) -> None:
    connects(emulator, STRAY)
    assert approve(cloud, PRODUCT, STRAY) is Approval.APPROVED
    assert quarantined(cloud, PRODUCT) == []
    assert STRAY.value in members(cloud)
    assert cloud.get_device(PRODUCT, STRAY.value).quarantined is False


def test_approving_twice_reports_already_a_member(emulator: EmulatorServer, cloud: ParticleCloud) -> None:
    connects(emulator, STRAY)
    approve(cloud, PRODUCT, STRAY)
    assert approve(cloud, PRODUCT, STRAY) is Approval.ALREADY_MEMBER


def test_a_device_claimed_by_another_account_cannot_be_approved(
    emulator: EmulatorServer, cloud: ParticleCloud
) -> None:
    connects(emulator, FOREIGN)
    with pytest.raises(QuarantineError, match=f"{FOREIGN}.*claimed by another Particle account"):
        approve(cloud, PRODUCT, FOREIGN)
    assert FOREIGN.value not in members(cloud)


def test_a_denied_device_leaves_the_quarantine_and_is_not_quarantined_again(
    emulator: EmulatorServer, cloud: ParticleCloud
) -> None:
    connects(emulator, STRAY)
    assert deny(cloud, PRODUCT, STRAY) is Denial.DENIED
    connects(emulator, STRAY)
    assert quarantined(cloud, PRODUCT) == []
    assert STRAY.value not in {d.id for d in cloud.list_devices(PRODUCT)}


def test_deny_sends_delete_with_deny_true(emulator: EmulatorServer, cloud: ParticleCloud) -> None:
    connects(emulator, STRAY)
    deny(cloud, PRODUCT, STRAY)
    assert ("DELETE", f"/v1/products/{PRODUCT}/devices/{STRAY}", 204) in emulator.request_log


def test_deny_refuses_a_full_member(emulator: EmulatorServer, cloud: ParticleCloud) -> None:
    with pytest.raises(QuarantineError, match="full member"):
        deny(cloud, PRODUCT, MEMBER)
    assert MEMBER.value in members(cloud)


def test_denying_a_device_not_in_the_product_reports_so(cloud: ParticleCloud) -> None:
    assert deny(cloud, PRODUCT, STRAY) is Denial.NOT_IN_PRODUCT


def test_a_product_without_quarantine_admits_the_device_at_once(
    emulator: EmulatorServer, cloud: ParticleCloud
) -> None:
    connects(emulator, STRAY, OPEN_PRODUCT)
    assert quarantined(cloud, OPEN_PRODUCT) == []
    assert STRAY.value in members(cloud, OPEN_PRODUCT)


def test_a_device_of_another_platform_is_not_quarantined_in_the_product(
    emulator: EmulatorServer, cloud: ParticleCloud
) -> None:
    connects(emulator, ARGON)
    assert quarantined(cloud, PRODUCT) == []
