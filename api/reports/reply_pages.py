"""``/console/replies``: the replies the district keeps for actions' notes (常用回复), listed by
action, added and removed by dispatchers; the report page offers them beside each note."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from api.auth.roles import Caller, Role
from api.auth.sessions import staff_only
from api.persistence.models import MAX_ID
from api.reports import replies
from api.web import contract
from api.web.forms import ChoiceForm, ReplyForm
from api.web.i18n import action_name
from zones.errors import InvalidInputError

bp = Blueprint("replies", __name__, template_folder="templates", url_prefix="/console")


def _form() -> ReplyForm:
    form = ReplyForm()
    form.action.choices = [(a.value, action_name(a.value)) for a in replies.REPLIED]
    return form


@bp.route("/replies", methods=["GET", "POST"])
@contract.page("The replies kept for actions' notes (常用回复), by action", ("200", "302", "403"), method="GET")
@contract.page("Keep a reply for an action", ("303", "302", "400", "403", "422"), form=contract.form_schema(ReplyForm), method="POST")
@staff_only(Role.DISPATCHER)
def replies_page() -> ResponseReturnValue:
    """The kept replies by action, and a form to add one."""
    caller: Caller = g.caller
    form = _form()
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                replies.add(g.db, form.action.data, form.text.data, caller.actor)
            except InvalidInputError as err:
                messages = {"text": _("This reply is empty, too long, or already kept for the action."),
                            "action": _("An action keeps at most %(n)d replies.", n=replies.MAX_PER_ACTION)}
                getattr(form, err.field).errors = [messages[err.field]]
                status = 422
            else:
                flash(_("Reply kept for %(action)s.", action=action_name(form.action.data)), "info")
                return redirect(url_for(".replies_page"), 303)
        else:
            status = 422
    kept = replies.by_action(g.db)
    return render_template("console_replies.html", form=form, kept=[(a, kept.get(a.value, [])) for a in replies.REPLIED], remove=ChoiceForm()), status


@bp.post(f"/replies/<int(max={MAX_ID}):reply_id>/delete")
@contract.page("Forget a kept reply", ("303", "302", "400", "403", "404"), form=contract.form_schema(ChoiceForm))
@staff_only(Role.DISPATCHER)
def delete(reply_id: int) -> ResponseReturnValue:
    """Forget a reply (one already gone says so)."""
    if not ChoiceForm().validate():
        return redirect(url_for(".replies_page"), 303)
    flash(_("Reply removed.") if replies.remove(g.db, reply_id) else _("That reply was already removed."), "info")
    return redirect(url_for(".replies_page"), 303)
