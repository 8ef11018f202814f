"""Duplicates found by each worker's index of open reports: every intake path flags a new report of
the same campaign group within 50 m and 7 days as a possible duplicate of the open one (never
merged by itself); one merge makes one case with every reporter's +1; the citizen is offered the
open report before sending; another worker on the same database sees the same."""

from __future__ import annotations

import pytest

from api import create_app
from api.layers.live import stop_jobs
from api.reports.open_reports import EXTENSION
from tests.api.reports.test_reports import LAT, LON, REPORT
from tests.support.pages import csrf, signed_in

pytestmark = pytest.mark.both_databases
METRE = 1 / 111_320  # a metre north, in degrees


def _submit(client, tokens, **fields):
    response = client.post("/api/v1/reports", json={**REPORT, **fields}, headers=tokens["public"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_twenty_reports_at_one_bin_are_flagged_and_merged_into_one_case(app, client, tokens):
    original = _submit(client, tokens, description="垃圾桶旁堆满垃圾")
    assert original["possible_duplicate_of"] is None
    flagged = [_submit(client, tokens, lat=LAT + (n % 5) * 8 * METRE, category="overflowing_bin" if n % 2 else "litter", client_ref=f"bin-{n}")
               for n in range(19)]
    key = tokens["public"]["Authorization"].split()[1]
    by_open311 = client.post("/open311/v2/requests.json", data={"api_key": key, "service_code": "litter", "lat": LAT + 20 * METRE, "long": LON})
    assert by_open311.status_code == 200
    assert {r["possible_duplicate_of"] for r in flagged} == {original["id"]}  # the original, never a duplicate of a duplicate
    far = _submit(client, tokens, lat=LAT + 150 * METRE, client_ref="far")  # 120 m from the nearest
    other_kind = _submit(client, tokens, category="illegal_parking", client_ref="car")  # another campaign group
    assert (far["possible_duplicate_of"], other_kind["possible_duplicate_of"]) == (None, None)
    nearby = client.get(f"/api/v1/reports/{original['id']}/nearby", headers=tokens["dispatcher"]).get_json()["items"]
    assert len(nearby) == 20 and all(n["distance_m"] <= 50 for n in nearby) and nearby == sorted(nearby, key=lambda n: n["distance_m"])
    # The citizen is offered the open report of the same category before sending.
    check = client.get(f"/report/check?lon={LON}&lat={LAT + 3 * METRE}&category=litter").get_data(as_text=True)
    assert "附近已有人反映" in check and original["public_ref"] in check
    merged = client.post(f"/api/v1/reports/{original['id']}/merge", json={}, headers=tokens["dispatcher"])
    assert merged.status_code == 200, merged.get_json()
    assert merged.get_json()["supporters"] == 20  # one case, every reporter's +1
    states = {client.get(f"/api/v1/reports/{r['id']}", headers=tokens["dispatcher"]).get_json()["state"] for r in flagged}
    assert states == {"duplicate"}
    assert client.get(f"/api/v1/reports/{original['id']}/nearby", headers=tokens["dispatcher"]).get_json()["items"] == []  # merged: no longer open
    assert client.post(f"/api/v1/reports/{original['id']}/merge", json={"report_ids": [original["id"]]},
                       headers=tokens["dispatcher"]).status_code == 422
    assert client.post(f"/api/v1/reports/{original['id']}/merge", json={}, headers=tokens["unit_a"]).status_code == 403


def test_a_dispatcher_merges_from_the_report_page(app, client, tokens):
    original = _submit(client, tokens)
    twins = [_submit(client, tokens, client_ref=f"twin-{n}", lat=LAT + n * METRE)["id"] for n in range(1, 4)]
    dispatcher = signed_in(app, app.test_client(), "dispatcher")
    page = dispatcher.get(f"/console/reports/{original['id']}").get_data(as_text=True)
    assert "疑似重复本案的问题（3 件）" in page
    assert "疑似重复" in dispatcher.get("/console/dispatch?state=dispatched").get_data(as_text=True)
    done = dispatcher.post(f"/console/reports/{original['id']}/merge", data={"csrf_token": csrf(page), "report_id": [str(i) for i in twins[:2]]})
    assert done.status_code == 303
    after = dispatcher.get(done.headers["Location"]).get_data(as_text=True)
    assert "已将 2 件问题合并到本案" in after and "疑似重复本案的问题（1 件）" in after
    assert "另有 2 人" in after  # the merged reporters count here


def test_another_worker_on_the_same_database_flags_the_same(app, client, tokens, database_url, demo_files, tmp_path):
    original = _submit(client, tokens)
    other = create_app({"DATA_DIR": str(tmp_path / "b"), "DATABASE_URL": database_url, "LAYER_DIR": str(demo_files.root), "TESTING": True,
                        "LAYER_JOBS": 0})
    try:
        other.extensions[EXTENSION].refresh_s = 0.0  # reads the database at once (a second, by default)
        second = other.test_client().post("/api/v1/reports", json={**REPORT, "client_ref": "from-b"}, headers=tokens["public"]).get_json()
        assert second["possible_duplicate_of"] == original["id"]
        app.extensions[EXTENSION].refresh_s = 0.0
        rejected = client.post(f"/api/v1/reports/{original['id']}/transitions", json={"action": "reject", "note": "不属实"}, headers=tokens["dispatcher"])
        assert rejected.status_code == 200, rejected.get_json()
        third = other.test_client().post("/api/v1/reports", json={**REPORT, "client_ref": "after"}, headers=tokens["public"]).get_json()
        assert third["possible_duplicate_of"] == second["id"]  # the rejected one left every index; the next open one is the original now
    finally:
        stop_jobs(other)
        other.extensions["zonemap.db"].engine.dispose()
