"""An inspector's round on a phone, offline: the page and its checklists kept by the service
worker, three points recorded without a network (one failed item with a photo, one fixed on the
spot), sent once when the phone is back online; the failure is a case in its unit's console with
the round's source, and a re-inspection made from it closes it."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.api.web.test_pages import jpeg
from tests.support.browser import DESKTOP, PHONE, browser_context, screenshot, service_workers, set_offline, sign_in
from tests.support.server import call, make_accounts, upload_photo

pytestmark = pytest.mark.slow
ROUND = {"name": "12月第一周 公厕专项督查", "level": "inspection", "first_day": "2026-12-07", "last_day": "2026-12-13",
         "scope": {"types": ["toilet"], "sample": 3, "seed": 1207}, "inspectors": ["qian"]}


def _record(page, point_id: str, results: dict[str, str], photos: dict[str, bytes] | None = None, after: dict[str, bytes] | None = None) -> None:
    """Open a point from the list, answer its checklist, save it."""
    page.locator(f'#points li[data-point="{point_id}"] a').click()
    form = page.locator("#panel-form form")
    form.wait_for()
    for fieldset in form.locator("fieldset.check-item:not([hidden])").all():
        code, kind = fieldset.get_attribute("data-code"), fieldset.get_attribute("data-kind")
        result = results.get(code, "pass")
        if kind in ("count", "ratio") and result == "pass":
            fieldset.locator("input[type=number]").fill("5" if kind == "count" else "1")
        fieldset.locator(f'input[type=radio][value="{result}"]').check()
        if code in (photos or {}):
            fieldset.locator(f'input[name="photos-{code}"]').set_input_files(files=[{"name": "p.jpg", "mimeType": "image/jpeg", "buffer": photos[code]}])
        if code in (after or {}):
            fieldset.locator(f'input[name="after-{code}"]').set_input_files(files=[{"name": "a.jpg", "mimeType": "image/jpeg", "buffer": after[code]}])
    form.get_by_role("button", name="保存本点位").click()
    page.locator("#points").wait_for()


def _waiting(page) -> int:
    page.wait_for_function("() => document.getElementById('queue-status').dataset.waitingCount !== undefined")
    return int(page.locator("#queue-status").get_attribute("data-waiting-count"))


def test_an_inspector_records_offline_and_everything_arrives_once(site):
    status, made = call("POST", site.base + "/api/v1/rounds", ROUND, site.dispatcher)
    assert status == 201, made
    first, second, third = (p["point_id"] for p in made["points"])
    spot = made["points"][0]
    with service_workers(), browser_context(site.base, PHONE, geolocation={"latitude": spot["lat"], "longitude": spot["lon"], "accuracy": 8},
                                            permissions=["geolocation"]) as (context, watch):
        page = watch.page(context)
        sign_in(page, site.base, "qian")
        assert page.url == site.base + "/inspect/"
        page.get_by_role("link", name=made["name"]).click()
        page.wait_for_function("() => document.body.dataset.offlineReady === 'true'")  # the page went through the worker: kept
        assert page.evaluate("async () => Boolean(await caches.match(location.href)) && Boolean(await caches.match('/maps/orientation.geojson'))")
        assert page.locator("#points li").first.get_attribute("data-point") == first  # nearest first: the phone stands at the first point
        set_offline(context, True)
        page.reload()  # offline: the page comes from the phone
        page.locator("#points li").first.wait_for()
        _record(page, first, {"T01": "fail"}, photos={"T01": jpeg((160, 40, 30), size=(4000, 3000))})
        _record(page, second, {"T02": "fixed"}, photos={"T02": jpeg((150, 60, 20))}, after={"T02": jpeg((40, 150, 60))})
        _record(page, third, {})
        assert _waiting(page) == 3
        queued = page.evaluate("""async () => {
            const db = await idb.openDB('zonemap-inspect', 1);
            const photo = (await db.getAll('outbox')).flatMap(e => e.files).find(f => f[0] === 'photos-T01')[1];
            const bitmap = await createImageBitmap(photo);
            return [bitmap.width, bitmap.height];
        }""")
        assert queued == [2560, 1920]  # scaled on the phone to what the service keeps: less to keep and to send
        assert "3 条待发送" in page.locator("#queue-status").inner_text()
        screenshot(page, "inspector-offline-phone")
        page.locator(f'#points li[data-point="{first}"] a').click()
        screenshot(page, "inspector-checklist-phone")
        page.locator("#panel-back").click()
        set_offline(context, False)
        page.wait_for_function("() => document.getElementById('queue-status').dataset.waitingCount === '0'", timeout=30_000)
        screenshot(page, "inspector-sent-phone")
        watch.clean()
    _, stored = call("GET", f"{site.base}/api/v1/rounds/{made['id']}/inspections", token=site.dispatcher)
    assert sorted(i["point_id"] for i in stored["items"]) == sorted([first, second, third])  # each once
    by_point = {i["point_id"]: {item["code"]: item for item in i["items"]} for i in stored["items"]}
    assert by_point[second]["T02"]["result"] == "fixed" and by_point[second]["T02"]["report_id"] is None
    case_id = by_point[first]["T01"]["report_id"]
    _, case = call("GET", f"{site.base}/api/v1/reports/{case_id}", token=site.dispatcher)
    assert case["source"] == "inspection" and case["state"] == "dispatched" and case["category"] == "toilet_fault"
    # The case is in its unit's console, like any case.
    make_accounts(f"sqlite:///{site.database}", [("case-unit", "unit", case["unit_id"])], [])
    with browser_context(site.base, PHONE) as (context, watch):
        page = watch.page(context)
        sign_in(page, site.base, "case-unit")
        assert page.locator(f'a[href="/console/reports/{case_id}"]').count() == 1
        watch.clean()
    # The re-inspection goes back to the failed items; found fixed, the case is closed.
    status, back = call("POST", f"{site.base}/api/v1/rounds/{made['id']}/recheck", {"first_day": "2026-12-14", "last_day": "2026-12-14"}, site.dispatcher)
    assert status == 201 and sorted(p["point_id"] for p in back["points"]) == sorted([first, second])
    with browser_context(site.base, PHONE) as (context, watch):
        page = watch.page(context)
        sign_in(page, site.base, "qian")
        page.goto(f"{site.base}/inspect/rounds/{back['id']}")
        _record(page, first, {"T01": "pass"})
        page.wait_for_function("() => document.getElementById('queue-status').dataset.waitingCount === '0'", timeout=30_000)
        watch.clean()
    assert site.state(case_id)[0] == "verified"


def test_the_assessment_centre_makes_a_round_and_reads_its_scores(site):
    with browser_context(site.base, DESKTOP) as (context, watch):
        page = watch.page(context)
        sign_in(page, site.base, "wang")
        page.goto(site.base + "/console/rounds")
        page.get_by_label("名称", exact=True).fill("12月 市场抽查")
        page.get_by_label("层级").select_option("spot_check")
        page.get_by_label("起", exact=True).fill("2026-12-07")
        page.get_by_label("止", exact=True).fill("2026-12-11")
        page.locator('input[name="types"][value="market"]').check()
        page.get_by_label("随机抽取点位数（不填为全部点位）").fill("4")
        page.get_by_label("抽样种子（种子相同，抽到的点位相同）").fill("9")
        page.get_by_role("button", name="创建督查").click()
        page.wait_for_url(re.compile(r"/console/rounds/\d+$"))
        round_id = int(page.url.rsplit("/", 1)[1])
        _, made = call("GET", f"{site.base}/api/v1/rounds/{round_id}", token=site.dispatcher)
        assert len(made["points"]) == 4 and {p["point_type"] for p in made["points"]} == {"market"}
        photo = upload_photo(site.base, site.dispatcher, jpeg((170, 30, 30)))
        for n, point in enumerate(made["points"][:3]):
            items = [{"code": "M02", "result": "pass"}, {"code": "M05", "result": "fail" if n else "pass", **({"photos": [photo]} if n else {})}]
            status, _stored = call("POST", f"{site.base}/api/v1/rounds/{round_id}/inspections", {"point_id": point["point_id"], "items": items},
                                   site.dispatcher, headers={"Idempotency-Key": f"desk-{n}"})
            assert status == 201
        _, scores = call("GET", f"{site.base}/api/v1/rounds/{round_id}/scores", token=site.dispatcher)
        page.reload()
        page.wait_for_function("() => document.getElementById('round-map').dataset.markers === '4'")
        headline = page.locator("section.figures div").first.inner_text()
        assert f"{scores['total']['rate'] * 100:.1f}%" in headline  # the page says what the stored entries give
        assert "3 / 4" in page.locator("section.figures").inner_text()
        screenshot(page, "round-scores-desktop")
        with page.expect_download() as download:
            page.get_by_role("link", name="通报（Excel）").click()
        book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
        assert book.sheetnames == ["概要", "分点位类型情况", "分包联单位情况", "分街道情况", "点位明细", "扣分最多的项"]
        assert book["概要"]["G3"].value == pytest.approx(scores["total"]["rate"])
        watch.clean()
    with browser_context(site.base, PHONE) as (context, watch):
        page = watch.page(context)
        sign_in(page, site.base, "wang")
        page.goto(f"{site.base}/console/rounds/{round_id}")
        page.wait_for_function("() => document.getElementById('round-map').dataset.markers === '4'")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        screenshot(page, "round-scores-phone")
        watch.clean()
