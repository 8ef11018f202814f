"""Persistence: one SQLAlchemy engine per app (SQLite file by default, PostgreSQL via
``DATABASE_URL``), migrated with Alembic on start, and a session per request."""

from __future__ import annotations

import fcntl
import functools
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from api.persistence import sqlite_turns

MIGRATIONS = Path(__file__).parent / "migrations"
#: How much of an SQLite file each connection reads through a memory map (address space, not memory).
SQLITE_MMAP_BYTES = 1 << 30
#: Seconds an SQLite writer waits for the database before "database is locked".
SQLITE_BUSY_S = 30
#: Seconds a pooled PostgreSQL connection may rest before it is tested on its next use.
PING_AFTER_IDLE_S = 1.0
_IDLE_SINCE = "zonemap.idle_since"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout, foreign keys, reads through a
    memory map (a figures scan of 10^6 reports is a third faster: no copy per page) and writers
    taking turns (`api.persistence.sqlite_turns`); PostgreSQL's
    pooled connections are tested after resting `PING_AFTER_IDLE_S`. Errors never
    carry the statement's parameter values (contacts, descriptions, positions) into a log."""
    if url.startswith("sqlite"):
        database = make_url(url).database
        connect: dict[str, Any] = {"timeout": SQLITE_BUSY_S, "check_same_thread": False}
        if database and database != ":memory:" and not database.startswith("file:"):
            connect["factory"] = sqlite_turns.connection_class(database, SQLITE_BUSY_S)  # writers take turns (`sqlite_turns`)
        engine = create_engine(url, connect_args=connect, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_S * 1000)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            cursor.close()

        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20, hide_parameters=True)

    @event.listens_for(engine, "checkin")
    def _idle(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        """A connection idle for a while is tested before use (the server may have restarted or
        dropped it): a broken one is replaced by a new one, not handed to the request. One in
        steady use is not, which saves a round trip per request."""
        if time.monotonic() - record.info.get(_IDLE_SINCE, -math.inf) < PING_AFTER_IDLE_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError from error
        if not alive:
            raise DisconnectionError

    return engine


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (creating it on first start); workers that
    start together migrate one at a time, on SQLite as on PostgreSQL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with one_at_a_time(engine, "migrate") as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


#: PostgreSQL advisory lock keys of the work one process does at a time.
_LOCK_KEYS = {"migrate": 727274, "first start": 727275}


@contextmanager
def one_at_a_time(engine: Engine, what: str) -> Iterator[Connection]:
    """A transaction that one process at a time holds, across every worker and host sharing the
    database: PostgreSQL's advisory lock, or on SQLite an exclusive lock on a file beside the
    database (pysqlite runs DDL outside a transaction, so the database keeps no two apart)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    with _file_lock(Path(f"{database}.{what.replace(' ', '-')}-lock") if database and database != ":memory:" else None), engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEYS[what]})")
        yield connection


@contextmanager
def _file_lock(path: Path | None) -> Iterator[None]:
    if path is None:
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def insert_or_skip(connection: Any, table: Any, *, returning: Any = None) -> Any:
    """An INSERT into ``table`` that does nothing where a unique key is taken (both dialects),
    answering the ``returning`` column of a row it inserted; built once per dialect, table and
    column (its cache key too: a statement is immutable)."""
    return _insert_or_skip(connection.dialect.name, table, returning)


@functools.cache
def _insert_or_skip(dialect: str, table: Any, returning: Any) -> Any:
    statement = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect](table).on_conflict_do_nothing()
    return statement if returning is None else statement.returning(returning)


class Database:
    """The engine and session factory of one app."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error."""
        with self.sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise


_AFTER_COMMIT = "zonemap.after_commit"  # a session's actions waiting for its transaction to commit


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run ``action`` once the session's current transaction commits; never if it rolls back."""
    session.connection()  # the transaction the action belongs to has begun: its rollback drops the action
    session.info.setdefault(_AFTER_COMMIT, []).append(action)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    for action in session.info.pop(_AFTER_COMMIT, ()):
        action()


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, _previous: Any) -> None:  # every rollback(), even of a transaction not begun
    session.info.pop(_AFTER_COMMIT, None)
