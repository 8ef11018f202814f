"""Photos as the service stores them: decoded, re-encoded from the pixels alone (no EXIF, GPS,
XMP or text chunks survive), named by the hash of the result. No Flask, no database."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_PIXELS = 25_000_000  # a 24-megapixel photo (6000×4000); more is a decompression bomb, not a phone photo
MAX_SIDE = 2560  # stored photos are scaled so that their longer side is at most this many pixels
THUMB_SIDE = 480  # the small copy lists show (a phone screen's width at 1.2x)


class PhotoError(ValueError):
    """The upload is not a photo we accept; the message says why, ``reason`` says it as a code
    (``format``, ``pixels``, ``unreadable`` or ``damaged``) for pages to say it in their language."""

    def __init__(self, msg: str, reason: str) -> None:
        super().__init__(msg)
        self.reason = reason


@dataclass(frozen=True)
class CleanPhoto:
    """A re-encoded photo."""

    id: str
    content_type: str
    data: bytes
    width: int
    height: int
    thumb: bytes  # a JPEG at most THUMB_SIDE pixels a side


def clean(data: bytes) -> CleanPhoto:
    """Decode ``data`` (JPEG, PNG or WebP), scale it to at most `MAX_SIDE` pixels a side, turn it
    upright by its EXIF orientation, and encode the pixels again without any metadata.

    The size is read from the header first; a JPEG is decoded at a reduced scale where it can be,
    so memory stays near the stored size rather than the sensor's.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                fmt = image.format or ""
                if fmt not in FORMATS:
                    msg = f"{fmt or 'unknown'} images are not accepted; send JPEG, PNG or WebP"
                    raise PhotoError(msg, "format")
                if image.width * image.height > MAX_PIXELS:
                    msg = f"{image.width}×{image.height} pixels is more than {MAX_PIXELS:,}"
                    raise PhotoError(msg, "pixels")
                if fmt == "JPEG":
                    image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # DCT scaling: a quarter or less of the pixels decoded
                image.thumbnail((MAX_SIDE, MAX_SIDE))
                upright = ImageOps.exif_transpose(image)
                mode = "RGB" if fmt == "JPEG" or upright.mode not in ("RGB", "RGBA", "L") else upright.mode
                pixels = upright.convert(mode)
                bare = Image.frombytes(mode, pixels.size, pixels.tobytes())  # pixels only: no info, no EXIF
    except UnidentifiedImageError:
        raise PhotoError("not an image this service reads (JPEG, PNG or WebP)", "unreadable") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoError(f"more than {MAX_PIXELS:,} pixels", "pixels") from None
    except (OSError, SyntaxError, ValueError) as err:  # truncated or corrupt data
        if isinstance(err, PhotoError):
            raise
        raise PhotoError(f"the image data is damaged: {err}", "damaged") from None
    out = io.BytesIO()
    bare.save(out, format=fmt, **({"quality": 90} if fmt in ("JPEG", "WEBP") else {}))
    encoded = out.getvalue()
    return CleanPhoto(hashlib.sha256(encoded).hexdigest(), FORMATS[fmt], encoded, bare.width, bare.height, _small(bare))


def _small(image: Image.Image) -> bytes:
    """A JPEG copy at most `THUMB_SIDE` pixels a side (transparency on white)."""
    small = image.copy()
    small.thumbnail((THUMB_SIDE, THUMB_SIDE))
    if small.mode != "RGB":
        background = Image.new("RGB", small.size, "white")
        background.paste(small, mask=small.getchannel("A") if "A" in small.getbands() else None)
        small = background
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=80)
    return out.getvalue()


def thumbnail(data: bytes) -> bytes:
    """The small copy of a stored photo (one stored before small copies were kept)."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return _small(image)
