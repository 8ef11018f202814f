"""Staff pages beside the consoles (`api.reports.console_pages`, `api.layers.plan_pages`): ``/coverage``
(now the planners' console) and ``/units/{id}``, a
unit's figures, reports with deadlines and map, for dispatchers and planners (a unit's own
account works from ``/console/unit``)."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from api.auth.roles import Caller, Role
from api.auth.sessions import staff_only
from api.figures import queries
from api.layers.live import current_layer
from api.persistence.clock import now
from api.persistence.models import Report
from api.reports import services
from api.web import contract
from zones.worktime import TIMEZONE

bp = Blueprint("pages", __name__, template_folder="templates")


@bp.get("/coverage")
@contract.page("Where coverage used to be: to the planners' console", ("301",))
def coverage_page() -> ResponseReturnValue:
    """Where coverage used to be shown: the planners' console."""
    return redirect(url_for("plan.plan_console"), 301)


@bp.get("/units/<unit_id>")
@contract.page("A unit's page for dispatchers and planners: figures, reports with deadlines, its map (a unit: its own console)",
               ("200", "302", "303", "403", "404"))
@staff_only(Role.UNIT, Role.DISPATCHER, Role.PLANNER, Role.LEADER)
def unit_page(unit_id: str) -> ResponseReturnValue:
    """A unit's page: its figures, its zones and test points, its reports with deadlines, its map."""
    caller: Caller = g.caller
    if caller.role == Role.UNIT:
        if caller.unit_id != unit_id:
            abort(403)
        return redirect(url_for("console.unit_console"), 303)
    layer = current_layer()
    zones = layer.zones[layer.zones["unit_id"] == unit_id]
    points = layer.test_points[layer.test_points["unit_id"] == unit_id]
    if not len(zones) and not layer.knows_unit(unit_id):
        abort(404)
    reports = g.db.scalars(select(Report).where(Report.unit_id == unit_id).order_by(Report.id.desc()).limit(200)).all()
    at = now()
    figures = queries.unit_figures(g.db, layer, queries.all_time(at.astimezone(TIMEZONE).date()), at, unit_id)
    return render_template("unit.html", unit_id=unit_id, zones=len(zones), points=len(points), figures=figures,
                           reports=[(r, services.is_overdue(r, at)) for r in reports])
