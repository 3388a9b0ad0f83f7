"""The product's quarantine for the engineer view: list the devices waiting in it, approve or deny each one.

A product with quarantine on holds back a device the product does not know when it connects running the product's
firmware (Device OS 3 and earlier builds carry the PRODUCT_ID); it is listed with ``quarantined`` set and is not a
member until approved (docs.particle.io, 'Approve a quarantined device'). Approving imports it by id; denying removes
it with ``deny=true``, after
which it stays out. The API has no documented way to list denied devices, so this module offers none.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from cloud_client.client import ParticleCloud
from cloud_client.errors import NotFoundError
from cloud_client.models import ImportOutcome, ProductDevice
from hardware.errors import UnknownPlatformError
from hardware.identifiers import DeviceId
from hardware.platforms import Platform, by_id
from station.errors import StationError

log = logging.getLogger(__name__)


class QuarantineError(StationError):
    """A quarantined device cannot be approved or denied; the message says why and what to do."""


class Approval(enum.Enum):
    APPROVED = "approved"
    ALREADY_MEMBER = "already a member"


class Denial(enum.Enum):
    DENIED = "denied"
    NOT_IN_PRODUCT = "not in the product"
    """Nothing to deny: it was never quarantined here, or was already denied or removed."""


@dataclass(frozen=True)
class QuarantinedDevice:
    """One device waiting in quarantine, with what the engineer needs to decide."""

    device_id: DeviceId
    platform: Platform | None
    """None for a platform id the station's table does not know."""
    serial_number: str | None
    online: bool
    last_heard: str | None
    firmware_version: int | None
    """The product firmware version it connected with."""
    system_firmware_version: str | None
    name: str | None

    @classmethod
    def from_cloud(cls, device: ProductDevice) -> QuarantinedDevice:
        try:
            platform: Platform | None = by_id(device.platform_id)
        except UnknownPlatformError:
            platform = None
        return cls(
            device_id=DeviceId.parse(device.id),
            platform=platform,
            serial_number=device.serial_number,
            online=device.online,
            last_heard=device.last_heard,
            firmware_version=device.firmware_version,
            system_firmware_version=device.system_firmware_version,
            name=device.name,
        )


_REFUSED = {
    ImportOutcome.NON_MEMBER: "it is claimed by another Particle account; ask its owner to release it",
    ImportOutcome.INVALID: "the cloud does not know it, it is of another platform, or it is in another product",
    ImportOutcome.PROTECTED: "Device Protection refused it",
    ImportOutcome.UNREPORTED: "the cloud did not report on it; list the quarantine again and retry",
}


def quarantined(cloud: ParticleCloud, product_id: int) -> list[QuarantinedDevice]:
    """The devices waiting in the product's quarantine, by device id."""
    devices = [QuarantinedDevice.from_cloud(d) for d in cloud.quarantined_devices(product_id)]
    return sorted(devices, key=lambda d: d.device_id.value)


def approve(cloud: ParticleCloud, product_id: int, device_id: DeviceId) -> Approval:
    """Make the device a member of the product. Approving a device twice is success (ALREADY_MEMBER)."""
    outcome = cloud.approve_device(product_id, device_id.value)
    if outcome is ImportOutcome.ADDED:
        log.info("approved device %s into product %s", device_id, product_id)
        return Approval.APPROVED
    if outcome is ImportOutcome.EXISTING:
        return Approval.ALREADY_MEMBER
    raise QuarantineError(f"device {device_id} could not be approved into product {product_id}: {_REFUSED[outcome]}")


def deny(cloud: ParticleCloud, product_id: int, device_id: DeviceId) -> Denial:
    """Refuse a quarantined device: it leaves the product and stays out. Refuses to deny a full member, which
    would take a working unit out of the product."""
    try:
        device = cloud.get_device(product_id, device_id.value)
    except NotFoundError:
        return Denial.NOT_IN_PRODUCT
    if not device.quarantined:
        raise QuarantineError(
            f"device {device_id} is a full member of product {product_id}, not in quarantine; deny only refuses "
            "quarantined devices. Remove it from the product in the Particle Console if that is what you want"
        )
    if not cloud.deny_device(product_id, device_id.value):
        return Denial.NOT_IN_PRODUCT
    log.info("denied quarantined device %s in product %s", device_id, product_id)
    return Denial.DENIED
