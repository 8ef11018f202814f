"""The inspector's phone pages under ``/inspect/``: the rounds given to them, a round's points on a
map and in a list (nearest first), each point's checklist as a form. The form works as a plain
form; with scripts the page works offline (``/inspect/sw.js`` keeps the pages, scripts and map
layers; entries and photos wait in IndexedDB and are sent, each under its idempotency key, when the
phone is online again)."""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.auth.roles import Caller, Role
from api.auth.sessions import staff_only
from api.inspections import recording, rounds, scores
from api.inspections.round_api import checklists_of, setting
from api.layers.live import current_layer
from api.persistence.models import MAX_ID, Inspection, Round
from api.reports import form_photos
from api.reports.photos import MAX_SIDE
from api.web import contract
from api.web.config import INSPECTION_PHOTOS
from zones.checklists import Checklists, Item
from zones.errors import InvalidInputError, ZonemapError

bp = Blueprint("inspect", __name__, template_folder="templates", url_prefix="/inspect")
#: Who inspects: inspectors, dispatchers, and a unit its own self-checks.
INSPECTORS = (Role.INSPECTOR, Role.DISPATCHER, Role.UNIT)
SERVICE_WORKER = Path(__file__).parents[1] / "web" / "static" / "inspect_sw.js"


def _round(round_id: int) -> Round:
    caller: Caller = g.caller
    found = rounds.visible(g.db, caller, round_id)
    if found is None:
        abort(404)
    return found


def _items_by_type(checklists: Checklists, types: set[str]) -> dict[str, list[Item]]:
    return {t: checklists.of_type(t) for t in checklists.types if t in types}


@bp.get("/")
@contract.page("The inspector's rounds (a phone page that also works offline)", ("200", "302", "403"))
@staff_only(*INSPECTORS)
def rounds_page() -> ResponseReturnValue:
    """The rounds given to the caller, newest first, with how far each has come."""
    mine = rounds.rounds_of(g.db, g.caller)
    done = {r.id: len(rounds.latest(g.db, r.id)) for r in mine}
    return render_template("inspect_rounds.html", rounds=mine, done=done)


@bp.get(f"/rounds/<int(max={MAX_ID}):round_id>")
@contract.page("A round on the inspector's phone: its points on a map and nearest first, each one's checklist; works offline", ("200", "302", "403", "404"))
@staff_only(*INSPECTORS)
def round_page(round_id: int) -> ResponseReturnValue:
    """The round's points (the caller's), their state, and a checklist form per point type."""
    found = _round(round_id)
    caller: Caller = g.caller
    checklists = checklists_of(found)
    result = scores.of_round(g.db, current_layer(), checklists, found)
    codes = {p.point_id: p.codes for p in found.points}
    mine = [p for p in result.points if rounds.may_inspect(caller, found, next(q for q in found.points if q.point_id == p.point_id))]
    data = {"round": {"id": found.id, "name": found.name}, "far_m": float(current_app.config["INSPECTION_DISTANCE_M"]),
            "max_side": MAX_SIDE, "max_bytes": int(current_app.config["MAX_PHOTO_BYTES"]),
            "submit": url_for(".submit", round_id=found.id),
            "points": [{"id": p.point_id, "name": p.name, "type": p.point_type, "lon": round(p.lon, 6), "lat": round(p.lat, 6),
                        "inspected": p.inspected, "failed": p.failed, "codes": codes.get(p.point_id)} for p in mine]}
    return render_template("inspect_round.html", round=found, points=mine, data=data, forms=_items_by_type(checklists, {p.point_type for p in mine}),
                           codes=codes, max_photos=INSPECTION_PHOTOS)


@bp.get(f"/rounds/<int(max={MAX_ID}):round_id>/points/<point_id>")
@contract.page("One point's checklist as a plain form (for a phone without scripts)", ("200", "302", "403", "404"))
@staff_only(*INSPECTORS)
def point_page(round_id: int, point_id: str) -> ResponseReturnValue:
    """The point's checklist form."""
    found = _round(round_id)
    point = next((p for p in found.points if p.point_id == point_id), None)
    if point is None or not rounds.may_inspect(g.caller, found, point):
        abort(404)
    items = [i for i in checklists_of(found).of_type(point.point_type) if point.codes is None or i.code in point.codes]
    names = current_layer().test_points.set_index(current_layer().test_points["point_id"].astype(str))["name"]
    return render_template("inspect_point.html", round=found, point=point, name=str(names.get(point_id, point_id)), items=items,
                           key=uuid.uuid4().hex, max_photos=INSPECTION_PHOTOS)


def _entry(items: list[Item]) -> tuple[recording.Entry, dict[str, tuple[list[bytes], list[bytes]]], list[str]]:
    """The form as an entry (photos not yet stored: by item, of the problem and of the fix), and what is wrong with it."""
    form, errors = request.form, []
    photos: dict[str, tuple[list[bytes], list[bytes]]] = {}
    answers = []
    for item in items:
        result = form.get(f"result-{item.code}") or None
        raw = (form.get(f"value-{item.code}") or "").strip()
        value = _number(raw)
        if raw and value is None:
            errors.append(_("%(item)s: the count is not a number.", item=item.text))
        if result is None and value is None:
            continue
        problem, wrong = form_photos.attached(f"photos-{item.code}", required=False)
        after, wrong_after = form_photos.attached(f"after-{item.code}", required=False)
        errors += [f"{item.text}: {e}" for e in wrong + wrong_after]
        photos[item.code] = (problem, after)
        answers.append(recording.ItemEntry(item.code, result, value, (form.get(f"note-{item.code}") or "").strip()[:500], [], []))
    at = _moment(form.get("at"))
    entry = recording.Entry(form.get("point_id", ""), at, _number(form.get("lon")), _number(form.get("lat")), _number(form.get("accuracy_m")), answers)
    return entry, photos, errors


def _number(raw: str | None) -> float | None:
    """A form's number (None when empty or not a finite number)."""
    try:
        value = float(raw) if raw else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _moment(raw: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@bp.post(f"/rounds/<int(max={MAX_ID}):round_id>/inspections")
@contract.page("Record one point's inspection from its form (or from the phone's queue, under its key): stored once; failures open cases",
               ("200", "303", "302", "400", "403", "404", "409", "413", "422"), multipart=True,
               form={"type": "object", "properties": {"key": {"type": "string"}, "point_id": {"type": "string"}}})
@staff_only(*INSPECTORS)
def submit(round_id: int) -> ResponseReturnValue:
    """Store the point's inspection (its photos re-encoded without metadata); a key already stored
    answers what was stored. A script gets JSON, a plain form the round's page again."""
    found = _round(round_id)
    caller: Caller = g.caller
    wants_json = request.accept_mimetypes.best == "application/json"
    key = (request.form.get("key") or "").strip()[:200]
    if not key:
        abort(400)
    stored = g.db.scalar(select(Inspection).where(Inspection.idempotency_key == key))
    if stored is None:
        point = next((p for p in found.points if p.point_id == request.form.get("point_id")), None)
        if point is None:
            abort(404)
        items = checklists_of(found).of_type(point.point_type)
        entry, photos, errors = _entry(items)
        if sum(len(a) + len(b) for a, b in photos.values()) > INSPECTION_PHOTOS:
            errors.append(_("At most %(n)d photos per point.", n=INSPECTION_PHOTOS))
        if not errors:
            try:
                stored = _record(found, entry, photos, caller, key)
            except IntegrityError:  # the same key sent twice at once: the other request stored it
                g.db.rollback()
                stored = g.db.scalar(select(Inspection).where(Inspection.idempotency_key == key))
            except (ZonemapError, ValidationError) as err:
                errors.append(str(err))
        if errors:
            g.db.rollback()
            if wants_json:
                return jsonify({"errors": errors}), 422
            for error in errors:
                flash(error, "error")
            return redirect(url_for(".point_page", round_id=found.id, point_id=entry.point_id), 303)
    if wants_json:
        return jsonify({"id": stored.id, "point_id": stored.point_id, "score": stored.score, "possible": stored.possible, "far": stored.far})
    flash(_("Saved: %(point)s.", point=stored.point_id), "info")
    return redirect(url_for(".round_page", round_id=found.id), 303)


def _record(round_: Round, entry: recording.Entry, photos: dict[str, tuple[list[bytes], list[bytes]]], caller: Caller, key: str) -> Inspection:
    """Store the photos (decoded and re-encoded) and the inspection."""
    answers = []
    for answer in entry.items:
        problem, after = photos.get(answer.code, ([], []))
        good, wrong = form_photos.cleaned(problem + after)
        if wrong:
            raise InvalidInputError("; ".join(wrong), field="photos", problems=wrong)
        refs = form_photos.store(g.db, good, caller.actor)
        answers.append(recording.ItemEntry(answer.code, answer.result, answer.value, answer.note, refs[:len(problem)], refs[len(problem):]))
    full = recording.Entry(entry.point_id, entry.at, entry.lon, entry.lat, entry.accuracy_m, answers)
    stored, _new = recording.record(g.db, current_layer(), checklists_of(round_), round_, full, caller, key, setting())
    return stored


@bp.get("/sw.js")
@contract.operation("The inspector pages' service worker: keeps the pages, scripts and map layers for offline use", content="text/javascript",
                    secured=False, errors=())
def service_worker() -> ResponseReturnValue:
    """The service worker, served under ``/inspect/`` so that it controls the inspector's pages."""
    response = send_file(SERVICE_WORKER, mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response

