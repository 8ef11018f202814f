"""Deadlines in working time on the district's calendar, through the API: a Friday-evening report
with a 4-working-hour limit is due on Monday, or on the make-up Saturday where the calendar says
so; a dispatcher's reassignment counts the limit again from its own moment."""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime

import pandas as pd
import pytest

from api import create_app
from api.auth.callers import create_token
from api.layers.live import stop_jobs
from tests.api.reports.test_reports import REPORT
from tests.support.pages import signed_in
from zones.worktime import TIMEZONE


@pytest.fixture
def district(demo_files, database_url, tmp_path):
    """An app on the demo whose litter category is due in 4 working hours, with the 2026 calendar's Spring Festival."""
    folder = tmp_path / "layer"
    shutil.copytree(demo_files.root, folder)
    categories = pd.read_csv(folder / "categories.csv", dtype=str, keep_default_na=False)
    categories = categories.rename(columns={"deadline_hours": "deadline"}).assign(deadline_unit="hours")
    categories.loc[categories["code"] == "litter", ["deadline", "deadline_unit"]] = ["4", "work_hours"]
    categories.to_csv(folder / "categories.csv", index=False)
    pd.DataFrame({"date": ["2026-02-14", "2026-02-16", "2026-02-17"], "workday": ["1", "0", "0"], "name": ["春节调休上班", "春节", "春节"]}).to_csv(
        folder / "calendar.csv", index=False)
    app = create_app({"DATA_DIR": str(tmp_path), "DATABASE_URL": database_url, "LAYER_DIR": str(folder), "TESTING": True, "LAYER_JOBS": 0})
    with app.extensions["zonemap.db"].session() as session:
        tokens = {role: {"Authorization": f"Bearer {create_token(session, role)}"} for role in ("public", "dispatcher")}
    yield app, tokens
    stop_jobs(app)
    app.extensions["zonemap.db"].engine.dispose()


def _at(monkeypatch, *moment: int) -> None:
    monkeypatch.setattr("api.reports.services.now", lambda: datetime(*moment, tzinfo=TIMEZONE).astimezone(UTC))


def _due(report: dict) -> datetime:
    return datetime.fromisoformat(report["deadline_at"]).astimezone(TIMEZONE)


def test_a_friday_evening_report_is_due_on_monday_or_on_a_make_up_saturday(district, monkeypatch):
    app, tokens = district
    client = app.test_client()
    _at(monkeypatch, 2026, 3, 6, 19, 0)  # an ordinary Friday evening
    report = client.post("/api/v1/reports", json={**REPORT, "client_ref": "friday"}, headers=tokens["public"]).get_json()
    assert report["state"] == "dispatched" and _due(report) == datetime(2026, 3, 9, 14, 0, tzinfo=TIMEZONE)  # 08:30-12:00, 13:30-14:00
    dispatcher = signed_in(app, app.test_client(), "dispatcher")
    monkeypatch.setattr("api.web.i18n.now", lambda: datetime(2026, 3, 6, 19, 0, tzinfo=TIMEZONE).astimezone(UTC))
    page = dispatcher.get(f"/console/reports/{report['id']}").get_data(as_text=True)
    assert "2026-03-09 14:00" in page and "还剩 4 个工作小时" in page  # the page says the same, in working time (not "67 hours")
    monkeypatch.setattr("api.web.i18n.now", lambda: datetime(2026, 3, 9, 16, 0, tzinfo=TIMEZONE).astimezone(UTC))
    assert "已超期 2 个工作小时" in dispatcher.get(f"/console/reports/{report['id']}").get_data(as_text=True)
    _at(monkeypatch, 2026, 2, 13, 19, 0)  # the Friday before the Spring Festival: Saturday 14 February is worked
    report = client.post("/api/v1/reports", json={**REPORT, "client_ref": "festival"}, headers=tokens["public"]).get_json()
    assert _due(report) == datetime(2026, 2, 14, 14, 0, tzinfo=TIMEZONE)
    _at(monkeypatch, 2026, 2, 14, 16, 0)  # reassigned on the make-up Saturday afternoon: 1.5 h that day, then the holidays
    moved = client.post(f"/api/v1/reports/{report['id']}/transitions", json={"action": "reassign", "unit_id": "HW01", "note": "换单位"},
                        headers=tokens["dispatcher"])
    assert moved.status_code == 200, moved.get_json()
    assert _due(moved.get_json()) == datetime(2026, 2, 18, 11, 0, tzinfo=TIMEZONE)  # Monday and Tuesday are holidays


def test_the_citizen_is_told_the_limit_in_its_unit(district):
    app, _tokens = district
    client = app.test_client()
    said = client.get(f"/report/check?lon={REPORT['lon']}&lat={REPORT['lat']}&accuracy_m=5&category=litter").get_data(as_text=True)
    assert "4 个工作时" in said, said
    said = client.get(f"/report/check?lon={REPORT['lon']}&lat={REPORT['lat']}&accuracy_m=5&category=overflowing_bin").get_data(as_text=True)
    assert "12 小时" in said, said


def test_a_category_in_calendar_hours_and_a_bad_unit(district, monkeypatch, demo_files, tmp_path):
    app, tokens = district
    _at(monkeypatch, 2026, 3, 6, 19, 0)
    other = {**REPORT, "category": "overflowing_bin", "client_ref": "bin"}  # 12 calendar hours, as the older tables give them
    report = app.test_client().post("/api/v1/reports", json=other, headers=tokens["public"]).get_json()
    assert _due(report) == datetime(2026, 3, 7, 7, 0, tzinfo=TIMEZONE)
    from geodata.load import load_categories

    table = pd.read_csv(demo_files.categories, dtype=str, keep_default_na=False).rename(columns={"deadline_hours": "deadline"})
    table["deadline_unit"] = "fortnights"
    table.to_csv(tmp_path / "bad.csv", index=False)
    _, found = load_categories(tmp_path / "bad.csv", strict=False)
    assert {p.code for p in found.problems} == {"bad_deadline_unit"} and found.problems[0].field == "deadline_unit"


def test_a_planner_publishes_next_years_calendar_with_the_layer(district, monkeypatch):
    import io

    from tests.api.layers.test_layers import processed

    app, tokens = district
    client = app.test_client()
    with app.extensions["zonemap.db"].session() as session:
        planner = {"Authorization": f"Bearer {create_token(session, 'planner')}"}
    app.config["LAYER_CHECK_SECONDS"] = 0
    stop_jobs(app)
    from api.layers.live import start_jobs

    app.config["LAYER_JOBS"] = 1
    start_jobs(app, app.extensions["zonemap.db"])
    _at(monkeypatch, 2027, 1, 29, 19, 0)  # the Friday before the 2027 Spring Festival, a year chinese-calendar does not know
    before = client.post("/api/v1/reports", json={**REPORT, "client_ref": "before"}, headers=tokens["public"]).get_json()
    assert _due(before) == datetime(2027, 2, 1, 14, 0, tzinfo=TIMEZONE)  # Monday: no holiday known
    bad = io.BytesIO("date,workday,name\n2027-02-01,maybe,春节\n".encode())
    refused = processed(client, planner, client.post("/api/v1/layers/drafts", data={"calendar": (bad, "calendar.csv")}, headers=planner,
                                                     content_type="multipart/form-data"))
    assert refused["state"] == "refused" and any(e["layer"] == "calendar" and e["row"] == 1 and e["field"] == "workday" for e in refused["errors"]), refused
    days = io.BytesIO("date,workday,name\n2027-02-01,0,春节\n2027-02-02,0,春节\n2027-01-30,1,春节调休上班\n".encode())
    draft = processed(client, planner, client.post("/api/v1/layers/drafts", data={"calendar": (days, "calendar.csv")}, headers=planner,
                                                   content_type="multipart/form-data"))
    assert draft["state"] == "open", draft
    deadline = time.monotonic() + 120
    while (compared := client.get(f"/api/v1/layers/drafts/{draft['id']}", headers=planner)).status_code == 503:  # being compared
        assert time.monotonic() < deadline
        time.sleep(0.2)
    calendar = compared.get_json()["comparison"]["calendar"]
    assert calendar["changed"] and (calendar["after"]["days"], calendar["after"]["holidays"], calendar["after"]["last"]) == (3, 2, "2027-02-02")
    page = signed_in(app, app.test_client(), "planner").get(f"/console/layers/drafts/{draft['id']}").get_data(as_text=True)
    assert "本草稿 3 个（其中休息日 2 天，至 2027-02-02）" in page  # the planner sees the calendar change before publishing
    published = client.post(f"/api/v1/layers/drafts/{draft['id']}/publish", json={"note": "2027 年节假日"}, headers=planner)
    assert published.status_code in (200, 201), published.get_json()
    after = client.post("/api/v1/reports", json={**REPORT, "client_ref": "after"}, headers=tokens["public"]).get_json()
    assert after["decision"]["zone_version"] != before["decision"]["zone_version"]  # the calendar is part of the version
    assert _due(after) == datetime(2027, 1, 30, 14, 0, tzinfo=TIMEZONE)  # the make-up Saturday the new calendar names
