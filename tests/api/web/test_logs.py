"""No token, contact or description reaches a log: the real server (gunicorn, two workers, on
PostgreSQL) serves a session that sends all of them the ways clients do (and the ways they must
not), including a database error on an insert; then its whole log is searched for every one."""

from __future__ import annotations

import os
import urllib.parse

import pytest
import sqlalchemy as sa

from tests.api.reports.test_reports import LAT, LON, REPORT
from tests.support.server import call, create_token, running

pytestmark = pytest.mark.slow


def test_the_logs_hold_no_token_and_no_contact(postgres_url, demo_files, tmp_path):
    env = {**os.environ, "ZONEMAP_LAYER_DIR": str(demo_files.root), "DATABASE_URL": postgres_url}
    with running(env, tmp_path, workers=2) as server:
        base = server.base
        dispatcher, public = create_token(env, tmp_path, "dispatcher"), create_token(env, tmp_path, "public")
        secrets = {"dispatcher token": dispatcher, "public token": public}
        # A token in the URL is refused, and still must not be logged.
        status, body = call("GET", f"{base}/api/v1/reports?api_key={dispatcher}")
        assert status == 400 and body["errors"][0]["field"] == "api_key"
        assert call("GET", f"{base}/open311/v2/requests.json?api_key={public}")[0] == 400
        # Contacts and descriptions in bodies, headers and query strings.
        for n in range(3):
            contact, text = f"1390000{n:04d}", f"描述DESC-{n}"
            secrets |= {f"contact {n}": contact, f"description {n}": text}
            status, _ = call("POST", base + "/api/v1/reports", {**REPORT, "reporter_contact": contact, "description": text}, public)
            assert status == 201
        query = urllib.parse.urlencode({"phone": "13911112222", "email": "citizen@example.cn", "first_name": "张三", "description": "门口DESC-Q"})
        secrets |= {"Open311 phone": "13911112222", "Open311 email": "citizen@example.cn", "Open311 name": "张三", "Open311 description": "DESC-Q"}
        form = urllib.parse.urlencode({"api_key": public, "service_code": "litter", "lat": LAT, "long": LON}).encode()
        status, created = call("POST", f"{base}/open311/v2/requests.json?{query}", headers={"Content-Type": "application/x-www-form-urlencoded"}, data=form)
        assert status == 200, created
        assert call("GET", f"{base}/api/v1/reports?reporter_contact=13955556666&description=DESC-L", token=dispatcher)[0] == 200
        secrets |= {"listed contact": "13955556666", "listed description": "DESC-L"}
        # The dispatchers' search box, a token under a name of the client's own, and both again in the Referer.
        referer = f"{base}/console/dispatch?q=13944443333&session={dispatcher}"
        assert call("GET", f"{base}/console/dispatch?q=13944443333&auth={dispatcher}", headers={"Referer": referer})[0] in (200, 302)
        secrets |= {"searched phone": "13944443333"}
        # An insert PostgreSQL refuses: its error names every value of the failing row.
        engine = sa.create_engine(postgres_url)
        with engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE reports ADD CONSTRAINT probe_short CHECK (length(description) < 30)")
        engine.dispose()
        long_text, contact = "很长的描述DESC-FAIL" + "。" * 40, "13977778888"
        secrets |= {"failing description": "DESC-FAIL", "failing contact": contact}
        status, _ = call("POST", base + "/api/v1/reports", {**REPORT, "reporter_contact": contact, "description": long_text}, dispatcher)
        assert status == 500
    log = server.log.read_text(encoding="utf-8", errors="replace")
    assert "POST /api/v1/reports" in log and "GET /api/v1/reports?api_key=*** " in log  # the access log was written
    assert "Database error on /api/v1/reports [POST]: CheckViolation" in log  # and the error log
    found = {what: value for what, value in secrets.items() if value in log}
    assert not found, f"in the server log: {sorted(found)}"
