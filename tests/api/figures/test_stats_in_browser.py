"""The figures in a real browser (Debian's Chromium; requests off the server aborted and counted,
no console error allowed; screenshots kept): a leader answers "which unit is slowest this month"
on a phone and on a desk, and takes the bulletin away as a workbook."""

from __future__ import annotations

import io

import openpyxl
import pytest

from tests.api.reports.test_reports import LON, REPORT
from tests.support.browser import DESKTOP, PHONE, browser_context, screenshot, sign_in
from tests.support.server import call

pytestmark = pytest.mark.slow


def _fixed(site, count: int, *, at: float) -> None:
    """``count`` reports at P06's spot, rectified and verified through the API."""
    for n in range(count):
        report = site.report({**REPORT, "lon": LON + at + n * 1e-5, "description": f"统计{n}"})
        move = f"{site.base}/api/v1/reports/{report['id']}/transitions"
        assert call("POST", move, {"action": "rectify"}, site.unit)[0] == 200
        assert call("POST", move, {"action": "verify"}, site.dispatcher)[0] == 200


def test_a_leader_finds_the_slowest_unit_on_a_phone_and_a_desk(site):
    _fixed(site, 6, at=0.0002)
    site.report({**REPORT, "lon": 120.3706, "lat": 36.3046, "description": "另一单位的"})  # somewhere else, still open
    with browser_context(site.base, PHONE) as (context, watch):
        page = watch.page(context)
        sign_in(page, site.base, "zhou")
        assert page.url.endswith("/console/stats")
        assert "统计与排名" in page.locator("h1").inner_text() and "已受理" in page.locator(".figures").inner_text()
        page.get_by_role("link", name="整改最慢").click()
        page.locator("#stats-chart canvas").wait_for()
        first = page.locator("table.figures-table tbody tr").first.inner_text()
        assert "青岛金海物业服务有限公司（P06）" in first, first
        screenshot(page, "stats-slowest-phone")
        watch.clean()
    with browser_context(site.base, DESKTOP, accept_downloads=True) as (context, watch):
        page = watch.page(context)
        sign_in(page, site.base, "zhou")
        page.locator("#stats-chart canvas").wait_for()
        assert page.locator("table.figures-table tbody tr").count() >= 1 and page.locator("details.idle summary").count() == 1
        screenshot(page, "stats-desktop")
        with page.expect_download() as download:
            page.get_by_role("link", name="通报（Excel）").click()
        book = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
        assert book.sheetnames[1:] == ["单位", "街道", "整治类别", "国标事项大类", "问题来源（4+1）"] and "通报" in book["单位"]["A1"].value
        page.get_by_role("link", name="通报（可打印）").click()
        assert "本期共受理问题" in page.locator("main").inner_text()
        screenshot(page, "bulletin-desktop")
        assert page.goto(site.base + "/console/dispatch").status == 403
        watch.expect_status(403)
        watch.clean()
