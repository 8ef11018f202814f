"""Commands on the service: serve, tokens, escalation, notification delivery, webhooks, retention."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from api.cli.common import DATA_DIR_ENV, fail, main, service_app, service_database


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--data-dir", type=click.Path(path_type=Path), help=f"SQLite file and demo data (default ${DATA_DIR_ENV} or ./zonemap-data)")
@click.option("--threads", type=int, default=8, show_default=True)
def serve(host: str, port: int, data_dir: Path | None, threads: int) -> None:
    """Run the service (one process, waitress) on the bundled Chengyang data; DATABASE_URL
    switches to PostgreSQL. For several workers run gunicorn itself (see README)."""
    from api.web.serving import serve_one

    app = service_app(data_dir)
    if not os.environ.get("ZONEMAP_BASE_URL"):  # links (OGC) name this server, never the Host a client sends
        app.config["BASE_URL"] = f"http://{host}:{port}"
    click.echo(f"zonemap serving zone layer {app.extensions['zonemap.layer'].version} on http://{host}:{port} "
               f"(database {app.config['DATABASE_URL'].split('@')[-1]})", err=True)
    serve_one(app, host, port, threads, max_body_bytes=int(app.config["MAX_LAYER_UPLOAD"]))


@main.group()
def user() -> None:
    """Staff accounts for the pages (sign-in with a password)."""


@user.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["dispatcher", "planner", "unit", "leader", "admin"]), required=True)
@click.option("--unit", "unit_id", help="the unit a unit account acts for")
@click.option("--password-stdin", is_flag=True, required=True, help="read the password from standard input (never from the command line)")
@click.option("--data-dir", type=click.Path(path_type=Path))
def user_create(username: str, role: str, unit_id: str | None, password_stdin: bool, data_dir: Path | None) -> None:
    """Create an account; its password is read from standard input and stored hashed."""
    from api.auth.accounts import AccountError, create_user

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else ""
    if unit_id:  # its unit must be one the current layer knows
        app = service_app(data_dir)
        database, layer = app.extensions["zonemap.db"], app.extensions["zonemap.layer"]
    else:
        database, layer = service_database(data_dir), None
    with database.session() as session:
        try:
            create_user(session, layer, username, role, password, unit_id)
        except AccountError as err:
            fail(str(err), 2)
    click.echo(f"created {role} account {username}{' for unit ' + unit_id if unit_id else ''}")


@user.command("list")
@click.option("--data-dir", type=click.Path(path_type=Path))
def user_list(data_dir: Path | None) -> None:
    """Every account: username, role, unit, status, last sign-in."""
    from api.auth.accounts import all_users
    from api.persistence.clock import iso

    with service_database(data_dir).session() as session:
        for account in all_users(session):
            click.echo(f"{account.username}\t{account.role}\t{account.unit_id or '-'}\t{'active' if account.active else 'disabled'}\t"
                       f"{iso(account.last_login_at) or '-'}")


@user.command("disable")
@click.argument("username")
@click.option("--data-dir", type=click.Path(path_type=Path))
def user_disable(username: str, data_dir: Path | None) -> None:
    """Disable an account: it can no longer sign in, and its open sessions end."""
    from api.auth.accounts import set_active

    _change_account(data_dir, lambda session: set_active(session, username, False), f"disabled {username}")


@user.command("enable")
@click.argument("username")
@click.option("--data-dir", type=click.Path(path_type=Path))
def user_enable(username: str, data_dir: Path | None) -> None:
    """Enable a disabled account again."""
    from api.auth.accounts import set_active

    _change_account(data_dir, lambda session: set_active(session, username, True), f"enabled {username}")


@user.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, required=True, help="read the new password from standard input")
@click.option("--data-dir", type=click.Path(path_type=Path))
def user_password(username: str, password_stdin: bool, data_dir: Path | None) -> None:
    """Give an account a new password (a forgotten one, say); its open sessions end."""
    from api.auth.accounts import set_password

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else ""
    _change_account(data_dir, lambda session: set_password(session, username, password), f"new password for {username}")


@user.command("unlock")
@click.argument("username")
@click.option("--data-dir", type=click.Path(path_type=Path))
def user_unlock(username: str, data_dir: Path | None) -> None:
    """Clear the count of sign-in attempts on an account from unknown browsers (after an attack)."""
    from flask import Flask
    from limits import storage, strategies

    from api.auth.signin_limits import unlock
    from api.web.config import configure

    settings = Flask("zonemap")
    configure(settings, {"DATA_DIR": str(data_dir)} if data_dir else None)
    where = settings.config["RATE_LIMIT_STORAGE"]
    if where.startswith("memory://"):
        fail("the counts live in the serving process (ZONEMAP_RATE_LIMIT_STORAGE=memory://): restarting it clears them; "
             "with redis://... every worker and this command share them", 2)
    store = storage.storage_from_string(where, key_prefix=settings.config["RATE_LIMIT_PREFIX"])
    unlock(strategies.MovingWindowRateLimiter(store), settings.config["LOGIN_LIMIT"], username)
    click.echo(f"unlocked {username}")


def _change_account(data_dir: Path | None, change: Callable[[Any], object], done: str) -> None:
    """Apply ``change(session)`` to the accounts, failing with the `AccountError`'s message."""
    from api.auth.accounts import AccountError

    with service_database(data_dir).session() as session:
        try:
            change(session)
        except AccountError as err:
            fail(str(err), 2)
    click.echo(done)


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.option("--role", type=click.Choice(["dispatcher", "planner", "unit", "leader", "public"]), required=True)
@click.option("--unit", "unit_id", help="the unit a unit token acts for")
@click.option("--label", default="", help="who the token is for")
@click.option("--data-dir", type=click.Path(path_type=Path))
def token_create(role: str, unit_id: str | None, label: str, data_dir: Path | None) -> None:
    """Create a token; it is printed once, on the last line, and stored hashed."""
    from api.auth.callers import create_token

    with service_database(data_dir).session() as session:
        try:
            value = create_token(session, role, unit_id, label)
        except ValueError as err:
            fail(str(err), 2)
            return
    click.echo(f"{role} token{' for ' + unit_id if unit_id else ''} (store it now; only its hash is kept):")
    click.echo(value)


@main.command()
@click.option("--data-dir", type=click.Path(path_type=Path))
def escalate(data_dir: Path | None) -> None:
    """Escalate (督办) every open report past its deadline; run it from cron."""
    from api.reports import services

    app = service_app(data_dir)
    with app.extensions["zonemap.db"].session() as session:
        count = services.escalate_overdue(session)
    click.echo(f"escalated {count} overdue reports")




@main.command()
@click.option("--once", is_flag=True, help="send what is due now, then stop (default: keep polling)")
@click.option("--poll-seconds", type=float, default=1.0, show_default=True, help="how often to look for due messages when idle")
@click.option("--backoff-seconds", type=float, default=5.0, show_default=True, help="first retry delay; doubles with each failure")
@click.option("--max-attempts", type=int, default=20, show_default=True, help="then the message is marked failed")
@click.option("--data-dir", type=click.Path(path_type=Path))
def deliver(once: bool, poll_seconds: float, backoff_seconds: float, max_attempts: int, data_dir: Path | None) -> None:
    """Send the outbox (dispatches, escalations, publications) to the units' webhooks."""
    import time

    from api.reports import notifications

    app = service_app(data_dir)
    database = app.extensions["zonemap.db"]
    policy = notifications.Policy(backoff_s=backoff_seconds, max_attempts=max_attempts)
    while True:
        with database.session() as session:
            message = notifications.deliver_one(session, policy)
            if message is not None:
                click.echo(f"#{message.id} {message.event} report {message.report_id} -> {message.unit_id}: {message.status}"
                           f"{' (' + message.last_error + ')' if message.last_error else ''}", err=True)
                continue
            if once:
                click.echo(" ".join(f"{k} {v}" for k, v in sorted(notifications.counts(session).items())) or "outbox empty")
                return
        time.sleep(poll_seconds)


@main.group()
def webhook() -> None:
    """Where units receive their notifications."""


@webhook.command("set")
@click.option("--unit", "unit_id", help="the unit that receives its reports' steps")
@click.option("--reporters", is_flag=True, help="instead: the SMS gateway or WeChat relay that tells reporters who left a phone number")
@click.option("--url", required=True, help="http(s) URL that receives a POST per notification")
@click.option("--secret", help="signs each body: X-Zonemap-Signature: sha256=HMAC(secret, body)")
@click.option("--data-dir", type=click.Path(path_type=Path))
def webhook_set(unit_id: str | None, reporters: bool, url: str, secret: str | None, data_dir: Path | None) -> None:
    """Configure a unit's webhook, or the reporters' (replacing any earlier one)."""
    from api.reports import notifications

    if reporters == (unit_id is not None):
        fail("name either --unit or --reporters", 2)
    recipient = notifications.REPORTERS if reporters else unit_id
    app = service_app(data_dir)
    with app.extensions["zonemap.db"].session() as session:
        try:
            notifications.set_webhook(session, recipient, url, secret)
        except ValueError as err:
            fail(str(err), 2)
    who = "reporters'" if reporters else f"unit {unit_id}"
    click.echo(f"{who} notifications go to {url}")


@webhook.command("list")
@click.option("--data-dir", type=click.Path(path_type=Path))
def webhook_list(data_dir: Path | None) -> None:
    """The configured webhooks."""
    from sqlalchemy import select

    from api.persistence.models import Webhook

    app = service_app(data_dir)
    with app.extensions["zonemap.db"].session() as session:
        for hook in session.scalars(select(Webhook).order_by(Webhook.unit_id)):
            click.echo(f"{hook.unit_id}\t{hook.url}\t{'signed' if hook.secret else 'unsigned'}")


@main.command()
@click.option("--older-than-days", type=float, help="default: the CONTACT_RETENTION_DAYS setting")
@click.option("--data-dir", type=click.Path(path_type=Path))
def retention(older_than_days: float | None, data_dir: Path | None) -> None:
    """Erase reporters' contacts from reports and +1s older than the retention age; run it from cron."""
    from api.reports import services

    app = service_app(data_dir)
    days = older_than_days if older_than_days is not None else float(app.config["CONTACT_RETENTION_DAYS"])
    with app.extensions["zonemap.db"].session() as session:
        reports, joined = services.erase_contacts(session, days)
    click.echo(f"erased the reporter contact of {reports} reports and {joined} +1s older than {days:g} days")
