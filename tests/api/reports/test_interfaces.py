"""OpenAPI document, OGC API – Features, Open311 and the GeoJSON layer endpoints."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from tests.api.reports.test_reports import LAT, LON, REPORT, submit


def test_openapi_is_valid_and_lists_every_route(app, client):
    doc = client.get("/openapi.json").get_json()
    validate(doc)
    rules = {re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", r.rule) for r in app.url_map.iter_rules()}
    assert rules <= set(doc["paths"]), rules - set(doc["paths"])
    page = client.get("/docs").get_data(as_text=True)
    assert "/openapi.json" in page and "http" not in page.replace("/openapi.json", "")  # no external assets


def test_ogc_features(client, tokens):
    landing = client.get("/ogc").get_json()
    assert {link["rel"] for link in landing["links"]} >= {"conformance", "data", "service-desc"}
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in client.get("/ogc/conformance").get_json()["conformsTo"]
    ids = [c["id"] for c in client.get("/ogc/collections").get_json()["collections"]]
    assert ids == ["zones", "test_points", "areas", "scope", "coverage_gaps", "reports_public"]
    page = client.get("/ogc/collections/zones/items?limit=5").get_json()
    assert page["numberReturned"] == 5 and page["numberMatched"] > 5000
    assert any(link["rel"] == "next" for link in page["links"])
    assert "phone" not in page["features"][0]["properties"]  # private without a planner token
    private = client.get("/ogc/collections/zones/items?limit=1", headers=tokens["planner"]).get_json()
    assert "phone" in private["features"][0]["properties"]
    ring = page["features"][0]["geometry"]["coordinates"][0]
    if page["features"][0]["geometry"]["type"] == "MultiPolygon":
        ring = ring[0]
    area2 = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False))
    assert area2 > 0  # RFC 7946: exterior rings counter-clockwise
    boxed = client.get(f"/ogc/collections/zones/items?bbox={LON - 0.002},{LAT - 0.002},{LON + 0.002},{LAT + 0.002}").get_json()
    assert 0 < boxed["numberMatched"] < 200
    one = client.get(f"/ogc/collections/zones/items/{page['features'][0]['id']}").get_json()
    assert one["id"] == page["features"][0]["id"]
    assert client.get("/ogc/collections/nothing/items").status_code == 404
    assert client.get("/ogc/collections/coverage_gaps/items?limit=1").get_json()["numberMatched"] > 0


def test_geojson_layers_by_role(client, tokens):
    mine = client.get("/api/v1/zones", headers=tokens["unit_a"]).get_json()["features"]
    assert mine and {f["properties"]["unit_id"] for f in mine} == {"P06"}
    assert client.get(f"/api/v1/zones/{mine[0]['id']}", headers=tokens["unit_b"]).status_code == 404
    assert client.get(f"/api/v1/zones/{mine[0]['id']}", headers=tokens["dispatcher"]).status_code == 200
    assert client.get("/api/v1/zones", headers=tokens["public"]).status_code == 403
    points = client.get("/api/v1/test-points", headers=tokens["planner"]).get_json()["features"]
    assert len(points) > 300
    submit(client, tokens["public"], REPORT)
