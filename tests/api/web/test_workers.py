"""Several gunicorn workers on one PostgreSQL: a published zone layer reaches every worker within
seconds without a restart, and routing and reads agree whichever worker answers."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.auth.callers import create_token
from tests.api.layers.test_layers import changed_layer, multipart
from tests.api.reports.test_reports import LAT, LON, REPORT
from tests.support.server import call, publish_layer, running

pytestmark = pytest.mark.slow
WORKERS = 3


def _versions(base: str, rounds: int = 60) -> dict[int, str]:
    """The layer version each worker reports, from concurrent health checks."""
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: call("GET", base + "/healthz")[1], range(rounds)))
    return {a["worker"]: a["zone_version"] for a in answers}


def test_workers_switch_layers_and_agree(postgres_url, demo_files, tmp_path):
    env = {**os.environ, "ZONEMAP_LAYER_DIR": str(demo_files.root), "DATABASE_URL": postgres_url, "ZONEMAP_LAYER_CHECK_SECONDS": "1"}
    with running(env, tmp_path, workers=WORKERS) as server:
        engine = sa.create_engine(postgres_url)
        with Session(engine) as session, session.begin():
            dispatcher, planner = create_token(session, "dispatcher"), create_token(session, "planner")
        engine.dispose()
        base = server.base
        before = _versions(base)
        while len(before) < WORKERS:  # until every worker has answered once
            before |= _versions(base)
        assert len(set(before.values())) == 1
        # Reads and routing agree across workers.
        status, report = call("POST", base + "/api/v1/reports", REPORT, dispatcher)
        assert status == 201
        with ThreadPoolExecutor(8) as pool:
            reads = list(pool.map(lambda _: call("GET", f"{base}/api/v1/reports/{report['id']}", token=dispatcher)[1], range(40)))
            routes = list(pool.map(lambda _: call("GET", f"{base}/api/v1/route?lon={LON}&lat={LAT}&category=litter", token=dispatcher)[1], range(40)))
        assert all(r == reads[0] for r in reads) and reads[0]["unit_id"] == "P06"
        assert all(r == routes[0] for r in routes) and routes[0]["unit_id"] == "P06"
        # A planner publishes a layer on one worker; every worker switches without a restart.
        published = publish_layer(base, planner, *multipart(layer=(changed_layer(demo_files, tmp_path), "layer.gpkg")))
        started, seen = time.monotonic(), {}
        while time.monotonic() - started < 60 and (len(seen) < WORKERS or set(seen.values()) != {published["version"]}):
            seen |= _versions(base, 24)
        print(f"{WORKERS} workers on layer {published['version']} {time.monotonic() - started:.1f} s after the upload")
        assert set(seen.values()) == {published["version"]} and set(seen) == set(before)  # the same processes: no restart
        with ThreadPoolExecutor(8) as pool:
            routes = list(pool.map(lambda _: call("GET", f"{base}/api/v1/route?lon={LON}&lat={LAT}&category=litter", token=dispatcher)[1], range(40)))
            reads = list(pool.map(lambda _: call("GET", f"{base}/api/v1/reports/{report['id']}", token=dispatcher)[1], range(40)))
        assert {(r["unit_id"], r["zone_version"]) for r in routes} == {("P07", published["version"])}
        assert all(r == reads[0] for r in reads) and reads[0]["decision"]["zone_version"] == report["decision"]["zone_version"]


def test_a_session_made_on_one_worker_holds_on_every_worker(postgres_url, demo_files, tmp_path):
    import http.cookiejar
    import re
    import urllib.parse
    import urllib.request

    from api.auth.accounts import create_user

    env = {**os.environ, "ZONEMAP_LAYER_DIR": str(demo_files.root), "DATABASE_URL": postgres_url}
    with running(env, tmp_path, workers=WORKERS) as server:
        engine = sa.create_engine(postgres_url)
        with Session(engine) as session, session.begin():
            create_user(session, None, "wang", "dispatcher", "a long password")
        engine.dispose()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        form = browser.open(server.base + "/login", timeout=30).read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        body = urllib.parse.urlencode({"csrf_token": token, "username": "wang", "password": "a long password"}).encode()
        assert browser.open(server.base + "/login", data=body, timeout=30).geturl() == server.base + "/console/dispatch"

        def console(_: int) -> tuple[str, int]:
            with browser.open(server.base + "/healthz", timeout=30) as health, browser.open(server.base + "/console/dispatch", timeout=30) as page:
                return str(json.loads(health.read())["worker"]), page.status

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(console, range(36)))
    assert {status for _, status in answers} == {200}  # signed in, whichever worker answers: one signing key for all
    assert len({worker for worker, _ in answers}) == WORKERS


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_three_workers_start_together_on_a_fresh_folder(database, postgres_url, tmp_path):
    """The README's gunicorn command on an empty data folder: the demo, the schema and the demo's
    accounts are made once, by whichever worker comes first, and every worker serves."""
    env = {key: value for key, value in os.environ.items() if key not in ("ZONEMAP_LAYER_DIR", "DATABASE_URL")}
    if database == "postgresql":
        env["DATABASE_URL"] = postgres_url
    with running(env, tmp_path, workers=WORKERS) as server:
        seen: dict[int, str] = {}
        deadline = time.monotonic() + 60
        while len(seen) < WORKERS and time.monotonic() < deadline:
            seen |= _versions(server.base, 24)
        assert len(seen) == WORKERS and len(set(seen.values())) == 1, seen
    log = server.log.read_text(encoding="utf-8", errors="replace")
    assert log.count("Demo accounts (shown only now") == 1, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    url = postgres_url if database == "postgresql" else f"sqlite:///{tmp_path / 'zonemap.sqlite'}"
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        names = sorted(connection.exec_driver_sql("SELECT username FROM users").scalars())
        assert names == ["admin", "dispatcher", "hw01", "inspector", "jd01", "leader", "planner"]
    engine.dispose()
