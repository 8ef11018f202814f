"""Staff sign-in and their consoles: ``/login``, ``/logout``, ``/console`` (each role to its own
console) and ``/admin/users`` (the administrator's list of accounts: create, disable, enable)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from api.auth import accounts, signin_limits
from api.auth.roles import Caller, Role
from api.auth.sessions import sign_in, sign_out, staff_only
from api.layers.live import current_layer
from api.web import contract
from api.web.forms import AccountSwitchForm, LoginForm, UserForm
from api.web.security import local_path

bp = Blueprint("accounts", __name__, template_folder="templates")


@bp.route("/login", methods=["GET", "POST"])
@contract.page("The staff sign-in form", params=[contract.query("next")], method="GET")
@contract.page("Sign in (a wrong name or password: the form again, saying so)", ("200", "303", "400", "422", "429"), form=contract.form_schema(LoginForm),
               method="POST")
def login() -> ResponseReturnValue:
    """The sign-in form; a wrong name or password says so and stores nothing."""
    form = LoginForm(next=request.args.get("next", ""))
    if request.method == "GET":
        return render_template("login.html", form=form, failed=False)
    if not form.validate():
        return render_template("login.html", form=form, failed=False), 422
    signin_limits.attempt(form.username.data)  # counted before the password is checked
    user = accounts.check_password(g.db, form.username.data, form.password.data)
    if user is None:
        return render_template("login.html", form=form, failed=True)
    sign_in(user)
    response = redirect(local_path(form.next.data) or url_for(".console"), 303)
    signin_limits.trust_device(response, user.username)
    return response


@bp.post("/logout")
@contract.page("Sign out", ("303", "400"), form={"type": "object", "required": ["csrf_token"], "properties": {"csrf_token": {"type": "string"}}})
def logout() -> ResponseReturnValue:
    """Sign out (a posted form, its CSRF token checked before this view runs) and go to the front door."""
    sign_out()
    flash(_("You have signed out."), "info")
    return redirect(url_for("front.home"), 303)


#: Where each role works.
CONSOLES = {Role.DISPATCHER: "console.dispatch_console", Role.PLANNER: "plan.plan_console", Role.UNIT: "console.unit_console",
            Role.LEADER: "stats.stats_page", Role.INSPECTOR: "inspect.rounds_page", Role.ADMIN: ".users"}


@bp.get("/console")
@contract.page("Each role to its console (a unit to its own page)", ("302", "303", "403"))
@staff_only(*CONSOLES)
def console() -> ResponseReturnValue:
    """Send each role to its own console."""
    caller: Caller = g.caller
    return redirect(url_for(CONSOLES[caller.role]), 303)


@bp.route("/admin/users", methods=["GET", "POST"])
@contract.page("The administrator's list of staff accounts", ("200", "302", "403"), method="GET")
@contract.page("Create a staff account", ("303", "302", "400", "403", "422"), form=contract.form_schema(UserForm), method="POST")
@staff_only(Role.ADMIN)
def users() -> ResponseReturnValue:
    """Every account, and a form to create one."""
    form = UserForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                accounts.create_user(g.db, current_layer(), form.username.data, form.role.data, form.password.data, form.unit_id.data or None)
            except accounts.AccountError as err:
                getattr(form, err.field).errors = [*getattr(form, err.field).errors, _account_error(err)]
                status = 422
            else:
                flash(_("Account %(name)s created.", name=form.username.data), "info")
                return redirect(url_for(".users"), 303)
        else:
            status = 422
    return render_template("admin_users.html", form=form, users=accounts.all_users(g.db), switch=AccountSwitchForm()), status


def _account_error(err: accounts.AccountError) -> str:
    """What is wrong with a new account, in the page's language."""
    messages = {
        "username": _("This username is taken or not allowed."),
        "unit_id": _("A unit account needs the code of a unit in the current zone layer; other roles have none."),
        "password": _("The password needs at least %(n)d characters.", n=accounts.MIN_PASSWORD),
        "role": _("Choose a role."),
    }
    return messages[err.field]


@bp.post("/admin/users/<username>/<any(disable, enable, unlock):change>")
@contract.page("Disable, enable or unlock (clear its sign-in attempts from unknown browsers) a staff account", ("303", "302", "400", "403", "404"),
               form=contract.form_schema(AccountSwitchForm))
@staff_only(Role.ADMIN)
def switch(username: str, change: str) -> ResponseReturnValue:
    """Disable an account (its sessions end at their next request), enable it again, or unlock it."""
    caller: Caller = g.caller
    if change == "unlock":
        signin_limits.unlock(current_app.extensions["zonemap.ratelimit"], current_app.config["LOGIN_LIMIT"], username)
        flash(_("Account %(name)s unlocked.", name=username), "info")
        return redirect(url_for(".users"), 303)
    if change == "disable" and username == caller.username:
        flash(_("You cannot disable your own account."), "error")
        return redirect(url_for(".users"), 303)
    try:
        accounts.set_active(g.db, username, change == "enable")
    except accounts.AccountError:
        return redirect(url_for(".users"), 303)
    flash(_("Account %(name)s disabled.", name=username) if change == "disable" else _("Account %(name)s enabled.", name=username), "info")
    return redirect(url_for(".users"), 303)
