"""Web assets the pages and maps load, all served by the app under ``/assets/`` (no CDN: district
intranets are offline): the maps' from their Python packages (`maps.offline.ASSET_DIRS`), the
pages' htmx from npm, installed with ``npm ci --prefix api/web`` from the committed lockfile."""

from __future__ import annotations

from pathlib import Path

from maps.offline import ASSET_DIRS

WEB = Path(__file__).parent / "web"
#: URL folder → directory on disk, for everything under ``/assets/``.
PAGE_ASSET_DIRS = {**ASSET_DIRS, "htmx": WEB / "node_modules" / "htmx.org" / "dist"}
HTMX = "htmx/htmx.min.js"


def check_installed() -> None:
    """Refuse to start without the pages' scripts, saying how to install them."""
    if not (PAGE_ASSET_DIRS["htmx"] / "htmx.min.js").is_file():
        msg = f"the pages' scripts are not installed (no {WEB.name}/node_modules/htmx.org): run `npm ci --prefix api/web` (see README)"
        raise RuntimeError(msg)
