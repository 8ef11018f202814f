"""Staff consoles, each for the signed-in role: ``/coverage`` for planners (figures per district
and sub-district, the coverage map, downloads), ``/dispatch`` for dispatchers (the queues of
ambiguous, fallback, disputed and overdue reports, with reassign) and ``/units/{id}`` for a unit
(its figures, its reports with deadlines, its map). Server-rendered; every form carries its CSRF
token and works without JavaScript.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from api import analysis, services
from api.auth import Caller, Role
from api.clock import now
from api.errors import ApiError
from api.forms import ReassignForm
from api.persistence.models import Report
from api.sessions import staff_only
from api.state import current_layer
from zones import workflow

bp = Blueprint("pages", __name__)


@bp.get("/coverage")
@staff_only(Role.PLANNER, Role.DISPATCHER)
def coverage_page() -> ResponseReturnValue:
    """Figures per district and sub-district, the coverage map, and the downloads."""
    layer = current_layer()
    return render_template("coverage.html", s=analysis.coverage(layer).summary, version=layer.version)


@bp.get("/dispatch")
@staff_only(Role.DISPATCHER)
def dispatch_page() -> ResponseReturnValue:
    """The dispatchers' queues: ambiguous, fallback, disputed and overdue reports, with reassign."""
    return render_template("dispatch.html", queues=services.dispatch_queues(g.db), form=ReassignForm())


@bp.post("/dispatch/<int:report_id>/reassign")
@staff_only(Role.DISPATCHER)
def reassign(report_id: int) -> ResponseReturnValue:
    """Reassign a report to another unit, with the dispatcher's reason."""
    form = ReassignForm()
    report = g.db.get(Report, report_id)
    if report is None:
        abort(404)
    if not form.validate():
        flash(_("Give the new unit's code."), "error")
        return redirect(url_for(".dispatch_page"), 303)
    unit_id = form.unit_id.data.strip()
    try:
        services.transition(g.db, current_layer(), report, g.caller, workflow.Action.REASSIGN.value,
                            note=form.note.data or _("Reassigned on the dispatch console"), evidence=[], unit_id=unit_id)
    except ApiError as err:
        flash(_("Not reassigned: %(unit)s is not a unit of the current zone layer.", unit=unit_id) if err.status == 422
              else _("Not reassigned: the report changed meanwhile."), "error")
        return redirect(url_for(".dispatch_page"), 303)
    flash(_("Report %(id)d reassigned to %(unit)s.", id=report_id, unit=unit_id), "info")
    return redirect(url_for(".dispatch_page"), 303)


@bp.get("/units/<unit_id>")
@staff_only(Role.UNIT, Role.DISPATCHER, Role.PLANNER)
def unit_page(unit_id: str) -> ResponseReturnValue:
    """A unit's page: its figures, its zones and test points, its reports with deadlines, its map."""
    caller: Caller = g.caller
    if caller.role == Role.UNIT and caller.unit_id != unit_id:
        abort(403)
    layer = current_layer()
    zones = layer.zones[layer.zones["unit_id"] == unit_id]
    points = layer.test_points[layer.test_points["unit_id"] == unit_id]
    if not len(zones) and not layer.knows_unit(unit_id):
        abort(404)
    reports = g.db.scalars(select(Report).where(Report.unit_id == unit_id).order_by(Report.id.desc()).limit(200)).all()
    figures = services.unit_figures(g.db).get(unit_id, workflow.UnitFigures(unit_id, 0, 0, 0, 0, 0, None))
    at = now()
    return render_template("unit.html", unit_id=unit_id, zones=len(zones), points=len(points), figures=figures,
                           reports=[(r, services.is_overdue(r, at)) for r in reports])
