"""The consoles in a real browser (Debian's Chromium through Playwright; requests off the server
aborted and counted, no console error allowed; screenshots kept): every transition of the
workflow performed from a page by the role allowed to, on a phone or a desktop."""

from __future__ import annotations

import time

import pytest

from tests.api.reports.test_reports import LON, REPORT
from tests.api.web.test_pages import jpeg
from tests.support.browser import DESKTOP, PHONE, another_context, browser_context, screenshot, sign_in

pytestmark = pytest.mark.slow
P06 = "青岛金海物业服务有限公司"


def open_action(page, action: str):
    """The action's section of the report page, opened; its form."""
    section = page.locator(f"#act-{action}")
    if section.get_attribute("open") is None:
        section.locator("summary").click()
    return section.locator("form")


def test_a_unit_rectifies_from_its_phone_and_a_dispatcher_verifies_and_publishes_it(site):
    report = site.report({**REPORT, "lon": LON + 0.00015, "description": "花坛边的垃圾"})
    with browser_context(site.base, PHONE) as (context, watch):
        page = watch.page(context)
        sign_in(page, site.base, "jin")
        assert page.url == site.base + "/console/unit"
        started = time.perf_counter()
        page.get_by_role("link", name=f"{report['id']} · 垃圾杂物乱堆乱放").click()
        page.wait_for_function("() => document.getElementById('report-map').dataset.zones !== undefined")
        screenshot(page, "unit-report-phone")
        form = open_action(page, "rectify")
        form.locator("input[name=photos]").first.set_input_files(files=[{"name": "fixed.jpg", "mimeType": "image/jpeg", "buffer": jpeg((40, 160, 60))}])
        form.get_by_label("说明（可不填）").fill("已清理干净")
        form.get_by_role("button", name="整改完成").click()
        page.wait_for_url(site.base + "/console/unit")
        print(f"unit: opening the report to rectifying it with a photo: 4 clicks and a note, {time.perf_counter() - started:.1f} s "
              "(the screenshot included)")
        assert "已执行：整改完成" in page.locator(".flashes").inner_text()
        screenshot(page, "unit-rectified-phone")
        watch.clean()
    assert site.state(report["id"]) == ("rectified", "P06")
    with browser_context(site.base, DESKTOP) as (context, watch):
        page = watch.page(context)
        sign_in(page, site.base, "wang")
        page.get_by_role("link", name="待核查").click()
        started, clicks = time.perf_counter(), 0
        page.locator(f"a[href='/console/reports/{report['id']}']").first.click()
        clicks += 1
        page.wait_for_function("() => document.getElementById('report-map').dataset.zones !== undefined")
        assert "已清理干净" in page.locator(".timeline").inner_text()
        open_action(page, "verify").get_by_role("button", name="核查通过").click()
        clicks += 2
        page.wait_for_load_state()
        form = open_action(page, "publish")
        assert form.locator("input[name=public_photos]:checked").count() == 1  # the fix's photo, checked; the reporter's has none
        screenshot(page, "dispatcher-publish-desktop")
        form.get_by_role("button", name="公开晾晒").click()
        clicks += 2
        page.wait_for_load_state()
        seconds = time.perf_counter() - started
        assert "已公开" in page.locator("h1").inner_text()
        print(f"dispatcher: opening the report to publishing it: {clicks} clicks, {seconds:.1f} s")
        page.goto(f"{site.base}/public/{report['public_ref']}")
        image = page.locator("figure", has_text="整改后").locator("img")
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        screenshot(page, "published-from-console-desktop")
        watch.clean()
    assert site.state(report["id"])[0] == "published"


def test_a_dispute_reaches_the_queue_and_is_reassigned_through_the_picker(site):
    report = site.report({**REPORT, "lon": LON + 0.0003, "accuracy_m": 40})
    with browser_context(site.base, PHONE) as (context, watch):
        page = watch.page(context)
        sign_in(page, site.base, "jin")
        page.goto(f"{site.base}/console/reports/{report['id']}")
        form = open_action(page, "dispute")
        form.get_by_label("异议原因").select_option("not_our_zone")
        form.get_by_label("说明（可不填）").fill("这段归环卫公司")
        form.get_by_role("button", name="提出异议").click()
        page.wait_for_url(site.base + "/console/unit")
        watch.clean()
    with browser_context(site.base, DESKTOP) as (context, watch):
        page = watch.page(context)
        sign_in(page, site.base, "wang")
        page.get_by_role("link", name="单位有异议").click()
        row = page.locator("tr", has=page.locator(f"a[href='/console/reports/{report['id']}']"))
        assert "不是本单位责任区：这段归环卫公司" in row.inner_text()  # the unit's note, not the router's reason
        row.get_by_role("link").first.click()
        form = open_action(page, "reassign")
        form.locator("select[name=unit_id]").evaluate("select => select.add(new Option('X99', 'X99'))")  # a forged choice
        form.locator("select[name=unit_id]").select_option("X99")
        form.get_by_role("button", name="改派").click()
        page.wait_for_load_state()
        assert "X99 不是当前责任区图层中的单位" in page.locator(".alert").inner_text()
        screenshot(page, "reassign-refused-desktop")
        form = open_action(page, "reassign")
        candidates = form.locator("optgroup[label='候选及共同责任单位'] option")
        chosen = next(value for value in candidates.evaluate_all("options => options.map(o => o.value)") if value != "P06")
        form.locator("select[name=unit_id]").select_option(chosen)
        form.get_by_role("button", name="改派").click()
        page.wait_for_load_state()
        assert "已执行：改派" in page.locator(".flashes").inner_text()
        page.get_by_role("link", name="调度台").first.click()
        page.get_by_role("link", name="单位有异议").click()
        assert page.locator(f"a[href='/console/reports/{report['id']}']").count() == 0  # gone from the queue
        watch.expect_status(422)
        watch.clean()
    assert site.state(report["id"]) == ("dispatched", chosen)


def test_two_dispatchers_act_at_once_one_wins_and_the_other_is_told(site):
    report = site.rectified({**REPORT, "lon": LON - 0.0001, "client_ref": "twice"}, jpeg((20, 140, 40)))
    with browser_context(site.base, DESKTOP) as (first, watch_first):
        second, watch_second = another_context(first, site.base, DESKTOP)
        wang, zhao = watch_first.page(first), watch_second.page(second)
        sign_in(wang, site.base, "wang")
        sign_in(zhao, site.base, "zhao")
        for page in (wang, zhao):
            page.goto(f"{site.base}/console/reports/{report['id']}")
        open_action(wang, "verify").get_by_role("button", name="核查通过").click()
        wang.wait_for_load_state()
        form = open_action(zhao, "rework")
        form.get_by_label("还有什么没整改好（必填）").fill("垃圾桶还是满的")
        form.get_by_role("button", name="退回重新整改").click()
        zhao.wait_for_load_state()
        assert "这件问题刚被其他人处理过" in zhao.locator(".flashes").inner_text()
        assert "已核查" in zhao.locator("h1").inner_text()  # the page shows what the other did
        screenshot(zhao, "changed-meanwhile-desktop")
        second.close()
        watch_first.clean()
        watch_second.clean()
    assert site.state(report["id"])[0] == "verified"


def test_a_unit_cannot_open_another_units_report(site):
    report = site.report({**REPORT, "lon": LON + 0.0005, "client_ref": "not-hw"})
    with browser_context(site.base, PHONE) as (context, watch):
        page = watch.page(context)
        sign_in(page, site.base, "hw")
        response = page.goto(f"{site.base}/console/reports/{report['id']}")
        assert response.status == 403 and "无权访问" in page.locator("main").inner_text()
        watch.expect_status(403)
        watch.clean()


def test_the_dispatchers_other_actions_from_the_report_page(site):
    ambiguous = site.report({**REPORT, "lon": LON + 0.0007, "accuracy_m": 80})
    outside = site.report({**REPORT, "lon": 121.2, "lat": 36.9, "client_ref": "outside"})
    late = site.report({**REPORT, "lon": LON + 0.0009, "client_ref": "late"})
    junk = site.report({**REPORT, "lon": LON + 0.0011, "client_ref": "junk"})
    twin = site.report({**REPORT, "lon": LON + 0.00112, "client_ref": "twin"})
    redo = site.rectified({**REPORT, "lon": LON - 0.00015, "client_ref": "redo"}, jpeg((30, 130, 50)))
    with browser_context(site.base, DESKTOP) as (context, watch):
        page = watch.page(context)
        sign_in(page, site.base, "wang")
        steps = [
            (ambiguous, "confirm", {}),
            (outside, "dispatch", {"select[name=unit_id]": "JD01", "textarea": "区外上报，转城阳街道"}),
            (late, "escalate", {"textarea": "请立即整改"}),
            (twin, "mark_duplicate", {"select[name=duplicate_of]": str(junk["id"]), "textarea": "同一处垃圾"}),  # offered while junk is open
            (junk, "reject", {"select[name=reply]": "位置不在本区范围内"}),  # a kept reply fills the note
            (redo, "rework", {"textarea": "照片看不清"}),
        ]
        for report, action, fields in steps:
            page.goto(f"{site.base}/console/reports/{report['id']}")
            form = open_action(page, action)
            for selector, value in fields.items():
                field = form.locator(selector)
                if selector == "select[name=reply]":
                    field.select_option(label=value)
                    assert form.locator("textarea").input_value() == value and field.input_value() == ""
                else:
                    field.select_option(value) if selector.startswith("select") else field.fill(value)
            form.locator("button[type=submit]").click()
            page.wait_for_load_state()
            assert "已执行" in page.locator(".flashes").inner_text(), action
            if note := fields.get("select[name=reply]", fields.get("textarea")):
                assert page.locator(".timeline li").last.inner_text().count(note) == 1, action
        screenshot(page, "dispatcher-actions-desktop")
        watch.clean()
    assert [site.state(r["id"]) for r in (ambiguous, outside, late, junk, twin, redo)] == [
        ("dispatched", ambiguous["unit_id"]), ("dispatched", "JD01"), ("escalated", late["unit_id"]), ("rejected", junk["unit_id"]),
        ("duplicate", twin["unit_id"]), ("rework", "P06")]
