"""Open311 GeoReport v2: both formats of every endpoint, the XML shapes of the spec's examples,
discovery, jurisdictions, errors naming the spec's parameters, api_key wherever a client puts it,
readable addresses, service definitions, and a third-party client against the real server."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET

import pytest

from tests.api.reports.test_reports import LAT, LON
from tests.support.server import call, create_token, serving

V2 = "/open311/v2"
DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>'

# The GeoReport v2 wiki's examples (http://wiki.open311.org/GeoReport_v2/, CC BY 3.0), abridged
# to one item per list: the shapes our XML must have.
SPEC_SERVICES = """<?xml version="1.0" encoding="utf-8"?>
<services>
  <service>
    <service_code>001</service_code>
    <service_name>Cans left out 24x7</service_name>
    <description>Garbage or recycling cans that have been left out for more than 24 hours after collection.</description>
    <metadata>true</metadata>
    <type>realtime</type>
    <keywords>lorem, ipsum, dolor</keywords>
    <group>sanitation</group>
  </service>
</services>"""
SPEC_DEFINITION = """<?xml version="1.0" encoding="utf-8"?>
<service_definition>
  <service_code>DMV66</service_code>
  <attributes>
    <attribute>
      <variable>true</variable>
      <code>WHISHETN</code>
      <datatype>singlevaluelist</datatype>
      <required>true</required>
      <datatype_description></datatype_description>
      <order>1</order>
      <description>What is the ticket/tag/DL number?</description>
      <values>
        <value>
          <key>123</key>
          <name>Ford</name>
        </value>
      </values>
    </attribute>
  </attributes>
</service_definition>"""
SPEC_CREATED = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
  <request>
    <service_request_id>293944</service_request_id>
    <service_notice>The City will inspect and require the responsible party to correct within 24 hours.</service_notice>
    <account_id/>
  </request>
</service_requests>"""
SPEC_TOKEN = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
  <request>
    <service_request_id>638344</service_request_id>
    <token>12345</token>
  </request>
</service_requests>"""
SPEC_REQUESTS = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
  <request>
    <service_request_id>638344</service_request_id>
    <status>closed</status>
    <status_notes>Duplicate request.</status_notes>
    <service_name>Sidewalk and Curb Issues</service_name>
    <service_code>006</service_code>
    <description></description>
    <agency_responsible></agency_responsible>
    <service_notice></service_notice>
    <requested_datetime>2010-04-14T06:37:38-08:00</requested_datetime>
    <updated_datetime>2010-04-14T06:37:38-08:00</updated_datetime>
    <expected_datetime>2010-04-15T06:37:38-08:00</expected_datetime>
    <address>8TH AVE and JUDAH ST</address>
    <address_id>545483</address_id>
    <zipcode>94122</zipcode>
    <lat>37.762221815</lat>
    <long>-122.4651145</long>
    <media_url>http://city.gov.s3.amazonaws.com/requests/media/638344.jpg</media_url>
  </request>
</service_requests>"""
SPEC_ERRORS = """<?xml version="1.0" encoding="utf-8"?>
<errors>
  <error>
    <code>403</code>
    <description>Invalid api_key received -- can't proceed with create_request.</description>
  </error>
</errors>"""
# Service discovery (http://wiki.open311.org/Service_Discovery).
SPEC_DISCOVERY = """<?xml version="1.0" encoding="utf-8"?>
<discovery>
  <changeset>2011-04-05T17:48:34Z</changeset>
  <contact>You can email or call for assistance api@city.gov +1 (555) 555-5555</contact>
  <key_service>You can request a key here: http://api.city.gov/api_key/request</key_service>
  <endpoints>
    <endpoint>
      <specification>http://wiki.open311.org/GeoReport_v2</specification>
      <url>http://open311.city.gov/v2</url>
      <changeset>2011-04-05T17:48:34Z</changeset>
      <type>production</type>
      <formats>
        <format>text/xml</format>
        <format>application/json</format>
      </formats>
    </endpoint>
  </endpoints>
</discovery>"""


def shape(element: ET.Element, prefix: str = "") -> set[str]:
    """The element paths of a document (``services/service/service_code``, ...)."""
    path = f"{prefix}/{element.tag}" if prefix else element.tag
    return {path}.union(*(shape(child, path) for child in element))


def xml_of(response) -> ET.Element:
    """A response's XML, checked to be a declared UTF-8 document."""
    assert response.content_type == "text/xml; charset=utf-8", response.content_type
    assert response.data.startswith(DECLARATION), response.data[:60]
    return ET.fromstring(response.data)


def assert_spec_shape(ours: ET.Element, spec: str, required: set[str]) -> None:
    """Our document's elements are the spec example's (root, item names, fields), and hold ``required``."""
    example = ET.fromstring(spec.encode())
    assert ours.tag == example.tag
    assert shape(ours) <= shape(example), shape(ours) - shape(example)
    assert required <= shape(ours), required - shape(ours)


def key_of(tokens, role: str = "public") -> str:
    return tokens[role]["Authorization"].split()[1]


def created(client, tokens, **form) -> str:
    response = client.post(f"{V2}/requests.json", data={"api_key": key_of(tokens), "service_code": "litter", "lat": LAT, "long": LON, **form})
    assert response.status_code == 200, response.get_json()
    return response.get_json()[0]["service_request_id"]


def test_open311(client, tokens):
    services = client.get(f"{V2}/services.json?jurisdiction_id=370214").get_json()
    assert {"litter", "illegal_construction"} <= {s["service_code"] for s in services}
    assert client.get(f"{V2}/services.json?jurisdiction_id=nowhere").get_json()[0]["code"] == 404
    request_id = created(client, tokens, description="垃圾", email="a@b.cn")
    assert client.post(f"{V2}/requests.json", data={"service_code": "litter", "lat": LAT, "long": LON}).get_json()[0]["code"] == 401
    [one] = client.get(f"{V2}/requests/{request_id}.json").get_json()
    assert (one["status"], one["service_code"], one["lat"]) == ("open", "litter", round(LAT, 4))
    assert client.get(f"{V2}/request/{request_id}.json").get_json() == one  # the contract's singular form: an object
    assert one["requested_datetime"].endswith(":00:00+00:00")  # to the hour
    listed = client.get(f"{V2}/requests.json?status=open").get_json()
    assert [r["service_request_id"] for r in listed] == [request_id]
    assert "a@b.cn" not in str(listed) and "reporter" not in str(listed)
    assert client.get(f"{V2}/requests.json?status=closed").get_json() == []
    assert client.get(f"{V2}/request/999999.json").get_json()[0]["code"] == 404
    assert client.get(f"{V2}/tokens/{request_id}.json").get_json() == [{"service_request_id": request_id, "token": request_id}]  # a list, like every answer


def test_every_endpoint_answers_the_spec_xml_shapes(client, tokens):
    services = xml_of(client.get(f"{V2}/services.xml"))
    assert_spec_shape(services, SPEC_SERVICES, {"services/service/service_code", "services/service/service_name", "services/service/type",
                                                "services/service/metadata"})
    litter = next(s for s in services if s.findtext("service_code") == "litter")
    assert (litter.findtext("service_name"), litter.findtext("metadata")) == ("垃圾杂物乱堆乱放", "true")  # Chinese intact, booleans as the spec's
    assert "垃圾杂物乱堆乱放".encode() in client.get(f"{V2}/services.xml").data  # as UTF-8, not as character references
    definition = xml_of(client.get(f"{V2}/services/litter.xml"))
    assert_spec_shape(definition, SPEC_DEFINITION, {"service_definition/service_code", "service_definition/attributes/attribute/code",
                                                    "service_definition/attributes/attribute/datatype"})
    posted = client.post(f"{V2}/requests.xml", data={"api_key": key_of(tokens), "service_code": "litter", "lat": LAT, "long": LON})
    made = xml_of(posted)
    assert_spec_shape(made, SPEC_CREATED, {"service_requests/request/service_request_id", "service_requests/request/account_id"})
    request_id = made.findtext("request/service_request_id")
    required = {f"service_requests/request/{name}" for name in ("service_request_id", "status", "service_code", "requested_datetime", "address", "lat", "long")}
    for path in (f"{V2}/requests.xml", f"{V2}/requests.xml?service_request_id={request_id}", f"{V2}/requests/{request_id}.xml"):
        assert_spec_shape(xml_of(client.get(path)), SPEC_REQUESTS, required)
    single = xml_of(client.get(f"{V2}/request/{request_id}.xml"))  # the contract's singular form: one <request>
    assert single.tag == "request" and shape(single) <= {p.removeprefix("service_requests/") for p in shape(ET.fromstring(SPEC_REQUESTS))}
    assert_spec_shape(xml_of(client.get(f"{V2}/tokens/{request_id}.xml")), SPEC_TOKEN, {"service_requests/request/token"})
    assert_spec_shape(xml_of(client.get("/open311/discovery.xml")), SPEC_DISCOVERY, {"discovery/endpoints/endpoint/url"})


@pytest.mark.parametrize(("what", "method", "path", "form", "status"), [
    ("unknown jurisdiction", "GET", f"{V2}/services.xml?jurisdiction_id=nowhere", None, 404),
    ("unknown service", "GET", f"{V2}/services/nope.xml", None, 404),
    ("unknown request", "GET", f"{V2}/requests/999999.xml", None, 404),
    ("unknown token", "GET", f"{V2}/tokens/abc.xml", None, 404),
    ("no such path (answered by routing alone)", "GET", f"{V2}/nothing.xml", None, 404),
    ("a bad status filter", "GET", f"{V2}/requests.xml?status=pending", None, 400),
    ("no api_key", "POST", f"{V2}/requests.xml", {"service_code": "litter", "lat": LAT, "long": LON}, 401),
    ("a control character in a name", "POST", f"{V2}/requests.xml", {"service_code": "litter", "lat": LAT, "long": LON, "attribute[\x01]": "1"}, 400),
])
def test_errors_come_in_the_format_asked_for(client, tokens, what, method, path, form, status):
    if form is not None and status != 401:
        form = {**form, "api_key": key_of(tokens)}
    response = client.open(path, method=method, data=form)
    assert response.status_code == status, what
    errors = xml_of(response)
    assert_spec_shape(errors, SPEC_ERRORS, {"errors/error/code", "errors/error/description"})
    assert errors.findtext("error/code") == str(status)
    json_twin = client.open(path.replace(".xml", ".json"), method=method, data=form)
    assert json_twin.status_code == status, what
    assert json_twin.get_json()[0]["description"].replace("\x01", "\ufffd") == errors.findtext("error/description"), what  # XML cannot hold U+0001


def test_discovery_lists_the_v2_endpoint(app, client):
    found = client.get("/open311/discovery.json").get_json()
    [endpoint] = found["endpoints"]
    assert endpoint == {"specification": "http://wiki.open311.org/GeoReport_v2", "url": app.config["BASE_URL"] + V2, "changeset": found["changeset"],
                        "type": "production", "formats": ["application/json", "text/xml"]}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", found["changeset"])
    as_xml = xml_of(client.get("/open311/discovery.xml"))
    assert [f.text for f in as_xml.iterfind("endpoints/endpoint/formats/format")] == endpoint["formats"]
    assert as_xml.findtext("endpoints/endpoint/url") == endpoint["url"]


@pytest.mark.parametrize(("query", "status"), [
    ("", 200),  # left out
    ("?jurisdiction_id=", 200),  # empty, as some clients send it by default
    ("?jurisdiction_id=370214", 200),
    ("?jurisdiction_id=%E5%9F%8E%E9%98%B3%E5%8C%BA", 200),  # 城阳区
    ("?jurisdiction_id=beijing", 404),
])
def test_the_one_jurisdiction_is_optional(client, query, status):
    response = client.get(f"{V2}/services.json{query}")
    assert response.status_code == status
    if status == 404:
        assert "jurisdiction_id" in response.get_json()[0]["description"]


@pytest.mark.parametrize(("what", "form", "named"), [
    ("long outside China", {"long": -0.1}, "long: lat=36.31, long=-0.1 lies outside China"),
    ("lat outside China", {"lat": 89.0}, "lat: lat=89.0, long=120.4 lies outside China"),
    ("swapped", {"lat": LON, "long": LAT}, "long: lat=120.4, long=36.31 look swapped"),
    ("long missing", {"long": None}, "long: is required"),
    ("lat not a number", {"lat": "north"}, "lat: 'north' is not a number"),
    ("unknown service", {"service_code": "nope"}, "service_code: 'nope' is not a service of this jurisdiction"),
    ("no service", {"service_code": None}, "service_code: is required"),
    ("an attribute no service defines", {"attribute[colour]": "red"}, "attribute[colour]: no service here defines it"),
    ("accuracy out of range", {"attribute[accuracy_m]": "-5"}, "attribute[accuracy_m]: -5.0 is not a number of metres"),
    ("accuracy not a number", {"attribute[accuracy_m]": "near"}, "attribute[accuracy_m]: 'near' is not a number"),
    ("unknown api_key", {"api_key": "zm_nobody"}, "api_key: unknown token"),
])
def test_errors_name_the_spec_parameters(client, tokens, what, form, named):
    sent = {k: v for k, v in {"api_key": key_of(tokens), "service_code": "litter", "lat": LAT, "long": LON, **form}.items() if v is not None}
    response = client.post(f"{V2}/requests.json", data=sent)
    [error] = response.get_json()
    assert response.status_code == error["code"] in (400, 401), what
    assert error["description"].startswith(named), (what, error["description"])
    assert "lon" not in error["description"].replace("long", ""), "the server's own name for long"


def test_api_key_in_a_form_a_json_body_or_the_query_string(client, tokens):
    place = {"service_code": "litter", "lat": LAT, "long": LON}
    key = key_of(tokens)
    by_form = client.post(f"{V2}/requests.json", data={**place, "api_key": key})
    by_json = client.post(f"{V2}/requests.json", json={**place, "api_key": key, "attribute": {"accuracy_m": 8}})
    by_query = client.post(f"{V2}/requests.json?api_key={key}&jurisdiction_id=", data=place)
    by_json_query = client.post(f"{V2}/requests.json?api_key={key}", json=place)
    assert [r.status_code for r in (by_form, by_json, by_query, by_json_query)] == [200] * 4, [r.get_json() for r in (by_form, by_json, by_query)]
    ids = {r.get_json()[0]["service_request_id"] for r in (by_form, by_json, by_query, by_json_query)}
    assert len(ids) == 4
    stored = client.get(f"/api/v1/reports/{by_json.get_json()[0]['service_request_id']}", headers=tokens["dispatcher"]).get_json()
    assert stored["accuracy_m"] == 8 and stored["source"] == "citizen"
    assert client.post(f"{V2}/requests.json", json={**place, "api_key": "zm_nobody"}).status_code == 401
    assert client.post(f"{V2}/requests.json", json=[place]).get_json()[0]["description"].startswith("body: must be a JSON object")
    assert client.get(f"{V2}/requests.json?api_key={key}").status_code == 400  # reads need no key, and a token in a read's URL is refused


def test_address_names_the_sub_district_and_a_zone_or_street_never_the_position(app, client, tokens):
    from api.layers.live import current_layer

    in_zone = created(client, tokens)
    [one] = client.get(f"{V2}/requests/{in_zone}.json").get_json()
    zone = client.get(f"/api/v1/reports/{in_zone}", headers=tokens["dispatcher"]).get_json()["decision"]["zone_id"]
    with app.app_context():
        layer = current_layer()
        zone_name = dict(zip(layer.zone_ids, layer.zone_names, strict=True))[zone]
    assert zone_name and one["address"] == f"城阳街道{zone_name}", one
    assert not re.search(r"\d{2,3}\.\d", one["address"])  # no coordinates
    outside = created(client, tokens, lat=39.9, long=116.4)  # Beijing: in no area
    assert "address" not in client.get(f"{V2}/requests/{outside}.json").get_json()[0]


def test_address_falls_back_to_the_nearest_named_street(app, client, tokens):
    from api.layers.live import current_layer
    from api.persistence.models import Report
    from api.reports.open311_address import addresses

    with app.app_context():
        layer = current_layer()
        street = layer.streets.iloc[0]
        on_street = street.geometry.interpolate(0.5, normalized=True)
        streets = layer.streets.to_crs(layer.metric_crs).union_all()
        places = layer.test_points.geometry.representative_point()
        far = places[places.to_crs(layer.metric_crs).distance(streets) > 300].iloc[0]
        area = str(layer.areas.loc[layer.areas["level"] == "subdistrict", "area_id"].iloc[0])
        reports = [Report(lon=on_street.x, lat=on_street.y, area_id=area, zone_id=None),  # in a gap beside the street
                   Report(lon=on_street.x, lat=on_street.y, area_id=area, zone_id="no-such-zone"),  # a zone the layer no longer holds
                   Report(lon=far.x, lat=far.y, area_id=area, zone_id=None),  # 300 m from every street: the sub-district alone
                   Report(lon=far.x, lat=far.y, area_id=None, zone_id=None)]  # in no area: no address
        subdistrict = dict(zip(layer.area_ids, layer.area_names, strict=False))[area]
        found = addresses(layer, reports)
    assert found == [f"{subdistrict}{street['name']}附近", f"{subdistrict}{street['name']}附近", subdistrict, None]


def test_service_definitions_ask_for_the_accuracy_where_the_owner_is_looked_up(client):
    services = {s["service_code"]: s for s in client.get(f"{V2}/services.json").get_json()}
    litter = client.get(f"{V2}/services/litter.json").get_json()
    assert litter["service_code"] == "litter" and [a["code"] for a in litter["attributes"]] == ["accuracy_m"]
    [accuracy] = litter["attributes"]
    assert (accuracy["datatype"], accuracy["required"], accuracy["variable"], accuracy["order"]) == ("number", False, True, 1)
    assert client.get(f"{V2}/services/illegal_construction.json").get_json() == {"service_code": "illegal_construction", "attributes": []}  # a department's
    for code, service in services.items():
        attributes = client.get(f"{V2}/services/{code}.json").get_json()["attributes"]
        assert service["metadata"] == bool(attributes), code


@pytest.mark.slow
def test_a_third_party_client_reads_both_formats(demo_files, tmp_path):
    """georeport (PyPI), written by others, against the real server on 127.0.0.1."""
    from georeport import GeoReport

    env = {**os.environ, "ZONEMAP_LAYER_DIR": str(demo_files.root), "DATABASE_URL": f"sqlite:///{tmp_path / 'zonemap.sqlite'}"}
    key = create_token(env, tmp_path, "public")
    with serving(env, tmp_path) as base:
        status, made = call("POST", f"{base}{V2}/requests.json", {"api_key": key, "service_code": "litter", "lat": LAT, "long": LON})
        assert status == 200, made
        request_id = made[0]["service_request_id"]
        for fmt in ("json", "xml"):
            client = GeoReport(base + V2, jurisdiction="370214", output_format=fmt)
            services = client.get_service_list()
            assert "垃圾杂物乱堆乱放" in {s["service_name"] for s in services}, fmt
            definition = client.get_service_definition("litter")
            attributes = definition["attributes"] if fmt == "json" else [definition["attributes"]["attribute"]]
            assert attributes[0]["code"] == "accuracy_m", fmt
            one = client.get_service_request(request_id)
            assert (one["service_request_id"], one["service_code"], one["status"]) == (request_id, "litter", "open"), fmt
            listed = client.get_service_requests(service_code="litter", status="open")
            listed = listed if isinstance(listed, list) else [listed]  # xmltodict: one <request> is a dict
            assert [r["service_request_id"] for r in listed] == [request_id], fmt
