"""Role pages, server-rendered: ``/coverage`` for planners (figures, the map, downloads).

Chinese by default, English with ``?lang=en``.
"""

from __future__ import annotations

import html

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from api.blueprints.maps import layer_coverage
from api.state import current_layer

bp = Blueprint("pages", __name__)

TEXT = {
    "zh": {"title": "责任区覆盖情况", "district": "辖区面积", "covered": "已覆盖", "gaps": "责任空白", "pieces": "处", "overlaps": "交叉",
           "pairs": "对", "unadopted": "无单位包联的测评点位", "uncovered": "不在责任区内的测评点位", "area": "街道", "ratio": "覆盖率",
           "downloads": "下载", "gaps_file": "责任空白（GeoJSON）", "suggest_file": "补位建议（GeoJSON，可审核后上传）", "switch": "English", "version": "责任区版本"},
    "en": {"title": "Responsibility coverage", "district": "District area", "covered": "Covered", "gaps": "Gaps", "pieces": "pieces", "overlaps": "Overlaps",
           "pairs": "pairs", "unadopted": "Test points nobody adopted", "uncovered": "Test points in no zone", "area": "Sub-district", "ratio": "Coverage",
           "downloads": "Downloads", "gaps_file": "Gaps (GeoJSON)", "suggest_file": "Gap-fill suggestions (GeoJSON, to review and upload)", "switch": "中文", "version": "Zone layer version"},
}


@bp.get("/coverage")
def coverage_page() -> ResponseReturnValue:
    """Figures per district and sub-district, the coverage map, and the downloads."""
    lang = "en" if request.args.get("lang") == "en" else "zh"
    t = TEXT[lang]
    layer = current_layer()
    s = layer_coverage(layer).summary
    rows = "".join(
        f"<tr><td>{html.escape(str(a['name']))}</td><td>{a['area_m2'] / 1e6:.2f} km²</td><td>{a['covered_area_m2'] / 1e6:.2f} km²</td><td>{a['coverage_ratio']:.1%}</td></tr>"
        for a in s["areas"]
    )
    other = "zh" if lang == "en" else "en"
    page = f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{t['title']}</title>
<style>body{{font-family:sans-serif;margin:1.5em}}td,th{{padding:.2em .8em;text-align:left}}iframe{{width:100%;height:70vh;border:1px solid #ccc}}</style></head>
<body><h1>{t['title']}</h1><p><a href="?lang={other}">{t['switch']}</a> · {t['version']} <code>{layer.version}</code></p>
<ul><li>{t['district']}: {s['district_area_m2'] / 1e6:.2f} km²; {t['covered']}: {s['covered_area_m2'] / 1e6:.2f} km²</li>
<li>{t['gaps']}: {s['gap_area_m2'] / 1e6:.2f} km², {s['gap_count']} {t['pieces']}</li>
<li>{t['overlaps']}: {s['overlap_count']} {t['pairs']}, {s['overlap_area_m2']:.0f} m²</li>
<li>{t['unadopted']}: {s['test_points_unadopted']}; {t['uncovered']}: {s['test_points_uncovered']}</li></ul>
<table><tr><th>{t['area']}</th><th>{t['district']}</th><th>{t['covered']}</th><th>{t['ratio']}</th></tr>{rows}</table>
<h2>{t['downloads']}</h2><ul><li><a href="/ogc/collections/coverage_gaps/items?limit=10000">{t['gaps_file']}</a></li>
<li><a href="/maps/coverage/suggestions.geojson">{t['suggest_file']}</a></li></ul>
<iframe src="/maps/coverage" title="map"></iframe></body></html>"""
    return Response(page, mimetype="text/html")
