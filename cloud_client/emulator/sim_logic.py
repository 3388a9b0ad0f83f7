"""SIM behaviour: asynchronous import and activation, release, the HEAD check and the SIM object.

Facts: docs.particle.io Cloud API, 'SIM cards'; the HEAD codes from the Particle Android SDK.
"""

from __future__ import annotations

from typing import Any

from cloud_client.emulator.state import CloudState, Product, Sim, SimAction, SimImportResult, SimStatus
from cloud_client.emulator.wire import iso

OUTCOME_ACTIVATING = "activating"
OUTCOME_ALREADY_ACTIVE = "already active in this product"
OUTCOME_UNKNOWN = "unknown ICCID"
OUTCOME_OWNED_ELSEWHERE = "owned by another account"


def owned_elsewhere(sim: Sim, product: Product) -> bool:
    """True when the SIM belongs to another product or to a user outside this product's team."""
    if sim.product_id is not None:
        return sim.product_id != product.id
    if sim.owner is None:
        return False
    owner = sim.owner.lower()
    return owner != product.owner.lower() and owner not in (m.lower() for m in product.team)


def import_sim(state: CloudState, product: Product, sim: Sim, now: float, delay_s: float) -> str:
    """Queue one SIM's import and activation into ``product``; the caller holds ``state.lock``."""
    state.settle_sim(sim, now)
    if owned_elsewhere(sim, product):
        outcome = OUTCOME_OWNED_ELSEWHERE
    elif sim.product_id == product.id and (sim.status is SimStatus.ACTIVE or sim.pending_action is SimAction.ACTIVATE):
        outcome = OUTCOME_ALREADY_ACTIVE
    else:
        sim.product_id = product.id
        sim.owner = product.owner
        sim.pending_action = SimAction.ACTIVATE
        sim.pending_until = now + delay_s
        sim.last_activated_via = "product_import"
        sim.updated_at = now
        outcome = OUTCOME_ACTIVATING
    record_outcome(state, sim.iccid, product, outcome, now)
    return outcome


def record_outcome(state: CloudState, iccid: str, product: Product, outcome: str, now: float) -> None:
    state.sim_import_results.append(SimImportResult(iccid=iccid, product_id=product.id, outcome=outcome, at=now))
    state.changed()


def start_release(sim: Sim, now: float, delay_s: float) -> bool:
    """Release the SIM: at once when it is not active (True), else after ``delay_s`` (False: pending)."""
    sim.settle(now)
    sim.updated_at = now
    if sim.status is SimStatus.ACTIVE or sim.pending_action is SimAction.ACTIVATE:
        sim.pending_action = SimAction.RELEASE
        sim.pending_until = now + delay_s
        return False
    sim.pending_action = SimAction.RELEASE
    sim.pending_until = now
    sim.settle(now)
    return True


def head_status(sim: Sim | None, mine: bool, foreign: bool) -> int:
    """The HEAD /v1/sims/:iccid code: 200 ready, 204/205 active, 403 foreign, 404 (Android SDK ParticleSimStatus.kt)."""
    if sim is None:
        return 404
    if foreign:
        return 403
    if sim.status is SimStatus.ACTIVE and mine:
        return 204 if sim.free_plan else 205
    if sim.pending_action is SimAction.ACTIVATE:
        # Unconfirmed: the Android SDK treats any other 2xx as "ready"; 202 marks an activation still in progress.
        return 202
    return 200


def sim_json(sim: Sim, state: CloudState) -> dict[str, Any]:
    """The SIM object with both ``_id`` (docs.particle.io examples) and ``iccid`` (particle-api-js types)."""
    device = state.devices.get(sim.last_device_id or "") or state.device_by_iccid(sim.iccid)
    return {
        "_id": sim.iccid,
        "iccid": sim.iccid,
        "status": str(sim.status),
        "base_country_code": sim.base_country_code,
        "activations_count": sim.activations_count,
        "deactivations_count": sim.deactivations_count,
        "first_activated_on": iso(sim.first_activated_on),
        "last_activated_on": iso(sim.last_activated_on),
        "last_activated_via": sim.last_activated_via,
        "last_status_change_action": sim.last_status_change_action,
        "last_status_change_action_error": "no",
        "last_status_change_action_on": iso(sim.last_status_change_action_on),
        "state_change_in_progress": sim.pending_action is not None,
        "msisdn": sim.msisdn,
        "carrier": sim.carrier,
        "last_device_id": device.id if device else None,
        "last_device_name": device.name if device else None,
        "mb_limit": sim.mb_limit,
        "owner": sim.owner,
        "product_id": sim.product_id,
        "updated_at": iso(sim.updated_at),
    }
