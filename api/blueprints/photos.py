"""Photo uploads: stored without metadata, referenced from reports as ``/api/v1/photos/{id}``."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import String, cast, select

from api import parsing, ratelimit
from api.auth import Role, require
from api.errors import ApiError
from api.persistence.models import Photo, Report
from api.photos import PhotoError, clean
from api.clock import now

bp = Blueprint("photos", __name__, url_prefix="/api/v1")


@bp.post("/photos")
def upload() -> ResponseReturnValue:
    """Store the photo in the form field ``photo``; EXIF (incl. GPS) is removed first. The
    client's file name is ignored. Returns the reference to put in a report's ``photos``."""
    caller = require(Role.DISPATCHER, Role.PLANNER, Role.UNIT, Role.PUBLIC)
    ratelimit.check_submission(caller)
    request.max_content_length = current_app.config["MAX_PHOTO_BYTES"] + 64 * 1024  # the form's own bytes
    upload = request.files.get("photo")
    if upload is None:
        raise ApiError(422, "photo: attach the image as the form field 'photo'", errors=[{"field": "photo", "message": "is required"}])
    with upload.stream as stream:
        data = stream.read(current_app.config["MAX_PHOTO_BYTES"] + 1)
    if len(data) > current_app.config["MAX_PHOTO_BYTES"]:
        raise ApiError(413, f"photo: larger than {current_app.config['MAX_PHOTO_BYTES']:,} bytes")
    try:
        photo = clean(data)
    except PhotoError as err:
        raise ApiError(422, f"photo: {err}", errors=[{"field": "photo", "message": str(err)}]) from None
    if g.db.get(Photo, photo.id) is None:
        g.db.add(Photo(id=photo.id, content_type=photo.content_type, data=photo.data, width=photo.width, height=photo.height,
                       created_at=now(), created_by=caller.actor))
        g.db.flush()
    ref = f"/api/v1/photos/{photo.id}"
    return jsonify({"id": photo.id, "url": ref, "content_type": photo.content_type, "width": photo.width, "height": photo.height,
                    "bytes": len(photo.data)}), 201


@bp.get("/photos/<photo_id>")
def download(photo_id: str) -> ResponseReturnValue:
    """A stored photo: dispatchers and planners see every one, a unit those of its reports."""
    caller = require(Role.DISPATCHER, Role.PLANNER, Role.UNIT)
    photo = g.db.get(Photo, parsing.key(photo_id, "photo_id"))
    if photo is not None and caller.role == Role.UNIT:
        ref = f"/api/v1/photos/{photo_id}"
        mine = select(Report.id).where(Report.unit_id == caller.unit_id, cast(Report.photos, String).contains(ref)).limit(1)
        photo = photo if g.db.scalar(mine) is not None else None
    if photo is None:
        raise ApiError(404, f"no photo {photo_id}")
    return Response(photo.data, mimetype=photo.content_type, headers={"Cache-Control": "private, max-age=86400"})
