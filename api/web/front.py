"""The front door ``/``: what zonemap is for this district, the way in for citizens (report a
problem, the public board) and for staff (sign in); and the language switch."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from api.persistence.clock import now
from api.persistence.models import Report
from api.web import contract
from api.web.i18n import LANGUAGES, remember_language
from api.web.security import local_path
from zones.workflow import CLOSED_STATES, State

bp = Blueprint("front", __name__)
RECENT_DAYS = 30


@bp.get("/")
@contract.page("The front door: what zonemap is for the district, report a problem, the public board, staff sign-in")
def home() -> ResponseReturnValue:
    """The front door, with the district's figures of the last month."""
    since = now() - timedelta(days=RECENT_DAYS)
    received = g.db.scalar(select(func.count()).select_from(Report).where(Report.created_at >= since)) or 0
    published = g.db.scalar(select(func.count()).select_from(Report).where(Report.state == State.PUBLISHED.value)) or 0
    open_now = g.db.scalar(select(func.count()).select_from(Report).where(Report.state.not_in([s.value for s in CLOSED_STATES]))) or 0
    return render_template("home.html", figures={"received": received, "published": published, "open": open_now, "days": RECENT_DAYS})


@bp.get("/language/<lang>")
@contract.page("Switch the pages' language (a cookie) and go back", ("303",),
               params=[contract.query("next", description="the page to go back to (a path on this site)")])
def language(lang: str) -> ResponseReturnValue:
    """Switch the pages' language (remembered in a cookie) and go back where one was."""
    target = local_path(request.args.get("next")) or url_for(".home")
    response = redirect(target, 303)
    return remember_language(response, lang) if lang in LANGUAGES else response
