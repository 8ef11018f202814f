"""Role pages: ``/coverage`` for planners (figures, the map, downloads), ``/dispatch`` for
dispatchers (the queue of ambiguous, fallback, disputed and overdue reports, with reassign) and
``/units/{id}`` for a unit. The last two are shells that fetch the API with the caller's token,
kept in the browser's session storage. Chinese by default, English with ``?lang=en``.

Every page is a template (``api/templates``) with its script in ``api/static``: no inline
script, so the Content-Security-Policy can forbid them, and every value is escaped by Jinja or
set as text by the script.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from api import analysis
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


def _lang() -> str:
    return "en" if request.args.get("lang") == "en" else "zh"


def _page(template: str, texts: dict[str, dict[str, str]], **values: Any) -> str:
    lang = _lang()
    return render_template(template, lang=lang, other_lang="zh" if lang == "en" else "en", t=texts[lang], **values)


@bp.get("/coverage")
def coverage_page() -> ResponseReturnValue:
    """Figures per district and sub-district, the coverage map, and the downloads."""
    layer = current_layer()
    return _page("coverage.html", TEXT, s=analysis.coverage(layer).summary, version=layer.version)


DISPATCH_TEXT = {
    "zh": {"title": "调度台：待处理问题", "switch": "English", "token_label": "调度员令牌", "load": "加载", "ambiguous": "定位不确定", "fallback": "责任空白兜底",
           "disputed": "单位有异议", "overdue": "已超期", "id": "编号", "category": "类别", "unit": "单位", "reason": "派单理由", "deadline": "时限",
           "candidates": "候选单位", "reassign": "改派", "to": "改派给单位编码", "done": "已改派"},
    "en": {"title": "Dispatch: reports to handle", "switch": "中文", "token_label": "Dispatcher token", "load": "Load", "ambiguous": "Ambiguous location",
           "fallback": "Coverage gap (fallback)", "disputed": "Disputed by the unit", "overdue": "Overdue", "id": "ID", "category": "Category", "unit": "Unit",
           "reason": "Reason", "deadline": "Deadline", "candidates": "Candidates", "reassign": "Reassign", "to": "new unit id", "done": "reassigned"},
}
UNIT_TEXT = {
    "zh": {"title": "本单位责任区与问题", "switch": "English", "token_label": "单位令牌", "load": "加载", "zones": "责任区", "points": "包联测评点位",
           "reports": "问题", "figures": "按期整改率", "id": "编号", "state": "状态", "deadline": "时限", "overdue": "超期", "reason": "派单理由"},
    "en": {"title": "Our zones and reports", "switch": "中文", "token_label": "Unit token", "load": "Load", "zones": "Zones", "points": "Adopted test points",
           "reports": "Reports", "figures": "On-time rate", "id": "ID", "state": "State", "deadline": "Deadline", "overdue": "Overdue", "reason": "Reason"},
}


@bp.get("/dispatch")
def dispatch_page() -> ResponseReturnValue:
    """The dispatchers' queue: ambiguous, fallback, disputed and overdue reports, with reassign."""
    return _page("token_shell.html", DISPATCH_TEXT, script="dispatch.js", unit_id=None)


@bp.get("/units/<unit_id>")
def unit_page(unit_id: str) -> ResponseReturnValue:
    """A unit's page: its figures and its reports with deadlines (data fetched with its token)."""
    return _page("token_shell.html", UNIT_TEXT, script="unit.js", unit_id=unit_id)
