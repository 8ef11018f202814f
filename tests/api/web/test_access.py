"""Access control: every endpoint × every role (dispatcher, planner, unit A, unit B, public, no
token, bad token) answers the expected status, and nothing unit A or the public receives holds a
byte of unit B's reports, B's zones' private fields, or any reporter's contact."""

from __future__ import annotations

import io

import pyogrio
import pytest
from PIL import Image

from tests.api.reports.test_reports import REPORT

ROLES = ["dispatcher", "planner", "leader", "inspector", "unit_a", "unit_b", "public", "none", "bad"]


def png(colour: tuple[int, int, int] = (1, 2, 3)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), colour).save(out, "PNG")
    return out.getvalue()


def only(statuses: dict[str, int], default: int) -> dict[str, int]:
    """``default`` for every role not named; a bad token is always 401; a leader and an inspector as `leader_sees`."""
    named = {role: statuses.get(role, 401 if role == "bad" else default) for role in ROLES if role not in ("leader", "inspector")}
    return {**named, "leader": statuses.get("leader", leader_sees(named)), "inspector": statuses.get("inspector", leader_sees(named))}


def leader_sees(expected: dict[str, int]) -> int:
    """A leader reads the figures and an inspector inspects (each named where so), and otherwise each
    sees what the public may: a staff page or endpoint the public is sent away from is refused them."""
    return 403 if expected["public"] == 302 else expected["public"]


ALL = only({}, 200)
STAFF = only({"public": 403, "none": 401}, 200)
OFFICE = only({"unit_a": 403, "unit_b": 403, "public": 403, "none": 401}, 200)  # dispatcher and planner
FIGURES = only({"unit_a": 403, "unit_b": 403, "public": 403, "none": 401, "leader": 200}, 200)  # dispatcher, planner and leader
B_ONLY = only({"unit_a": 404, "public": 403, "none": 401}, 200)  # dispatcher, planner and unit B
FORM = only({}, 400)  # a page's form posted without its CSRF token: nothing happens, whoever posts it
SIGN_IN = {"public": 302, "none": 302}  # a staff page sends anyone else to the sign-in form
FIGURE_PAGES = only({**SIGN_IN, "unit_a": 403, "unit_b": 403, "leader": 200}, 200)
PLANNING = only({**SIGN_IN, "unit_a": 403, "unit_b": 403}, 200)  # the planners' pages: planners and dispatchers


def b_location(client, tokens, zones) -> tuple[float, float]:
    """A point, with many decimals, that routes a litter report to unit B (HW01)."""
    for point in zones.loc[zones["unit_id"] == "HW01"].geometry.representative_point():
        lon, lat = round(point.x, 7) + 1.3e-8, round(point.y, 7) + 1.7e-8
        if client.get(f"/api/v1/route?lon={lon}&lat={lat}&category=litter", headers=tokens["dispatcher"]).get_json()["unit_id"] == "HW01":
            return lon, lat
    raise AssertionError("no HW01 zone takes litter reports")


def matrix(ids: dict[str, object]) -> dict[tuple[str, str], tuple[dict[str, int], dict]]:
    """(method, url rule) -> (expected status per role, request)."""
    rb, zb, photo_b, ref_b, rd, pt = ids["report_b"], ids["zone_b"], ids["photo_b"], ids["ref_b"], ids["round"], ids["round_point"]
    rounds_read = only({"unit_a": 404, "unit_b": 404, "public": 403, "none": 401, "leader": 200, "inspector": 200}, 200)
    round_pages = only({**SIGN_IN, "leader": 200, "inspector": 403, "unit_a": 404, "unit_b": 404}, 200)
    inspect_pages = only({**SIGN_IN, "planner": 403, "unit_a": 404, "unit_b": 404, "inspector": 200}, 200)
    return {
        ("GET", "/"): (ALL, {"path": "/"}),
        ("GET", "/language/<lang>"): (only({}, 303), {"path": "/language/en?next=/public"}),
        ("GET", "/login"): (ALL, {"path": "/login"}),
        ("POST", "/login"): (FORM, {"path": "/login", "data": {"username": "dispatcher", "password": "x"}}),
        ("POST", "/logout"): (FORM, {"path": "/logout", "data": {}}),
        ("GET", "/console"): (only({**SIGN_IN, "leader": 303, "inspector": 303}, 303), {"path": "/console"}),
        ("GET", "/console/stats"): (FIGURE_PAGES, {"path": "/console/stats?by=area"}),
        ("GET", "/console/stats/bulletin"): (FIGURE_PAGES, {"path": "/console/stats/bulletin?period=last_month"}),
        ("GET", "/console/stats/bulletin.xlsx"): (FIGURE_PAGES, {"path": "/console/stats/bulletin.xlsx"}),
        ("GET", "/api/v1/figures"): (FIGURES, {"path": "/api/v1/figures?by=source"}),
        ("GET", "/admin/users"): (only(SIGN_IN, 403), {"path": "/admin/users"}),
        ("POST", "/admin/users"): (FORM, {"path": "/admin/users", "data": {"username": "x", "role": "planner", "password": "12345678"}}),
        ("POST", "/admin/users/<username>/<any(disable, enable, unlock):change>"): (FORM, {"path": "/admin/users/dispatcher/disable", "data": {}}),
        ("GET", "/report"): (ALL, {"path": "/report"}),
        ("POST", "/report"): (FORM, {"path": "/report", "data": {"lon": REPORT["lon"], "lat": REPORT["lat"], "category": "litter"}}),
        ("GET", "/report/places"): (ALL, {"path": "/report/places?place=cy"}),
        ("GET", "/report/check"): (ALL, {"path": f"/report/check?lon={ids['lon']}&lat={ids['lat']}&category=litter"}),
        ("GET", "/r"): (only({}, 303), {"path": f"/r?ref={ref_b.lower()}"}),
        ("GET", "/r/<ref>"): (ALL, {"path": f"/r/{ref_b}"}),
        ("POST", "/r/<ref>/reopen"): (FORM, {"path": f"/r/{ref_b}/reopen", "data": {"reason": "还是脏"}}),
        ("GET", "/public"): (ALL, {"path": "/public"}),
        ("GET", "/public/<ref>"): (only({}, 404), {"path": f"/public/{ref_b}"}),  # not published (yet)
        ("GET", "/maps/orientation.geojson"): (ALL, {"path": "/maps/orientation.geojson"}),
        ("GET", "/api/v1/checklists"): (only({"public": 403, "none": 401, "leader": 200, "inspector": 200}, 200), {"path": "/api/v1/checklists"}),
        ("POST", "/api/v1/checklists"): (only({"dispatcher": 400, "planner": 400, "none": 401}, 403),
                                         {"path": "/api/v1/checklists", "data": {}, "content_type": "multipart/form-data"}),
        ("GET", "/api/v1/rounds"): (only({"public": 403, "none": 401, "leader": 200, "inspector": 200}, 200), {"path": "/api/v1/rounds"}),
        ("POST", "/api/v1/rounds"): (only({"dispatcher": 422, "unit_a": 422, "unit_b": 422, "none": 401}, 403), {"path": "/api/v1/rounds", "json": {}}),
        ("GET", "/api/v1/rounds/<int(max=2147483647):round_id>"): (rounds_read, {"path": f"/api/v1/rounds/{rd}"}),
        ("GET", "/api/v1/rounds/<int(max=2147483647):round_id>/inspections"): (rounds_read, {"path": f"/api/v1/rounds/{rd}/inspections"}),
        ("GET", "/api/v1/rounds/<int(max=2147483647):round_id>/scores"): (rounds_read, {"path": f"/api/v1/rounds/{rd}/scores"}),
        ("POST", "/api/v1/rounds/<int(max=2147483647):round_id>/inspections"): (
            only({"dispatcher": 400, "inspector": 400, "unit_a": 404, "unit_b": 404, "none": 401}, 403),
            {"path": f"/api/v1/rounds/{rd}/inspections", "json": {}}),
        ("POST", "/api/v1/rounds/<int(max=2147483647):round_id>/recheck"): (
            only({"dispatcher": 422, "unit_a": 404, "unit_b": 404, "none": 401}, 403), {"path": f"/api/v1/rounds/{rd}/recheck", "json": {}}),
        ("POST", "/api/v1/rounds/<int(max=2147483647):round_id>/assignments"): (
            only({"dispatcher": 422, "unit_a": 404, "unit_b": 404, "none": 401}, 403), {"path": f"/api/v1/rounds/{rd}/assignments", "json": {}}),
        ("GET", "/api/v1/rounds/trend"): (FIGURES, {"path": "/api/v1/rounds/trend?by=type"}),
        ("GET", "/console/rounds/trend"): (FIGURE_PAGES, {"path": "/console/rounds/trend?by=point"}),
        ("POST", "/console/rounds/<int(max=2147483647):round_id>/assign"): (FORM, {"path": f"/console/rounds/{rd}/assign", "data": {}}),
        ("GET", "/console/rounds"): (only({**SIGN_IN, "leader": 200, "inspector": 403}, 200), {"path": "/console/rounds"}),
        ("GET", "/console/rounds/checklists"): (only({**SIGN_IN, "leader": 200, "inspector": 403}, 200), {"path": "/console/rounds/checklists"}),
        ("POST", "/console/rounds/checklists"): (FORM, {"path": "/console/rounds/checklists", "data": {}}),
        ("POST", "/console/rounds"): (FORM, {"path": "/console/rounds", "data": {"name": "x"}}),
        ("GET", "/console/rounds/<int(max=2147483647):round_id>"): (round_pages, {"path": f"/console/rounds/{rd}"}),
        ("GET", "/console/rounds/<int(max=2147483647):round_id>/bulletin.xlsx"): (round_pages, {"path": f"/console/rounds/{rd}/bulletin.xlsx"}),
        ("POST", "/console/rounds/<int(max=2147483647):round_id>/recheck"): (FORM, {"path": f"/console/rounds/{rd}/recheck", "data": {}}),
        ("GET", "/inspect/"): (only({**SIGN_IN, "planner": 403, "inspector": 200}, 200), {"path": "/inspect/"}),
        ("GET", "/inspect/rounds/<int(max=2147483647):round_id>"): (inspect_pages, {"path": f"/inspect/rounds/{rd}"}),
        ("GET", "/inspect/rounds/<int(max=2147483647):round_id>/points/<point_id>"): (inspect_pages, {"path": f"/inspect/rounds/{rd}/points/{pt}"}),
        ("POST", "/inspect/rounds/<int(max=2147483647):round_id>/inspections"): (FORM, {"path": f"/inspect/rounds/{rd}/inspections", "data": {"key": "k"}}),
        ("GET", "/inspect/sw.js"): (ALL, {"path": "/inspect/sw.js"}),
        ("GET", "/console/replies"): (only({**SIGN_IN, "planner": 403, "unit_a": 403, "unit_b": 403}, 200), {"path": "/console/replies"}),
        ("POST", "/console/replies"): (FORM, {"path": "/console/replies", "data": {"action": "reject", "text": "不属于"}}),
        ("POST", "/console/replies/<int(max=2147483647):reply_id>/delete"): (FORM, {"path": "/console/replies/1/delete", "data": {}}),
        ("POST", "/console/dispatch/bulk"): (FORM, {"path": "/console/dispatch/bulk", "data": {"action": "confirm", "report_id": "1"}}),
        ("GET", "/console/dispatch"): (only({**SIGN_IN, "planner": 403, "unit_a": 403, "unit_b": 403}, 200), {"path": "/console/dispatch?state=dispatched"}),
        ("GET", "/console/reports/<int(max=2147483647):report_id>"): (only({**SIGN_IN, "unit_a": 403}, 200), {"path": f"/console/reports/{rb}"}),
        ("POST", "/console/reports/<int(max=2147483647):report_id>"): (
            FORM, {"path": f"/console/reports/{rb}", "data": {"action": "verify", "row_version": "1"}}),
        ("GET", "/console/unit"): (only({**SIGN_IN, "dispatcher": 403, "planner": 403}, 200), {"path": "/console/unit"}),
        ("POST", "/api/v1/layers"): (
            only({"dispatcher": 422, "planner": 422, "none": 401}, 403), {"path": "/api/v1/layers", "data": {}, "content_type": "multipart/form-data"}),
        ("GET", "/api/v1/layers"): (OFFICE, {"path": "/api/v1/layers"}),
        ("POST", "/api/v1/layers/drafts"): (
            only({"planner": 422, "none": 401}, 403), {"path": "/api/v1/layers/drafts", "data": {}, "content_type": "multipart/form-data"}),
        ("GET", "/api/v1/layers/drafts/<int(max=2147483647):draft_id>"): (
            only({**OFFICE, "dispatcher": 404, "planner": 404}, 404), {"path": "/api/v1/layers/drafts/999"}),
        ("POST", "/api/v1/layers/drafts/<int(max=2147483647):draft_id>/suggestions"): (
            only({"planner": 404, "none": 401}, 403), {"path": "/api/v1/layers/drafts/999/suggestions", "json": {"gap_ids": ["G00001"]}}),
        ("POST", "/api/v1/layers/drafts/<int(max=2147483647):draft_id>/publish"): (
            only({"planner": 404, "none": 401}, 403), {"path": "/api/v1/layers/drafts/999/publish", "json": {"note": "x"}}),
        ("GET", "/api/v1/layers/<version>/layer.gpkg"): (
            only({"dispatcher": 404, "planner": 404, "none": 401}, 403), {"path": "/api/v1/layers/0123456789ab/layer.gpkg"}),
        ("GET", "/console/layers/versions/<version>/layer.gpkg"): (
            only({**SIGN_IN, "dispatcher": 404, "planner": 404}, 403), {"path": "/console/layers/versions/0123456789ab/layer.gpkg"}),
        ("POST", "/api/v1/layers/<version>/rollback"): (
            only({"planner": 404, "none": 401}, 403), {"path": "/api/v1/layers/0123456789ab/rollback", "json": {"note": "x"}}),
        ("POST", "/api/v1/layers/publications/<int(max=2147483647):publication_id>/reassign"): (
            only({"dispatcher": 404, "none": 401}, 403), {"path": "/api/v1/layers/publications/999/reassign", "json": {"report_ids": []}}),
        ("POST", "/api/v1/photos"): (only({"none": 401}, 201), {"path": "/api/v1/photos", "photo": True}),
        ("GET", "/api/v1/photos/<photo_id>"): (B_ONLY, {"path": f"/api/v1/photos/{photo_b}"}),
        ("GET", "/api/v1/public/reports"): (ALL, {"path": "/api/v1/public/reports"}),
        ("POST", "/api/v1/reports"): (only({"none": 401}, 201), {"path": "/api/v1/reports", "json": REPORT}),
        ("GET", "/api/v1/reports"): (STAFF, {"path": "/api/v1/reports?limit=500"}),
        ("GET", "/api/v1/reports/<int(max=2147483647):report_id>"): (B_ONLY, {"path": f"/api/v1/reports/{rb}"}),
        ("POST", "/api/v1/reports/<int(max=2147483647):report_id>/transitions"): (
            only({"dispatcher": 409, "unit_a": 404, "none": 401}, 403), {"path": f"/api/v1/reports/{rb}/transitions", "json": {"action": "verify"}}),
        ("GET", "/api/v1/reports/<int(max=2147483647):report_id>/nearby"): (B_ONLY, {"path": f"/api/v1/reports/{rb}/nearby"}),
        ("POST", "/api/v1/reports/<int(max=2147483647):report_id>/merge"): (
            only({"dispatcher": 200, "none": 401}, 403), {"path": f"/api/v1/reports/{rb}/merge", "json": {}}),
        ("POST", "/console/reports/<int(max=2147483647):report_id>/merge"): (FORM, {"path": f"/console/reports/{rb}/merge", "data": {"report_id": "1"}}),
        ("GET", "/api/v1/route"): (only({"none": 401}, 200), {"path": f"/api/v1/route?lon={ids['lon']}&lat={ids['lat']}&category=litter"}),
        ("GET", "/api/v1/test-points"): (STAFF, {"path": "/api/v1/test-points"}),
        ("GET", "/api/v1/units"): (FIGURES, {"path": "/api/v1/units"}),
        ("GET", "/api/v1/units/<unit_id>"): ({**B_ONLY, "leader": 200}, {"path": "/api/v1/units/HW01"}),
        ("GET", "/api/v1/zones"): (STAFF, {"path": "/api/v1/zones"}),
        ("GET", "/api/v1/zones/<zone_id>"): (B_ONLY, {"path": f"/api/v1/zones/{zb}"}),
        ("GET", "/assets/<path:path>"): (ALL, {"path": "/assets/leaflet/leaflet.css"}),
        ("GET", "/static/<path:filename>"): (ALL, {"path": "/static/site.css"}),
        ("GET", "/coverage"): (only({}, 301), {"path": "/coverage"}),  # now the planners' console
        ("GET", "/console/plan"): (PLANNING, {"path": "/console/plan"}),
        ("GET", "/console/plan/map.json"): (PLANNING, {"path": "/console/plan/map.json"}),
        ("GET", "/console/plan/downloads/<what>.<fmt>"): (PLANNING, {"path": "/console/plan/downloads/gaps.csv"}),
        ("GET", "/console/layers"): (PLANNING, {"path": "/console/layers"}),
        ("POST", "/console/layers"): (FORM, {"path": "/console/layers", "data": {}, "content_type": "multipart/form-data"}),
        ("POST", "/console/layers/suggestions"): (FORM, {"path": "/console/layers/suggestions", "data": {"gap_id": "G00001"}}),
        ("GET", "/console/layers/drafts/<int(max=2147483647):draft_id>"): (
            only({**SIGN_IN, "unit_a": 403, "unit_b": 403}, 404), {"path": "/console/layers/drafts/999"}),
        ("GET", "/console/layers/drafts/<int(max=2147483647):draft_id>/map.json"): (
            only({**SIGN_IN, "unit_a": 403, "unit_b": 403}, 404), {"path": "/console/layers/drafts/999/map.json"}),
        ("POST", "/console/layers/drafts/<int(max=2147483647):draft_id>/suggestions"): (
            FORM, {"path": "/console/layers/drafts/999/suggestions", "data": {"gap_id": "G00001"}}),
        ("POST", "/console/layers/drafts/<int(max=2147483647):draft_id>/publish"): (
            FORM, {"path": "/console/layers/drafts/999/publish", "data": {"note": "x"}}),
        ("POST", "/console/layers/drafts/<int(max=2147483647):draft_id>/discard"): (FORM, {"path": "/console/layers/drafts/999/discard", "data": {}}),
        ("POST", "/console/layers/versions/<version>/rollback"): (FORM, {"path": "/console/layers/versions/0123456789ab/rollback", "data": {"note": "x"}}),
        ("GET", "/console/layers/publications/<int(max=2147483647):publication_id>"): (
            only({**SIGN_IN, "unit_a": 403, "unit_b": 403}, 404), {"path": "/console/layers/publications/999"}),
        ("POST", "/console/layers/publications/<int(max=2147483647):publication_id>/reassign"): (
            FORM, {"path": "/console/layers/publications/999/reassign", "data": {}}),
        ("GET", "/units/<unit_id>"): (only({**SIGN_IN, "unit_a": 403, "unit_b": 303, "leader": 200}, 200), {"path": "/units/HW01"}),  # a unit: its own console
        ("GET", "/docs"): (ALL, {"path": "/docs"}),
        ("GET", "/healthz"): (ALL, {"path": "/healthz"}),
        ("GET", "/openapi.json"): (ALL, {"path": "/openapi.json"}),
        ("GET", "/maps/coverage"): (ALL, {"path": "/maps/coverage"}),
        ("GET", "/maps/coverage/suggestions.geojson"): (ALL, {"path": "/maps/coverage/suggestions.geojson"}),
        ("GET", "/maps/public"): (ALL, {"path": "/maps/public"}),
        ("GET", "/maps/reports"): ({**OFFICE, "none": 302}, {"path": "/maps/reports"}),  # a browser without a session: to the sign-in form
        ("GET", "/maps/units/<unit_id>"): ({**B_ONLY, "none": 302}, {"path": "/maps/units/HW01"}),
        ("GET", "/ogc"): (ALL, {"path": "/ogc"}),
        ("GET", "/ogc/"): (ALL, {"path": "/ogc/"}),
        ("GET", "/ogc/collections/<collection>/schema"): (ALL, {"path": "/ogc/collections/zones/schema"}),
        ("GET", "/ogc/collections/<collection>/queryables"): (ALL, {"path": "/ogc/collections/zones/queryables"}),
        ("GET", "/ogc/conformance"): (ALL, {"path": "/ogc/conformance"}),
        ("GET", "/ogc/collections"): (ALL, {"path": "/ogc/collections"}),
        ("GET", "/ogc/collections/<collection>"): (ALL, {"path": "/ogc/collections/zones"}),
        ("GET", "/ogc/collections/<collection>/items"): (ALL, {"path": "/ogc/collections/zones/items?limit=10000"}),
        ("GET", "/ogc/collections/<collection>/items/<feature_id>"): (ALL, {"path": f"/ogc/collections/zones/items/{zb}"}),
        ("GET", "/open311/discovery.<any(json, xml):response_format>"): (ALL, {"path": "/open311/discovery.xml"}),
        ("GET", "/open311/v2/services.<any(json, xml):response_format>"): (ALL, {"path": "/open311/v2/services.xml"}),
        ("GET", "/open311/v2/services/<service_code>.<any(json, xml):response_format>"): (ALL, {"path": "/open311/v2/services/litter.json"}),
        ("GET", "/open311/v2/requests.<any(json, xml):response_format>"): (ALL, {"path": "/open311/v2/requests.xml"}),
        ("POST", "/open311/v2/requests.<any(json, xml):response_format>"): (only({"none": 401}, 200), {"path": "/open311/v2/requests.json", "open311": True}),
        ("GET", "/open311/v2/requests/<int(max=2147483647):request_id>.<any(json, xml):response_format>"): (ALL, {"path": f"/open311/v2/requests/{rb}.xml"}),
        ("GET", "/open311/v2/request/<int(max=2147483647):request_id>.<any(json, xml):response_format>"): (ALL, {"path": f"/open311/v2/request/{rb}.json"}),
        ("GET", "/open311/v2/tokens/<token_id>.<any(json, xml):response_format>"): (ALL, {"path": f"/open311/v2/tokens/{rb}.json"}),
    }


def _call(client, method: str, spec: dict, headers: dict[str, str], token: str | None):
    if spec.get("photo"):
        return client.post(spec["path"], data={"photo": (io.BytesIO(png()), "p.png")}, headers=headers, content_type="multipart/form-data")
    if spec.get("open311"):
        form = {"service_code": "litter", "lat": REPORT["lat"], "long": REPORT["lon"], "description": "open311", **({"api_key": token} if token else {})}
        return client.post(spec["path"], data=form)
    if method == "POST":
        return client.post(spec["path"], json=spec.get("json"), data=spec.get("data"), content_type=spec.get("content_type"), headers=headers)
    return client.get(spec["path"], headers=headers)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_endpoint_for_every_role(app, client, tokens, demo_files):
    headers = {**tokens, "none": {}, "bad": {"Authorization": "Bearer zm_not-a-token"}}
    secrets = {role: h["Authorization"].split()[1] for role, h in tokens.items()}
    # Unit B's report (with a photo), and unit A's, each with markers that must not travel.
    zones = pyogrio.read_dataframe(demo_files.gpkg, layer="zones")
    b_point = b_location(client, tokens, zones)
    photo_b = client.post("/api/v1/photos", data={"photo": (io.BytesIO(png((9, 8, 7))), "b.png")}, headers=tokens["public"],
                          content_type="multipart/form-data").get_json()
    b = {**REPORT, "lon": b_point[0], "lat": b_point[1], "description": "B单位的案件MARKER-B", "reporter_contact": "13700000042", "photos": [photo_b["url"]]}
    report_b = client.post("/api/v1/reports", json=b, headers=tokens["public"]).get_json()
    assert report_b["unit_id"] == "HW01"
    report_a = client.post("/api/v1/reports", json={**REPORT, "description": "A单位的案件MARKER-A", "reporter_contact": "13700000041"},
                           headers=tokens["public"]).get_json()
    assert report_a["unit_id"] == "P06"
    zone_b = str(zones.loc[zones["unit_id"] == "HW01", "zone_id"].iloc[0])
    phones_a = set(zones.loc[zones["unit_id"] == "P06", "phone"])
    private_b = sorted({p for p in zones.loc[zones["unit_id"] == "HW01", "phone"] if p and p not in phones_a})
    b_markers = ["MARKER-B", "13700000042", photo_b["id"], repr(b_point[0])[:11], report_b["created_at"], *private_b]
    contacts = ["13700000041", "13700000042"]

    round_made = client.post("/api/v1/rounds", json={"name": "督查", "level": "spot_check", "first_day": "2026-12-07", "last_day": "2026-12-07",
                                                     "scope": {"types": ["toilet"], "sample": 2, "seed": 1}}, headers=tokens["dispatcher"]).get_json()
    table = matrix({"report_b": str(report_b["id"]), "zone_b": zone_b, "photo_b": photo_b["id"], "lon": b_point[0], "lat": b_point[1],
                    "ref_b": report_b["public_ref"], "round": round_made["id"], "round_point": round_made["points"][0]["point_id"]})
    rules = {(m, r.rule) for r in app.url_map.iter_rules() for m in r.methods - {"HEAD", "OPTIONS"}}
    assert rules == set(table), f"untested: {rules - set(table)}; gone: {set(table) - rules}"
    wrong, leaks, cells = [], [], 0
    for (method, rule), (expected, spec) in sorted(table.items()):
        for role in ROLES:
            response = _call(client, method, spec, headers[role], secrets.get(role))
            cells += 1
            if response.status_code != expected[role]:
                wrong.append(f"{method} {rule} as {role}: {response.status_code}, expected {expected[role]}")
            body = response.get_data().decode("utf-8", "replace")  # a workbook or a photo is searched as what it is
            response.close()  # file responses (assets) hold their file open until closed
            shown = [m for m in contacts if m in body and role != "dispatcher"]
            if role in ("unit_a", "public", "none", "bad"):  # what the caller sent may come back
                shown += [m for m in b_markers if m in body and m not in spec["path"]]
            if shown:
                leaks.append(f"{method} {rule} as {role} shows {shown}")
    assert not wrong, "\n".join(wrong)
    assert not leaks, "\n".join(leaks)
    assert cells == len(table) * len(ROLES) >= 400
    # The markers are real: the owners see them.
    assert "MARKER-A" in client.get("/api/v1/reports?limit=500", headers=tokens["unit_a"]).get_data(as_text=True)
    assert "MARKER-B" in client.get("/api/v1/reports?limit=500", headers=tokens["unit_b"]).get_data(as_text=True)
    assert private_b[0] in client.get("/api/v1/zones", headers=tokens["unit_b"]).get_data(as_text=True)


def test_tokens_are_stored_hashed(app, tokens):
    import sqlalchemy as sa

    secrets = [h["Authorization"].split()[1] for h in tokens.values()]
    with app.extensions["zonemap.db"].session() as session:
        stored = [row[0] for row in session.execute(sa.text("SELECT digest FROM tokens"))]
    assert len(stored) == len(secrets) and not set(stored) & set(secrets)
    assert all(len(d) == 64 and not any(s in d for s in secrets) for d in stored)


def test_a_deleted_token_stops_working_once_its_cache_entry_expires(app, client, tokens):
    import sqlalchemy as sa

    def delete(role: str) -> None:
        with app.extensions["zonemap.db"].session() as session:
            session.execute(sa.text("DELETE FROM tokens WHERE role = :role"), {"role": role})

    assert client.get("/api/v1/reports", headers=tokens["dispatcher"]).status_code == 200  # now cached
    delete("dispatcher")
    assert client.get("/api/v1/reports", headers=tokens["dispatcher"]).status_code == 200  # within the cache time
    cache = app.extensions["zonemap.tokens"]
    cache.seconds = 0.0
    assert client.get("/api/v1/reports", headers=tokens["planner"]).status_code == 200  # cached with no time left
    delete("planner")
    assert client.get("/api/v1/reports", headers=tokens["planner"]).status_code == 401
