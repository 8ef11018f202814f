"""The planners' console and the layer lifecycle's pages, with the test client on a real database:
the console shows coverage of the scope per sub-district with its lists and downloads; an upload
with an error names the row in the page; a valid one becomes a draft with its comparison; a
suggestion is accepted, the draft published, a dispatcher reassigns, a planner rolls back."""

from __future__ import annotations

import io
import re
import time

import pandas as pd
import pyogrio
from sqlalchemy import func, select

from api import create_app
from api.layers.live import stop_jobs
from api.persistence.models import LayerDraft, LayerPublication
from tests.api.layers.test_layers import changed_layer, multipart
from tests.api.reports.test_reports import REPORT, submit
from tests.support.pages import csrf, signed_in


def test_the_console_lists_gaps_overlaps_and_unadopted_points_with_downloads(app, client):
    signed_in(app, client, "planner")
    page = client.get("/console/plan")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "城阳街道" in html and "G0" in html and 'data-place="test_point"' in html and 'data-place="overlap"' in html
    assert client.get("/coverage").headers["Location"].endswith("/console/plan")
    features = client.get("/console/plan/map.json").get_json()
    gap_areas = [f["properties"]["area_m2"] for f in features["gaps"]]
    assert gap_areas == sorted(gap_areas, reverse=True)
    first_gap = re.search(r'data-place="gap" data-id="(G\d+)"', html).group(1)
    assert first_gap == features["gaps"][0]["id"]  # the page lists the largest first, as the map has them

    csv = client.get("/console/plan/downloads/gaps.csv")
    assert csv.headers["Content-Disposition"].startswith("attachment; filename=gaps_")
    assert csv.data.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(io.BytesIO(csv.data), encoding="utf-8-sig")
    assert len(table) == len(features["gaps"]) and {"gap_id", "area_m2", "area_name", "suggested_unit_name", "lon", "lat"} <= set(table.columns)
    xlsx = client.get("/console/plan/downloads/test_points.xlsx")
    sheet = pd.read_excel(io.BytesIO(xlsx.data))
    assert sheet["candidate_unit_names"].notna().any()
    outside = pd.read_csv(io.BytesIO(client.get("/console/plan/downloads/uncovered.csv").data), encoding="utf-8-sig")
    uncovered = int(re.search(r'href="#uncovered"><b>(\d+)</b>', html).group(1))  # the headline's figure has its list behind it
    assert len(outside) == uncovered > 0 and html.count('<td><a href="#place" data-place="test_point"') == len(sheet) + uncovered
    assert {"point_id", "unit_name", "area_name", "candidate_unit_names"} <= set(outside.columns) and outside["candidate_unit_names"].notna().any()
    assert {f["id"] for f in features["test_points"]} == set(sheet["point_id"]) | set(outside["point_id"])  # each on the map
    gpkg = client.get("/console/plan/downloads/overlaps.gpkg")
    assert gpkg.headers["Content-Disposition"].endswith(".gpkg") and gpkg.data.startswith(b"SQLite format 3")
    geojson = client.get("/console/plan/downloads/suggestions.geojson")
    assert geojson.headers["Content-Disposition"].startswith("attachment") and len(geojson.get_json()["features"]) == len(features["gaps"])
    gaps_file = client.get("/console/plan/downloads/gaps.geojson").get_data(as_text=True)
    assert '"coordinates"' in gaps_file and not re.search(r"\d\.\d{7,}", gaps_file.split('"features"')[1])  # RFC 7946: 6 decimals, no float noise
    assert client.get("/console/plan/downloads/subdistricts.gpkg").status_code == 404
    area = re.search(r'href="/console/plan\?area=(\d+)#chosen-area">([^<]+)</a>', html)
    narrowed = client.get(f"/console/plan?area={area.group(1)}").get_data(as_text=True)
    shown = re.findall(r'data-place="gap" data-id="(G\d+)"', narrowed)
    in_area = [f["id"] for f in features["gaps"] if f["properties"]["area_id"] == area.group(1)]
    assert shown and set(shown) <= set(in_area) and f"只显示{area.group(2)}" in narrowed
    dispatcher = app.test_client()
    signed_in(app, dispatcher, "dispatcher")
    read_only = dispatcher.get("/console/plan").get_data(as_text=True)
    assert first_gap in read_only and 'name="gap_id"' not in read_only  # a dispatcher reads the lists, only planners accept


def _upload(client, data: bytes, name: str = "layer.gpkg"):
    """The upload form sent as a browser sends it (the body built in memory)."""
    token = csrf(client.get("/console/layers").get_data(as_text=True))
    body, content_type = multipart(layer=(data, name))
    boundary = content_type.split("boundary=")[1]
    token_part = f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'.encode()
    return client.post("/console/layers", data=token_part + body, content_type=content_type)


def _processed(app, client, made) -> str:
    """The draft page an upload led to, once a worker process has read the upload."""
    assert made.status_code == 303, made.get_data(as_text=True)[:300]
    draft_id = int(made.headers["Location"].rsplit("/", 1)[1])
    deadline = time.monotonic() + 120
    with app.extensions["zonemap.db"].session() as session:
        while session.get(LayerDraft, draft_id).state in ("queued", "processing"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
            session.expire_all()
    return client.get(made.headers["Location"]).get_data(as_text=True)


def test_a_planner_drafts_compares_publishes_and_rolls_back_from_the_pages(app, client, tokens, demo_files, tmp_path):
    report = submit(client, tokens["public"], {**REPORT, "client_ref": "plan-pages"}).get_json()
    signed_in(app, client, "planner", username="li")
    html = _processed(app, client, _upload(client, changed_layer(demo_files, tmp_path, break_row=True)))
    assert 'id="problems"' in html and "zones" in html and 'data-label="行">4</td>' in html and "duties" in html  # the layer, the row and the field
    with app.extensions["zonemap.db"].session() as session:
        assert session.scalars(select(LayerDraft.state)).all() == ["refused"]
        assert session.scalar(select(func.count()).select_from(LayerPublication)) == 0
    assert "已拒绝" in client.get("/console/layers").get_data(as_text=True)  # listed for a day, with its state

    made = _upload(client, changed_layer(demo_files, tmp_path))
    draft_url = made.headers["Location"]
    page = _processed(app, client, made)
    assert f'/console/reports/{report["id"]}' in page and "P07" in page  # the affected report, its new owner
    gap = re.search(r'name="gap_id" value="(G\d+)"', page).group(1)
    version = re.search(r'name="version" value="([0-9a-f]+)"', page).group(1)
    stale = client.post(draft_url + "/suggestions", data={"csrf_token": csrf(page), "gap_id": [gap], "version": "000000000000"})
    assert stale.status_code == 303
    again = client.get(draft_url).get_data(as_text=True)
    assert "刚被其他人修改过" in again and "GAP-" not in again  # nothing accepted from a stale page
    accepted = client.post(draft_url + "/suggestions", data={"csrf_token": csrf(page), "gap_id": [gap], "version": version})
    assert accepted.status_code == 303
    page = client.get(draft_url).get_data(as_text=True)
    assert f"GAP-{gap}" in page

    no_note = client.post(draft_url + "/publish", data={"csrf_token": csrf(page), "note": ""})
    assert no_note.status_code == 303 and no_note.headers["Location"].endswith("#publish")
    published = client.post(draft_url + "/publish", data={"csrf_token": csrf(page), "note": "移交给P07"})
    assert published.status_code == 303 and "/console/layers/publications/" in published.headers["Location"]
    publication_url = published.headers["Location"]
    shown = client.get(publication_url).get_data(as_text=True)
    assert "移交给P07" in shown and f'/console/reports/{report["id"]}' in shown and 'name="report_id"' not in shown  # a planner does not reassign
    version = client.get("/healthz").get_json()["zone_version"]
    assert version in shown

    dispatcher = app.test_client()
    signed_in(app, dispatcher, "dispatcher", username="wang")
    form = dispatcher.get(publication_url).get_data(as_text=True)
    assert f'name="report_id" value="{report["id"]}"' in form
    done = dispatcher.post(publication_url + "/reassign", data={"csrf_token": csrf(form), "report_id": [str(report["id"])]})
    assert done.status_code == 303
    moved = client.get(f"/api/v1/reports/{report['id']}", headers=tokens["dispatcher"]).get_json()
    assert moved["unit_id"] == "P07" and version in moved["history"][-1]["note"]

    versions = client.get("/console/layers").get_data(as_text=True)
    first = re.findall(r'action="/console/layers/versions/([0-9a-f]+)/rollback"', versions)
    assert first, "an earlier version offers a rollback"
    back = client.post(f"/console/layers/versions/{first[-1]}/rollback", data={"csrf_token": csrf(versions), "note": "推迟移交"})
    assert back.status_code == 303
    assert client.get("/healthz").get_json()["zone_version"] == first[-1]
    assert "推迟移交" in client.get("/console/layers").get_data(as_text=True)


def test_a_layer_with_a_repaired_polygon_becomes_a_draft_whose_page_shows_the_warning(app, client, demo_files, tmp_path):
    import pyogrio
    import shapely

    zones = pyogrio.read_dataframe(demo_files.gpkg, layer="zones")
    minx, miny, maxx, maxy = zones.geometry.iloc[0].bounds
    zones.loc[0, "geometry"] = shapely.MultiPolygon([shapely.Polygon([(minx, miny), (maxx, maxy), (maxx, miny), (minx, maxy)])])
    path = tmp_path / "bowtie.gpkg"
    pyogrio.write_dataframe(zones, path, layer="zones")
    signed_in(app, client, "planner", username="li")
    page = _processed(app, client, _upload(client, path.read_bytes()))
    assert "make_valid" in page or "修复" in page, page[:2000]


def test_an_upload_is_a_draft_at_once_whose_page_follows_its_processing(database_url, demo_files, tmp_path):
    """With no worker process free (none at all here), the draft waits in the queue: its page and
    the API say so, and the page refreshes itself."""
    app = create_app({"DATA_DIR": str(tmp_path), "DATABASE_URL": database_url, "LAYER_DIR": str(demo_files.root), "TESTING": True, "LAYER_JOBS": 0})
    client = app.test_client()
    signed_in(app, client, "planner", username="li")
    made = _upload(client, changed_layer(demo_files, tmp_path))
    assert made.status_code == 303
    page = client.get(made.headers["Location"]).get_data(as_text=True)
    assert 'id="processing"' in page and 'http-equiv="refresh"' in page and "处理中" in page and "排队" in page, page[:3000]
    listed = client.get("/console/layers").get_data(as_text=True)
    assert made.headers["Location"] in listed and "处理中" in listed
    shown = client.get(made.headers["Location"].replace("/console/", "/api/v1/")).get_json()
    assert (shown["state"], shown["step"], shown["version"]) == ("queued", "queued", None)
    stop_jobs(app)
    app.extensions["zonemap.db"].engine.dispose()


def test_an_open_drafts_page_refreshes_while_it_is_compared(database_url, demo_files, tmp_path):
    """A request never waits long for a comparison: the page says it is being compared, and
    shows the comparison once it is done; the API answers 503 with Retry-After meanwhile."""
    app = create_app({"DATA_DIR": str(tmp_path), "DATABASE_URL": database_url, "LAYER_DIR": str(demo_files.root), "TESTING": True,
                      "COMPARISON_WAIT_SECONDS": 0})
    client = app.test_client()
    signed_in(app, client, "planner", username="li")
    made = _upload(client, changed_layer(demo_files, tmp_path))
    page = _processed(app, client, made)
    assert 'id="processing"' in page and "正在与当前版本比较" in page and 'http-equiv="refresh"' in page, page[:3000]
    api = made.headers["Location"].replace("/console/", "/api/v1/")
    busy = client.get(api)
    assert busy.status_code in (200, 503) and (busy.status_code == 200 or int(busy.headers["Retry-After"]) > 0)
    deadline = time.monotonic() + 120
    while 'id="processing"' in page:
        assert time.monotonic() < deadline
        time.sleep(0.2)
        page = client.get(made.headers["Location"]).get_data(as_text=True)
    assert 'id="changes"' in page and "P07" in page
    assert client.get(api).get_json()["comparison"]["changes"]["zones"]["owner"] > 0
    assert client.get(api + "?comparison=false").get_json().get("comparison") is None
    assert client.get(api + "?comparison=maybe").status_code == 422
    stop_jobs(app)
    app.extensions["zonemap.db"].engine.dispose()


def test_a_planner_downloads_the_layer_edits_it_and_uploads_it_back(app, client, tokens, tmp_path):
    """The round trip a planner makes with QGIS: the current version as one GeoPackage, read back
    unchanged as a draft of the same version; one zone given to another unit, a draft with that change."""
    signed_in(app, client, "planner", username="li")
    page = client.get("/console/layers").get_data(as_text=True)
    version = client.get("/healthz").get_json()["zone_version"]
    link = f"/console/layers/versions/{version}/layer.gpkg"
    assert f'href="{link}"' in page
    got = client.get(link)
    assert got.status_code == 200 and got.mimetype == "application/geopackage+sqlite3" and f"zonemap-layer-{version}.gpkg" in got.headers["Content-Disposition"]
    path = tmp_path / "layer.gpkg"
    path.write_bytes(got.data)
    assert {"zones", "test_points", "areas", "scope"} <= {name for name, _kind in pyogrio.list_layers(path)}
    assert client.get(f"/api/v1/layers/{version}/layer.gpkg", headers=tokens["dispatcher"]).data == got.data  # the API serves the same file

    unchanged = _processed(app, client, _upload(client, got.data))
    assert f"<code>{version}</code>" in unchanged  # read back as the same version: nothing lost on the way

    zones = pyogrio.read_dataframe(path, layer="zones")
    zones.loc[0, "unit_id"] = "P07" if zones.loc[0, "unit_id"] != "P07" else "P06"
    pyogrio.write_dataframe(zones, path, layer="zones")  # QGIS saves the layer in place; the others stay
    assert {"test_points", "areas"} <= {name for name, _kind in pyogrio.list_layers(path)}
    made = _upload(client, path.read_bytes())
    _processed(app, client, made)
    changes = client.get(f"/api/v1/layers/drafts/{made.headers['Location'].rsplit('/', 1)[1]}", headers=tokens["planner"]).get_json()
    assert changes["state"] == "open" and changes["comparison"]["changes"]["zones"] == {"added": 0, "removed": 0, "reshaped": 0, "owner": 1, "duties": 0}
    assert client.get("/console/layers/versions/0123456789ab/layer.gpkg").status_code == 404
