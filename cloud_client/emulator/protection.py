"""The emulated cloud's Device Protection: the unprotect handshake's routes, refusing ad-hoc flashes of Protected
Devices, and admin routes that mark devices protected and products as having Device Protection.

Facts: particle-api-js 12.0.2 ``src/Particle.ts`` (unprotectDevice) and particle-cli 3.49.2
``src/cmd/device-protection.js``: ``PUT /v1/devices/:id/unprotect`` (and the ``/v1/products/:p`` and ``/v1/orgs/:org``
forms) with ``action`` 'prepare' → ``server_nonce``, 'confirm' (+ server_nonce, device_nonce, device_signature,
device_public_key_fingerprint) → ``server_signature``, ``server_public_key_fingerprint``; all base64. The CLI
rewrites the cloud's "Device public key was not found". The wording of the other refusals is the emulator's own
(unconfirmed), as is whether the real cloud checks that a device is protected before 'prepare' (the emulator does
not: the device decides whether it is protected).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec

from cloud_client.emulator import protection_keys as keys
from cloud_client.emulator.admin import ADMIN_PREFIX, admin_error, admin_json
from cloud_client.emulator.auth import Caller, authenticate, may_manage_device_of, may_see, product_for
from cloud_client.emulator.cloud import EmulatedCloud
from cloud_client.emulator.keys import CLOUD
from cloud_client.emulator.state import Device
from cloud_client.emulator.wire import ApiError, Params, bad_request, device_permission_denied, read_params, reply

NONCE_BYTES = 32
PUBLIC_KEY_NOT_FOUND = "Device public key was not found"
"""The cloud's text when the fingerprint names no key it has for the device (particle-cli
src/cmd/device-protection.js rewrites it into a "server key mismatch" hint)."""
UPDATE_DENIED = "Update denied - device protection active"
"""The refusal of an ad-hoc cloud flash of a Protected Device (particle-cli test/e2e/flash-protected.e2e.js)."""
PROTECTION_ACTIVE = "active"


def _refusal(text: str) -> ApiError:
    return ApiError(400, {"ok": False, "error": text, "error_description": text})


def device_public_key(device: Device) -> ec.EllipticCurvePublicKey:
    """The key the cloud holds for ``device``: a registered override, else the simulated world's key for its id."""
    if device.public_key_pem is not None:
        return keys.load_public_key(device.public_key_pem)
    return keys.simulated_device_key(device.id).public_key()


def _reachable_device(cloud: EmulatedCloud, caller: Caller, device_id: str) -> Device:
    """The device if the caller owns it or may see the product it is in (un-scoped and org forms)."""
    with cloud.state.lock:
        device = cloud.state.devices.get(device_id.strip().lower())
        product = cloud.state.products.get(device.product_id) if device and device.product_id is not None else None
    if device is None:
        raise device_permission_denied()
    if may_manage_device_of(caller, device.owner) or (product is not None and may_see(caller, product)):
        return device
    raise device_permission_denied()


def _product_device(cloud: EmulatedCloud, caller: Caller, product_ref: str, device_id: str) -> Device:
    product = product_for(cloud, caller, product_ref, "devices:update")
    with cloud.state.lock:
        device = cloud.state.devices.get(device_id.strip().lower())
    if device is None or device.product_id != product.id:
        text = f"Device {device_id} not found in product {product.id}"
        raise ApiError(404, {"ok": False, "error": "device not found", "error_description": text})
    return device


def _b64_field(params: Params, name: str) -> bytes:
    text = params.text(name)
    if not text:
        raise bad_request(f"{name} is required for action confirm (base64)")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise bad_request(f"{name} is not valid base64") from None


def _prepare(cloud: EmulatedCloud, device: Device) -> dict[str, Any]:
    nonce = secrets.token_bytes(NONCE_BYTES)
    with cloud.state.lock:
        cloud.unprotect_nonces[device.id] = nonce
    return {"server_nonce": base64.b64encode(nonce).decode("ascii")}


def _confirm(cloud: EmulatedCloud, device: Device, params: Params) -> dict[str, Any]:
    server_nonce = _b64_field(params, "server_nonce")
    device_nonce = _b64_field(params, "device_nonce")
    signature = _b64_field(params, "device_signature")
    device_fingerprint = _b64_field(params, "device_public_key_fingerprint")
    with cloud.state.lock:
        expected = cloud.unprotect_nonces.get(device.id)
        if expected is None or not secrets.compare_digest(expected, server_nonce):
            raise _refusal(f"Invalid server nonce for device {device.id}: it is stale, already used or was never "
                           "issued; start again with action prepare")
        # Single use: whatever the outcome, this nonce is spent.
        del cloud.unprotect_nonces[device.id]
        public_key = device_public_key(device)
    if len(device_nonce) != NONCE_BYTES:
        raise _refusal(f"device_nonce must be {NONCE_BYTES} bytes")
    if not secrets.compare_digest(keys.fingerprint(public_key), device_fingerprint):
        raise _refusal(PUBLIC_KEY_NOT_FOUND)
    if not keys.verifies(public_key, signature, keys.device_hash(device.id, device_nonce, server_nonce)):
        raise _refusal(f"Invalid device signature for device {device.id}")
    server_key = keys.simulated_server_key()
    digest = keys.server_hash(device.id, server_nonce, device_nonce, device_fingerprint)
    return {
        "server_signature": base64.b64encode(keys.sign_digest(server_key, digest)).decode("ascii"),
        "server_public_key_fingerprint": base64.b64encode(keys.fingerprint(server_key.public_key())).decode("ascii"),
    }


async def _unprotect(request: web.Request, device: Device, params: Params) -> web.Response:
    cloud = request.app[CLOUD]
    action = params.text("action")
    if action == "prepare":
        return reply(_prepare(cloud, device))
    if action == "confirm":
        return reply(_confirm(cloud, device, params))
    raise bad_request(f"action must be prepare or confirm, got {action!r}")


async def unprotect_device(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    params = await read_params(request)
    caller = authenticate(cloud, request, params)
    return await _unprotect(request, _reachable_device(cloud, caller, request.match_info["id"]), params)


async def unprotect_product_device(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    params = await read_params(request)
    caller = authenticate(cloud, request, params)
    device = _product_device(cloud, caller, request.match_info["p"], request.match_info["id"])
    return await _unprotect(request, device, params)


def cloud_flash(device: Device) -> dict[str, Any]:
    """An ad-hoc flash of application firmware: refused for a Protected Device. Others are accepted; the emulator
    does not deliver the binary (its simulated line updates devices from product releases only)."""
    if device.protected:
        # Status unconfirmed (the CLI matches on the text only).
        raise ApiError(403, {"ok": False, "error": UPDATE_DENIED, "error_description": UPDATE_DENIED})
    return {"id": device.id, "status": "Update started"}


# --- admin: what Particle's factory and Particle's staff set ------------------------------------------------------


async def admin_device_protection(request: web.Request) -> web.Response:
    """``{"protected": bool, "public_key_pem": str | null}``; fields left out stay as they are."""
    cloud = request.app[CLOUD]
    body = await admin_json(request)
    device_id = request.match_info["id"].lower()
    protected, pem = body.get("protected"), body.get("public_key_pem", ...)
    if protected is not None and not isinstance(protected, bool):
        raise admin_error(400, "protected must be true or false")
    if pem is not ... and pem is not None:
        if not isinstance(pem, str):
            raise admin_error(400, "public_key_pem must be a PEM string or null")
        try:
            keys.load_public_key(pem)
        except ValueError:
            raise admin_error(400, "public_key_pem is not a P-256 public key in PEM") from None
    with cloud.state.lock:
        device = cloud.state.devices.get(device_id)
        if device is None:
            raise admin_error(404, f"device {device_id} is not known to the emulator")
        if protected is not None:
            device.protected = protected
        if pem is not ...:
            device.public_key_pem = pem
        cloud.state.changed()
        view = {"id": device.id, "protected": device.protected, "public_key_pem": device.public_key_pem}
    cloud.save_if_changed()
    return web.json_response(view)


async def admin_product_protection(request: web.Request) -> web.Response:
    """``{"device_protection": "active" | ""}``."""
    cloud = request.app[CLOUD]
    body = await admin_json(request)
    value = body.get("device_protection")
    if value not in (PROTECTION_ACTIVE, ""):
        raise admin_error(400, 'device_protection must be "active" or ""')
    with cloud.state.lock:
        product = cloud.state.product_by_ref(request.match_info["p"])
        if product is None:
            raise admin_error(404, f"product {request.match_info['p']} is not known to the emulator")
        product.device_protection = value
        cloud.state.changed()
        view = {"id": product.id, "device_protection": product.device_protection}
    cloud.save_if_changed()
    return web.json_response(view)


def register(app: web.Application) -> None:
    router = app.router
    router.add_put("/v1/devices/{id}/unprotect", unprotect_device)
    router.add_put("/v1/products/{p}/devices/{id}/unprotect", unprotect_product_device)
    # Organizations are not modelled: the org form reaches the devices the caller reaches un-scoped.
    router.add_put("/v1/orgs/{org}/devices/{id}/unprotect", unprotect_device)
    router.add_post(ADMIN_PREFIX + "devices/{id}/protection", admin_device_protection)
    router.add_post(ADMIN_PREFIX + "products/{p}/protection", admin_product_protection)
