"""Zone-layer versions: a planner publishes, every worker switches, old reports keep theirs."""

from __future__ import annotations

import time

import pyogrio
import pytest

from api import create_app
from api.layers.live import stop_jobs
from geodata.io import write_layer
from tests.api.reports.test_reports import REPORT, submit

pytestmark = pytest.mark.both_databases  # its SQL differs between the two: queries, locking, retention

def changed_layer(demo_files, tmp_path, *, new_owner: str = "P07", break_row: bool = False) -> bytes:
    """The demo GeoPackage with P06's zones handed to another unit (or a broken row)."""
    path = tmp_path / "upload.gpkg"
    for name in ("zones", "test_points", "areas"):
        frame = pyogrio.read_dataframe(demo_files.gpkg, layer=name)
        if name == "zones":
            frame.loc[frame["unit_id"] == "P06", "unit_id"] = new_owner
            if break_row:
                frame.loc[3, "duties"] = "cleaning"
        write_layer(frame, path, layer=name)
    return path.read_bytes()


def multipart(**files: tuple[bytes, str]) -> tuple[bytes, str]:
    """A multipart/form-data body built in memory (no temporary files on the client side)."""
    boundary = "zonemap-test-boundary"
    parts = []
    for field, (content, filename) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
                     "Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def post_layer(client, headers, **files):
    body, content_type = multipart(**files)
    return client.post("/api/v1/layers", data=body, content_type=content_type, headers=headers)


def processed(client, headers, response) -> dict:
    """The draft a 202 answer made, once a worker process has read it (and published it, or refused it)."""
    assert response.status_code == 202, response.get_data(as_text=True)[:500]
    deadline = time.monotonic() + 120
    while (draft := client.get(response.headers["Location"] + "?comparison=false", headers=headers).get_json())["state"] in ("queued", "processing"):
        assert time.monotonic() < deadline, draft
        time.sleep(0.1)
    return draft


def test_publish_switches_every_worker_and_keeps_old_versions(app, client, tokens, demo_files, tmp_path, database_url):
    old = submit(client, tokens["public"]).get_json()
    other_worker = create_app({"DATA_DIR": str(tmp_path / "w2"), "DATABASE_URL": database_url, "LAYER_DIR": str(demo_files.root), "LAYER_CHECK_SECONDS": 0})
    app.config["LAYER_CHECK_SECONDS"] = 0
    published = processed(client, tokens["planner"], post_layer(client, tokens["planner"], layer=(changed_layer(demo_files, tmp_path), "../../etc/passwd")))
    assert published["state"] == "published" and published["sources"] == "layer: layer.gpkg", published  # the client's name is never used
    version = published["version"]
    assert version != old["decision"]["zone_version"]
    new = submit(client, tokens["public"], {**REPORT, "client_ref": "after"}).get_json()
    assert (new["unit_id"], new["decision"]["zone_version"]) == ("P07", version)
    again = client.get(f"/api/v1/reports/{old['id']}", headers=tokens["dispatcher"]).get_json()
    assert (again["unit_id"], again["decision"]["zone_version"]) == ("P06", old["decision"]["zone_version"])
    with other_worker.test_client() as second:
        assert second.get("/healthz").get_json()["zone_version"] == version
    stop_jobs(other_worker)
    other_worker.extensions["zonemap.db"].engine.dispose()
    listed = client.get("/api/v1/layers", headers=tokens["dispatcher"]).get_json()
    assert listed["current"] == version and listed["items"][0]["is_current"]


def test_invalid_upload_names_the_row_and_changes_nothing(client, tokens, demo_files, tmp_path):
    before = client.get("/healthz").get_json()["zone_version"]
    bad = processed(client, tokens["planner"], post_layer(client, tokens["planner"], layer=(changed_layer(demo_files, tmp_path, break_row=True), "z.gpkg")))
    assert bad["state"] == "refused"
    assert any(e["field"] == "duties" and e["row"] == 4 for e in bad["errors"]), bad["errors"]
    not_gpkg = post_layer(client, tokens["planner"], layer=(b"hello", "z.gpkg"))
    assert not_gpkg.status_code == 422
    assert client.post("/api/v1/layers", data={}, headers=tokens["unit_a"], content_type="multipart/form-data").status_code == 403
    assert client.get("/healthz").get_json()["zone_version"] == before
