"""Fixtures for the cloud client's tests: an in-memory OS keyring, and the emulator with its seeded world."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from cloud_client.client import ParticleCloud
from cloud_client.credentials import Credentials
from cloud_client.emulator import EmulatorServer
from cloud_client.retry import RetryPolicy

# --- The emulated cloud and clients pointed at it ---------------------------------------------------------------

OPERATOR = "operator@example.com"
OPERATOR_PASSWORD = "operator-password-7f3a"
OTHER_USER = "someone@elsewhere.example"
OPERATOR_TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
OTHER_TOKEN = "ffeeddccbbaa99887766554433221100ffeeddcc"
PRODUCT_ID = 4242
PRODUCT_SLUG = "widget-v1"
OTHER_PRODUCT_ID = 5151
CLIENT_ID = "station-line-1"
CLIENT_SECRET = "cs-9c1d7e55b0a24f3e8d6a11f0c2b3e4d5"
SECRETS = (OPERATOR_PASSWORD, OPERATOR_TOKEN, OTHER_TOKEN, CLIENT_SECRET)
"""Every secret seeded into the emulator; none of them may show in logs or errors."""
TEST_RETRIES = RetryPolicy(max_retries=8)
"""The default back-off with a few more retries; clients record their waits instead of sleeping (``World.sleeps``)."""


@dataclass
class World:
    """A running emulator seeded with an operator, a product, its OAuth client and factory devices."""

    server: EmulatorServer
    base_url: str
    device_ids: list[str]
    """Manufactured boron devices, not yet in any product and unowned."""
    sleeps: list[float] = field(default_factory=list)

    def product_device_ids(self, product_id: int = PRODUCT_ID) -> set[str]:
        return {d["id"] for d in self.server.snapshot()["devices"] if d["product_id"] == product_id}

    def device(self, device_id: str) -> dict[str, object]:
        return next(d for d in self.server.snapshot()["devices"] if d["id"] == device_id)

    def requests_to(self, path_start: str) -> list[tuple[str, str, int]]:
        return [r for r in self.server.request_log if r[1].startswith(path_start)]

    def client(self, credentials: Credentials, **kwargs: object) -> ParticleCloud:
        options: dict[str, object] = {"retry": TEST_RETRIES, "timeout": 10.0, "sleep": self.sleeps.append}
        options.update(kwargs)
        return ParticleCloud(self.base_url, credentials, **options)  # type: ignore[arg-type]


@pytest.fixture
def world() -> Iterator[World]:
    server = EmulatorServer(host="127.0.0.1", port=0, state_file=None, seed=7)
    server.add_owned_product(PRODUCT_ID, "boron", OPERATOR, password=OPERATOR_PASSWORD, access_token=OPERATOR_TOKEN,
                             name="Widget", slug=PRODUCT_SLUG)
    server.add_owned_product(OTHER_PRODUCT_ID, "boron", OTHER_USER, password="other-password",
                             access_token=OTHER_TOKEN)
    server.add_client(CLIENT_ID, CLIENT_SECRET, product_id=PRODUCT_ID)
    devices = server.add_factory_devices(12, platforms=("boron",))
    base_url = server.start()
    try:
        yield World(server, base_url, [d.id for d in devices])
    finally:
        server.stop()


@pytest.fixture
def cloud(world: World) -> Iterator[ParticleCloud]:
    """The station's usual client: the product's OAuth client credentials."""
    with world.client(Credentials.oauth_client(CLIENT_ID, CLIENT_SECRET, source="test product client")) as client:
        yield client


@pytest.fixture
def user_cloud(world: World) -> Iterator[ParticleCloud]:
    """A client acting for the operator's account (claims need a person's token)."""
    with world.client(Credentials.token(OPERATOR_TOKEN, source="test operator token")) as client:
        yield client
