"""Product device groups and product firmware: which firmware the product's devices get (docs.particle.io Cloud API,
device groups and product firmware endpoints)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from cloud_client.calls import EndpointCalls, ProductRef, device_id_of, product_path
from cloud_client.errors import InvalidResponseError, NotFoundError
from cloud_client.models import DeviceGroup, ProductFirmware


def _group_path(product: ProductRef, name: str) -> str:
    return f"{product_path(product)}/groups/{quote(name, safe='')}"


class FleetCalls(EndpointCalls):
    """``/v1/products/:p/groups`` and ``/v1/products/:p/firmware``."""

    def list_groups(self, product: ProductRef, *, name: str | None = None) -> list[DeviceGroup]:
        reply = self._call_object(f"list groups of product {product}", "GET", f"{product_path(product)}/groups",
                                  params={"name": name} if name else None)
        groups = reply.get("groups")
        return [DeviceGroup.from_json(g) for g in groups if isinstance(g, dict)] if isinstance(groups, list) else []

    def get_group(self, product: ProductRef, name: str) -> DeviceGroup:
        reply = self._call_object(f"get group {name!r} of product {product}", "GET", _group_path(product, name))
        return DeviceGroup.from_json(_inner(reply, "group", f"get group {name!r} of product {product}"))

    def create_group(
        self, product: ProductRef, name: str, *, description: str = "", color: str | None = None
    ) -> DeviceGroup:
        """Create a group (names: lowercase letters, digits, ``-`` and ``_``)."""
        what = f"create group {name!r} in product {product}"
        body: dict[str, Any] = {"name": name, "description": description}
        if color is not None:
            body["color"] = color
        reply = self._call_object(what, "POST", f"{product_path(product)}/groups", json=body)
        return DeviceGroup.from_json(_inner(reply, "group", what))

    def delete_group(self, product: ProductRef, name: str) -> bool:
        """Delete the group (its devices leave it); False when there was no such group."""
        try:
            self._call(f"delete group {name!r} of product {product}", "DELETE", _group_path(product, name), json={})
        except NotFoundError as exc:
            if exc.status != 404:
                raise
            return False
        return True

    def change_groups(
        self, product: ProductRef, device_ids: Iterable[object], *, add: Sequence[str] = (),
        remove: Sequence[str] = (),
    ) -> None:
        """Add devices to, or remove them from, groups in bulk (other memberships stay)."""
        what = f"change the groups of devices in product {product}"
        ids = [device_id_of(value, what) for value in device_ids]
        for action, names in (("add", add), ("remove", remove)):
            if names and ids:
                self._call_object(what, "PUT", f"{product_path(product)}/devices",
                                  json={"action": "groups", "devices": ids, "metadata": {action: list(names)}})

    def list_firmware(self, product: ProductRef) -> list[ProductFirmware]:
        what = f"list firmware of product {product}"
        reply = self._call(what, "GET", f"{product_path(product)}/firmware")
        if not isinstance(reply.body, list):
            raise InvalidResponseError(f"{what}: the reply is not a JSON array; try again, and report it if it "
                                       "persists", operation=what, status=reply.status)
        return [ProductFirmware.from_json(item) for item in reply.body if isinstance(item, dict)]

    def get_firmware(self, product: ProductRef, version: int) -> ProductFirmware:
        what = f"get firmware version {version} of product {product}"
        return ProductFirmware.from_json(self._call_object(what, "GET", f"{product_path(product)}/firmware/{version}"))

    def released_firmware(self, product: ProductRef) -> ProductFirmware | None:
        """The product's released default firmware, which devices get over the air unless locked or development."""
        return next((fw for fw in self.list_firmware(product) if fw.product_default), None)

    def upload_firmware(
        self, product: ProductRef, version: int, binary: bytes, *, title: str, description: str = "",
        filename: str = "firmware.bin",
    ) -> ProductFirmware:
        what = f"upload firmware version {version} ({len(binary)} bytes) to product {product}"
        reply = self._call_object(
            what, "POST", f"{product_path(product)}/firmware",
            data={"version": str(version), "title": title, "description": description},
            files={"file": (filename, binary, "application/octet-stream")},
        )
        return ProductFirmware.from_json(reply)

    def release_firmware(
        self, product: ProductRef, version: int, *, product_default: bool = True, groups: Sequence[str] = ()
    ) -> None:
        """Release ``version`` as the product default and/or to ``groups``."""
        what = f"release firmware version {version} of product {product}"
        body: dict[str, Any] = {"version": version, "product_default": product_default}
        if groups:
            body["groups"] = list(groups)
        self._call_object(what, "PUT", f"{product_path(product)}/firmware/release", json=body)

    def download_firmware(self, product: ProductRef, version: int) -> bytes:
        what = f"download firmware version {version} of product {product}"
        return self._call(what, "GET", f"{product_path(product)}/firmware/{version}/binary").content


def _inner(reply: dict[str, Any], key: str, what: str) -> dict[str, Any]:
    inner = reply.get(key)
    if not isinstance(inner, dict):
        raise InvalidResponseError(f"{what}: the reply has no {key!r} object; try again, and report it if it persists",
                                   operation=what)
    return inner
