"""Decoding uploaded photos, a few at a time per worker: each may take a few hundred MB while
decoded, so an upload waits for a free decoder, and past a while is told to come back."""

from __future__ import annotations

import threading

from flask import Flask, current_app

from api.reports.photos import CleanPhoto, clean
from api.web.memory import release_free_memory
from zones.errors import BusyError

DECODE_WAIT_S = 30.0  # an upload waits this long for a free decoder


def init_app(app: Flask) -> None:
    """Bound the photos this worker decodes at once (``PHOTO_DECODES``)."""
    app.extensions["zonemap.photo_decodes"] = threading.BoundedSemaphore(int(app.config["PHOTO_DECODES"]))


def decode(data: bytes) -> CleanPhoto:
    """Decode and re-encode an uploaded photo (`PhotoError` when it is not one we accept); a
    `BusyError` when no decoder came free in time."""
    decodes: threading.BoundedSemaphore = current_app.extensions["zonemap.photo_decodes"]
    if not decodes.acquire(timeout=DECODE_WAIT_S):
        raise BusyError("photo: too many photos are being processed; try again shortly", retry_after_s=5)
    try:
        return clean(data)
    finally:
        decodes.release()
        release_free_memory()
