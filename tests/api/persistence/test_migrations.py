"""Migrations on a database that already holds reports: nothing is lost, every report gets its
public reference, and the migration can be undone and done again."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from api.persistence import MIGRATIONS
from tests.conftest import _fresh_schema

COLUMNS = ("request_hash, lon, lat, input_crs, input_lon, input_lat, category, description, photos, source, created_at, updated_at, state, "
           "route_status, rule, co_owner_unit_ids, candidate_unit_ids, zone_version, reason, row_version")
VALUES = ("'h', 120.4, 36.31, 'wgs84', 120.4, 36.31, 'litter', '', '[]', 'citizen', '2026-11-01 00:00:00+00:00', '2026-11-01 00:00:00+00:00', "
          "'dispatched', 'routed', 'zone', '', '', 'v', 'r', 1")


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A database with no tables yet: a new SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    yield from _fresh_schema()


def test_reports_stored_before_public_references_get_one(empty_database_url):
    engine = sa.create_engine(empty_database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
        for _ in range(3):
            connection.exec_driver_sql(f"INSERT INTO reports ({COLUMNS}) VALUES ({VALUES})")
        command.upgrade(config, "head")
        refs = dict(connection.exec_driver_sql("SELECT id, public_ref FROM reports").fetchall())
        assert sorted(refs) == [1, 2, 3] and len(set(refs.values())) == 3
        assert all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){2}", ref) for ref in refs.values())
        command.downgrade(config, "0003")
        command.upgrade(config, "head")
        assert connection.exec_driver_sql("SELECT count(*) FROM reports WHERE public_ref IS NOT NULL").scalar() == 3
    engine.dispose()


def test_reports_stored_before_their_facts_get_them_from_their_history(empty_database_url):
    engine = sa.create_engine(empty_database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    steps = [("submit", None, "2026-11-02 01:00:00+00:00", None), ("dispatch", "P06", "2026-11-02 01:00:00+00:00", "2026-11-03 01:00:00+00:00"),
             ("rectify", "P06", "2026-11-02 03:00:00+00:00", None), ("rework", "P06", "2026-11-02 04:00:00+00:00", None),
             ("rectify", "P06", "2026-11-02 05:00:00+00:00", None), ("verify", "P06", "2026-11-02 06:00:00+00:00", None)]
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0008")
        connection.exec_driver_sql(f"INSERT INTO reports ({COLUMNS}, public_ref) VALUES ({VALUES}, 'K7QH-3MXP-9D2A')")
        for action, unit, at, due in steps:
            connection.execute(sa.text("INSERT INTO transitions (report_id, action, to_state, unit_id, actor, note, evidence, due_at, at) "
                                       "VALUES (1, :action, 'x', :unit, 'a', '', '[]', :due, :at)"), {"action": action, "unit": unit, "at": at, "due": due})
        command.upgrade(config, "head")
        row = connection.exec_driver_sql("SELECT rectify_hours, reworks, extensions, fixed_on_time, dispatched_at IS NOT NULL FROM reports").one()
        assert tuple(row) == (2.0, 1, 0, True, True)  # 09:00 to 11:00 on a Monday in Qingdao; fixed by 09:00 the next day
    engine.dispose()
