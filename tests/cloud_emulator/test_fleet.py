"""Device groups and product firmware (docs.particle.io Cloud API, device group and product firmware endpoints)."""

from __future__ import annotations

import httpx

from cloud_client.emulator import EmulatorServer
from cloud_client.emulator.state import Device

from .world import PRODUCT

BINARY = bytes(range(256)) * 8


def upload(api: httpx.Client, version: int) -> httpx.Response:
    files = {"file": ("firmware.bin", BINARY, "application/octet-stream")}
    data = {"version": str(version), "title": f"v{version}", "description": "undefined"}
    return api.post(f"/v1/products/{PRODUCT}/firmware", files=files, data=data)


def test_create_group_is_201_with_the_group(api: httpx.Client) -> None:
    reply = api.post(f"/v1/products/{PRODUCT}/groups", json={"name": "line-a", "description": "Line A"})
    assert reply.status_code == 201
    assert reply.json()["group"]["name"] == "line-a"


def test_group_name_with_capitals_is_400(api: httpx.Client) -> None:
    assert api.post(f"/v1/products/{PRODUCT}/groups", json={"name": "Line A"}).status_code == 400


def test_get_group_counts_its_devices(api: httpx.Client, borons: list[Device]) -> None:
    api.post(f"/v1/products/{PRODUCT}/devices", json={"id": borons[0].id})
    api.put(f"/v1/products/{PRODUCT}/devices/{borons[0].id}", json={"groups": ["line-a"]})
    assert api.get(f"/v1/products/{PRODUCT}/groups/line-a").json()["group"]["device_count"] == 1


def test_list_groups_filters_by_partial_name(api: httpx.Client) -> None:
    for name in ("line-a", "line-b", "lab"):
        api.post(f"/v1/products/{PRODUCT}/groups", json={"name": name})
    names = [g["name"] for g in api.get(f"/v1/products/{PRODUCT}/groups", params={"name": "line"}).json()["groups"]]
    assert names == ["line-a", "line-b"]


def test_renaming_a_group_moves_its_devices(api: httpx.Client, borons: list[Device]) -> None:
    api.post(f"/v1/products/{PRODUCT}/devices", json={"id": borons[0].id})
    api.put(f"/v1/products/{PRODUCT}/devices/{borons[0].id}", json={"groups": ["old"]})
    assert api.put(f"/v1/products/{PRODUCT}/groups/old", json={"name": "new"}).status_code == 200
    assert api.get(f"/v1/products/{PRODUCT}/devices/{borons[0].id}").json()["groups"] == ["new"]


def test_deleting_a_group_is_204_and_its_devices_leave_it(api: httpx.Client, borons: list[Device]) -> None:
    api.post(f"/v1/products/{PRODUCT}/devices", json={"id": borons[0].id})
    api.put(f"/v1/products/{PRODUCT}/devices/{borons[0].id}", json={"groups": ["gone"]})
    reply = api.delete(f"/v1/products/{PRODUCT}/groups/gone")
    assert reply.status_code == 204 and reply.content == b""
    assert api.get(f"/v1/products/{PRODUCT}/devices/{borons[0].id}").json()["groups"] == []


def test_firmware_upload_is_201_and_listed_as_a_bare_array(api: httpx.Client) -> None:
    reply = upload(api, 1)
    assert reply.status_code == 201
    assert reply.json()["size"] == len(BINARY)
    listed = api.get(f"/v1/products/{PRODUCT}/firmware").json()
    assert isinstance(listed, list)
    assert [f["version"] for f in listed] == [1]


def test_duplicate_firmware_version_is_400(api: httpx.Client) -> None:
    upload(api, 1)
    assert upload(api, 1).status_code == 400


def test_firmware_binary_download_returns_the_bytes(api: httpx.Client) -> None:
    upload(api, 2)
    assert api.get(f"/v1/products/{PRODUCT}/firmware/2/binary").content == BINARY


def test_release_needs_the_firmware_to_have_run_on_a_product_device(
    server: EmulatorServer, api: httpx.Client, borons: list[Device]
) -> None:
    upload(api, 2)
    assert api.put(f"/v1/products/{PRODUCT}/firmware/release", json={"version": 2}).status_code == 400
    api.post(f"/v1/products/{PRODUCT}/devices", json={"id": borons[0].id})
    server.device_connects(borons[0].id, PRODUCT, firmware_version=2, system_version="6.2.0")
    reply = api.put(f"/v1/products/{PRODUCT}/firmware/release", json={"version": 2})
    assert reply.status_code == 200
    assert reply.json()["product_default"] is True


def test_released_default_becomes_the_devices_target(
    server: EmulatorServer, api: httpx.Client, borons: list[Device]
) -> None:
    server.add_firmware(PRODUCT, 4, released=True)
    api.post(f"/v1/products/{PRODUCT}/devices", json={"id": borons[0].id})
    body = api.get(f"/v1/products/{PRODUCT}/devices/{borons[0].id}").json()
    assert body["targeted_firmware_release_version"] == 4


def test_released_firmware_cannot_be_deleted_but_unreleased_can(server: EmulatorServer, api: httpx.Client) -> None:
    server.add_firmware(PRODUCT, 1, released=True)
    upload(api, 2)
    assert api.delete(f"/v1/products/{PRODUCT}/firmware/1").status_code == 400
    reply = api.delete(f"/v1/products/{PRODUCT}/firmware/2")
    assert reply.status_code == 204 and reply.content == b""


def test_edit_firmware_title(api: httpx.Client) -> None:
    upload(api, 1)
    assert api.put(f"/v1/products/{PRODUCT}/firmware/1", json={"title": "Better"}).json()["title"] == "Better"
