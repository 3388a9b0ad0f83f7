"""Device Protection calls against the emulator over sockets: the unprotect handshake's cloud half, the product's
``device_protection``, ``protectedDeviceIds`` on import, and the refused cloud flash."""

from __future__ import annotations

import hashlib
import secrets
import struct

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from cloud_client.client import ParticleCloud
from cloud_client.credentials import Credentials
from cloud_client.emulator import protection_keys as world_keys
from cloud_client.errors import DeviceProtectedError, InvalidInputError, NotFoundError
from cloud_client.models import ImportOutcome

from .conftest import OPERATOR, OPERATOR_TOKEN, PRODUCT_ID, SECRETS, World

PREHASHED = ec.ECDSA(utils.Prehashed(hashes.SHA256()))


def _lv(value: bytes) -> bytes:
    return struct.pack("<I", len(value)) + value


class SimulatedDeviceHalf:
    """The device's side of the handshake, written here from the reference (device-os config.cpp), not from the
    emulator: a device id's key by the simulated world's key rule, the device hash and its signature."""

    def __init__(self, device_id: str, key: ec.EllipticCurvePrivateKey | None = None) -> None:
        self.device_id = device_id
        self.key = key or world_keys.simulated_device_key(device_id)
        der = self.key.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
        self.fingerprint = hashlib.sha256(der).digest()

    def prepare(self, server_nonce: bytes) -> tuple[bytes, bytes]:
        device_nonce = secrets.token_bytes(32)
        digest = hashlib.sha256(b"device" + bytes.fromhex(self.device_id) + _lv(device_nonce) + _lv(server_nonce))
        return device_nonce, self.key.sign(digest.digest(), PREHASHED)

    def server_signature_valid(self, server_nonce: bytes, device_nonce: bytes, signature: bytes,
                               server_fingerprint: bytes) -> bool:
        server_key = world_keys.simulated_server_key().public_key()
        der = server_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        if hashlib.sha256(der).digest() != server_fingerprint:
            return False
        digest = hashlib.sha256(b"server" + bytes.fromhex(self.device_id) + _lv(server_nonce) + _lv(device_nonce)
                                + _lv(self.fingerprint)).digest()
        try:
            server_key.verify(signature, digest, PREHASHED)
        except Exception:
            return False
        return True


@pytest.fixture
def member(world: World, cloud: ParticleCloud) -> str:
    """A Protected Device in the operator's product (the product has Device Protection)."""
    world.server.set_product_device_protection(PRODUCT_ID, "active")
    device_id = world.device_ids[0]
    world.server.set_device_protection(device_id, True)
    assert cloud.import_device(PRODUCT_ID, device_id) is ImportOutcome.ADDED
    return device_id


def test_prepare_returns_a_fresh_32_byte_server_nonce(cloud: ParticleCloud, member: str) -> None:
    first = cloud.unprotect_prepare(member)
    second = cloud.unprotect_prepare(member)
    assert len(first) == len(second) == 32
    assert first != second


def test_confirm_answers_a_server_signature_the_device_accepts(cloud: ParticleCloud, member: str) -> None:
    device = SimulatedDeviceHalf(member)
    server_nonce = cloud.unprotect_prepare(member)
    device_nonce, signature = device.prepare(server_nonce)
    proof = cloud.unprotect_confirm(member, server_nonce, device_nonce, signature, device.fingerprint)
    assert len(proof.server_public_key_fingerprint) == 32
    assert device.server_signature_valid(server_nonce, device_nonce, *proof)


def test_product_and_org_forms_use_their_paths(world: World, cloud: ParticleCloud, member: str) -> None:
    device = SimulatedDeviceHalf(member)
    server_nonce = cloud.unprotect_prepare(member, product=PRODUCT_ID)
    device_nonce, signature = device.prepare(server_nonce)
    proof = cloud.unprotect_confirm(member, server_nonce, device_nonce, signature, device.fingerprint,
                                    product=PRODUCT_ID)
    assert device.server_signature_valid(server_nonce, device_nonce, *proof)
    assert len(cloud.unprotect_prepare(member, org="acme")) == 32
    paths = [path for _, path, _ in world.server.request_log if path.endswith("/unprotect")]
    assert paths == [f"/v1/products/{PRODUCT_ID}/devices/{member}/unprotect"] * 2 + [
        f"/v1/orgs/acme/devices/{member}/unprotect"]


def test_a_forged_device_signature_is_refused(cloud: ParticleCloud, member: str) -> None:
    forger = SimulatedDeviceHalf(member, key=ec.generate_private_key(ec.SECP256R1()))
    honest = SimulatedDeviceHalf(member)
    server_nonce = cloud.unprotect_prepare(member)
    device_nonce, signature = forger.prepare(server_nonce)
    with pytest.raises(InvalidInputError, match="Invalid device signature") as info:
        cloud.unprotect_confirm(member, server_nonce, device_nonce, signature, honest.fingerprint)
    assert info.value.status == 400


def test_a_fingerprint_of_an_unknown_key_is_device_public_key_not_found(cloud: ParticleCloud, member: str) -> None:
    forger = SimulatedDeviceHalf(member, key=ec.generate_private_key(ec.SECP256R1()))
    server_nonce = cloud.unprotect_prepare(member)
    device_nonce, signature = forger.prepare(server_nonce)
    with pytest.raises(NotFoundError) as info:
        cloud.unprotect_confirm(member, server_nonce, device_nonce, signature, forger.fingerprint)
    assert info.value.api_message == "Device public key was not found"


def test_a_device_key_registered_in_the_cloud_replaces_the_derived_one(world: World, cloud: ParticleCloud,
                                                                        member: str) -> None:
    device = SimulatedDeviceHalf(member, key=ec.generate_private_key(ec.SECP256R1()))
    pem = device.key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    world.server.set_device_protection(member, public_key_pem=pem)
    server_nonce = cloud.unprotect_prepare(member)
    device_nonce, signature = device.prepare(server_nonce)
    proof = cloud.unprotect_confirm(member, server_nonce, device_nonce, signature, device.fingerprint)
    assert device.server_signature_valid(server_nonce, device_nonce, *proof)


def test_a_stale_server_nonce_is_refused(cloud: ParticleCloud, member: str) -> None:
    device = SimulatedDeviceHalf(member)
    stale = cloud.unprotect_prepare(member)
    cloud.unprotect_prepare(member)
    device_nonce, signature = device.prepare(stale)
    with pytest.raises(InvalidInputError, match="Invalid server nonce"):
        cloud.unprotect_confirm(member, stale, device_nonce, signature, device.fingerprint)


def test_a_server_nonce_is_single_use(cloud: ParticleCloud, member: str) -> None:
    device = SimulatedDeviceHalf(member)
    server_nonce = cloud.unprotect_prepare(member)
    device_nonce, signature = device.prepare(server_nonce)
    cloud.unprotect_confirm(member, server_nonce, device_nonce, signature, device.fingerprint)
    with pytest.raises(InvalidInputError, match="Invalid server nonce"):
        cloud.unprotect_confirm(member, server_nonce, device_nonce, signature, device.fingerprint)


def test_confirm_refuses_wrong_sized_values_before_sending(world: World, cloud: ParticleCloud, member: str) -> None:
    world.server.clear_request_log()
    with pytest.raises(InvalidInputError, match="server nonce must be 32 bytes"):
        cloud.unprotect_confirm(member, b"short", bytes(32), b"sig", bytes(32))
    assert world.server.request_log == []


def test_prepare_retries_through_injected_faults(world: World, cloud: ParticleCloud, member: str) -> None:
    world.server.set_faults(burst_429=2)
    assert len(cloud.unprotect_prepare(member)) == 32
    statuses = [status for _, path, status in world.server.request_log if path.endswith("/unprotect")]
    assert statuses == [429, 429, 200]


def test_product_device_protection_is_read_from_the_product(world: World, cloud: ParticleCloud) -> None:
    assert cloud.get_product(PRODUCT_ID).device_protection == ""
    assert not cloud.get_product(PRODUCT_ID).protection_active
    world.server.set_product_device_protection(PRODUCT_ID, "active")
    assert cloud.get_product(PRODUCT_ID).protection_active


def test_protected_devices_imported_into_a_product_without_protection_are_reported_and_not_added(
    world: World, cloud: ParticleCloud
) -> None:
    protected, plain = world.device_ids[0], world.device_ids[1]
    world.server.set_device_protection(protected, True)
    result = cloud.import_devices(PRODUCT_ID, [protected, plain])
    assert result.protected == (protected,)
    assert result.outcome_of(protected) is ImportOutcome.PROTECTED
    assert result.added == (plain,)
    assert world.product_device_ids() == {plain}


def test_protected_devices_join_a_product_with_protection(world: World, cloud: ParticleCloud) -> None:
    world.server.set_product_device_protection(PRODUCT_ID, "active")
    world.server.set_device_protection(world.device_ids[0], True)
    assert cloud.import_device(PRODUCT_ID, world.device_ids[0]) is ImportOutcome.ADDED


def test_cloud_flash_of_a_protected_device_is_refused_with_particles_text(world: World) -> None:
    device_id = world.device_ids[2]
    world.server.set_device_protection(device_id, True)
    with world.server.cloud.state.lock:
        world.server.cloud.state.devices[device_id].owner = OPERATOR
    with world.client(Credentials.token(OPERATOR_TOKEN, source="test operator token")) as user_cloud:
        with pytest.raises(DeviceProtectedError) as info:
            user_cloud.flash_device(device_id, b"\0" * 64)
        assert info.value.api_message == "Update denied - device protection active"
        assert "Protected Device" in str(info.value)
        assert not any(secret in str(info.value) for secret in SECRETS)
        world.server.set_device_protection(device_id, False)
        user_cloud.flash_device(device_id, b"\0" * 64)
