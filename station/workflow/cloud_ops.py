"""The cloud work of one unit as named, idempotent operations that run inline or later from the outbox.

Each operation takes a JSON payload so it can be journalled in the outbox and replayed after a restart; running one
twice leaves the same state (an import that finds the device "existing", a claim by the same account, an update).
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cloud_client.client import ParticleCloud
from cloud_client.errors import NotFoundError
from cloud_client.models import ImportOutcome, SimActivation
from station.config.profile import (
    DEVICE_NAME_FIELDS,
    ClaimMode,
    ProfileError,
    SimActivationPolicy,
    StationProfile,
    render_template,
)
from station.records.reason_code import ReasonCode
from station.workflow.outcome import UnitFailure

Payload = dict[str, Any]


class NotYet(Exception):
    """The operation cannot finish yet but is on track; ask again in ``retry_in`` seconds (not a failure)."""

    def __init__(self, reason: str, retry_in: float) -> None:
        super().__init__(reason)
        self.retry_in = retry_in


class NotConfirmed(Exception):
    """The time box ran out and the profile says such a unit ends 'not confirmed' rather than FAIL."""


@dataclass(frozen=True)
class CloudOperation:
    name: str
    """Also the journal's step name."""
    run: Callable[[ParticleCloud, int, Payload], Payload]
    """Does the work; returns details for the journal. Raises UnitFailure for a definitive refusal."""
    title: str


def _pre_add(cloud: ParticleCloud, product: int, payload: Payload) -> Payload:
    device_id = payload["device_id"]
    outcome = cloud.import_device(product, device_id)
    if outcome.in_product:
        detail: Payload = {"outcome": outcome.value}
        if payload.get("iccid"):
            # The import imported and activated the SIM too (see SIM_ACTIVATED_BY_IMPORT); nothing to check per unit.
            detail["sim"] = SIM_BY_IMPORT
            detail["iccid"] = payload["iccid"]
        return detail
    reasons = {
        ImportOutcome.NON_MEMBER: "The cloud says this device is owned by another account and cannot join the product.",
        ImportOutcome.INVALID: (
            f"The cloud did not accept device {device_id} into product {product}: it is unknown, "
            "of another platform, or already in another product."
        ),
        ImportOutcome.PROTECTED: "Device Protection refused adding this device to the product.",
    }
    reason = reasons.get(outcome, f"The cloud did not add device {device_id} to the product ({outcome.value}).")
    raise UnitFailure(reason, "Set the unit aside; engineering must check it in the Console.", step="pre_add",
                      code=ReasonCode.CLOUD_REFUSED)


def _check_pre_add(cloud: ParticleCloud, product: int, payload: Payload) -> bool:
    try:
        cloud.get_device(product, payload["device_id"])
    except NotFoundError:
        return False
    return True


def _activate_sim(cloud: ParticleCloud, product: int, payload: Payload) -> Payload:
    state = cloud.activate_sim(product, payload["iccid"])
    if state is SimActivation.NOT_FOUND:
        raise UnitFailure(
            f"The cloud does not know SIM {payload['iccid']}.",
            "Set the unit aside; engineering must check the SIM card.",
            step="activate_sim", code=ReasonCode.CLOUD_REFUSED,
        )
    return {"sim": state.value}


def _sim_in_product(cloud: ParticleCloud, product: int, payload: Payload) -> Payload:
    """A SIM the device import should have brought in (station.workflow.sim_roster), checked on an engineer's retry."""
    if payload["iccid"] not in cloud.sims_in_product(product, [payload["iccid"]]):
        raise UnitFailure(
            f"The SIM card in this unit ({payload['iccid']}) is still not in product {product}.",
            "Set the unit aside; engineering must release the SIM from its other account, or fit another SIM.",
            step="sim_in_product", code=ReasonCode.SIM_OWNED_ELSEWHERE,
        )
    return {"sim": "in the product"}


def _claim(cloud: ParticleCloud, product: int, payload: Payload) -> Payload:
    account = payload.get("account")
    if account:
        outcome = cloud.claim_product_device(product, payload["device_id"], account)
        if not outcome.in_product:
            raise UnitFailure(
                f"The cloud did not claim the device to {account} ({outcome.value}).",
                "Set the unit aside; engineering must check the account.",
                step="claim", code=ReasonCode.CLOUD_REFUSED,
            )
        return {"account": account, "outcome": outcome.value}
    result = cloud.claim_device(payload["device_id"])
    return {"outcome": result.outcome.value}


def _update(cloud: ParticleCloud, product: int, payload: Payload) -> Payload:
    changes: dict[str, Any] = {}
    for key in ("name", "development", "groups", "firmware_version"):
        if key in payload:
            changes[key] = payload[key]
    if not changes:
        return {}
    cloud.update_device(product, payload["device_id"], **changes)
    return {"changed": sorted(changes)}


def _confirm_online(cloud: ParticleCloud, product: int, payload: Payload) -> Payload:
    device = cloud.get_device(product, payload["device_id"])
    expected = payload.get("firmware_version")
    if device.online and (expected is None or device.firmware_version == expected):
        return {"online": True, "firmware_version": device.firmware_version,
                "device_os": device.system_firmware_version}
    if time.time() < payload["deadline"]:
        raise NotYet("not online yet", retry_in=float(payload.get("poll_s", 1.0)))
    timeout = payload.get("timeout_s", 0)
    if not device.online:
        reason = f"The cloud did not see the unit online within {timeout:.0f} s."
    else:
        reason = (f"The unit is online but runs product firmware v{device.firmware_version}, "
                  f"not v{expected}, after {timeout:.0f} s.")
    if payload.get("on_timeout") == "fail":
        raise UnitFailure(reason, "Check the unit's power, antenna and SIM or Wi-Fi, then scan it again.",
                          step="confirm_online", code=ReasonCode.NOT_ONLINE_IN_TIME)
    raise NotConfirmed(reason)


OPERATIONS: dict[str, CloudOperation] = {
    op.name: op
    for op in (
        CloudOperation("pre_add", _pre_add, "Add to product"),
        CloudOperation("activate_sim", _activate_sim, "Activate SIM"),
        CloudOperation("claim", _claim, "Claim"),
        CloudOperation("update_device", _update, "Name, groups, flags"),
        CloudOperation("confirm_online", _confirm_online, "Online in the product"),
        CloudOperation("sim_in_product", _sim_in_product, "SIM in the product"),
    )
}

CHECKS: dict[str, Callable[[ParticleCloud, int, Payload], bool]] = {"pre_add": _check_pre_add}


SIM_BY_IMPORT = "imported and activated with the device"
SIM_SEPARATE_PLATFORMS = frozenset({"electron"})
"""Platforms whose SIM the device import does not activate: importing a device into a product also imports and
activates its Particle SIM (docs.particle.io Cloud API, 'Import devices into product'), except on the 2G/3G
Electrons (Particle's manufacturing guide). The profile names only the platform, so every Electron / E Series unit
keeps the separate SIM activation step."""


def sim_activated_by_import(profile: StationProfile) -> bool:
    """True when the pre-add step's import also activates the unit's SIM, so no SIM call is made per unit.

    ``sim_activation = "always"`` keeps the explicit, checked activation (a SIM owned by another account then fails
    the unit at the line); ``"auto"`` trusts the import.
    """
    return (profile.steps.pre_add and profile.steps.sim_activation is SimActivationPolicy.AUTO
            and profile.platform.name not in SIM_SEPARATE_PLATFORMS)


def plan_cloud_work(
    profile: StationProfile,
    *,
    device_id: str,
    iccid: str | None,
    serial: str | None,
    lot: str,
    today: datetime.date,
    firmware_version: int | None,
    groups: list[str] | None = None,
    lock_version: int | None = None,
) -> list[tuple[CloudOperation, Payload]]:
    """The cloud operations this unit needs, in the order they must run.

    The device must be in the product first. Its settings (name, groups, development flag, firmware lock) come next,
    before the SIM is activated: a unit that connects before its lock is set would be updated over the air.
    ``groups`` are the lot's expanded group names; ``lock_version`` a product firmware version to lock it to.
    """
    steps = profile.steps
    plan: list[tuple[CloudOperation, Payload]] = []
    sim_wanted = bool(iccid) and steps.sim_activation is not SimActivationPolicy.OFF
    by_import = sim_wanted and sim_activated_by_import(profile)
    if steps.pre_add:
        plan.append((OPERATIONS["pre_add"], {"device_id": device_id, "iccid": iccid} if by_import
                     else {"device_id": device_id}))
    update: Payload = {"device_id": device_id}
    if steps.rename:
        try:
            update["name"] = render_template(
                steps.rename, "steps.rename", DEVICE_NAME_FIELDS,
                serial=serial or device_id,
                device_id=device_id,
                short_id=device_id[-6:],
                product=profile.product_id,
                platform=profile.platform.name,
                lot=lot,
                station=profile.station_name,
                date=today.strftime("%Y%m%d"),
            )
        except ProfileError as exc:
            raise UnitFailure(f"The device name cannot be made: {exc}.",
                              "Ask the engineer to fix steps.rename in the profile; set the unit aside.",
                              step="update_device") from None
    if steps.development is not None:
        update["development"] = steps.development
    if profile.protection.protect_at_end:
        # A development device of the product does not stay protected (particle-cli's device-protection enable
        # clears the flag after flashing the protected bootloader). Cleared here, with the unit's other settings
        # and before it can connect, so a cloud outage queues it in the outbox like the rest of the unit's cloud
        # work instead of failing a unit that was protected. The profile refuses development = true with it.
        update["development"] = False
    if groups:
        update["groups"] = list(groups)
    if lock_version is not None:
        update["firmware_version"] = lock_version
    elif steps.firmware_lock and firmware_version is not None:
        update["firmware_version"] = firmware_version
    if len(update) > 1:
        plan.append((OPERATIONS["update_device"], update))
    if sim_wanted and not by_import:
        plan.append((OPERATIONS["activate_sim"], {"iccid": iccid}))
    if steps.claim is ClaimMode.PRODUCT_OWNER:
        plan.append((OPERATIONS["claim"], {"device_id": device_id}))
    elif steps.claim is ClaimMode.ACCOUNT:
        plan.append((OPERATIONS["claim"], {"device_id": device_id, "account": steps.claim_account}))
    return plan
