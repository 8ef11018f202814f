"""The citizens' pages (随手拍), no account needed: ``/report`` to report a problem from a phone,
``/report/check`` (the unit that would take it, and open reports of the same problem nearby, as
the pin moves), and ``/r/<ref>`` to follow a report by its public reference.

Submissions are limited per client address like the API's public ones; a report's photos are
re-encoded without their metadata before anything is stored, and an error stores nothing.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from api.auth.roles import Caller, Role
from api.layers import live
from api.layers.live import current_layer
from api.persistence.clock import now
from api.persistence.models import Report
from api.reports import citizens, form_photos, open_reports, services
from api.reports.photos import MAX_SIDE
from api.routing.location import Location
from api.web import contract, parsing, ratelimit
from api.web.config import MAX_PHOTOS
from api.web.errors import ApiError
from api.web.forms import ReopenForm, ReportForm
from api.web.i18n import PLACE_KIND_NAMES
from zones.config import NEARBY_REPORT_RADIUS_M
from zones.enums import ReportSource, Status
from zones.errors import ConflictError
from zones.places import MAX_QUERY

bp = Blueprint("citizens", __name__, template_folder="templates")
#: Who the history names as the sender of a report from this page.
WEB_CITIZEN = Caller(Role.PUBLIC, username="web")


def _form_page(form: ReportForm, photo_errors: list[str], status: int = 200, query: str = "") -> ResponseReturnValue:
    limits = {"max_photo_bytes": current_app.config["MAX_PHOTO_BYTES"], "max_photos": MAX_PHOTOS, "max_side": MAX_SIDE,
              "retention_days": current_app.config["CONTACT_RETENTION_DAYS"], "radius_m": int(NEARBY_REPORT_RADIUS_M)}
    return render_template("report.html", form=form, photo_errors=photo_errors, limits=limits, **_places(query)), status


def _places(query: str) -> dict[str, object]:
    """What the place search shows for ``query``: the places found, best first."""
    return {"query": query.strip()[:MAX_QUERY], "found": live.places().find(query), "kind_names": PLACE_KIND_NAMES}


@bp.get("/report")
@contract.page("The citizens' form (随手拍): where, what, one to three photos, a few words, an optional phone number; "
               "a place found by name (place) or a spot chosen from it (lon, lat) marks where", params=[contract.query(n) for n in ("place", "lon", "lat")])
def report_form() -> ResponseReturnValue:
    """The form: where, what, photos, a few words, an optional phone number. Without scripts, the
    place search comes back here with the places it found, and a chosen one fills the spot in."""
    spot = {name: value for name in ("lon", "lat") if (value := request.args.get(name, type=float)) is not None}
    return _form_page(ReportForm(current_layer(), client_ref=uuid.uuid4().hex, **spot), [], query=request.args.get("place", ""))


@bp.get("/report/places")
@contract.page("A fragment of the form: the streets, sub-districts and places a name or its pinyin initials find, each moving the pin",
               params=[contract.query("place")])
def places() -> ResponseReturnValue:
    """The places the search box names (Chinese or pinyin), as links that mark the spot."""
    return render_template("_places.html", **_places(request.args.get("place", "")))


@bp.post("/report")
@contract.page("Send a report (or, with join, a +1 on an open report nearby); the receipt follows", ("303", "400", "404", "413", "422", "429", "503"),
               multipart=True, form=contract.form_schema(
                   ReportForm, photos={"type": "array", "maxItems": MAX_PHOTOS, "items": {"type": "string", "format": "binary"}}, join={"type": "string"}))
def submit() -> ResponseReturnValue:
    """Store, route and dispatch the report, then show its receipt; or join an open report
    nearby (the ``join`` button) as a "+1". Anything wrong: the form again, saying what."""
    layer = current_layer()
    form = ReportForm(layer)
    if request.form.get("join"):
        return _join(request.form["join"], form)
    photos, photo_errors = form_photos.attached()
    if not form.validate() or photo_errors:
        return _form_page(form, photo_errors, 422)
    ratelimit.check_submission(None)
    good, photo_errors = form_photos.cleaned(photos)
    if photo_errors:
        return _form_page(form, photo_errors, 422)
    refs = form_photos.store(g.db, good, WEB_CITIZEN.actor)
    item = services.Submission(
        location=Location(form.lon.data, form.lat.data, form.crs.data, form.accuracy_m.data), category=form.category.data,
        description=(form.description.data or "").strip(), photos=refs, source=ReportSource.CITIZEN.value,
        reporter_contact=(form.phone.data or "").strip() or None, client_ref=f"web-{form.client_ref.data}" if form.client_ref.data else None,
    )
    config = current_app.config["ROUTING"]
    try:
        report, _created = services.submit(g.db, layer, config, item, idempotency_key=None, caller=WEB_CITIZEN, worker=live.worker())
    except ConflictError:
        # The form was sent before with other contents (the back button, then a change): this is a new report.
        report, _created = services.submit(g.db, layer, config, services.Submission(**{**item.__dict__, "client_ref": None}),
                                           idempotency_key=None, caller=WEB_CITIZEN, worker=live.worker())
    return redirect(url_for(".progress", ref=report.public_ref, new=1), 303)


def _join(ref: str, form: ReportForm) -> ResponseReturnValue:
    """A "+1" on the open report ``ref`` (with the phone number, if given), instead of a new report."""
    report = citizens.by_ref(g.db, ref)
    if report is None:
        abort(404)
    if not form.phone.validate(form):
        return _form_page(form, [], 422)
    ratelimit.check_submission(None)
    try:
        citizens.join(g.db, report, (form.phone.data or "").strip() or None)
    except ValueError:
        return redirect(url_for(".progress", ref=report.public_ref), 303)
    return redirect(url_for(".progress", ref=report.public_ref, joined=1), 303)


@bp.get("/report/check")
@contract.page("A fragment of the form: the unit that takes a report at this spot, and open reports of the same problem nearby "
               "(a spot or category it cannot read: a hint to mark the spot or choose one)",
               params=[contract.query(name) for name in ("lon", "lat", "crs", "accuracy_m", "category")])
def check() -> ResponseReturnValue:
    """A fragment for the form: which unit the spot goes to for this category, and open reports
    of the same problem within the nearby radius (to join instead)."""
    layer = current_layer()
    category = request.args.get("category") or ""
    try:
        location = parsing.location(request.args.to_dict())
    except ApiError:
        return render_template("_report_check.html", decision=None, located=False)
    if category not in layer.category_table:
        return render_template("_report_check.html", decision=None, located=True)
    routed = services.decide(layer, current_app.config["ROUTING"], location, category)
    nearby = open_reports.nearby(g.db, live.open_index(), routed.lon, routed.lat, frozenset({category}), limit=5)
    return render_template("_report_check.html", decision=routed.decision, limit=layer.category_table[category], nearby=nearby, located=True,
                           outside=routed.decision.status == Status.OUTSIDE.value, radius_m=int(NEARBY_REPORT_RADIUS_M))


@bp.get("/r")
@contract.page("Follow a report by its reference, however typed", ("303", "404"), params=[contract.query("ref", required=True)])
def follow() -> ResponseReturnValue:
    """The front page's "follow a report" box: to the report's page, however the reference was typed."""
    ref = citizens.normalise_ref(request.args.get("ref", ""))
    if not ref:
        abort(404)
    return redirect(url_for(".progress", ref=ref), 303)


def _reopenable(report: Report) -> bool:
    return services.reopenable(report, float(current_app.config["REOPEN_DAYS"]), now())


def _progress_page(report: Report, form: ReopenForm, errors: list[str], status: int = 200) -> ResponseReturnValue:
    supporters = citizens.supporters(g.db, [report.id]).get(report.id, 0)
    return render_template("progress.html", report=report, steps=citizens.progress(report), supporters=supporters, form=form, errors=errors,
                           reopenable=_reopenable(report), reopen_days=current_app.config["REOPEN_DAYS"], max_photos=MAX_PHOTOS,
                           new=request.args.get("new") == "1", joined=request.args.get("joined") == "1",
                           reopened=request.args.get("reopened") == "1"), status


@bp.get("/r/<ref>")
@contract.page("A report's progress by its public reference, without personal data; within days of its publication, a form to say it is not fixed",
               ("200", "404"))
def progress(ref: str) -> ResponseReturnValue:
    """A report's progress by its public reference: what happened, when, and which unit has it;
    no reporter, description, photo or exact position."""
    report = citizens.by_ref(g.db, ref)
    if report is None:
        abort(404)
    return _progress_page(report, ReopenForm(), [])


@bp.post("/r/<ref>/reopen")
@contract.page("整改不满意: say the published fix did not hold (a reason, photos optional); the report goes back to the dispatchers",
               ("303", "400", "404", "409", "413", "422", "429"), multipart=True, form=contract.form_schema(
                   ReopenForm, photos={"type": "array", "maxItems": MAX_PHOTOS, "items": {"type": "string", "format": "binary"}}))
def reopen(ref: str) -> ResponseReturnValue:
    """A reporter says the fix did not hold: with a reason and optional photos, within the days
    after publication; anything wrong: the page again, saying what."""
    report = citizens.by_ref(g.db, ref)
    if report is None:
        abort(404)
    form = ReopenForm()
    if not _reopenable(report):
        return _progress_page(report, form, [_("This report can no longer be reopened: it is not published, or was published more than %(n)d days ago.",
                                                  n=current_app.config["REOPEN_DAYS"])], 409)
    if not form.validate():
        return _progress_page(report, form, [m for errs in form.errors.values() for m in errs], 422)
    ratelimit.check_submission(None)
    refs: list[str] = []
    if any(f and f.filename for f in request.files.getlist(form_photos.FIELD)):
        photos, problems = form_photos.attached()
        good, more = form_photos.cleaned(photos) if not problems else ([], [])
        if problems or more:
            return _progress_page(report, form, problems + more, 422)
        refs = form_photos.store(g.db, good, WEB_CITIZEN.actor)
    services.reopen(g.db, report, form.reason.data or "", refs, days=float(current_app.config["REOPEN_DAYS"]), worker=live.worker())
    return redirect(url_for(".progress", ref=report.public_ref, reopened=1), 303)
