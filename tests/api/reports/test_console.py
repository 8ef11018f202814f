"""The consoles that run the closed loop, through Flask's test client: the dispatchers' queues
(each report in exactly one), the list with its filters, the report page for each role, every
action from its form, and the units' console."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from api.persistence.clock import now
from api.persistence.models import Report, Support, Transition
from api.reports import console
from tests.api.reports.test_reports import LON, REPORT, submit
from tests.api.web.test_pages import jpeg
from tests.support.pages import csrf, signed_in
from zones.worktime import TIMEZONE

pytestmark = pytest.mark.both_databases  # its SQL differs between the two: queries, locking, retention

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def act(client, report_id: int, action: str, photos: list[bytes] | None = None, **fields):
    """Take ``action`` from the report's page, as its form sends it."""
    page = client.get(f"/console/reports/{report_id}").get_data(as_text=True)
    version = re.search(r'name="row_version" value="(\d+)"', page)
    data = {"csrf_token": csrf(page), "action": action, "row_version": version.group(1) if version else "1", **fields}
    if photos is not None:
        data["photos"] = [(io.BytesIO(p), f"p{n}.jpg") for n, p in enumerate(photos)]
        return client.post(f"/console/reports/{report_id}", data=data, content_type="multipart/form-data")
    return client.post(f"/console/reports/{report_id}", data=data)


def state(app, report_id: int) -> tuple[str, str | None]:
    with app.extensions["zonemap.db"].session() as session:
        report = session.get(Report, report_id)
        return report.state, report.unit_id


def queue_ids(client, queue: str) -> set[int]:
    page = client.get(f"/console/dispatch?queue={queue}").get_data(as_text=True)
    return {int(i) for i in re.findall(r'<td><a href="/console/reports/(\d+)">', page)}


def test_each_report_is_in_exactly_one_queue_and_leaves_it_once_handled(app, client, tokens):
    made = {name: submit(client, tokens["public"], {**REPORT, **body}).get_json()["id"] for name, body in (
        ("ambiguous", {"accuracy_m": 80}), ("late", {"accuracy_m": 80, "client_ref": "late"}), ("outside", {"lon": 121.2, "lat": 36.9}),
        ("plain", {"client_ref": "plain"}))}
    with app.extensions["zonemap.db"].session() as session:
        session.get(Report, made["late"]).deadline_at = now() - timedelta(hours=3)  # ambiguous, and overdue: overdue wins
    signed_in(app, client, "dispatcher")
    queues = {q: queue_ids(client, q) for q in console.QUEUES}
    assert queues["ambiguous"] == {made["ambiguous"]} and queues["overdue"] == {made["late"]} and queues["submitted"] == {made["outside"]}
    assert sum(len(ids) for ids in queues.values()) == 3  # the plainly routed report needs nobody
    counts = dict(re.findall(r'queue=(\w+)"[^>]*>[^<]+<b>(\d+)</b>', client.get("/console/dispatch").get_data(as_text=True)))
    assert counts == {"submitted": "1", "reopened": "0", "disputed": "0", "extension": "0", "overdue": "1", "rectified": "0", "verified": "0",
                      "held": "0", "ambiguous": "1", "fallback": "0"}
    assert act(client, made["ambiguous"], "confirm").status_code == 303  # the router's unit kept: settled
    assert act(client, made["outside"], "dispatch", unit_id="JD01", note="由城阳街道处理").status_code == 303
    assert queue_ids(client, "ambiguous") == set() and queue_ids(client, "submitted") == set()
    assert state(app, made["outside"]) == ("dispatched", "JD01")


def test_the_list_filters_searches_sorts_and_pages(app, client, tokens):
    ids = [submit(client, tokens["public"], {**REPORT, "client_ref": f"r{i}", "category": category}).get_json() for i, category in
           enumerate(["litter", "litter", "street_vending", "illegal_construction"])]
    signed_in(app, client, "dispatcher")

    def listed(query: str) -> list[int]:
        found = re.findall(r'<td><a href="/console/reports/(\d+)">', client.get("/console/dispatch?" + query).get_data(as_text=True))
        return [int(i) for i in dict.fromkeys(found)]  # each row links its number and its category

    assert listed("sort=oldest&state=dispatched") == [r["id"] for r in ids]
    assert listed("sort=newest&state=dispatched") == [r["id"] for r in reversed(ids)]
    assert listed("group=环境卫生") == [ids[0]["id"], ids[1]["id"]]
    assert listed("group=违法建筑&unit=D-ZF") == [ids[3]["id"]]  # illegal construction goes to the enforcement bureau
    assert listed(f"q={ids[2]['id']}") == [ids[2]["id"]]
    assert listed(f"q={ids[2]['public_ref'].lower()}") == [ids[2]["id"]]
    found = client.get(f"/console/dispatch?queue=submitted&q={ids[2]['public_ref']}").get_data(as_text=True)  # searched from a queue's view
    assert listed(f"queue=submitted&q={ids[2]['public_ref']}") == [ids[2]["id"]] and "待派单:" not in found and "已派单" in found
    assert listed("source=leader") == [] and listed("overdue=1") == []
    assert "共 4 件" in client.get("/console/dispatch?period=7d").get_data(as_text=True)


def test_the_report_page_shows_each_role_what_it_may_see(app, client, tokens):
    report = submit(client, tokens["public"], {**REPORT, "description": "垃圾堆了两天", "reporter_contact": "13912345678"}).get_json()
    dispatcher = app.test_client()
    signed_in(app, dispatcher, "dispatcher")
    page = dispatcher.get(f"/console/reports/{report['id']}").get_data(as_text=True)
    for shown in ("垃圾堆了两天", "13912345678", "青岛金海物业服务有限公司（P06）", "系统自动派单", 'id="report-surroundings"', "改派", "督办", "不予受理"):
        assert shown in page, shown
    surroundings = re.search(r'id="report-surroundings">(.*?)</script>', page).group(1)
    assert '"kind":"accountable"' in surroundings.replace(" ", "") and '"kind":"report"' in surroundings.replace(" ", "")
    planner = app.test_client()
    signed_in(app, planner, "planner")
    seen = planner.get(f"/console/reports/{report['id']}").get_data(as_text=True)
    assert "垃圾堆了两天" in seen and "13912345678" not in seen and 'name="action"' not in seen  # reads, never acts
    other = app.test_client()
    signed_in(app, other, "unit", "HW01")
    assert other.get(f"/console/reports/{report['id']}").status_code == 403  # another unit's report
    own = app.test_client()
    signed_in(app, own, "unit", "P06")
    mine = own.get(f"/console/reports/{report['id']}").get_data(as_text=True)
    assert "13912345678" not in mine and 'value="rectify"' in mine and 'value="dispute"' in mine and 'value="verify"' not in mine


def test_every_action_from_its_form(app, client, tokens):
    first = submit(client, tokens["public"], {**REPORT, "reporter_contact": "13700000001"}).get_json()["id"]
    second = submit(client, tokens["public"], {**REPORT, "lon": LON + 0.0001, "client_ref": "second", "reporter_contact": "13700000002"}).get_json()["id"]
    third = submit(client, tokens["public"], {**REPORT, "client_ref": "third"}).get_json()["id"]
    dispatcher, unit = app.test_client(), app.test_client()
    signed_in(app, dispatcher, "dispatcher")
    signed_in(app, unit, "unit", "P06")
    # The unit: a rectification needs photos; a dispute needs its reason.
    refused = act(unit, first, "rectify", photos=[], note="已清理")
    assert refused.status_code == 422 and "请至少拍一张照片" in refused.get_data(as_text=True)
    assert act(unit, first, "dispute").status_code == 422
    assert act(unit, first, "rectify", photos=[jpeg((40, 160, 60))], note="已清理").headers["Location"] == "/console/unit"
    assert state(app, first) == ("rectified", "P06")
    # The dispatcher: rework needs what is still wrong; then verify, then publish the chosen photos.
    assert "请写明理由" in act(dispatcher, first, "rework").get_data(as_text=True)
    assert act(dispatcher, first, "rework", note="角落还有垃圾").status_code == 303
    assert act(unit, first, "rectify", photos=[jpeg((30, 150, 50))]).status_code == 303
    assert act(dispatcher, first, "verify").status_code == 303
    page = dispatcher.get(f"/console/reports/{first}").get_data(as_text=True)
    offered = re.findall(r'name="public_photos" value="([^"]+)"', page)
    after = re.findall(r'name="public_photos" value="([^"]+)" checked', page)
    assert len(offered) == 2 and after == offered[1:]  # both fixes' photos offered, the verified one ticked
    assert page.count("被退回的整改") == 1  # the one sent back is marked
    assert act(dispatcher, first, "publish", public_photos=after).status_code == 303
    assert state(app, first)[0] == "published" and client.get(after[0]).status_code == 200 and client.get(offered[0]).status_code == 401
    # A dispute with its reason reaches the dispatchers with the unit's note; reassigning settles it.
    assert act(unit, second, "dispute", reason="not_our_zone", note="这里是学校门口").status_code == 303
    listed = dispatcher.get("/console/dispatch?queue=disputed").get_data(as_text=True)
    assert f'/console/reports/{second}"' in listed and "不是本单位责任区：这里是学校门口" in listed
    refused = act(dispatcher, second, "reassign", unit_id="X99")
    assert refused.status_code == 422 and "X99 不是当前责任区图层中的单位" in refused.get_data(as_text=True)
    assert state(app, second) == ("disputed", "P06")
    assert act(dispatcher, second, "reassign", unit_id="HW01", note="学校门口归环卫").status_code == 303
    assert (state(app, second) == ("dispatched", "HW01")
            and f'/console/reports/{second}"' not in dispatcher.get("/console/dispatch?queue=disputed").get_data(as_text=True))
    assert act(dispatcher, second, "escalate", note="请尽快").status_code == 303
    assert state(app, second)[0] == "escalated"
    # A duplicate is merged into the original; a rejection needs its reason.
    assert act(dispatcher, third, "mark_duplicate", duplicate_of=str(first), note="同一处").status_code == 303
    with app.extensions["zonemap.db"].session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Support).where(Support.report_id == first)) == 1
    fourth = submit(client, tokens["public"], {**REPORT, "client_ref": "fourth"}).get_json()["id"]
    assert act(dispatcher, fourth, "reject").status_code == 422
    assert act(dispatcher, fourth, "reject", note="不属于城市管理范围").status_code == 303
    assert state(app, fourth)[0] == "rejected"


def test_extensions_holds_and_overruled_disputes_from_their_forms(app, client, tokens):
    first = submit(client, tokens["public"]).get_json()["id"]
    second = submit(client, tokens["public"], {**REPORT, "client_ref": "second"}).get_json()["id"]
    dispatcher, unit = app.test_client(), app.test_client()
    signed_in(app, dispatcher, "dispatcher")
    signed_in(app, unit, "unit", "P06")
    later = (now() + timedelta(days=14)).date().isoformat()
    # The unit asks for more time: a date and a reason; a date before the deadline is refused in words.
    assert "申请延期" in unit.get(f"/console/reports/{first}").get_data(as_text=True)
    assert "请选择日期" in act(unit, first, "request_extension", note="需要协调施工").get_data(as_text=True)
    assert "请选择更晚的日期" in act(unit, first, "request_extension", note="需要协调施工", day=now().date().isoformat()).get_data(as_text=True)
    assert act(unit, first, "request_extension", note="需要协调施工", day=later).status_code == 303
    assert queue_ids(dispatcher, "extension") == {first}
    page = dispatcher.get(f"/console/reports/{first}").get_data(as_text=True)
    assert "延期申请" in page and "批准延期" in page and "不同意延期" in page
    assert act(dispatcher, first, "approve_extension").status_code == 303
    with app.extensions["zonemap.db"].session() as session:
        report = session.get(Report, first)
        assert report.deadline_at.astimezone(TIMEZONE).date().isoformat() >= later and report.extension_until is None
    history = dispatcher.get(f"/console/reports/{first}").get_data(as_text=True)
    assert "申请延至" in history and history.count("期限 ") >= 2  # the first deadline and the granted one
    # The dispatcher holds the second report: it leaves every working queue for "held", then comes back.
    assert "请选择日期" in act(dispatcher, second, "hold", note="纳入改造计划").get_data(as_text=True)
    assert act(dispatcher, second, "hold", note="纳入改造计划", day=later).status_code == 303
    assert queue_ids(dispatcher, "held") == {second} and "复查" in dispatcher.get("/console/dispatch?queue=held").get_data(as_text=True)
    assert act(dispatcher, second, "release", note="已立项").status_code == 303
    assert state(app, second) == ("dispatched", "P06")
    # A dispute the dispatcher does not accept goes back to the same unit.
    assert act(unit, second, "dispute", reason="not_our_zone").status_code == 303
    assert act(dispatcher, second, "overrule").status_code == 422
    assert act(dispatcher, second, "overrule", note="该处在贵单位责任区内").status_code == 303
    assert state(app, second) == ("dispatched", "P06")


@SQLITE
def test_a_change_made_meanwhile_is_told_not_overwritten(app, client, tokens):
    report_id = submit(client, tokens["public"]).get_json()["id"]
    first, second = app.test_client(), app.test_client()
    signed_in(app, first, "dispatcher")
    signed_in(app, second, "dispatcher", username="dispatcher-2")
    stale = second.get(f"/console/reports/{report_id}").get_data(as_text=True)  # the second dispatcher's page, drawn now
    assert act(first, report_id, "escalate", note="督办").status_code == 303
    late = second.post(f"/console/reports/{report_id}", data={"csrf_token": csrf(stale), "action": "reject", "note": "重复",
                                                              "row_version": re.search(r'name="row_version" value="(\d+)"', stale).group(1)})
    assert late.status_code == 303
    assert "这件问题刚被其他人处理过" in second.get(late.headers["Location"]).get_data(as_text=True)
    assert state(app, report_id)[0] == "escalated"


@SQLITE
def test_the_units_console_lists_its_work_overdue_first(app, client, tokens):
    ids = [submit(client, tokens["public"], {**REPORT, "client_ref": f"u{i}"}).get_json()["id"] for i in range(3)]
    with app.extensions["zonemap.db"].session() as session:
        session.get(Report, ids[1]).deadline_at = now() - timedelta(days=2, hours=1)
        session.get(Report, ids[2]).deadline_at = now() + timedelta(hours=3, minutes=10)
    signed_in(app, client, "unit", "P06")
    page = client.get("/console/unit").get_data(as_text=True)
    order = [int(i) for i in re.findall(r'href="/console/reports/(\d+)"', page)]
    assert order == [ids[1], ids[2], ids[0]]
    assert "已超期 2 天" in page and "还剩 4 小时" in page and "全区中位数" in page
    english = client.get("/console/unit?lang=en").get_data(as_text=True)
    assert "2 days overdue" in english and "4 hours left" in english


@SQLITE
def test_a_unit_keeps_sight_of_what_it_handed_over(app, client, tokens):
    fixed, disputed, open_one = (submit(client, tokens["public"], {**REPORT, "client_ref": f"h{i}"}).get_json()["id"] for i in range(3))
    unit = signed_in(app, app.test_client(), "unit", "P06")
    assert act(unit, fixed, "rectify", photos=[jpeg((40, 160, 60))]).status_code == 303
    assert act(unit, disputed, "dispute", reason="not_our_zone").status_code == 303
    page = unit.get("/console/unit").get_data(as_text=True)
    assert "待整改（1）" in page and "已处理（2）" in page
    handled = unit.get("/console/unit?tab=handled").get_data(as_text=True)
    ids = [int(i) for i in re.findall(r'href="/console/reports/(\d+)"', handled)]
    assert ids == [disputed, fixed] and "单位有异议" in handled and open_one not in ids


def test_a_reporter_says_a_published_fix_did_not_hold(app, client, tokens, monkeypatch):
    rid = submit(client, tokens["public"]).get_json()["id"]
    move = f"/api/v1/reports/{rid}/transitions"
    for action, headers in (("rectify", tokens["unit_a"]), ("verify", tokens["dispatcher"]), ("publish", tokens["dispatcher"])):
        assert client.post(move, json={"action": action}, headers=headers).status_code == 200
    ref = client.get(f"/api/v1/reports/{rid}", headers=tokens["dispatcher"]).get_json()["public_ref"]
    page = client.get(f"/r/{ref}").get_data(as_text=True)
    assert "整改不满意？（公开后 7 天内）" in page
    assert client.post(f"/r/{ref}/reopen", data={"csrf_token": csrf(page), "reason": ""}).status_code == 422
    again = [(io.BytesIO(jpeg((90, 90, 90))), "again.jpg")]
    done = client.post(f"/r/{ref}/reopen", data={"csrf_token": csrf(page), "reason": "垃圾又堆起来了", "photos": again}, content_type="multipart/form-data")
    assert done.status_code == 303 and "问题已退回指挥中心" in client.get(done.headers["Location"]).get_data(as_text=True)
    body = client.get(f"/api/v1/reports/{rid}", headers=tokens["dispatcher"]).get_json()
    assert body["state"] == "reopened" and body["history"][-1]["note"] == "垃圾又堆起来了" and len(body["history"][-1]["evidence"]) == 1
    signed_in(app, client, "dispatcher")
    assert queue_ids(client, "reopened") == {rid}
    assert client.get("/api/v1/public/reports").get_json()["items"] == []  # off the public board until published again
    assert act(client, rid, "rework", note="群众反映未整改到位").status_code == 303
    figures = client.get("/api/v1/units/P06", headers=tokens["unit_a"]).get_json()["figures"]
    assert (figures["rework_rate"], figures["fixed"]) == (1.0, 0)  # counted in 返工率; no longer fixed
    assert client.post(move, json={"action": "reopen"}, headers=tokens["dispatcher"]).status_code == 403  # a reporter's, not staff's
    monkeypatch.setattr("api.reports.citizen_pages.now", lambda: now() + timedelta(days=30))
    late = client.get(f"/r/{ref}").get_data(as_text=True)
    assert "整改不满意？" not in late


def test_a_dispatcher_acts_on_many_reports_at_once(app, client, tokens):
    ids = [submit(client, tokens["public"], {**REPORT, "client_ref": f"b{i}"}).get_json()["id"] for i in range(3)]
    outside = submit(client, tokens["public"], {**REPORT, "lon": 121.2, "lat": 36.9, "client_ref": "far"}).get_json()["id"]
    signed_in(app, client, "dispatcher")
    page = client.get("/console/dispatch?state=dispatched").get_data(as_text=True)
    assert f'name="report_id" value="{ids[0]}" form="bulk"' in page
    back = "/console/dispatch?state=dispatched"
    done = client.post("/console/dispatch/bulk", data={"csrf_token": csrf(page), "action": "escalate", "note": "集中督办", "back": back,
                                                         "report_id": [str(ids[0]), str(ids[1]), str(outside)]})
    assert done.status_code == 303 and done.headers["Location"] == back
    shown = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "已执行：督办 2 件" in shown and f"{outside}（已受理）" in shown  # the one that cannot be escalated is named
    assert [state(app, i)[0] for i in ids] == ["escalated", "escalated", "dispatched"]
    moved = client.post("/console/dispatch/bulk", data={"csrf_token": csrf(page), "action": "reassign", "unit_id": "HW01", "back": "//evil.example",
                                                          "report_id": [str(ids[1]), str(ids[2])]})
    assert moved.headers["Location"] == "/console/dispatch"  # never off the site
    assert [state(app, i) for i in ids[1:]] == [("dispatched", "HW01"), ("dispatched", "HW01")]
    assert client.post("/console/dispatch/bulk", data={"csrf_token": csrf(page), "action": "reassign", "report_id": [str(ids[0])]}).status_code == 303
    assert state(app, ids[0]) == ("escalated", "P06")  # a reassignment without a unit does nothing


def test_kept_replies_are_edited_by_dispatchers_and_offered_beside_notes(app, client, tokens):
    report_id = submit(client, tokens["public"]).get_json()["id"]
    dispatcher = signed_in(app, app.test_client(), "dispatcher")
    page = dispatcher.get("/console/replies").get_data(as_text=True)
    assert "不属于城市管理事项" in page  # the starters
    token = csrf(page)
    kept = dispatcher.post("/console/replies", data={"csrf_token": token, "action": "reject", "text": "  已由12345热线 转办 "})
    assert kept.status_code == 303
    again = dispatcher.post("/console/replies", data={"csrf_token": token, "action": "reject", "text": "已由12345热线 转办"})
    assert again.status_code == 422 and "已保存过" in again.get_data(as_text=True)
    assert dispatcher.post("/console/replies", data={"csrf_token": token, "action": "nonsense", "text": "x"}).status_code == 422
    # The report page offers the action's replies beside its note; a chosen one comes before what is typed.
    report_page = dispatcher.get(f"/console/reports/{report_id}").get_data(as_text=True)
    offered = dict((text, rid) for rid, text in re.findall(r'<option value="(\d+)">([^<]+)</option>', report_page))
    assert "已由12345热线 转办" in offered and 'id="reply-reject"' in report_page
    assert act(dispatcher, report_id, "reject", reply=offered["已由12345热线 转办"], note="市民已知悉").status_code == 303
    with app.extensions["zonemap.db"].session() as session:
        notes = session.scalars(sa.select(Transition.note).where(Transition.report_id == report_id, Transition.action == "reject")).all()
    assert notes == ["已由12345热线 转办；市民已知悉"]
    # A reply alone is a note; one kept for another action is not used.
    other = submit(client, tokens["public"], {**REPORT, "client_ref": "other"}).get_json()["id"]
    rework_reply = re.search(r'<span>整改不彻底[^<]*</span>\s*<form class="inline" method="post" action="/console/replies/(\d+)/delete"',
                             dispatcher.get("/console/replies").get_data(as_text=True)).group(1)
    assert act(dispatcher, other, "reject", reply=rework_reply).status_code == 422
    assert act(dispatcher, other, "reject", reply=offered["位置不在本区范围内"]).status_code == 303
    # Removed, it is no longer offered.
    page = dispatcher.get("/console/replies").get_data(as_text=True)
    assert dispatcher.post(f"/console/replies/{offered['已由12345热线 转办']}/delete", data={"csrf_token": csrf(page)}).status_code == 303
    third = submit(client, tokens["public"], {**REPORT, "client_ref": "third"}).get_json()["id"]
    offered_now = dispatcher.get(f"/console/reports/{third}").get_data(as_text=True)
    assert "位置不在本区范围内" in offered_now and "已由12345热线 转办" not in offered_now
