"""The coverage page in a real browser (Debian's Chromium, driven by Playwright), offline."""

from __future__ import annotations

import json
import os
import shutil
import urllib.request

import pytest
from playwright.sync_api import sync_playwright

from tests.support.server import create_token, serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def only_local(base: str, blocked: list[str]):
    """A route handler letting requests to ``base`` through and aborting (and counting) the rest."""
    def handle(route):
        if route.request.url.startswith(base):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    return handle


@pytest.fixture
def local_server(demo_files, tmp_path):
    env = {**os.environ, "ZONEMAP_LAYER_DIR": str(demo_files.root), "DATABASE_URL": f"sqlite:///{tmp_path / 'z.sqlite'}"}
    with serving(env, tmp_path) as base:
        yield base, env


def test_coverage_page_draws_every_layer_offline(local_server, tmp_path):
    local_server, _ = local_server
    blocked: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        page.route("**/*", only_local(local_server, blocked))
        page.goto(local_server + "/coverage", wait_until="load", timeout=180_000)  # the planners' page, the map in its frame
        frame = next(f for f in page.frames if f.url.endswith("/maps/coverage"))
        frame.wait_for_function("() => typeof L !== 'undefined' && document.querySelectorAll('canvas').length > 0", timeout=60_000)
        drawn = frame.evaluate("""() => {
            const out = {};
            for (const value of Object.values(window)) {
                if (value instanceof L.GeoJSON && value._map) out[value.options.name || Object.keys(out).length] = value.getLayers().length;
            }
            return out;
        }""")
        page.screenshot(path=str(tmp_path / "coverage.png"))
        browser.close()
    counts = sorted(drawn.values())
    assert len(counts) >= 5, drawn  # sub-districts, zones, gaps, overlaps, test points
    assert max(counts) > 5000  # the zones
    assert sum(1 for c in counts if c > 100) >= 3  # zones, gaps, overlaps, test points
    assert blocked == []
    assert errors == []
    assert (tmp_path / "coverage.png").stat().st_size > 10_000


def test_dispatch_page_reassigns_in_the_browser(local_server, tmp_path):
    local_server, env = local_server
    token = create_token(env, tmp_path)
    body = json.dumps({"lon": 120.40, "lat": 36.31, "category": "litter", "accuracy_m": 80}).encode()
    request = urllib.request.Request(local_server + "/api/v1/reports", data=body, method="POST", headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    report_id = json.loads(urllib.request.urlopen(request, timeout=30).read())["id"]
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("dialog", lambda dialog: (errors.append(dialog.message), dialog.dismiss()))
        page.goto(local_server + "/dispatch", wait_until="load")
        page.fill("#token", token)
        page.press("#token", "Enter")
        form = page.locator("form", has=page.locator(f"button.reassign[data-id='{report_id}']")).first
        form.locator("input").fill("HW01")
        form.locator("input").press("Enter")
        page.wait_for_selector("button.reassign:disabled")
        page.screenshot(path=str(tmp_path / "dispatch.png"))
        browser.close()
    assert errors == []
    check = urllib.request.Request(f"{local_server}/api/v1/reports/{report_id}", headers={"Authorization": f"Bearer {token}"})
    assert json.loads(urllib.request.urlopen(check, timeout=30).read())["unit_id"] == "HW01"
