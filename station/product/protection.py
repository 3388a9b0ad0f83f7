"""Device Protection from the product's side: the Service Mode handshake between a device and the cloud, returning a
device to protected, protecting an Open Device with its bootloader, and clearing the development flag so a newly
protected device stays protected.

The handshake is particle-cli 3.49.2 ``src/cmd/device-protection.js`` (disable): cloud prepare → device PREPARE →
cloud confirm → device CONFIRM; the device's side is a ``hardware.usb.protection.ProtectionChannel``, the cloud's
``cloud_client`` (``PUT /v1/devices/:id/unprotect``). Messages follow the CLI's ("is now in Service Mode", "is not a
Protected Device", "is already a Protected Device").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from cloud_client.client import ParticleCloud
from cloud_client.errors import CloudError, InvalidInputError, NotFoundError
from hardware.firmware import FirmwareModule
from hardware.firmware.protected_bootloader import protect_bootloader
from hardware.firmware.versions import DeviceOsVersion
from hardware.usb.discovery import UsbDevice
from hardware.usb.flashing import open_control, raise_if_incompatible
from hardware.usb.protection import (
    MIN_PROTECTED_DEVICE_OS,
    SERVICE_MODE_RESETS,
    ProtectionChannel,
    ProtectionState,
    install_protected_bootloader,
)
from hardware.usb.timing import HostTiming
from station.errors import StationError

PUBLIC_KEY_NOT_FOUND = "device public key was not found"
"""The cloud's text when it holds no public key matching the device's (particle-cli rewrites it as a server key
mismatch)."""
SERVICE_MODE_LIMITS = (f"A Protected Device stays in Service Mode for a total of {SERVICE_MODE_RESETS} reboots or "
                       "24 hours.")
"""particle-cli src/cmd/device-protection.js; device-os services/src/security_mode.cpp (20 resets, 24 h)."""

HANDSHAKE_ATTEMPTS = 2
"""A handshake whose confirmation the cloud refused as already used (its first reply was lost) runs once more."""

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
"""Told each step of the handshake as it starts (for a journal or a status line)."""


class ProtectionError(StationError):
    """A Device Protection operation that could not be completed; the message says what to do."""


@dataclass(frozen=True)
class ServiceModeResult:
    """What ``enter_service_mode`` did."""

    device_id: str
    product_id: int | None
    before: ProtectionState
    after: ProtectionState
    entered: bool
    """True when the handshake ran and the device is now in Service Mode."""
    message: str
    unscoped: bool = False
    """True when the product-scoped calls answered 404 (the device is not in the product yet) and the handshake
    used the un-scoped ``/v1/devices/:id/unprotect``, as particle-cli does."""


def status_line(device_id: str, product_id: int | None, state: ProtectionState) -> str:
    """``[<id>] (Product <id or N/A>): <state>``, as particle-cli prints it."""
    return f"[{device_id}] (Product {product_id if product_id is not None else 'N/A'}): {state.display_name}"


def _key_mismatch(cloud: ParticleCloud, device_id: str, exc: CloudError) -> ProtectionError:
    url = cloud.base_url
    return ProtectionError(
        f"server key mismatch: the cloud at {url} holds no public key matching device {device_id}'s "
        f"(Particle said: {exc.api_message}); check that the device is reachable through {url}, i.e. that it "
        "belongs to this cloud, and that the station's profile names the right API URL"
    )


def enter_service_mode(
    channel: ProtectionChannel,
    cloud: ParticleCloud,
    device_id: str,
    *,
    product_id: int | None,
    progress: Progress | None = None,
) -> ServiceModeResult:
    """Put a Protected Device in Service Mode through the cloud; an Open device is left alone.

    Runs the handshake also when the device is already in Service Mode (as the CLI does: it restarts the 20 resets /
    24 hours). ``product_id`` selects the product-scoped form of the cloud calls (what a product token may call);
    None uses the un-scoped ``/v1/devices/:id`` form. When the product-scoped prepare answers 404 (a Protected Device
    not yet in the product, e.g. a returned unit) and the product itself exists, the handshake uses the un-scoped
    form, which is what particle-cli calls (src/lib/device-protection-helper.js).
    Raises ProtectionError, CloudError or HardwareError.
    """
    tell = progress or (lambda _step: None)
    ident = device_id.lower()
    before = channel.get_state()
    if before is ProtectionState.OPEN:
        return _not_protected(ident, product_id, before)
    proof = None
    scope = product_id
    for attempt in range(HANDSHAKE_ATTEMPTS):
        tell("cloud prepare")
        try:
            server_nonce = cloud.unprotect_prepare(ident, product=scope)
        except NotFoundError:
            if scope is None or not _product_exists(cloud, scope):
                raise  # an unknown product is the caller's mistake, not a device outside the product
            log.info("unprotect %s: not found in product %s; using /v1/devices/%s/unprotect", ident, scope, ident)
            scope = None
            tell("cloud prepare (device not in the product)")
            server_nonce = cloud.unprotect_prepare(ident)
        tell("device prepare")
        reply = channel.prepare(server_nonce)
        if reply is None:
            return _not_protected(ident, product_id, before)
        tell("cloud confirm")
        try:
            proof = cloud.unprotect_confirm(
                ident, server_nonce, reply.device_nonce, reply.device_signature,
                reply.device_public_key_fingerprint, product=scope,
            )
            break
        except CloudError as exc:
            if PUBLIC_KEY_NOT_FOUND in exc.api_message.lower():
                raise _key_mismatch(cloud, ident, exc) from None
            # A confirm whose reply was lost is sent again by the client, and the cloud refuses the spent nonce:
            # the handshake starts over once with fresh nonces (the device accepts a new PREPARE at any time).
            if not isinstance(exc, InvalidInputError) or attempt + 1 == HANDSHAKE_ATTEMPTS:
                raise
            log.warning("unprotect %s: the cloud refused the confirmation (%s); starting the handshake again",
                        ident, exc.api_message)
    assert proof is not None
    tell("device confirm")
    channel.confirm(proof.server_signature, proof.server_public_key_fingerprint)
    after = channel.get_state()
    if after is not ProtectionState.SERVICE_MODE:
        raise ProtectionError(
            f"device {ident} accepted the cloud's confirmation but reports {after.display_name}, not Service Mode; "
            "run `particle-station protection disable` again, and replace the unit if it persists"
        )
    return ServiceModeResult(ident, product_id, before, after, True,
                             f"Device {ident} is now in Service Mode. {SERVICE_MODE_LIMITS}",
                             unscoped=scope is None and product_id is not None)


def _product_exists(cloud: ParticleCloud, product_id: int) -> bool:
    try:
        cloud.get_product(product_id)
    except NotFoundError:
        return False
    return True


def _not_protected(device_id: str, product_id: int | None, state: ProtectionState) -> ServiceModeResult:
    message = f"Device {device_id} is not a Protected Device."
    return ServiceModeResult(device_id, product_id, state, state, False, message)


def return_to_protected(channel: ProtectionChannel, device_id: str) -> str:
    """Leave Service Mode (SetProtectedState RESET, or DfuSe 0xFB in DFU mode); the sentence to show.

    An Open device cannot be protected this way: it needs the protected bootloader, so ProtectionError says so.
    """
    ident = device_id.lower()
    state = channel.get_state()
    if state is ProtectionState.PROTECTED:
        return f"Device {ident} is already a Protected Device."
    if state is ProtectionState.OPEN:
        raise ProtectionError(
            f"device {ident} is an Open Device: protecting it needs a bootloader with the Device Protection "
            "(SECURITY_MODE) extension; give its Device OS bootloader with --file BOOTLOADER.bin"
        )
    channel.reset()
    after = channel.get_state()
    if after is ProtectionState.SERVICE_MODE:
        raise ProtectionError(f"device {ident} is still in Service Mode after RESET; unplug and replug it, then "
                              "run `particle-station protection enable` again")
    return f"Device {ident} is now a Protected Device."


def protect_open_device(device: UsbDevice, bootloader: FirmwareModule, timing: HostTiming) -> tuple[UsbDevice, str]:
    """Make an Open Device (normal mode) a Protected Device: its bootloader with the SECURITY_MODE extension added, as
    particle-cli's ``enable --file`` builds it (binary-version-reader createProtectedModule), installed over USB as
    ``flash --local`` installs a bootloader. Returns the device reopened after its reset, and the sentence to show.

    Refused below Device OS 6.1.1, which a Protected Device may not run (particle-cli src/lib/flash-helper.js).
    Raises ProtectionError, FirmwareError or HardwareError.
    """
    who = device.describe()
    version = DeviceOsVersion.parse_or_none(open_control(device, timing).system_version())
    if version is None or not version.reaches(MIN_PROTECTED_DEVICE_OS):
        minimum = ".".join(str(part) for part in MIN_PROTECTED_DEVICE_OS)
        raise ProtectionError(f"{who} runs Device OS {version or 'of unknown version'}; a Protected Device needs "
                              f"{minimum} or later: update its Device OS first")
    protected = protect_bootloader(bootloader)
    raise_if_incompatible(protected, device.platform, who)
    device = install_protected_bootloader(device, protected.data, timing=timing)
    return device, f"Device {device.device_id} is now a Protected Device."


def clear_development_flag(cloud: ParticleCloud, product_id: int, device_id: str) -> str:
    """Unmark the product device as a development device, so that the cloud keeps its protected bootloader (as
    particle-cli's enable does); the sentence to show. A device already not in development mode is left alone."""
    ident = device_id.lower()
    try:
        device = cloud.get_device(product_id, ident)
        if not device.development:
            return f"Device {ident} is not a development device in product {product_id}; nothing to change."
        cloud.set_development(product_id, ident, False)
    except CloudError as exc:
        raise ProtectionError(
            f"could not clear the development flag of device {ident} in product {product_id}: {exc}. Device "
            "protection may be disabled on next cloud connection: unmark it as a development device in the console"
        ) from None
    return "Device removed from development mode to maintain current settings."
