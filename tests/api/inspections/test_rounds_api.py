"""Inspection rounds through the JSON API, as an inspection app would use it: checklists refused
by row and field, reproducible samples, one point's results stored once, failures opened as cases
of the round's level for the right unit, a re-inspection closing them, scores recomputed from the
stored entries."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from api.persistence.models import Report, Transition
from tests.api.web.test_pages import jpeg
from tests.support.pages import account

pytestmark = pytest.mark.both_databases  # JSON columns, the idempotency key's uniqueness

ROUND = {"name": "12月第一周专项督查", "level": "inspection", "first_day": "2026-12-07", "last_day": "2026-12-13"}


def _market(app) -> tuple[str, str]:
    """A market test point with an adopting unit, and that unit."""
    points = app.extensions["zonemap.layer"].test_points
    row = points[(points["type"] == "market") & points["unit_id"].notna()].iloc[0]
    return str(row["point_id"]), str(row["unit_id"])


def _photo(client, headers, colour=(200, 30, 30)) -> str:
    response = client.post("/api/v1/photos", data={"photo": (io.BytesIO(jpeg(colour)), "p.jpg")}, headers=headers, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    return response.get_json()["url"]


def _round(client, tokens, **scope) -> dict:
    response = client.post("/api/v1/rounds", json={**ROUND, "scope": scope}, headers=tokens["dispatcher"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_checklists_are_refused_by_row_and_field_and_versioned(client, tokens):
    current = client.get("/api/v1/checklists", headers=tokens["inspector"]).get_json()
    assert len(current["items"]) == 39 and {i["point_type"] for i in current["items"]} >= {"market", "toilet", "residential", "bus_stop"}
    bad = "point_type,code,text,kind,minimum,weight,category,owner\nmarket,M01,公益广告,count,,4,civic_posters,adopter\nmall,X1,某项,present,,2,nope,adopter\n"
    refused = client.post("/api/v1/checklists", data={"checklists": (io.BytesIO(bad.encode()), "checklists.csv")}, headers=tokens["planner"],
                          content_type="multipart/form-data")
    assert refused.status_code == 422
    found = {(e["row"], e["field"]) for e in refused.get_json()["errors"]}
    assert found == {(1, "minimum"), (2, "point_type"), (2, "category")}
    good = "point_type,code,text,kind,minimum,weight,category,owner,clause\nmarket,M01,公益广告不少于5处,count,5,4,civic_posters,adopter,第1条\n"
    made = client.post("/api/v1/checklists", data={"checklists": (io.BytesIO(good.encode("gbk")), "checklists.csv")}, headers=tokens["planner"],
                       content_type="multipart/form-data")
    assert made.status_code == 201 and made.get_json()["version"] != current["version"] and made.get_json()["items"][0]["text"] == "公益广告不少于5处"
    assert client.get("/api/v1/checklists", headers=tokens["unit_a"]).get_json()["version"] == made.get_json()["version"]
    assert client.post("/api/v1/checklists", data={}, headers=tokens["inspector"]).status_code == 403


def test_a_sample_is_drawn_again_from_its_seed(client, tokens):
    first = _round(client, tokens, types=["toilet", "bus_stop"], sample=12, seed=20261207)
    again = _round(client, tokens, types=["toilet", "bus_stop"], sample=12, seed=20261207)
    other = _round(client, tokens, types=["toilet", "bus_stop"], sample=12, seed=7)
    ids = [p["point_id"] for p in first["points"]]
    assert len(ids) == 12 and ids == [p["point_id"] for p in again["points"]] and ids != [p["point_id"] for p in other["points"]]
    assert {p["point_type"] for p in first["points"]} <= {"toilet", "bus_stop"}
    unseeded = _round(client, tokens, types=["toilet"], sample=5)
    assert unseeded["scope"]["seed"] is not None  # kept, so the draw can be made again
    assert client.post("/api/v1/rounds", json={**ROUND, "level": "citizen"}, headers=tokens["dispatcher"]).status_code == 422
    assert client.post("/api/v1/rounds", json=ROUND, headers=tokens["inspector"]).status_code == 403
    assert client.post("/api/v1/rounds", json={**ROUND, "level": "inspection"}, headers=tokens["unit_a"]).status_code == 403  # a unit: self-checks only


def test_an_inspection_is_stored_once_opens_cases_and_a_recheck_closes_them(app, client, tokens):
    point_id, adopter = _market(app)
    made = _round(client, tokens, types=["market"])
    assert point_id in {p["point_id"] for p in made["points"]}
    inspector = tokens["inspector"]
    problem, fixed = _photo(client, inspector), _photo(client, inspector, (30, 160, 40))
    body = {"point_id": point_id, "items": [
        {"code": "M01", "value": 3, "photos": [problem], "note": "只有3处"},  # a count below its minimum: failed
        {"code": "M02", "result": "pass"},
        {"code": "M06", "result": "fixed", "photos": [problem], "after_photos": [fixed]},  # 立行立改: no case
        {"code": "M03", "result": "na"},
    ]}
    url = f"/api/v1/rounds/{made['id']}/inspections"
    assert client.post(url, json=body, headers=inspector).status_code == 400  # no Idempotency-Key
    sent = client.post(url, json=body, headers={**inspector, "Idempotency-Key": "phone-1"})
    assert sent.status_code == 201, sent.get_json()
    stored = sent.get_json()
    again = client.post(url, json=body, headers={**inspector, "Idempotency-Key": "phone-1"})
    assert again.status_code == 200 and again.get_json()["id"] == stored["id"]
    assert client.post(url, json={**body, "items": body["items"][1:2]}, headers={**inspector, "Idempotency-Key": "phone-1"}).status_code == 409
    items = {i["code"]: i for i in stored["items"]}
    assert (items["M01"]["result"], items["M06"]["result"], items["M03"]["result"]) == ("fail", "fixed", "na")
    assert items["M06"]["report_id"] is None and items["M02"]["points"] == 0
    assert stored["possible"] == 4 + 3 + 3 and stored["score"] == 3  # M01, M02, M06 apply; M01 (4) and M06 (3) lost
    with app.extensions["zonemap.db"].session() as session:
        case = session.get(Report, items["M01"]["report_id"])
        assert (case.source, case.category, case.unit_id, case.round_id, case.test_point_id) == ("inspection", "civic_posters", adopter, made["id"], point_id)
        assert case.state == "dispatched" and case.photos == [problem]
    # A failure needs its photo; an item not of the point's checklist is refused by its field.
    refused = client.post(url, json={"point_id": point_id, "items": [{"code": "M05", "result": "fail"}]}, headers={**inspector, "Idempotency-Key": "k2"})
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "items[0].photos"
    refused = client.post(url, json={"point_id": point_id, "items": [{"code": "T01", "result": "pass"}]}, headers={**inspector, "Idempotency-Key": "k3"})
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "items[0].code"
    # The re-inspection (回头看) goes back to the failed items only.
    recheck = client.post(f"/api/v1/rounds/{made['id']}/recheck", json={"first_day": "2026-12-14", "last_day": "2026-12-14"}, headers=tokens["dispatcher"])
    assert recheck.status_code == 201
    back = recheck.get_json()
    assert [(p["point_id"], sorted(p["codes"])) for p in back["points"]] == [(point_id, ["M01", "M06"])]
    second = {"point_id": point_id, "items": [{"code": "M01", "value": 6}, {"code": "M06", "result": "fail", "photos": [_photo(client, inspector)]}]}
    found = client.post(f"/api/v1/rounds/{back['id']}/inspections", json=second, headers={**inspector, "Idempotency-Key": "phone-2"}).get_json()
    items = {i["code"]: i for i in found["items"]}
    assert items["M01"]["result"] == "pass" and items["M01"]["report_id"] == case.id
    assert items["M06"]["repeated"] and items["M06"]["points"] == 2 * 3  # found again: double
    with app.extensions["zonemap.db"].session() as session:
        closed = session.get(Report, case.id)
        steps = session.scalars(sa.select(Transition.action).where(Transition.report_id == case.id).order_by(Transition.id)).all()
        assert closed.state == "verified" and steps[-2:] == ["rectify", "verify"]
        assert session.get(Report, items["M06"]["report_id"]).category == "market_hygiene"
    # The test point carries its latest score in the OGC collection.
    feature = client.get(f"/ogc/collections/test_points/items/{point_id}").get_json()
    assert feature["properties"]["latest_rate"] == pytest.approx(found["score"] / found["possible"]) and feature["properties"]["round_id"] == back["id"]


def test_a_unit_checks_its_own_points(app, client, tokens):
    points = app.extensions["zonemap.layer"].test_points
    own = set(points.loc[points["unit_id"] == "P06", "point_id"].astype(str))
    response = client.post("/api/v1/rounds", json={**ROUND, "name": "自查", "level": "self_check"}, headers=tokens["unit_a"])
    assert response.status_code == 201, response.get_json()
    made = response.get_json()
    assert made["kind"] == "self_check" and made["unit_id"] == "P06" and {p["point_id"] for p in made["points"]} <= own and made["points"]
    assert [r["id"] for r in client.get("/api/v1/rounds", headers=tokens["unit_a"]).get_json()["items"]] == [made["id"]]
    assert client.get(f"/api/v1/rounds/{made['id']}", headers=tokens["unit_b"]).status_code == 404


def test_scores_recomputed_from_the_entries_agree(app, client, tokens):
    made = _round(client, tokens, types=["toilet"], sample=3, seed=1)
    inspector = tokens["inspector"]
    photo = _photo(client, inspector)
    answers = [["pass", "pass", "pass", "pass"], ["fail", "pass", "pass", "na"], ["fail", "fail", "pass", "pass"]]
    for n, (point, results) in enumerate(zip(made["points"], answers, strict=True)):
        items = [{"code": code, "result": r, **({"photos": [photo]} if r == "fail" else {})} for code, r in zip(("T01", "T02", "T04", "T03"), results,
                                                                                                              strict=True)]
        assert client.post(f"/api/v1/rounds/{made['id']}/inspections", json={"point_id": point["point_id"], "items": items},
                           headers={**inspector, "Idempotency-Key": f"s{n}"}).status_code == 201
    scores = client.get(f"/api/v1/rounds/{made['id']}/scores", headers=tokens["leader"]).get_json()
    entries = client.get(f"/api/v1/rounds/{made['id']}/inspections", headers=tokens["leader"]).get_json()["items"]
    possible, kept = sum(e["possible"] for e in entries), sum(e["score"] for e in entries)
    assert (possible, kept) == (12 + 10 + 12, 12 + 6 + 4)  # T01 4, T02 4, T04 2, T03 (count 1) 2; NA does not apply
    assert scores["total"]["rate"] == pytest.approx(kept / possible) and scores["total"]["inspected"] == 3 == scores["total"]["failed_points"] + 1
    assert scores["by_type"][0]["key"] == "toilet" and scores["by_type"][0]["rate"] == pytest.approx(kept / possible)
    assert sum(g["score"] for g in scores["by_unit"]) == pytest.approx(kept)
    assert scores["worst"][0]["code"] in ("T01", "T02") and scores["worst"][0]["failures"] == 2
    listed = client.get("/console/rounds", headers=tokens["leader"]).get_data(as_text=True)  # the rounds' list: the trend from round to round
    assert f"{kept / possible * 100:.1f}%" in listed


def test_points_are_given_to_an_inspector(app, client, tokens):
    account(app, "qian", "inspector")
    account(app, "sun", "inspector")
    made = _round(client, tokens, types=["toilet"], sample=4, seed=2)
    ids = [p["point_id"] for p in made["points"]]
    assert {p["inspector"] for p in made["points"]} == {None}
    url = f"/api/v1/rounds/{made['id']}/assignments"
    given = client.post(url, json={"inspector": "qian", "point_ids": ids[:2]}, headers=tokens["dispatcher"])
    assert given.status_code == 200, given.get_json()
    assert [p["inspector"] for p in given.get_json()["points"]] == ["qian", "qian", None, None]
    # an inspector signed in by a token is not qian: qian's points are not theirs to record, the others are
    entry = {"point_id": ids[0], "items": [{"code": "T02", "result": "pass"}]}
    assert client.post(f"/api/v1/rounds/{made['id']}/inspections", json=entry, headers={**tokens["inspector"], "Idempotency-Key": "a0"}).status_code == 403
    assert client.post(f"/api/v1/rounds/{made['id']}/inspections", json={**entry, "point_id": ids[2]},
                       headers={**tokens["inspector"], "Idempotency-Key": "a2"}).status_code == 201
    refused = client.post(url, json={"inspector": "ghost", "point_ids": ids[:1]}, headers=tokens["dispatcher"])
    assert refused.status_code == 422 and "ghost" in refused.get_json()["detail"]
    refused = client.post(url, json={"inspector": "sun", "point_ids": ["NOPE1"]}, headers=tokens["dispatcher"])
    assert refused.status_code == 422 and "NOPE1" in refused.get_json()["detail"]
    assert client.post(url, json={"inspector": "sun", "point_ids": []}, headers=tokens["dispatcher"]).status_code in (400, 422)
    assert client.post(url, json={"inspector": "sun", "point_ids": ids}, headers=tokens["inspector"]).status_code == 403
    assert client.post(url, json={"inspector": "sun", "point_ids": ids}, headers=tokens["unit_a"]).status_code == 404  # not its self-check
    back = client.post(url, json={"inspector": None, "point_ids": ids[:1]}, headers=tokens["dispatcher"]).get_json()
    assert [p["inspector"] for p in back["points"]] == [None, "qian", None, None]
    ghost = client.post("/api/v1/rounds", json={**ROUND, "inspectors": ["qian", "ghost"]}, headers=tokens["dispatcher"])
    assert ghost.status_code == 422 and "ghost" in ghost.get_json()["detail"]


def _weeks(entries: list[dict], levels: dict[int, str], starts: list[str]) -> tuple[list, dict]:
    """The weekly scoring by point recomputed from the stored entries: each point's latest entry per week, summed."""
    latest: dict[tuple[str, str], dict] = {}
    for e in sorted(entries, key=lambda e: (e["at"], e["id"])):
        day = dt.datetime.fromisoformat(e["at"]).astimezone(ZoneInfo("Asia/Shanghai")).date()
        monday = (day - dt.timedelta(days=day.weekday())).isoformat()
        if levels[e["round_id"]] != "self_check" and monday in starts:
            latest[(e["point_id"], monday)] = e
    total, groups = [[0, 0.0, 0.0] for _ in starts], {}
    for (point, monday), e in latest.items():
        for cells in (total, groups.setdefault(point, [[0, 0.0, 0.0] for _ in starts])):
            cell = cells[starts.index(monday)]
            cell[0], cell[1], cell[2] = cell[0] + 1, cell[1] + e["score"], cell[2] + e["possible"]
    return total, groups


def test_the_weekly_scoring_agrees_with_the_entries(app, client, tokens):
    made = _round(client, tokens, types=["toilet"], sample=3, seed=1)
    own = client.post("/api/v1/rounds", json={**ROUND, "name": "自查", "level": "self_check"}, headers=tokens["unit_a"]).get_json()
    photo = _photo(client, tokens["inspector"])
    a, b, c = (p["point_id"] for p in made["points"])
    plan = [(a, "2026-11-23T09:00:00+08:00", "pass"), (a, "2026-11-30T10:00:00+08:00", "fail"), (b, "2026-11-30T23:30:00+08:00", "pass"),
            (b, "2026-12-01T08:00:00+08:00", "fail"),  # the same week: the latest counts
            (c, "2026-12-06T23:59:00+08:00", "fail"), (c, "2026-12-07T00:01:00+08:00", "pass")]  # Sunday night and Monday: two weeks
    for n, (point, at, result) in enumerate(plan):
        items = [{"code": "T01", "result": result, **({"photos": [photo]} if result == "fail" else {})}, {"code": "T02", "result": "pass"}]
        answer = client.post(f"/api/v1/rounds/{made['id']}/inspections", json={"point_id": point, "at": at, "items": items},
                             headers={**tokens["inspector"], "Idempotency-Key": f"w{n}"})
        assert answer.status_code == 201, answer.get_json()
    mine = own["points"][0]
    codes = [i["code"] for i in client.get("/api/v1/checklists", headers=tokens["unit_a"]).get_json()["items"] if i["point_type"] == mine["point_type"]]
    assert client.post(f"/api/v1/rounds/{own['id']}/inspections", headers={**tokens["unit_a"], "Idempotency-Key": "own"},
                       json={"point_id": mine["point_id"], "at": "2026-12-01T09:00:00+08:00",
                             "items": [{"code": codes[-1], "result": "pass"}]}).status_code == 201
    got = client.get("/api/v1/rounds/trend?by=point&every=week&count=3&until=2026-12-07", headers=tokens["leader"])
    assert got.status_code == 200, got.get_json()
    trend = got.get_json()
    starts = ["2026-11-23", "2026-11-30", "2026-12-07"]
    assert [p["first_day"] for p in trend["periods"]] == starts and trend["periods"][-1]["last_day"] == "2026-12-13"
    entries = [e for r in (made, own) for e in client.get(f"/api/v1/rounds/{r['id']}/inspections", headers=tokens["leader"]).get_json()["items"]]
    total, groups = _weeks(entries, {made["id"]: "inspection", own["id"]: "self_check"}, starts)
    assert [[c["inspected"], c["score"], c["possible"]] for c in trend["total"]["cells"]] == total
    assert {r["key"]: [[c["inspected"], c["score"], c["possible"]] for c in r["cells"]] for r in trend["items"]} == groups
    assert [c["inspected"] for c in trend["total"]["cells"]] == [1, 3, 1]  # b counts once in its week; the self-check is not the district's
    rates = [r["latest"] for r in trend["items"]]
    assert rates == sorted(rates) and all(r["name"] for r in trend["items"])  # the worst first, each named
    assert trend["total"]["change"] == pytest.approx(trend["total"]["cells"][2]["rate"] - trend["total"]["cells"][1]["rate"])
    own_level = client.get("/api/v1/rounds/trend?level=self_check&count=3&until=2026-12-07", headers=tokens["dispatcher"]).get_json()
    assert [c["inspected"] for c in own_level["total"]["cells"]] == [0, 1, 0]
    by_unit = client.get("/api/v1/rounds/trend?count=3&until=2026-12-07", headers=tokens["planner"]).get_json()
    assert sum(r["cells"][1]["score"] for r in by_unit["items"]) == pytest.approx(trend["total"]["cells"][1]["score"])
    months = client.get("/api/v1/rounds/trend?every=month&count=2&until=2026-12-07", headers=tokens["leader"]).get_json()
    assert [p["first_day"] for p in months["periods"]] == ["2026-11-01", "2026-12-01"] and months["periods"][0]["last_day"] == "2026-11-30"
    for bad in ("by=nope", "every=day", "count=0", "count=27", "level=citizen", "until=someday"):
        assert client.get(f"/api/v1/rounds/trend?{bad}", headers=tokens["leader"]).status_code == 422, bad  # as every bad query value of the API
    assert client.get("/api/v1/rounds/trend", headers=tokens["unit_a"]).status_code == 403
    assert client.get("/api/v1/rounds/trend", headers=tokens["inspector"]).status_code == 403
