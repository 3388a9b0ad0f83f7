"""Claiming, claim codes, customers and the serial-number look-up.

Facts: docs.particle.io Cloud API, 'Claim a device', 'Create a claim code', customer endpoints, 'Look up device
identification from a serial number'; particle-cli 3.43.1 src/cmd/cloud.js and test/e2e/cloud.e2e.js.
"""

from __future__ import annotations

import httpx

from cloud_client.emulator import EmulatorServer
from cloud_client.emulator.state import Device

from .world import ALICE, BOB, PRODUCT, PRODUCT_CLIENT, PRODUCT_SECRET


def owner_of(server: EmulatorServer, device_id: str) -> str | None:
    return next(d["owner"] for d in server.snapshot()["devices"] if d["id"] == device_id)  # type: ignore[no-any-return]


def test_claim_sets_the_owner_and_replies_json(server: EmulatorServer, api: httpx.Client, borons: list[Device]) -> None:
    reply = api.post("/v1/devices", json={"id": borons[0].id, "request_transfer": False})
    assert reply.status_code == 200
    assert reply.json()["ok"] is True
    assert owner_of(server, borons[0].id) == ALICE


def test_claim_by_form_works(server: EmulatorServer, api: httpx.Client, borons: list[Device]) -> None:
    assert api.post("/v1/devices", data={"id": borons[0].id}).status_code == 200


def test_claiming_again_by_the_same_account_succeeds(api: httpx.Client, borons: list[Device]) -> None:
    api.post("/v1/devices", json={"id": borons[0].id})
    assert api.post("/v1/devices", json={"id": borons[0].id}).status_code == 200


def test_claim_of_someone_elses_device_is_403_belongs_to_someone_else(
    api: httpx.Client, bob: httpx.Client, borons: list[Device]
) -> None:
    bob.post("/v1/devices", json={"id": borons[0].id})
    reply = api.post("/v1/devices", json={"id": borons[0].id, "request_transfer": False})
    assert reply.status_code == 403
    assert reply.json() == {"ok": False, "errors": ["That belongs to someone else."]}


def test_request_transfer_is_200_and_leaves_the_owner(
    server: EmulatorServer, api: httpx.Client, bob: httpx.Client, borons: list[Device]
) -> None:
    bob.post("/v1/devices", json={"id": borons[0].id})
    reply = api.post("/v1/devices", json={"id": borons[0].id, "request_transfer": True})
    assert reply.status_code == 200
    assert owner_of(server, borons[0].id) == BOB


def test_claim_of_unknown_device_is_404_device_not_found(api: httpx.Client) -> None:
    reply = api.post("/v1/devices", json={"id": "0123456789abcdef01234567"})
    assert reply.status_code == 404
    assert reply.json()["error"] == "device not found"


def test_unclaim_releases_the_device(server: EmulatorServer, api: httpx.Client, borons: list[Device]) -> None:
    api.post("/v1/devices", json={"id": borons[0].id})
    assert api.delete(f"/v1/devices/{borons[0].id}").json() == {"ok": True}
    assert owner_of(server, borons[0].id) is None


def test_unclaim_of_someone_elses_device_is_403_permission_denied(
    api: httpx.Client, bob: httpx.Client, borons: list[Device]
) -> None:
    bob.post("/v1/devices", json={"id": borons[0].id})
    reply = api.delete(f"/v1/devices/{borons[0].id}")
    assert reply.status_code == 403
    assert reply.json()["error"] == "Permission Denied"
    assert "didn't recognize" in reply.json()["info"]


def test_user_device_list_is_a_bare_array_of_own_devices(api: httpx.Client, borons: list[Device]) -> None:
    api.post("/v1/devices", json={"id": borons[0].id})
    body = api.get("/v1/devices").json()
    assert [d["id"] for d in body] == [borons[0].id]
    assert body[0]["product_id"] == 13  # a developer device's product_id is its platform id


def test_user_claim_code_is_at_most_63_characters(api: httpx.Client, borons: list[Device]) -> None:
    api.post("/v1/devices", json={"id": borons[0].id})
    body = api.post("/v1/device_claims", json={}).json()
    assert 0 < len(body["claim_code"]) <= 63
    assert body["device_ids"] == [borons[0].id]


def _customer_token(anon: httpx.Client, email: str) -> str:
    reply = anon.post(
        f"/v1/products/{PRODUCT}/customers",
        data={"email": email, "no_password": "true"},
        auth=(PRODUCT_CLIENT, PRODUCT_SECRET),
    )
    assert reply.status_code == 200, reply.text
    return reply.json()["access_token"]  # type: ignore[no-any-return]


def test_customer_creation_returns_a_token_shape(anon: httpx.Client) -> None:
    reply = anon.post(
        f"/v1/products/{PRODUCT}/customers",
        data={"email": "c@example.com", "password": "pw"},
        auth=(PRODUCT_CLIENT, PRODUCT_SECRET),
    )
    body = reply.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 7776000


def test_customer_creation_with_wrong_client_secret_is_invalid_client(anon: httpx.Client) -> None:
    reply = anon.post(
        f"/v1/products/{PRODUCT}/customers",
        data={"email": "c@example.com", "password": "pw"},
        auth=(PRODUCT_CLIENT, "x"),
    )
    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid_client"


def test_product_claim_code_with_customer_token_succeeds(anon: httpx.Client) -> None:
    token = _customer_token(anon, "c@example.com")
    reply = anon.post(f"/v1/products/{PRODUCT}/device_claims", json={}, headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 200
    assert len(reply.json()["claim_code"]) <= 63


def test_product_claim_code_with_a_user_token_is_refused(api: httpx.Client) -> None:
    reply = api.post(f"/v1/products/{PRODUCT}/device_claims", json={})
    assert reply.status_code == 400
    assert "customer" in reply.json()["error_description"]


def test_customer_scoped_client_credentials_token(anon: httpx.Client) -> None:
    _customer_token(anon, "c@example.com")
    form = {"grant_type": "client_credentials", "scope": "customer=c@example.com"}
    reply = anon.post("/oauth/token", data=form, auth=(PRODUCT_CLIENT, PRODUCT_SECRET))
    assert reply.status_code == 200
    assert reply.json()["scope"] == "customer=c@example.com"


def test_customer_list_names_customers(api: httpx.Client, anon: httpx.Client) -> None:
    _customer_token(anon, "c@example.com")
    customers = api.get(f"/v1/products/{PRODUCT}/customers").json()["customers"]
    assert [c["username"] for c in customers] == ["c@example.com"]


def test_deleting_a_customer_revokes_its_tokens(api: httpx.Client, anon: httpx.Client) -> None:
    token = _customer_token(anon, "c@example.com")
    assert api.delete(f"/v1/products/{PRODUCT}/customers/c@example.com").json() == {"ok": True}
    assert anon.get("/v1/user", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_serial_lookup_returns_ids_platform_and_iccid(api: httpx.Client, borons: list[Device]) -> None:
    body = api.get(f"/v1/serial_numbers/{borons[0].serial_number}").json()
    assert body["device_id"] == borons[0].id
    assert body["platform_id"] == 13
    assert body["iccid"] == borons[0].iccid
    assert "mobile_secret" not in body


def test_serial_lookup_with_matching_partial_secret_adds_it(api: httpx.Client, borons: list[Device]) -> None:
    secret = borons[0].mobile_secret or ""
    body = api.get(f"/v1/serial_numbers/{borons[0].serial_number}", params={"mobile_secret": secret[:6]}).json()
    assert body["mobile_secret"] == secret


def test_serial_lookup_of_wifi_device_has_no_iccid(server: EmulatorServer, api: httpx.Client) -> None:
    p2 = server.add_factory_devices(1, platforms=("p2",))[0]
    assert "iccid" not in api.get(f"/v1/serial_numbers/{p2.serial_number}").json()


def test_unknown_serial_is_404(api: httpx.Client) -> None:
    assert api.get("/v1/serial_numbers/P046AA4010ABCDE").status_code == 404


def test_serial_lookup_allows_50_per_hour_per_account(
    server: EmulatorServer, api: httpx.Client, bob: httpx.Client, borons: list[Device]
) -> None:
    url = f"/v1/serial_numbers/{borons[0].serial_number}"
    assert all(api.get(url).status_code == 200 for _ in range(50))
    refused = api.get(url)
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limit_exceeded"
    assert bob.get(url).status_code == 200  # another account has its own budget
    server.advance_time(3601)
    assert api.get(url).status_code == 200
