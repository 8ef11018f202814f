"""The assessment centre's pages without a browser: checklists published from a page (a bad row
named in Chinese), a round made from the form, its points given to inspectors, its workbook, the
weekly scoring."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa
from openpyxl import load_workbook

from api.persistence.models import RoundPoint
from tests.support.pages import account, csrf, signed_in

BAD = "point_type,code,text,kind,minimum,weight,category,owner\nmarket,M01,公益广告,count,,4,civic_posters,adopter\n"
GOOD = "point_type,code,text,kind,minimum,weight,category,owner,clause\ntoilet,T01,地面清洁,present,,4,toilet_fault,adopter,第1条\n"


def test_checklists_are_published_from_their_page(app):
    planner = signed_in(app, app.test_client(), "planner")
    page = planner.get("/console/rounds/checklists").get_data(as_text=True)
    assert "公益广告不少于5处" in page and "农贸市场" in page
    refused = planner.post("/console/rounds/checklists", data={"csrf_token": csrf(page), "checklists": (io.BytesIO(BAD.encode()), "c.csv")},
                           content_type="multipart/form-data")
    assert refused.status_code == 422 and "第 1 行" in refused.get_data(as_text=True) and "minimum" in refused.get_data(as_text=True)
    made = planner.post("/console/rounds/checklists", data={"csrf_token": csrf(page), "checklists": (io.BytesIO(GOOD.encode("gbk")), "c.csv"),
                                                            "note": "只查公厕"}, content_type="multipart/form-data")
    assert made.status_code == 303
    assert "地面清洁" in planner.get("/console/rounds/checklists").get_data(as_text=True)
    leader = signed_in(app, app.test_client(), "leader")
    assert "发布新的测评细则" not in leader.get("/console/rounds/checklists").get_data(as_text=True)


def test_a_round_from_the_form_and_its_workbook(app):
    account(app, "qian", "inspector")
    account(app, "sun", "inspector")
    dispatcher = signed_in(app, app.test_client(), "dispatcher")
    page = dispatcher.get("/console/rounds").get_data(as_text=True)
    form = {"csrf_token": csrf(page), "name": "公厕抽查", "level": "spot_check", "first_day": "2026-12-07", "last_day": "2026-12-08", "types": ["toilet"],
            "sample": "5", "seed": "3", "inspectors": ["qian", "sun"]}
    made = dispatcher.post("/console/rounds", data=form)
    assert made.status_code == 303
    round_page = dispatcher.get(made.headers["Location"]).get_data(as_text=True)
    assert "公厕抽查" in round_page and "0 / 5" in round_page and "qian" in round_page and "sun" in round_page
    listed = dispatcher.get("/console/rounds").get_data(as_text=True)
    assert "公厕抽查" in listed and "0 / 5" in listed  # each round's progress and score rate, newest first: the trend from round to round
    book = load_workbook(io.BytesIO(dispatcher.get(made.headers["Location"] + "/bulletin.xlsx").get_data()))
    assert book.sheetnames[0] == "概要" and book["点位明细"].max_row == 2 + 5
    assert dispatcher.post("/console/rounds", data={**form, "last_day": "2026-12-01"}).status_code == 422
    assert dispatcher.post("/console/rounds", data={**form, "inspectors": ["ghost"]}).status_code == 422  # only the inspectors offered


def test_points_are_given_from_the_round_page(app):
    account(app, "qian", "inspector")
    dispatcher = signed_in(app, app.test_client(), "dispatcher")
    page = dispatcher.get("/console/rounds").get_data(as_text=True)
    made = dispatcher.post("/console/rounds", data={"csrf_token": csrf(page), "name": "市场与公厕", "level": "inspection", "first_day": "2026-12-07",
                                                    "last_day": "2026-12-13", "types": ["toilet", "market"], "sample": "6", "seed": "5"})
    url = made.headers["Location"]
    page = dispatcher.get(url).get_data(as_text=True)
    ticks = re.findall(r'name="point" value="([^"]+)"', page)
    assert len(ticks) == 6 and '<option value="qian">qian</option>' in page
    given = dispatcher.post(f"{url}/assign", data={"csrf_token": csrf(page), "inspector": "qian", "point": ticks[:2], "point_type": ""})
    assert given.status_code == 303 and given.headers["Location"].endswith("#points")
    page = dispatcher.get(url).get_data(as_text=True)
    assert "已将 2 个点位交给 qian" in page and page.count("<td>qian</td>") == 2
    by_type = dispatcher.post(f"{url}/assign", data={"csrf_token": csrf(page), "inspector": "qian", "point_type": "toilet"})
    assert by_type.status_code == 303
    round_id = int(url.rsplit("/", 1)[1])
    with app.extensions["zonemap.db"].session() as session:
        chosen = session.scalars(sa.select(RoundPoint).where(RoundPoint.round_id == round_id)).all()
    assert {p.inspector for p in chosen if p.point_type == "toilet"} == {"qian"}
    assert {p.point_id for p in chosen if p.inspector == "qian"} == {p.point_id for p in chosen if p.point_type == "toilet"} | set(ticks[:2])
    nothing = dispatcher.post(f"{url}/assign", data={"csrf_token": csrf(page), "inspector": "", "point_type": ""})
    assert "请勾选要交出的点位" in dispatcher.get(nothing.headers["Location"]).get_data(as_text=True)
    assert dispatcher.post(f"{url}/assign", data={"inspector": "qian", "point": ticks[:1]}).status_code == 400  # no form token
    leader = signed_in(app, app.test_client(), "leader")
    seen = leader.get(url).get_data(as_text=True)
    assert 'name="point"' not in seen
    assert leader.post(f"{url}/assign", data={"csrf_token": csrf(seen), "inspector": "qian", "point": ticks[:1]}).status_code == 403


def test_the_weekly_scoring_page(app):
    leader = signed_in(app, app.test_client(), "leader")
    assert "每周评分" in leader.get("/console/rounds").get_data(as_text=True)
    page = leader.get("/console/rounds/trend?by=area&every=week&count=4").get_data(as_text=True)
    assert "每周评分" in page and "全区" in page and page.count("<th title=") == 4
    assert leader.get("/console/rounds/trend?by=nope").status_code == 400
    assert leader.get("/console/rounds/trend?count=99").status_code == 400
    unit = signed_in(app, app.test_client(), "unit", "P06")
    assert unit.get("/console/rounds/trend").status_code == 403
