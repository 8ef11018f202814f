"""The real server with staff accounts, shared by the browser tests of a module."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.server import call, make_accounts, running, upload_photo


@dataclass
class Site:
    """The server, its database file, and the tokens of the staff acting through the API."""

    base: str
    database: Path
    dispatcher: str
    unit: str  # P06's

    def stored(self) -> tuple[int, int, int]:
        """Reports, photos and +1s in the database."""
        with sqlite3.connect(self.database) as db:
            return tuple(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in ("reports", "photos", "supports"))

    def report(self, body: dict) -> dict:
        """A report submitted through the API."""
        status, report = call("POST", self.base + "/api/v1/reports", body, self.dispatcher)
        assert status == 201, report
        return report

    def rectified(self, body: dict, after: bytes) -> dict:
        """A report its unit (P06) has rectified with a photo, through the API."""
        report = self.report(body)
        evidence = upload_photo(self.base, self.unit, after)
        assert call("POST", f"{self.base}/api/v1/reports/{report['id']}/transitions", {"action": "rectify", "evidence": [evidence]}, self.unit)[0] == 200
        return report

    def state(self, report_id: int) -> tuple[str, str | None]:
        """The report's state and unit as stored."""
        with sqlite3.connect(self.database) as db:
            return db.execute("SELECT state, unit_id FROM reports WHERE id = ?", (report_id,)).fetchone()

    def publish(self, body: dict, before: bytes, after: bytes) -> dict:
        """A report with a photo, rectified by its unit with a photo, verified and published with
        both photos, as staff do it through the API; the report."""
        before_url = upload_photo(self.base, self.dispatcher, before)
        status, report = call("POST", self.base + "/api/v1/reports", {**body, "photos": [before_url]}, self.dispatcher)
        assert status == 201, report
        after_url = upload_photo(self.base, self.unit, after)
        move = f"{self.base}/api/v1/reports/{report['id']}/transitions"
        assert call("POST", move, {"action": "rectify", "evidence": [after_url]}, self.unit)[0] == 200
        assert call("POST", move, {"action": "verify"}, self.dispatcher)[0] == 200
        assert call("POST", move, {"action": "publish", "public_photos": [before_url, after_url]}, self.dispatcher)[0] == 200
        return report


@pytest.fixture(scope="module")
def site(demo_files, tmp_path_factory):
    """The server on the demo layer and a SQLite file; accounts: dispatchers wang and zhao,
    planner li, leader zhou, inspector qian, units hw (HW01) and jin (P06)."""
    data = tmp_path_factory.mktemp("site")
    database = data / "zonemap.sqlite"
    env = {**os.environ, "ZONEMAP_LAYER_DIR": str(demo_files.root), "DATABASE_URL": f"sqlite:///{database}"}
    with running(env, data) as server:
        users = [("wang", "dispatcher", None), ("zhao", "dispatcher", None), ("li", "planner", None), ("zhou", "leader", None), ("hw", "unit", "HW01"),
                 ("jin", "unit", "P06"), ("qian", "inspector", None)]
        dispatcher, unit = make_accounts(env["DATABASE_URL"], users, [("dispatcher", None), ("unit", "P06")])
        yield Site(server.base, database, dispatcher, unit)


