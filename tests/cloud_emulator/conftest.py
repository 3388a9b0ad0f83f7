"""Fixtures for the emulator's wire tests: a started emulator with a seeded world, and raw httpx clients."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from cloud_client.emulator import EmulatorServer
from cloud_client.emulator.state import Device

from .world import (
    ALICE,
    ALICE_PASSWORD,
    ALICE_TOKEN,
    BOB,
    BOB_PASSWORD,
    BOB_PRODUCT,
    BOB_TOKEN,
    P2_PRODUCT,
    PRODUCT,
    PRODUCT_CLIENT,
    PRODUCT_SECRET,
    SHARED_TLS,
)


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    emulator = EmulatorServer(seed=7)
    emulator.add_owned_product(PRODUCT, "boron", ALICE, password=ALICE_PASSWORD, access_token=ALICE_TOKEN,
                               name="Widget")
    emulator.add_product(P2_PRODUCT, "p2", owner=ALICE, name="Lamp")
    emulator.add_owned_product(BOB_PRODUCT, "boron", BOB, password=BOB_PASSWORD, access_token=BOB_TOKEN,
                               name="Bob's")
    emulator.add_client(PRODUCT_CLIENT, PRODUCT_SECRET, product_id=PRODUCT)
    emulator.set_timings(sim_activation_s=30, sim_release_s=30, sim_status_check_s=10)
    with emulator:
        yield emulator


def _client(server: EmulatorServer, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    assert server.base_url is not None
    return httpx.Client(base_url=server.base_url, headers=headers, timeout=10, verify=SHARED_TLS)


@pytest.fixture
def api(server: EmulatorServer) -> Iterator[httpx.Client]:
    """Alice's client."""
    with _client(server, ALICE_TOKEN) as client:
        yield client


@pytest.fixture
def bob(server: EmulatorServer) -> Iterator[httpx.Client]:
    with _client(server, BOB_TOKEN) as client:
        yield client


@pytest.fixture
def anon(server: EmulatorServer) -> Iterator[httpx.Client]:
    """A client that sends no token."""
    with _client(server, None) as client:
        yield client


@pytest.fixture
def borons(server: EmulatorServer) -> list[Device]:
    """Four manufactured Borons, in no product and unclaimed."""
    return server.add_factory_devices(4, platforms=("boron",))
