"""The layer lifecycle in a real browser (Debian's Chromium; requests off the server aborted and
counted) against 2 gunicorn workers on PostgreSQL: a planner uploads a layer with an error and
sees its row named, uploads a valid one and sees the changes and the open report it moves,
accepts a gap-fill suggestion and another with its outline adjusted on the map, publishes; every worker serves the new version within seconds and
the coverage figures change; a rollback restores the earlier figures."""

from __future__ import annotations

import os
import re
import time

import pytest

from tests.api.layers.test_layers import changed_layer
from tests.api.reports.test_reports import REPORT
from tests.api.web.test_workers import _versions
from tests.support.browser import DESKTOP, PHONE, another_context, browser_context, screenshot, sign_in
from tests.support.server import call, make_accounts, running

pytestmark = pytest.mark.slow
SECONDS = 30  # every worker checks the current version at most every second (ZONEMAP_LAYER_CHECK_SECONDS)


def gap_count(page) -> int:
    """The gap count the planners' console shows."""
    return int(page.locator(".figures div").nth(1).locator("b").inner_text())


WORKERS = 2  # two suffice to see a publication reach every worker (tests/api/web/test_workers.py runs three)


def gap_km2(page) -> float:
    """The gap area (km²) the planners' console shows."""
    return float(re.search(r"([\d.]+) 平方千米", page.locator(".figures div").nth(1).locator("span").inner_text()).group(1))


def every_worker_on(base: str, version: str) -> float:
    """Seconds until every worker answers with ``version``."""
    started, seen = time.monotonic(), {}
    while time.monotonic() - started < SECONDS and (len(seen) < WORKERS or set(seen.values()) != {version}):
        seen |= _versions(base, 24)
    assert set(seen.values()) == {version} and len(seen) == WORKERS, seen
    return time.monotonic() - started


def test_a_planner_drafts_publishes_and_rolls_back_from_the_pages(postgres_url, demo_files, tmp_path):
    env = {**os.environ, "ZONEMAP_LAYER_DIR": str(demo_files.root), "DATABASE_URL": postgres_url, "ZONEMAP_LAYER_CHECK_SECONDS": "1"}
    with running(env, tmp_path, workers=WORKERS) as server:
        base = server.base
        (dispatcher,) = make_accounts(postgres_url, [("li", "planner", None), ("wang", "dispatcher", None)], [("dispatcher", None)])
        status, report = call("POST", base + "/api/v1/reports", REPORT, dispatcher)
        assert status == 201 and report["unit_id"] == "P06"
        first_version = report["decision"]["zone_version"]
        broken, valid = changed_layer(demo_files, tmp_path / "broken", break_row=True), changed_layer(demo_files, tmp_path / "valid")
        with browser_context(base, DESKTOP) as (context, watch):
            page = watch.page(context)
            sign_in(page, base, "li")
            assert page.url == base + "/console/plan"
            page.wait_for_function("() => document.getElementById('plan-map').dataset.ready === '1'")
            before, before_km2 = gap_count(page), gap_km2(page)
            assert "城阳街道" in page.locator("#subdistricts + .scroll").inner_text()
            screenshot(page, "plan-console-desktop")

            page.goto(base + "/console/layers")
            page.locator("input[name=layer]").set_input_files(files=[{"name": "责任区.gpkg", "mimeType": "application/octet-stream", "buffer": broken}])
            page.get_by_role("button", name="上传并比较").click()
            page.wait_for_url(re.compile(r".*/console/layers/drafts/\d+$"))  # the draft at once, 处理中, then its report
            problems = page.locator("#problems").inner_text()
            assert "zones" in problems and "\t4\t" in problems and "duties" in problems, problems  # the layer, the row, the field
            screenshot(page, "layer-upload-refused")
            planner_phone, planner_phone_watch = another_context(context, base, PHONE)  # the same report on a planner's phone
            phone = planner_phone_watch.page(planner_phone)
            sign_in(phone, base, "li")
            phone.goto(page.url)
            assert "duties" in phone.locator("#problems").inner_text()
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # the table scrolls in its own box, the page does not
            screenshot(phone, "layer-upload-refused-phone")
            planner_phone.close()

            page.goto(base + "/console/layers")
            page.locator("input[name=layer]").set_input_files(files=[{"name": "责任区.gpkg", "mimeType": "application/octet-stream", "buffer": valid}])
            page.get_by_role("button", name="上传并比较").click()
            page.wait_for_url(re.compile(r".*/console/layers/drafts/\d+$"))
            if page.locator("#processing").count():  # usually: the worker process takes a few seconds
                screenshot(page, "layer-draft-processing")
            page.locator("#affected").wait_for(timeout=120_000)  # read and compared in a worker process: slower on a loaded machine
            affected = page.locator("#affected + p + .scroll").inner_text()
            assert str(report["id"]) in affected and "P07" in affected
            changed = int(page.locator("#changes + .figures div").nth(3).locator("b").inner_text())  # zones with a new owner
            assert changed > 0
            screenshot(page, "layer-draft")

            gap = page.locator("input[type=checkbox][name=gap_id]").first.get_attribute("value")
            page.locator("input[type=checkbox][name=gap_id]").first.check()
            page.get_by_role("button", name="将勾选的建议采纳到本草稿").click()
            page.locator("#changes").wait_for()  # compared again: the page refreshes itself meanwhile
            assert f"GAP-{gap}" in page.locator("body").inner_text()
            whole = page.locator("#coverage + .scroll tr.total").inner_text()
            assert f"{before} → {before - 1}" in whole, whole

            # Another suggestion, its outline adjusted on the map (Leaflet-Geoman) and given to a neighbour.
            page.wait_for_function("() => document.getElementById('plan-map').dataset.ready === '1'")
            row = page.locator("table.gaps tbody tr").first
            adjusted = row.locator("a[data-place=gap]").inner_text()
            row.locator("button[data-adjust]").click()
            page.wait_for_function(f"() => document.getElementById('plan-map').dataset.editing === '{adjusted}'")
            corner = page.locator("#plan-map .marker-icon").first
            box = corner.bounding_box()
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            page.mouse.move(x, y)
            page.mouse.down()
            page.mouse.move(x + 40, y + 30, steps=8)
            page.mouse.up()
            owner = page.locator("#adjust select[name=unit_id] option").nth(1)
            owner_label = owner.inner_text()
            page.locator("#adjust select[name=unit_id]").select_option(index=1)
            page.locator("#plan-map").screenshot(path=str(screenshot(page, "layer-draft-adjust").with_name("layer-draft-adjust-map.png")))
            page.get_by_role("button", name="采纳调整后的建议").click()
            assert "已将 1 个建议责任区加入草稿" in page.locator("body").inner_text()
            page.locator("#changes").wait_for()
            added = page.locator("#zone-changes + .scroll tr", has_text=f"GAP-{adjusted}").inner_text()
            assert owner_label in added, added
            after_gaps = int(re.search(r"→ (\d+)", page.locator("#coverage + .scroll tr.total td").nth(1).inner_text()).group(1))

            page.get_by_label("说明（原因）").fill("金海物业的责任区移交给P07；补上最大的空白")
            page.get_by_role("button", name="将此草稿发布为当前版本").click()
            page.wait_for_url(re.compile(r".*/console/layers/publications/\d+$"))
            publication_url = page.url
            new_version = page.locator("dd code").first.inner_text()
            print(f"{WORKERS} workers on the published version {new_version} {every_worker_on(base, new_version):.1f} s after publishing")
            page.goto(base + "/console/plan")
            assert gap_count(page) == after_gaps and gap_km2(page) < before_km2  # as the draft foretold; an adjusted outline may leave pieces

            phone_context, phone_watch = another_context(context, base, PHONE)
            desk = phone_watch.page(phone_context)
            sign_in(desk, base, "wang")
            desk.goto(base + "/console/dispatch")
            assert "1 件在办问题的责任单位有变化" in desk.locator("#layer-notice").inner_text()
            desk.get_by_role("link", name="选择要改派的问题").click()
            assert desk.url == publication_url
            box = desk.locator(f"input[name=report_id][value='{report['id']}']")
            assert box.is_checked()
            screenshot(desk, "layer-publication-dispatcher-phone")
            desk.get_by_role("button", name="将勾选的问题改派给新责任单位").click()
            assert "已改派 1 件" in desk.locator(".flashes").inner_text()
            phone_watch.clean()
            history = call("GET", f"{base}/api/v1/reports/{report['id']}", token=dispatcher)[1]
            assert history["unit_id"] == "P07" and new_version in history["history"][-1]["note"]
            desk.goto(base + "/console/dispatch")
            assert desk.locator("#layer-notice").count() == 0  # reviewed

            page.goto(base + "/console/layers")
            rollback = page.locator(f"form[action='/console/layers/versions/{first_version}/rollback']")
            rollback.locator("textarea").fill("移交推迟到下月")
            rollback.get_by_role("button", name="回退到此版本").click()
            page.wait_for_url(re.compile(r".*/console/layers/publications/\d+$"))
            print(f"{WORKERS} workers back on {first_version} {every_worker_on(base, first_version):.1f} s after the rollback")
            page.goto(base + "/console/plan")
            assert (gap_count(page), gap_km2(page)) == (before, before_km2)
            page.goto(base + "/console/layers")
            assert "移交推迟到下月" in page.locator("table.versions").inner_text()
            screenshot(page, "layer-versions")
            watch.clean()
