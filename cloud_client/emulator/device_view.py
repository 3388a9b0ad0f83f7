"""How devices look on the wire (list and get forms) and how lists of them are filtered and paged.

Facts: docs.particle.io Cloud API, 'List devices in a product' and 'Get device information'; the key sets particle-cli
3.43.1's e2e tests (test/e2e/product.e2e.js) check.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from cloud_client.emulator.state import CloudState, Device, Product
from cloud_client.emulator.wire import Params, bad_request, iso

DEFAULT_PAGE_SIZE = 25
"""Default page size of product device and SIM lists (docs.particle.io Cloud API, 'List devices in a product',
'List SIM cards')."""

T = TypeVar("T")


def targeted_version(device: Device, product: Product | None) -> int | None:
    """The product firmware the cloud wants this device to run: its lock, else its groups' or the default release."""
    if product is None:
        return None
    if device.desired_firmware_version is not None:
        return device.desired_firmware_version
    return product.released_version(device.groups)


def device_summary(device: Device, state: CloudState) -> dict[str, Any]:
    """The list form; every key the e2e tests saw in list replies, unset values as null."""
    product = state.products.get(device.product_id) if device.product_id is not None else None
    body: dict[str, Any] = {
        "id": device.id,
        "name": device.name,
        # For a plain developer device product_id is the platform id (docs.particle.io, 'Get device information').
        "product_id": device.product_id if device.product_id is not None else device.platform_id,
        "platform_id": device.platform_id,
        "owner": device.owner,
        "online": device.online,
        "groups": list(device.groups),
        "development": device.development,
        "quarantined": device.quarantined,
        "denied": device.denied,
        "serial_number": device.serial_number,
        "last_handshake_at": iso(device.last_handshake_at),
        "last_ip_address": device.last_ip_address,
        "last_heard": iso(device.last_heard),
        "firmware_product_id": device.firmware_product_id,
        "firmware_version": device.firmware_version,
        "system_firmware_version": device.system_firmware_version,
        "targeted_firmware_release_version": targeted_version(device, product),
        "desired_firmware_version": device.desired_firmware_version,
        "notes": device.notes,
        "cellular": device.cellular,
    }
    if device.cellular:
        body["iccid"] = device.iccid
        body["imei"] = device.imei
    return body


def device_detail(device: Device, state: CloudState) -> dict[str, Any]:
    """The get form: the list form plus connection, build-target and function/variable keys."""
    body = device_summary(device, state)
    body.update(
        {
            "connected": device.online,
            "status": "normal",
            "mobile_secret": device.mobile_secret,
            "firmware_updates_enabled": device.firmware_updates_enabled,
            "firmware_updates_forced": device.firmware_updates_forced,
            "current_build_target": device.system_firmware_version,
            "default_build_target": device.system_firmware_version,
            "functions": [],
            "variables": {},
            "last_app": None,
        }
    )
    return body


def page_of(items: Sequence[T], params: Params) -> tuple[list[T], dict[str, Any]]:
    """One 1-based page of ``items`` and the ``meta`` block; both ``per_page`` and ``perPage`` are accepted."""
    page = _positive(params, "page", 1)
    size = _positive(params, "per_page", 0) or _positive(params, "perPage", DEFAULT_PAGE_SIZE)
    start = (page - 1) * size
    total_pages = math.ceil(len(items) / size)
    # Particle's paginators read only total_pages; page, per_page and total follow the ajs12 types (unconfirmed).
    meta = {"page": page, "per_page": size, "total_pages": total_pages, "total": len(items)}
    return list(items[start : start + size]), meta


def _positive(params: Params, name: str, default: int) -> int:
    text = params.text(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise bad_request(f"{name} must be a positive whole number, got {text!r}") from None
    if value < 1:
        raise bad_request(f"{name} must be at least 1, got {value}")
    return value


def _contains(needle: str | None) -> Callable[[str | None], bool]:
    wanted = (needle or "").lower()
    return lambda value: wanted in (value or "").lower()


def filter_devices(devices: list[Device], params: Params) -> list[Device]:
    """Partial-match filters deviceId, deviceName, serialNumber; groups (any of a comma list); quarantined."""
    checks: list[Callable[[Device], bool]] = []
    if params.text("deviceId"):
        match_id = _contains(params.text("deviceId"))
        checks.append(lambda d: match_id(d.id))
    if params.text("deviceName"):
        match_name = _contains(params.text("deviceName"))
        checks.append(lambda d: match_name(d.name))
    if params.text("serialNumber"):
        match_serial = _contains(params.text("serialNumber"))
        checks.append(lambda d: match_serial(d.serial_number))
    groups = params.strings("groups")
    if groups:
        wanted = set(groups)
        checks.append(lambda d: bool(wanted & set(d.groups)))
    quarantined = params.flag("quarantined")
    if quarantined is not None:
        # Unconfirmed: the docs only say "include or exclude"; true lists only quarantined devices.
        checks.append(lambda d: d.quarantined == quarantined)
    return [d for d in devices if all(check(d) for check in checks)]


_SORT_KEYS: dict[str, Callable[[Device], Any]] = {
    "deviceName": lambda d: (d.name or "").lower(),
    "deviceId": lambda d: d.id,
    "firmwareVersion": lambda d: d.firmware_version if d.firmware_version is not None else -1,
    "lastConnection": lambda d: d.last_heard if d.last_heard is not None else -1.0,
}


def sort_devices(devices: list[Device], params: Params) -> list[Device]:
    """Sorted by ``sortAttr`` and ``sortDir``; the default is last connection, newest first
    (docs.particle.io Cloud API, 'List devices in a product')."""
    attr = params.text("sortAttr") or "lastConnection"
    if attr not in _SORT_KEYS:
        raise bad_request(f"sortAttr must be one of {', '.join(_SORT_KEYS)}, got {attr!r}")
    direction = params.text("sortDir") or ("desc" if attr == "lastConnection" else "asc")
    if direction not in ("asc", "desc"):
        raise bad_request(f"sortDir must be asc or desc, got {direction!r}")
    by_id = sorted(devices, key=lambda d: d.id)
    return sorted(by_id, key=_SORT_KEYS[attr], reverse=direction == "desc")
