"""Product routes: product info, and import, list, get, update, remove and unclaim of its devices.

Facts: docs.particle.io Cloud API, product device endpoints; particle-cli 3.43.1 src/cmd/product.js and
test/e2e/product.e2e.js; the product object from particle-api-js 12.0.2 types and particle-cli setup-tachyon.js.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from aiohttp import web

from cloud_client.emulator.auth import authenticate, may_see, product_for
from cloud_client.emulator.device_import import import_devices
from cloud_client.emulator.device_view import device_detail, device_summary, filter_devices, page_of, sort_devices
from cloud_client.emulator.keys import CLOUD
from cloud_client.emulator.state import CloudState, Device, Group, Product
from cloud_client.emulator.wire import (
    DEVICE_NOT_IN_PRODUCT,
    ApiError,
    Params,
    bad_request,
    iso,
    no_content,
    read_params,
    reply,
)

GROUP_NAME = re.compile(r"[a-z0-9_-]+")
"""Group names: lowercase letters, digits, '-' and '_' (docs.particle.io Cloud API, 'Create device group')."""


def product_json(product: Product) -> dict[str, Any]:
    return {
        "id": product.id,
        "platform_id": product.platform_id,
        "name": product.name,
        "slug": product.slug,
        "description": product.description,
        "user": product.owner,
        "org": None,
        "groups": sorted(product.groups),
        "settings": {"quarantine": product.quarantine, "location": {}, "known_application": {}},
        "device_protection": product.device_protection,
    }


async def list_products(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller = authenticate(cloud, request, await read_params(request))
    with cloud.state.lock:
        visible = [product_json(p) for p in cloud.state.products.values() if may_see(caller, p)]
    return reply({"products": visible})


async def get_product(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller = authenticate(cloud, request, await read_params(request))
    product = product_for(cloud, caller, request.match_info["p"], "products:get")
    with cloud.state.lock:
        return reply({"product": product_json(product)})


def _identifiers(params: Params) -> list[str]:
    found: list[str] = []
    if "file" in params.files:
        text = params.files["file"].decode("utf-8", errors="replace")
        found.extend(line.strip() for line in text.splitlines())
    elif params.text("file") is not None:
        found.extend(line.strip() for line in (params.text("file") or "").splitlines())
    ids = params.strings("ids")
    if ids:
        found.extend(ids)
    single = params.text("id")
    if single:
        found.append(single)
    return [item for item in found if item]


async def import_product_devices(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    params = await read_params(request)
    caller = authenticate(cloud, request, params)
    product = product_for(cloud, caller, request.match_info["p"], "devices:import")
    identifiers = _identifiers(params)
    if not identifiers:
        raise bad_request(
            f"No device identifiers given for product {product.id}: send id, ids, or a file part with one per line"
        )
    claim_user = params.text("claim_user")
    with cloud.state.lock:
        if claim_user is not None:
            claim_user = claim_user.lower()
            if claim_user not in cloud.state.users and claim_user not in product.customers:
                # Unconfirmed: refusing the whole request keeps it exactly-once and tells the caller why.
                raise bad_request(f"claim_user {claim_user} is not a Particle user or a customer of {product.id}")
        report = import_devices(
            cloud.state,
            product,
            identifiers,
            claim_user=claim_user,
            import_sims=bool(params.flag("import_sims")),
            now=cloud.now(),
            sim_delay_s=cloud.timings.sim_activation_s,
        )
    return reply(report.to_json())


async def list_product_devices(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    params = await read_params(request)
    caller = authenticate(cloud, request, params)
    product = product_for(cloud, caller, request.match_info["p"], "devices:list")
    with cloud.state.lock:
        members = [d for d in cloud.state.devices.values() if d.product_id == product.id]
        chosen, meta = page_of(sort_devices(filter_devices(members, params), params), params)
        owners = {d.owner for d in chosen if d.owner in product.customers}
        customers = [{"id": _customer_id(name), "username": name} for name in sorted(o for o in owners if o)]
        devices = [device_summary(d, cloud.state) for d in chosen]
    return reply({"devices": devices, "customers": customers, "meta": meta})


def _customer_id(username: str) -> str:
    return hashlib.sha1(username.encode()).hexdigest()[:10]


def member_device(state: CloudState, product: Product, device_id: str) -> Device | None:
    device = state.devices.get(device_id.strip().lower())
    return device if device is not None and device.product_id == product.id else None


def _not_in_product_404(device_id: str, product: Product) -> ApiError:
    # The body is unconfirmed but must contain "not found" (particle-cli 3.43.1 test/e2e/product.e2e.js).
    text = f"Device {device_id} not found in product {product.id}"
    return ApiError(404, {"ok": False, "error": "device not found", "error_description": text})


async def get_product_device(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller = authenticate(cloud, request, await read_params(request))
    product = product_for(cloud, caller, request.match_info["p"], "devices:get")
    with cloud.state.lock:
        device = member_device(cloud.state, product, request.match_info["id"])
        if device is None:
            raise _not_in_product_404(request.match_info["id"], product)
        return reply(device_detail(device, cloud.state))


def _version_or_unlock(params: Params, product: Product) -> int | None:
    raw = params.raw("desired_firmware_version")
    if raw is None or raw == "null" or raw == "":
        return None  # null, or the form string "null", unlocks (docs.particle.io, 'Unlock product device')
    try:
        version = int(raw)
    except (TypeError, ValueError):
        raise bad_request(f"desired_firmware_version must be a firmware version number or null, got {raw!r}") from None
    if version not in product.firmware:
        # Unconfirmed text; the real API refuses to lock to a version the product does not have.
        raise bad_request(f"Firmware version {version} does not exist in product {product.id}; upload it first")
    return version


def set_groups(product: Product, device: Device, names: list[str]) -> list[str]:
    """Replace the device's groups, creating groups that do not exist yet
    (docs.particle.io Cloud API, 'Assign groups to a device')."""
    cleaned = sorted({n.strip() for n in names if n.strip()})
    for name in cleaned:
        if not GROUP_NAME.fullmatch(name):
            raise bad_request(f"Group name {name!r} may contain only lowercase letters, digits, '-' and '_'")
    for name in cleaned:
        product.groups.setdefault(name, Group(name=name))
    device.groups = cleaned
    return cleaned


def apply_device_update(device: Device, params: Params, product: Product | None, now: float) -> dict[str, Any]:
    """Apply the update fields present in ``params``; returns the partial reply ``{id, …changed, updated_at}``.

    ``quarantined`` is not documented as an update field (unconfirmed), so it is ignored: use import or deny
    (docs.particle.io Cloud API, 'Approve/Deny a quarantined device').
    """
    changes: dict[str, Any] = {}
    for name in ("name", "notes"):
        if params.has(name):
            value = params.text(name)
            setattr(device, name, value)
            changes[name] = value
    for name in ("development", "firmware_updates_enabled", "firmware_updates_forced"):
        if params.has(name):
            flag = bool(params.flag(name))
            setattr(device, name, flag)
            changes[name] = flag
    if params.has("signal"):
        changes["signal"] = params.text("signal") == "1"
    if product is not None:
        if params.has("desired_firmware_version"):
            version = _version_or_unlock(params, product)
            device.desired_firmware_version = version
            changes["desired_firmware_version"] = version
        if params.has("flash"):
            changes["flash"] = bool(params.flag("flash"))
        if params.has("groups"):
            changes["groups"] = set_groups(product, device, params.strings("groups") or [])
    device.updated_at = now
    return {"id": device.id, **changes, "updated_at": iso(now)}


async def update_product_device(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    params = await read_params(request)
    caller = authenticate(cloud, request, params)
    product = product_for(cloud, caller, request.match_info["p"], "devices:update")
    with cloud.state.lock:
        device = member_device(cloud.state, product, request.match_info["id"])
        if device is None:
            raise _not_in_product_404(request.match_info["id"], product)
        body = apply_device_update(device, params, product, cloud.now())
        cloud.state.changed()
    return reply(body)


async def remove_product_device(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    params = await read_params(request)
    caller = authenticate(cloud, request, params)
    product = product_for(cloud, caller, request.match_info["p"], "devices:remove")
    deny = bool(params.flag("deny"))
    with cloud.state.lock:
        device = member_device(cloud.state, product, request.match_info["id"])
        if device is None:
            # 400 with this exact text: particle-cli 3.43.1's test/e2e/product.e2e.js matches on it.
            raise ApiError(
                400, {"ok": False, "error": DEVICE_NOT_IN_PRODUCT, "error_description": DEVICE_NOT_IN_PRODUCT}
            )
        if device.owner is not None and device.owner in product.customers:
            device.owner = None  # a customer's device is unclaimed too (docs.particle.io, 'Remove device from product')
        device.product_id = None
        device.quarantined = False
        device.groups = []
        device.desired_firmware_version = None
        device.denied = deny
        if deny and device.id not in product.denied_ids:
            product.denied_ids.append(device.id)
        device.updated_at = cloud.now()
        cloud.state.changed()
    return no_content()


async def unclaim_product_device(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller = authenticate(cloud, request, await read_params(request))
    product = product_for(cloud, caller, request.match_info["p"], "devices:release")
    with cloud.state.lock:
        device = member_device(cloud.state, product, request.match_info["id"])
        if device is None:
            raise _not_in_product_404(request.match_info["id"], product)
        device.owner = None
        device.updated_at = cloud.now()
        cloud.state.changed()
    return reply({"ok": True})


def register(app: web.Application) -> None:
    router = app.router
    router.add_get("/v1/products", list_products, allow_head=False)
    router.add_get("/v1/user/products", list_products, allow_head=False)
    router.add_get("/v1/products/{p}", get_product, allow_head=False)
    router.add_post("/v1/products/{p}/devices", import_product_devices)
    router.add_get("/v1/products/{p}/devices", list_product_devices, allow_head=False)
    router.add_get("/v1/products/{p}/devices/{id}", get_product_device, allow_head=False)
    router.add_put("/v1/products/{p}/devices/{id}", update_product_device)
    router.add_delete("/v1/products/{p}/devices/{id}", remove_product_device)
    router.add_delete("/v1/products/{p}/devices/{id}/owner", unclaim_product_device)
