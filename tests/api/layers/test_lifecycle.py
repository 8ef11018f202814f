"""The zone layer's lifecycle through the API: an upload becomes a draft (errors name the row),
the draft is compared with the current version, takes a gap-fill suggestion, is published with a
note; a dispatcher reassigns the open reports it moved; a rollback restores the earlier figures."""

from __future__ import annotations

import io
import zipfile

import pyogrio
import pytest
import shapely
import shapely.geometry

from api.layers import upload_reader
from geodata.io import write_layer
from tests.api.layers.test_layers import changed_layer, multipart, processed
from tests.api.reports.test_reports import submit

pytestmark = pytest.mark.both_databases  # its SQL differs between the two: queries, locking, retention

def post_draft(client, headers, **files):
    body, content_type = multipart(**files)
    return client.post("/api/v1/layers/drafts", data=body, content_type=content_type, headers=headers)


def upload_draft(client, headers, **files) -> dict:
    """The draft an upload makes, once a worker process has read it: open, or refused."""
    response = post_draft(client, headers, **files)
    assert response.status_code == 202, response.get_data(as_text=True)[:500]
    queued = response.get_json()
    assert queued["state"] in ("queued", "processing", "open", "refused") and response.headers["Location"].endswith(f"/layers/drafts/{queued['id']}")
    return processed(client, headers, response)


def coverage(client, headers) -> dict:
    return client.get("/ogc/collections/coverage_gaps/items?limit=10000", headers=headers).get_json()


def test_a_broken_upload_names_its_row_and_stores_nothing(client, tokens, demo_files, tmp_path):
    refused = upload_draft(client, tokens["planner"], layer=(changed_layer(demo_files, tmp_path, break_row=True), "zones.gpkg"))
    assert refused["state"] == "refused" and refused["version"] is None
    errors = refused["errors"]
    assert any(e["layer"] == "zones" and e["row"] == 4 and e["field"] == "duties" for e in errors), errors
    assert client.get("/api/v1/layers", headers=tokens["planner"]).get_json()["publications"] == []
    assert post_draft(client, tokens["dispatcher"], layer=(changed_layer(demo_files, tmp_path), "zones.gpkg")).status_code == 403
    wrong = upload_draft(client, tokens["planner"], zones=(b"not a table", "zones.docx"))
    assert wrong["state"] == "refused" and "zones.docx" in wrong["errors"][0]["message"]
    assert post_draft(client, tokens["planner"]).status_code == 422  # no file at all: refused at once


def test_draft_compare_accept_publish_reassign_and_roll_back(client, tokens, demo_files, tmp_path):
    before_version = client.get("/healthz").get_json()["zone_version"]
    before_gaps = coverage(client, tokens["planner"])["numberMatched"]
    report = submit(client, tokens["public"]).get_json()
    assert report["unit_id"] == "P06"
    draft = upload_draft(client, tokens["planner"], layer=(changed_layer(demo_files, tmp_path), "新图层.gpkg"))
    assert draft["state"] == "open" and draft["based_on"] == before_version, draft
    assert client.get("/healthz").get_json()["zone_version"] == before_version  # a draft is not current

    shown = client.get(f"/api/v1/layers/drafts/{draft['id']}", headers=tokens["planner"]).get_json()["comparison"]
    moved = [z for z in shown["zones"] if z["change"] == "owner"]
    assert moved and all((z["unit_before"], z["unit_after"]) == ("P06", "P07") for z in moved)
    assert shown["changes"]["zones"]["owner"] == len(moved) and shown["changes"]["zones"]["added"] == 0
    assert [(a["report_id"], a["unit_id"], a["to_unit_id"]) for a in shown["affected_reports"]] == [(report["id"], "P06", "P07")]
    district = shown["coverage"][-1]
    assert district["name"] is None and district["gap_count_before"] == district["gap_count_after"] == before_gaps

    gaps = client.get("/ogc/collections/coverage_gaps/items?limit=10000", headers=tokens["planner"]).get_json()["features"]
    largest = max(gaps, key=lambda f: f["properties"]["area_m2"])["properties"]["gap_id"]
    accepted = client.post(f"/api/v1/layers/drafts/{draft['id']}/suggestions", json={"gap_ids": [largest]}, headers=tokens["planner"])
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["accepted_gaps"] == [largest] and accepted.get_json()["version"] != draft["version"]
    unknown = client.post(f"/api/v1/layers/drafts/{draft['id']}/suggestions", json={"gap_ids": ["G99999"]}, headers=tokens["planner"])
    assert unknown.status_code == 422 and "G99999" in unknown.get_json()["detail"]
    revised = client.get(f"/api/v1/layers/drafts/{draft['id']}", headers=tokens["planner"]).get_json()["comparison"]
    assert revised["changes"]["zones"]["added"] == 1
    assert revised["coverage"][-1]["gap_count_after"] == before_gaps - 1

    # A planner's own outline and owner for another gap: a box around a point inside it.
    draft_gaps = revised["gaps"]["features"]  # the draft's own gaps (their ids are the draft's)
    biggest = max(draft_gaps, key=lambda f: f["properties"]["area_m2"])
    second = biggest["properties"]["gap_id"]
    inside = shapely.point_on_surface(shapely.geometry.shape(biggest["geometry"]))
    box = shapely.box(inside.x - 0.0002, inside.y - 0.0002, inside.x + 0.0002, inside.y + 0.0002)
    far = shapely.box(121.5, 37.5, 121.6, 37.6)
    url = f"/api/v1/layers/drafts/{draft['id']}/suggestions"
    refused = client.post(url, json={"gap_ids": [second], "outline": shapely.geometry.mapping(far)}, headers=tokens["planner"])
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "outline"
    refused = client.post(url, json={"gap_ids": [second], "unit_id": "X99"}, headers=tokens["planner"])
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "unit_id"
    adjusted = client.post(url, json={"gap_ids": [second], "outline": shapely.geometry.mapping(box), "unit_id": "P06"}, headers=tokens["planner"])
    assert adjusted.status_code == 200, adjusted.get_json()
    zones = client.get(f"/api/v1/layers/drafts/{draft['id']}", headers=tokens["planner"]).get_json()["comparison"]["zones"]
    added = next(z for z in zones if z["zone_id"] == f"GAP-{second}")
    assert added["unit_after"] == "P06" and 1000 < added["area_after_m2"] < 1600  # the box (about 44 m × 36 m), not the gap

    assert client.post(f"/api/v1/layers/drafts/{draft['id']}/publish", json={"note": ""}, headers=tokens["planner"]).status_code == 422
    published = client.post(f"/api/v1/layers/drafts/{draft['id']}/publish", json={"note": "金海物业的责任区移交；补上最大的空白"}, headers=tokens["planner"])
    assert published.status_code == 201, published.get_json()
    publication = published.get_json()
    assert publication["previous_version"] == before_version and publication["kind"] == "draft"
    assert publication["version"] == adjusted.get_json()["version"]  # what the draft showed is what every worker loads
    assert [a["report_id"] for a in publication["affected"]] == [report["id"]]
    assert client.get("/healthz").get_json()["zone_version"] == publication["version"]
    assert coverage(client, tokens["planner"])["numberMatched"] >= before_gaps - 1  # the box may leave the rest of its gap in pieces
    assert client.post(f"/api/v1/layers/drafts/{draft['id']}/publish", json={"note": "again"}, headers=tokens["planner"]).status_code == 409

    assert client.post(f"/api/v1/layers/publications/{publication['id']}/reassign", json={"report_ids": [report["id"]]},
                       headers=tokens["planner"]).status_code == 403
    done = client.post(f"/api/v1/layers/publications/{publication['id']}/reassign", json={"report_ids": [report["id"]]},
                       headers=tokens["dispatcher"]).get_json()
    assert done == {"moved": [report["id"]], "skipped": []}
    after = client.get(f"/api/v1/reports/{report['id']}", headers=tokens["dispatcher"]).get_json()
    assert after["unit_id"] == "P07"
    assert publication["version"] in after["history"][-1]["note"] and after["history"][-1]["action"] == "reassign"

    listed = client.get("/api/v1/layers", headers=tokens["planner"]).get_json()["publications"]
    assert [p["kind"] for p in listed] == ["draft", "files"] and listed[0]["reassigned"] == [report["id"]]
    back = client.post(f"/api/v1/layers/{before_version}/rollback", json={"note": "移交推迟"}, headers=tokens["planner"])
    assert back.status_code == 201, back.get_json()
    assert back.get_json()["kind"] == "rollback" and back.get_json()["version"] == before_version
    assert [a["report_id"] for a in back.get_json()["affected"]] == [report["id"]]  # held by P07 now, the old layer gives it to P06
    assert client.get("/healthz").get_json()["zone_version"] == before_version
    assert coverage(client, tokens["planner"])["numberMatched"] == before_gaps
    assert client.post("/api/v1/layers/0123456789ab/rollback", json={"note": "x"}, headers=tokens["planner"]).status_code == 404


def test_a_zipped_gbk_shapefile_of_zones_alone_makes_a_draft(client, tokens, demo_files, tmp_path):
    zones = pyogrio.read_dataframe(demo_files.gpkg, layer="zones")
    moved = zones.index[zones["unit_id"] == "P06"][0]
    zones.loc[moved, "unit_id"] = "P07"
    folder = tmp_path / "shp"
    folder.mkdir()
    pyogrio.write_dataframe(zones, folder / "责任区.shp", encoding="GBK")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        for path in folder.iterdir():
            out.write(path, f"图层/{path.name}")
    created = upload_draft(client, tokens["planner"], zones=(archive.getvalue(), "责任区.zip"))
    assert created["state"] == "open", created
    shown = client.get(f"/api/v1/layers/drafts/{created['id']}", headers=tokens["planner"]).get_json()
    changes = shown["comparison"]["changes"]["zones"]
    assert changes == {"added": 0, "removed": 0, "reshaped": 0, "owner": 1, "duties": 0}, changes
    assert shown["comparison"]["zones"][0]["name"] == zones.loc[moved, "name"]  # the Chinese name read right from GBK
    assert any("test_points" in w["message"] for w in shown["warnings"])  # kept from the current version, and said so
    two = io.BytesIO()
    with zipfile.ZipFile(two, "w") as out:
        out.writestr("a.shp", b"x")
        out.writestr("b.shp", b"y")
    refused = upload_draft(client, tokens["planner"], zones=(two.getvalue(), "两个.zip"))
    assert refused["state"] == "refused" and "exactly one shapefile" in refused["errors"][0]["message"]


def _zones(demo_files):
    return pyogrio.read_dataframe(demo_files.gpkg, layer="zones")


def test_a_row_error_in_any_format_refuses_the_draft_naming_the_row(client, tokens, demo_files, tmp_path):
    zones = _zones(demo_files)
    zones.loc[2, "geometry"] = None
    gpkg = tmp_path / "empty.gpkg"
    pyogrio.write_dataframe(zones, gpkg, layer="zones")
    csv = zones.assign(wkt=zones.geometry.to_wkt()).drop(columns="geometry").to_csv(index=False).encode()
    xlsx = io.BytesIO()
    zones.assign(wkt=zones.geometry.to_wkt()).drop(columns="geometry").to_excel(xlsx, index=False)
    for content, name in ((gpkg.read_bytes(), "zones.gpkg"), (csv, "zones.csv"), (xlsx.getvalue(), "zones.xlsx")):
        refused = upload_draft(client, tokens["planner"], zones=(content, name))
        assert refused["state"] == "refused", (name, refused)
        errors = refused["errors"]
        assert any(e["layer"] == "zones" and e["row"] == 3 and e["field"] == "geometry" for e in errors), (name, errors)


def test_a_layer_validate_accepts_with_warnings_becomes_a_draft_showing_them(client, tokens, demo_files, tmp_path):
    zones = _zones(demo_files)
    minx, miny, maxx, maxy = zones.geometry.iloc[0].bounds
    bowtie = shapely.Polygon([(minx, miny), (maxx, maxy), (maxx, miny), (minx, maxy)])  # self-intersecting
    zones.loc[0, "geometry"] = shapely.MultiPolygon([bowtie])
    path = tmp_path / "bowtie.gpkg"
    pyogrio.write_dataframe(zones, path, layer="zones")
    created = upload_draft(client, tokens["planner"], zones=(path.read_bytes(), "zones.gpkg"))
    assert created["state"] == "open", created
    draft = client.get(f"/api/v1/layers/drafts/{created['id']}", headers=tokens["planner"]).get_json()
    assert any(w["row"] == 1 and w["field"] == "geometry" for w in draft["warnings"]), draft["warnings"]


def test_a_zip_bomb_is_refused_without_being_unpacked(client, tokens, tmp_path):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        out.writestr("a.dbf", b"")
        with out.open("a.shp", "w") as member:  # 256 MB of zeros in about 1 MB
            for _ in range(256):
                member.write(bytes(1 << 20))
    refused = upload_draft(client, tokens["planner"], zones=(bomb.getvalue(), "炸弹.zip"))
    assert refused["state"] == "refused"
    (error,) = refused["errors"]
    assert (error["code"], error["params"]["name"]) == ("zip_ratio", "炸弹.zip"), error


def test_a_zip_with_only_the_shp_names_the_missing_files(client, tokens):
    alone = io.BytesIO()
    with zipfile.ZipFile(alone, "w") as out:
        out.writestr("责任区/街巷.shp", b"\x00" * 100)
    refused = upload_draft(client, tokens["planner"], zones=(alone.getvalue(), "街巷.zip"))
    assert refused["state"] == "refused"
    (error,) = refused["errors"]
    assert (error["code"], error["params"]) == ("zip_missing_parts", {"name": "街巷.zip", "shapefile": "街巷.shp", "missing": ".dbf .shx"}), error
    assert "/tmp" not in str(refused) and "zonemap-upload" not in str(refused)  # no path of the server's


def test_a_member_larger_than_its_budget_is_not_kept(tmp_path):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("a.shp", bytes(5 << 20))
    with zipfile.ZipFile(archive) as opened:
        assert upload_reader._unpack(opened, opened.infolist()[0], tmp_path / "a.shp", 1 << 20) is None
        assert not (tmp_path / "a.shp").exists()
        assert upload_reader._unpack(opened, opened.infolist()[0], tmp_path / "a.shp", 5 << 20) == 5 << 20


def test_identifiers_outside_the_character_set_are_row_errors(client, tokens, demo_files, tmp_path):
    path = tmp_path / "marked.gpkg"
    for name in ("zones", "test_points", "areas"):
        frame = pyogrio.read_dataframe(demo_files.gpkg, layer=name)
        if name == "zones":
            frame.loc[2, "unit_id"] = '"><img src=x onerror=alert(1)>'
            frame.loc[4, "zone_id"] = "Z 0004"
        write_layer(frame, path, layer=name)
    refused = upload_draft(client, tokens["planner"], layer=(path.read_bytes(), "zones.gpkg"))
    assert refused["state"] == "refused"
    found = {(e["code"], e["field"], e["row"]) for e in refused["errors"]}
    assert found == {("bad_identifier", "unit_id", 3), ("bad_identifier", "zone_id", 5)}, found
