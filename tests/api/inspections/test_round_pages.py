"""The assessment centre's pages without a browser: checklists published from a page (a bad row
named in Chinese), a round made from the form, its workbook."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.support.pages import csrf, signed_in

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
    dispatcher = signed_in(app, app.test_client(), "dispatcher")
    page = dispatcher.get("/console/rounds").get_data(as_text=True)
    form = {"csrf_token": csrf(page), "name": "公厕抽查", "level": "spot_check", "first_day": "2026-12-07", "last_day": "2026-12-08", "types": ["toilet"],
            "sample": "5", "seed": "3", "inspectors": "qian，sun"}
    made = dispatcher.post("/console/rounds", data=form)
    assert made.status_code == 303
    round_page = dispatcher.get(made.headers["Location"]).get_data(as_text=True)
    assert "公厕抽查" in round_page and "0 / 5" in round_page and "qian" in round_page and "sun" in round_page
    listed = dispatcher.get("/console/rounds").get_data(as_text=True)
    assert "公厕抽查" in listed and "0 / 5" in listed  # each round's progress and score rate, newest first: the trend from round to round
    book = load_workbook(io.BytesIO(dispatcher.get(made.headers["Location"] + "/bulletin.xlsx").get_data()))
    assert book.sheetnames[0] == "概要" and book["点位明细"].max_row == 2 + 5
    assert dispatcher.post("/console/rounds", data={**form, "last_day": "2026-12-01"}).status_code == 422
