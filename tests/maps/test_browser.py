"""The planners' coverage page and its map in a real browser (Debian's Chromium, driven by
Playwright), offline: every layer drawn, nothing fetched from anywhere but the server."""

from __future__ import annotations

import os

import pytest

from tests.support.browser import DESKTOP, browser_context, create_user, screenshot, sign_in
from tests.support.server import serving

pytestmark = pytest.mark.slow  # a real server and a browser


@pytest.fixture
def local_server(demo_files, tmp_path):
    env = {**os.environ, "ZONEMAP_LAYER_DIR": str(demo_files.root), "DATABASE_URL": f"sqlite:///{tmp_path / 'z.sqlite'}"}
    with serving(env, tmp_path) as base:
        yield base, env


def test_coverage_page_draws_every_layer_offline(local_server, tmp_path):
    base, env = local_server
    create_user({**env, "ZONEMAP_DATA_DIR": str(tmp_path)}, tmp_path, "li", "planner")
    with browser_context(base, DESKTOP) as (context, watch):
        page = watch.page(context)
        sign_in(page, base, "li")
        assert page.url == base + "/console/plan"  # the planner's console, with its own map
        page.wait_for_function("() => document.getElementById('plan-map').dataset.ready === '1'"
                               " && document.getElementById('plan-map').dataset.zones_shown > 1000")
        assert "覆盖率" in page.locator("main").inner_text()
        screenshot(page, "plan-console-map")
        page.goto(base + "/maps/coverage")  # the standalone coverage map
        frame = page.main_frame
        frame.wait_for_function("() => typeof L !== 'undefined' && document.querySelectorAll('canvas').length > 0", timeout=120_000)
        drawn = frame.evaluate("""() => {
            const out = {};
            for (const value of Object.values(window)) {
                if (value instanceof L.GeoJSON && value._map) out[value.options.name || Object.keys(out).length] = value.getLayers().length;
            }
            return out;
        }""")
        assert frame.evaluate("() => document.querySelectorAll('.zm-label-area').length") == 8  # the orientation layer names the sub-districts
        path = screenshot(page, "coverage-desktop")
        watch.clean()
    counts = sorted(drawn.values())
    assert len(counts) >= 5, drawn  # sub-districts, zones, gaps, overlaps, test points
    assert max(counts) > 5000  # the zones
    assert sum(1 for c in counts if c > 100) >= 3  # zones, gaps, overlaps, test points
    assert path.stat().st_size > 10_000
