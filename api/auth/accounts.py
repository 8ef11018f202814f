"""Staff accounts: create, check a password, list, disable and enable; their sessions; the demo's
accounts. No Flask.

Passwords are stored as Werkzeug's salted scrypt hashes and never shown again after they are set.
A session is a random key the browser's signed cookie holds and the database knows by its
digest: signing out, disabling the account or giving it a new password ends it on the server,
so a copy of the cookie opens nothing afterwards.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from api.auth.roles import Role
from api.persistence.clock import now
from api.persistence.models import StaffSession, User
from zones.layer import ZoneLayer

#: Roles a person signs in with (the public needs no account).
ACCOUNT_ROLES = (Role.DISPATCHER, Role.PLANNER, Role.UNIT, Role.LEADER, Role.INSPECTOR, Role.ADMIN)
USERNAME = re.compile(r"[A-Za-z0-9_.-]{2,64}")
MIN_PASSWORD = 8
#: Checked against when the username is unknown, so that a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password of anyone")


class AccountError(ValueError):
    """An account cannot be created or changed as asked; ``field`` names the input at fault."""

    def __init__(self, msg: str, field: str) -> None:
        super().__init__(msg)
        self.field = field


def create_user(session: Session, layer: ZoneLayer | None, username: str, role: str, password: str, unit_id: str | None = None) -> User:
    """Create an account; a unit account names a unit the layer knows (when a layer is given)."""
    if not USERNAME.fullmatch(username):
        msg = f"username {username!r}: use 2–64 letters, digits, '_', '.' or '-'"
        raise AccountError(msg, "username")
    if role not in {r.value for r in ACCOUNT_ROLES}:
        msg = f"role {role!r}: one of {', '.join(r.value for r in ACCOUNT_ROLES)}"
        raise AccountError(msg, "role")
    if role == Role.UNIT.value:
        if not unit_id:
            msg = "a unit account needs its unit (--unit)"
            raise AccountError(msg, "unit_id")
        if layer is not None and not layer.knows_unit(unit_id):
            msg = f"unit {unit_id!r} is not a unit of the current zone layer"
            raise AccountError(msg, "unit_id")
    elif unit_id:
        msg = f"only unit accounts name a unit; a {role} does not"
        raise AccountError(msg, "unit_id")
    if len(password) < MIN_PASSWORD:
        msg = f"the password needs at least {MIN_PASSWORD} characters"
        raise AccountError(msg, "password")
    if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None:
        msg = f"username {username!r} is taken"
        raise AccountError(msg, "username")
    user = User(username=username, password_hash=generate_password_hash(password), role=role, unit_id=unit_id or None, active=True,
                created_at=now(), last_login_at=None)
    session.add(user)
    session.flush()
    return user


def check_password(session: Session, username: str, password: str) -> User | None:
    """The active account with this username and password, or None (taking as long either way)."""
    user = session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    user.last_login_at = now()
    return user


def find(session: Session, username: str) -> User:
    """The account ``username``; `AccountError` when there is none."""
    user = session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None:
        msg = f"no account {username!r}"
        raise AccountError(msg, "username")
    return user


def set_active(session: Session, username: str, active: bool) -> User:
    """Disable an account (its sessions end) or enable it (its old sessions stay ended)."""
    user = find(session, username)
    user.active = active
    if not active:
        _end_sessions(session, user.id)
    return user


def set_password(session: Session, username: str, password: str, *, keep: str | None = None) -> User:
    """Give an account a new password: its sessions end, but ``keep`` (the session that changed it)."""
    if len(password) < MIN_PASSWORD:
        msg = f"the password needs at least {MIN_PASSWORD} characters"
        raise AccountError(msg, "password")
    user = find(session, username)
    user.password_hash = generate_password_hash(password)
    _end_sessions(session, user.id, keep=keep)
    return user


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def open_session(session: Session, user: User) -> str:
    """Start a session of ``user``; the key its cookie holds."""
    key = secrets.token_urlsafe(32)
    session.add(StaffSession(user_id=user.id, key_hash=_digest(key), created_at=now(), ended_at=None))
    return key


def session_account(session: Session, user_id: int, key: str) -> User | None:
    """The account of an open session (``key`` of account ``user_id``), if it is still active."""
    open_row = select(StaffSession.id).where(StaffSession.key_hash == _digest(key), StaffSession.user_id == user_id, StaffSession.ended_at.is_(None))
    if session.scalar(open_row) is None:
        return None
    user = session.get(User, user_id)
    return user if user is not None and user.active else None


def end_session(session: Session, key: str) -> None:
    """End the session of ``key`` (signing out)."""
    session.execute(update(StaffSession).where(StaffSession.key_hash == _digest(key), StaffSession.ended_at.is_(None)).values(ended_at=now()))


def _end_sessions(session: Session, user_id: int, *, keep: str | None = None) -> None:
    ended = update(StaffSession).where(StaffSession.user_id == user_id, StaffSession.ended_at.is_(None))
    if keep is not None:
        ended = ended.where(StaffSession.key_hash != _digest(keep))
    session.execute(ended.values(ended_at=now()))


def all_users(session: Session) -> list[User]:
    """Every account, by username."""
    return list(session.scalars(select(User).order_by(User.username)))


@dataclass(frozen=True)
class DemoAccount:
    """An account the demo creates, with its password (shown once)."""

    username: str
    role: str
    unit_id: str | None
    password: str


#: The demo's people: who signs in as what (units with zones in 城阳街道, where the demo's town centre is).
DEMO_ACCOUNTS = (("admin", "admin", None), ("dispatcher", "dispatcher", None), ("planner", "planner", None), ("leader", "leader", None),
                 ("inspector", "inspector", None),
                 ("hw01", "unit", "HW01"), ("jd01", "unit", "JD01"))


def create_demo_accounts(session: Session, layer: ZoneLayer) -> list[DemoAccount]:
    """Create the demo's accounts with random passwords when there is no account yet; returns
    them (empty when accounts exist: they are created once and their passwords shown once).
    Run it under `api.persistence.one_at_a_time`, so that workers starting together make them once."""
    if session.scalar(select(func.count()).select_from(User)):
        return []
    made = []
    for username, role, unit_id in DEMO_ACCOUNTS:
        if unit_id and not layer.knows_unit(unit_id):
            continue
        password = secrets.token_urlsafe(9)
        create_user(session, layer, username, role, password, unit_id)
        made.append(DemoAccount(username, role, unit_id, password))
    return made
