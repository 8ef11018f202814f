"""The assessment centre's pages: ``/console/rounds`` (the rounds, and a form to make one: a
dispatcher any level, a unit its self-check) and ``/console/rounds/<id>`` (progress on a map while
the round runs, the scores per point type, unit and sub-district, the items that cost the most,
the re-inspection, and the Excel 通报)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _

from api.auth.roles import Caller, Role
from api.auth.sessions import staff_only
from api.figures.figures_api import today
from api.inspections import checklist_store, round_bulletin, rounds, scores, trend
from api.inspections.round_api import checklists_of
from api.layers.finding_text import finding_text
from api.layers.live import current_layer
from api.persistence.models import MAX_ID, Round
from api.web import contract
from api.web.forms import AssignForm, ChecklistsForm, ChoiceForm, RoundForm, TrendForm
from api.web.i18n import point_type_name, source_name
from zones.enums import ReportSource
from zones.errors import InvalidInputError, LayerReadError, NotAllowedError, SchemaError

bp = Blueprint("round_console", __name__, template_folder="templates", url_prefix="/console/rounds")
READERS = (Role.DISPATCHER, Role.PLANNER, Role.LEADER, Role.UNIT)
#: Who publishes checklists.
EDITORS = (Role.DISPATCHER, Role.PLANNER)
#: Who reads the weekly scoring of the district's rounds.
TREND_READERS = (Role.DISPATCHER, Role.PLANNER, Role.LEADER)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _form(caller: Caller) -> RoundForm:
    form = RoundForm()
    levels = rounds.LEVELS if caller.role == Role.DISPATCHER else (ReportSource.SELF_CHECK.value,)
    form.level.choices = [(level, source_name(level)) for level in levels]
    found = checklist_store.current(g.db)
    form.types.choices = [(t, point_type_name(t)) for t in (found.types if found else [])]
    layer = current_layer()
    areas = layer.areas[layer.areas["level"] == "subdistrict"] if "level" in layer.areas.columns else layer.areas
    form.areas.choices = [(str(a), str(n)) for a, n in zip(areas["area_id"], areas["name"], strict=True)]
    form.inspectors.choices = [(name, name) for name in rounds.inspectors(g.db)]
    return form


@bp.route("", methods=["GET", "POST"])
@contract.page("The inspection rounds, and a form to make one (a unit: a self-check of its own points)", ("200", "302", "403"), method="GET")
@contract.page("Make an inspection round", ("303", "302", "400", "403", "422"), form=contract.form_schema(RoundForm), method="POST")
@staff_only(*READERS)
def rounds_page() -> ResponseReturnValue:
    """The caller's rounds with their progress, and the form."""
    caller: Caller = g.caller
    form = _form(caller)
    status = 200
    if request.method == "POST":
        if caller.role not in (Role.DISPATCHER, Role.UNIT):
            abort(403)
        if form.validate():
            spec = rounds.RoundSpec(form.name.data, form.level.data, form.first_day.data, form.last_day.data,
                                    rounds.Scope(tuple(form.types.data or ()), tuple(form.areas.data or ()), None, form.sample.data, form.seed.data),
                                    tuple(form.inspectors.data or ()))
            checklists = checklist_store.current(g.db)
            try:
                if checklists is None:
                    raise InvalidInputError("no checklists", field="types", problems=["no checklists"])
                made = rounds.create(g.db, current_layer(), checklists, spec, caller)
            except (InvalidInputError, NotAllowedError) as err:
                field = getattr(err, "field", "name").split(".")[-1]
                messages = {"scope": _("No test point with a checklist is in this scope."), "last_day": _("The round ends on or after its first day."),
                            "sample": _("Take a sample of at least 1 point.")}
                target = getattr(form, field if hasattr(form, field) else "name")
                target.errors = [*target.errors, messages.get(field, _("This round cannot be made: %(why)s", why=str(err)))]
                status = 422
            else:
                flash(_("Round made: %(n)d points.", n=len(made.points)), "info")
                return redirect(url_for(".round_page", round_id=made.id), 303)
        else:
            status = 422
    mine = rounds.rounds_of(g.db, caller)
    progress = scores.round_totals(g.db, [r.id for r in mine])
    return render_template("console_rounds.html", rounds=mine, progress=progress, form=form,
                           can_make=caller.role in (Role.DISPATCHER, Role.UNIT), can_trend=caller.role in TREND_READERS), status


@bp.route("/checklists", methods=["GET", "POST"])
@contract.page("The inspection checklists new rounds use, point type by point type", ("200", "302", "403"), method="GET")
@contract.page("Publish new checklists from a CSV or Excel table (refused naming each bad row and field)", ("303", "302", "400", "403", "413", "422"),
               form=contract.form_schema(ChecklistsForm), multipart=True, method="POST")
@staff_only(*READERS)
def checklists_page() -> ResponseReturnValue:
    """The current checklists by point type; dispatchers and planners publish a new table."""
    caller: Caller = g.caller
    form = ChecklistsForm()
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        if caller.role not in EDITORS:
            abort(403)
        upload = request.files.get("checklists")
        if form.validate() and upload is not None and upload.filename:
            try:
                found = checklist_store.publish_file(g.db, current_layer(), upload.stream, upload.filename, actor=caller.actor, note=form.note.data or "")
            except SchemaError as err:
                problems = [_("Row %(row)s, %(field)s: %(text)s", row=p.row, field=p.field, text=finding_text({"code": p.code, "params": p.params}))
                            for p in (err.report.errors if err.report else [])]
            except (InvalidInputError, LayerReadError) as err:
                problems = [str(err)]
            else:
                flash(_("Checklists published: version %(v)s, %(n)d items.", v=found.version, n=len(found.items)), "info")
                return redirect(url_for(".checklists_page"), 303)
        else:
            problems = [_("Choose the table to upload.")]
        status = 422
    found = checklist_store.current(g.db)
    by_type = {t: found.of_type(t) for t in found.types} if found else {}
    return render_template("console_checklists.html", checklists=found, by_type=by_type, form=form, problems=problems,
                           can_publish=caller.role in EDITORS), status


def _round(round_id: int) -> Round:
    found = rounds.visible(g.db, g.caller, round_id)
    if found is None:
        abort(404)
    return found


def _names() -> dict[str, Any]:
    layer = current_layer()
    areas = dict(zip(layer.areas["area_id"].astype(str), layer.areas["name"].astype(str), strict=True))
    return {"type": point_type_name, "unit": lambda u: layer.unit_names.get(u, u), "area": lambda a: areas.get(a, a)}


@bp.get(f"/<int(max={MAX_ID}):round_id>")
@contract.page("A round for the assessment centre: progress on a map, scores per point type, unit and sub-district, the worst items",
               ("200", "302", "403", "404"))
@staff_only(*READERS)
def round_page(round_id: int) -> ResponseReturnValue:
    """The round's progress and scores."""
    found = _round(round_id)
    result = scores.of_round(g.db, current_layer(), checklists_of(found), found)
    points = [{"id": p.point_id, "name": p.name, "type": point_type_name(p.point_type), "lon": round(p.lon, 6), "lat": round(p.lat, 6),
               "state": "failed" if p.failed else ("done" if p.inspected else "todo"), "rate": p.rate} for p in result.points]
    manages = g.caller.role == Role.DISPATCHER or (g.caller.role == Role.UNIT and g.caller.unit_id == found.unit_id)
    return render_template("console_round.html", round=found, result=result, points=points, names=_names(), recheck=ChoiceForm(),
                           can_recheck=manages and any(p.failed for p in result.points), assign=_assign_form(found) if manages else None)


def _assign_form(round_: Round) -> AssignForm:
    form = AssignForm()
    form.inspector.choices = [("", _("anyone")), *((name, name) for name in rounds.inspectors(g.db))]
    form.point_type.choices = [("", "—"), *((t, point_type_name(t)) for t in sorted({p.point_type for p in round_.points}))]
    return form


@bp.post(f"/<int(max={MAX_ID}):round_id>/assign")
@contract.page("Give a round's points (the ticked ones, or every point of a type) to an inspector", ("303", "302", "400", "403", "404"),
               form=contract.form_schema(AssignForm))
@staff_only(Role.DISPATCHER, Role.UNIT)
def assign(round_id: int) -> ResponseReturnValue:
    """Give the chosen points to the chosen inspector (or to anyone on the round)."""
    found = _round(round_id)
    form = _assign_form(found)
    if not form.validate():
        abort(400)
    chosen = [p.point_id for p in found.points if p.point_type == form.point_type.data] if form.point_type.data else list(form.point.data or ())
    try:
        changed = rounds.assign(g.db, found, g.caller, form.inspector.data or None, chosen)
    except NotAllowedError:
        abort(403)
    except InvalidInputError:
        flash(_("Tick the points to give, or choose a point type."), "error")
    else:
        flash(_("%(n)d points given to %(who)s.", n=changed, who=form.inspector.data or _("anyone")), "info")
    return redirect(url_for(".round_page", round_id=found.id, _anchor="points"), 303)


@bp.get("/trend")
@contract.page("The weekly scoring: every round's score rate week by week (or month by month) per unit, sub-district, point type or point",
               ("200", "302", "400", "403"))
@staff_only(*TREND_READERS)
def trend_page() -> ResponseReturnValue:
    """The trend table, worst latest score first, with the district's row."""
    form = TrendForm(request.args, meta={"csrf": False})
    rows = {"unit": _("Adopting unit"), "area": _("Sub-district"), "type": _("Point type"), "point": _("Test point")}
    form.by.choices = [(by, rows[by]) for by in trend.BY]
    form.every.choices = [(every, {"week": _("Weeks"), "month": _("Months")}[every]) for every in trend.EVERY]
    form.level.choices = [("", _("Every level but self-checks")), *((level, source_name(level)) for level in rounds.LEVELS)]
    if not form.validate():
        abort(400)
    levels = (form.level.data,) if form.level.data else trend.DISTRICT_LEVELS
    try:
        count = 8 if form.count.data is None else form.count.data
        found = trend.of(g.db, current_layer(), form.by.data, form.every.data, count, today(), levels)
    except InvalidInputError:
        abort(400)
    unnamed = {"unit": _("Unadopted test points"), "area": _("Outside the sub-districts")}.get(found.by, "—")
    return render_template("console_trend.html", trend=found, form=form, heading=rows[found.by], unnamed=unnamed,
                           called=point_type_name if found.by == "type" else trend.names(current_layer(), found.by))



@bp.post(f"/<int(max={MAX_ID}):round_id>/recheck")
@contract.page("Make the re-inspection (回头看) of the round's failed items, next week", ("303", "302", "400", "403", "404"),
               form=contract.form_schema(ChoiceForm))
@staff_only(Role.DISPATCHER, Role.UNIT)
def recheck(round_id: int) -> ResponseReturnValue:
    """The re-inspection round of the failures, for the seven days after the round ends."""
    found = _round(round_id)
    if not ChoiceForm().validate():
        abort(400)
    try:
        made = rounds.recheck(g.db, found, g.caller, found.last_day + timedelta(days=1), found.last_day + timedelta(days=7))
    except (InvalidInputError, NotAllowedError):
        flash(_("No failed item to go back to."), "error")
        return redirect(url_for(".round_page", round_id=found.id), 303)
    flash(_("Re-inspection made: %(n)d points.", n=len(made.points)), "info")
    return redirect(url_for(".round_page", round_id=made.id), 303)


@bp.get(f"/<int(max={MAX_ID}):round_id>/bulletin.xlsx")
@contract.page("A round's 通报 as an Excel workbook: the score, sheets per point type, unit and sub-district, the points, the worst items",
               ("200", "302", "403", "404"), download=XLSX)
@staff_only(*READERS)
def bulletin(round_id: int) -> ResponseReturnValue:
    """The round's bulletin, in Chinese whatever the page's language."""
    found = _round(round_id)
    result = scores.of_round(g.db, current_layer(), checklists_of(found), found)
    with force_locale("zh"):
        text = {key: str(value) for key, value in {
            "summary_sheet": _("Summary"), "by_type": _("By point type"), "by_unit": _("By adopting unit"), "by_area": _("By sub-district"),
            "points_sheet": _("Points"), "worst_sheet": _("Items that cost most"), "group": _("Group"), "points": _("Points in the round"),
            "inspected": _("Inspected"), "failed_points": _("Points with problems"), "possible": _("Possible score"), "score": _("Score"),
            "rate": _("Score rate"), "round": _("The round"), "point": _("Test point"), "code": _("Code"), "type": _("Point type"),
            "unit": _("Adopting unit"), "area": _("Sub-district"), "failed_items": _("Items failed"), "yes": _("yes"), "no": _("no"),
            "item": _("Item"), "clause": _("Clause"), "failures": _("Failures"), "repeated": _("Found again"), "lost": _("Points lost"),
        }.items()}
        title = _("%(name)s: inspection bulletin, %(first)s to %(last)s", name=found.name, first=found.first_day.isoformat(), last=found.last_day.isoformat())
        body = round_bulletin.workbook(title, result, text, _names())
    return Response(body, mimetype=XLSX, headers={"Content-Disposition": f'attachment; filename="round-{found.id}-bulletin.xlsx"'})
