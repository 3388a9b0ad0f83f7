"""POST /v1/products/:p/devices: request forms, identifier kinds and the five reply lists.

Facts: docs.particle.io Cloud API, 'Import devices into product'; particle-cli 3.43.1 src/cmd/product.js and
src/cmd/setup-tachyon.js.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from cloud_client.emulator import EmulatorServer
from cloud_client.emulator.state import Device

from .world import ALICE, BOB, BOB_PRODUCT, P2_PRODUCT, PRODUCT, id_file

EMPTY_REPORT = {
    "updated": 0,
    "updatedDeviceIds": [],
    "existingDeviceIds": [],
    "nonmemberDeviceIds": [],
    "invalidDeviceIds": [],
}


def product_of(server: EmulatorServer, device_id: str) -> int | None:
    device = next(d for d in server.snapshot()["devices"] if d["id"] == device_id)
    return device["product_id"]  # type: ignore[no-any-return]


def test_json_id_imports_one_device(server: EmulatorServer, api: httpx.Client, borons: list[Device]) -> None:
    reply = api.post(f"/v1/products/{PRODUCT}/devices", json={"id": borons[0].id})
    assert reply.status_code == 200
    assert reply.json() == {**EMPTY_REPORT, "updated": 1, "updatedDeviceIds": [borons[0].id]}
    assert product_of(server, borons[0].id) == PRODUCT


def test_json_ids_imports_many(api: httpx.Client, borons: list[Device]) -> None:
    reply = api.post(f"/v1/products/{PRODUCT}/devices", json={"ids": [borons[0].id, borons[1].id]})
    assert reply.json()["updated"] == 2


def test_form_id_imports(api: httpx.Client, borons: list[Device]) -> None:
    reply = api.post(f"/v1/products/{PRODUCT}/devices", data={"id": borons[0].id})
    assert reply.json()["updatedDeviceIds"] == [borons[0].id]


def test_multipart_file_sorts_each_line_into_one_list(api: httpx.Client, borons: list[Device]) -> None:
    api.post(f"/v1/products/{PRODUCT}/devices", json={"id": borons[1].id})
    reply = api.post(f"/v1/products/{PRODUCT}/devices", files=id_file("WAT", borons[0].id, borons[1].id, "NOPE"))
    body = reply.json()
    assert body["updatedDeviceIds"] == [borons[0].id]
    assert body["existingDeviceIds"] == [borons[1].id]
    assert body["invalidDeviceIds"] == ["WAT", "NOPE"]
    assert body["nonmemberDeviceIds"] == []


def test_file_of_any_name_and_type_is_accepted(api: httpx.Client, borons: list[Device]) -> None:
    files = {"file": ("tray.csv", f"{borons[0].id}\r\n\r\n".encode(), "text/csv")}
    assert api.post(f"/v1/products/{PRODUCT}/devices", files=files).json()["updated"] == 1


def test_ids_compare_case_insensitively(api: httpx.Client, borons: list[Device]) -> None:
    reply = api.post(f"/v1/products/{PRODUCT}/devices", files=id_file(borons[0].id.upper()))
    assert reply.json()["updatedDeviceIds"] == [borons[0].id]


def test_serial_imei_and_iccid_lines_name_devices(api: httpx.Client, borons: list[Device]) -> None:
    lines = (borons[0].serial_number or "", borons[1].imei or "", borons[2].iccid or "")
    reply = api.post(f"/v1/products/{PRODUCT}/devices", files=id_file(*lines))
    assert sorted(reply.json()["updatedDeviceIds"]) == sorted(d.id for d in borons[:3])


def test_unknown_well_formed_id_is_invalid_and_still_200(api: httpx.Client) -> None:
    reply = api.post(f"/v1/products/{PRODUCT}/devices", json={"id": "000000000000000000000001"})
    assert reply.status_code == 200
    assert reply.json() == {**EMPTY_REPORT, "invalidDeviceIds": ["000000000000000000000001"]}


def test_device_in_another_product_is_invalid(bob: httpx.Client, api: httpx.Client, borons: list[Device]) -> None:
    bob.post(f"/v1/products/{BOB_PRODUCT}/devices", json={"id": borons[0].id})
    reply = api.post(f"/v1/products/{PRODUCT}/devices", json={"id": borons[0].id})
    assert reply.json()["invalidDeviceIds"] == [borons[0].id]


def test_device_of_another_platform_is_invalid(api: httpx.Client, borons: list[Device]) -> None:
    reply = api.post(f"/v1/products/{P2_PRODUCT}/devices", json={"id": borons[0].id})
    assert reply.json()["invalidDeviceIds"] == [borons[0].id]


def test_device_owned_by_a_non_member_is_nonmember(server: EmulatorServer, api: httpx.Client) -> None:
    server.add_device("e00fce68aaaaaaaaaaaaaaaa", "boron", owner=BOB)
    reply = api.post(f"/v1/products/{PRODUCT}/devices", json={"id": "e00fce68aaaaaaaaaaaaaaaa"})
    assert reply.json()["nonmemberDeviceIds"] == ["e00fce68aaaaaaaaaaaaaaaa"]


def test_device_owned_by_the_product_owner_is_imported(server: EmulatorServer, api: httpx.Client) -> None:
    server.add_device("e00fce68bbbbbbbbbbbbbbbb", "boron", owner=ALICE)
    reply = api.post(f"/v1/products/{PRODUCT}/devices", json={"id": "e00fce68bbbbbbbbbbbbbbbb"})
    assert reply.json()["updated"] == 1


def test_a_device_named_twice_is_reported_once(api: httpx.Client, borons: list[Device]) -> None:
    reply = api.post(f"/v1/products/{PRODUCT}/devices", files=id_file(borons[0].id, borons[0].serial_number or ""))
    assert reply.json()["updatedDeviceIds"] == [borons[0].id]
    assert reply.json()["existingDeviceIds"] == []


def test_claim_user_claims_imported_devices(server: EmulatorServer, api: httpx.Client, borons: list[Device]) -> None:
    api.post(f"/v1/products/{PRODUCT}/devices?claim_user={ALICE}", files=id_file(borons[0].id))
    owner = next(d["owner"] for d in server.snapshot()["devices"] if d["id"] == borons[0].id)
    assert owner == ALICE


def test_unknown_claim_user_refuses_the_whole_import(
    server: EmulatorServer, api: httpx.Client, borons: list[Device]
) -> None:
    reply = api.post(f"/v1/products/{PRODUCT}/devices", json={"id": borons[0].id, "claim_user": "ghost@x.com"})
    assert reply.status_code == 400
    assert product_of(server, borons[0].id) is None


def test_import_sims_activates_the_devices_sim(server: EmulatorServer, api: httpx.Client, borons: list[Device]) -> None:
    api.post(f"/v1/products/{PRODUCT}/devices", files=id_file(borons[0].id), data={"import_sims": "true"})
    sim = next(s for s in server.snapshot()["sims"] if s["iccid"] == borons[0].iccid)
    assert sim["product_id"] == PRODUCT
    assert sim["pending_action"] == "activate"


def test_unknown_product_is_404(api: httpx.Client, borons: list[Device]) -> None:
    assert api.post("/v1/products/99999/devices", json={"id": borons[0].id}).status_code == 404


def test_product_slug_works_in_the_path(api: httpx.Client, borons: list[Device]) -> None:
    slug = api.get(f"/v1/products/{PRODUCT}").json()["product"]["slug"]
    assert api.post(f"/v1/products/{slug}/devices", json={"id": borons[0].id}).json()["updated"] == 1


def test_no_identifiers_is_400(api: httpx.Client) -> None:
    assert api.post(f"/v1/products/{PRODUCT}/devices", json={}).status_code == 400


def test_import_approves_a_quarantined_device(server: EmulatorServer, api: httpx.Client, borons: list[Device]) -> None:
    server.device_connects(borons[0].id, PRODUCT, firmware_version=3, system_version="6.2.0")
    listed = api.get(f"/v1/products/{PRODUCT}/devices", params={"quarantined": "true"}).json()["devices"]
    assert [d["id"] for d in listed] == [borons[0].id]
    reply = api.post(f"/v1/products/{PRODUCT}/devices", json={"id": borons[0].id})
    assert reply.json()["updatedDeviceIds"] == [borons[0].id]
    assert api.get(f"/v1/products/{PRODUCT}/devices/{borons[0].id}").json()["quarantined"] is False


def test_concurrent_imports_of_the_same_devices_add_each_exactly_once(
    server: EmulatorServer, api: httpx.Client
) -> None:
    devices = server.add_factory_devices(10, platforms=("boron",))
    ids = [d.id for d in devices]

    def import_all(_: int) -> list[str]:
        reply = api.post(f"/v1/products/{PRODUCT}/devices", json={"ids": ids})
        return reply.json()["updatedDeviceIds"]  # type: ignore[no-any-return]

    with ThreadPoolExecutor(max_workers=8) as pool:
        updated = [device_id for batch in pool.map(import_all, range(8)) for device_id in batch]
    assert sorted(updated) == sorted(ids)


def test_importing_a_boron_imports_and_activates_its_sim(
    server: EmulatorServer, api: httpx.Client, borons: list[Device]
) -> None:
    # docs.particle.io Cloud API, 'Import devices into product': the device's Particle SIM is imported and activated.
    api.post(f"/v1/products/{PRODUCT}/devices", json={"id": borons[0].id})
    sim = next(s for s in server.snapshot()["sims"] if s["iccid"] == borons[0].iccid)
    assert sim["product_id"] == PRODUCT
    assert sim["pending_action"] == "activate"
    server.advance_time(31)
    assert server.sim_status(borons[0].iccid or "") == "active"


def test_importing_an_electron_leaves_its_sim_alone(server: EmulatorServer, api: httpx.Client) -> None:
    # Particle's manufacturing guide excepts the 2G/3G Electrons; the emulator excepts the Electron platform.
    server.add_product(4321, "electron", owner=ALICE, name="Tracker")
    electron = server.add_factory_devices(1, platforms=("electron",))[0]
    assert electron.iccid
    api.post("/v1/products/4321/devices", json={"id": electron.id})
    sim = next(s for s in server.snapshot()["sims"] if s["iccid"] == electron.iccid)
    assert sim["product_id"] is None
