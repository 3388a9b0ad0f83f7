"""A user's device routes: claim, unclaim, list, get, update, claim codes and serial look-up.

Facts: docs.particle.io Cloud API, 'Claim a device', 'Unclaim device', 'Create a claim code', 'Look up device
identification from a serial number'; particle-cli 3.43.1 src/cmd/cloud.js and test/e2e/cloud.e2e.js.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from cloud_client.emulator.auth import Caller, authenticate, may_manage_device_of, product_for, user_of
from cloud_client.emulator.device_view import device_detail, device_summary
from cloud_client.emulator.keys import CLOUD
from cloud_client.emulator.protection import cloud_flash
from cloud_client.emulator.routes_products import apply_device_update
from cloud_client.emulator.state import ClaimCode, Device, TokenKind
from cloud_client.emulator.wire import (
    BELONGS_TO_SOMEONE_ELSE,
    CLAIM_DEVICE_NOT_FOUND,
    ApiError,
    bad_request,
    device_permission_denied,
    read_params,
    reply,
)

_HEX24 = re.compile(r"[0-9a-fA-F]{24}")


def _own_device(caller: Caller, device: Device | None) -> Device:
    if device is None or not may_manage_device_of(caller, device.owner):
        raise device_permission_denied()
    return device


async def claim_device(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    params = await read_params(request)
    caller = authenticate(cloud, request, params)
    username = user_of(caller)
    device_id = (params.text("id") or "").strip().lower()
    transfer = bool(params.flag("request_transfer"))
    with cloud.state.lock:
        device = cloud.state.devices.get(device_id) if _HEX24.fullmatch(device_id) else None
        if device is None:
            # particle-cli's test/e2e/cloud.e2e.js expects "device not found"; 404 is a status the CLI passes through.
            raise ApiError(404, {"ok": False, "error": CLAIM_DEVICE_NOT_FOUND})
        if device.owner is not None and device.owner != username:
            if not transfer:
                raise ApiError(403, {"ok": False, "errors": [BELONGS_TO_SOMEONE_ELSE]})
            # A transfer is only requested (the owner gets an e-mail); ownership does not change here.
            return reply({"ok": True, "deviceID": device.id, "claimed": False, "transfer_requested": True})
        # Whether the real API needs the device online to claim it is unconfirmed; the emulator does not.
        if device.owner is None:
            device.owner = username
            device.updated_at = cloud.now()
            cloud.state.changed()
    return reply({"ok": True, "deviceID": device.id, "claimed": True})


async def unclaim_device(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller = authenticate(cloud, request, await read_params(request))
    user_of(caller)
    with cloud.state.lock:
        device = _own_device(caller, cloud.state.devices.get(request.match_info["id"].lower()))
        device.owner = None
        device.updated_at = cloud.now()
        cloud.state.changed()
    return reply({"ok": True})


async def list_user_devices(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller = authenticate(cloud, request, await read_params(request))
    user_of(caller)
    with cloud.state.lock:
        mine = sorted(
            (d for d in cloud.state.devices.values() if may_manage_device_of(caller, d.owner)), key=lambda d: d.id
        )
        # The user route returns a bare array (docs.particle.io Cloud API, 'List devices').
        return reply([device_summary(d, cloud.state) for d in mine])


async def get_user_device(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller = authenticate(cloud, request, await read_params(request))
    with cloud.state.lock:
        device = _own_device(caller, cloud.state.devices.get(request.match_info["id"].lower()))
        return reply(device_detail(device, cloud.state))


async def update_user_device(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    params = await read_params(request)
    caller = authenticate(cloud, request, params)
    with cloud.state.lock:
        device = _own_device(caller, cloud.state.devices.get(request.match_info["id"].lower()))
        if "file" in params.files:
            # A cloud flash: the same route with the firmware as a multipart ``file`` (particle-api-js flashDevice).
            return reply(cloud_flash(device))
        product = cloud.state.products.get(device.product_id) if device.product_id is not None else None
        body = apply_device_update(device, params, product, cloud.now())
        cloud.state.changed()
    return reply(body)


async def create_claim_code(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    params = await read_params(request)
    caller = authenticate(cloud, request, params)
    p = request.match_info.get("p")
    if p is None:
        user_of(caller)
        product_id = None
    else:
        product = product_for(cloud, caller, p, "device_claims:create", customer_ok=True)
        if caller.kind is not TokenKind.CUSTOMER:
            # The product route needs a customer-scoped token (particle-api-js getClaimCode doc comment); the error
            # body is unconfirmed.
            raise bad_request(
                f"Claim codes for product {product.id} need a customer-scoped token: get one with client "
                "credentials and scope=customer=<email>",
                error="unauthorized",
            )
        product_id = product.id
    record = ClaimCode(
        code=cloud.new_claim_code(),
        username=caller.username or "",
        created_at=cloud.now(),
        product_id=product_id,
        iccid=params.text("iccid"),
        imei=params.text("imei"),
    )
    with cloud.state.lock:
        cloud.state.claim_codes.append(record)
        cloud.state.changed()
        device_ids = sorted(d.id for d in cloud.state.devices.values() if may_manage_device_of(caller, d.owner))
    return reply({"claim_code": record.code, "device_ids": device_ids})


async def serial_lookup(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    params = await read_params(request)
    caller = authenticate(cloud, request, params)
    if not cloud.limits.serial_lookup.admit(caller.account, cloud.now()):
        raise ApiError(
            429,
            {
                "error": "rate_limit_exceeded",
                "error_description": "Rate limit exceeded. Serial number look-ups are limited to 50 per hour per "
                "account; list product devices with serialNumber= instead",
            },
        )
    serial = request.match_info["serial"].strip()
    with cloud.state.lock:
        device = cloud.state.device_by_serial(serial)
        if device is None:
            # Unconfirmed status and body: Particle's example treats any failure as "Device not found".
            raise ApiError(
                404, {"ok": False, "error": "not_found", "error_description": f"Serial number {serial} not found"}
            )
        body: dict[str, Any] = {
            "ok": True,  # unconfirmed whether still sent; harmless to clients that ignore it
            "serial_number": device.serial_number,
            "device_id": device.id,
            "platform_id": device.platform_id,
        }
        if device.cellular and device.iccid:
            body["iccid"] = device.iccid
        partial = params.text("mobile_secret")
        if partial and device.mobile_secret and device.mobile_secret.startswith(partial):
            body["mobile_secret"] = device.mobile_secret
    return reply(body)


def register(app: web.Application) -> None:
    router = app.router
    router.add_post("/v1/devices", claim_device)
    router.add_get("/v1/devices", list_user_devices, allow_head=False)
    router.add_get("/v1/devices/{id}", get_user_device, allow_head=False)
    router.add_put("/v1/devices/{id}", update_user_device)
    router.add_delete("/v1/devices/{id}", unclaim_device)
    router.add_post("/v1/device_claims", create_claim_code)
    router.add_post("/v1/products/{p}/device_claims", create_claim_code)
    router.add_get("/v1/serial_numbers/{serial}", serial_lookup, allow_head=False)
