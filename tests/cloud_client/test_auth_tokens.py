"""Tokens against the emulator: cached until expiry, renewed once on 401, and never re-requested after a refusal."""

from __future__ import annotations

import pytest

from cloud_client.client import ParticleCloud
from cloud_client.credentials import Credentials
from cloud_client.errors import AuthError, InvalidCredentialsError, NotFoundError

from .conftest import CLIENT_ID, CLIENT_SECRET, PRODUCT_ID, World

NINETY_DAYS_S = 7_776_000


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_is_fetched_once_and_reused(world: World, cloud: ParticleCloud) -> None:
    for _ in range(3):
        cloud.get_product(PRODUCT_ID)
    assert len(world.requests_to("/oauth/token")) == 1


def test_token_request_uses_basic_auth_and_form_encoding(world: World, cloud: ParticleCloud) -> None:
    # The emulator, like Particle's OAuth server, refuses anything but a form body on /oauth/token.
    cloud.get_product(PRODUCT_ID)
    assert world.requests_to("/oauth/token") == [("POST", "/oauth/token", 200)]


def test_token_is_renewed_before_it_expires_by_the_clients_clock(world: World) -> None:
    clock = FakeClock()
    with world.client(Credentials.oauth_client(CLIENT_ID, CLIENT_SECRET), clock=clock) as cloud:
        cloud.get_product(PRODUCT_ID)
        clock.now += NINETY_DAYS_S - 30  # inside the renewal margin
        world.server.advance_time(NINETY_DAYS_S - 30)
        cloud.get_product(PRODUCT_ID)
    assert [status for _, _, status in world.server.request_log] == [200, 200, 200, 200]
    assert len(world.requests_to("/oauth/token")) == 2


def test_token_refused_with_401_is_renewed_once_and_the_call_succeeds(world: World, cloud: ParticleCloud) -> None:
    cloud.get_product(PRODUCT_ID)
    world.server.advance_time(NINETY_DAYS_S + 1)  # the server expires the token; the client's clock did not move
    assert cloud.get_product(PRODUCT_ID).id == PRODUCT_ID
    assert world.server.request_log[-3:] == [
        ("GET", f"/v1/products/{PRODUCT_ID}", 401),
        ("POST", "/oauth/token", 200),
        ("GET", f"/v1/products/{PRODUCT_ID}", 200),
    ]


def test_unknown_static_token_raises_auth_error_without_retrying(world: World) -> None:
    with world.client(Credentials.token("0" * 40)) as cloud, pytest.raises(AuthError) as info:
        cloud.get_product(PRODUCT_ID)
    assert info.value.status == 401
    assert "The access token provided is invalid." in info.value.api_message
    assert len(world.server.request_log) == 1


def test_wrong_client_secret_raises_invalid_credentials_and_asks_only_once(world: World) -> None:
    with world.client(Credentials.oauth_client(CLIENT_ID, "wrong-secret", source="env:LINE1")) as cloud:
        for _ in range(12):
            with pytest.raises(InvalidCredentialsError) as info:
                cloud.get_product(PRODUCT_ID)
    assert len(world.requests_to("/oauth/token")) == 1
    assert "env:LINE1" in str(info.value)
    assert info.value.api_message == "Client credentials are invalid"


def test_unknown_client_id_is_invalid_credentials(world: World) -> None:
    creds = Credentials.oauth_client("no-such-client", CLIENT_SECRET)
    with world.client(creds) as cloud, pytest.raises(InvalidCredentialsError) as info:
        cloud.list_devices(PRODUCT_ID)
    assert info.value.status == 400
    assert info.value.operation.startswith("get an access token for OAuth client 'no-such-client'")


def test_token_of_another_products_client_finds_no_such_product(world: World) -> None:
    world.server.add_client("other-line", "other-secret", product_id=5151)
    creds = Credentials.oauth_client("other-line", "other-secret")
    with world.client(creds) as cloud, pytest.raises(NotFoundError) as info:
        cloud.get_product(PRODUCT_ID)
    assert info.value.status == 404
