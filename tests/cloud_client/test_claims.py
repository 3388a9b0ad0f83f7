"""Claiming, unclaiming, claim codes and the serial-number look-up against the emulator.

Facts: docs.particle.io Cloud API, 'Claim a device', 'Create a claim code', 'Look up device identification from a
serial number'.
"""

from __future__ import annotations

import pytest

from cloud_client.client import ParticleCloud
from cloud_client.errors import (
    AuthError,
    ClaimedElsewhereError,
    ForbiddenError,
    InvalidCredentialsError,
    NotFoundError,
    RateLimitedError,
)
from cloud_client.models import ClaimOutcome, ImportOutcome

from .conftest import OPERATOR, OTHER_USER, PRODUCT_ID, World

CUSTOMER = "buyer@customer.example"


def test_claim_device_makes_the_caller_its_owner(world: World, user_cloud: ParticleCloud) -> None:
    result = user_cloud.claim_device(world.device_ids[0].upper())
    assert result.outcome is ClaimOutcome.CLAIMED
    assert result.device_id == world.device_ids[0]
    assert world.device(world.device_ids[0])["owner"] == OPERATOR


def test_claiming_an_own_device_again_is_success(world: World, user_cloud: ParticleCloud) -> None:
    user_cloud.claim_device(world.device_ids[0])
    assert user_cloud.claim_device(world.device_ids[0]).outcome is ClaimOutcome.CLAIMED


def test_claiming_a_device_owned_elsewhere_raises_claimed_elsewhere(world: World, user_cloud: ParticleCloud) -> None:
    world.server.add_device("0123456789abcdef01234567", "boron", owner=OTHER_USER)
    with pytest.raises(ClaimedElsewhereError) as info:
        user_cloud.claim_device("0123456789abcdef01234567")
    assert info.value.status == 403
    assert info.value.api_message == "That belongs to someone else."
    assert "0123456789abcdef01234567" in str(info.value)


def test_claim_with_transfer_request_reports_transfer_requested(world: World, user_cloud: ParticleCloud) -> None:
    world.server.add_device("0123456789abcdef01234567", "boron", owner=OTHER_USER)
    result = user_cloud.claim_device("0123456789abcdef01234567", request_transfer=True)
    assert result.outcome is ClaimOutcome.TRANSFER_REQUESTED
    assert world.device("0123456789abcdef01234567")["owner"] == OTHER_USER


def test_claiming_an_unknown_device_raises_not_found(user_cloud: ParticleCloud) -> None:
    with pytest.raises(NotFoundError) as info:
        user_cloud.claim_device("00000000000000000000dead")
    assert info.value.api_message == "device not found"


def test_product_token_cannot_claim_for_a_person(world: World, cloud: ParticleCloud) -> None:
    with pytest.raises(ForbiddenError) as info:
        cloud.claim_device(world.device_ids[0])
    assert info.value.status == 400


def test_claim_product_device_imports_and_claims_for_a_team_member(world: World, cloud: ParticleCloud) -> None:
    assert cloud.claim_product_device(PRODUCT_ID, world.device_ids[0], OPERATOR) is ImportOutcome.ADDED
    stored = world.device(world.device_ids[0])
    assert (stored["product_id"], stored["owner"]) == (PRODUCT_ID, OPERATOR)


def test_unclaim_device_removes_the_owner(world: World, user_cloud: ParticleCloud) -> None:
    user_cloud.claim_device(world.device_ids[0])
    user_cloud.unclaim_device(world.device_ids[0])
    assert world.device(world.device_ids[0])["owner"] is None


def test_unclaim_in_product_keeps_the_device_in_the_product(world: World, cloud: ParticleCloud) -> None:
    cloud.claim_product_device(PRODUCT_ID, world.device_ids[0], OPERATOR)
    cloud.unclaim_device(world.device_ids[0], product=PRODUCT_ID)
    stored = world.device(world.device_ids[0])
    assert (stored["product_id"], stored["owner"]) == (PRODUCT_ID, None)


def test_unclaiming_a_device_not_owned_is_forbidden(world: World, user_cloud: ParticleCloud) -> None:
    with pytest.raises(ForbiddenError) as info:
        user_cloud.unclaim_device(world.device_ids[0])
    assert info.value.api_message == "Permission Denied"


def test_user_claim_code_is_at_most_63_characters(world: World, user_cloud: ParticleCloud) -> None:
    code = user_cloud.create_claim_code(iccid="89014103211118510720")
    assert 0 < len(code.claim_code) <= 63
    assert world.server.snapshot()["claim_codes"][0]["iccid"] == "89014103211118510720"


def test_customer_claim_code_uses_a_customer_scoped_token(world: World, cloud: ParticleCloud) -> None:
    assert cloud.create_customer(PRODUCT_ID, CUSTOMER) is True
    code = cloud.create_customer_claim_code(PRODUCT_ID, CUSTOMER)
    assert 0 < len(code.claim_code) <= 63
    stored = world.server.snapshot()["claim_codes"][0]
    assert (stored["username"], stored["product_id"]) == (CUSTOMER, PRODUCT_ID)


def test_creating_an_existing_customer_reports_it_existed(cloud: ParticleCloud) -> None:
    cloud.create_customer(PRODUCT_ID, CUSTOMER)
    assert cloud.create_customer(PRODUCT_ID, CUSTOMER) is False


def test_customer_claim_code_for_an_unknown_customer_is_refused_once(world: World, cloud: ParticleCloud) -> None:
    for _ in range(3):
        with pytest.raises(InvalidCredentialsError, match="create the customer first"):
            cloud.create_customer_claim_code(PRODUCT_ID, CUSTOMER)
    assert len(world.requests_to("/oauth/token")) == 1


def test_customer_claim_code_works_once_the_customer_exists(world: World, cloud: ParticleCloud) -> None:
    with pytest.raises(InvalidCredentialsError):
        cloud.create_customer_claim_code(PRODUCT_ID, CUSTOMER)
    cloud.create_customer(PRODUCT_ID, CUSTOMER)
    assert cloud.create_customer_claim_code(PRODUCT_ID, CUSTOMER).claim_code


def test_customer_claim_code_needs_oauth_client_credentials(user_cloud: ParticleCloud) -> None:
    with pytest.raises(AuthError, match="OAuth client id and secret"):
        user_cloud.create_customer_claim_code(PRODUCT_ID, CUSTOMER)


def test_serial_lookup_finds_the_device(world: World, user_cloud: ParticleCloud) -> None:
    stored = world.device(world.device_ids[0])
    found = user_cloud.lookup_serial(str(stored["serial_number"]))
    assert (found.device_id, found.platform_id, found.iccid) == (world.device_ids[0], 13, stored["iccid"])


def test_serial_lookup_of_an_unknown_serial_raises_not_found(user_cloud: ParticleCloud) -> None:
    with pytest.raises(NotFoundError):
        user_cloud.lookup_serial("P00XXX000000000")


def test_serial_lookup_over_its_hourly_budget_is_not_retried(world: World, user_cloud: ParticleCloud) -> None:
    serial = str(world.device(world.device_ids[0])["serial_number"])
    for _ in range(50):
        user_cloud.lookup_serial(serial)
    with pytest.raises(RateLimitedError, match="50 calls per hour"):
        user_cloud.lookup_serial(serial)
    assert len(world.requests_to("/v1/serial_numbers/")) == 51
    assert world.sleeps == []
