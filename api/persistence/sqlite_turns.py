"""SQLite writers taking turns by a lock on a file beside the database.

SQLite lets one connection write at a time. A writer that finds the database locked retries
after sleeping 1, 2, 5, 10, 15, 20, 25 ... ms (its busy handler), so under a steady load of
short write transactions from several processes (gunicorn's workers filing reports) most of a
writer's time goes to sleeping past the moment the lock came free. Here a connection takes an
exclusive ``flock`` on ``<database>.writer-lock`` before its first write statement and gives it
back once its transaction ends (commit, rollback, close): a waiting writer asks again every
`POLL_S` at most, and SQLite's own lock is then free when it writes. Readers never take a turn
(WAL: they do not block writers). A writer that cannot take its turn within the busy timeout
gets SQLite's own error, ``database is locked``, as it would have without turns.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from typing import Any

#: The longest pause between two asks for the turn (seconds); the first asks come sooner.
POLL_S = 0.001
_PAUSES = (0.0001, 0.0002, 0.0005)
#: Statements that never write: no turn taken.
_READS = ("SELECT", "PRAGMA")


def connection_class(database: str, timeout_s: float) -> type[sqlite3.Connection]:
    """The `sqlite3.Connection` class whose connections to ``database`` take turns to write,
    waiting at most ``timeout_s`` (``sqlite3.connect(..., factory=...)``)."""
    return type("TurnTakingConnection", (TurnTakingConnection,), {"lock_path": f"{database}.writer-lock", "timeout_s": timeout_s})


class TurnTakingConnection(sqlite3.Connection):
    """A connection holding the writers' turn from its first write statement to the end of its
    transaction (see the module's text). ``lock_path`` and ``timeout_s`` come from `connection_class`."""

    lock_path: str
    timeout_s: float

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._holding = False

    def cursor(self, factory: Any = None) -> Any:
        """A cursor that takes the turn before a write (`TurnTakingCursor`)."""
        return super().cursor(factory or TurnTakingCursor)

    def take_turn(self) -> None:
        """Hold the writers' turn (at once when held already)."""
        if self._holding:
            return
        deadline = time.monotonic() + self.timeout_s
        pauses = iter(_PAUSES)
        while True:
            try:
                fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() > deadline:
                    msg = "database is locked"
                    raise sqlite3.OperationalError(msg) from None
                time.sleep(next(pauses, POLL_S))
                continue
            self._holding = True
            return

    def end_turn(self) -> None:
        """Give the turn back, unless a transaction still holds writes."""
        if self._holding and not self.in_transaction:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._holding = False

    def commit(self) -> None:
        """Commit, then give the turn back."""
        try:
            super().commit()
        finally:
            self.end_turn()

    def rollback(self) -> None:
        """Roll back, then give the turn back."""
        try:
            super().rollback()
        finally:
            self.end_turn()

    def close(self) -> None:
        """Close the connection and its lock file (which gives the turn back)."""
        try:
            super().close()
        finally:
            if self._lock >= 0:
                os.close(self._lock)
                self._lock, self._holding = -1, False


class TurnTakingCursor(sqlite3.Cursor):
    """A cursor whose write statements take the connection's turn first."""

    connection: TurnTakingConnection

    def execute(self, sql: str, parameters: Any = ()) -> TurnTakingCursor:
        """Execute, taking the turn first for anything but a read."""
        if not sql.lstrip()[:6].upper().startswith(_READS):
            self.connection.take_turn()
            try:
                return super().execute(sql, parameters)
            finally:
                self.connection.end_turn()  # a statement outside a transaction (DDL, autocommit) ends its turn
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any) -> TurnTakingCursor:
        """Execute for each set of parameters, taking the turn first."""
        self.connection.take_turn()
        try:
            return super().executemany(sql, parameters)
        finally:
            self.connection.end_turn()
