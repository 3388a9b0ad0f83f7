"""The emulator's Device Protection on the wire: unprotect replies, the product's device_protection, the import's
protectedDeviceIds, the refused cloud flash, the admin routes, faults and persistence."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric import ec

from cloud_client.emulator import EmulatorServer
from cloud_client.emulator import protection_keys as keys
from cloud_client.emulator.state import Device

from .world import ALICE, PRODUCT, id_file


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _in_product(server: EmulatorServer, device: Device) -> str:
    server.set_product_device_protection(PRODUCT, "active")
    server.set_device_protection(device.id, True)
    with server.cloud.state.lock:
        server.cloud.state.devices[device.id].product_id = PRODUCT
    return device.id


def _confirm_body(device_id: str, server_nonce: bytes, key: ec.EllipticCurvePrivateKey | None = None) -> dict[str, str]:
    key = key or keys.simulated_device_key(device_id)
    device_nonce = secrets.token_bytes(32)
    signature = keys.sign_digest(key, keys.device_hash(device_id, device_nonce, server_nonce))
    return {"action": "confirm", "server_nonce": _b64(server_nonce), "device_nonce": _b64(device_nonce),
            "device_signature": _b64(signature),
            "device_public_key_fingerprint": _b64(keys.fingerprint(key.public_key()))}


def test_prepare_answers_a_base64_server_nonce(server: EmulatorServer, api: httpx.Client, borons: list[Device]) -> None:
    device_id = _in_product(server, borons[0])
    response = api.put(f"/v1/devices/{device_id}/unprotect", json={"action": "prepare"})
    assert response.status_code == 200
    assert len(base64.b64decode(response.json()["server_nonce"])) == 32


def test_confirm_answers_the_server_signature_and_fingerprint(server: EmulatorServer, api: httpx.Client,
                                                              borons: list[Device]) -> None:
    device_id = _in_product(server, borons[0])
    nonce = base64.b64decode(api.put(f"/v1/devices/{device_id}/unprotect", json={"action": "prepare"})
                             .json()["server_nonce"])
    body = _confirm_body(device_id, nonce)
    response = api.put(f"/v1/devices/{device_id}/unprotect", json=body)
    assert response.status_code == 200
    reply = response.json()
    server_key = keys.simulated_server_key().public_key()
    assert base64.b64decode(reply["server_public_key_fingerprint"]) == keys.fingerprint(server_key)
    digest = keys.server_hash(device_id, nonce, base64.b64decode(body["device_nonce"]),
                              base64.b64decode(body["device_public_key_fingerprint"]))
    assert keys.verifies(server_key, base64.b64decode(reply["server_signature"]), digest)


def test_an_unknown_device_key_is_refused_with_particles_text(server: EmulatorServer, api: httpx.Client,
                                                               borons: list[Device]) -> None:
    device_id = _in_product(server, borons[0])
    nonce = base64.b64decode(api.put(f"/v1/devices/{device_id}/unprotect", json={"action": "prepare"})
                             .json()["server_nonce"])
    body = _confirm_body(device_id, nonce, key=ec.generate_private_key(ec.SECP256R1()))
    response = api.put(f"/v1/devices/{device_id}/unprotect", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "Device public key was not found"


def test_an_unknown_action_is_a_bad_request(server: EmulatorServer, api: httpx.Client, borons: list[Device]) -> None:
    device_id = _in_product(server, borons[0])
    assert api.put(f"/v1/devices/{device_id}/unprotect", json={"action": "wat"}).status_code == 400


def test_someone_elses_device_cannot_be_unprotected(server: EmulatorServer, bob: httpx.Client,
                                                    borons: list[Device]) -> None:
    device_id = _in_product(server, borons[0])
    assert bob.put(f"/v1/devices/{device_id}/unprotect", json={"action": "prepare"}).status_code == 403


def test_injected_faults_hit_the_unprotect_route(server: EmulatorServer, api: httpx.Client,
                                                 borons: list[Device]) -> None:
    device_id = _in_product(server, borons[0])
    server.set_faults(error_rate=1.0)
    assert api.put(f"/v1/devices/{device_id}/unprotect", json={"action": "prepare"}).status_code == 503


def test_product_json_carries_device_protection(server: EmulatorServer, api: httpx.Client) -> None:
    assert api.get(f"/v1/products/{PRODUCT}").json()["product"]["device_protection"] == ""
    admin = api.post(f"/admin/products/{PRODUCT}/protection", json={"device_protection": "active"})
    assert admin.status_code == 200
    assert api.get(f"/v1/products/{PRODUCT}").json()["product"]["device_protection"] == "active"
    assert api.post(f"/admin/products/{PRODUCT}/protection", json={"device_protection": "on"}).status_code == 400


def test_import_answers_protected_devices_in_protected_device_ids(server: EmulatorServer, api: httpx.Client,
                                                                  borons: list[Device]) -> None:
    assert api.post(f"/admin/devices/{borons[0].id}/protection", json={"protected": True}).status_code == 200
    reply = api.post(f"/v1/products/{PRODUCT}/devices", files=id_file(borons[0].id, borons[1].id)).json()
    assert reply["protectedDeviceIds"] == [borons[0].id]
    assert reply["updatedDeviceIds"] == [borons[1].id]


def test_import_without_protected_devices_has_no_protected_key(server: EmulatorServer, api: httpx.Client,
                                                               borons: list[Device]) -> None:
    reply = api.post(f"/v1/products/{PRODUCT}/devices", files=id_file(borons[0].id)).json()
    assert "protectedDeviceIds" not in reply


def test_cloud_flash_of_a_protected_device_is_refused(server: EmulatorServer, api: httpx.Client,
                                                     borons: list[Device]) -> None:
    device_id = borons[0].id
    with server.cloud.state.lock:
        server.cloud.state.devices[device_id].owner = ALICE
    server.set_device_protection(device_id, True)
    files = {"file": ("app.bin", b"\0" * 64, "application/octet-stream")}
    response = api.put(f"/v1/devices/{device_id}", files=files)
    assert response.status_code == 403
    assert response.json()["error"] == "Update denied - device protection active"


def test_development_flag_is_an_update_field_of_product_devices(server: EmulatorServer, api: httpx.Client,
                                                                borons: list[Device]) -> None:
    device_id = _in_product(server, borons[0])
    reply = api.put(f"/v1/products/{PRODUCT}/devices/{device_id}", json={"development": True}).json()
    assert reply["development"] is True
    assert api.get(f"/v1/products/{PRODUCT}/devices/{device_id}").json()["development"] is True


def test_admin_registers_another_public_key_and_refuses_junk(server: EmulatorServer, api: httpx.Client,
                                                             borons: list[Device]) -> None:
    other = keys.public_key_pem(ec.generate_private_key(ec.SECP256R1()).public_key())
    route = f"/admin/devices/{borons[0].id}/protection"
    assert api.post(route, json={"public_key_pem": other}).json()["public_key_pem"] == other
    assert api.post(route, json={"public_key_pem": "junk"}).status_code == 400
    assert api.post("/admin/devices/000000000000000000000000/protection", json={}).status_code == 404


def test_protection_survives_a_restart_with_a_state_file(tmp_path: Path) -> None:
    state = tmp_path / "cloud.json"
    first = EmulatorServer(state_file=state)
    first.add_user(ALICE, "pw")
    first.add_product(PRODUCT, "boron", ALICE, device_protection="active")
    first.add_device("e00fce68000000000000abcd", "boron", protected=True)
    first.stop()
    again = EmulatorServer(state_file=state).snapshot()
    assert again["products"][0]["device_protection"] == "active"
    assert again["devices"][0]["protected"] is True


def test_command_line_seeds_protection_products_and_protected_devices() -> None:
    from cloud_client.emulator.__main__ import build_parser, seed
    from cloud_client.emulator.cloud import EmulatedCloud
    from cloud_client.emulator.factory import DeviceFactory
    from cloud_client.emulator.seeding import Seeder
    from cloud_client.emulator.state import CloudState

    args = build_parser().parse_args([
        "--user", "a@example.com:pw", "--product", "777:boron", "--device", "e00fce68000000000000abcd:boron",
        "--protection-product", "777", "--protected-device", "e00fce68000000000000abcd",
    ])
    cloud = EmulatedCloud(CloudState())
    seed(Seeder(cloud, DeviceFactory(0)), args)
    assert cloud.state.products[777].device_protection == "active"
    assert cloud.state.devices["e00fce68000000000000abcd"].protected is True
