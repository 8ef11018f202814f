"""OGC API – Features against the real app, by the standard's abstract test suite: OGC 17-069r4
(Part 1, 1.0.1) Annex A for the classes Core, GeoJSON and OpenAPI 3.0, and OGC 19-079r2 (Part 3)
for Queryables and Queryables as query parameters. Each case is named by its test's id. Then the
clients people use against the real server: GDAL's OAPIF driver and OWSLib."""

from __future__ import annotations

import http.client
import json
import math
import os
import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pyogrio
import pytest
import shapely
from openapi_spec_validator import validate

from tests.api.reports.test_reports import LAT, LON, REPORT, submit
from tests.support.server import Server, call, create_token

PART1 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
PART3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
COLLECTIONS = ["zones", "test_points", "areas", "scope", "coverage_gaps", "reports_public"]
GEOJSON = "application/geo+json"
PROBLEM = "application/problem+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
NEAR = f"{LON - 0.002},{LAT - 0.002},{LON + 0.002},{LAT + 0.002}"  # a few hundred metres around a covered point


def get(client, url: str, headers: dict[str, str] | None = None):
    """GET a link the API gave (absolute, under its BASE_URL) or a path."""
    parts = urlsplit(url)
    return client.get(parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers)


def link(body: dict, rel: str) -> dict:
    """The one link of ``body`` with relation ``rel``."""
    found = [li for li in body["links"] if li["rel"] == rel]
    assert len(found) == 1, (rel, body["links"])
    return found[0]


def published(client, tokens) -> int:
    """A report submitted, rectified, verified and published: one feature of ``reports_public``."""
    report_id = submit(client, tokens["public"], REPORT).get_json()["id"]
    for action in ("rectify", "verify", "publish"):
        assert client.post(f"/api/v1/reports/{report_id}/transitions", json={"action": action}, headers=tokens["dispatcher"]).status_code == 200
    return report_id


def coordinates(geometry: dict) -> list[list[float]]:
    """Every position of a GeoJSON geometry."""
    out: list[list[float]] = []

    def walk(value):
        if value and isinstance(value[0], (int, float)):
            out.append(value)
        else:
            for part in value:
                walk(part)

    walk(geometry["coordinates"])
    return out


def operation(client, path: str) -> dict:
    """The GET operation of ``path`` in the OpenAPI document."""
    return client.get("/openapi.json").get_json()["paths"][path]["get"]


def parameter(client, path: str, name: str) -> dict:
    """The parameter ``name`` of the GET operation of ``path``."""
    return next(p for p in operation(client, path)["parameters"] if p["name"] == name)


ATS: dict[str, Callable] = {}


def ats(test_id: str) -> Callable[[Callable], Callable]:
    """Register a check as the abstract test ``test_id``."""

    def register(check: Callable) -> Callable:
        ATS[test_id] = check
        return check

    return register


# --- Core: landing page, API definition, conformance ------------------------------------------


@ats("conf/core/root-op")
def _root_op(client, tokens):
    for path in ("/ogc", "/ogc/"):  # clients ask for both
        response = client.get(path)
        assert response.status_code == 200 and response.mimetype == "application/json", path


@ats("conf/core/root-success")
def _root_success(client, tokens):
    landing = client.get("/ogc/").get_json()
    assert landing["title"]
    for rel in ("self", "service-desc", "service-doc", "conformance", "data"):
        assert link(landing, rel)["href"].startswith("http")
    assert all({"rel", "type", "href"} <= set(li) for li in landing["links"])
    assert get(client, link(landing, "conformance")["href"]).status_code == 200
    assert get(client, link(landing, "data")["href"]).status_code == 200


@ats("conf/core/api-definition-op")
def _api_definition_op(client, tokens):
    landing = client.get("/ogc").get_json()
    for rel in ("service-desc", "service-doc"):
        assert get(client, link(landing, rel)["href"]).status_code == 200


@ats("conf/core/api-definition-success")
def _api_definition_success(client, tokens):
    response = get(client, link(client.get("/ogc").get_json(), "service-desc")["href"])
    assert response.content_type == OPENAPI
    doc = json.loads(response.get_data())
    assert doc["openapi"].startswith("3.0") and "/ogc/collections/{collection}/items" in doc["paths"]


@ats("conf/core/conformance-op")
def _conformance_op(client, tokens):
    response = client.get("/ogc/conformance")
    assert response.status_code == 200 and response.mimetype == "application/json"


@ats("conf/core/conformance-success")
def _conformance_success(client, tokens):
    declared = client.get("/ogc/conformance").get_json()["conformsTo"]
    assert declared == [PART1 + "core", PART1 + "geojson", PART1 + "oas30", PART3 + "queryables", PART3 + "queryables-query-parameters"]


@ats("conf/core/http")
def _http(client, tokens):
    """Run against the real server: see `test_http_1_1`; the test client speaks WSGI."""
    assert client.get("/ogc").status_code == 200


@ats("conf/core/crs84")
def _crs84(client, tokens):
    for collection in COLLECTIONS:
        meta = client.get(f"/ogc/collections/{collection}").get_json()
        assert meta["crs"] == ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
        if "extent" in meta:
            assert meta["extent"]["spatial"]["crs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    for feature in client.get("/ogc/collections/test_points/items?limit=10000").get_json()["features"]:
        for lon, lat in coordinates(feature["geometry"]):
            assert 120 < lon < 121 and 36 < lat < 37  # Qingdao in lon/lat order, not lat/lon


# --- Core: collections -----------------------------------------------------------------------


@ats("conf/core/fc-md-op")
def _fc_md_op(client, tokens):
    response = client.get("/ogc/collections")
    assert response.status_code == 200 and response.mimetype == "application/json"


@ats("conf/core/fc-md-success")
def _fc_md_success(client, tokens):
    body = client.get("/ogc/collections").get_json()
    assert [c["id"] for c in body["collections"]] == COLLECTIONS


@ats("conf/core/fc-md-links")
def _fc_md_links(client, tokens):
    body = client.get("/ogc/collections").get_json()
    assert link(body, "self")["type"] == "application/json"
    assert get(client, link(body, "self")["href"]).get_json() == body


@ats("conf/core/fc-md-items")
def _fc_md_items(client, tokens):
    for entry in client.get("/ogc/collections").get_json()["collections"]:
        assert entry["id"] in COLLECTIONS and entry["title"] and entry["itemType"] == "feature"
        assert all({"rel", "type", "href"} <= set(li) for li in entry["links"])


@ats("conf/core/fc-md-items-links")
def _fc_md_items_links(client, tokens):
    for entry in client.get("/ogc/collections").get_json()["collections"]:
        items = link(entry, "items")
        assert items["type"] == GEOJSON
        assert get(client, items["href"] + "?limit=1").status_code == 200


@ats("conf/core/fc-md-extent")
def _fc_md_extent(client, tokens):
    empty = client.get("/ogc/collections/reports_public").get_json()
    assert "extent" not in empty  # nothing published yet: no extent, not the whole world
    published(client, tokens)
    for collection in COLLECTIONS:
        meta = client.get(f"/ogc/collections/{collection}").get_json()
        features = client.get(f"/ogc/collections/{collection}/items?limit=10000").get_json()["features"]
        assert bool(features) == ("extent" in meta), collection
        if not features:
            continue
        (west, south, east, north), = meta["extent"]["spatial"]["bbox"]
        positions = [p for f in features for p in coordinates(f["geometry"])]
        assert west <= min(p[0] for p in positions) and east >= max(p[0] for p in positions), collection
        assert south <= min(p[1] for p in positions) and north >= max(p[1] for p in positions), collection
        assert east - west < 1 and north - south < 1, collection  # the district, not the world
    zones = client.get("/ogc/collections/zones").get_json()["extent"]["temporal"]
    assert zones["interval"] == [["2021-05-01T00:00:00+08:00", None]]  # valid_from of every demo zone, none ends
    reports = client.get("/ogc/collections/reports_public").get_json()["extent"]["temporal"]["interval"]
    day = client.get("/ogc/collections/reports_public/items").get_json()["features"][0]["properties"]["reported_on"]
    assert reports == [[f"{day}T00:00:00+08:00", f"{day}T23:59:59.999999+08:00"]]


@ats("conf/core/sfc-md-op")
def _sfc_md_op(client, tokens):
    for collection in COLLECTIONS:
        assert client.get(f"/ogc/collections/{collection}").status_code == 200
    missing = client.get("/ogc/collections/nothing")
    assert missing.status_code == 404 and missing.mimetype == PROBLEM


@ats("conf/core/sfc-md-success")
def _sfc_md_success(client, tokens):
    listed = {c["id"]: c for c in client.get("/ogc/collections").get_json()["collections"]}
    for collection in COLLECTIONS:
        assert client.get(f"/ogc/collections/{collection}").get_json() == listed[collection]


# --- Core: features ----------------------------------------------------------------------------


@ats("conf/core/fc-op")
def _fc_op(client, tokens):
    for collection in COLLECTIONS:
        response = client.get(f"/ogc/collections/{collection}/items?limit=2")
        assert response.status_code == 200 and response.mimetype == GEOJSON, collection


@ats("conf/core/fc-limit-definition")
def _fc_limit_definition(client, tokens):
    limit = parameter(client, "/ogc/collections/{collection}/items", "limit")
    assert limit["in"] == "query" and not limit["required"]
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1000}


@ats("conf/core/fc-limit-response")
def _fc_limit_response(client, tokens):
    assert client.get("/ogc/collections/zones/items?limit=5").get_json()["numberReturned"] == 5
    assert client.get("/ogc/collections/zones/items").get_json()["numberReturned"] == 1000  # the declared default
    above = client.get("/ogc/collections/zones/items?limit=20000")
    assert above.status_code == 200  # above the maximum is no error (/req/core/fc-limit-response-1 C) ...
    assert above.get_json()["numberReturned"] == above.get_json()["numberMatched"] <= 10000  # ... and never more than it
    assert client.get("/ogc/collections/zones/items?limit=7000").get_json()["numberReturned"] == 7000


@ats("conf/core/fc-bbox-definition")
def _fc_bbox_definition(client, tokens):
    bbox = parameter(client, "/ogc/collections/{collection}/items", "bbox")
    assert (bbox["in"], bbox["required"], bbox["style"], bbox["explode"]) == ("query", False, "form", False)
    assert bbox["schema"] == {"type": "array", "oneOf": [{"minItems": 4, "maxItems": 4}, {"minItems": 6, "maxItems": 6}], "items": {"type": "number"}}


@ats("conf/core/fc-bbox-response")
def _fc_bbox_response(client, tokens):
    near = client.get(f"/ogc/collections/zones/items?bbox={NEAR}&limit=10000").get_json()
    assert 0 < near["numberMatched"] < 200
    box = shapely.box(*map(float, NEAR.split(",")))
    assert all(shapely.intersects(shapely.from_geojson(json.dumps(f["geometry"])), box) for f in near["features"])
    west, south, east, north = NEAR.split(",")
    same = [f"{west},{south},-10,{east},{north},100", ",".join(f"{float(v):e}" for v in NEAR.split(","))]  # 6 numbers; exponents
    for value in same:
        found = client.get("/ogc/collections/zones/items", query_string={"bbox": value, "limit": 10000}).get_json()["features"]
        assert [f["id"] for f in found] == [f["id"] for f in near["features"]], value
    across = client.get("/ogc/collections/zones/items?bbox=170,-90,-170,90").get_json()  # across the antimeridian, far from Qingdao
    assert across["numberMatched"] == 0
    everywhere = client.get("/ogc/collections/zones/items?bbox=-180,-90,180,90&limit=1").get_json()
    assert everywhere["numberMatched"] == client.get("/ogc/collections/zones/items?limit=1").get_json()["numberMatched"]


@ats("conf/core/fc-time-definition")
def _fc_time_definition(client, tokens):
    datetime = parameter(client, "/ogc/collections/{collection}/items", "datetime")
    assert (datetime["in"], datetime["required"], datetime["schema"]["type"]) == ("query", False, "string")


def _ids(client, collection: str, datetime: str) -> set[str]:
    body = client.get(f"/ogc/collections/{collection}/items", query_string={"limit": 10000, "datetime": datetime}).get_json()
    return {f["id"] for f in body["features"]}


@ats("conf/core/fc-time-response")
def _fc_time_response(client, tokens):
    report = str(published(client, tokens))
    day = client.get(f"/ogc/collections/reports_public/items/{report}").get_json()["properties"]["reported_on"]
    start = f"{day}T00:00:00+08:00"  # the day in Asia/Shanghai
    inside = [day, f"{day}T12:00:00+08:00", f"{day}T04:00:00Z", f"{start}/{day}T00:00:01+08:00", f"../{start}", f"/{start}",
              f"{start}/..", f"{start}/", f"{day}/{day}", "2020-01-01/2100-12-31"]
    outside = [f"../{day}T00:00:00+09:00", f"{day}T23:59:59+07:00/..", "2020-02-29", "1990-01-01T00:00:00Z/2021-04-30T23:59:59+08:00"]
    for value in inside:
        assert _ids(client, "reports_public", value) == {report}, value
    for value in outside:
        assert _ids(client, "reports_public", value) == set(), value
    every = _ids(client, "zones", "../2100-01-01")
    assert len(every) == client.get("/ogc/collections/zones/items?limit=1").get_json()["numberMatched"]
    assert _ids(client, "zones", "2021-05-01T00:00:00+08:00") == every  # every zone is valid from that day on
    assert _ids(client, "zones", "../2021-04-30") == set()
    assert len(_ids(client, "test_points", "1990-01-01")) == 436  # no time: every point matches


INVALID = [
    ("zones/items", "limit=0"), ("zones/items", "limit=-1"), ("zones/items", "limit=abc"), ("zones/items", "limit=1.5"),
    ("zones/items", "offset=-1"), ("zones/items", "offset=x"),
    ("zones/items", "bbox=1,2,3"), ("zones/items", "bbox=a,b,c,d"), ("zones/items", "bbox=120,36,121"), ("zones/items", "bbox=1,2,3,4,5"),
    ("zones/items", "bbox=120.5,36.4,120.3,36.2"),  # south above north
    ("zones/items", "bbox=120,36,0,121,37,-5"),  # minimum height above the maximum
    ("zones/items", "bbox=120,-91,121,37"), ("zones/items", "bbox=200,36,210,37"), ("zones/items", "bbox="),
    ("zones/items", "datetime=nonsense"), ("zones/items", "datetime=2021-02-29"), ("zones/items", "datetime=../.."),
    ("zones/items", "datetime=2021-05-02/2021-05-01"), ("zones/items", "datetime=2021-05-01T25:00:00Z"),
    ("zones/items", "f=xml"), ("zones", "f=html"), ("", "f=xml"),
]


@ats("conf/core/query-param-invalid")
def _query_param_invalid(client, tokens):
    for resource, query in INVALID:
        response = client.get(f"/ogc/collections/{resource}?{query}" if resource else f"/ogc?{query}")
        assert response.status_code == 400, (resource, query, response.status_code)
        problem = response.get_json(force=True)
        assert response.mimetype == PROBLEM and problem["status"] == 400 and problem["errors"][0]["field"] == query.split("=")[0]


@ats("conf/core/query-param-unknown")
def _query_param_unknown(client, tokens):
    for path in ("/ogc", "/ogc/", "/ogc/conformance", "/ogc/collections", "/ogc/collections/zones", "/ogc/collections/zones/items",
                 "/ogc/collections/zones/items/Z00001", "/ogc/collections/zones/schema", "/ogc/collections/zones/queryables"):
        response = client.get(f"{path}?foo=bar")
        assert response.status_code == 400 and response.mimetype == PROBLEM, path
        assert "foo" in response.get_json(force=True)["detail"]
    assert client.get("/ogc/collections/test_points/items?kind=road").status_code == 400  # a queryable of zones, not of test points
    assert client.get("/ogc/collections/zones/items?phone=1").status_code == 400  # no filter on private fields


@ats("conf/core/fc-response")
def _fc_response(client, tokens):
    body = client.get("/ogc/collections/zones/items?limit=3").get_json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 3
    assert all(f["type"] == "Feature" and f["id"] for f in body["features"])


@ats("conf/core/fc-links")
def _fc_links(client, tokens):
    first = client.get("/ogc/collections/zones/items?limit=3000&unit_id=HW01").get_json()
    assert all({"rel", "type", "href"} <= set(li) for li in first["links"])
    assert get(client, link(first, "self")["href"]).get_json()["features"] == first["features"]
    assert link(first, "collection")["href"].endswith("/ogc/collections/zones")
    pages, seen, body = 1, [f["id"] for f in first["features"]], first
    while any(li["rel"] == "next" for li in body["links"]):
        body = get(client, link(body, "next")["href"]).get_json()
        assert link(body, "prev")["type"] == GEOJSON
        seen += [f["id"] for f in body["features"]]
        pages += 1
    assert len(seen) == len(set(seen)) == first["numberMatched"] and pages == math.ceil(first["numberMatched"] / 3000)


@ats("conf/core/fc-timeStamp")
def _fc_timestamp(client, tokens):
    stamp = client.get("/ogc/collections/areas/items").get_json()["timeStamp"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp)


@ats("conf/core/fc-numberMatched")
def _fc_number_matched(client, tokens):
    body = client.get("/ogc/collections/zones/items?unit_id=P06&limit=10").get_json()
    every = client.get("/ogc/collections/zones/items?unit_id=P06&limit=10000").get_json()
    assert body["numberMatched"] == len(every["features"]) == every["numberMatched"] > 10


@ats("conf/core/fc-numberReturned")
def _fc_number_returned(client, tokens):
    for query in ("limit=10", f"bbox={NEAR}", "offset=7010"):
        body = client.get(f"/ogc/collections/zones/items?{query}").get_json()
        assert body["numberReturned"] == len(body["features"]), query


@ats("conf/core/f-op")
def _f_op(client, tokens):
    for collection in COLLECTIONS[:-1]:
        first = client.get(f"/ogc/collections/{collection}/items?limit=1").get_json()["features"][0]
        response = client.get(f"/ogc/collections/{collection}/items/{first['id']}")
        assert response.status_code == 200 and response.mimetype == GEOJSON, collection
    missing = client.get("/ogc/collections/zones/items/Z99999")
    assert missing.status_code == 404 and missing.mimetype == PROBLEM


@ats("conf/core/f-success")
def _f_success(client, tokens):
    one = client.get("/ogc/collections/zones/items/Z00001").get_json()
    listed = next(f for f in client.get("/ogc/collections/zones/items?zone_id=Z00001").get_json()["features"])
    assert one["type"] == "Feature" and one["id"] == "Z00001"
    assert (one["geometry"], one["properties"]) == (listed["geometry"], listed["properties"])


@ats("conf/core/f-links")
def _f_links(client, tokens):
    one = client.get("/ogc/collections/test_points/items/TP0001").get_json()
    assert all({"rel", "type", "href"} <= set(li) for li in one["links"])
    assert get(client, link(one, "self")["href"]).get_json() == one
    assert get(client, link(one, "collection")["href"]).get_json()["id"] == "test_points"


# --- GeoJSON ------------------------------------------------------------------------------------


@ats("conf/geojson/definition")
def _geojson_definition(client, tokens):
    for path in ("/ogc/collections/zones/items?limit=1", "/ogc/collections/zones/items/Z00001"):
        assert client.get(path, headers={"Accept": GEOJSON}).mimetype == GEOJSON
    for path in ("/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/zones"):
        assert client.get(path).mimetype == "application/json"


@ats("conf/geojson/content")
def _geojson_content(client, tokens):
    for collection in COLLECTIONS[:-1]:
        body = client.get(f"/ogc/collections/{collection}/items?limit=10000").get_json()
        for feature in body["features"]:
            geometry = shapely.from_geojson(json.dumps(feature["geometry"]))  # a GeoJSON geometry GEOS reads
            assert geometry.is_valid and isinstance(feature["properties"], dict) and isinstance(feature["id"], str)
            assert all(len(repr(v).partition(".")[2]) <= 6 for p in coordinates(feature["geometry"]) for v in p)  # 6 decimals, no noise
            for polygon in getattr(geometry, "geoms", [geometry]):
                if polygon.geom_type == "Polygon":
                    assert polygon.exterior.is_ccw and not any(ring.is_ccw for ring in polygon.interiors)  # RFC 7946 §3.1.6
        one = client.get(f"/ogc/collections/{collection}/items/{body['features'][0]['id']}").get_json()
        assert one["id"] == body["features"][0]["id"]  # the id is the path's featureId


# --- OpenAPI 3.0 --------------------------------------------------------------------------------


@ats("conf/oas30/oas-definition-1")
def _oas_definition_1(client, tokens):
    landing = client.get("/ogc").get_json()
    assert link(landing, "service-desc")["type"] == OPENAPI
    assert get(client, link(landing, "service-desc")["href"]).content_type == OPENAPI
    assert link(landing, "service-doc")["type"] == "text/html"
    assert get(client, link(landing, "service-doc")["href"]).mimetype == "text/html"


@ats("conf/oas30/oas-definition-2")
def _oas_definition_2(client, tokens):
    validate(client.get("/openapi.json").get_json())


OGC_PATHS = {"/ogc": "/ogc", "/ogc/": "/ogc/", "/ogc/conformance": "/ogc/conformance", "/ogc/collections": "/ogc/collections",
             "/ogc/collections/{collection}": "/ogc/collections/zones", "/ogc/collections/{collection}/items": "/ogc/collections/zones/items",
             "/ogc/collections/{collection}/items/{feature_id}": "/ogc/collections/zones/items/Z00001",
             "/ogc/collections/{collection}/schema": "/ogc/collections/zones/schema",
             "/ogc/collections/{collection}/queryables": "/ogc/collections/zones/queryables"}


@ats("conf/oas30/oas-impl")
def _oas_impl(client, tokens):
    paths = {p for p in client.get("/openapi.json").get_json()["paths"] if p.startswith("/ogc")}
    assert paths == set(OGC_PATHS)
    for template, path in OGC_PATHS.items():
        for collection in COLLECTIONS if "{collection}" in template and "{feature_id}" not in template else [None]:
            assert client.get(path.replace("zones", collection) if collection else path).status_code == 200, (template, collection)


@ats("conf/oas30/completeness")
def _oas_completeness(client, tokens):
    for template, path in OGC_PATHS.items():
        declared = operation(client, template)["responses"]
        for url in (path, f"{path}?foo=bar", path.replace("zones", "nothing")):
            response = client.get(url)
            assert str(response.status_code) in declared, (url, response.status_code)
            content = declared[str(response.status_code)].get("content") or {"application/problem+json": {}}
            assert response.content_type in content, (url, response.content_type)


@ats("conf/oas30/exceptions-codes")
def _oas_exception_codes(client, tokens):
    for template in OGC_PATHS:
        declared = operation(client, template)["responses"]
        assert "400" in declared, template
        if "{collection}" in template:
            assert "404" in declared, template


@ats("conf/oas30/security")
def _oas_security(client, tokens):
    doc = client.get("/openapi.json").get_json()
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert all(operation(client, template)["security"] == [] for template in OGC_PATHS)  # open to all; a token shows more
    plain = client.get("/ogc/collections/zones/items/Z00001").get_json()["properties"]
    private = client.get("/ogc/collections/zones/items/Z00001", headers=tokens["planner"]).get_json()["properties"]
    assert "phone" not in plain and "phone" in private


# --- Part 3: queryables -------------------------------------------------------------------------


@ats("conf/queryables/get-conformance")
def _queryables_conformance(client, tokens):
    assert PART3 + "queryables" in client.get("/ogc/conformance").get_json()["conformsTo"]


@ats("conf/queryables/get-queryables-uris")
def _queryables_uris(client, tokens):
    for entry in client.get("/ogc/collections").get_json()["collections"]:
        queryables = link(entry, "http://www.opengis.net/def/rel/ogc/1.0/queryables")
        assert queryables["type"] == "application/schema+json"
        assert get(client, queryables["href"]).status_code == 200


@ats("conf/queryables/get-queryables")
def _queryables(client, tokens):
    for collection in COLLECTIONS:
        response = client.get(f"/ogc/collections/{collection}/queryables")
        assert response.mimetype == "application/schema+json"
        schema = response.get_json(force=True)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema" and schema["type"] == "object"
        assert schema["$id"].endswith(f"/ogc/collections/{collection}/queryables") and schema["additionalProperties"] is False
        geometry = schema["properties"].pop("geometry")
        assert geometry["format"].startswith("geometry-") and "type" not in geometry
        assert schema["properties"] and all(p["type"] == "string" for p in schema["properties"].values())
    points = client.get("/ogc/collections/test_points/queryables").get_json(force=True)
    assert set(points["properties"]) == {"point_id", "unit_id", "type", "geometry"} and points["properties"]["geometry"]["format"] == "geometry-any"


@ats("conf/queryables-query-parameters/get-conformance")
def _query_parameters_conformance(client, tokens):
    assert PART3 + "queryables-query-parameters" in client.get("/ogc/conformance").get_json()["conformsTo"]


@ats("conf/queryables-query-parameters/query-param")
def _query_parameters(client, tokens):
    for collection in COLLECTIONS[:-1]:
        names = [n for n in client.get(f"/ogc/collections/{collection}/queryables").get_json(force=True)["properties"] if n != "geometry"]
        features = client.get(f"/ogc/collections/{collection}/items?limit=10000").get_json()["features"]
        for name in names:
            value = next(f["properties"][name] for f in features if f["properties"][name] is not None)
            got = client.get(f"/ogc/collections/{collection}/items", query_string={name: value, "limit": 10000}).get_json()
            want = [f["id"] for f in features if f["properties"][name] == value]
            assert [f["id"] for f in got["features"]] == want and got["numberMatched"] == len(want), (collection, name)
    assert client.get("/ogc/collections/zones/items?unit_id=nobody").get_json()["numberMatched"] == 0


# --- the suite ---------------------------------------------------------------------------------


@pytest.mark.parametrize("test_id", list(ATS))
def test_abstract_test_suite(test_id, client, tokens):
    ATS[test_id](client, tokens)


def test_the_schema_types_every_collection(client, tokens):
    """``describedby``: a client types a layer from its schema, not from the first page (test
    points are Points and Polygons in one collection)."""
    for entry in client.get("/ogc/collections").get_json()["collections"]:
        described = link(entry, "describedby")
        assert described["type"] == "application/schema+json"
        schema = get(client, described["href"]).get_json(force=True)
        properties = schema["properties"]
        features = client.get(f"/ogc/collections/{entry['id']}/items?limit=10000").get_json()["features"]
        assert [n for n in properties if n != "geometry"] == (list(features[0]["properties"]) if features else [n for n in properties if n != "geometry"])
        assert properties["geometry"]["x-ogc-role"] == "primary-geometry"
    points = client.get("/ogc/collections/test_points/schema").get_json(force=True)["properties"]
    assert points["point_id"] == {"title": "point_id", "type": "string", "x-ogc-role": "id"} and points["geometry"]["format"] == "geometry-any"


# --- real clients against the real server --------------------------------------------------------


@pytest.fixture(scope="module")
def server(demo_files, tmp_path_factory):
    """The server on 127.0.0.1 with its links under its own address, one published result."""
    data = tmp_path_factory.mktemp("ogc")
    env = {**os.environ, "ZONEMAP_LAYER_DIR": str(demo_files.root), "DATABASE_URL": f"sqlite:///{data / 'zonemap.sqlite'}"}
    running = Server(env, data, None)
    running.env["ZONEMAP_BASE_URL"] = running.base
    token = create_token(env, data)
    running.start()
    try:
        status, report = call("POST", running.base + "/api/v1/reports", REPORT, token)
        assert status == 201, report
        for action in ("rectify", "verify", "publish"):
            assert call("POST", f"{running.base}/api/v1/reports/{report['id']}/transitions", {"action": action}, token)[0] == 200
        yield running.base
    finally:
        running.stop()


def test_http_1_1(server):
    """conf/core/http: the server answers in HTTP/1.1."""
    connection = http.client.HTTPConnection(urlsplit(server).netloc, timeout=30)
    connection.request("GET", "/ogc/")
    response = connection.getresponse()
    assert (response.status, response.version) == (200, 11)
    connection.close()


@pytest.mark.skipif("OAPIF" not in pyogrio.list_drivers(), reason="this GDAL has no OAPIF driver")
def test_gdal_reads_every_collection(server):
    """GDAL's OAPIF driver (as QGIS reads the layers) lists every collection and reads each with
    the server's counts and geometry types."""
    source = f"OAPIF:{server}/ogc"
    assert [name for name, _ in pyogrio.list_layers(source)] == COLLECTIONS
    for collection in COLLECTIONS:
        _, body = call("GET", f"{server}/ogc/collections/{collection}/items?limit=10000")
        frame = pyogrio.read_dataframe(source, layer=collection, page_size=5000)
        assert len(frame) == body["numberMatched"] > 0, collection
        assert sorted(frame.geom_type.unique()) == sorted({f["geometry"]["type"] for f in body["features"]}), collection


def test_owslib_reads_the_layers(server):
    """OWSLib's OGC API – Features client walks the API as a script does: it asks for the landing
    page with a trailing slash and finds the API definition by its link's exact media type."""
    features = pytest.importorskip("owslib.ogcapi.features")
    api = features.Features(f"{server}/ogc")
    assert api.api()["paths"]["/ogc/collections/{collection}/items"]
    assert api.feature_collections() == COLLECTIONS
    assert api.conformance()["conformsTo"][0].endswith("/conf/core")
    page = api.collection_items("zones", limit=5, unit_id="P06")
    assert page["numberReturned"] == 5 and {f["properties"]["unit_id"] for f in page["features"]} == {"P06"}
    assert api.collection_item("zones", "Z00001")["id"] == "Z00001"
    near = api.collection_items("zones", bbox=[LON - 0.002, LAT - 0.002, LON + 0.002, LAT + 0.002], limit=10000)
    assert 0 < near["numberMatched"] == near["numberReturned"] < 200
    assert set(api.collection_queryables("test_points")["properties"]) == {"point_id", "unit_id", "type", "geometry"}
    assert api.collection_items("reports_public", datetime_="2020-01-01/..")["numberMatched"] == 1
