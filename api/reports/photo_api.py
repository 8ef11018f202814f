"""Photo uploads: stored without metadata, referenced from reports as ``/api/v1/photos/{id}``."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import String, cast, select

from api.auth.callers import require
from api.auth.roles import Role
from api.persistence.models import Photo, Report, Transition
from api.reports import citizens, schemas, services
from api.reports.photo_decoding import decode
from api.reports.photos import PhotoError, thumbnail
from api.reports.services import PHOTO_PATH
from api.web import contract, parsing, ratelimit
from api.web.errors import ApiError

bp = Blueprint("photos", __name__, url_prefix="/api/v1")


def _on_own_report(unit_id: str, ref: str) -> bool:
    """Whether ``ref`` is exactly one of the photos of a report the unit holds, or of the
    evidence on one (the text search only narrows the rows; membership is checked exactly)."""
    reports = g.db.execute(select(Report.id, Report.photos).where(Report.unit_id == unit_id, cast(Report.photos, String).contains(ref))).all()
    if any(ref in photos for _, photos in reports):
        return True
    held = select(Report.id).where(Report.unit_id == unit_id)
    steps = g.db.scalars(select(Transition.evidence).where(Transition.report_id.in_(held), cast(Transition.evidence, String).contains(ref))).all()
    return any(ref in evidence for evidence in steps)


@bp.post("/photos")
@contract.operation("Upload a photo (JPEG, PNG, WebP); stored without EXIF/GPS; returns its reference", status="201", answer=schemas.Photo,
                    body={"type": "object", "required": ["photo"], "properties": {"photo": {"type": "string", "format": "binary"}}},
                    body_type="multipart/form-data",
                    errors=("400", "401", "403", "413", "422", "429"))
def upload() -> ResponseReturnValue:
    """Store the photo in the form field ``photo``; EXIF (incl. GPS) is removed first. The
    client's file name is ignored. Returns the reference to put in a report's ``photos``."""
    caller = require(Role.DISPATCHER, Role.PLANNER, Role.UNIT, Role.LEADER, Role.INSPECTOR, Role.PUBLIC)
    ratelimit.check_submission(caller)
    ratelimit.check_photo_upload(caller)
    upload = request.files.get("photo")
    if upload is None:
        raise ApiError(422, "photo: attach the image as the form field 'photo'", errors=[{"field": "photo", "message": "is required"}])
    with upload.stream as stream:
        data = stream.read(current_app.config["MAX_PHOTO_BYTES"] + 1)
    if len(data) > current_app.config["MAX_PHOTO_BYTES"]:
        raise ApiError(413, f"photo: larger than {current_app.config['MAX_PHOTO_BYTES']:,} bytes")
    try:
        photo = decode(data)
    except PhotoError as err:
        raise ApiError(422, f"photo: {err}", errors=[{"field": "photo", "message": str(err)}]) from None
    photo_id = services.store_photo(g.db, photo, caller.actor)
    ref = f"{PHOTO_PATH}{photo_id}"
    return jsonify({"id": photo_id, "url": ref, "content_type": photo.content_type, "width": photo.width, "height": photo.height,
                    "bytes": len(photo.data)}), 201


@bp.get("/photos/<photo_id>")
@contract.operation("A stored photo (anyone, when published with a case on the public board; else dispatchers, planners, and the unit of a report "
                    "showing it); ?size=small: a JPEG at most 480 px a side", content=("image/jpeg", "image/png", "image/webp"),
                    params=[contract.query("size", enum=["full", "small"])])
def download(photo_id: str) -> ResponseReturnValue:
    """A stored photo (``?size=small``: its small copy). Anyone may read a photo published with
    a case on the public board; otherwise dispatchers and planners see every one, a unit those
    of its reports."""
    parsing.key(photo_id, "photo_id")
    size = parsing.choice(request.args.get("size"), "size", ["full", "small"], default="full")
    public = citizens.is_public_photo(g.db, photo_id)
    caller = g.caller if public else require(Role.DISPATCHER, Role.PLANNER, Role.UNIT)
    photo = g.db.get(Photo, photo_id)
    if (photo is not None and not public and caller.role == Role.UNIT and photo.created_by != caller.actor
            and not _on_own_report(caller.unit_id or "", f"{PHOTO_PATH}{photo_id}")):
        photo = None
    if photo is None:
        raise ApiError(404, f"no photo {photo_id}")
    cache = "public, max-age=3600" if public else "private, max-age=86400"
    if size == "small":
        if photo.thumb is None:  # stored before small copies were kept
            photo.thumb = thumbnail(photo.data)
        return Response(photo.thumb, mimetype="image/jpeg", headers={"Cache-Control": cache})
    return Response(photo.data, mimetype=photo.content_type, headers={"Cache-Control": cache})
