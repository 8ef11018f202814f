"""The pages' languages: Chinese first, English on request, through Flask-Babel's gettext catalogues.

Messages are written in English in the code and templates (``_("Report a problem")``); the
Chinese catalogue ``api/web/translations/zh/LC_MESSAGES/messages.po`` is the source of every Chinese
word on the pages. It is compiled when the app starts into ``DATA_DIR/translations`` (no
compiled file is kept in the source tree). The language is ``?lang=`` if given, else the
``lang`` cookie the language switch sets, else Chinese. Times are shown in Asia/Shanghai; codes
(categories, states, units, roles) are shown by their names.
"""

from __future__ import annotations

import math
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, request
from flask_babel import Babel, format_date, format_datetime, get_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l

from api.persistence.clock import now
from zones.enums import TestPointType
from zones.layer import Category, ZoneLayer
from zones.places import Kind
from zones.workflow import Action, State
from zones.worktime import DeadlineUnit, WorkCalendar

#: The pages' languages, the first one the default.
LANGUAGES = ("zh", "en")
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}
LANGUAGE_COOKIE = "lang"
TIMEZONE = "Asia/Shanghai"
CATALOGUES = Path(__file__).parent / "translations"

#: What a state means to the people following a report.
POINT_TYPE_NAMES = {
    TestPointType.MARKET: _l("Farmers' market"), TestPointType.SCHOOL: _l("School surroundings"), TestPointType.TOILET: _l("Public toilet"),
    TestPointType.PLAZA: _l("Plaza"), TestPointType.BUS_STOP: _l("Bus stop"), TestPointType.HOSPITAL: _l("Hospital surroundings"),
    TestPointType.PARK: _l("Park"), TestPointType.RESIDENTIAL: _l("Old residential compound"), TestPointType.STATION: _l("Rail station"),
    TestPointType.OTHER: _l("Other"),
}
PLACE_KIND_NAMES = {Kind.SUBDISTRICT: _l("Sub-district"), Kind.STREET: _l("Street"), Kind.PLACE: _l("Place")}
STATE_NAMES = {
    State.SUBMITTED: _l("Received"),
    State.DISPATCHED: _l("Dispatched"),
    State.RECTIFIED: _l("Rectified"),
    State.REWORK: _l("Sent back for rework"),
    State.VERIFIED: _l("Verified"),
    State.PUBLISHED: _l("Published"),
    State.DISPUTED: _l("Disputed by the unit"),
    State.ESCALATED: _l("Escalated (督办)"),  # overdue or not: the time left says which
    State.REJECTED: _l("Not accepted"),
    State.DUPLICATE: _l("Duplicate"),
    State.HELD: _l("On hold"),
    State.REOPENED: _l("Not fixed, says a reporter"),
}
#: What each action does, as its button and its line in a report's history say it.
ACTION_NAMES = {
    Action.DISPATCH: _l("Dispatch"),
    Action.CONFIRM: _l("Confirm the unit"),
    Action.REASSIGN: _l("Reassign"),
    Action.ESCALATE: _l("Escalate (督办)"),
    Action.REJECT: _l("Reject"),
    Action.MARK_DUPLICATE: _l("Mark as duplicate"),
    Action.RECTIFY: _l("Report it fixed"),
    Action.DISPUTE: _l("Dispute"),
    Action.VERIFY: _l("Verify the fix"),
    Action.REWORK: _l("Send back for rework"),
    Action.PUBLISH: _l("Publish"),
    Action.REQUEST_EXTENSION: _l("Ask for more time"),
    Action.APPROVE_EXTENSION: _l("Approve the extension"),
    Action.REFUSE_EXTENSION: _l("Refuse the extension"),
    Action.HOLD: _l("Put on hold"),
    Action.RELEASE: _l("Release the hold"),
    Action.OVERRULE: _l("Overrule the dispute"),
    Action.REOPEN: _l("Not fixed (a reporter)"),
}
#: The "4+1" supervision channels.
SOURCE_NAMES = {
    "citizen": _l("Citizen (阳光拍客)"),
    "leader": _l("Leaders' inspection"),
    "inspection": _l("Special inspection team"),
    "self_check": _l("Unit's self-check"),
    "spot_check": _l("Assessment centre spot check"),
}
ROLE_NAMES = {
    "dispatcher": _l("Dispatcher"),
    "planner": _l("Planner"),
    "unit": _l("Responsible unit"),
    "leader": _l("Leader"),
    "inspector": _l("Inspector"),
    "admin": _l("Administrator"),
    "public": _l("Public"),
}


def language() -> str:
    """The language of this request: ``?lang=``, else the cookie, else Chinese."""
    for choice in (request.args.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if choice in LANGUAGES:
            return choice
    return LANGUAGES[0]


def compile_catalogues(target: Path) -> None:
    """Compile every ``.po`` catalogue into ``target/<lang>/LC_MESSAGES/messages.mo`` (written to
    a temporary file and renamed, so workers starting together never read half a file)."""
    for po in CATALOGUES.glob("*/LC_MESSAGES/messages.po"):
        with po.open("rb") as handle:
            catalogue = read_po(handle, locale=po.parent.parent.name)
        out = target / po.relative_to(CATALOGUES).with_suffix(".mo")
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            write_mo(handle, catalogue, use_fuzzy=False)
        os.replace(tmp, out)


def init_app(app: Flask) -> None:
    """Compile the catalogues, set up Flask-Babel and give the templates their helpers."""
    target = Path(app.config["DATA_DIR"]).resolve() / "translations"
    compile_catalogues(target)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(target)
    app.config["BABEL_DEFAULT_LOCALE"] = LANGUAGES[0]
    app.config["BABEL_DEFAULT_TIMEZONE"] = TIMEZONE
    Babel(app, locale_selector=language)
    app.jinja_env.filters.update(local_time=local_time, local_date=local_date, state_name=state_name, role_name=role_name, action_name=action_name,
                                 actor_name=actor_name, source_name=source_name, point_type_name=point_type_name)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, LANGUAGE_NAMES=LANGUAGE_NAMES, current_language=lambda: str(get_locale() or LANGUAGES[0]))


def local_time(value: datetime | None) -> str:
    """``2026-12-01 19:16`` in Asia/Shanghai (stored times are UTC; SQLite's come back naive)."""
    return "" if value is None else format_datetime(value, "yyyy-MM-dd HH:mm")


def local_date(value: datetime | None) -> str:
    """``2026-12-01``, the day in Asia/Shanghai."""
    return "" if value is None else format_date(value, "yyyy-MM-dd")


def state_name(state: str) -> str:
    """The state's name in the page's language."""
    return str(STATE_NAMES.get(State(state), state))


def action_name(action: str) -> str:
    """The action's name in the page's language ("submit", the first step, is the report itself)."""
    if action == "submit":
        return gettext("Report submitted")
    return str(ACTION_NAMES.get(Action(action), action))


def actor_name(actor: str) -> str:
    """Who did a step, as the history stores it (``dispatcher@wang``, ``unit:P06@li``,
    ``dispatcher#7``, ``router``, ``public@web``), in words."""
    if actor == "router":
        return gettext("the router")
    if actor == "escalator":
        return gettext("the deadline check")
    role, _, person = actor.partition("@")
    role, _, unit = role.partition(":")
    role = role.partition("#")[0]
    if person == "web":
        return gettext("a citizen (web page)")
    name = role_name(role)
    if person:
        return f"{name} {person}" + (f" ({unit})" if unit else "")
    return gettext("%(role)s (API)", role=name) + (f" {unit}" if unit else "")


def time_left(deadline: datetime | None) -> str:
    """``3 hours left`` or ``2 days overdue``: hours under two days, days beyond."""
    if deadline is None:
        return ""
    seconds = deadline.timestamp() - now().timestamp()
    hours = abs(seconds) / 3600
    if seconds >= 0:
        hours = math.ceil(hours)
        return ngettext("%(num)d hour left", "%(num)d hours left", hours) if hours < 48 else ngettext("%(num)d day left", "%(num)d days left", int(hours // 24))
    if hours < 48:
        return ngettext("%(num)d hour overdue", "%(num)d hours overdue", int(hours))
    return ngettext("%(num)d day overdue", "%(num)d days overdue", int(hours // 24))


def point_type_name(point_type: str) -> str:
    """A test point type's name in the page's language."""
    return str(POINT_TYPE_NAMES.get(point_type, point_type)) if point_type in TestPointType.values() else point_type


def source_name(source: str) -> str:
    """The supervision channel's name in the page's language."""
    return str(SOURCE_NAMES.get(source, source))


def role_name(role: str) -> str:
    """The role's name in the page's language."""
    return str(ROLE_NAMES.get(role, role))


def is_english() -> bool:
    """Whether this request's pages are in English."""
    return str(get_locale()) == "en"


def category_name(category: Category) -> str:
    """A category by its name in the page's language."""
    return category.name_en if is_english() else category.name_zh


def group_name(category: Category) -> str:
    """A category's campaign (十大整治 group) in the page's language; empty when it has none."""
    return category.group_en if is_english() else category.group


def category_label(layer: ZoneLayer, code: str) -> str:
    """The name of category ``code`` in the current layer, or the code when the layer no longer
    has it (an old report)."""
    found = layer.category_table.get(code)
    return category_name(found) if found else code


def unit_label(layer: ZoneLayer, unit_id: str | None) -> str:
    """``城阳环卫服务有限公司（HW01）``: the unit's name beside its code (the code alone when the
    layer does not name it; empty for no unit)."""
    if not unit_id:
        return ""
    name = layer.unit_names.get(unit_id)
    if not name:
        return unit_id
    return f"{name} ({unit_id})" if is_english() else f"{name}（{unit_id}）"


def unit_name(layer: ZoneLayer, unit_id: str | None) -> str:
    """The unit's name alone (what the public sees), or its code when it has none."""
    return "" if not unit_id else layer.unit_names.get(unit_id) or unit_id


def area_name(layer: ZoneLayer, area_id: str | None) -> str:
    """A sub-district's name, or an empty string."""
    if not area_id:
        return ""
    names = dict(zip(layer.areas["area_id"], layer.areas["name"], strict=True))
    return str(names.get(area_id, area_id))


def subdistrict_names(layer: ZoneLayer) -> dict[str, str]:
    """Sub-districts by id, as filters offer them (every area when the layer has no levels)."""
    areas = layer.areas[layer.areas["level"] == "subdistrict"] if "level" in layer.areas.columns else layer.areas
    return dict(zip(areas["area_id"].astype(str), areas["name"].astype(str), strict=True))


def campaign_names(layer: ZoneLayer) -> dict[str, str]:
    """The campaigns (十大整治 groups) of the layer's categories, by their key, named in the page's language."""
    return {c.group: group_name(c) for c in layer.category_table.values() if c.group}


def working_time_left(deadline: datetime | None, calendar: WorkCalendar) -> str:
    """``3 working hours left`` or ``2 working days overdue``, counted in the calendar's working time:
    hours under two working days, working days beyond."""
    if deadline is None:
        return ""
    at = now()
    left = deadline >= at
    hours = (calendar.working_time(at, deadline) if left else calendar.working_time(deadline, at)).total_seconds() / 3600
    day = calendar.day_length.total_seconds() / 3600
    if left:
        hours = math.ceil(hours)
        if hours < 2 * day:
            return ngettext("%(num)d working hour left", "%(num)d working hours left", hours)
        return ngettext("%(num)d working day left", "%(num)d working days left", int(hours // day))
    if hours < 2 * day:
        return ngettext("%(num)d working hour overdue", "%(num)d working hours overdue", int(hours))
    return ngettext("%(num)d working day overdue", "%(num)d working days overdue", int(hours // day))


def deadline_left(layer: ZoneLayer, calendar: WorkCalendar, report: Any) -> str:
    """The time left to a report's deadline in its category's terms: calendar hours, or working time."""
    category = layer.category_table.get(report.category)
    if category is None or category.deadline_unit == DeadlineUnit.HOURS:
        return time_left(report.deadline_at)
    return working_time_left(report.deadline_at, calendar)


def template_helpers(layer: ZoneLayer, calendar: WorkCalendar) -> dict[str, Any]:
    """The layer-dependent names the templates show, bound to ``layer`` (and deadlines to ``calendar``)."""
    return {
        "time_left_of": lambda report: deadline_left(layer, calendar, report),
        "category_label": lambda code: category_label(layer, code),
        "unit_label": lambda unit_id: unit_label(layer, unit_id),
        "unit_name": lambda unit_id: unit_name(layer, unit_id),
        "area_name": lambda area_id: area_name(layer, area_id),
    }


def remember_language(response: Any, lang: str) -> Any:
    """Remember ``lang`` for a year."""
    response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response
