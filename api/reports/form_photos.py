"""Photos attached to a page's form (a citizen's report, a unit's rectification): read, checked,
decoded and stored, with what is wrong said in the page's language. Nothing is stored unless
every photo is good."""

from __future__ import annotations

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from api.reports import services
from api.reports.photo_decoding import decode
from api.reports.photos import CleanPhoto, PhotoError
from api.reports.services import PHOTO_PATH
from api.web.config import MAX_PHOTOS

FIELD = "photos"
MESSAGES = {
    "missing": _l("Add at least one photo."),
    "too_many": _l("Add at most three photos."),
    "size": _l("Photo {n} is larger than {mb} MB. Take it again at a lower resolution."),
    "format": _l("Photo {n} is not a JPEG, PNG or WebP picture."),
    "pixels": _l("Photo {n} has more than 25 megapixels."),
    "unreadable": _l("Photo {n} is not a picture this service can read."),
    "damaged": _l("Photo {n} is damaged. Take it again."),
}


def attached(field: str = FIELD, *, required: bool = True) -> tuple[list[bytes], list[str]]:
    """The photos of the form's ``field`` (one to `MAX_PHOTOS`, or none when not ``required``;
    each at most ``MAX_PHOTO_BYTES``), and what is wrong with them."""
    limit = current_app.config["MAX_PHOTO_BYTES"]
    uploads = [f for f in request.files.getlist(field) if f and f.filename]
    if not uploads:
        return [], [str(MESSAGES["missing"])] if required else []
    if len(uploads) > MAX_PHOTOS:
        return [], [str(MESSAGES["too_many"])]
    photos, errors = [], []
    for n, upload in enumerate(uploads, start=1):
        with upload.stream as stream:
            data = stream.read(limit + 1)
        if len(data) > limit:
            errors.append(str(MESSAGES["size"]).format(n=n, mb=limit // (1024 * 1024)))
        photos.append(data)
    return photos, errors


def cleaned(photos: list[bytes]) -> tuple[list[CleanPhoto], list[str]]:
    """The photos decoded and re-encoded without their metadata, and what is wrong with any."""
    out, errors = [], []
    for n, data in enumerate(photos, start=1):
        try:
            out.append(decode(data))
        except PhotoError as err:
            errors.append(str(MESSAGES[err.reason]).format(n=n))
    return out, errors


def store(session: Session, photos: list[CleanPhoto], actor: str) -> list[str]:
    """Store the photos for ``actor``; their references."""
    return [f"{PHOTO_PATH}{services.store_photo(session, photo, actor)}" for photo in photos]
