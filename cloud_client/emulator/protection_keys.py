"""The simulated world's Device Protection keys and the unprotect handshake's hashes, as the emulated cloud sees them.

The key rule is shared with the device simulator (hardware/simulated), which keeps its own copy: cloud_client and
hardware never import each other, and a test checks that both copies agree. Every simulated device's P-256 private
scalar is derived from its device id, the simulated server's from a fixed label, so the emulator knows each simulated
device's public key as Particle's cloud knows each real device's.

Hashes and signatures follow device-os ``system/src/control/config.cpp`` (setProtectedState): SHA-256 over an ASCII
tag, the 12 raw device-id bytes and little-endian-u32 length-prefixed fields; ECDSA-SHA256 signatures in DER.
"""

from __future__ import annotations

import hashlib
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

_DEVICE_LABEL = b"particle-station simulated device key v1:"
_SERVER_LABEL = b"particle-station simulated server key v1"
_CURVE_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
"""n of NIST P-256 (SEC 2, secp256r1)."""
_PREHASHED = ec.ECDSA(utils.Prehashed(hashes.SHA256()))


def _key_from_seed(seed: bytes) -> ec.EllipticCurvePrivateKey:
    scalar = int.from_bytes(hashlib.sha256(seed).digest(), "big") % (_CURVE_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def simulated_device_key(device_id: str) -> ec.EllipticCurvePrivateKey:
    """The private key of the simulated device ``device_id`` (24 hex characters, any case)."""
    return _key_from_seed(_DEVICE_LABEL + device_id.strip().lower().encode("ascii"))


def simulated_server_key() -> ec.EllipticCurvePrivateKey:
    """The simulated cloud's private key, whose public half every simulated device holds."""
    return _key_from_seed(_SERVER_LABEL)


def public_key_der(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def public_key_pem(key: ec.EllipticCurvePublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public_key(pem: str) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from PEM; ValueError when it is not one."""
    key = serialization.load_pem_public_key(pem.encode("ascii"))
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("not a P-256 public key")
    return key


def fingerprint(key: ec.EllipticCurvePublicKey) -> bytes:
    """SHA-256 of the key's DER SubjectPublicKeyInfo (32 bytes)."""
    return hashlib.sha256(public_key_der(key)).digest()


def _field(value: bytes) -> bytes:
    return struct.pack("<I", len(value)) + value


def device_hash(device_id: str, device_nonce: bytes, server_nonce: bytes) -> bytes:
    """What the device signs at PREPARE: "device" ‖ id ‖ device nonce ‖ server nonce."""
    raw_id = bytes.fromhex(device_id)
    return hashlib.sha256(b"device" + raw_id + _field(device_nonce) + _field(server_nonce)).digest()


def server_hash(device_id: str, server_nonce: bytes, device_nonce: bytes, device_key_fingerprint: bytes) -> bytes:
    """What the cloud signs at confirm: "server" ‖ id ‖ server nonce ‖ device nonce ‖ device key fingerprint."""
    raw_id = bytes.fromhex(device_id)
    return hashlib.sha256(
        b"server" + raw_id + _field(server_nonce) + _field(device_nonce) + _field(device_key_fingerprint)
    ).digest()


def sign_digest(key: ec.EllipticCurvePrivateKey, digest: bytes) -> bytes:
    """A DER ECDSA signature over a SHA-256 digest (the digest is the message hash, not hashed again)."""
    return key.sign(digest, _PREHASHED)


def verifies(key: ec.EllipticCurvePublicKey, signature: bytes, digest: bytes) -> bool:
    try:
        key.verify(signature, digest, _PREHASHED)
    except (InvalidSignature, ValueError):
        return False
    return True
