"""End to end: the real server in a subprocess on 127.0.0.1, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os

import pyogrio
import pytest
import sqlalchemy as sa

from tests.api.reports.test_reports import REPORT
from tests.support.server import call, create_token, serving

pytestmark = pytest.mark.slow  # a real server and GDAL


@pytest.fixture
def server(database_url, demo_files, tmp_path):
    env = {**os.environ, "ZONEMAP_LAYER_DIR": str(demo_files.root), "DATABASE_URL": database_url}
    with serving(env, tmp_path) as base:
        yield base, create_token(env, tmp_path), database_url


def test_report_followed_through_every_state_and_read_by_gdal(server, demo_files):
    base, token, database_url = server
    status, report = call("POST", base + "/api/v1/reports", REPORT, token)
    assert status == 201 and report["state"] == "dispatched"
    for action in ("rectify", "rework", "rectify", "verify", "publish"):
        status, report = call("POST", f"{base}/api/v1/reports/{report['id']}/transitions", {"action": action, "note": "现场核查"}, token)
        assert status == 200, report
    assert report["state"] == "published"
    status, board = call("GET", base + "/api/v1/public/reports")
    assert [item["id"] for item in board["items"]] == [report["id"]]
    # GDAL's OAPIF driver reads every collection, feature for feature.
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        published = connection.exec_driver_sql("SELECT count(*) FROM reports WHERE state = 'published'").scalar()
    engine.dispose()
    expected = {
        "zones": len(pyogrio.read_dataframe(demo_files.gpkg, layer="zones")),
        "test_points": len(pyogrio.read_dataframe(demo_files.gpkg, layer="test_points")),
        "areas": len(pyogrio.read_dataframe(demo_files.gpkg, layer="areas")),
        "reports_public": published,
    }
    for layer, count in expected.items():
        assert len(pyogrio.read_dataframe(f"OAPIF:{base}/ogc", layer=layer)) == count, layer
    status, gaps = call("GET", base + "/ogc/collections/coverage_gaps/items?limit=1")
    assert len(pyogrio.read_dataframe(f"OAPIF:{base}/ogc", layer="coverage_gaps")) == gaps["numberMatched"]
