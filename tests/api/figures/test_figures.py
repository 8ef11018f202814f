"""The figures: a random history of reports moved through the API (every action, dates advancing)
gives stored facts equal to those its steps give, and figures equal to a plain count of that
history written here; every unit of the layer is listed, zeros included; the ranking needs its
minimum of due reports; the bulletin opens as a workbook with Chinese headers."""

from __future__ import annotations

import io
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import select

from api.figures import queries
from api.persistence.models import Report, Transition
from tests.api.reports.test_reports import REPORT
from tests.support.pages import signed_in
from zones.figures import DEFAULT_WEIGHTS, FACT_COLUMNS, Ranking, Step, boards, facts_of, parse_weights, rank
from zones.workflow import OPEN_STATES
from zones.worktime import TIMEZONE

pytestmark = pytest.mark.both_databases
START = datetime(2026, 3, 2, 9, 0, tzinfo=TIMEZONE)  # a Monday
UNITS = ("P06", "HW01", "JD01")
NEEDS = {"request_extension": "deadline_at", "hold": "review_at"}


class Clock:
    """The moment the services see, moved forward by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.at = START.astimezone(UTC)
        for target in ("api.reports.services.now", "api.figures.figures_api.now", "api.figures.stats_pages.now"):
            monkeypatch.setattr(target, lambda: self.at)

    def advance(self, rng: random.Random) -> None:
        self.at += timedelta(hours=rng.choice((0.5, 2, 7, 20, 50)))


def _random_history(client, tokens, clock: Clock, rng: random.Random, reports: int = 14, steps: int = 120) -> list[int]:
    """Reports at the demo's litter spot, moved by random legal actions of a dispatcher or their unit."""
    units = {"P06": tokens["unit_a"], "HW01": tokens["unit_b"]}
    ids = []
    for n in range(reports):
        ids.append(client.post("/api/v1/reports", json={**REPORT, "client_ref": f"r{n}", "source": rng.choice(("citizen", "leader", "inspection"))},
                               headers=tokens["public"]).get_json()["id"])
        clock.advance(rng)
    for _ in range(steps):
        rid = rng.choice(ids)
        report = client.get(f"/api/v1/reports/{rid}", headers=tokens["dispatcher"]).get_json()
        moves = [a for a in report["allowed_actions"] if a not in ("publish", "mark_duplicate")]
        if not moves:
            continue
        answers = [a for a in moves if a in ("approve_extension", "refuse_extension", "release")]
        action = rng.choice(answers if answers and rng.random() < 0.7 else moves)  # a request is mostly answered soon
        body = {"action": action, "note": "理由"}
        if action in ("reassign", "dispatch"):
            body["unit_id"] = rng.choice(UNITS)
        if action in NEEDS:
            base = max(clock.at, datetime.fromisoformat(report["deadline_at"])) if report["deadline_at"] else clock.at
            body[NEEDS[action]] = (base + timedelta(days=rng.choice((1, 3)))).isoformat()
        unit_action = action in ("rectify", "dispute", "request_extension")
        headers = units.get(report["unit_id"]) if unit_action else tokens["dispatcher"]
        if headers is None:  # a unit without a token here (JD01): the dispatcher sends it back instead
            continue
        moved = client.post(f"/api/v1/reports/{rid}/transitions", json=body, headers=headers)
        assert moved.status_code == 200, (action, moved.get_json())
        clock.advance(rng)
    return ids


def _reference(session, calendar, at: datetime) -> dict[str, dict[str, float]]:
    """The figures per unit counted plainly from the stored history, report by report."""
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for report in session.scalars(select(Report)):
        steps = session.scalars(select(Transition).where(Transition.report_id == report.id).order_by(Transition.id)).all()
        row = out[report.unit_id or ""]
        row["received"] += 1
        clock_start, deadline, first_fix, last_fix, fixed, on_time, reworked, extended, dispatched = None, None, None, None, False, False, False, False, False
        for step in steps:
            if step.action in ("dispatch", "reassign", "release", "overrule") and step.unit_id:
                clock_start, dispatched = step.at, True
            if step.due_at is not None and step.action in ("dispatch", "reassign", "release", "overrule", "approve_extension"):
                deadline = step.due_at
            if step.action == "rectify":
                first_fix = first_fix or (step.at, clock_start)
                last_fix = step.at
            if step.action == "verify":
                fixed, on_time = True, deadline is None or last_fix <= deadline
            reworked |= step.action == "rework"
            extended |= step.action == "approve_extension"
        late = report.state in {s.value for s in OPEN_STATES} and report.deadline_at < at
        row["dispatched"] += dispatched
        row["fixed"] += fixed
        row["on_time"] += fixed and on_time
        row["due"] += fixed or late
        row["rectified"] += first_fix is not None
        row["reworked"] += reworked
        row["extended"] += extended
        if first_fix is not None and first_fix[1] is not None:
            row["hours"] += calendar.working_time(first_fix[1], first_fix[0]).total_seconds() / 3600
            row["timed"] += 1
        row["open"] += report.state in {s.value for s in OPEN_STATES}
        row["overdue"] += late
        row["held"] += report.state == "held"
    return out


def test_stored_facts_and_figures_agree_with_the_history(app, client, tokens, monkeypatch):
    clock, rng = Clock(monkeypatch), random.Random(7)
    _random_history(client, tokens, clock, rng)
    calendar = app.extensions["zonemap.calendar"]  # the demo's: 2026's holidays
    with app.extensions["zonemap.db"].session() as session:
        for report in session.scalars(select(Report)):
            steps = [Step(t.action, t.at, t.unit_id, t.due_at) for t in report.transitions]
            stored, folded = {name: getattr(report, name) for name in FACT_COLUMNS}, facts_of(steps, calendar).as_row()
            assert stored.pop("rectify_hours") == pytest.approx(folded.pop("rectify_hours")) and stored == folded, report.id
        expected = _reference(session, calendar, clock.at)
        period = queries.Period(START.date(), (clock.at + timedelta(days=1)).astimezone(TIMEZONE).date())
        table = queries.table(session, app.extensions["zonemap.layer"], "unit", period, clock.at, Ranking(parse_weights(DEFAULT_WEIGHTS), minimum_due=1))
        actions = set(session.scalars(select(Transition.action).distinct()))
    assert {"request_extension", "approve_extension", "hold", "release", "rectify", "rework", "verify"} <= actions  # the history took every turn
    rows = {r["key"]: r for r in table.records()}
    assert set(expected) - {""} <= set(rows) and len(rows) == len(current_layer_of(app).known_units)
    for unit, want in expected.items():
        if not unit:
            continue
        got = rows[unit]
        assert (got["received"], got["dispatched"], got["fixed"], got["due"], got["open"], got["overdue"], got["held"]) == tuple(
            int(want[k]) for k in ("received", "dispatched", "fixed", "due", "open", "overdue", "held")), unit
        assert got["on_time_rate"] == (pytest.approx(want["on_time"] / want["due"]) if want["due"] else None)
        assert got["rework_rate"] == (pytest.approx(want["reworked"] / want["rectified"]) if want["rectified"] else None)
        assert got["extension_rate"] == (pytest.approx(want["extended"] / want["dispatched"]) if want["dispatched"] else None)
        assert got["mean_hours"] == (pytest.approx(want["hours"] / want["timed"]) if want["timed"] else None)


def current_layer_of(app):
    """The layer the app routes with (no request to check for a newer one)."""
    return app.extensions["zonemap.layer"]


def test_every_unit_is_listed_on_a_fresh_demo_and_bad_queries_are_named(app, client, tokens):
    units = client.get("/api/v1/units", headers=tokens["leader"]).get_json()
    layer = current_layer_of(app)
    assert [u["key"] for u in units["items"]] == list(layer.known_units) and len(units["items"]) > 20
    first = units["items"][0]
    assert (first["received"], first["on_time_rate"], first["score"], first["rank"]) == (0, None, None, None) and first["name"]
    assert (units["red"], units["black"]) == ([], [])
    areas = client.get("/api/v1/figures?by=area&from=2026-01-01&to=2026-01-31", headers=tokens["dispatcher"]).get_json()
    assert areas["first_day"] == "2026-01-01" and [a["key"] for a in areas["items"]] == queries.keys_of(layer, "area")
    assert len(areas["items"]) >= 5 and all(a["name"].endswith("街道") for a in areas["items"])
    swapped = client.get("/api/v1/figures?by=area&from=2026-01-31&to=2026-01-01", headers=tokens["dispatcher"]).get_json()
    assert (swapped["first_day"], swapped["last_day"]) == ("2026-01-01", "2026-01-31")  # the days in either order
    for query, field in (("by=street", "by"), ("from=2026-13-01", "from"), ("to=", "to")):
        bad = client.get(f"/api/v1/figures?{query}", headers=tokens["dispatcher"])
        assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == field, (query, bad.get_json())


def test_a_unit_is_ranked_from_its_minimum_and_the_boards_do_not_overlap():
    import pandas as pd

    table = pd.DataFrame({"due": [10, 10, 10, 2, 0, 8, 6], "on_time_rate": [0.9, 0.5, 0.7, 1.0, None, 0.0, 0.5],
                          "closure_rate": [1.0, 0.6, 0.8, 1.0, None, 0.0, 0.5], "rework_rate": [0.0, 0.5, 0.1, 0.0, None, None, 0.0]},
                         index=["A", "B", "C", "FAST", "IDLE", "LATE", "D"])
    ranking = Ranking(parse_weights(DEFAULT_WEIGHTS), minimum_due=5, board=2)
    ranked = rank(table, ranking)
    assert list(ranked.index) == ["A", "C", "D", "B", "LATE", "FAST", "IDLE"]  # one fast case does not top the table
    assert ranked.loc["A", "score"] == 95.0 and ranked.loc["LATE", "score"] == 0.0  # nothing rectified earns no rework-free points
    assert pd.isna(ranked.loc["FAST", "score"]) and pd.isna(ranked.loc["FAST", "rank"])
    assert boards(ranked, ranking) == (["A", "C"], ["LATE", "B"])
    with pytest.raises(ValueError, match="ranking weights"):
        Ranking({"speed": 1.0})


def test_the_stats_page_and_the_bulletin_for_a_leader(app, client, tokens, monkeypatch):
    clock, rng = Clock(monkeypatch), random.Random(3)
    _random_history(client, tokens, clock, rng, reports=8, steps=50)
    leader = signed_in(app, app.test_client(), "leader")
    day = clock.at.astimezone(TIMEZONE).date()
    first = START.date().isoformat()
    page = leader.get(f"/console/stats?from={first}&to={day.isoformat()}&sort=mean_hours").get_data(as_text=True)
    assert "统计与排名" in page and "按期结案率" in page and "红黑榜" in page and 'id="stats-chart"' in page
    assert leader.get(f"/console/stats?by=source&from={first}&to={day.isoformat()}").status_code == 200
    workbook = leader.get(f"/console/stats/bulletin.xlsx?from={first}&to={day.isoformat()}&lang=en")
    book = openpyxl.load_workbook(io.BytesIO(workbook.get_data()))
    assert book.sheetnames == ["概要", "单位", "街道", "整治类别", "国标事项大类", "问题来源（4+1）"]
    assert f"（{first} 至 {day.isoformat()}）" in book["单位"]["A1"].value and book["单位"]["B2"].value == "已受理"
    assert book["单位"].max_row - 2 == len(current_layer_of(app).known_units)
    printable = leader.get(f"/console/stats/bulletin?from={first}&to={day.isoformat()}").get_data(as_text=True)
    assert "本期共受理问题 8 件" in printable
    assert leader.get("/console/dispatch").status_code == 403 and leader.get("/console").headers["Location"].endswith("/console/stats")


def test_a_period_is_a_month_or_a_week_of_local_days():
    assert queries.Period.month_of(date(2026, 2, 14)) == queries.Period(date(2026, 2, 1), date(2026, 2, 28))
    assert queries.Period.week_of(date(2026, 12, 6)) == queries.Period(date(2026, 11, 30), date(2026, 12, 6))
    assert queries.Period(date(2026, 12, 1), date(2026, 12, 1)).end - queries.Period(date(2026, 12, 1), date(2026, 12, 1)).start == timedelta(days=1)


def test_categories_carry_national_codes_and_figures_read_by_class(demo_files, database_url, tmp_path):
    import shutil

    import pandas as pd

    from api import create_app
    from api.auth.callers import create_token
    from api.layers.live import stop_jobs
    from geodata.load import load_categories

    folder = tmp_path / "layer"
    shutil.copytree(demo_files.root, folder)
    table = pd.read_csv(folder / "categories.csv", dtype=str, keep_default_na=False)
    table["std_code"] = ""
    table.loc[table["code"] == "litter", "std_code"] = "01001"
    table.loc[table["code"] == "overflowing_bin", "std_code"] = "01002"
    table.loc[table["code"] == "illegal_parking", "std_code"] = "05012"
    table.to_csv(folder / "categories.csv", index=False)
    bad = table.copy()
    bad.loc[bad["code"] == "dead_trees", "std_code"] = "1A"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    _, found = load_categories(tmp_path / "bad.csv", strict=False)
    [problem] = found.problems
    assert (problem.code, problem.field, problem.feature_id) == ("bad_std_code", "std_code", "dead_trees")
    spreadsheet = table.assign(std_code=table["std_code"].map(lambda c: int(c) if c else None))  # what Excel makes of 01001
    spreadsheet.to_excel(tmp_path / "categories.xlsx", index=False)
    read, report = load_categories(tmp_path / "categories.xlsx", strict=False)
    assert not report.errors and read.set_index("code").loc["litter", "std_code"] == "01001"
    app = create_app({"DATA_DIR": str(tmp_path), "DATABASE_URL": database_url, "LAYER_DIR": str(folder), "TESTING": True, "LAYER_JOBS": 0})
    try:
        with app.extensions["zonemap.db"].session() as session:
            headers = {"Authorization": f"Bearer {create_token(session, 'dispatcher')}"}
        client = app.test_client()
        for category in ("litter", "overflowing_bin", "illegal_parking"):
            assert client.post("/api/v1/reports", json={**REPORT, "category": category, "client_ref": category}, headers=headers).status_code == 201
        classes = client.get("/api/v1/figures?by=std", headers=headers).get_json()["items"]
        assert [(c["key"], c["received"]) for c in classes] == [("01", 2), ("05", 1)]
    finally:
        stop_jobs(app)
        app.extensions["zonemap.db"].engine.dispose()
