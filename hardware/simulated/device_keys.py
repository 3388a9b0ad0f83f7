"""The simulated world's key rule: every simulated device's P-256 key pair follows from its device id, and the
simulated cloud server has one fixed key pair, so a cloud emulator started separately knows each device's public key
as Particle's cloud knows a real device's. Also the handshake hashes and ECDSA signatures of Service Mode.

Hashes, fingerprints and signatures as Device OS computes them (device-os system/src/control/config.cpp,
setProtectedState): SHA-256 over ASCII "device"/"server", the 12 raw device-id bytes and LE-uint32 length-prefixed
fields; ECDSA-SHA256 DER signatures over that digest; a key's fingerprint is SHA-256 of its DER SubjectPublicKeyInfo.
The cloud emulator keeps its own copy of this rule (hardware and cloud_client never import each other).
"""

from __future__ import annotations

import hashlib
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

DEVICE_KEY_LABEL = b"particle-station simulated device key v1:"
SERVER_KEY_LABEL = b"particle-station simulated server key v1"
CURVE_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
"""n of P-256 (SEC 2, secp256r1)."""
DEVICE_HASH_TAG = b"device"
SERVER_HASH_TAG = b"server"


def _private_key(seed: bytes) -> ec.EllipticCurvePrivateKey:
    scalar = int.from_bytes(hashlib.sha256(seed).digest(), "big") % (CURVE_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def device_private_key(device_id: str) -> ec.EllipticCurvePrivateKey:
    """The key pair of the simulated device ``device_id`` (24 hex digits, any case)."""
    return _private_key(DEVICE_KEY_LABEL + device_id.lower().encode("ascii"))


def server_private_key() -> ec.EllipticCurvePrivateKey:
    """The simulated cloud server's key pair (the device holds only its public half)."""
    return _private_key(SERVER_KEY_LABEL)


def server_public_key() -> ec.EllipticCurvePublicKey:
    return server_private_key().public_key()


def fingerprint(key: ec.EllipticCurvePublicKey) -> bytes:
    """SHA-256 of the DER SubjectPublicKeyInfo."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).digest()


def _field(value: bytes) -> bytes:
    return struct.pack("<I", len(value)) + value


def device_hash(device_id: str, device_nonce: bytes, server_nonce: bytes) -> bytes:
    """What the device signs at PREPARE."""
    raw_id = bytes.fromhex(device_id)
    return hashlib.sha256(DEVICE_HASH_TAG + raw_id + _field(device_nonce) + _field(server_nonce)).digest()


def server_hash(device_id: str, server_nonce: bytes, device_nonce: bytes, device_key_fingerprint: bytes) -> bytes:
    """What the server signs for CONFIRM."""
    raw_id = bytes.fromhex(device_id)
    body = _field(server_nonce) + _field(device_nonce) + _field(device_key_fingerprint)
    return hashlib.sha256(SERVER_HASH_TAG + raw_id + body).digest()


def sign(key: ec.EllipticCurvePrivateKey, digest: bytes) -> bytes:
    """A DER ECDSA signature over a SHA-256 digest."""
    return key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))


def verify(key: ec.EllipticCurvePublicKey, signature: bytes, digest: bytes) -> bool:
    try:
        key.verify(signature, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    except (InvalidSignature, ValueError):
        return False
    return True
