"""OpenAPI document and the GeoJSON layer endpoints (OGC API – Features: tests/api/layers/test_ogc.py)."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from tests.api.reports.test_reports import REPORT, submit


def test_openapi_is_valid_and_lists_every_route(app, client):
    doc = client.get("/openapi.json").get_json()
    validate(doc)
    rules = {re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", r.rule) for r in app.url_map.iter_rules()}
    assert rules <= set(doc["paths"]), rules - set(doc["paths"])
    page = client.get("/docs").get_data(as_text=True)
    assert "/openapi.json" in page and "http" not in page.replace("/openapi.json", "")  # no external assets


def test_geojson_layers_by_role(client, tokens):
    mine = client.get("/api/v1/zones", headers=tokens["unit_a"]).get_json()["features"]
    assert mine and {f["properties"]["unit_id"] for f in mine} == {"P06"}
    ring = mine[0]["geometry"]["coordinates"][0][0]  # a MultiPolygon's first exterior ring
    assert ring[0] == ring[-1] and all(len(repr(v).partition(".")[2]) <= 6 for xy in ring for v in xy)  # 6 decimals, no float noise
    assert client.get(f"/api/v1/zones/{mine[0]['id']}", headers=tokens["unit_b"]).status_code == 404
    assert client.get(f"/api/v1/zones/{mine[0]['id']}", headers=tokens["dispatcher"]).status_code == 200
    assert client.get("/api/v1/zones", headers=tokens["public"]).status_code == 403
    points = client.get("/api/v1/test-points", headers=tokens["planner"]).get_json()["features"]
    assert len(points) > 300
    submit(client, tokens["public"], REPORT)
