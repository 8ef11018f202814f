"""The coverage page in a real browser (Debian's Chromium, driven by Playwright), offline."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.api.test_server import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ZONEMAP = str(Path(sys.executable).parent / "zonemap")


@pytest.fixture
def local_server(demo_files, tmp_path):
    env = {**os.environ, "ZONEMAP_LAYER_DIR": str(demo_files.root), "DATABASE_URL": f"sqlite:///{tmp_path / 'z.sqlite'}"}
    port = free_port()
    with (tmp_path / "server.log").open("wb") as sink:
        process = subprocess.Popen([ZONEMAP, "serve", "--port", str(port), "--data-dir", str(tmp_path)], env=env, stdout=subprocess.DEVNULL, stderr=sink)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2)
            break
        except OSError:
            assert process.poll() is None, (tmp_path / "server.log").read_text(errors="replace")
            time.sleep(0.3)
    yield base
    process.terminate()
    process.wait(timeout=30)


def test_coverage_page_draws_every_layer_offline(local_server, tmp_path):
    blocked: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        def only_local(route):
            if route.request.url.startswith(local_server):
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()

        page.route("**/*", only_local)
        page.goto(local_server + "/maps/coverage", wait_until="load", timeout=180_000)
        page.wait_for_function("() => typeof L !== 'undefined' && document.querySelectorAll('canvas').length > 0", timeout=60_000)
        drawn = page.evaluate("""() => {
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
