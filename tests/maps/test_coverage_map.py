"""The coverage map: built from layers, every asset local, served by the app."""

from __future__ import annotations

import re

import shapely

from maps.coverage import coverage_map
from maps.offline import asset_file
from tests.support.pages import signed_in
from tests.zones.test_router import cell, make_layer
from zones.coverage import analyse


def small_map(**kwargs):
    zones = [
        {"zone_id": "ZA", "unit_id": "UA", "duties": "sanitation", "geometry": cell(0, 0, 20, 20), "name": "正阳路1号门前", "unit_name": "阳光超市",
         "person": "王伟", "phone": "0532-01234567"},
        {"zone_id": "ZB", "unit_id": "UB", "duties": "sanitation", "geometry": cell(15, 0, 30, 20)},
    ]
    layer = make_layer(zones, test_points=[{"point_id": "T1", "unit_id": None, "geometry": shapely.Point(cell(50, 50, 51, 51).centroid)}])
    return coverage_map(layer, analyse(layer, within=cell(-10, -10, 40, 30)), asset_prefix="/assets/", **kwargs)


def test_map_layers_and_no_cdn():
    m = small_map()
    html = m.get_root().render()
    assert re.findall(r"https?://", html) == []  # offline: no CDN, no tiles
    assert '/assets/leaflet/leaflet.js' in html and '/assets/leaflet/leaflet.css' in html
    names = [child.layer_name for child in m._children.values() if hasattr(child, "layer_name")]
    assert {"街道 sub-districts", "责任区 zones", "责任空白 gaps", "交叉 overlaps", "测评点位 test points"} <= set(names)
    assert "0532-01234567" not in html  # private fields only on request


def test_data_is_embedded_compactly_and_safely():
    html = small_map().get_root().render()
    assert '"name":"正阳路1号门前"' in html  # UTF-8, no \uXXXX escapes, no spaces after separators
    assert '"bbox"' not in html and '"colour"' not in html  # nothing per feature the map does not use
    assert "</" not in "".join(re.findall(r"_add\((.*?)\);", html))  # data cannot close its <script>
    assert "0532-01234567" in small_map(private=True).get_root().render()


def test_local_tile_server():
    html = small_map(basemap="/tiles/{z}/{x}/{y}.png").get_root().render()
    assert "/tiles/{z}/{x}/{y}.png" in html and re.findall(r"https?://", html) == []


def test_amap_basemap_shifts_the_data_to_gcj02():
    plain = small_map().get_root().render()
    amap = small_map(basemap="amap").get_root().render()
    assert "autonavi" in amap
    assert "120.4" in plain and plain != amap


def test_asset_lookup_stays_inside_its_folder():
    assert asset_file("leaflet/leaflet.js") is not None
    assert asset_file("leaflet/images/layers.png") is not None
    assert asset_file("leaflet/../../../../etc/passwd") is None
    assert asset_file("nothing/x.js") is None


def test_served_by_the_app(client):
    page = client.get("/maps/coverage")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert re.findall(r"https?://", html) == []
    for path in re.findall(r'(?:src|href)="(/assets/[^"]+)"', html):
        with client.get(path) as response:  # closes the served file
            assert response.status_code == 200, path
    assert client.get("/assets/leaflet/../../secret").status_code == 404
    assert client.get("/maps/coverage?basemap=google").status_code == 422


def test_coverage_page_and_suggestions(app, client):
    assert client.get("/console/plan").headers["Location"] == "/login?next=/console/plan"
    signed_in(app, client, "planner")
    zh = client.get("/console/plan").get_data(as_text=True)
    assert "责任区覆盖情况" in zh and "城阳街道" in zh and 'id="plan-map"' in zh
    en = client.get("/console/plan?lang=en").get_data(as_text=True)
    assert "Responsibility coverage" in en and "Coverage" in en
    suggested = client.get("/maps/coverage/suggestions.geojson").get_json()
    assert suggested["features"] and all(f["properties"]["unit_id"] for f in suggested["features"])


def test_report_unit_and_public_maps_are_offline(client, tokens):
    from tests.api.reports.test_reports import REPORT, submit

    rid = submit(client, tokens["public"]).get_json()["id"]
    for action in ("rectify", "verify", "publish"):
        client.post(f"/api/v1/reports/{rid}/transitions", json={"action": action}, headers=tokens["dispatcher"])
    submit(client, tokens["public"], {**REPORT, "client_ref": "open-one"})
    pages = {
        "reports": client.get("/maps/reports", headers=tokens["planner"]),
        "unit": client.get("/maps/units/P06", headers=tokens["unit_a"]),
        "public": client.get("/maps/public"),
    }
    for name, page in pages.items():
        assert page.status_code == 200, name
        html = page.get_data(as_text=True)
        assert re.findall(r"https?://", html) == [], name
        for path in re.findall(r'(?:src|href)="(/assets/[^"]+)"', html):
            with client.get(path) as response:
                assert response.status_code == 200, path
    assert "markercluster" in pages["reports"].get_data(as_text=True) and "leaflet_heat" in pages["reports"].get_data(as_text=True)
    public = pages["public"].get_data(as_text=True)
    assert "13800000000" not in public and "时限" not in public
    assert client.get("/maps/units/P06", headers=tokens["unit_b"]).status_code == 404
    assert client.get("/maps/reports", headers=tokens["unit_a"]).status_code == 403
    assert client.get("/maps/reports").headers["Location"] == "/login?next=/maps/reports"  # a browser: to the sign-in form
    assert client.get("/maps/reports", headers={"Authorization": "Bearer zm_wrong"}).status_code == 401


def test_dispatch_and_unit_pages(app, client, tokens):
    from tests.api.reports.test_reports import REPORT, submit

    signed_in(app, client, "dispatcher")
    for page, title in (("/console/dispatch", "调度台"), ("/console/dispatch?lang=en", "Dispatch"), ("/units/P06", "青岛金海物业服务有限公司（P06）")):
        html = client.get(page).get_data(as_text=True)
        assert title in html and re.findall(r"https?://", html) == []
    rid = submit(client, tokens["public"], {**REPORT, "accuracy_m": 80}).get_json()["id"]
    queue = client.get("/api/v1/reports?decision=ambiguous&status=dispatched", headers=tokens["dispatcher"]).get_json()["items"]
    assert [r["id"] for r in queue] == [rid]
    assert client.get("/api/v1/reports?decision=maybe", headers=tokens["dispatcher"]).status_code == 422
