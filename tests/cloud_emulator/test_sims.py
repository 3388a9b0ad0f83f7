"""SIM routes: asynchronous import, HEAD check codes, get, release, cellular status.

Facts: docs.particle.io Cloud API, 'SIM cards'; the HEAD codes from the Particle Android SDK (ParticleSimStatus.kt).
"""

from __future__ import annotations

import httpx

from cloud_client.emulator import EmulatorServer
from cloud_client.emulator.state import Device

from .world import BOB, PRODUCT

FREE_ICCID = "89014103211118510720"
FOREIGN_ICCID = "89014103211118510738"


def test_import_replies_200_ok_and_activation_completes_later(server: EmulatorServer, api: httpx.Client) -> None:
    server.add_sim(FREE_ICCID)
    reply = api.post(f"/v1/products/{PRODUCT}/sims", json={"sims": [FREE_ICCID], "country": "US"})
    assert reply.status_code == 200
    assert reply.json() == {"ok": True}
    pending = api.get(f"/v1/sims/{FREE_ICCID}").json()
    assert pending["state_change_in_progress"] is True
    assert pending["status"] == "never_before_activated"
    server.advance_time(31)
    active = api.get(f"/v1/sims/{FREE_ICCID}").json()
    assert active["status"] == "active"
    assert active["state_change_in_progress"] is False


def test_sim_object_carries_both_id_and_iccid(server: EmulatorServer, api: httpx.Client) -> None:
    server.add_sim(FREE_ICCID)
    api.post(f"/v1/products/{PRODUCT}/sims", json={"sims": [FREE_ICCID]})
    body = api.get(f"/v1/products/{PRODUCT}/sims/{FREE_ICCID}").json()
    assert body["_id"] == body["iccid"] == FREE_ICCID


def test_import_by_form_and_by_file_are_accepted(server: EmulatorServer, api: httpx.Client) -> None:
    server.add_sim(FREE_ICCID)
    server.add_sim(FOREIGN_ICCID)
    assert api.post(f"/v1/products/{PRODUCT}/sims", data={"sims[]": [FREE_ICCID]}).status_code == 200
    files = {"file": ("sims.txt", FOREIGN_ICCID.encode(), "text/plain")}
    assert api.post(f"/v1/products/{PRODUCT}/sims", files=files).status_code == 200
    listed = api.get(f"/v1/products/{PRODUCT}/sims").json()
    assert {s["iccid"] for s in listed["sims"]} == {FREE_ICCID, FOREIGN_ICCID}
    assert listed["meta"]["total_pages"] == 1


def test_import_of_unknown_iccid_still_replies_ok_and_records_the_failure(
    server: EmulatorServer, api: httpx.Client
) -> None:
    assert api.post(f"/v1/products/{PRODUCT}/sims", json={"sims": [FREE_ICCID]}).json() == {"ok": True}
    results = server.snapshot()["sim_import_results"]
    assert [(r["iccid"], r["outcome"]) for r in results] == [(FREE_ICCID, "unknown ICCID")]


def test_importing_a_devices_sim_also_imports_the_device(api: httpx.Client, borons: list[Device]) -> None:
    api.post(f"/v1/products/{PRODUCT}/sims", json={"sims": [borons[0].iccid]})
    assert api.get(f"/v1/products/{PRODUCT}/devices/{borons[0].id}").status_code == 200


def test_head_unknown_sim_is_404(api: httpx.Client) -> None:
    assert api.head(f"/v1/sims/{FREE_ICCID}").status_code == 404


def test_head_sim_ready_to_activate_is_200(server: EmulatorServer, api: httpx.Client) -> None:
    server.add_sim(FREE_ICCID)
    assert api.head(f"/v1/sims/{FREE_ICCID}").status_code == 200


def test_head_sim_owned_by_another_user_is_403(server: EmulatorServer, api: httpx.Client) -> None:
    server.add_sim(FOREIGN_ICCID, owner=BOB, status="active")
    assert api.head(f"/v1/sims/{FOREIGN_ICCID}").status_code == 403


def test_head_active_sim_is_205_or_204_on_a_free_plan(server: EmulatorServer, api: httpx.Client) -> None:
    server.add_sim(FREE_ICCID, product_id=PRODUCT, status="active")
    server.add_sim(FOREIGN_ICCID, product_id=PRODUCT, status="active", free_plan=True)
    assert api.head(f"/v1/sims/{FREE_ICCID}").status_code == 205
    assert api.head(f"/v1/sims/{FOREIGN_ICCID}").status_code == 204


def test_get_of_a_known_sim_in_nobodys_account_is_404(server: EmulatorServer, api: httpx.Client) -> None:
    server.add_sim(FREE_ICCID)
    assert api.get(f"/v1/sims/{FREE_ICCID}").status_code == 404


def test_get_of_another_users_sim_is_403(server: EmulatorServer, api: httpx.Client) -> None:
    server.add_sim(FOREIGN_ICCID, owner=BOB, status="active")
    assert api.get(f"/v1/sims/{FOREIGN_ICCID}").status_code == 403


def test_import_of_a_sim_owned_elsewhere_leaves_it_alone(server: EmulatorServer, api: httpx.Client) -> None:
    server.add_sim(FOREIGN_ICCID, owner=BOB, status="active")
    api.post(f"/v1/products/{PRODUCT}/sims", json={"sims": [FOREIGN_ICCID]})
    sim = server.snapshot()["sims"][0]
    assert sim["owner"] == BOB and sim["product_id"] is None


def test_release_of_an_active_sim_is_202_then_it_is_free(server: EmulatorServer, api: httpx.Client) -> None:
    server.add_sim(FREE_ICCID, product_id=PRODUCT, status="active")
    reply = api.delete(f"/v1/sims/{FREE_ICCID}")
    assert reply.status_code == 202
    assert reply.json()["ok"] is True
    server.advance_time(31)
    assert api.head(f"/v1/sims/{FREE_ICCID}").status_code == 200


def test_release_of_an_inactive_sim_is_204_with_no_body(server: EmulatorServer, api: httpx.Client) -> None:
    server.add_sim(FREE_ICCID, product_id=PRODUCT, status="inactive")
    reply = api.delete(f"/v1/products/{PRODUCT}/sims/{FREE_ICCID}")
    assert reply.status_code == 204
    assert reply.content == b""


def test_cellular_status_is_202_pending_then_complete(server: EmulatorServer, api: httpx.Client) -> None:
    server.add_sim(FREE_ICCID, product_id=PRODUCT, status="active")
    first = api.get(f"/v1/sims/{FREE_ICCID}/status")
    assert first.status_code == 202
    assert first.json()["meta"]["state"] == "pending"
    server.advance_time(11)
    done = api.get(f"/v1/sims/{FREE_ICCID}/status")
    assert done.json()["meta"]["state"] == "complete"
    assert done.json()["sim_status"]["gsm_connection"] is True


def test_user_activates_own_sim_with_put(server: EmulatorServer, api: httpx.Client) -> None:
    server.add_sim(FREE_ICCID)
    assert api.put(f"/v1/sims/{FREE_ICCID}", json={"action": "activate", "country": "US"}).status_code == 200
    server.advance_time(31)
    assert api.get(f"/v1/sims/{FREE_ICCID}").json()["status"] == "active"


def test_deactivate_action_deactivates(server: EmulatorServer, api: httpx.Client) -> None:
    server.add_sim(FREE_ICCID, product_id=PRODUCT, status="active")
    body = api.put(f"/v1/sims/{FREE_ICCID}", json={"action": "deactivate"}).json()
    assert body["status"] == "deactivated"


def test_fleet_data_usage_counts_active_sims(server: EmulatorServer, api: httpx.Client) -> None:
    server.add_sim(FREE_ICCID, product_id=PRODUCT, status="active")
    assert api.get(f"/v1/products/{PRODUCT}/sims/data_usage").json()["total_active_sim_cards"] == 1
