"""Hostile text in every text field of every layer and report runs no script on any page or map.

The demo layer with a script-bearing string in each name, person, post, phone and category name
(ids hold no markup: a layer with one is refused, `tests/api/layers/test_lifecycle.py`), a unit id
of every character an id may hold, and reports carrying the string in their description and
contact and that unit, served by the
real server; Chromium (every request not to 127.0.0.1 aborted) opens every page and map, shows
tooltips of every layer and checks that no script ran (a ``window`` marker), that no error and no
Content-Security-Policy violation was reported, and that the text is shown as text.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.parse

import pandas as pd
import pyogrio
import pytest

from geodata.demo import DemoFiles
from geodata.io import write_layer
from tests.api.reports.test_reports import LAT, LON, REPORT
from tests.support.browser import DESKTOP, browser_context, create_user, screenshot, sign_in
from tests.support.server import call, create_token, serving

pytestmark = pytest.mark.slow

# Each piece escapes a different context: HTML text and attributes, a <script> block, a JS string
# and a template literal. Any piece that runs sets window.__xss.
HOSTILE = ("<img src=x onerror=\"window.__xss='img'\">"
           "</script><script>window.__xss='script'</script>"
           "${window.__xss='template'}`+(window.__xss='backtick')+`"
           "'\"><svg onload=\"window.__xss='svg'\">\\u003c")
UNIT = "P06-城阳.甲_1"  # a unit id of every kind of character an id may hold reaches pages through reassignments and routing


def hostile_layer(demo: DemoFiles, folder) -> DemoFiles:
    """The demo with HOSTILE in every text field of zones, test points, areas, units and categories."""
    shutil.copytree(demo.root, folder)
    out = DemoFiles(folder)
    out.gpkg.unlink()
    for name in pyogrio.list_layers(demo.gpkg)[:, 0]:
        frame = pyogrio.read_dataframe(demo.gpkg, layer=name)
        if name == "zones":
            frame.loc[frame["unit_id"] == "P06", "unit_id"] = UNIT
            for column in ("name", "unit_name", "person", "post", "phone"):
                frame[column] = frame[column].astype(str) + HOSTILE
        elif name in ("test_points", "areas", "scope", "streets") and "name" in frame.columns:
            frame["name"] = frame["name"].astype(str) + HOSTILE
        if name == "test_points":
            frame.loc[frame["unit_id"] == "P06", "unit_id"] = UNIT
        write_layer(frame, out.gpkg, layer=name)
    units = pd.read_csv(demo.units, dtype=str, keep_default_na=False)
    units.loc[units["unit_id"] == "P06", "unit_id"] = UNIT
    units["unit_name"] = units["unit_name"] + HOSTILE
    units.to_csv(out.units, index=False)
    categories = pd.read_csv(demo.categories, dtype=str, keep_default_na=False)
    categories["name_zh"] = categories["name_zh"] + HOSTILE
    categories.to_csv(out.categories, index=False)
    return out


SHOW_TOOLTIPS = """() => {
    // Up to 200 features of every GeoJSON layer on each map (markers out of their clusters
    // first): each tooltip is rendered as on hover, and counted when it shows the hostile text.
    const maps = Object.values(window).filter(v => v instanceof L.Map);
    let shown = 0;
    for (const map of maps) {
        map.eachLayer(layer => {
            if (L.MarkerClusterGroup && layer instanceof L.MarkerClusterGroup) { layer.getLayers().forEach(m => { layer.removeLayer(m); map.addLayer(m); }); }
        });
        const seen = new Map();
        map.eachLayer(layer => {
            if (!layer.feature || !layer.getTooltip()) return;
            const group = (Object.values(layer._eventParents || {})[0] || {})._leaflet_id;
            if ((seen.get(group) || 0) >= 200) return;
            seen.set(group, (seen.get(group) || 0) + 1);
            const latlng = layer.getLatLng ? layer.getLatLng() : layer.getBounds().getCenter();
            layer.openTooltip(latlng);
            const tooltip = layer.getTooltip().getElement();
            if (tooltip && tooltip.textContent.includes('onerror')) shown += 1;
            layer.closeTooltip();
        });
    }
    return shown;
}"""


def test_no_script_runs_from_data_on_any_page_or_map(demo_files, tmp_path):
    layer = hostile_layer(demo_files, tmp_path / "layer")
    env = {**os.environ, "ZONEMAP_LAYER_DIR": str(layer.root), "DATABASE_URL": f"sqlite:///{tmp_path / 'z.sqlite'}"}
    data = tmp_path / "data"
    data.mkdir()
    with serving(env, data) as base:
        dispatcher = create_token(env, data)
        hostile_report = {**REPORT, "description": HOSTILE, "reporter_contact": HOSTILE[:200]}
        status, first = call("POST", base + "/api/v1/reports", {**hostile_report, "accuracy_m": 80}, dispatcher)  # ambiguous: on the console
        assert status == 201 and first["unit_id"] == UNIT and first["decision"]["status"] == "ambiguous", first
        status, second = call("POST", base + "/api/v1/reports", {**hostile_report, "lon": LON + 0.0003}, dispatcher)
        for action in ("rectify", "verify", "publish"):  # one report reaches the public board
            status, _ = call("POST", f"{base}/api/v1/reports/{second['id']}/transitions", {"action": action}, dispatcher)
            assert status == 200, action
        status, third = call("POST", base + "/api/v1/reports", {**REPORT, "lon": 120.3300, "lat": 36.2800}, dispatcher)
        assert status == 201
        status, moved = call("POST", f"{base}/api/v1/reports/{third['id']}/transitions", {"action": "reassign", "unit_id": UNIT, "note": HOSTILE}, dispatcher)
        assert status == 200 and moved["unit_id"] == UNIT

        create_user({**env, "ZONEMAP_DATA_DIR": str(data)}, data, "wang", "dispatcher")
        shown = {}
        with browser_context(base, DESKTOP) as (context, watch):
            page = watch.page(context)
            sign_in(page, base, "wang")
            page.close()
            unit_path = "/units/" + urllib.parse.quote(UNIT, safe="")
            maps = ["/maps/coverage", "/maps/public", "/maps/reports", "/maps" + unit_path]
            ref = second["public_ref"]
            pages = ["/coverage", "/console/dispatch", f"/console/reports/{first['id']}", unit_path, "/docs", "/", "/report", "/public", f"/public/{ref}",
                     f"/r/{ref}", f"/r/{first['public_ref']}"]
            for path in maps + pages:
                page = watch.page(context)
                response = page.goto(base + path, wait_until="load", timeout=180_000)
                assert response.status == 200, path
                if path in (unit_path, "/console/dispatch", f"/console/reports/{first['id']}", "/public", f"/public/{ref}", f"/r/{first['public_ref']}"):
                    assert HOSTILE[:30] in page.inner_text("main"), path  # names shown as text
                if path == "/report":  # the live answer names the hostile unit, and the hostile report nearby
                    page.locator("#lon").fill(str(LON))
                    page.locator("#lat").fill(str(LAT))
                    page.locator("#category").select_option("litter")
                    page.locator("#check .nearby").wait_for()
                    assert HOSTILE[:30] in page.inner_text("#check")
                if path in maps:
                    page.wait_for_function("() => typeof L !== 'undefined'")
                    shown[path] = page.evaluate(SHOW_TOOLTIPS)
                for frame in page.frames:
                    assert frame.evaluate("() => window.__xss") is None, (path, frame.url)
                screenshot(page, "hostile" + (path.replace("/", "-")[:40] if path != "/" else "-home"))
                page.close()
            errors = [e for e in watch.errors if "favicon" not in e]
            assert watch.blocked == []
    assert errors == [], errors
    # Tooltips were shown, with the hostile text as text, on every map.
    assert all(count > 0 for count in shown.values()), shown
    print(json.dumps(shown))
