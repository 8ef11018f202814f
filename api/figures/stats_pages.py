"""The figures for people: ``/console/stats`` (a period's figures per unit, sub-district, campaign
group or source, the district's headline, the red and black lists, a chart and a sortable table)
for leaders, dispatchers and planners, and the bulletin of a week or a month as a printable page
and as an Excel workbook."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from api.auth.sessions import staff_only
from api.figures import bulletin, queries
from api.figures.figures_api import READERS, today
from api.figures.queries import FigureTable, Period
from api.layers import live
from api.layers.live import current_layer
from api.persistence.clock import now
from api.web import contract, parsing
from api.web.errors import ApiError
from api.web.i18n import SOURCE_NAMES, campaign_names, category_label, subdistrict_names, unit_label
from zones.figures import COLUMNS, DISTRICT

bp = Blueprint("stats", __name__, template_folder="templates", url_prefix="/console/stats")
#: The groupings the page offers, in its order, with their names.
GROUPS = {"unit": _l("Units"), "area": _l("Sub-districts"), "group": _l("Campaigns"), "std": _l("National classes"), "source": _l("Sources (4+1)")}
#: The figures' names (the page's headers, the bulletin's in Chinese).
FIGURE_NAMES = {
    "received": _l("Received"), "dispatched": _l("Dispatched"), "fixed": _l("Closed (结案)"), "due": _l("Due (应结案)"),
    "closure_rate": _l("Closure rate"), "on_time_rate": _l("Closed on time"), "rework_rate": _l("Rework rate"), "extension_rate": _l("Extension rate"),
    "disputes_upheld": _l("Disputes upheld"), "disputes_refused": _l("Disputes refused"), "mean_hours": _l("Mean working hours to fix"),
    "median_hours": _l("Median working hours to fix"), "open": _l("Open now"), "overdue": _l("Overdue now"), "held": _l("On hold now"),
    "score": _l("Score"), "rank": _l("Rank"),
}
#: The orders offered above the chart: the question each answers.
SORT_NAMES = {"mean_hours": _l("Slowest first"), "on_time_rate": _l("Most on time first"), "overdue": _l("Most overdue first"),
              "received": _l("Most reports first")}
PRESETS = {"month": _l("This month"), "last_month": _l("Last month"), "week": _l("This week"), "last_week": _l("Last week")}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Bars the chart shows at most (the table lists every one).
CHART_BARS = 40
#: The figures the table sorts by (largest first) and the chart then shows.
SORTABLE = ("received", "closure_rate", "on_time_rate", "rework_rate", "extension_rate", "mean_hours", "overdue", "held")


def preset(name: str, day: date) -> Period:
    """The period a preset names, as of ``day`` (this month and this week: up to ``day``)."""
    if name == "last_month":
        return Period.month_of(day.replace(day=1) - timedelta(days=1))
    if name == "week":
        return Period(Period.week_of(day).first, day)
    if name == "last_week":
        return Period.week_of(day - timedelta(days=7))
    return Period.month_so_far(day)


def _day(name: str) -> date | None:
    """A day the address gives, or None for one missing or mistyped (a page is lenient with what a person typed)."""
    try:
        return parsing.day(request.args.get(name) or None, name)
    except ApiError:
        return None


def chosen_period() -> tuple[str, Period]:
    """The preset the query names (``period``) or the days it gives (``from``, ``to``, in either order)."""
    name = request.args.get("period", "month")
    name = name if name in PRESETS else "month"
    default = preset(name, today())
    first, last = _day("from"), _day("to")
    if first is None and last is None:
        return name, default
    return "", Period.between(first or default.first, last or default.last)


def key_names(by: str) -> dict[str, str]:
    """What each key of the grouping is called on the page."""
    layer = current_layer()
    if by == "unit":
        return {u: unit_label(layer, u) for u in layer.known_units}
    if by == "area":
        return subdistrict_names(layer)
    if by == "group":
        return campaign_names(layer)
    if by == "std":
        classes: dict[str, list[str]] = {}
        for category in layer.category_table.values():
            if category.std_class:
                classes.setdefault(category.std_class, []).append(category_label(layer, category.code))
        return {key: f"{key} · {'、'.join(names)}" for key, names in classes.items()}
    if by == "source":
        return {key: str(name) for key, name in SOURCE_NAMES.items()}
    return {DISTRICT: _("The whole district")}


def _tables(period: Period) -> dict[str, FigureTable]:
    layer, at, ranking = current_layer(), now(), current_app.config["RANKING"]
    return {by: queries.table(g.db, layer, by, period, at, ranking) for by in (*GROUPS, "district")}


@bp.get("")
@contract.page("The figures of a period per unit, sub-district, campaign or source, with the red and black lists, a chart and a sortable table",
               ("200", "302", "403", "422"), params=[contract.query(name) for name in ("by", "period", "from", "to", "sort")])
@staff_only(*READERS)
def stats_page() -> ResponseReturnValue:
    """The period's figures by the chosen grouping, sorted by the chosen figure."""
    by = request.args.get("by", "unit")
    by = by if by in GROUPS else "unit"
    name, period = chosen_period()
    layer, at = current_layer(), now()
    result = queries.table(g.db, layer, by, period, at, current_app.config["RANKING"])
    district = queries.table(g.db, layer, "district", period, at, current_app.config["RANKING"]).row(DISTRICT)
    sort = request.args.get("sort", "")
    sort = sort if sort in SORTABLE else ""
    rows = result.records()
    if sort:
        rows.sort(key=lambda r: (r[sort] is None, -(r[sort] or 0)))
    active = [r for r in rows if r["received"] or r["open"] or r["held"] or by != "unit"]
    names = key_names(by)
    shown = (sort,) if sort else ("on_time_rate", "closure_rate")
    chart = {"series": [{"key": key, "label": str(FIGURE_NAMES[key]), "percent": key.endswith("_rate")} for key in shown],
             "rows": [{"name": names.get(r["key"], r["key"]), **{key: r[key] for key in shown}} for r in active if r[shown[0]] is not None][:CHART_BARS]}
    return render_template("stats.html", by=by, groups=GROUPS, presets=PRESETS, preset=name, period=period, rows=active,
                           idle=[r["key"] for r in rows if r not in active], names=names, district=district, result=result, figure_names=FIGURE_NAMES,
                           columns=COLUMNS, sortable=SORTABLE, sort=sort, chart=chart, sort_names=SORT_NAMES)


def _title(period: Period) -> str:
    return _("%(district)s urban management bulletin, %(first)s to %(last)s", district=live.district_name(current_layer()),
             first=period.first.isoformat(), last=period.last.isoformat())


@bp.get("/bulletin")
@contract.page("The bulletin (通报) of a period as a printable page: headline figures, red and black lists, a table per grouping",
               ("200", "302", "403", "422"), params=[contract.query(name) for name in ("period", "from", "to")])
@staff_only(*READERS)
def bulletin_page() -> ResponseReturnValue:
    """The bulletin, printable."""
    name, period = chosen_period()
    tables = _tables(period)
    return render_template("bulletin.html", title=_title(period), tables=tables, groups=GROUPS, names={by: key_names(by) for by in GROUPS},
                           district=tables["district"].row(DISTRICT), figure_names=FIGURE_NAMES, columns=COLUMNS, preset=name, period=period)


@bp.get("/bulletin.xlsx")
@contract.page("The bulletin of a period as an Excel workbook: a summary sheet and one sheet per grouping, Chinese headers, the period in the title",
               ("200", "302", "403", "422"), params=[contract.query(name) for name in ("period", "from", "to")], download=XLSX)
@staff_only(*READERS)
def bulletin_workbook() -> ResponseReturnValue:
    """The bulletin as a workbook, in Chinese whatever the page's language."""
    _name, period = chosen_period()
    tables = _tables(period)
    with force_locale("zh"):
        headers: dict[str, Any] = {key: str(value) for key, value in FIGURE_NAMES.items()}
        headers.update(name=_("Name"), summary_sheet=_("Summary"))
        district = tables["district"].row(DISTRICT)
        summary = [(headers[c], district[c]) for c in ("received", "fixed", "due", "closure_rate", "on_time_rate", "rework_rate", "extension_rate",
                                                        "overdue", "held")]
        units = key_names("unit")
        boards = [(_("Red list (best units)"), [units.get(u, u) for u in tables["unit"].red]),
                  (_("Black list (units that must improve)"), [units.get(u, u) for u in tables["unit"].black])]
        sheets = [(str(GROUPS[by]), tables[by], key_names(by)) for by in GROUPS]
        body = bulletin.workbook(_title(period), sheets, headers, summary, boards)
    filename = f"bulletin-{period.first.isoformat()}-{period.last.isoformat()}.xlsx"
    return Response(body, mimetype=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
