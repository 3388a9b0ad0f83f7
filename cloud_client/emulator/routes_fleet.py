"""A product's fleet settings: device groups, bulk group changes and product firmware.

Facts: docs.particle.io Cloud API, device group and product firmware endpoints ('Batch assign groups to devices',
'Release product firmware'); particle-api-js 11.1.7 src/Particle.js.
"""

from __future__ import annotations

import base64
from typing import Any

from aiohttp import web

from cloud_client.emulator.auth import authenticate, product_for
from cloud_client.emulator.keys import CLOUD
from cloud_client.emulator.routes_products import GROUP_NAME
from cloud_client.emulator.state import Firmware, Group, Product
from cloud_client.emulator.wire import ApiError, Params, bad_request, iso, no_content, not_found, read_params, reply


def _group_json(product: Product, group: Group, devices: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": group.name, "description": group.description, "color": group.color}
    released = [f.version for f in product.firmware.values() if group.name in f.groups]
    body["fw_version"] = max(released) if released else None
    if devices is not None:
        body["device_count"] = devices
    return body


async def list_groups(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    params = await read_params(request)
    caller = authenticate(cloud, request, params)
    product = product_for(cloud, caller, request.match_info["p"], "groups:list")
    wanted = (params.text("name") or "").lower()
    with cloud.state.lock:
        groups = [_group_json(product, g) for name, g in sorted(product.groups.items()) if wanted in name]
    return reply({"groups": groups})


def _group(product: Product, name: str) -> Group:
    group = product.groups.get(name)
    if group is None:
        raise not_found(f"Group {name} in product {product.id}")
    return group


async def get_group(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller = authenticate(cloud, request, await read_params(request))
    product = product_for(cloud, caller, request.match_info["p"], "groups:get")
    with cloud.state.lock:
        group = _group(product, request.match_info["name"])
        count = sum(1 for d in cloud.state.devices.values() if d.product_id == product.id and group.name in d.groups)
        return reply({"group": _group_json(product, group, count)})


def _checked_name(name: str | None) -> str:
    if not name or not GROUP_NAME.fullmatch(name):
        raise bad_request(f"Group name {name!r} may contain only lowercase letters, digits, '-' and '_'")
    return name


async def create_group(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    params = await read_params(request)
    caller = authenticate(cloud, request, params)
    product = product_for(cloud, caller, request.match_info["p"], "groups:create")
    name = _checked_name(params.text("name"))
    with cloud.state.lock:
        if name in product.groups:
            raise bad_request(f"Group {name} already exists in product {product.id}")  # status unconfirmed
        group = Group(name=name, description=params.text("description") or "", color=params.text("color") or "#34495e")
        product.groups[name] = group
        cloud.state.changed()
        return reply(
            {"group": {"name": group.name, "description": group.description, "color": group.color}}, status=201
        )


async def update_group(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    params = await read_params(request)
    caller = authenticate(cloud, request, params)
    product = product_for(cloud, caller, request.match_info["p"], "groups:update")
    if not any(params.has(k) for k in ("name", "description", "color")):
        raise bad_request("Send at least one of name, description and color")
    with cloud.state.lock:
        group = _group(product, request.match_info["name"])
        new_name = _checked_name(params.text("name")) if params.has("name") else group.name
        if new_name != group.name:
            if new_name in product.groups:
                raise bad_request(f"Group {new_name} already exists in product {product.id}")
            _rename_group(cloud.state.devices.values(), product, group.name, new_name)
            del product.groups[group.name]
            group.name = new_name
            product.groups[new_name] = group
        if params.has("description"):
            group.description = params.text("description") or ""
        group.color = params.text("color") or group.color
        cloud.state.changed()
        return reply({"group": _group_json(product, group)})


def _rename_group(devices: Any, product: Product, old: str, new: str | None) -> None:
    """Move (or, with ``new`` None, drop) a group in every device and firmware release of the product."""
    for device in devices:
        if device.product_id == product.id and old in device.groups:
            device.groups = sorted({g for g in device.groups if g != old} | ({new} if new else set()))
    for firmware in product.firmware.values():
        if old in firmware.groups:
            firmware.groups = sorted({g for g in firmware.groups if g != old} | ({new} if new else set()))


async def delete_group(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller = authenticate(cloud, request, await read_params(request))
    product = product_for(cloud, caller, request.match_info["p"], "groups:remove")
    with cloud.state.lock:
        group = _group(product, request.match_info["name"])
        _rename_group(cloud.state.devices.values(), product, group.name, None)
        del product.groups[group.name]
        cloud.state.changed()
    return no_content()


async def bulk_groups(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    params = await read_params(request)
    caller = authenticate(cloud, request, params)
    product = product_for(cloud, caller, request.match_info["p"], "devices:update")
    metadata = params.raw("metadata")
    if params.text("action") != "groups" or not isinstance(metadata, dict):
        raise bad_request('Send {"action":"groups","devices":[…],"metadata":{"add":[…]} or {"remove":[…]}}')
    add = [_checked_name(str(n)) for n in metadata.get("add") or []]
    remove = [str(n) for n in metadata.get("remove") or []]
    with cloud.state.lock:
        ids = [d.strip().lower() for d in params.strings("devices") or []]
        missing = [d for d in ids if getattr(cloud.state.devices.get(d), "product_id", None) != product.id]
        if missing:
            # Checked before any change so a refused request changes nothing (behaviour unconfirmed).
            raise bad_request(f"Devices not in product {product.id}: {', '.join(missing)}")
        for name in add:
            product.groups.setdefault(name, Group(name=name))
        for device_id in ids:
            device = cloud.state.devices[device_id]
            device.groups = sorted((set(device.groups) | set(add)) - set(remove))
        cloud.state.changed()
    return reply({"ok": True})


def firmware_json(product: Product, fw: Firmware, devices: int, *, detail: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "_id": f"{product.id:08x}{fw.version:016x}",
        "version": fw.version,
        "title": fw.title,
        "description": fw.description,
        "name": fw.name,
        "size": fw.size,
        "product_default": fw.product_default,
        "uploaded_on": iso(fw.uploaded_on),
        "uploaded_at": iso(fw.uploaded_on),
        "product_id": product.id,
        "uploaded_by": {"username": fw.uploaded_by},
        "groups": list(fw.groups),
        "device_count": devices,
        "current": fw.product_default,
    }
    if detail:
        body["mandatory"] = fw.mandatory
    return body


def _running(cloud_devices: Any, product: Product, version: int) -> int:
    return sum(1 for d in cloud_devices if d.product_id == product.id and d.firmware_version == version)


def _firmware(product: Product, text: str) -> Firmware:
    fw = product.firmware.get(int(text)) if text.isdigit() else None
    if fw is None:
        raise not_found(f"Firmware version {text} in product {product.id}")
    return fw


async def list_firmware(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller = authenticate(cloud, request, await read_params(request))
    product = product_for(cloud, caller, request.match_info["p"], "firmware:list")
    with cloud.state.lock:
        devices = list(cloud.state.devices.values())
        # A bare array, not wrapped (docs.particle.io Cloud API, 'List all versions of product firmware').
        return reply(
            [firmware_json(product, f, _running(devices, product, v)) for v, f in sorted(product.firmware.items())]
        )


async def get_firmware(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller = authenticate(cloud, request, await read_params(request))
    product = product_for(cloud, caller, request.match_info["p"], "firmware:get")
    with cloud.state.lock:
        fw = _firmware(product, request.match_info["version"])
        devices = _running(cloud.state.devices.values(), product, fw.version)
        return reply(firmware_json(product, fw, devices, detail=True))


async def download_firmware(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller = authenticate(cloud, request, await read_params(request))
    product = product_for(cloud, caller, request.match_info["p"], "firmware:get")
    with cloud.state.lock:
        fw = _firmware(product, request.match_info["version"])
        data = base64.b64decode(fw.binary_b64)
    return web.Response(body=data, content_type="application/octet-stream")


def _version(params: Params) -> int:
    text = params.text("version") or ""
    if not text.isdigit():
        raise bad_request(f"version must be a positive whole number, got {text!r}")
    return int(text)


async def upload_firmware(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    params = await read_params(request)
    caller = authenticate(cloud, request, params)
    product = product_for(cloud, caller, request.match_info["p"], "firmware:create")
    version, title = _version(params), params.text("title")
    binary = params.files.get("file")
    if binary is None:
        raise bad_request(f"Firmware upload to product {product.id} needs a multipart part named file")
    if not title:
        raise bad_request("title is required")
    # The real cloud also checks the binary's platform and product data; that needs the module format, which lives in
    # hardware/ (not importable from cloud_client), so the emulator stores the bytes unchecked.
    with cloud.state.lock:
        if version in product.firmware:
            raise bad_request(f"Version {version} already exists in product {product.id}; use a higher version")
        fw = Firmware(
            version=version,
            title=title,
            description=params.text("description") or "",
            name="firmware.bin",
            size=len(binary),
            uploaded_by=caller.username or f"product {product.id}",
            uploaded_on=cloud.now(),
            binary_b64=base64.b64encode(binary).decode("ascii"),
            updated_at=cloud.now(),
        )
        product.firmware[version] = fw
        cloud.state.changed()
        return reply(firmware_json(product, fw, 0, detail=True), status=201)


async def edit_firmware(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    params = await read_params(request)
    caller = authenticate(cloud, request, params)
    product = product_for(cloud, caller, request.match_info["p"], "firmware:update")
    with cloud.state.lock:
        fw = _firmware(product, request.match_info["version"])
        fw.title = params.text("title") or fw.title
        if params.has("description"):
            fw.description = params.text("description") or ""
        fw.updated_at = cloud.now()
        cloud.state.changed()
        return reply(
            firmware_json(product, fw, _running(cloud.state.devices.values(), product, fw.version), detail=True)
        )


async def release_firmware(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    params = await read_params(request)
    caller = authenticate(cloud, request, params)
    product = product_for(cloud, caller, request.match_info["p"], "firmware:release")
    version = _version(params)
    groups = params.strings("groups")
    default = params.flag("product_default")
    if default is None and not groups:
        default = True  # api-js 11 sends only the version; releasing it as the default is our reading (unconfirmed)
    with cloud.state.lock:
        fw = _firmware(product, str(version))
        ran = any(
            d.firmware_product_id == product.id and d.firmware_version == version for d in cloud.state.devices.values()
        )
        if not fw.released and not ran:
            raise bad_request(
                f"Firmware version {version} of product {product.id} has not run on any device in the product yet; "
                "flash it to one device and let it connect before releasing"
            )
        if default:
            for other in product.firmware.values():
                other.product_default = False
            fw.product_default = True
        if groups is not None:
            for name in groups:
                _checked_name(name)
                product.groups.setdefault(name, Group(name=name))
            for other in product.firmware.values():
                other.groups = [g for g in other.groups if g not in groups]
            fw.groups = sorted(set(groups))
        fw.intelligent = bool(params.flag("intelligent"))
        fw.released, fw.updated_at = True, cloud.now()
        cloud.state.changed()
        return reply(
            {
                "version": fw.version,
                "title": fw.title,
                "product_default": fw.product_default,
                "groups": fw.groups,
                "intelligent": fw.intelligent,
                "updated_at": iso(fw.updated_at),
            }
        )


async def delete_firmware(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller = authenticate(cloud, request, await read_params(request))
    product = product_for(cloud, caller, request.match_info["p"], "firmware:remove")
    with cloud.state.lock:
        fw = _firmware(product, request.match_info["version"])
        if fw.released:
            raise ApiError(
                400, {"ok": False, "error": f"Firmware version {fw.version} was released and cannot be deleted"}
            )
        del product.firmware[fw.version]
        cloud.state.changed()
    return no_content()


def register(app: web.Application) -> None:
    router = app.router
    router.add_put("/v1/products/{p}/devices", bulk_groups)
    router.add_get("/v1/products/{p}/groups", list_groups, allow_head=False)
    router.add_post("/v1/products/{p}/groups", create_group)
    router.add_get("/v1/products/{p}/groups/{name}", get_group, allow_head=False)
    router.add_put("/v1/products/{p}/groups/{name}", update_group)
    router.add_delete("/v1/products/{p}/groups/{name}", delete_group)
    router.add_get("/v1/products/{p}/firmware", list_firmware, allow_head=False)
    router.add_post("/v1/products/{p}/firmware", upload_firmware)
    router.add_put("/v1/products/{p}/firmware/release", release_firmware)
    router.add_get("/v1/products/{p}/firmware/{version}", get_firmware, allow_head=False)
    router.add_get("/v1/products/{p}/firmware/{version}/binary", download_firmware, allow_head=False)
    router.add_put("/v1/products/{p}/firmware/{version}", edit_firmware)
    router.add_delete("/v1/products/{p}/firmware/{version}", delete_firmware)
