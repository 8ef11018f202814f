"""The consoles that run the closed loop: ``/console/dispatch`` (the dispatchers' queues, the list
of every report with filters, and their map), ``/console/reports/<id>`` (a report with its
photos, map, history and reports nearby, and every action the caller's role may take on it) and
``/console/unit`` (a unit's open work by deadline, its figures beside the district's, its map).

Every action is a plain form with its CSRF token and the version of the report it was made on:
a change by someone else in between is told ("reload"), never overwritten.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from api.auth.roles import Caller, Role
from api.auth.sessions import staff_only
from api.figures import queries
from api.layers import drafts, live
from api.layers.live import current_layer
from api.persistence.clock import now
from api.persistence.models import MAX_ID, Report
from api.reports import citizens, console, form_photos, open_reports, replies, services
from api.web import contract, parsing
from api.web.config import MAX_PHOTOS
from api.web.forms import DISPUTE_REASONS, ActionForm, BulkForm, ChoiceForm
from api.web.i18n import action_name, campaign_names, category_label, state_name, subdistrict_names
from zones.enums import ReportSource
from zones.errors import IllegalTransitionError, InvalidInputError
from zones.workflow import UNIT_ACTIONS, Action, State
from zones.worktime import TIMEZONE

bp = Blueprint("console", __name__, template_folder="templates", url_prefix="/console")
PAGE_SIZE = 50
PERIODS = {"7d": 7, "30d": 30, "365d": 365}
QUEUE_NAMES = {
    "submitted": _l("Not dispatched"), "reopened": _l("Not fixed, say reporters"), "disputed": _l("Disputed by the unit"),
    "extension": _l("Asking for more time"), "overdue": _l("Overdue"), "rectified": _l("Waiting for verification"),
    "verified": _l("Waiting for publication"), "held": _l("On hold"), "ambiguous": _l("Location uncertain"),
    "fallback": _l("Coverage gap (sent to the sub-district)"),
}
#: What each action needs from its form beyond the report.
NEEDS_UNIT = (Action.DISPATCH, Action.REASSIGN)
CHANGED = _l("This report was changed by someone else meanwhile. Reload it and act again.")


@bp.get("/dispatch")
@contract.page("The dispatchers' console: the queues (each report in one, by precedence) with counts, the list of reports "
               "with filters, sorting, paging and search, and its map", ("200", "302", "403"), params=[
                   contract.query(name) for name in ("queue", "state", "unit", "group", "area", "source", "period", "overdue", "q", "sort", "page")])
@staff_only(Role.DISPATCHER)
def dispatch_console() -> ResponseReturnValue:
    """The queues with their counts, the list (a queue, or filters) and its map."""
    layer, args, at = current_layer(), request.args, now()
    groups, area_choices = campaign_names(layer), subdistrict_names(layer)
    chosen = {key: args.get(key) or "" for key in ("queue", "state", "unit", "group", "area", "source", "period", "q", "sort")}
    chosen["overdue"] = "1" if args.get("overdue") == "1" else ""
    counts = console.queue_counts(g.db, at)
    if chosen["q"]:  # a number or a reference names one report, wherever it is: shown under its own state, not a queue's name
        chosen["queue"] = ""
    if chosen["queue"] not in console.QUEUES:  # filters: the list; nothing chosen: the first queue with work in it
        filtering = any(chosen[k] for k in ("state", "unit", "group", "area", "source", "period", "q", "overdue"))
        chosen["queue"] = "" if filtering else next((q for q in console.QUEUES if counts[q]), console.QUEUES[0])
    report_filter = console.ReportFilter(
        queue=chosen["queue"] or None, state=chosen["state"] if chosen["state"] in State.values() else None,
        unit_id=chosen["unit"] or None, area_id=chosen["area"] if chosen["area"] in area_choices else None,
        categories=tuple(c.code for c in layer.category_table.values() if c.group == chosen["group"]) if chosen["group"] in groups else None,
        source=chosen["source"] if chosen["source"] in ReportSource.values() else None,
        since=at - timedelta(days=PERIODS[chosen["period"]]) if chosen["period"] in PERIODS else None,
        overdue=chosen["overdue"] == "1", search=chosen["q"] or None)
    sort = chosen["sort"] if chosen["sort"] in console.SORTS else "oldest"
    page = parsing.page_number(args.get("page"))
    rows, total = console.list_reports(g.db, report_filter, at, sort=sort, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    points = [{"lon": r.lon, "lat": r.lat, "name": f"{r.id} · {category_label(layer, r.category)}", "url": url_for(".report_page", report_id=r.id)}
              for r in rows]
    names = layer.unit_names
    return render_template("console_dispatch.html", bulk_form=BulkForm(back=request.full_path.rstrip("?")), bulk_actions=BULK_ACTIONS,
                           all_units=sorted(((u, names.get(u, u)) for u in layer.known_units), key=lambda pair: (pair[1], pair[0])),
                           counts=counts, queue_names=QUEUE_NAMES, rows=rows, total=total,
                           notes=console.latest_notes(g.db, [r.id for r in rows]), page=page, pages=max(1, -(-total // PAGE_SIZE)), chosen=chosen, sort=sort,
                           groups=groups, area_choices=area_choices,
                           sources=ReportSource.values(), states=State.values(), points=points, at=at,
                           publication=drafts.awaiting_reassignment(g.db, layer.version))


#: What a dispatcher may do to many reports at once from the list.
BULK_ACTIONS = (Action.CONFIRM, Action.ESCALATE, Action.REASSIGN)


@bp.post("/dispatch/bulk")
@contract.page("Take one action (confirm, escalate, reassign) on the ticked reports of the list; each that cannot take it is named",
               ("303", "302", "400", "403"), form=contract.form_schema(BulkForm, report_id={"type": "array", "items": {"type": "integer"}}))
@staff_only(Role.DISPATCHER)
def bulk() -> ResponseReturnValue:
    """Apply the chosen action to every ticked report, each on its own: one that cannot take it
    (its state moved on, a unit missing) is named and left as it is; the list is shown again."""
    form = BulkForm()
    if not form.validate():
        abort(400)
    back = form.back.data or ""
    back = back if back.startswith("/console/dispatch") and "//" not in back else url_for(".dispatch_console")  # the list as it was, never off the site
    action = Action(form.action.data)
    unit_id = (form.unit_id.data or "").strip() or None
    ids = sorted({int(i) for i in request.form.getlist("report_id") if i.isdigit() and 0 < int(i) <= MAX_ID})
    if not ids or (action == Action.REASSIGN and not unit_id):
        flash(_("Tick the reports, and for a reassignment choose the unit."), "error")
        return redirect(back, 303)
    done, refused = 0, []
    for report_id in ids:
        report = g.db.get(Report, report_id)
        if report is None:
            continue
        try:
            with g.db.begin_nested():
                services.transition(g.db, current_layer(), report, g.caller, action.value, note=(form.note.data or "").strip(), evidence=[],
                                    unit_id=unit_id if action == Action.REASSIGN else None, worker=live.worker())
            done += 1
        except (IllegalTransitionError, InvalidInputError):
            g.db.refresh(report)
            refused.append(f"{report_id}（{state_name(report.state)}）")
    flash(_("Done: %(action)s on %(n)d reports.", action=action_name(action.value), n=done), "info")
    if refused:
        flash(_("Not done, as they are now: %(reports)s", reports="、".join(refused)), "error")
    return redirect(back, 303)


def _report(report_id: int) -> Report:
    """The report, if the caller's role may see it: a unit only its own (else the 403 page)."""
    report = g.db.get(Report, report_id)
    if report is None:
        abort(404)
    caller: Caller = g.caller
    if caller.role == Role.UNIT and report.unit_id != caller.unit_id:
        abort(403)
    return report


def _actions(caller: Caller, report: Report) -> list[Action]:
    """The actions the caller's role may take on the report now."""
    allowed = [Action(a) for a in services.actions_of(report)]
    if caller.role == Role.UNIT:
        return [a for a in allowed if a in UNIT_ACTIONS]
    if caller.role == Role.DISPATCHER:
        return [a for a in allowed if a not in UNIT_ACTIONS]
    return []


def _page(report: Report, form: ActionForm, errors: dict[str, str] | None = None, status: int = 200) -> ResponseReturnValue:
    caller: Caller = g.caller
    layer, at = current_layer(), now()
    after = [ref for t in report.transitions if t.action == Action.RECTIFY.value for ref in t.evidence]
    first, rest = console.unit_choices(layer, report)
    context: dict[str, Any] = {
        "report": report, "form": form, "errors": errors or {}, "actions": _actions(caller, report), "before": list(report.photos), "after": after,
        "verified_photos": services.verified_evidence(report),
        "nearby": open_reports.nearby(g.db, live.open_index(), report.lon, report.lat, layer.same_group(report.category), exclude=report.id),
        "surroundings": console.surroundings(layer, report), "flagged": console.flagged_duplicates(g.db, report),
        "near": {"m": round(live.open_index().radius_m), "days": live.open_index().window.days},
        "units_first": first, "units_rest": rest, "supporters": citizens.supporters(g.db, [report.id]).get(report.id, 0), "dispute_reasons": DISPUTE_REASONS,
        "contact": report.reporter_contact if caller.role == Role.DISPATCHER else None, "at": at, "overdue": services.is_overdue(report, at),
        "limits": {"max_photo_bytes": current_app.config["MAX_PHOTO_BYTES"]}, "replies": replies.by_action(g.db),
    }
    return render_template("console_report.html", **context), status


@bp.get(f"/reports/<int(max={MAX_ID}):report_id>")
@contract.page("A report for staff (a unit: its own): photos, map, reason, nearby reports, history, and the caller's actions",
               ("200", "302", "403", "404"))
@staff_only(Role.DISPATCHER, Role.PLANNER, Role.UNIT)
def report_page(report_id: int) -> ResponseReturnValue:
    """A report with everything a dispatcher, planner or its unit needs, and the caller's actions."""
    report = _report(report_id)
    return _page(report, ActionForm(row_version=str(report.row_version)))


def _needs(action: Action, form: ActionForm, report: Report) -> tuple[dict[str, str], Report | None]:
    """What the form lacks for ``action`` (field → message in the page's language), and the
    original report of a duplicate."""
    errors: dict[str, str] = {}
    note = (form.note.data or "").strip()
    if action in services.NEEDS_NOTE and not note and not (action == Action.DISPUTE and form.reason.data in DISPUTE_REASONS):
        errors["note"] = _("Say why: this action needs a note.")
    if action in NEEDS_UNIT and not (form.unit_id.data or "").strip():
        errors["unit_id"] = _("Choose the unit.")
    original = None
    if action == Action.MARK_DUPLICATE:
        original = g.db.get(Report, int(form.duplicate_of.data)) if (form.duplicate_of.data or "").isdigit() else None
        if original is None or original.id == report.id or original.state == State.DUPLICATE.value:
            errors["duplicate_of"] = _("Choose the original report (another report, not a duplicate itself).")
    if action == Action.DISPUTE and form.reason.data not in DISPUTE_REASONS:
        errors["reason"] = _("Choose why the report is not yours.")
    if action in services.NEEDS_DATE and form.day.data is None:
        errors["day"] = _("Choose the date.")
    return errors, original


@bp.post(f"/reports/<int(max={MAX_ID}):report_id>")
@contract.page("Take one action on the report (the form names it and the report's version; a change meanwhile is told)",
               ("303", "302", "400", "403", "404", "405", "413", "422"), multipart=True, form=contract.form_schema(
                   ActionForm, public_photos={"type": "array", "items": {"type": "string"}},
                   photos={"type": "array", "maxItems": MAX_PHOTOS, "items": {"type": "string", "format": "binary"}}))
@staff_only(Role.DISPATCHER, Role.UNIT)
def act(report_id: int) -> ResponseReturnValue:
    """Take one action on the report from its page; errors come back in the page, a change made
    by someone else meanwhile is told."""
    report = _report(report_id)
    caller: Caller = g.caller
    form = ActionForm()
    if form.action.data not in Action.values():
        abort(400)
    action = Action(form.action.data)
    if (caller.role == Role.UNIT) != (action in UNIT_ACTIONS):
        abort(403)
    if form.row_version.data != str(report.row_version) or action not in _actions(caller, report):  # the report moved on since the page was drawn
        flash(str(CHANGED), "error")
        return redirect(url_for(".report_page", report_id=report.id), 303)
    if not form.validate():
        return _page(report, form, {name: "; ".join(errs) for name, errs in form.errors.items()}, 422)
    form.note.data = replies.compose(g.db, action.value, form.reply.data, form.note.data or "")
    errors, original = _needs(action, form, report)
    evidence: list[str] = []
    if action == Action.RECTIFY:
        photos, photo_errors = form_photos.attached()
        good, more = form_photos.cleaned(photos) if not photo_errors else ([], [])
        if photo_errors or more:
            errors["photos"] = " ".join(photo_errors + more)
        elif not errors:
            evidence = form_photos.store(g.db, good, caller.actor)
    if errors:
        return _page(report, form, errors, 422)
    note = (form.note.data or "").strip()
    if action == Action.DISPUTE:
        note = f"{DISPUTE_REASONS[form.reason.data]}{'：' + note if note else ''}"
    public = request.form.getlist("public_photos") if action == Action.PUBLISH else None
    worker = live.worker()
    dated = {services.NEEDS_DATE[action]: worker.calendar.closing(form.day.data)} if action in services.NEEDS_DATE and form.day.data else {}
    try:
        services.transition(g.db, current_layer(), report, caller, action.value, note=note, evidence=evidence,
                            unit_id=(form.unit_id.data or "").strip() or None, public_photos=public, duplicate_of=original, worker=worker, **dated)
        g.db.flush()
    except InvalidInputError as err:
        field = "day" if err.field in services.NEEDS_DATE.values() else err.field
        messages = {"unit_id": _("%(unit)s is not a unit of the current zone layer.", unit=form.unit_id.data),
                    "public_photos": _("Publish only photos of this report and of its fix."),
                    "day": _("Choose a later date: after today and after the present deadline.")}
        return _page(report, form, {field: messages.get(field, _("This cannot be done to the report as it is."))}, 422)
    except StaleDataError:
        g.db.rollback()
        flash(str(CHANGED), "error")
        return redirect(url_for(".report_page", report_id=report_id), 303)
    flash(_("Done: %(action)s.", action=action_name(action.value)), "info")
    if caller.role == Role.UNIT:
        return redirect(url_for(".unit_console"), 303)
    return redirect(url_for(".report_page", report_id=report.id), 303)


@bp.post(f"/reports/<int(max={MAX_ID}):report_id>/merge")
@contract.page("Merge the ticked possible duplicates into the report: their reporters and +1s count here", ("303", "302", "400", "403", "404"),
               form=contract.form_schema(ChoiceForm, report_id={"type": "array", "items": {"type": "integer"}}))
@staff_only(Role.DISPATCHER)
def merge(report_id: int) -> ResponseReturnValue:
    """Merge the ticked reports flagged as this one's possible duplicates."""
    report = _report(report_id)
    if not ChoiceForm().validate():
        abort(400)
    ticked = {int(i) for i in request.form.getlist("report_id") if i.isdigit()}
    chosen = [r for r in console.flagged_duplicates(g.db, report) if r.id in ticked]
    if not chosen:
        flash(_("Tick the reports to merge."), "error")
        return redirect(url_for(".report_page", report_id=report.id) + "#duplicates", 303)
    try:
        merged = services.merge(g.db, current_layer(), report, chosen, g.caller, live.worker())
        g.db.flush()
    except (IllegalTransitionError, StaleDataError):
        g.db.rollback()
        flash(str(CHANGED), "error")
        return redirect(url_for(".report_page", report_id=report.id), 303)
    flash(_("Merged %(n)d reports into this one; their reporters count as +1s here.", n=merged), "info")
    return redirect(url_for(".report_page", report_id=report.id), 303)


@bp.get("/unit")
@contract.page("A unit's console: its open reports by deadline (or, tab=handled, those it handed over and those published lately), "
               "its figures beside the district's, its map", ("200", "302", "403"), params=[contract.query("tab", enum=["handled"])])
@staff_only(Role.UNIT)
def unit_console() -> ResponseReturnValue:
    """The unit's open reports, overdue first then by deadline, or what it handled and waits on;
    its figures beside the district's medians; its zones and test points on the map."""
    caller: Caller = g.caller
    unit_id = caller.unit_id or ""
    layer, at = current_layer(), now()
    work = console.open_work(g.db, unit_id, at)
    handled = console.handled_work(g.db, unit_id, at)
    return render_template("console_unit.html", unit_id=unit_id, work=work, late={r.id for r in work if services.is_overdue(r, at)},
                           handled=handled, tab="handled" if request.args.get("tab") == "handled" else "", handled_days=console.HANDLED_DAYS,
                           standing=queries.standing(queries.table(g.db, layer, "unit", queries.recent(at.astimezone(TIMEZONE).date()), at,
                                                                   current_app.config["RANKING"]), unit_id), recent_days=queries.RECENT_DAYS,
                           zones=int((layer.zones["unit_id"] == unit_id).sum()), points=int((layer.test_points["unit_id"] == unit_id).sum()))
