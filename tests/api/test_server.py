"""End to end: the real server in a subprocess on 127.0.0.1, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
import urllib.error
import urllib.request
from pathlib import Path

import pyogrio
import pytest
import sqlalchemy as sa

from tests.api.test_reports import REPORT

ZONEMAP = str(Path(sys.executable).parent / "zonemap")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(method: str, url: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict | list]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@contextmanager
def serving(env: dict[str, str], data_dir: Path) -> Iterator[str]:
    """Run ``zonemap serve`` on a free 127.0.0.1 port until the block ends; yield its base URL."""
    port = free_port()
    log = data_dir / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen([ZONEMAP, "serve", "--port", str(port), "--data-dir", str(data_dir)], env=env, stdout=subprocess.DEVNULL, stderr=sink)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail(log.read_text(encoding="utf-8", errors="replace"))
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def create_token(env: dict[str, str], data_dir: Path, role: str = "dispatcher") -> str:
    """A token made with the command line, as an operator would."""
    made = subprocess.run([ZONEMAP, "token", "create", "--role", role, "--data-dir", str(data_dir)], env=env, capture_output=True, text=True, check=True)
    return made.stdout.strip().splitlines()[-1]


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
