"""Correctness at the service's edges, each found by probing and each on SQLite and PostgreSQL:
times with offsets, unknown units, photo access, idempotency keys across callers, hostile
bodies that used to crash a request, and workers migrating a new database at once."""

from __future__ import annotations

import io
import multiprocessing
from datetime import datetime, timedelta, timezone

import pyogrio
import pytest

from tests.api.layers.test_layers import post_layer, processed
from tests.api.reports.test_reports import REPORT, submit
from tests.api.web.test_access import b_location, png

pytestmark = pytest.mark.both_databases  # its SQL differs between the two: queries, locking, retention

BEIJING = timezone(timedelta(hours=8))


def _created(body) -> datetime:
    return datetime.fromisoformat(body["created_at"])


def test_a_time_filter_with_an_offset_means_the_same_instant(client, tokens):
    created = _created(submit(client, tokens["public"]).get_json())
    before = (created - timedelta(minutes=1)).astimezone(BEIJING).isoformat(timespec="seconds")  # ...+08:00
    after = (created + timedelta(minutes=1)).astimezone(BEIJING).isoformat(timespec="seconds")
    listed = lambda query: len(client.get(f"/api/v1/reports?{query}", headers=tokens["dispatcher"]).get_json()["items"])  # noqa: E731
    assert listed(f"since={before.replace('+', '%2B')}") == 1
    assert listed(f"since={after.replace('+', '%2B')}") == 0
    assert listed(f"until={after.replace('+', '%2B')}") == 1
    assert listed(f"until={before.replace('+', '%2B')}") == 0
    open311 = lambda query: len(client.get(f"/open311/v2/requests.json?{query}").get_json())  # noqa: E731
    assert open311(f"start_date={before.replace('+', '%2B')}") == 1
    assert open311(f"start_date={after.replace('+', '%2B')}") == 0
    assert open311(f"end_date={before.replace('+', '%2B')}") == 0


def test_reassigning_to_a_unit_that_does_not_exist_is_refused(client, tokens):
    report = submit(client, tokens["public"]).get_json()
    url = f"/api/v1/reports/{report['id']}/transitions"
    refused = client.post(url, json={"action": "reassign", "unit_id": "X99", "note": "typo"}, headers=tokens["dispatcher"])
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "unit_id"
    assert client.get(f"/api/v1/reports/{report['id']}", headers=tokens["dispatcher"]).get_json()["unit_id"] == "P06"
    moved = client.post(url, json={"action": "reassign", "unit_id": "HW01", "note": "their frontage"}, headers=tokens["dispatcher"])
    assert moved.status_code == 200 and moved.get_json()["unit_id"] == "HW01"


def _photo(client, headers, colour):
    return client.post("/api/v1/photos", data={"photo": (io.BytesIO(png(colour)), "p.png")}, headers=headers, content_type="multipart/form-data").get_json()


def test_a_unit_cannot_read_another_units_photo_by_quoting_its_id(client, tokens, demo_files):
    zones = pyogrio.read_dataframe(demo_files.gpkg, layer="zones")
    b_point = b_location(client, tokens, zones)
    photo_b = _photo(client, tokens["public"], (9, 8, 7))
    report_b = submit(client, tokens["public"], {**REPORT, "lon": b_point[0], "lat": b_point[1], "photos": [photo_b["url"]]}).get_json()
    assert report_b["unit_id"] == "HW01"
    assert client.get(photo_b["url"], headers=tokens["unit_b"]).status_code == 200
    # Unit A quotes B's photo in a report of its own, in its own zone, and in evidence.
    quoted = submit(client, tokens["unit_a"], {**REPORT, "photos": [photo_b["url"]]})
    assert quoted.status_code == 422 and quoted.get_json()["errors"][0]["field"] == "photos"
    own = submit(client, tokens["public"]).get_json()
    assert own["unit_id"] == "P06"
    evidence = client.post(f"/api/v1/reports/{own['id']}/transitions", json={"action": "rectify", "evidence": [photo_b["url"]]}, headers=tokens["unit_a"])
    assert evidence.status_code == 422 and evidence.get_json()["errors"][0]["field"] == "evidence"
    # A photo list that merely contains the reference as a substring opens nothing either.
    sneaky = submit(client, tokens["public"], {**REPORT, "photos": ["https://example.org" + photo_b["url"]]}).get_json()
    assert sneaky["unit_id"] == "P06"
    assert client.get(photo_b["url"], headers=tokens["unit_a"]).status_code == 404
    # Its own photo, on its own evidence, a unit reads.
    photo_a = _photo(client, tokens["unit_a"], (1, 1, 1))
    assert client.post(f"/api/v1/reports/{own['id']}/transitions", json={"action": "rectify", "evidence": [photo_a["url"]]},
                       headers=tokens["unit_a"]).status_code == 200
    assert client.get(photo_a["url"], headers=tokens["unit_a"]).status_code == 200
    assert client.get(photo_a["url"], headers=tokens["unit_b"]).status_code == 404


def test_an_idempotency_key_used_by_another_caller_shows_nothing_of_its_report(client, tokens):
    body = {**REPORT, "description": "调度员的MARKER-D"}
    first = submit(client, tokens["dispatcher"], body, **{"Idempotency-Key": "shared-key-1"})
    assert first.status_code == 201
    again = submit(client, tokens["public"], body, **{"Idempotency-Key": "shared-key-1"})
    assert again.status_code == 409
    assert "MARKER-D" not in again.get_data(as_text=True) and str(first.get_json()["id"]) not in again.get_data(as_text=True)
    retry = submit(client, tokens["dispatcher"], body, **{"Idempotency-Key": "shared-key-1"})
    assert (retry.status_code, retry.get_json()["id"]) == (200, first.get_json()["id"])


HOSTILE_BODIES = [
    # (what, raw JSON body)
    ("an integer of 400 digits", '{"lon": 1' + "0" * 399 + ', "lat": 36.31, "category": "litter"}'),
    ("an accuracy of 400 digits", '{"lon": 120.40, "lat": 36.31, "category": "litter", "accuracy_m": 1' + "0" * 399 + "}"),
    ("a lone surrogate in the description", '{"lon": 120.40, "lat": 36.31, "category": "litter", "description": "\\ud800"}'),
    ("a lone surrogate in the contact", '{"lon": 120.40, "lat": 36.31, "category": "litter", "reporter_contact": "138\\udfff"}'),
    ("a lone surrogate in a photo reference", '{"lon": 120.40, "lat": 36.31, "category": "litter", "photos": ["\\udbff"]}'),
    ("100,000 levels of nesting", '{"lon": 120.40, "lat": 36.31, "category": "litter", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"),
]


@pytest.mark.parametrize(("what", "raw"), HOSTILE_BODIES, ids=[h[0] for h in HOSTILE_BODIES])
def test_hostile_bodies_are_refused_not_crashed(client, tokens, what, raw):
    response = client.post("/api/v1/reports", data=raw.encode(), content_type="application/json", headers=tokens["public"])
    assert response.status_code in (400, 422), (what, response.status_code)
    assert response.mimetype == "application/problem+json"
    assert client.get("/api/v1/reports", headers=tokens["dispatcher"]).get_json()["items"] == []  # nothing stored


def test_an_overlong_idempotency_key_is_refused_everywhere(client, tokens):
    key = "k" * 300
    assert submit(client, tokens["public"], **{"Idempotency-Key": key}).status_code == 422
    form = {"service_code": "litter", "lat": REPORT["lat"], "long": REPORT["lon"], "api_key": tokens["public"]["Authorization"].split()[1]}
    response = client.post("/open311/v2/requests.json", data=form, headers={"Idempotency-Key": key})
    assert response.status_code == 400 and "Idempotency-Key" in response.get_json()[0]["description"]
    assert client.get("/api/v1/reports", headers=tokens["dispatcher"]).get_json()["items"] == []


def test_a_layer_upload_with_a_csv_that_is_not_text_is_named(client, tokens, demo_files):
    gpkg = (demo_files.gpkg.read_bytes(), "layer.gpkg")
    garbled = (b"code,name_zh\nlitter,\x80\xff\n", "categories.csv")
    refused = processed(client, tokens["planner"], post_layer(client, tokens["planner"], layer=gpkg, categories=garbled))
    assert refused["state"] == "refused"
    (error,) = refused["errors"]
    assert (error["field"], error["code"]) == ("categories", "cannot_decode") and "categories.csv" in error["message"], error
    gbk = demo_files.categories.read_text(encoding="utf-8-sig").encode("gbk")  # a GBK file is read, as the CLI reads it
    published = processed(client, tokens["planner"], post_layer(client, tokens["planner"], layer=gpkg, categories=(gbk, "categories.csv")))
    assert published["state"] == "published", published
    assert client.get("/open311/v2/services.json").get_json()[0]["service_name"]


def _migrate(url: str, start) -> str:
    from api.persistence import make_engine, migrate

    start.wait()
    try:
        migrate(make_engine(url))
    except Exception as err:  # noqa: BLE001 - reported to the test
        return f"{type(err).__name__}: {err}"
    return "ok"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_workers_starting_together_on_a_new_sqlite_database_all_boot(database_url):
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        start = manager.Barrier(4)
        with context.Pool(4) as pool:
            results = pool.starmap(_migrate, [(database_url, start)] * 4)
    assert results == ["ok"] * 4
