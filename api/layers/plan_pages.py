"""The planners' console: ``/console/plan`` (coverage of the scope per sub-district, the map, the
lists of gaps, overlaps and unadopted test points, the downloads) and ``/console/layers`` (the
layer's versions, drafts, uploads, publication, rollback; a dispatcher reassigns the reports a
publication moved). Every action is a form with its CSRF token; the JSON API mirrors them
(`api.layers.layer_api`)."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from typing import Any

import shapely
from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from api.auth.roles import Caller, Role
from api.auth.sessions import staff_only
from api.layers import coverage_tables, drafts, live, upload_reader
from api.layers.drafts import DraftState
from api.layers.finding_text import finding_text
from api.layers.live import current_layer
from api.persistence.clock import now
from api.persistence.models import MAX_ID, LayerDraft, LayerPublication, LayerVersion, Report
from api.web import contract
from api.web.forms import ChoiceForm, LayerUploadForm, NoteForm
from api.web.geojson import features_json
from api.web.i18n import subdistrict_names
from zones.coverage import Coverage
from zones.errors import BusyError
from zones.layer import ZoneLayer

bp = Blueprint("plan", __name__, template_folder="templates", url_prefix="/console")
bp.add_app_template_filter(finding_text, "finding_text")
#: Rows of each list shown in the page; the downloads hold all of them.
LIST_ROWS = 50
#: Rows of a draft's zone changes shown in its page.
CHANGE_ROWS = 200
#: Why an adjusted suggestion is refused, in the page's language.
#: A draft's state as the pages say it.
STATE_NAMES = {DraftState.QUEUED: _l("processing"), DraftState.PROCESSING: _l("processing"), DraftState.REFUSED: _l("refused"),
               DraftState.OPEN: _l("open"), DraftState.PUBLISHED: _l("published"), DraftState.DISCARDED: _l("discarded")}
OUTLINE_PROBLEMS = {"not a GeoJSON geometry": _l("the outline could not be read"), "not a polygon": _l("the outline is not a polygon"),
                    "does not overlap the gap": _l("the outline does not cover any of the gap"),
                    "an outline or an owner is given for one gap at a time": _l("adjust one gap at a time")}


def _extent(layer: ZoneLayer, area_id: str | None) -> list[float]:
    """Where the coverage map opens: the scope (the built-up area), else the district; within one
    sub-district when one is chosen."""
    frame = layer.scope if layer.scope is not None and len(layer.scope) else layer.areas
    if area_id is not None:
        area = layer.areas.geometry[layer.areas["area_id"] == area_id].union_all()
        inside = shapely.intersection(frame.geometry.union_all(), area)
        return [round(float(v), 6) for v in (inside if not inside.is_empty else area).bounds]
    return [round(float(v), 6) for v in frame.total_bounds]


@bp.get("/plan")
@contract.page("The planners' console: coverage of the scope per sub-district, the map, gaps, overlaps and unadopted test points, downloads",
               ("200", "302", "403", "503"))
@staff_only(Role.PLANNER, Role.DISPATCHER)
def plan_console() -> ResponseReturnValue:
    """Coverage per sub-district, the map, the lists (largest first) and the downloads; ``?area=``
    narrows the lists and the map to one sub-district."""
    layer = current_layer()
    result = live.coverage(layer)
    area_id = request.args.get("area") if request.args.get("area") in subdistrict_names(layer) else None

    def within(frame: Any) -> Any:
        return frame if area_id is None else frame[frame["area_id"] == area_id]

    gaps, overlaps = within(coverage_tables.gaps(layer, result)), within(coverage_tables.overlaps(layer, result))
    return render_template("console_plan.html", s=result.summary, version=layer.version, extent=_extent(layer, area_id), area_id=area_id,
                           subdistricts=coverage_tables.subdistricts(layer, result).to_dict("records"),
                           gaps=gaps.head(LIST_ROWS).to_dict("records"), gap_total=len(gaps),
                           overlaps=overlaps.head(LIST_ROWS).to_dict("records"), overlap_total=len(overlaps),
                           points=within(coverage_tables.unadopted(layer, result)).to_dict("records"), list_rows=LIST_ROWS,
                           uncovered=within(coverage_tables.uncovered(layer, result)).to_dict("records"),
                           downloads=coverage_tables.DOWNLOADS, form=ChoiceForm())


@bp.get("/plan/map.json")
@contract.page("The planners' map: gaps, overlaps, and test points unadopted or in no zone", ("302", "403", "503"), data=True)
@staff_only(Role.PLANNER, Role.DISPATCHER)
def plan_map() -> ResponseReturnValue:
    """The map's gaps, overlaps and test points unadopted or in no zone (GeoJSON collections), computed once per version."""
    layer = current_layer()

    def make(result: Coverage) -> bytes:
        body = {"gaps": features_json(coverage_tables.gaps(layer, result), "gap_id"), "overlaps": features_json(coverage_tables.overlaps(layer, result).assign(
                    pair=lambda f: f["zone_a"] + "/" + f["zone_b"]), "pair"),
            "test_points": features_json(coverage_tables.points_to_mind(layer, result), "point_id")}
        return gzip.compress(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(), mtime=0)

    body = live.rendered(layer, "plan map", make)
    if "gzip" in request.accept_encodings:
        return Response(body, mimetype="application/json", headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return Response(gzip.decompress(body), mimetype="application/json", headers={"Vary": "Accept-Encoding"})


@bp.get("/plan/downloads/<what>.<fmt>")
@contract.page("A list as a file (attachment): gaps, suggestions, overlaps, test_points or subdistricts as gpkg, geojson, csv or xlsx",
               ("200", "302", "403", "404", "503"), path={"what": contract.Param("what", {"type": "string", "enum": list(coverage_tables.DOWNLOADS)}, "path")})
@staff_only(Role.PLANNER, Role.DISPATCHER)
def download(what: str, fmt: str) -> ResponseReturnValue:
    """A list as a file: ``gaps``, ``suggestions``, ``overlaps``, ``test_points`` (unadopted) or
    ``subdistricts``, as ``gpkg``, ``geojson``, ``csv`` (UTF-8 with BOM) or ``xlsx``."""
    if fmt not in coverage_tables.DOWNLOADS.get(what, ()):
        abort(404)
    layer = current_layer()
    body, mimetype, name = coverage_tables.download(coverage_tables.table(what, layer, live.coverage(layer)), what, fmt, layer.version)
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}"})


def _caller() -> Caller:
    return g.caller


#: A refused upload stays in the list of drafts this long, for its report.
REFUSED_LISTED = timedelta(days=1)


def _layers_page(upload_form: LayerUploadForm, status: int = 200) -> ResponseReturnValue:
    layer = current_layer()
    publications = g.db.scalars(select(LayerPublication).order_by(LayerPublication.id.desc()).limit(100)).all()
    listed = or_(LayerDraft.state.in_([DraftState.QUEUED, DraftState.PROCESSING, DraftState.OPEN]),
                 (LayerDraft.state == DraftState.REFUSED) & (LayerDraft.created_at > now() - REFUSED_LISTED))
    drafts = g.db.scalars(select(LayerDraft).where(listed).order_by(LayerDraft.id.desc())).all()
    stored = set(g.db.scalars(select(LayerVersion.version)).all())
    return render_template("console_layers.html", version=layer.version, publications=publications, drafts=drafts, stored=stored,
                           upload_form=upload_form, note_form=NoteForm(), state_names=STATE_NAMES), status


@bp.get("/layers")
@contract.page("The zone layer's publications (rollback), open drafts and the upload form", ("200", "302", "403"))
@staff_only(Role.PLANNER, Role.DISPATCHER)
def layers() -> ResponseReturnValue:
    """The versions (who, when, note, summary; rollback), the open drafts, and the upload form."""
    return _layers_page(LayerUploadForm())


@bp.post("/layers")
@contract.page("Upload a layer as a draft: it is created at once and processed in the background; its page shows the step, "
               "then the comparison or the report of errors by layer, row, feature and field", ("303", "302", "400", "403", "413", "422"),
               form=contract.form_schema(LayerUploadForm), multipart=True)
@staff_only(Role.PLANNER)
def upload_draft() -> ResponseReturnValue:
    """Upload a layer as a draft; its page follows its processing."""
    form = LayerUploadForm()
    if not form.validate_on_submit():
        abort(400)
    draft = live.queue_upload(request.files, _caller().actor)
    if draft is None:
        flash(_("Choose a GeoPackage, or at least one layer file."), "error")
        return _layers_page(form, status=422)
    g.db.flush()
    return redirect(url_for(".draft", draft_id=draft.id), 303)


@bp.get("/layers/versions/<version>/layer.gpkg")
@contract.page("A layer version as one GeoPackage (zones, test points, areas, scope, streets, calendar) to edit in a GIS and upload back as a draft",
               ("200", "302", "403", "404", "503"), download=coverage_tables.MIMETYPES["gpkg"])
@staff_only(Role.PLANNER, Role.DISPATCHER)
def version_file(version: str) -> ResponseReturnValue:
    """The version's GeoPackage, as an attachment named by the version."""
    try:
        body = live.version_gpkg(g.db, version)
    except LookupError:
        abort(404)
    return Response(body, mimetype=coverage_tables.MIMETYPES["gpkg"], headers={"Content-Disposition": f"attachment; filename=zonemap-layer-{version}.gpkg"})


def _chosen_gaps() -> list[str]:
    if not ChoiceForm().validate_on_submit():
        abort(400)
    return [g_id for g_id in request.form.getlist("gap_id") if g_id][:500]


@bp.post("/layers/suggestions")
@contract.page("Start a draft from the current version with the ticked gaps' suggestions", ("303", "302", "400", "403"),
               form=contract.form_schema(ChoiceForm, gap_id={"type": "string"}))
@staff_only(Role.PLANNER)
def suggestions_to_new_draft() -> ResponseReturnValue:
    """Start a draft from the current version with the chosen gaps' suggestions (the coverage lists)."""
    gap_ids = _chosen_gaps()
    if not gap_ids:
        flash(_("Tick the gaps whose suggestions you accept."), "error")
        return redirect(url_for(".plan_console") + "#gaps", 303)
    current = current_layer()
    draft = drafts.create_draft(g.db, upload_reader.current_upload(current), current, _caller().actor, live.work())
    return _accept(draft, gap_ids)


def _accept(draft: LayerDraft, gap_ids: list[str]) -> ResponseReturnValue:
    outline, unit_id = request.form.get("outline") or None, request.form.get("unit_id") or None
    try:
        drafts.accept_suggestions(draft, gap_ids, live.work(), outline=outline, unit_id=unit_id)
    except KeyError as err:
        g.db.rollback()
        flash(_("No gap %(ids)s in this layer: the lists changed meanwhile. Reload them.", ids=err.args[0]), "error")
        return redirect(request.referrer or url_for(".plan_console"), 303)
    except drafts.SuggestionError as err:
        g.db.rollback()
        if err.field == "unit_id":
            flash(_("%(unit)s is not a unit of the current zone layer.", unit=unit_id), "error")
        else:
            flash(_("The adjusted suggestion was not accepted: %(what)s.", what=OUTLINE_PROBLEMS.get(str(err), str(err))), "error")
        return redirect(request.referrer or url_for(".plan_console"), 303)
    g.db.flush()
    flash(_("%(n)d suggested zones were added to draft %(id)d.", n=len(gap_ids), id=draft.id), "ok")
    return redirect(url_for(".draft", draft_id=draft.id), 303)


def _open_draft(draft_id: int) -> LayerDraft:
    draft = g.db.get(LayerDraft, draft_id)
    if draft is None:
        abort(404)
    if draft.state != DraftState.OPEN:
        flash(_("Draft %(id)d is not open: it is %(state)s.", id=draft_id, state=STATE_NAMES.get(draft.state, draft.state)), "error")
        abort(redirect(url_for(".draft", draft_id=draft_id), 303))
    return draft


@bp.get(f"/layers/drafts/<int(max={MAX_ID}):draft_id>")
@contract.page("A draft beside the current version, its gaps, publish and discard", ("200", "302", "403", "404"))
@staff_only(Role.PLANNER, Role.DISPATCHER)
def draft(draft_id: int) -> ResponseReturnValue:
    """A draft beside the current version: what changes, coverage per sub-district before and
    after, the open reports it would give to another owner; its gaps; publish or discard."""
    row = g.db.get(LayerDraft, draft_id)
    if row is None:
        abort(404)
    current = current_layer()
    comparison, comparing = None, False
    if row.state == DraftState.OPEN:
        try:
            comparison = drafts.compare(g.db, current, row, live.work())
        except BusyError:
            comparing = True  # the page refreshes itself until it is done
    publication = g.db.scalars(select(LayerPublication).where(LayerPublication.draft_id == row.id)).first()
    return render_template("console_draft.html", draft=row, pending=DraftState(row.state).is_pending or comparing, comparing=comparing,
                           current=current.version, comparison=comparison, publication=publication,
                           counts=comparison.counts if comparison else None,
                           zone_changes=comparison.zones.head(CHANGE_ROWS).to_dict("records") if comparison else [],
                           point_changes=comparison.test_points.head(CHANGE_ROWS).to_dict("records") if comparison else [],
                           affected=comparison.affected.to_dict("records") if comparison else [],
                           gaps=comparison.gaps.head(LIST_ROWS).to_dict("records") if comparison else [],
                           list_rows=LIST_ROWS, change_rows=CHANGE_ROWS, note_form=NoteForm(), form=ChoiceForm())


@bp.get(f"/layers/drafts/<int(max={MAX_ID}):draft_id>/map.json")
@contract.page("A draft's map: its changed zones, its gaps, the open reports it moves (202 with Retry-After while it is compared)",
               ("202", "302", "403", "404"), data=True)
@staff_only(Role.PLANNER, Role.DISPATCHER)
def draft_map(draft_id: int) -> ResponseReturnValue:
    """The draft's map: its changed zones (a removed one as it was), its gaps, and the open reports it moves."""
    row = g.db.get(LayerDraft, draft_id)
    if row is None or row.state != DraftState.OPEN:
        abort(404)
    try:
        comparison = drafts.compare(g.db, current_layer(), row, live.work())
    except BusyError as busy:  # the page's script asks again (a 202, not an error in the browser's console)
        return Response('{"pending":true}', status=202, mimetype="application/json", headers={"Retry-After": str(busy.retry_after_s)})
    reports = g.db.execute(select(Report.id, Report.lon, Report.lat).where(Report.id.in_([int(i) for i in comparison.affected["report_id"]]))).all()
    body = {"changes": features_json(comparison.changed, "key"), "gaps": features_json(comparison.gaps, "gap_id"), "overlaps": [], "test_points": [],
            "reports": [{"id": r.id, "lon": r.lon, "lat": r.lat} for r in reports]}
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), mimetype="application/json")


@bp.post(f"/layers/drafts/<int(max={MAX_ID}):draft_id>/suggestions")
@contract.page("Add the ticked gaps' suggestions to the draft", ("303", "302", "400", "403", "404"),
               form=contract.form_schema(ChoiceForm, gap_id={"type": "string"}))
@staff_only(Role.PLANNER)
def draft_suggestions(draft_id: int) -> ResponseReturnValue:
    """Add the chosen gaps' suggestions to the draft."""
    row = _open_draft(draft_id)
    gap_ids = _chosen_gaps()
    if request.form.get("version") != row.version:  # gap ids are the draft's: another change renumbers them
        flash(_("This draft was changed by someone else meanwhile. Look at its gaps again and accept once more."), "error")
        return redirect(url_for(".draft", draft_id=draft_id) + "#gaps", 303)
    if not gap_ids:
        flash(_("Tick the gaps whose suggestions you accept."), "error")
        return redirect(url_for(".draft", draft_id=draft_id) + "#gaps", 303)
    return _accept(row, gap_ids)


@bp.post(f"/layers/drafts/<int(max={MAX_ID}):draft_id>/publish")
@contract.page("Publish the draft with a note", ("303", "302", "400", "403", "404"), form=contract.form_schema(NoteForm))
@staff_only(Role.PLANNER)
def publish(draft_id: int) -> ResponseReturnValue:
    """Make the draft current, with a note; then a dispatcher chooses about the reports it moved."""
    row = _open_draft(draft_id)
    form = NoteForm()
    if not form.validate_on_submit():
        flash(_("Say why this version is published."), "error")
        return redirect(url_for(".draft", draft_id=draft_id) + "#publish", 303)
    publication = drafts.publish_draft(g.db, row, current_layer(), _caller().actor, form.note.data, live.work())
    g.db.commit()  # installs it in this worker
    flash(_("Version %(version)s is now current.", version=publication.version), "ok")
    return redirect(url_for(".publication", publication_id=publication.id), 303)


@bp.post(f"/layers/drafts/<int(max={MAX_ID}):draft_id>/discard")
@contract.page("Discard the draft", ("303", "302", "400", "403", "404"), form=contract.form_schema(ChoiceForm))
@staff_only(Role.PLANNER)
def discard(draft_id: int) -> ResponseReturnValue:
    """Drop a draft (kept in the database, marked discarded)."""
    row = _open_draft(draft_id)
    if not ChoiceForm().validate_on_submit():
        abort(400)
    row.state = "discarded"
    flash(_("Draft %(id)d was discarded.", id=draft_id), "ok")
    return redirect(url_for(".layers"), 303)


@bp.post("/layers/versions/<version>/rollback")
@contract.page("Make an earlier version current again, with a note", ("303", "302", "400", "403", "404"), form=contract.form_schema(NoteForm))
@staff_only(Role.PLANNER)
def rollback(version: str) -> ResponseReturnValue:
    """Make an earlier version current again, with a note: a new publication."""
    form = NoteForm()
    if not form.validate_on_submit():
        flash(_("Say why you roll back."), "error")
        return redirect(url_for(".layers"), 303)
    try:
        publication = drafts.rollback(g.db, version, current_layer(), _caller().actor, form.note.data, live.work())
    except LookupError:
        abort(404)
    g.db.commit()  # installs it in this worker
    flash(_("Version %(version)s is current again.", version=version), "ok")
    return redirect(url_for(".publication", publication_id=publication.id), 303)


@bp.get(f"/layers/publications/<int(max={MAX_ID}):publication_id>")
@contract.page("A publication: who, when, why, and the open reports it moved", ("200", "302", "403", "404"))
@staff_only(Role.PLANNER, Role.DISPATCHER)
def publication(publication_id: int) -> ResponseReturnValue:
    """A publication: who, when, why, what changed, and the open reports it moved (a dispatcher reassigns them)."""
    row = g.db.get(LayerPublication, publication_id)
    if row is None:
        abort(404)
    ids = [item["report_id"] for item in row.affected]
    reports = {r.id: r for r in g.db.scalars(select(Report).where(Report.id.in_(ids)))} if ids else {}
    return render_template("console_publication.html", publication=row, reports=reports, reassignable=drafts.REASSIGNABLE,
                           is_current=row.version == current_layer().version, form=ChoiceForm())


@bp.post(f"/layers/publications/<int(max={MAX_ID}):publication_id>/reassign")
@contract.page("Reassign the ticked reports to their new owners (dispatchers)", ("303", "302", "400", "403", "404"),
               form=contract.form_schema(ChoiceForm, report_id={"type": "string"}))
@staff_only(Role.DISPATCHER)
def reassign(publication_id: int) -> ResponseReturnValue:
    """Reassign the ticked reports to the owners the publication gives them."""
    row = g.db.get(LayerPublication, publication_id)
    if row is None:
        abort(404)
    if not ChoiceForm().validate_on_submit():
        abort(400)
    layer = current_layer()
    if row.version != layer.version:
        flash(_("This version is no longer current: nothing was reassigned."), "error")
        return redirect(url_for(".publication", publication_id=publication_id), 303)
    ids = [int(v) for v in request.form.getlist("report_id") if v.isdigit()]
    note = _("Reassigned after zone layer version %(version)s was published", version=row.version)
    done = drafts.reassign(g.db, layer, row, ids, _caller(), note, live.worker())
    flash(_("%(moved)d reports reassigned; %(skipped)d left as they are (closed or moved meanwhile).", moved=len(done.moved), skipped=len(done.skipped)), "ok")
    return redirect(url_for(".publication", publication_id=publication_id), 303)
