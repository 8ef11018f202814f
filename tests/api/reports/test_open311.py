"""Open311 GeoReport v2."""

from __future__ import annotations

from tests.api.reports.test_reports import LAT, LON


def test_open311(client, tokens):
    services = client.get("/open311/v2/services.json?jurisdiction_id=370214").get_json()
    assert {"litter", "illegal_construction"} <= {s["service_code"] for s in services}
    assert client.get("/open311/v2/services.json?jurisdiction_id=nowhere").get_json()[0]["code"] == 404
    key = tokens["public"]["Authorization"].split()[1]
    created = client.post("/open311/v2/requests.json",
                          data={"api_key": key, "service_code": "litter", "lat": LAT, "long": LON, "description": "垃圾", "email": "a@b.cn"})
    assert created.status_code == 200
    request_id = created.get_json()[0]["service_request_id"]
    assert client.post("/open311/v2/requests.json", data={"service_code": "litter", "lat": LAT, "long": LON}).get_json()[0]["code"] == 401
    assert client.post("/open311/v2/requests.json", data={"api_key": key, "service_code": "nope", "lat": LAT, "long": LON}).status_code == 400
    [one] = client.get(f"/open311/v2/requests/{request_id}.json").get_json()
    assert (one["status"], one["service_code"], one["lat"]) == ("open", "litter", round(LAT, 4))
    assert client.get(f"/open311/v2/request/{request_id}.json").get_json() == one  # the contract's singular form: an object
    assert one["requested_datetime"].endswith(":00:00+00:00")  # to the hour
    listed = client.get("/open311/v2/requests.json?status=open").get_json()
    assert [r["service_request_id"] for r in listed] == [request_id]
    assert "a@b.cn" not in str(listed) and "reporter" not in str(listed)
    assert client.get("/open311/v2/requests.json?status=closed").get_json() == []
    assert client.get("/open311/v2/request/999999.json").get_json()[0]["code"] == 404
