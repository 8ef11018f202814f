"""The workers' index of open reports, read again from the database (`OpenReports.load`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.reports.open_reports import OpenReports

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
