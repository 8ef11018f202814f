"""Role pages: ``/coverage`` for planners (figures, the map, downloads), ``/dispatch`` for
dispatchers (the queue of ambiguous, fallback, disputed and overdue reports, with reassign) and
``/units/{id}`` for a unit. The last two are shells that fetch the API with the caller's token,
kept in the browser's session storage. Chinese by default, English with ``?lang=en``.
"""

from __future__ import annotations

import html
import json

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


SHELL = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:1.5em}}td,th{{padding:.2em .6em;text-align:left;border-bottom:1px solid #eee}}iframe{{width:100%;height:60vh;border:1px solid #ccc}}</style></head>
<body><h1>{title}</h1><p><a href="?lang={other}">{switch}</a></p>
<p><label>{token_label} <input id="token" type="password" size="50"></label> <button id="load">{load}</button></p>
<div id="out"></div>
<script>
const T = {texts};
const tokenBox = document.getElementById('token');
tokenBox.value = sessionStorage.getItem('zonemap-token') || '';
const headers = () => ({{'Authorization': 'Bearer ' + tokenBox.value, 'Content-Type': 'application/json'}});
const esc = s => String(s ?? '').replace(/[&<>"]/g, c => ({{'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}})[c]);
async function api(path, options) {{
  const r = await fetch(path, Object.assign({{headers: headers()}}, options || {{}}));
  if (!r.ok) {{ const p = await r.json().catch(() => ({{}})); throw new Error(p.detail || r.status); }}
  return r.json();
}}
{script}
document.getElementById('load').onclick = () => {{ sessionStorage.setItem('zonemap-token', tokenBox.value); run().catch(e => document.getElementById('out').textContent = e.message); }};
if (tokenBox.value) document.getElementById('load').click();
</script></body></html>"""

DISPATCH_TEXT = {
    "zh": {"title": "调度台：待处理问题", "switch": "English", "token_label": "调度员令牌", "load": "加载", "ambiguous": "定位不确定", "fallback": "责任空白兜底",
           "disputed": "单位有异议", "overdue": "已超期", "id": "编号", "category": "类别", "unit": "单位", "reason": "派单理由", "deadline": "时限",
           "candidates": "候选单位", "reassign": "改派", "to": "改派给单位编码", "done": "已改派"},
    "en": {"title": "Dispatch: reports to handle", "switch": "中文", "token_label": "Dispatcher token", "load": "Load", "ambiguous": "Ambiguous location",
           "fallback": "Coverage gap (fallback)", "disputed": "Disputed by the unit", "overdue": "Overdue", "id": "ID", "category": "Category", "unit": "Unit",
           "reason": "Reason", "deadline": "Deadline", "candidates": "Candidates", "reassign": "Reassign", "to": "new unit id", "done": "reassigned"},
}
DISPATCH_SCRIPT = """
const QUEUES = [['ambiguous', 'decision=ambiguous&status=dispatched'], ['fallback', 'decision=fallback&status=dispatched'], ['disputed', 'status=disputed'], ['overdue', 'overdue=true']];
async function run() {
  const out = document.getElementById('out'); out.innerHTML = '';
  for (const [key, query] of QUEUES) {
    const page = await api('/api/v1/reports?limit=200&' + query);
    let html = `<h2>${T[key]} (${page.items.length})</h2><table><tr><th>${T.id}</th><th>${T.category}</th><th>${T.unit}</th><th>${T.candidates}</th><th>${T.deadline}</th><th>${T.reason}</th><th></th></tr>`;
    for (const r of page.items) {
      html += `<tr><td>${r.id}</td><td>${esc(r.category)}</td><td>${esc(r.unit_id)}</td><td>${esc(r.decision.candidate_unit_ids.join(';'))}</td><td>${esc(r.deadline_at)}</td><td>${esc(r.decision.reason)}</td>`
           + `<td><input size="8" placeholder="${T.to}" id="to-${key}-${r.id}"> <button data-id="${r.id}" data-key="${key}" class="reassign">${T.reassign}</button></td></tr>`;
    }
    out.insertAdjacentHTML('beforeend', html + '</table>');
  }
  for (const b of document.querySelectorAll('button.reassign')) b.onclick = async () => {
    const unit = document.getElementById(`to-${b.dataset.key}-${b.dataset.id}`).value;
    await api(`/api/v1/reports/${b.dataset.id}/transitions`, {method: 'POST', body: JSON.stringify({action: 'reassign', unit_id: unit, note: 'dispatch page'})})
      .then(() => { b.textContent = T.done; b.disabled = true; }).catch(e => alert(e.message));
  };
}
"""

UNIT_TEXT = {
    "zh": {"title": "本单位责任区与问题", "switch": "English", "token_label": "单位令牌", "load": "加载", "zones": "责任区", "points": "包联测评点位",
           "reports": "问题", "figures": "按期整改率", "id": "编号", "state": "状态", "deadline": "时限", "overdue": "超期", "reason": "派单理由"},
    "en": {"title": "Our zones and reports", "switch": "中文", "token_label": "Unit token", "load": "Load", "zones": "Zones", "points": "Adopted test points",
           "reports": "Reports", "figures": "On-time rate", "id": "ID", "state": "State", "deadline": "Deadline", "overdue": "Overdue", "reason": "Reason"},
}
UNIT_SCRIPT = """
async function run() {
  const u = await api('/api/v1/units/' + encodeURIComponent(UNIT));
  const rate = u.figures.on_time_rate === null ? '–' : (u.figures.on_time_rate * 100).toFixed(0) + '%';
  let html = `<p>${esc(u.unit_name)} (${esc(u.unit_id)}) · ${T.zones} ${u.zones.length} · ${T.points} ${u.test_points.length} · ${T.figures} ${rate}</p>`;
  html += `<h2>${T.reports}</h2><table><tr><th>${T.id}</th><th>${T.state}</th><th>${T.deadline}</th><th>${T.overdue}</th><th>${T.reason}</th></tr>`;
  for (const r of u.reports) html += `<tr><td>${r.id}</td><td>${esc(r.state)}</td><td>${esc(r.deadline_at)}</td><td>${r.overdue ? '⚠' : ''}</td><td>${esc(r.decision.reason)}</td></tr>`;
  document.getElementById('out').innerHTML = html + '</table><iframe id="map" title="map"></iframe>';
  const map = await fetch('/maps/units/' + encodeURIComponent(UNIT), {headers: headers()});
  document.getElementById('map').srcdoc = await map.text();
}
"""


def _shell(texts: dict[str, dict[str, str]], script: str, **values: str) -> Response:
    lang = "en" if request.args.get("lang") == "en" else "zh"
    t = texts[lang]
    prefix = "".join(f"const {k} = {json.dumps(v, ensure_ascii=False)};\n" for k, v in values.items())
    page = SHELL.format(lang=lang, title=t["title"], other="zh" if lang == "en" else "en", switch=t["switch"], token_label=t["token_label"], load=t["load"],
                        texts=json.dumps(t, ensure_ascii=False), script=prefix + script)
    return Response(page, mimetype="text/html")


@bp.get("/dispatch")
def dispatch_page() -> ResponseReturnValue:
    """The dispatchers' queue: ambiguous, fallback, disputed and overdue reports, with reassign."""
    return _shell(DISPATCH_TEXT, DISPATCH_SCRIPT)


@bp.get("/units/<unit_id>")
def unit_page(unit_id: str) -> ResponseReturnValue:
    """A unit's page: its figures, reports with deadlines, and its map (data fetched with its token)."""
    return _shell(UNIT_TEXT, UNIT_SCRIPT, UNIT=unit_id)
