"""Product device calls: import (one id or batched files), list, get, update, remove, and quarantine
(docs.particle.io Cloud API, product device endpoints and 'Quarantine')."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from cloud_client.calls import (
    UNSET,
    EndpointCalls,
    ProductRef,
    Unset,
    batched,
    device_id_of,
    plain_identifier,
    product_path,
)
from cloud_client.errors import NotFoundError
from cloud_client.models import DeviceUpdate, ImportOutcome, ImportResult, ProductDevice, merge_outcomes

log = logging.getLogger("cloud_client.devices")

DEFAULT_IMPORT_BATCH = 1000
DEFAULT_IMPORT_CONCURRENCY = 2
"""Two batches in flight hide one batch's round trip behind the other's, far below the API's rate limits."""
DEFAULT_PAGE_SIZE = 100
ImportProgress = Callable[[int, int], None]
"""Called after each import batch with (identifiers done, identifiers in total)."""


def _unique(identifiers: Iterable[object], operation: str) -> list[str]:
    seen: set[str] = set()
    unique: list[str] = []
    for raw in identifiers:
        ident = plain_identifier(raw, "device identifier", operation)
        if ident.lower() not in seen:
            seen.add(ident.lower())
            unique.append(ident)
    return unique


class ProductDeviceCalls(EndpointCalls):
    """The ``/v1/products/:p/devices`` family."""

    def import_device(self, product: ProductRef, device_id: object, *, claim_user: str | None = None) -> ImportOutcome:
        """Add one device to the product; ``EXISTING`` (already there) is success. Also approves a quarantined one."""
        ident = device_id_of(device_id, f"add device {device_id} to product {product}")
        body: dict[str, Any] = {"id": ident}
        if claim_user is not None:
            body["claim_user"] = claim_user
        what = f"add device {ident} to product {product}"
        reply = self._call_object(what, "POST", f"{product_path(product)}/devices", json=body)
        return ImportResult.from_reply(reply, [ident]).outcome_of(ident)

    def import_devices(
        self,
        product: ProductRef,
        identifiers: Iterable[object],
        *,
        batch_size: int = DEFAULT_IMPORT_BATCH,
        concurrency: int = DEFAULT_IMPORT_CONCURRENCY,
        import_sims: bool = False,
        claim_user: str | None = None,
        progress: ImportProgress | None = None,
    ) -> ImportResult:
        """Add many devices (device ids, serial numbers, IMEIs or ICCIDs) as multipart ``file`` uploads.

        Duplicates are sent once (compared case-insensitively). Each batch is one request, and up to
        ``concurrency`` batches are in flight at once (their ids never overlap). A batch retried after a lost reply
        reports its ids as existing, which is success; running the import again is a no-op that reports every id
        as ``EXISTING``. If a batch finally fails, the batches in flight finish and its error is raised; repeating
        the whole import is then safe.
        """
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        idents = _unique(identifiers, f"import devices into product {product}")
        form: dict[str, str] = {}
        if import_sims:
            form["import_sims"] = "true"
        if claim_user is not None:
            form["claim_user"] = claim_user
        starts = range(0, len(idents), batch_size)
        batches = [(start, batch) for start, batch in zip(starts, batched(idents, batch_size), strict=True)]

        def send(start: int, batch: list[str]) -> tuple[int, ImportResult]:
            what = f"import devices {start + 1}-{start + len(batch)} of {len(idents)} into product {product}"
            # The CLI's format: one identifier per line, no trailing newline (particle-cli 3.43.1 src/cmd/product.js).
            file_part = ("file", "\n".join(batch).encode(), "application/octet-stream")
            reply = self._call_object(what, "POST", f"{product_path(product)}/devices", data=form,
                                      files={"file": file_part})
            result = ImportResult.from_reply(reply, batch)
            log.info("%s: %d added, %d already there, %d refused", what, result.count(ImportOutcome.ADDED),
                     result.count(ImportOutcome.EXISTING), len(result.failed))
            return len(batch), result

        outcomes: dict[str, ImportOutcome] = {}
        done = 0

        def collect(sent: int, result: ImportResult) -> None:
            nonlocal done
            merge_outcomes(outcomes, result.outcomes)
            done += sent
            if progress is not None:
                progress(done, len(idents))

        if concurrency == 1 or len(batches) < 2:
            for start, batch in batches:
                collect(*send(start, batch))
        else:
            with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="particle-import") as pool:
                futures = [pool.submit(send, start, batch) for start, batch in batches]
                try:
                    for future in as_completed(futures):
                        collect(*future.result())
                except BaseException:
                    for future in futures:
                        future.cancel()
                    raise
        return ImportResult(outcomes=outcomes, requests=len(batches))

    def iter_devices(
        self,
        product: ProductRef,
        *,
        device_id: str | None = None,
        name: str | None = None,
        serial_number: str | None = None,
        groups: Sequence[str] = (),
        quarantined: bool | None = None,
        sort_by: str | None = None,
        descending: bool | None = None,
        per_page: int = DEFAULT_PAGE_SIZE,
    ) -> Iterator[ProductDevice]:
        """Every device of the product matching the filters (partial matches, as the API does), page by page."""
        params: dict[str, str | int] = {"per_page": per_page}
        for key, value in (("deviceId", device_id), ("deviceName", name), ("serialNumber", serial_number),
                           ("sortAttr", sort_by)):
            if value is not None:
                params[key] = value
        if groups:
            params["groups"] = ",".join(groups)
        if quarantined is not None:
            params["quarantined"] = "true" if quarantined else "false"
        if descending is not None:
            params["sortDir"] = "desc" if descending else "asc"
        page, total_pages = 1, 1
        while page <= total_pages:
            what = f"list devices of product {product} (page {page})"
            reply = self._call_object(what, "GET", f"{product_path(product)}/devices", params={**params, "page": page})
            devices = reply.get("devices")
            rows = [row for row in devices if isinstance(row, dict)] if isinstance(devices, list) else []
            yield from (ProductDevice.from_json(row) for row in rows)
            meta = reply.get("meta")
            pages = meta.get("total_pages") if isinstance(meta, dict) else None
            # Particle's own paginators trust meta.total_pages; without it, stop at a short page.
            total_pages = pages if isinstance(pages, int) else (page + 1 if len(rows) >= per_page else page)
            page += 1

    def list_devices(self, product: ProductRef, **filters: Any) -> list[ProductDevice]:
        """All pages of ``iter_devices`` as a list; takes the same filters."""
        return list(self.iter_devices(product, **filters))

    def find_device_by_serial(self, product: ProductRef, serial_number: str) -> ProductDevice | None:
        """The product device with exactly this serial number (the list filter has no special rate limit)."""
        wanted = serial_number.strip().upper()
        for device in self.iter_devices(product, serial_number=wanted):
            if (device.serial_number or "").upper() == wanted:
                return device
        return None

    def get_device(self, product: ProductRef, device_id: object) -> ProductDevice:
        """One product device; NotFoundError when it is not in the product."""
        ident = device_id_of(device_id, f"get device {device_id} of product {product}")
        what = f"get device {ident} of product {product}"
        return ProductDevice.from_json(self._call_object(what, "GET", f"{product_path(product)}/devices/{ident}"))

    def update_device(
        self,
        product: ProductRef,
        device_id: object,
        *,
        name: str | Unset = UNSET,
        notes: str | Unset = UNSET,
        development: bool | Unset = UNSET,
        firmware_version: int | Unset | None = UNSET,
        flash: bool | Unset = UNSET,
        groups: Sequence[str] | Unset = UNSET,
    ) -> DeviceUpdate:
        """Change the given fields only. ``firmware_version`` locks the device to a product firmware version,
        None unlocks it; ``groups`` replaces all memberships (missing groups are created)."""
        ident = device_id_of(device_id, f"update device {device_id} of product {product}")
        body: dict[str, Any] = {}
        for key, value in (("name", name), ("notes", notes), ("development", development),
                           ("desired_firmware_version", firmware_version), ("flash", flash)):
            if value is not UNSET:
                body[key] = value
        if not isinstance(groups, Unset):
            body["groups"] = list(groups)
        changes = ", ".join(sorted(body)) or "nothing"
        what = f"update {changes} of device {ident} in product {product}"
        reply = self._call_object(what, "PUT", f"{product_path(product)}/devices/{ident}", json=body)
        return DeviceUpdate.from_json(reply)

    def lock_firmware(self, product: ProductRef, device_id: object, version: int, *, flash: bool = False) -> None:
        """Keep the device on product firmware ``version`` (``flash``: update it now if it is online)."""
        self.update_device(product, device_id, firmware_version=version, flash=flash)

    def unlock_firmware(self, product: ProductRef, device_id: object) -> None:
        """Let the device follow the product's released firmware again."""
        self.update_device(product, device_id, firmware_version=None)

    def set_development(self, product: ProductRef, device_id: object, development: bool) -> None:
        """Mark (or unmark) a development device, which automatic product firmware updates skip."""
        self.update_device(product, device_id, development=development)

    def remove_device(self, product: ProductRef, device_id: object, *, deny: bool = False) -> bool:
        """Remove the device from the product (``deny``: also refuse it if it connects again).

        Returns False when the device was not in the product (already removed is the wanted state).
        """
        ident = device_id_of(device_id, f"remove device {device_id} from product {product}")
        what = f"{'deny' if deny else 'remove'} device {ident} from product {product}"
        try:
            self._call(what, "DELETE", f"{product_path(product)}/devices/{ident}", json={"deny": True} if deny else {})
        except NotFoundError as exc:
            # 400 "Device not found for this product"; an unknown product is a 404 and stays an error.
            if exc.status != 400:
                raise
            log.info("%s: it was not in the product", what)
            return False
        return True

    # --- quarantine (docs.particle.io Cloud API, 'Approve/Deny a quarantined device') ---------------------------

    def quarantined_devices(self, product: ProductRef) -> list[ProductDevice]:
        """Devices waiting in the product's quarantine: unknown devices that connected with its firmware.

        The list filter ``quarantined=true`` is documented only as "include or exclude", so the reply is filtered
        on each device's ``quarantined`` flag as well. The API has no documented way to list denied devices: a
        denied device leaves the product.
        """
        return [device for device in self.iter_devices(product, quarantined=True) if device.quarantined]

    def approve_device(self, product: ProductRef, device_id: object) -> ImportOutcome:
        """Approve a quarantined device: the documented way is to import it by id. ``ADDED`` = approved now,
        ``EXISTING`` = already a full member."""
        return self.import_device(product, device_id)

    def deny_device(self, product: ProductRef, device_id: object) -> bool:
        """Deny a quarantined device (``DELETE`` with ``deny=true``): it leaves the product and stays out if it
        connects again. False when it was not in the product."""
        return self.remove_device(product, device_id, deny=True)
