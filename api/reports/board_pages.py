"""The public board (晾晒): published cases as a list and a map, filtered by sub-district, campaign
and period, each with the photos a dispatcher published (the reporter's only where chosen; the
unit's rectification), the unit that fixed it and how long it took. Never the reporter's contact,
the exact time or the exact position.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from api.layers.live import current_layer
from api.persistence.clock import now
from api.reports import citizens
from api.web import contract, parsing
from api.web.i18n import campaign_names, subdistrict_names
from zones.workflow import State

bp = Blueprint("board", __name__, template_folder="templates")
PAGE_SIZE = 20
#: The board's periods: key → (label, days back; None for all).
PERIODS = {"all": (_l("All time"), None), "7d": (_l("Last 7 days"), 7), "30d": (_l("Last 30 days"), 30), "365d": (_l("Last year"), 365)}


@bp.get("/public")
@contract.page("The public board (晾晒): published cases as a list and a map; a filter it does not know (area, group, "
               "period all|7d|30d|365d, page) is left out", params=[contract.query(name) for name in ("area", "group", "period", "page")])
def board() -> ResponseReturnValue:
    """The list (newest first, in pages) and the map of the published cases the filter shows."""
    layer = current_layer()
    area_choices, groups = subdistrict_names(layer), campaign_names(layer)
    args = request.args
    area = args.get("area") if args.get("area") in area_choices else None
    group = args.get("group") if args.get("group") in groups else None
    period = str(args.get("period")) if args.get("period") in PERIODS else "all"
    days = PERIODS[period][1]
    page = parsing.page_number(args.get("page"))
    board_filter = citizens.BoardFilter(
        area_id=area, categories=tuple(c.code for c in layer.category_table.values() if c.group == group) if group else None,
        since=now() - timedelta(days=days) if days else None)
    total = citizens.count_published(g.db, board_filter)
    cases = citizens.published_cases(g.db, board_filter, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render_template("public.html", cases=cases, total=total, page=page, pages=max(1, -(-total // PAGE_SIZE)),
                           points=citizens.published_points(g.db, board_filter), area_choices=area_choices, groups=groups,
                           periods={key: label for key, (label, _days) in PERIODS.items()}, chosen={"area": area, "group": group, "period": period})


@bp.get("/public/<ref>")
@contract.page("One published case", ("200", "404"))
def case(ref: str) -> ResponseReturnValue:
    """One published case."""
    report = citizens.by_ref(g.db, ref)
    if report is None or report.state != State.PUBLISHED.value:
        abort(404)
    return render_template("public_case.html", case=citizens.cases_of(g.db, [report])[0])
