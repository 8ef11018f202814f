"""The workers' index of open reports, read again from the database (`OpenReports.load`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, update

from api.persistence.clock import now
from api.persistence.models import Report
from api.reports.open_reports import OpenReports
from tests.api.reports.test_reports import LAT, LON, REPORT, submit
from zones.workflow import State

NOW = datetime(2026, 12, 1, 8, tzinfo=UTC)
LITTER = frozenset({"litter"})


def test_reading_the_same_rows_again_keeps_the_index_and_a_change_moves_it():
    reports = OpenReports()
    first = [(1, 120.40, 36.30, "litter", NOW, None, "submitted"), (2, 120.41, 36.30, "litter", NOW, None, "dispatched")]
    reports.load(first, NOW)
    reports.load(first, NOW + timedelta(seconds=1))  # the overlap's rows again, unchanged
    assert [n.report_id for n in reports.near(120.40, 36.30, LITTER)] == [1]
    assert len(reports) == 2
    moved_and_closed = [(1, 120.41, 36.30, "litter", NOW, None, "submitted"),  # moved onto report 2's spot
                        (2, 120.41, 36.30, "litter", NOW, None, "verified")]  # no longer open
    reports.load(moved_and_closed, NOW + timedelta(seconds=2))
    assert reports.near(120.40, 36.30, LITTER) == []
    assert [n.report_id for n in reports.near(120.41, 36.30, LITTER)] == [1]
    assert len(reports) == 1


def held(reports: OpenReports) -> set[int]:
    """The reports an index holds (all lie within 50 km of the test's spot)."""
    return {n.report_id for n in reports.near(LON, LAT, LITTER, radius_m=50_000)}


@pytest.mark.both_databases
def test_another_worker_reads_whole_only_the_reports_changed_since_its_last_read(app, client, tokens):
    database = app.extensions["zonemap.db"]
    other = OpenReports(refresh_s=0)  # another worker's index, reading what this app's requests write
    first = [submit(client, tokens["dispatcher"], {**REPORT, "lon": LON + k * 0.01}).get_json()["id"] for k in range(3)]
    with database.session() as session:
        other.refresh(session, now())
    assert held(other) == set(first)

    read_whole: list[set[int]] = []

    def watch(_conn, _cursor, statement, parameters, _context, _many):
        if "reports.lon" in statement and "IN (" in statement:  # the index reading reports whole by id
            values = parameters.values() if isinstance(parameters, dict) else parameters
            read_whole.append({v for v in values if isinstance(v, int)})

    event.listen(database.engine, "before_cursor_execute", watch)
    try:
        with database.session() as session:  # the first report leaves the open states
            report = session.get(Report, first[0])
            report.state, report.updated_at = State.VERIFIED.value, now()
        added = submit(client, tokens["dispatcher"], {**REPORT, "lon": LON + 0.05}).get_json()["id"]
        with database.session() as session:
            other.refresh(session, now())
        assert read_whole == [{first[0], added}]  # not the two unchanged ones, though they are within the overlap
        assert held(other) == {*first[1:], added}

        late = submit(client, tokens["dispatcher"], {**REPORT, "lon": LON + 0.07}).get_json()["id"]
        with database.session() as session:  # stamped before the last read, committed after it
            session.execute(update(Report).where(Report.id == late).values(updated_at=now() - timedelta(seconds=5)))
        read_whole.clear()
        with database.session() as session:
            other.refresh(session, now())
        assert read_whole == [{late}]
        assert late in held(other)
    finally:
        event.remove(database.engine, "before_cursor_execute", watch)
