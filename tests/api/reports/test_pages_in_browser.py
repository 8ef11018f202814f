"""The pages in a real browser (Debian's Chromium through Playwright), on a phone and a desktop,
against the real server: every request not to it is aborted and counted, no console error is
allowed, and every screen is saved as a test artifact (``test-artifacts/``)."""

from __future__ import annotations

import os
import re

import pytest

from tests.api.reports.test_reports import LAT, LON, REPORT
from tests.api.web.test_pages import jpeg
from tests.support.browser import DESKTOP, PHONE, browser_context, screenshot, sign_in
from tests.support.server import call

pytestmark = pytest.mark.slow
P06 = "青岛金海物业服务有限公司"  # who takes litter at LON, LAT


def test_citizen_reports_from_a_phone_and_follows_it(site):
    with browser_context(site.base, PHONE, geolocation={"latitude": LAT, "longitude": LON, "accuracy": 9}, permissions=["geolocation"]) as (context, watch):
        page = watch.page(context)
        page.goto(site.base + "/report")
        assert page.evaluate("() => document.documentElement.clientWidth") == 390  # laid out for the phone, not at 980 px
        page.get_by_role("button", name="使用我的位置").click()
        page.get_by_text("已定位，误差约 9 米").wait_for()
        page.get_by_label("问题类别").select_option("litter")
        page.locator("#check .who").get_by_text(P06).wait_for()  # the unit the router picks, before sending
        page.wait_for_function("() => { const r = document.querySelector('#check .who').getBoundingClientRect(); "
                               "return r.top >= 0 && r.bottom <= window.innerHeight; }")  # brought into view on the phone, no scrolling by hand
        photo = page.locator("input[name=photos]").first
        photo.set_input_files(files=[{"name": "problem.jpg", "mimeType": "image/jpeg", "buffer": jpeg(size=(4000, 3000), note="GPS")}])
        page.wait_for_function("input => input.dataset.bytes !== undefined", arg=photo.element_handle())
        sent = photo.evaluate("async input => { const b = await createImageBitmap(input.files[0]); return [b.width, b.height]; }")
        assert sent == [2560, 1920]  # scaled on the phone to what the service keeps: less to send over a mobile link
        page.get_by_label("补充说明（可不填）").fill("路口垃圾堆了两天")
        page.get_by_label("联系电话（可不填）").fill("13912345678")
        screenshot(page, "citizen-form-phone")
        page.get_by_role("button", name="提交").click()
        page.wait_for_url(re.compile(r"/r/[0-9A-Z-]{14}\?new=1$"))
        receipt = page.locator("main").inner_text()
        assert "您的反映已收到" in receipt and P06 in receipt and "已派单" in receipt
        ref = page.locator(".ref code").inner_text()
        screenshot(page, "citizen-receipt-phone")
        page.get_by_role("link", name=f"/r/{ref}").click()
        page.wait_for_url(f"{site.base}/r/{ref}")
        followed = page.locator("main").inner_text()
        assert "当前状态" in followed and "13912345678" not in followed and "路口垃圾" not in followed
        watch.clean()
    _, stored = call("GET", f"{site.base}/api/v1/reports?limit=500", token=site.dispatcher)
    [mine] = [r for r in stored["items"] if r["public_ref"] == ref]
    assert (mine["lon"], mine["lat"], mine["accuracy_m"], mine["unit_id"]) == (pytest.approx(LON), pytest.approx(LAT), 9.0, "P06")


def test_a_citizen_without_gps_finds_the_street_by_its_pinyin(site):
    with browser_context(site.base, PHONE) as (context, watch):
        page = watch.page(context)
        page.goto(site.base + "/report")
        page.get_by_label("查找道路或地点").fill("zyj")  # 正阳街, typed as its pinyin initials
        first = page.locator("#place-results a.place").first
        first.wait_for()
        assert first.inner_text() == "正阳街"
        first.click()
        assert page.url == site.base + "/report"  # the pin moved; the page stayed
        lon, lat = float(page.locator("#lon").input_value()), float(page.locator("#lat").input_value())
        assert (lon, lat) == (float(first.get_attribute("data-lon")), float(first.get_attribute("data-lat")))
        assert page.locator("#accuracy_m").input_value() == ""  # a place is not a GPS fix
        page.get_by_label("问题类别").select_option("litter")
        page.locator("#check .who").wait_for()
        screenshot(page, "citizen-place-search-phone")
        watch.clean()


def test_a_second_citizen_joins_the_open_report_nearby_with_a_plus_one(site):
    status, first = call("POST", site.base + "/api/v1/reports", {**REPORT, "lon": LON + 0.0002, "category": "overflowing_bin"}, site.dispatcher)
    assert status == 201
    before = site.stored()
    with browser_context(site.base, PHONE, geolocation={"latitude": LAT, "longitude": LON + 0.0002, "accuracy": 15},
                         permissions=["geolocation"]) as (context, watch):
        page = watch.page(context)
        page.goto(site.base + "/report")
        page.get_by_label("问题类别").select_option("overflowing_bin")
        page.get_by_role("button", name="使用我的位置").click()
        page.get_by_role("heading", name="附近已有人反映").wait_for()
        screenshot(page, "citizen-nearby-phone")
        page.get_by_role("button", name="+1：是同一个问题").click()
        page.wait_for_url(f"{site.base}/r/{first['public_ref']}?joined=1")
        assert "现在共有 2 人反映" in page.locator("main").inner_text()
        watch.clean()
    assert site.stored() == (before[0], before[1], before[2] + 1)  # a +1, not a new report


def test_dispatcher_signs_in_and_lands_on_the_dispatch_console(site):
    call("POST", site.base + "/api/v1/reports", {**REPORT, "accuracy_m": 80}, site.dispatcher)  # ambiguous: in a queue
    with browser_context(site.base, DESKTOP) as (context, watch):
        page = watch.page(context)
        page.goto(site.base + "/")
        page.get_by_role("link", name="工作人员登录").first.click()
        sign_in(page, site.base, "wang")
        assert page.url == site.base + "/console/dispatch"
        assert page.get_by_role("heading", name="调度台").is_visible()
        screenshot(page, "dispatcher-console-desktop")
        watch.clean()


def test_a_unit_account_cannot_open_the_dispatch_console(site):
    with browser_context(site.base, PHONE) as (context, watch):
        page = watch.page(context)
        sign_in(page, site.base, "hw")
        assert page.url == site.base + "/console/unit"
        assert "城阳环卫服务有限公司（HW01）" in page.locator("h1").inner_text()
        screenshot(page, "unit-console-phone")
        response = page.goto(site.base + "/console/dispatch")
        assert response.status == 403 and response.headers["content-type"].startswith("text/html")
        assert "无权访问" in page.locator("main").inner_text()
        screenshot(page, "unit-dispatch-403-phone")
        watch.expect_status(403)
        watch.clean()


def test_a_published_case_appears_on_the_public_board_with_its_photos(site):
    report = site.publish({**REPORT, "lon": LON + 0.0004, "category": "illegal_ads"}, jpeg((190, 40, 40)), jpeg((40, 170, 70)))
    for name, kind in (("phone", PHONE), ("desktop", DESKTOP)):
        with browser_context(site.base, kind) as (context, watch):
            page = watch.page(context)
            page.goto(site.base + "/public")
            case = page.locator("li.case", has=page.locator(f"a[href='/public/{report['public_ref']}']"))
            case.wait_for()
            images = case.locator("img")
            assert images.count() == 2
            images.last.scroll_into_view_if_needed()
            page.wait_for_function("els => els.every(img => img.complete && img.naturalWidth > 0)", arg=images.element_handles())
            assert "乱贴乱画小广告" in case.inner_text() and P06 in case.inner_text()
            page.wait_for_function("() => Number(document.getElementById('points-map').dataset.markers) > 0")
            screenshot(page, f"public-board-{name}")
            case.get_by_role("link", name="乱贴乱画小广告").click()
            page.wait_for_url(f"{site.base}/public/{report['public_ref']}")
            assert "13800000000" not in page.content() and "垃圾堆放" not in page.content()
            screenshot(page, f"public-case-{name}")
            watch.clean()


MARKERS = """() => {
    // Report markers on a Folium map: circle markers inside the marker clusters, or on the map.
    let count = 0;
    for (const value of Object.values(window)) {
        if (value instanceof L.MarkerClusterGroup) count += value.getLayers().length;
    }
    return count;
}"""


FRAME = """() => {
    // What frames a map: its scale bars, its attribution, and names that overlap each other or a cluster's count.
    const labels = [...document.querySelectorAll('.zm-label')].map(e => e.getBoundingClientRect()).filter(r => r.width > 0);
    const clusters = [...document.querySelectorAll('.marker-cluster')].map(e => e.getBoundingClientRect());
    const hit = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
    let piled = 0;
    labels.forEach((a, i) => { labels.slice(i + 1).forEach(b => { piled += hit(a, b); }); clusters.forEach(c => { piled += hit(a, c); }); });
    const attribution = document.querySelector('.leaflet-control-attribution');
    return {labels: labels.length, piled: piled, scales: [...document.querySelectorAll('.leaflet-control-scale-line')].map(e => e.textContent),
            attribution: attribution.textContent, flag: attribution.querySelector('svg') !== null};
}"""


def test_every_map_draws_its_markers(site):
    site.publish({**REPORT, "lon": LON - 0.0004, "category": "illegal_ads"}, jpeg(), jpeg((50, 150, 50)))
    assert call("POST", site.base + "/api/v1/reports", {**REPORT, "lon": LON - 0.0002}, site.dispatcher)[0] == 201  # open, at P06
    _, listed = call("GET", f"{site.base}/api/v1/reports?limit=500", token=site.dispatcher)
    reports = listed["items"]
    published = sum(r["state"] == "published" for r in reports)
    open_p06 = sum(r["unit_id"] == "P06" and r["state"] in ("dispatched", "rework", "escalated") for r in reports)
    assert published >= 1 and open_p06 >= 1
    with browser_context(site.base, DESKTOP) as (context, watch):
        page = watch.page(context)
        sign_in(page, site.base, "wang")
        counts = {}
        for path, expected in (("/maps/public", published), ("/maps/reports", len(reports)), ("/maps/units/P06", open_p06)):
            page.goto(site.base + path)
            page.wait_for_function("() => typeof L !== 'undefined' && L.MarkerClusterGroup !== undefined")
            counts[path] = page.evaluate(MARKERS)
            assert counts[path] == expected, (path, counts[path], expected)
            assert page.evaluate("() => document.querySelectorAll('.zm-label').length") > 0  # the orientation layer's names
            if path != "/maps/reports":  # (its heat map, drawn again, makes Chromium warn about canvas readbacks)
                page.evaluate(f"() => Object.values(window).find(v => v instanceof L.Map).setView([{LAT}, {LON}], 16)")  # names crowd a close view
                page.wait_for_timeout(400)
            frame = page.evaluate(FRAME)
            assert frame["labels"] > 5 and frame["piled"] == 0, (path, frame)
            assert len(frame["scales"]) == 1 and re.fullmatch(r"\d+ k?m", frame["scales"][0]), frame  # metric only
            assert frame["attribution"].startswith("Leaflet") and "OpenStreetMap" in frame["attribution"] and not frame["flag"], frame
            screenshot(page, "map" + path.replace("/", "-"))
        page.goto(site.base + "/public")
        page.wait_for_function("() => document.getElementById('points-map').dataset.markers !== undefined")
        assert int(page.get_attribute("#points-map", "data-markers")) == published
        page.goto(site.base + "/maps/coverage")
        page.wait_for_function("() => typeof L !== 'undefined' && document.querySelectorAll('canvas').length > 0", timeout=120_000)
        zones = page.evaluate("() => Math.max(...Object.values(window).filter(v => v instanceof L.GeoJSON).map(v => v.getLayers().length))")
        assert zones > 5000
        watch.clean()


def test_wrong_password_missing_form_token_and_oversized_photo_get_clear_pages_in_chinese(site):
    before = site.stored()
    with browser_context(site.base, PHONE) as (context, watch):
        page = watch.page(context)
        sign_in(page, site.base, "wang", "not the password")
        assert page.url.startswith(site.base + "/login")
        assert "用户名或密码错误" in page.locator("main").inner_text()
        screenshot(page, "wrong-password-phone")

        page.goto(site.base + "/report")
        page.evaluate("() => document.querySelector('input[name=csrf_token]').remove()")  # as a forged or stale form arrives
        page.locator("#lon").fill(str(LON))
        page.locator("#lat").fill(str(LAT))
        page.get_by_label("问题类别").select_option("litter")
        page.locator("input[name=photos]").first.set_input_files(files=[{"name": "p.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}])
        with page.expect_response(lambda r: r.url == site.base + "/report" and r.request.method == "POST") as sent:
            page.get_by_role("button", name="提交").click()
        assert sent.value.status == 400
        assert "表单已失效" in page.locator("h1").inner_text() and "内容没有保存" in page.locator("main").inner_text()
        screenshot(page, "missing-form-token-phone")

        page.goto(site.base + "/report")
        photo = page.locator("input[name=photos]").first
        photo.set_input_files(files=[{"name": "big.jpg", "mimeType": "image/jpeg", "buffer": os.urandom(11 * 1024 * 1024)}])  # nothing it can scale
        page.wait_for_function("input => input.dataset.bytes !== undefined", arg=photo.element_handle())
        assert photo.evaluate("input => input.validationMessage") == "这张照片超过 10 MB。"  # refused before it is sent
        big = jpeg(size=(800, 600)) + b"\0" * (10 * 1024 * 1024)
        watch.expect_status(400)
        watch.clean()
    with browser_context(site.base, PHONE, java_script_enabled=False) as (context, watch):  # the plain form: the server refuses it
        page = watch.page(context)
        page.goto(site.base + "/report")
        page.locator("#lon").fill(str(LON))
        page.locator("#lat").fill(str(LAT))
        page.get_by_label("问题类别").select_option("litter")
        page.locator("input[name=photos]").first.set_input_files(files=[{"name": "big.jpg", "mimeType": "image/jpeg", "buffer": big}])
        page.get_by_role("button", name="提交").click()
        page.wait_for_load_state()
        assert "照片 1 超过 10 MB" in page.locator(".alert").inner_text() and "尚未提交" in page.locator(".alert").inner_text()
        screenshot(page, "oversized-photo-phone")
        watch.expect_status(422)
        watch.clean()
    assert site.stored() == before
