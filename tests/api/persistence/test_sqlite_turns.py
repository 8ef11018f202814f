"""SQLite writers take turns (`api.persistence.sqlite_turns`): a writer holds the turn from its
first write to the end of its transaction, readers never wait, a writer waiting too long gets
SQLite's own error, and many writers at once all land."""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from api.persistence import make_engine
from api.persistence.sqlite_turns import connection_class


@pytest.fixture
def database(tmp_path):
    path = str(tmp_path / "turns.sqlite")
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE t (x INTEGER)")
    return path


def _connect(path: str, timeout_s: float) -> sqlite3.Connection:
    return sqlite3.connect(path, timeout=timeout_s, factory=connection_class(path, timeout_s), check_same_thread=False)


def test_a_writer_holds_the_turn_until_its_transaction_ends(database):
    first, second = _connect(database, 0.2), _connect(database, 0.2)
    first.execute("INSERT INTO t VALUES (1)")
    assert second.execute("SELECT count(*) FROM t").fetchone() == (0,)  # a reader does not wait
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        second.execute("INSERT INTO t VALUES (2)")
    assert time.monotonic() - started < 2
    first.commit()
    second.execute("INSERT INTO t VALUES (2)")  # the turn came back with the commit
    second.rollback()
    first.execute("INSERT INTO t VALUES (3)")  # ... and with the rollback
    first.commit()
    assert first.execute("SELECT x FROM t ORDER BY x").fetchall() == [(1,), (3,)]
    first.close()
    second.close()


def test_a_waiting_writer_goes_on_once_the_turn_is_given_back(database):
    first, second = _connect(database, 10), _connect(database, 10)
    first.execute("INSERT INTO t VALUES (1)")
    waited: list[float] = []

    def write() -> None:
        started = time.monotonic()
        second.execute("INSERT INTO t VALUES (2)")
        second.commit()
        waited.append(time.monotonic() - started)

    other = threading.Thread(target=write)
    other.start()
    time.sleep(0.3)
    assert not waited  # still waiting for the turn
    first.commit()
    other.join(5)
    assert waited and 0.3 <= waited[0] < 1  # on once the commit gave the turn back
    assert first.execute("SELECT count(*) FROM t").fetchone() == (2,)
    first.close()
    second.close()


def test_a_statement_outside_a_transaction_gives_the_turn_back(database):
    first, second = _connect(database, 0.2), _connect(database, 0.2)
    first.execute("CREATE TABLE u (y INTEGER)")  # DDL outside a transaction: done at once
    second.execute("INSERT INTO u VALUES (1)")
    second.commit()
    first.close()
    second.close()


def test_many_writers_through_the_engine_all_land(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'many.sqlite'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (writer INTEGER, n INTEGER)")

    def write(writer: int) -> None:
        for n in range(50):
            with engine.begin() as connection:
                connection.execute(sa.text("INSERT INTO t VALUES (:w, :n)"), {"w": writer, "n": n})
                connection.execute(sa.text("UPDATE t SET n = n WHERE writer = :w"), {"w": writer})

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(write, range(6)))
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*), count(DISTINCT writer) FROM t").one() == (300, 6)
    engine.dispose()
