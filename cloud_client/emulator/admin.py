"""The emulator's own control routes under /admin/: faults, clock, state and request log, and simulated connects.

They live outside /v1 and /oauth, take no Particle token, and are never subject to faults or rate limits.
"""

from __future__ import annotations

import base64
from typing import Any

from aiohttp import web

from cloud_client.emulator.cloud import EmulatedCloud
from cloud_client.emulator.device_view import device_summary, targeted_version
from cloud_client.emulator.faults import FaultSettings
from cloud_client.emulator.keys import CLOUD
from cloud_client.emulator.persistence import to_document
from cloud_client.emulator.wire import ApiError, iso

ADMIN_PREFIX = "/admin/"


def admin_error(status: int, text: str) -> ApiError:
    return ApiError(status, {"error": "admin_error", "error_description": text})


async def admin_json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise admin_error(400, "send a JSON object") from None
    if not isinstance(body, dict):
        raise admin_error(400, "send a JSON object")
    return body


async def get_faults(request: web.Request) -> web.Response:
    return web.json_response(request.app[CLOUD].faults.settings.to_json())


async def set_faults(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    body = await admin_json(request)
    try:
        settings = FaultSettings.from_json(body, cloud.faults.settings)
    except (ValueError, TypeError) as exc:
        raise admin_error(400, f"bad fault settings: {exc}") from None
    cloud.configure_faults(settings)
    return web.json_response(settings.to_json())


async def get_state(request: web.Request) -> web.Response:
    # Credentials are redacted: this is for looking, and tokens must not leak into logs or screenshots.
    return web.json_response(to_document(request.app[CLOUD].state, redact=True))


async def get_requests(request: web.Request) -> web.Response:
    log = request.app[CLOUD].request_log
    return web.json_response([{"method": m, "path": p, "status": s} for m, p, s in log])


async def advance_clock(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    body = await admin_json(request)
    seconds = body.get("seconds")
    if not isinstance(seconds, int | float) or seconds < 0:
        raise admin_error(400, 'send {"seconds": N} with N >= 0')
    cloud.clock.advance(float(seconds))
    return web.json_response({"now": iso(cloud.now())})


def device_connects(
    cloud: EmulatedCloud,
    device_id: str,
    product_id: int | None,
    firmware_version: int | None,
    system_version: str | None,
    ip_address: str = "198.51.100.7",
) -> dict[str, Any]:
    """A device comes online: the cloud records its handshake and firmware, and quarantines unknown product devices.

    Raises KeyError for a device id the cloud does not know.
    """
    now = cloud.now()
    with cloud.state.lock:
        device = cloud.state.devices[device_id.lower()]
        product = cloud.state.products.get(product_id) if product_id is not None else None
        device.online = True
        device.last_heard = device.last_handshake_at = now
        device.last_ip_address = ip_address
        device.firmware_product_id = product_id
        device.firmware_version = firmware_version
        device.system_firmware_version = system_version
        if (
            product is not None
            and device.product_id is None
            and device.id not in product.denied_ids
            and device.platform_id == product.platform_id
        ):
            # A device running product firmware that was not imported: quarantined when the product says so
            # (docs.particle.io Cloud API, 'Quarantine'),
            # else admitted. The emulator's choice: a device of another platform never joins, so it is left out.
            device.product_id = product.id
            device.quarantined = product.quarantine
        device.updated_at = now
        cloud.state.changed()
        return device_summary(device, cloud.state)


def firmware_update_for(cloud: EmulatedCloud, device_id: str) -> tuple[int, bytes] | None:
    """The product firmware the cloud sends this online device now, as (version, binary), or None.

    As the real cloud does on connection (docs.particle.io Cloud API, 'Release product firmware', 'Lock product device',
    'Mark product development device'): a device in a product gets its lock
    (``desired_firmware_version``), else its groups' release, else the product default, unless it is a development
    device, quarantined or denied, has firmware updates disabled, or already runs that version.
    Raises KeyError for a device id the cloud does not know.
    """
    with cloud.state.lock:
        device = cloud.state.devices[device_id.lower()]
        product = cloud.state.products.get(device.product_id) if device.product_id is not None else None
        if (
            product is None
            or not device.online
            or device.development
            or device.quarantined
            or device.denied
            or not device.firmware_updates_enabled
        ):
            return None
        target = targeted_version(device, product)
        firmware = product.firmware.get(target) if target is not None else None
        if firmware is None or (device.firmware_product_id == product.id and device.firmware_version == target):
            return None
        return firmware.version, base64.b64decode(firmware.binary_b64)


def device_disconnects(cloud: EmulatedCloud, device_id: str) -> dict[str, Any]:
    """A device goes offline; ``last_heard`` keeps the time it was last seen. Raises KeyError for unknown ids."""
    with cloud.state.lock:
        device = cloud.state.devices[device_id.lower()]
        device.online = False
        device.updated_at = cloud.now()
        cloud.state.changed()
        return device_summary(device, cloud.state)


async def connect_device(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    body = await admin_json(request)
    try:
        view = device_connects(
            cloud,
            request.match_info["id"],
            body.get("product_id"),
            body.get("firmware_version"),
            body.get("system_version"),
        )
    except KeyError:
        raise admin_error(404, f"device {request.match_info['id']} is not known to the emulator") from None
    cloud.save_if_changed()
    return web.json_response(view)


async def disconnect_device(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    try:
        view = device_disconnects(cloud, request.match_info["id"])
    except KeyError:
        raise admin_error(404, f"device {request.match_info['id']} is not known to the emulator") from None
    cloud.save_if_changed()
    return web.json_response(view)


def register(app: web.Application) -> None:
    router = app.router
    router.add_get(ADMIN_PREFIX + "faults", get_faults, allow_head=False)
    router.add_post(ADMIN_PREFIX + "faults", set_faults)
    router.add_get(ADMIN_PREFIX + "state", get_state, allow_head=False)
    router.add_get(ADMIN_PREFIX + "requests", get_requests, allow_head=False)
    router.add_post(ADMIN_PREFIX + "clock", advance_clock)
    router.add_post(ADMIN_PREFIX + "devices/{id}/connect", connect_device)
    router.add_post(ADMIN_PREFIX + "devices/{id}/disconnect", disconnect_device)
