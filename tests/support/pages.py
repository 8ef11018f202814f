"""Using the pages as a person does, with Flask's test client: an account, its sign-in through
the form (with the form's CSRF token), and reading forms off a page."""

from __future__ import annotations

import re

from api.auth.accounts import create_user

PASSWORD = "correct horse battery"
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = TOKEN.search(html)
    assert found, "the page has no form token"
    return found.group(1) or found.group(2)


def account(app, username: str, role: str, unit_id: str | None = None, password: str = PASSWORD) -> str:
    """Create an account (as ``zonemap user create`` does); its username."""
    with app.extensions["zonemap.db"].session() as session:
        create_user(session, app.extensions["zonemap.layer"], username, role, password, unit_id)
    return username


def sign_in(client, username: str, password: str = PASSWORD, next_path: str = ""):
    """Sign in through the form; the response to the form."""
    token = csrf(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token, "next": next_path})


def signed_in(app, client, role: str, unit_id: str | None = None, username: str | None = None):
    """The client, signed in as a new account of ``role`` (named ``role-unit`` unless named)."""
    name = account(app, username or f"{role}-{unit_id or 'x'}".lower(), role, unit_id)
    assert sign_in(client, name).status_code == 303
    return client
