"""SIM calls against the emulator: HEAD check, import-and-activate, status (docs.particle.io Cloud API, 'SIM cards')."""

from __future__ import annotations

import pytest

from cloud_client.client import ParticleCloud
from cloud_client.errors import NotFoundError, SimOwnedElsewhereError
from cloud_client.models import SimActivation, SimCheck

from .conftest import OTHER_USER, PRODUCT_ID, World

UNKNOWN_ICCID = "89000000000000000001"
FOREIGN_ICCID = "89014103211118510999"


def iccid_of(world: World, index: int) -> str:
    return str(world.device(world.device_ids[index])["iccid"])


def test_check_sim_reports_a_fresh_sim_ready(world: World, cloud: ParticleCloud) -> None:
    assert cloud.check_sim(iccid_of(world, 0)) is SimCheck.READY


def test_check_sim_reports_an_unknown_sim(cloud: ParticleCloud) -> None:
    assert cloud.check_sim(UNKNOWN_ICCID) is SimCheck.UNKNOWN


def test_check_sim_reports_a_sim_owned_elsewhere(world: World, cloud: ParticleCloud) -> None:
    world.server.add_sim(FOREIGN_ICCID, owner=OTHER_USER, status="active")
    assert cloud.check_sim(FOREIGN_ICCID) is SimCheck.OWNED_ELSEWHERE


def test_check_sim_reports_active_and_free_plan_sims(world: World, cloud: ParticleCloud) -> None:
    world.server.add_sim("89000000000000000002", product_id=PRODUCT_ID, status="active")
    world.server.add_sim("89000000000000000003", product_id=PRODUCT_ID, status="active", free_plan=True)
    assert cloud.check_sim("89000000000000000002") is SimCheck.ACTIVE
    assert cloud.check_sim("89000000000000000003") is SimCheck.ACTIVE_FREE_PLAN


def test_activate_sim_imports_it_and_reports_pending(world: World, cloud: ParticleCloud) -> None:
    iccid = iccid_of(world, 0)
    assert cloud.activate_sim(PRODUCT_ID, iccid) is SimActivation.PENDING
    assert world.requests_to(f"/v1/products/{PRODUCT_ID}/sims")[0][:2] == ("POST", f"/v1/products/{PRODUCT_ID}/sims")


def test_sim_becomes_active_once_the_cloud_finishes(world: World, cloud: ParticleCloud) -> None:
    iccid = iccid_of(world, 0)
    cloud.activate_sim(PRODUCT_ID, iccid)
    world.server.advance_time(5)
    sim = cloud.get_sim(iccid, product=PRODUCT_ID)
    assert sim.is_active and not sim.is_pending
    assert sim.iccid == iccid


def test_activating_an_active_sim_again_does_not_import_it(world: World, cloud: ParticleCloud) -> None:
    iccid = iccid_of(world, 0)
    cloud.activate_sim(PRODUCT_ID, iccid)
    world.server.advance_time(5)
    posts_before = len([r for r in world.server.request_log if r[0] == "POST"])
    assert cloud.activate_sim(PRODUCT_ID, iccid) is SimActivation.ACTIVE
    assert len([r for r in world.server.request_log if r[0] == "POST"]) == posts_before


def test_activate_sim_owned_elsewhere_raises_and_imports_nothing(world: World, cloud: ParticleCloud) -> None:
    world.server.add_sim(FOREIGN_ICCID, owner=OTHER_USER, status="active")
    with pytest.raises(SimOwnedElsewhereError) as info:
        cloud.activate_sim(PRODUCT_ID, FOREIGN_ICCID)
    assert FOREIGN_ICCID in str(info.value)
    assert not [r for r in world.server.request_log if r[0] == "POST" and r[1].endswith("/sims")]


def test_activate_sims_reports_each_iccid(world: World, cloud: ParticleCloud) -> None:
    world.server.add_sim(FOREIGN_ICCID, owner=OTHER_USER, status="active")
    report = cloud.activate_sims(PRODUCT_ID, [iccid_of(world, 0), iccid_of(world, 1), FOREIGN_ICCID, UNKNOWN_ICCID])
    assert report == {
        iccid_of(world, 0): SimActivation.PENDING,
        iccid_of(world, 1): SimActivation.PENDING,
        FOREIGN_ICCID: SimActivation.OWNED_ELSEWHERE,
        UNKNOWN_ICCID: SimActivation.NOT_FOUND,
    }


def test_import_sims_sends_batches(world: World, cloud: ParticleCloud) -> None:
    iccids = [iccid_of(world, i) for i in range(5)]
    assert cloud.import_sims(PRODUCT_ID, iccids + iccids[:1], batch_size=2) == 5
    assert len(world.requests_to(f"/v1/products/{PRODUCT_ID}/sims")) == 3
    world.server.advance_time(5)
    sims = {s["iccid"]: s for s in world.server.snapshot()["sims"]}
    assert all(sims[i]["product_id"] == PRODUCT_ID and sims[i]["status"] == "active" for i in iccids)


def test_get_unknown_sim_raises_not_found(cloud: ParticleCloud) -> None:
    with pytest.raises(NotFoundError):
        cloud.get_sim(UNKNOWN_ICCID)


def test_activate_sims_reads_their_states_from_the_product_sim_list_not_one_get_each(
    world: World, cloud: ParticleCloud
) -> None:
    iccids = [iccid_of(world, i) for i in range(4)]
    world.server.clear_request_log()
    report = cloud.activate_sims(PRODUCT_ID, iccids)
    assert report == dict.fromkeys(iccids, SimActivation.PENDING)
    gets = [(m, p) for m, p, _ in world.server.request_log if m == "GET"]
    assert gets == [("GET", f"/v1/products/{PRODUCT_ID}/sims")]
    world.server.advance_time(5)
    assert cloud.sim_states(PRODUCT_ID, iccids) == dict.fromkeys(iccids, SimActivation.ACTIVE)


def test_sim_states_never_costs_more_than_one_get_per_sim(world: World, cloud: ParticleCloud) -> None:
    # A product with many SIMs (5 pages of 100): reading two of them lists one page, then reads the rest one by one.
    for n in range(450):
        world.server.add_sim(f"8900000000000{n:06d}", product_id=PRODUCT_ID, status="active")
    world.server.clear_request_log()
    wanted = [iccid_of(world, 0), iccid_of(world, 1)]
    cloud.import_sims(PRODUCT_ID, wanted)
    world.server.clear_request_log()
    assert set(cloud.sim_states(PRODUCT_ID, wanted)) == set(wanted)
    assert len(world.server.request_log) <= len(wanted) + 1


def test_sims_in_product_lists_the_ones_there_and_leaves_out_foreign_and_unknown(
    world: World, cloud: ParticleCloud
) -> None:
    world.server.add_sim(FOREIGN_ICCID, owner=OTHER_USER, status="active")
    mine = [iccid_of(world, 0), iccid_of(world, 1)]
    cloud.import_sims(PRODUCT_ID, [*mine, FOREIGN_ICCID])
    world.server.clear_request_log()
    found = cloud.sims_in_product(PRODUCT_ID, [*mine, FOREIGN_ICCID, UNKNOWN_ICCID])
    assert set(found) == set(mine)
    assert [(m, p) for m, p, _ in world.server.request_log] == [("GET", f"/v1/products/{PRODUCT_ID}/sims")]


def test_sims_in_product_of_a_large_product_costs_at_most_one_request_per_sim_plus_one(
    world: World, cloud: ParticleCloud
) -> None:
    for n in range(450):
        world.server.add_sim(f"8900000000000{n:06d}", product_id=PRODUCT_ID, status="active")
    world.server.add_sim(FOREIGN_ICCID, owner=OTHER_USER, status="active")
    wanted = [iccid_of(world, 0), FOREIGN_ICCID]
    cloud.import_sims(PRODUCT_ID, wanted)
    world.server.clear_request_log()
    assert set(cloud.sims_in_product(PRODUCT_ID, wanted)) == {iccid_of(world, 0)}
    assert len(world.server.request_log) <= len(wanted) + 1
