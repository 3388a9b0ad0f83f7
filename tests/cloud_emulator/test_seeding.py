"""Seeding: the usual owner + token + product in one call, as the station, the simulated line and the HIL use it."""

from __future__ import annotations

import httpx

from cloud_client.emulator import EmulatorServer

from .world import SHARED_TLS

OWNER = "factory@example.com"


def test_an_owned_product_comes_with_an_account_and_a_token_that_reaches_it() -> None:
    with EmulatorServer() as emulator:
        seeded = emulator.add_owned_product(777, "boron", OWNER.upper(), name="Widget")
        other = emulator.add_owned_product(778, "argon", OWNER, access_token="given-token-0123456789")
        assert (seeded.owner, seeded.product.id, seeded.product.name) == (OWNER, 777, "Widget")
        assert len(seeded.access_token) == 40 and other.access_token == "given-token-0123456789"
        assert emulator.base_url is not None
        with httpx.Client(base_url=emulator.base_url, verify=SHARED_TLS, timeout=10) as http:
            for product, token in ((777, seeded.access_token), (778, other.access_token)):
                reply = http.get(f"/v1/products/{product}/devices", headers={"Authorization": f"Bearer {token}"})
                assert reply.status_code == 200


def test_an_existing_owner_keeps_the_password_it_has() -> None:
    with EmulatorServer() as emulator:
        emulator.add_user(OWNER, "first-password")
        emulator.add_owned_product(777, "boron", OWNER, password="ignored")
        assert emulator.cloud.state.users[OWNER].password == "first-password"
