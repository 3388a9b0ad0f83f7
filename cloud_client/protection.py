"""Device Protection calls: the two halves of the cloud's side of the unprotect handshake, and cloud flashing,
which the cloud refuses for a protected device.

Facts: particle-api-js 12.0.2 ``src/Particle.ts`` (unprotectDevice, flashDevice) and particle-cli 3.49.2
``src/cmd/device-protection.js``: ``PUT /v1/devices/:id/unprotect`` (also under ``/v1/products/:p`` and
``/v1/orgs/:org``) with ``action`` 'prepare' or 'confirm'; every binary field travels as base64.
"""

from __future__ import annotations

import base64
import binascii
from typing import NamedTuple
from urllib.parse import quote

from cloud_client.calls import EndpointCalls, ProductRef, device_id_of, product_path
from cloud_client.errors import InvalidInputError, InvalidResponseError
from cloud_client.replies import JsonObject

NONCE_BYTES = 32
"""Both nonces are 32 bytes (device-os system/src/control/config.cpp, setProtectedState PREPARE)."""
FINGERPRINT_BYTES = 32
"""A key fingerprint is a SHA-256 (of the key's DER SubjectPublicKeyInfo)."""
PROTECTION_ACTIVE = "active"
"""The value of a product's ``device_protection`` when the product has Device Protection (particle-cli
src/cmd/device-protection.js compares with 'active')."""


class ServerProof(NamedTuple):
    """The cloud's answer to 'confirm': what the device's CONFIRM needs."""

    server_signature: bytes
    """DER ECDSA signature over the server hash."""
    server_public_key_fingerprint: bytes
    """SHA-256 of the server public key's DER SubjectPublicKeyInfo (32 bytes)."""


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _bytes_field(reply: JsonObject, key: str, operation: str) -> bytes:
    value = reply.get(key)
    if isinstance(value, str) and value:
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            pass
    raise InvalidResponseError(
        f"{operation}: the reply has no valid base64 {key!r}; try again, and report it if it persists",
        operation=operation,
    )


def _check_length(value: bytes, size: int, what: str, operation: str) -> bytes:
    if len(value) != size:
        raise InvalidInputError(f"{operation}: the {what} must be {size} bytes, got {len(value)}; it did not come "
                                "from the device or the cloud unchanged", operation=operation)
    return value


def unprotect_path(device_id: str, *, product: ProductRef | None = None, org: str | None = None) -> str:
    if product is not None and org is not None:
        raise ValueError("give a product or an organization, not both")
    if product is not None:
        return f"{product_path(product)}/devices/{device_id}/unprotect"
    if org is not None:
        return f"/v1/orgs/{quote(org, safe='')}/devices/{device_id}/unprotect"
    return f"/v1/devices/{device_id}/unprotect"


class ProtectionCalls(EndpointCalls):
    """``PUT …/devices/:id/unprotect`` and ``PUT /v1/devices/:id`` (cloud flash)."""

    def unprotect_prepare(
        self, device_id: object, *, product: ProductRef | None = None, org: str | None = None
    ) -> bytes:
        """Start the cloud's side of the handshake; returns the 32-byte server nonce for the device's PREPARE.

        The nonce is single use: a failed handshake starts again with a new prepare.
        """
        ident = device_id_of(device_id, f"prepare to unprotect device {device_id}")
        what = f"prepare to unprotect device {ident}"
        reply = self._call_object(what, "PUT", unprotect_path(ident, product=product, org=org),
                                  json={"action": "prepare"})
        return _bytes_field(reply, "server_nonce", what)

    def unprotect_confirm(
        self,
        device_id: object,
        server_nonce: bytes,
        device_nonce: bytes,
        device_signature: bytes,
        device_public_key_fingerprint: bytes,
        *,
        product: ProductRef | None = None,
        org: str | None = None,
    ) -> ServerProof:
        """Send the device's PREPARE reply; the cloud checks the device's signature and signs its own answer."""
        ident = device_id_of(device_id, f"confirm unprotecting device {device_id}")
        what = f"confirm unprotecting device {ident}"
        _check_length(server_nonce, NONCE_BYTES, "server nonce", what)
        _check_length(device_nonce, NONCE_BYTES, "device nonce", what)
        _check_length(device_public_key_fingerprint, FINGERPRINT_BYTES, "device key fingerprint", what)
        if not device_signature:
            raise InvalidInputError(f"{what}: the device gave no signature; run the handshake again",
                                    operation=what)
        body = {
            "action": "confirm",
            "server_nonce": _b64(server_nonce),
            "device_nonce": _b64(device_nonce),
            "device_signature": _b64(device_signature),
            "device_public_key_fingerprint": _b64(device_public_key_fingerprint),
        }
        reply = self._call_object(what, "PUT", unprotect_path(ident, product=product, org=org), json=body)
        return ServerProof(_bytes_field(reply, "server_signature", what),
                           _bytes_field(reply, "server_public_key_fingerprint", what))

    def flash_device(self, device_id: object, binary: bytes, *, filename: str = "firmware.bin") -> None:
        """Flash application firmware to an online device through the cloud (an ad-hoc, non-product update).

        A protected device is refused with DeviceProtectedError (cloud_client.replies maps Particle's text).
        """
        ident = device_id_of(device_id, f"cloud flash device {device_id}")
        what = f"cloud flash device {ident}"
        files = {"file": (filename, binary, "application/octet-stream")}
        self._call(what, "PUT", f"/v1/devices/{ident}", files=files)
