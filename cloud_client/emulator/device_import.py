"""Product device import: resolve each identifier and sort it into exactly one reply list.

Facts: docs.particle.io Cloud API, 'Import devices into product'; the reply lists particle-cli 3.43.1 reads
(src/cmd/product.js, src/cmd/setup-tachyon.js).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from cloud_client.emulator.sim_logic import import_sim
from cloud_client.emulator.state import CloudState, Device, Product

_HEX24 = re.compile(r"[0-9a-fA-F]{24}")
_SERIAL = re.compile(r"[A-Za-z0-9]{15}")
_IMEI = re.compile(r"[0-9]{15}")
_ICCID = re.compile(r"89[0-9]{17,18}")
SIM_NOT_IMPORTED_WITH_DEVICE = frozenset({10})
"""Platforms whose SIM an import leaves alone: the Electron / E Series (platform 10). Particle's manufacturing guide
excepts the 2G/3G Electrons from "importing a device also imports and activates its SIM"; the emulator cannot tell
a 2G/3G Electron from an LTE one, so it excepts the whole platform (the cautious reading)."""


def resolve_identifier(state: CloudState, text: str) -> Device | None:
    """The device a device id, serial number, IMEI or ICCID names; None when none does or it is malformed."""
    candidate = text.strip()
    if _HEX24.fullmatch(candidate):
        return state.devices.get(candidate.lower())
    if _ICCID.fullmatch(candidate):
        return state.device_by_iccid(candidate)
    if _IMEI.fullmatch(candidate):
        # 15 digits is also the shape of a serial number, so try both.
        return state.device_by_imei(candidate) or state.device_by_serial(candidate)
    if _SERIAL.fullmatch(candidate):
        return state.device_by_serial(candidate)
    return None


def on_team(product: Product, username: str | None) -> bool:
    if username is None:
        return False
    name = username.lower()
    return name == product.owner.lower() or name in (m.lower() for m in product.team)


def admit(state: CloudState, product: Product, device: Device, now: float) -> None:
    """Make ``device`` a full member of ``product``: out of quarantine and off the deny list."""
    device.product_id = product.id
    device.quarantined = False
    device.denied = False
    device.updated_at = now
    if device.id in product.denied_ids:
        product.denied_ids.remove(device.id)
    state.changed()


@dataclass
class ImportReport:
    updated: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    nonmember: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    protected: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        # All five keys always, arrays even when empty: particle-cli's setup-tachyon.js reads .length on each.
        # protectedDeviceIds only when a device was refused for Device Protection (particle-cli src/cmd/product.js
        # reads it when present, PR #768 "Skipped Protected IDs").
        body: dict[str, Any] = {
            "updated": len(self.updated),
            "updatedDeviceIds": self.updated,
            "existingDeviceIds": self.existing,
            "nonmemberDeviceIds": self.nonmember,
            "invalidDeviceIds": self.invalid,
        }
        if self.protected:
            body["protectedDeviceIds"] = self.protected
        return body


def import_devices(
    state: CloudState,
    product: Product,
    identifiers: list[str],
    *,
    claim_user: str | None,
    import_sims: bool,
    now: float,
    sim_delay_s: float,
) -> ImportReport:
    """Import each identifier into ``product``; the caller holds ``state.lock``.

    Resolved identifiers are reported by their lowercase device id, unresolved ones as sent (whether the real API
    echoes or lowercases is unconfirmed; the CLI compares case-insensitively). A device named twice is reported once.
    """
    report = ImportReport()
    seen: set[str] = set()
    for raw in identifiers:
        text = raw.strip()
        if not text:
            continue
        device = resolve_identifier(state, text)
        key = device.id if device is not None else text.lower()
        if key in seen:
            continue
        seen.add(key)
        if device is None:
            report.invalid.append(text)
        elif device.product_id == product.id and not device.quarantined:
            report.existing.append(device.id)
            _claim(state, device, claim_user)
        elif device.product_id is not None and device.product_id != product.id:
            # In another product: invalid, not nonmember (particle-cli src/cmd/product.js says so in a comment).
            report.invalid.append(device.id)
        elif device.platform_id != product.platform_id:
            # "Devices must be of the same platform type as the product"; the list is unconfirmed, invalid likely.
            report.invalid.append(device.id)
        elif device.owner is not None and not on_team(product, device.owner) and device.owner not in product.customers:
            report.nonmember.append(device.id)
        elif device.protected and product.device_protection != "active":
            # A Protected Device is not added to a product without Device Protection.
            report.protected.append(device.id)
        else:
            # New, or quarantined in this product and now approved (docs.particle.io, 'Approve a quarantined device').
            admit(state, product, device, now)
            _claim(state, device, claim_user)
            report.updated.append(device.id)
            # An imported device's Particle SIM is imported into the product and activated too
            # (docs.particle.io Cloud API, 'Import devices into product'); ``import_sims`` asks for it on any platform.
            with_sim = import_sims or device.platform_id not in SIM_NOT_IMPORTED_WITH_DEVICE
            if with_sim and device.iccid and device.iccid in state.sims:
                import_sim(state, product, state.sims[device.iccid], now, sim_delay_s)
    return report


def _claim(state: CloudState, device: Device, claim_user: str | None) -> None:
    if claim_user is not None and device.owner is None:
        device.owner = claim_user
        state.changed()
