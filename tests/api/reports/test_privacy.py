"""Privacy: photos lose their EXIF (incl. GPS) before storage, contacts are erased after the
retention age, the public board and Open311 carry no contact and no exact time."""

from __future__ import annotations

import datetime as dt
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from PIL import Image, PngImagePlugin

from api.cli import main
from api.persistence.models import Report, Support
from api.reports import services
from tests.api.reports.test_reports import REPORT, submit

pytestmark = pytest.mark.both_databases  # its SQL differs between the two: queries, locking, retention

CAMERA = "SecretCam-X100"


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (80, 60), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = CAMERA  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° to show upright
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (36.0, 18.0, 36.5), "E", (120.0, 24.0, 1.25)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", f"{CAMERA} at 36.31,120.40")
    exif = Image.Exif()
    exif[0x010F] = CAMERA
    out = io.BytesIO()
    Image.new("RGBA", (20, 10), (0, 0, 255, 128)).save(out, "PNG", pnginfo=info, exif=exif.tobytes())
    return out.getvalue()


def upload(client, headers, data: bytes, name: str = "photo.jpg"):
    return client.post("/api/v1/photos", data={"photo": (io.BytesIO(data), name)}, headers=headers, content_type="multipart/form-data")


@pytest.mark.parametrize("make", [jpeg_with_gps, png_with_text])
def test_uploaded_photos_lose_every_metadata(client, tokens, tmp_path, make):
    original = make()
    assert CAMERA.encode() in original
    before = set(tmp_path.parent.rglob("*"))
    response = upload(client, tokens["public"], original, name="../../../../tmp/evil.jpg")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert not any(p.name == "evil.jpg" for p in set(tmp_path.parent.rglob("*")) - before)  # the client's name is never a path
    stored = client.get(body["url"], headers=tokens["dispatcher"])
    assert stored.status_code == 200 and stored.mimetype == body["content_type"]
    assert CAMERA.encode() not in stored.data and b"Exif" not in stored.data and b"GPS" not in stored.data
    with Image.open(io.BytesIO(stored.data)) as image:
        assert not image.getexif() and not {k for k in image.info if k not in ("dpi", "jfif", "jfif_version", "jfif_unit", "jfif_density")}
        if make is jpeg_with_gps:  # turned upright before the orientation tag was dropped
            assert image.size == (60, 80)
    assert upload(client, tokens["public"], original).get_json()["id"] == body["id"]  # same photo, same reference


def test_photos_refused_and_read_by_role(app, client, tokens):
    assert upload(client, tokens["public"], b"GIF89a not really").status_code == 422
    assert upload(client, tokens["public"], jpeg_with_gps()[:200]).status_code == 422
    missing = client.post("/api/v1/photos", data={}, headers=tokens["public"], content_type="multipart/form-data")
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["field"] == "photo"
    app.config["MAX_PHOTO_BYTES"] = 500
    assert upload(client, tokens["public"], jpeg_with_gps() + b"\0" * 2000).status_code == 413
    app.config["MAX_PHOTO_BYTES"] = 10 * 1024 * 1024
    url = upload(client, tokens["public"], jpeg_with_gps()).get_json()["url"]
    assert client.get(url, headers=tokens["unit_a"]).status_code == 404  # in no report of theirs yet
    submit(client, tokens["public"], {**REPORT, "photos": [url]})  # routed to unit A (P06)
    assert client.get(url, headers=tokens["unit_a"]).status_code == 200
    assert client.get(url, headers=tokens["unit_b"]).status_code == 404
    assert client.get(url, headers=tokens["public"]).status_code == 403
    assert client.get(url).status_code == 401


def test_public_board_and_open311_carry_no_contact_and_no_exact_time(client, tokens):
    contact = "13912345678 王女士"
    rid = submit(client, tokens["public"], {**REPORT, "reporter_contact": contact}).get_json()["id"]
    for action in ("rectify", "verify", "publish"):
        client.post(f"/api/v1/reports/{rid}/transitions", json={"action": action}, headers=tokens["dispatcher"])
    created = client.get(f"/api/v1/reports/{rid}", headers=tokens["dispatcher"]).get_json()["created_at"]
    board = client.get("/api/v1/public/reports")
    open311 = [client.get("/open311/v2/requests.json"), client.get(f"/open311/v2/requests/{rid}.json")]
    for response in (board, *open311):
        text = response.get_data(as_text=True)
        assert "13912345678" not in text and "王女士" not in text and created[:19] not in text
    assert board.get_json()["items"][0]["reported_on"] == dt.datetime.fromisoformat(created).astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    for item in open311[0].get_json():
        assert item["requested_datetime"][13:19] == ":00:00"


def test_retention_erases_old_contacts_only(app, client, tokens, database_url, demo_files):
    ids = [submit(client, tokens["public"], {**REPORT, "description": f"第{i}件", "reporter_contact": f"1380000000{i}"}).get_json()["id"] for i in range(4)]
    database = app.extensions["zonemap.db"]
    with database.session() as session:
        for rid, age in zip(ids, (400, 200, 100, 0), strict=True):
            report = session.get(Report, rid)
            report.created_at = services.now() - timedelta(days=age)
            session.add(Support(report_id=rid, created_at=report.created_at, reporter_contact=f"1370000000{rid}", source="citizen"))  # a +1 as old
    env = {"DATABASE_URL": database_url, "ZONEMAP_LAYER_DIR": str(demo_files.root), "ZONEMAP_DATA_DIR": app.config["DATA_DIR"]}
    result = CliRunner().invoke(main, ["retention", "--older-than-days", "150"], env=env)
    assert result.exit_code == 0, result.output
    assert "erased the reporter contact of 2 reports and 2 +1s" in result.output
    with database.session() as session:
        contacts = dict(session.execute(sa.select(Report.id, Report.reporter_contact).where(Report.id.in_(ids))).all())
        joined = dict(session.execute(sa.select(Support.report_id, Support.reporter_contact)).all())
    assert [contacts[i] for i in ids] == [None, None, "13800000002", "13800000003"]
    assert [joined[i] is None for i in ids] == [True, True, False, False]
    assert client.get(f"/api/v1/reports/{ids[0]}", headers=tokens["dispatcher"]).get_json()["reporter_contact"] is None
