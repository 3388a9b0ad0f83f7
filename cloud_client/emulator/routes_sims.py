"""SIM routes: import and activate, list, get, HEAD check, actions, release, cellular status, usage.

Facts: docs.particle.io Cloud API, 'SIM cards'; the HEAD codes from the Particle Android SDK (ParticleSimStatus.kt).
"""

from __future__ import annotations

import hashlib
import re

from aiohttp import web

from cloud_client.emulator.auth import Caller, authenticate, may_see, product_for, user_of
from cloud_client.emulator.cloud import EmulatedCloud
from cloud_client.emulator.device_import import import_devices
from cloud_client.emulator.device_view import page_of
from cloud_client.emulator.keys import CLOUD
from cloud_client.emulator.sim_logic import (
    OUTCOME_ACTIVATING,
    OUTCOME_UNKNOWN,
    head_status,
    import_sim,
    record_outcome,
    sim_json,
    start_release,
)
from cloud_client.emulator.state import Product, Sim, SimAction, SimStatus, TokenKind
from cloud_client.emulator.wire import ApiError, Params, bad_request, iso, no_content, not_found, read_params, reply

_ICCID = re.compile(r"89[0-9]{17,18}")


def _iccids(params: Params) -> list[str]:
    found = list(params.strings("sims") or [])
    if "file" in params.files:
        found.extend(params.files["file"].decode("utf-8", errors="replace").splitlines())
    return [s.strip() for s in found if s.strip()]


async def import_product_sims(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    params = await read_params(request)
    caller = authenticate(cloud, request, params)
    product = product_for(cloud, caller, request.match_info["p"], "sims:import")
    iccids = _iccids(params)
    if not iccids:
        raise bad_request(f"No ICCIDs given for product {product.id}: send sims (a list) or a file with one per line")
    now = cloud.now()
    with cloud.state.lock:
        for iccid in iccids:
            sim = cloud.state.sims.get(iccid)
            if sim is None:
                # Import is queued and its results e-mailed (docs.particle.io, 'Import and activate product SIMs'):
                # failures do not change the 200 reply.
                record_outcome(
                    cloud.state, iccid, product, OUTCOME_UNKNOWN if _ICCID.fullmatch(iccid) else "malformed ICCID", now
                )
                continue
            if params.text("country"):
                sim.base_country_code = params.text("country") or sim.base_country_code
            outcome = import_sim(cloud.state, product, sim, now, cloud.timings.sim_activation_s)
            device = cloud.state.device_by_iccid(iccid)
            if outcome == OUTCOME_ACTIVATING and device is not None and device.product_id is None:
                # Importing a SIM card associated with a device also imports the device (docs.particle.io, 'Import and
                # activate product SIMs').
                import_devices(
                    cloud.state, product, [device.id], claim_user=None, import_sims=False, now=now, sim_delay_s=0.0
                )
    return reply({"ok": True})


def _relation(cloud: EmulatedCloud, caller: Caller, sim: Sim, product: Product | None) -> tuple[bool, bool]:
    """(mine, foreign) for this caller; a known SIM nobody owns is neither."""
    if product is not None:
        mine = sim.product_id == product.id
    elif sim.product_id is not None:
        owning = cloud.state.products.get(sim.product_id)
        mine = owning is not None and may_see(caller, owning)
    else:
        mine = sim.owner is not None and caller.username is not None and sim.owner.lower() == caller.username.lower()
    foreign = not mine and (sim.owner is not None or sim.product_id is not None)
    return mine, foreign


def _scoped_product(cloud: EmulatedCloud, caller: Caller, request: web.Request, scope: str) -> Product | None:
    ref = request.match_info.get("p")
    return None if ref is None else product_for(cloud, caller, ref, scope)


def _my_sim(cloud: EmulatedCloud, caller: Caller, product: Product | None, iccid: str) -> Sim:
    sim = cloud.state.sims.get(iccid)
    if sim is None:
        raise not_found(f"SIM {iccid}")
    cloud.state.settle_sim(sim, cloud.now())
    mine, foreign = _relation(cloud, caller, sim, product)
    if foreign:
        raise ApiError(
            403,
            {"ok": False, "error": "Permission Denied", "error_description": f"SIM {iccid} belongs to another account"},
        )
    if not mine:
        # Known to Particle but in nobody's account: 404, which Particle's setup tool answers by activating it.
        raise not_found(f"SIM {iccid}")
    return sim


async def get_sim(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller = authenticate(cloud, request, await read_params(request))
    product = _scoped_product(cloud, caller, request, "sims:get")
    with cloud.state.lock:
        sim = _my_sim(cloud, caller, product, request.match_info["iccid"])
        return reply(sim_json(sim, cloud.state))


async def check_sim(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller = authenticate(cloud, request, await read_params(request))
    with cloud.state.lock:
        sim = cloud.state.sims.get(request.match_info["iccid"])
        if sim is not None:
            cloud.state.settle_sim(sim, cloud.now())
        mine, foreign = _relation(cloud, caller, sim, None) if sim is not None else (False, False)
        return web.Response(status=head_status(sim, mine, foreign))


async def list_sims(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    params = await read_params(request)
    caller = authenticate(cloud, request, params)
    product = _scoped_product(cloud, caller, request, "sims:list")
    if product is None:
        user_of(caller)
    with cloud.state.lock:
        cloud.state.settle_sims(cloud.now())
        sims = [s for s in cloud.state.sims.values() if _relation(cloud, caller, s, product)[0]]
        views = [sim_json(s, cloud.state) for s in sorted(sims, key=lambda s: s.iccid)]
    for key, field in (("iccid", "iccid"), ("deviceId", "last_device_id"), ("deviceName", "last_device_name")):
        wanted = (params.text(key) or "").lower()
        if wanted:
            views = [v for v in views if wanted in str(v.get(field) or "").lower()]
    chosen, meta = page_of(views, params)
    return reply({"sims": chosen, "meta": meta})


async def update_sim(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    params = await read_params(request)
    caller = authenticate(cloud, request, params)
    product = _scoped_product(cloud, caller, request, "sims:update")
    action = params.text("action")
    iccid = request.match_info["iccid"]
    now = cloud.now()
    with cloud.state.lock:
        if action == "activate":
            if caller.kind is not TokenKind.USER or product is not None:
                raise bad_request(f"SIM {iccid}: product SIMs are activated by importing them into the product")
            sim = cloud.state.sims.get(iccid)
            if sim is None:
                raise not_found(f"SIM {iccid}")
            if _relation(cloud, caller, sim, None)[1]:
                raise ApiError(
                    403,
                    {
                        "ok": False,
                        "error": "Permission Denied",
                        "error_description": f"SIM {iccid} belongs to another account",
                    },
                )
            sim.owner = caller.username
            sim.base_country_code = params.text("country") or sim.base_country_code
            if sim.status is not SimStatus.ACTIVE:
                sim.pending_action, sim.pending_until = SimAction.ACTIVATE, now + cloud.timings.sim_activation_s
                sim.last_activated_via = "user_setup"
        else:
            sim = _my_sim(cloud, caller, product, iccid)
            if action == "deactivate":
                if sim.status is SimStatus.ACTIVE:
                    sim.deactivations_count += 1
                sim.status, sim.pending_action, sim.pending_until = SimStatus.DEACTIVATED, None, None
                sim.last_status_change_action, sim.last_status_change_action_on = "deactivate", now
            elif action == "reactivate":
                sim.pending_action, sim.pending_until = SimAction.ACTIVATE, now + cloud.timings.sim_activation_s
            elif action is not None:
                raise bad_request(f"action must be activate, deactivate or reactivate, got {action!r}")
            if params.has("mb_limit"):
                limit = params.text("mb_limit")
                sim.mb_limit = int(limit) if limit and limit.isdigit() else None
        sim.updated_at = now
        cloud.state.changed()
        return reply(sim_json(sim, cloud.state))


async def release_sim(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller = authenticate(cloud, request, await read_params(request))
    product = _scoped_product(cloud, caller, request, "sims:remove")
    with cloud.state.lock:
        sim = _my_sim(cloud, caller, product, request.match_info["iccid"])
        done = start_release(sim, cloud.now(), cloud.timings.sim_release_s)
        cloud.state.changed()
    # 204 when released at once, 202 (with a JSON body, as every non-204 2xx) while pending (docs.particle.io Cloud
    # API, 'Release SIM from account').
    return no_content() if done else reply({"ok": True, "state": "pending"}, status=202)


async def sim_status(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller = authenticate(cloud, request, await read_params(request))
    product = _scoped_product(cloud, caller, request, "sims:get")
    now = cloud.now()
    with cloud.state.lock:
        sim = _my_sim(cloud, caller, product, request.match_info["iccid"])
        if sim.status_check_until is None:
            sim.status_check_until = now + cloud.timings.sim_status_check_s
            cloud.state.changed()
        until = sim.status_check_until
        task_id = hashlib.sha1(f"{sim.iccid}:{until}".encode()).hexdigest()[:8]
        meta = {"task_id": task_id, "check_again_after": iso(until), "expires_at": iso(until + 3600)}
        if now < until:
            empty = {"connected": None, "gsm_connection": None, "data_connection": None}
            return reply({"ok": True, "meta": {"state": "pending", **meta}, "sim_status": empty}, status=202)
        sim.status_check_until = None
        cloud.state.changed()
        active = sim.status is SimStatus.ACTIVE
        device = cloud.state.device_by_iccid(sim.iccid)
        connected = bool(active and device is not None and device.online)
        status = {"connected": connected, "gsm_connection": active, "data_connection": active}
        return reply({"ok": True, "meta": {"state": "complete", **meta}, "sim_status": status})


async def sim_data_usage(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller = authenticate(cloud, request, await read_params(request))
    product = _scoped_product(cloud, caller, request, "sims:get")
    with cloud.state.lock:
        sim = _my_sim(cloud, caller, product, request.match_info["iccid"])
        return reply({"iccid": sim.iccid, "usage_by_day": [], "total_mbs_used": 0})


async def fleet_data_usage(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller = authenticate(cloud, request, await read_params(request))
    product = product_for(cloud, caller, request.match_info["p"], "sims:list")
    with cloud.state.lock:
        active = sum(
            1 for s in cloud.state.sims.values() if s.product_id == product.id and s.status is SimStatus.ACTIVE
        )
    return reply({"total_mbs_used": 0, "total_active_sim_cards": active, "usage_by_day": []})


def register(app: web.Application) -> None:
    router = app.router
    router.add_post("/v1/products/{p}/sims", import_product_sims)
    router.add_get("/v1/products/{p}/sims", list_sims, allow_head=False)
    router.add_get("/v1/products/{p}/sims/data_usage", fleet_data_usage, allow_head=False)
    router.add_get("/v1/sims", list_sims, allow_head=False)
    for prefix in ("/v1/sims/{iccid}", "/v1/products/{p}/sims/{iccid}"):
        router.add_get(prefix, get_sim, allow_head=False)
        router.add_put(prefix, update_sim)
        router.add_delete(prefix, release_sim)
        router.add_get(prefix + "/status", sim_status, allow_head=False)
        router.add_get(prefix + "/data_usage", sim_data_usage, allow_head=False)
    router.add_route("HEAD", "/v1/sims/{iccid}", check_sim)
