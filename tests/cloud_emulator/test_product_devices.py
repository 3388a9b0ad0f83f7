"""Product device list, get, update, remove/deny and unclaim.

Facts: docs.particle.io Cloud API, product device endpoints; particle-cli 3.43.1 src/cmd/product.js and
test/e2e/product.e2e.js.
"""

from __future__ import annotations

import httpx
import pytest

from cloud_client.emulator import EmulatorServer
from cloud_client.emulator.state import Device

from .world import ALICE, PRODUCT


@pytest.fixture
def members(api: httpx.Client, borons: list[Device]) -> list[Device]:
    """The four Borons, imported into Alice's product."""
    api.post(f"/v1/products/{PRODUCT}/devices", json={"ids": [d.id for d in borons]})
    return borons


def test_list_is_wrapped_with_devices_customers_and_meta(api: httpx.Client, members: list[Device]) -> None:
    body = api.get(f"/v1/products/{PRODUCT}/devices", params={"page": 1}).json()
    assert set(body) == {"devices", "customers", "meta"}
    assert body["meta"]["total_pages"] == 1
    assert sorted(d["id"] for d in body["devices"]) == sorted(d.id for d in members)


def test_listed_device_has_the_keys_clients_read(api: httpx.Client, members: list[Device]) -> None:
    device = api.get(f"/v1/products/{PRODUCT}/devices").json()["devices"][0]
    assert {"id", "name", "product_id", "online", "platform_id", "serial_number", "groups"} <= set(device)
    assert device["product_id"] == PRODUCT


def test_per_page_pages_through_the_list(api: httpx.Client, members: list[Device]) -> None:
    seen: list[str] = []
    for page in (1, 2):
        body = api.get(f"/v1/products/{PRODUCT}/devices", params={"page": page, "per_page": 3}).json()
        assert body["meta"]["total_pages"] == 2
        seen += [d["id"] for d in body["devices"]]
    assert sorted(seen) == sorted(d.id for d in members)


def test_per_page_spelled_perpage_is_accepted(api: httpx.Client, members: list[Device]) -> None:
    body = api.get(f"/v1/products/{PRODUCT}/devices", params={"perPage": 1}).json()
    assert len(body["devices"]) == 1
    assert body["meta"]["total_pages"] == 4


def test_device_name_filter_matches_part_of_the_name(api: httpx.Client, members: list[Device]) -> None:
    api.put(f"/v1/products/{PRODUCT}/devices/{members[0].id}", json={"name": "unit-one"})
    body = api.get(f"/v1/products/{PRODUCT}/devices", params={"deviceName": "uni"}).json()
    assert [d["id"] for d in body["devices"]] == [members[0].id]


def test_serial_number_filter_finds_the_device(api: httpx.Client, members: list[Device]) -> None:
    serial = members[2].serial_number or ""
    body = api.get(f"/v1/products/{PRODUCT}/devices", params={"serialNumber": serial}).json()
    assert [d["id"] for d in body["devices"]] == [members[2].id]


def test_device_id_filter_matches_part_of_the_id(api: httpx.Client, members: list[Device]) -> None:
    body = api.get(f"/v1/products/{PRODUCT}/devices", params={"deviceId": members[1].id[-10:]}).json()
    assert [d["id"] for d in body["devices"]] == [members[1].id]


def test_groups_filter_takes_a_comma_list_matching_any(api: httpx.Client, members: list[Device]) -> None:
    api.put(f"/v1/products/{PRODUCT}/devices/{members[0].id}", json={"groups": ["a"]})
    api.put(f"/v1/products/{PRODUCT}/devices/{members[1].id}", json={"groups": ["b"]})
    body = api.get(f"/v1/products/{PRODUCT}/devices?groups=a%2Cb").json()
    assert sorted(d["id"] for d in body["devices"]) == sorted([members[0].id, members[1].id])


def test_sort_by_device_id_ascending(api: httpx.Client, members: list[Device]) -> None:
    body = api.get(f"/v1/products/{PRODUCT}/devices", params={"sortAttr": "deviceId", "sortDir": "asc"}).json()
    ids = [d["id"] for d in body["devices"]]
    assert ids == sorted(ids)


def test_get_one_has_connected_functions_and_variables(api: httpx.Client, members: list[Device]) -> None:
    body = api.get(f"/v1/products/{PRODUCT}/devices/{members[0].id}").json()
    assert body["id"] == members[0].id
    assert body["connected"] is False
    assert body["functions"] == [] and body["variables"] == {}
    assert body["iccid"] == members[0].iccid


def test_get_device_not_in_product_is_404_not_found(api: httpx.Client, borons: list[Device]) -> None:
    reply = api.get(f"/v1/products/{PRODUCT}/devices/{borons[0].id}")
    assert reply.status_code == 404
    assert "not found" in reply.json()["error"]


def test_update_returns_id_changed_keys_and_updated_at(api: httpx.Client, members: list[Device]) -> None:
    body = api.put(f"/v1/products/{PRODUCT}/devices/{members[0].id}", json={"development": True, "notes": "x"}).json()
    assert set(body) == {"id", "development", "notes", "updated_at"}
    assert body["development"] is True


def test_update_groups_replaces_them_and_creates_missing_groups(api: httpx.Client, members: list[Device]) -> None:
    api.put(f"/v1/products/{PRODUCT}/devices/{members[0].id}", json={"groups": ["old"]})
    body = api.put(f"/v1/products/{PRODUCT}/devices/{members[0].id}", json={"groups": ["europe", "asia"]}).json()
    assert body["groups"] == ["asia", "europe"]
    assert {"asia", "europe"} <= {g["name"] for g in api.get(f"/v1/products/{PRODUCT}/groups").json()["groups"]}


def test_form_groups_with_brackets_are_accepted(api: httpx.Client, members: list[Device]) -> None:
    body = api.put(f"/v1/products/{PRODUCT}/devices/{members[0].id}", data={"groups[]": ["a", "b"]}).json()
    assert body["groups"] == ["a", "b"]


def test_desired_firmware_version_locks_and_null_unlocks(
    server: EmulatorServer, api: httpx.Client, members: list[Device]
) -> None:
    server.add_firmware(PRODUCT, 3)
    url = f"/v1/products/{PRODUCT}/devices/{members[0].id}"
    assert api.put(url, json={"desired_firmware_version": 3}).json()["desired_firmware_version"] == 3
    assert api.put(url, json={"desired_firmware_version": None}).json()["desired_firmware_version"] is None
    api.put(url, json={"desired_firmware_version": 3})
    assert api.put(url, data={"desired_firmware_version": "null"}).json()["desired_firmware_version"] is None


def test_locking_to_a_version_the_product_lacks_is_400(api: httpx.Client, members: list[Device]) -> None:
    reply = api.put(f"/v1/products/{PRODUCT}/devices/{members[0].id}", json={"desired_firmware_version": 9})
    assert reply.status_code == 400


def test_remove_is_204_with_empty_body_and_accepts_a_json_body(
    server: EmulatorServer, api: httpx.Client, members: list[Device]
) -> None:
    reply = api.request("DELETE", f"/v1/products/{PRODUCT}/devices/{members[0].id}", json={})
    assert reply.status_code == 204
    assert reply.content == b""
    assert api.get(f"/v1/products/{PRODUCT}/devices/{members[0].id}").status_code == 404


def test_remove_device_not_in_product_is_400_device_not_found_for_this_product(
    api: httpx.Client, borons: list[Device]
) -> None:
    reply = api.delete(f"/v1/products/{PRODUCT}/devices/{borons[0].id}")
    assert reply.status_code == 400
    assert reply.json()["error"] == "Device not found for this product"


def test_remove_unclaims_a_customer_owned_device(
    server: EmulatorServer, api: httpx.Client, members: list[Device]
) -> None:
    server.add_customer(PRODUCT, "customer@example.com")
    api.post(f"/v1/products/{PRODUCT}/devices?claim_user=customer@example.com", json={"id": members[3].id})
    api.delete(f"/v1/products/{PRODUCT}/devices/{members[3].id}")
    device = next(d for d in server.snapshot()["devices"] if d["id"] == members[3].id)
    assert device["owner"] is None


def test_deny_removes_and_marks_the_device_denied(
    server: EmulatorServer, api: httpx.Client, members: list[Device]
) -> None:
    reply = api.request("DELETE", f"/v1/products/{PRODUCT}/devices/{members[0].id}", json={"deny": True})
    assert reply.status_code == 204
    product = next(p for p in server.snapshot()["products"] if p["id"] == PRODUCT)
    assert product["denied_ids"] == [members[0].id]


def test_unclaim_keeps_the_device_in_the_product(
    server: EmulatorServer, api: httpx.Client, members: list[Device]
) -> None:
    api.post("/v1/devices", json={"id": members[0].id})
    reply = api.delete(f"/v1/products/{PRODUCT}/devices/{members[0].id}/owner")
    assert reply.json() == {"ok": True}
    body = api.get(f"/v1/products/{PRODUCT}/devices/{members[0].id}").json()
    assert body["owner"] is None and body["product_id"] == PRODUCT


def test_product_info_is_wrapped(api: httpx.Client) -> None:
    body = api.get(f"/v1/products/{PRODUCT}").json()
    assert body["product"]["id"] == PRODUCT
    assert body["product"]["platform_id"] == 13
    assert body["product"]["user"] == ALICE


def test_product_list_shows_only_visible_products(api: httpx.Client) -> None:
    ids = {p["id"] for p in api.get("/v1/user/products").json()["products"]}
    assert ids == {PRODUCT, 23456}


def test_bulk_group_action_adds_groups_to_many_devices(api: httpx.Client, members: list[Device]) -> None:
    body = {"action": "groups", "devices": [members[0].id, members[1].id], "metadata": {"add": ["line-a"]}}
    assert api.put(f"/v1/products/{PRODUCT}/devices", json=body).json() == {"ok": True}
    listed = api.get(f"/v1/products/{PRODUCT}/devices", params={"groups": "line-a"}).json()["devices"]
    assert len(listed) == 2
