"""The simulated world's key rule exists twice, in the device simulator (hardware/simulated/device_keys.py) and in the
cloud emulator (cloud_client/emulator/protection_keys.py), since hardware and cloud_client never import each other:
both copies must give the same keys, fingerprints and hashes, and accept each other's signatures."""

from __future__ import annotations

import secrets

import pytest

from cloud_client.emulator import protection_keys as cloud
from hardware.simulated import device_keys as device

DEVICE_IDS = ["e00fce68e47348ba4879183d", "0A10ACED202194944A0B1C2D", "000000000000000000000001"]


@pytest.mark.parametrize("device_id", DEVICE_IDS)
def test_both_copies_derive_the_same_device_key(device_id: str) -> None:
    assert (cloud.simulated_device_key(device_id).private_numbers().private_value
            == device.device_private_key(device_id).private_numbers().private_value)


def test_both_copies_derive_the_same_server_key_and_fingerprint() -> None:
    assert cloud.fingerprint(cloud.simulated_server_key().public_key()) == device.fingerprint(
        device.server_public_key())


@pytest.mark.parametrize("device_id", [d.lower() for d in DEVICE_IDS])
def test_both_copies_hash_alike_and_verify_each_others_signatures(device_id: str) -> None:
    server_nonce, device_nonce = secrets.token_bytes(32), secrets.token_bytes(32)
    key = device.device_private_key(device_id)
    print_ = device.fingerprint(key.public_key())
    assert cloud.device_hash(device_id, device_nonce, server_nonce) == device.device_hash(
        device_id, device_nonce, server_nonce)
    assert cloud.server_hash(device_id, server_nonce, device_nonce, print_) == device.server_hash(
        device_id, server_nonce, device_nonce, print_)
    digest = device.device_hash(device_id, device_nonce, server_nonce)
    assert cloud.verifies(key.public_key(), device.sign(key, digest), digest)
    server_digest = cloud.server_hash(device_id, server_nonce, device_nonce, print_)
    signature = cloud.sign_digest(cloud.simulated_server_key(), server_digest)
    assert device.verify(device.server_public_key(), signature, server_digest)
